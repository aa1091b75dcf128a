import { processUserData } from './normalize-user-data.js';
import type { UserData, UserDataInput, UserDataOptions } from './types.js';

// Hashed keys are SHA-256 lowercase hex of the normalized value; the rest are sent as-is.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

/**
 * Normalizes and SHA-256 hashes raw `user_data` into the object Meta receives: hashed keys as
 * lists of lowercase hex, unhashed keys (IP, user agent, fbc, fbp…) validated and trimmed.
 * Already-hashed values pass through. Invalid values are dropped and reported in `options.issues`;
 * never throws, unless reading `input` does (a getter, a Proxy trap).
 * @example hashUserData({ em: 'John_Smith@gmail.com' })
 * // { em: ['62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f'] }
 */
export function hashUserData(input: UserDataInput, options?: UserDataOptions): UserData {
  return processUserData(input, options, true);
}

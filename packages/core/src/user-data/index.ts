export { normalizeCity } from './city.js';
export { isClientIpAddress } from './client-ip.js';
export { normalizeCountry } from './country.js';
export { normalizeDateOfBirth } from './date-of-birth.js';
export { normalizeEmail } from './em.js';
export { normalizeExternalId } from './external-id.js';
export { isFbCookieValue } from './fb-cookie.js';
export { normalizeGender } from './gender.js';
export { hashUserData } from './hash-user-data.js';
export { HASHED_USER_DATA_KEYS, PLAIN_USER_DATA_KEYS } from './keys.js';
export { isUserDataTooBroad } from './match-keys.js';
export { normalizeName } from './names.js';
export { normalizeUserData } from './normalize-user-data.js';
export { type NormalizedPhone, normalizePhone, normalizePhoneNumber } from './ph.js';
export { isSha256Hash } from './prehashed.js';
export { normalizeState } from './state.js';
export type {
  DateOrder,
  HashedInput,
  HashedUserDataKey,
  NormalizedUserData,
  PlainInput,
  PlainUserDataKey,
  UserData,
  UserDataInput,
  UserDataOptions,
} from './types.js';
export { normalizeZip } from './zip.js';

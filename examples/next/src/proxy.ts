import { capiProxy } from '@capi-kit/next/proxy';
import { capiOptions } from './lib/capi-options';

/**
 * Sets `_fbp`, and `_fbc` from `?fbclid=`, on page loads; tells the pages their URL. Given the same
 * `destinations` as the client, it also keeps TikTok's `?ttclid=` in the `ttclid` cookie.
 */
export const proxy = capiProxy(capiOptions);

export const config = { matcher: ['/((?!_next/|favicon.ico).*)'] };

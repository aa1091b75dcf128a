import { capiProxy } from '@capi-kit/next/proxy';
import { parseTrustProxy } from 'capi-kit-example-shared';

/** Sets `_fbp`, and `_fbc` from `?fbclid=`, on page loads; tells the pages their URL. */
export const proxy = capiProxy({ trustProxy: parseTrustProxy(process.env.TRUST_PROXY) });

export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };

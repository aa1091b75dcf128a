// proxy.ts (Next 16), or middleware.ts with `export default capiProxy()` (Next 15)
import { capiProxy } from '@capi-kit/next/proxy';

export const proxy = capiProxy();
export const config = { matcher: ['/((?!_next/|favicon.ico).*)'] };

// lib/capi.ts
import { createNextCapi } from '@capi-kit/next';

export const capi = createNextCapi({ trustProxy: 1 });
export const { trackConversion, withConversion, withCapi, track } = capi;

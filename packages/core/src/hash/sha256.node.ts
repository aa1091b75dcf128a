import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';

// `node:crypto` loads on the first digest, not at import: loading it is about half of what
// `import('@capi-kit/core')` costs on Node (≈ 4 ms of CPU on a 2-core machine, December 2026,
// `bench/cold-start.mjs`), which a serverless cold start would pay before its first request, and
// every digest waits for a first event anyway. `require` keeps the digest synchronous.
let crypto: typeof NodeCrypto | undefined;
const nodeCrypto = (): typeof NodeCrypto => {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;
  return crypto;
};

// `crypto.hash` (Node 21.7+, so every supported major) is about 2x faster than `createHash` for
// short strings. The function itself is kept, not read off the module on every digest: nine
// digests per event make the property lookup show in the build bench.
let oneShot: typeof NodeCrypto.hash | undefined;

/** SHA-256 of a UTF-8 string as lowercase hex, using `node:crypto`. */
export const sha256Hex = (input: string): string => {
  oneShot ??= nodeCrypto().hash;
  return oneShot('sha256', input, 'hex');
};

/** HMAC-SHA256 of a UTF-8 message under a UTF-8 key as lowercase hex, using `node:crypto`. */
export const hmacSha256Hex = (key: string, message: string): string =>
  nodeCrypto().createHmac('sha256', key).update(message, 'utf8').digest('hex');

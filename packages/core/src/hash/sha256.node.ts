import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';

// `node:crypto` loads on the first digest, not at import: loading it is about half of what
// `import('@capi-kit/core')` costs on Node (≈ 4 ms of CPU on a 2-core machine, December 2026,
// `bench/cold-start.mjs`), which a serverless cold start would pay before its first request, and
// every digest waits for a first event anyway. `require` keeps the digest synchronous.
// `crypto.hash` (Node 21.7+, so every supported major) is about 2x faster than `createHash` for
// short strings.
let crypto: typeof NodeCrypto | undefined;
const nodeCrypto = (): typeof NodeCrypto => {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;
  return crypto;
};

/** SHA-256 of a UTF-8 string as lowercase hex, using `node:crypto`. */
export const sha256Hex = (input: string): string => nodeCrypto().hash('sha256', input, 'hex');

/** HMAC-SHA256 of a UTF-8 message under a UTF-8 key as lowercase hex, using `node:crypto`. */
export const hmacSha256Hex = (key: string, message: string): string =>
  nodeCrypto().createHmac('sha256', key).update(message, 'utf8').digest('hex');

import { sha256Hex as runtimeSha256Hex } from '#platform';

// Typed here rather than re-exported, so the published declarations never name `#platform` (a
// package.json `imports` specifier that `moduleResolution: node10` cannot resolve).
/** SHA-256 of a UTF-8 string as lowercase hex: `node:crypto` on Node, pure JS on edge runtimes. */
export const sha256Hex: (input: string) => string = runtimeSha256Hex;

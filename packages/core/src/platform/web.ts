// What `#platform` is on edge runtimes, workers and browsers (package.json `imports`, every
// condition but `node`): the heavy dependencies imported statically and SHA-256 in pure JS.
export { phoneLibrary, publicSuffixLibrary } from '../deps/lazy.web.js';
export { hmacSha256Hex, sha256Hex } from '../hash/sha256.web.js';

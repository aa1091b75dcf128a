// What `#platform` is on Node (package.json `imports`, condition `node`): the heavy dependencies
// loaded on first use and SHA-256 through `node:crypto`. One module, not one per concern: every
// module the core imports is one more file to resolve, read and compile at `import`, about 50 page
// faults each on the virtual machines of December 2026 (≈ 0.6 ms at ≈ 11 µs a fault), which a
// serverless cold start pays before its first request (docs/architecture.md, "Fifteenth session").
export { phoneLibrary, publicSuffixLibrary } from '../deps/lazy.node.js';
export { hmacSha256Hex, sha256Hex } from '../hash/sha256.node.js';

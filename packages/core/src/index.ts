export { sha256Hex } from './hash/index.js';

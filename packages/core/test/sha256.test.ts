import { describe, expect, it } from 'vitest';
import { sha256Hex as nodeSha } from '../src/hash/sha256.node.js';
import { sha256Hex as webSha } from '../src/hash/sha256.web.js';

// Meta's documented vector: https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters
const EMAIL = 'john_smith@gmail.com';
const EMAIL_HASH = '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f';

describe('sha256Hex', () => {
  it.each([
    ['node', nodeSha],
    ['web', webSha],
  ])('%s implementation matches Meta vector', (_name, sha) => {
    expect(sha(EMAIL)).toBe(EMAIL_HASH);
  });

  it('node and web agree on non-ASCII input', () => {
    for (const s of ['정', 'valéry', 'sãopaulo', '', '😀']) expect(nodeSha(s)).toBe(webSha(s));
  });
});

import { describe, expect, it } from 'vitest';
import { hmacSha256Hex as nodeHmac, sha256Hex as nodeSha } from '../src/hash/sha256.node.js';
import { hmacSha256Hex as webHmac, sha256Hex as webSha } from '../src/hash/sha256.web.js';

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

describe('hmacSha256Hex (appsecret_proof)', () => {
  it.each([
    ['node', nodeHmac],
    ['web', webHmac],
  ])('%s implementation matches RFC 4231 test case 2', (_name, hmac) => {
    expect(hmac('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('node and web agree on long keys and non-ASCII input', () => {
    const longKey = 'k'.repeat(200); // longer than the 64-byte block: hashed first
    for (const [key, message] of [
      [longKey, 'EAAB-token'],
      ['app-secret-정', 'token-valéry'],
      ['', ''],
    ] as const) {
      expect(nodeHmac(key, message)).toBe(webHmac(key, message));
    }
  });
});

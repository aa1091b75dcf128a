import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeReadmeSnippets } from '../../../scripts/test-support/package-checks.ts';
import { META_TOKEN, startMeta, startTikTok, TIKTOK_TOKEN } from './platforms.js';
import { SHA256 } from './vectors.js';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks
// against src; here they must match the README and run as shown against the built package.
describeReadmeSnippets(import.meta.url);

describe('the usage snippet runs as shown (built package, a loopback TikTok)', () => {
  const received: { token: string | undefined; body: unknown }[] = [];
  let endpoint = '';
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      received.push({
        token: req.headers['access-token'] as string | undefined,
        body: JSON.parse(text),
      });
      res.setHeader('content-type', 'application/json');
      res.end('{"code":0,"message":"OK","request_id":"req-1","data":{}}');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/open_api/v1.3/event/track/`;
    process.env.TIKTOK_PIXEL_CODE = 'C4README';
    process.env.TIKTOK_ACCESS_TOKEN = 'readme-token';
  });
  afterAll(async () => {
    delete process.env.TIKTOK_PIXEL_CODE;
    delete process.env.TIKTOK_ACCESS_TOKEN;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends the purchase with the order id as event_id and reads the answer', async () => {
    const { sendPurchase } = await import('./readme-snippets/usage.js');
    const request = new Request('https://shop.example/api/checkout', {
      method: 'POST',
      headers: {
        referer: 'https://shop.example/cart?ttclid=E.C.P.readme',
        cookie: '_ttp=ttp-readme',
        'user-agent': 'ReadmeUA/1.0',
      },
    });
    const verdict = await sendPurchase(
      request,
      { id: 'order-42', email: 'Jane@Example.com', total: 59.9 },
      endpoint,
    );
    expect(verdict).toEqual({ class: 'success', code: 0, message: 'OK', requestId: 'req-1' });
    expect(received).toEqual([
      {
        token: 'readme-token',
        body: {
          event_source: 'web',
          event_source_id: 'C4README',
          data: [
            {
              event: 'Purchase',
              event_time: expect.any(Number),
              event_id: 'order-42',
              user: {
                email: SHA256['jane@example.com'],
                ttclid: 'E.C.P.readme',
                ttp: 'ttp-readme',
                user_agent: 'ReadmeUA/1.0',
              },
              properties: { value: 59.9, currency: 'USD', order_id: 'order-42' },
              page: { url: 'https://shop.example/cart?ttclid=E.C.P.readme' },
            },
          ],
        },
      },
    ]);
  });
});

describe('the destination snippet runs as shown (built packages, loopback Meta and TikTok)', () => {
  it('one track() reaches both with one event_id', async () => {
    const [meta, tt] = await Promise.all([startMeta(), startTikTok()]);
    const env = {
      META_PIXEL_ID: '1234567890',
      META_ACCESS_TOKEN: META_TOKEN,
      META_GRAPH_URL: meta.base,
      TIKTOK_PIXEL_CODE: 'C4SNIPPET',
      TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN,
      TIKTOK_EVENTS_URL: `${tt.base}/open_api/v1.3/event/track/`,
    };
    Object.assign(process.env, env);
    try {
      const { capi } = await import('./readme-snippets/destination.js');
      const { event_id } = capi.track({
        event_name: 'Lead',
        event_source_url: 'https://shop.example/signup',
        user_data: { em: 'jane@example.com', client_user_agent: 'ReadmeUA/1.0' },
      });
      await capi.close();
      expect(meta.events().map((e) => e.event_id)).toEqual([event_id]);
      expect(tt.events()).toEqual([
        expect.objectContaining({
          event: 'Lead',
          event_id,
          user: { email: SHA256['jane@example.com'], user_agent: 'ReadmeUA/1.0' },
        }),
      ]);
      expect(tt.received[0]?.headers['access-token']).toBe(TIKTOK_TOKEN);
      expect(Object.keys(capi.stats().pixels)).toEqual(['1234567890', 'tiktok:C4SNIPPET']);
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
      await Promise.all([meta.close(), tt.close()]);
    }
  });
});

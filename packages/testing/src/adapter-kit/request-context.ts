/** Checks: the request context is captured and `track` is bound to the request; typed results. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KitApp } from './driver.js';
import {
  answerOf,
  type Kit,
  KNOWN_FBP,
  NAVIGATION,
  resultOf,
  send,
  sentEvent,
  sha256,
  UA,
  type WireResult,
} from './kit.js';

export function describeRequestContext(kit: Kit): void {
  describe('request context and the request-bound track', () => {
    let app: KitApp;
    beforeAll(async () => {
      app = await kit.start();
    });
    afterAll(() => app?.close());

    it('fills IP (trusted X-Forwarded-For), user agent, fbp, fbc and event_source_url', async () => {
      const res = await send(app, '/kit/call?fbclid=IwAR0click', {
        headers: {
          ...NAVIGATION,
          'x-forwarded-for': '203.0.113.7',
          referer: 'https://ads.example/',
        },
        call: { track: ['PageView'] },
      });
      const result = await resultOf(res);
      expect(result.accepted).toBe(true);
      await app.client.flush();
      const fbp = res.headers.getSetCookie().find((c) => c.startsWith('_fbp='));
      expect(sentEvent(kit, result.event_id)).toMatchObject({
        event_name: 'PageView',
        action_source: 'website',
        event_source_url: `${app.url}/kit/call?fbclid=IwAR0click`,
        referrer_url: 'https://ads.example/',
        user_data: {
          client_ip_address: '203.0.113.7',
          client_user_agent: UA,
          fbp: fbp?.slice('_fbp='.length, fbp.indexOf(';')),
          fbc: expect.stringMatching(/^fb\.0\.\d{13}\.IwAR0click$/),
        },
      });
    });

    it('uses the calling page as event_source_url of a fetch, and the browser _fbp', async () => {
      const res = await send(app, '/kit/call', {
        method: 'POST',
        headers: {
          cookie: `_fbp=${KNOWN_FBP}`,
          referer: `${app.url}/pricing`,
          'x-forwarded-for': '2001:db8::1',
        },
        call: { track: ['Lead', { user_data: { em: 'Jane.Doe@Example.com' } }] },
      });
      const { event_id } = await resultOf(res);
      await app.client.flush();
      expect(sentEvent(kit, event_id)).toMatchObject({
        event_source_url: `${app.url}/pricing`,
        user_data: {
          client_ip_address: '2001:db8::1',
          fbp: KNOWN_FBP,
          em: [sha256('jane.doe@example.com')],
        },
      });
    });

    it('lets explicit values win over the request context', async () => {
      const explicit = {
        event_id: 'kit-explicit-values',
        event_source_url: 'https://shop.example/checkout',
        user_data: {
          em: 'a@example.com',
          client_ip_address: '192.0.2.1',
          client_user_agent: 'explicit-agent',
          fbp: 'fb.1.1600000000000.42',
        },
      };
      await send(app, '/kit/call', {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.7' },
        call: { track: ['Lead', explicit] },
      });
      await app.client.flush();
      expect(sentEvent(kit, explicit.event_id)).toMatchObject({
        event_source_url: 'https://shop.example/checkout',
        user_data: {
          client_ip_address: '192.0.2.1',
          client_user_agent: 'explicit-agent',
          fbp: 'fb.1.1600000000000.42',
        },
      });
    });

    it('tracks a whole event with the id from eventId()', async () => {
      const res = await send(app, '/kit/call', {
        method: 'POST',
        call: {
          event: {
            event_name: 'Subscribe',
            user_data: { em: 'whole@example.com' },
            custom_data: { value: 9.5, currency: 'EUR' },
          },
        },
      });
      const result = await resultOf(res);
      expect(result.accepted).toBe(true);
      expect(result.event_id).toMatch(/^[0-9a-f-]{36}$/);
      await app.client.flush();
      expect(sentEvent(kit, result.event_id)).toMatchObject({
        event_name: 'Subscribe',
        custom_data: { value: 9.5, currency: 'EUR' },
        user_data: { client_user_agent: UA },
      });
    });

    it('eventId() gives a fresh UUID each call', async () => {
      const { ids = [] } = await answerOf(await send(app, '/kit/call', { call: { ids: true } }));
      expect(ids[0]).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(new Set(ids).size).toBe(2);
    });

    // With fbclid the context is computed at once (an _fbc to set); without, an adapter may defer
    // it to track() (a returning visitor's sub-request sets no cookie).
    it.each([
      { mode: 'computed at once', query: (i: number) => `?fbclid=click${i}` },
      { mode: 'deferred', query: () => '' },
    ])(
      'never mixes the contexts of 50 concurrent requests ($mode)',
      async ({ query }) => {
        const N = 50;
        const responses = await Promise.all(
          Array.from({ length: N }, async (_, i) => {
            const fbp = `fb.0.1700000000000.${1000 + i}`;
            const res = await send(app, `/kit/call${query(i)}`, {
              method: 'POST',
              headers: {
                'user-agent': `agent-${i}`,
                'x-forwarded-for': `198.51.100.${i + 1}`,
                cookie: `_fbp=${fbp}`,
                referer: `${app.url}/page-${i}`,
              },
              call: { yield: true, track: ['Lead', { user_data: { em: `user${i}@example.com` } }] },
            });
            return { i, fbp, ...(await resultOf(res)) };
          }),
        );
        await app.client.flush();
        const byId = new Map(kit.mock.events().map((e) => [e.event.event_id, e.event]));
        expect(byId.size).toBe(N);
        for (const { i, fbp, event_id } of responses) {
          expect(byId.get(event_id)).toMatchObject({
            event_source_url: `${app.url}/page-${i}`,
            user_data: {
              client_user_agent: `agent-${i}`,
              client_ip_address: `198.51.100.${i + 1}`,
              fbp,
              ...(query(i) === ''
                ? {}
                : { fbc: expect.stringMatching(new RegExp(`^fb\\.0\\.\\d{13}\\.click${i}$`)) }),
              em: [sha256(`user${i}@example.com`)],
            },
          });
        }
        // 50 requests at once through a framework's whole stack: 5 s was too short on a loaded
        // 2-core machine (the Next.js handlers timed out under a load average of 60), and a test
        // that times out leaves its requests to land in the next one's counts.
      },
      30_000,
    );

    it('returns a typed result: a refused event says why, by field, never with the value', async () => {
      const res = await send(app, '/kit/call', {
        method: 'POST',
        call: {
          track: [
            'Purchase',
            { user_data: { em: 'buyer@example.com' }, custom_data: { value: 1 } },
          ],
        },
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('buyer@example.com');
      const { result } = JSON.parse(text) as { result: WireResult };
      expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
      expect(typeof result.event_id).toBe('string');
      expect(result.issues).toContainEqual({
        path: 'custom_data.currency',
        code: expect.any(String),
        message: expect.any(String),
        severity: 'error',
      });
      await app.client.flush();
      expect(kit.mock.requests()).toEqual([]);
    });
  });
}

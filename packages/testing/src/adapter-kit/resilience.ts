/** Checks: capi-kit's failures never fail or hold up the app's request. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KitApp } from './driver.js';
import {
  answerOf,
  brokenTrustList,
  errorsOf,
  type Kit,
  KNOWN_FBP,
  NAVIGATION,
  postJson,
  resultOf,
  send,
  sentEvent,
  UA,
} from './kit.js';

export function describeResilience(kit: Kit): void {
  describe('a failing Graph API', () => {
    let app: KitApp;
    beforeEach(async () => {
      // flushOnEnd: every track() starts a Graph request at once, so it is in flight during the test.
      app = await kit.start({ flushOnEnd: true, timeoutMs: 30_000 });
    });
    afterEach(async () => {
      // Abandons what is still hanging instead of waiting out the 30 s request timeout.
      const closing = app.client.close({ timeoutMs: 100 });
      await app.close();
      await closing;
      kit.mock.recover();
    });

    const exercise = async () => {
      const lead = await send(app, '/kit/call', {
        method: 'POST',
        call: { track: ['Lead', { user_data: { em: 'a@example.com' } }] },
      });
      expect(lead.status).toBe(200);
      expect(await resultOf(lead)).toMatchObject({ accepted: true, event_id: expect.any(String) });
      const purchases = await Promise.all(
        Array.from({ length: 5 }, () =>
          postJson(app, '/kit/purchase', {}, { 'x-forwarded-for': '203.0.113.1' }),
        ),
      );
      for (const res of purchases) {
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ ok: true });
      }
      await app.settled();
    };

    it('answers normally while every Graph request hangs', async () => {
      kit.mock.outage('hang');
      await exercise();
      // The responses above completed while the deliveries they started are still unanswered.
      expect(app.client.stats().inFlight).toBeGreaterThan(0);
      expect(kit.mock.events()).toEqual([]);
    });

    it('answers normally while the Graph API returns 503', async () => {
      kit.mock.outage(503);
      await exercise();
      await app.client.flush();
      expect(kit.mock.rejections().length).toBeGreaterThan(0);
      expect(kit.mock.rejections().every((r) => r.status === 503)).toBe(true);
      expect(kit.mock.events()).toEqual([]);
    });
  });

  describe('a request context that cannot be computed', () => {
    // A navigation computes the context at once; a returning visitor's sub-request may defer it
    // to the first track() or context read. Both must fail the same, harmless way.
    it.each([
      { when: 'a navigation', method: 'GET', headers: NAVIGATION },
      { when: 'a deferred sub-request', method: 'POST', headers: { cookie: `_fbp=${KNOWN_FBP}` } },
    ])('leaves the route a working tracker: $when', async ({ when, method, headers }) => {
      // Its own event id: the mock is shared by the file, and an earlier test's event that reaches
      // it late (a request aborted by a close() on a loaded machine) must not be read as this one.
      const eventId = `kit-broken-context-${when.replaceAll(' ', '-')}`;
      // A trust list whose every read throws: computing the context fails on each request.
      const app = await kit.start({ trustProxy: brokenTrustList() });
      const errors = errorsOf(app.client);
      try {
        const res = await send(app, '/kit/call', {
          method,
          headers,
          call: {
            track: [
              'PageView',
              {
                event_id: eventId,
                event_source_url: 'https://shop.example/',
                user_data: { em: 'a@example.com', client_user_agent: UA },
              },
            ],
            context: true,
          },
        });
        expect(res.status).toBe(200);
        expect(res.headers.getSetCookie()).toEqual([]);
        const answer = await answerOf(res);
        expect(answer.result).toMatchObject({ accepted: true });
        expect(answer.context).toEqual({
          user_data: {},
          cookiesToSet: [],
          consent: 'granted',
          isNavigation: false,
        });
        expect(errors).toEqual([
          expect.objectContaining({ kind: 'callback', source: 'request context' }),
        ]);
        await app.client.flush();
        // Only what the app passed: no IP, fbp or fbc from the failed context.
        const userData = sentEvent(kit, eventId)?.user_data ?? {};
        expect(Object.keys(userData).sort()).toEqual(['client_user_agent', 'em']);
      } finally {
        await app.close();
      }
    });

    it('fails closed on consent when the app decides consent', async () => {
      const app = await kit.start({ trustProxy: brokenTrustList(), consent: () => 'granted' });
      try {
        const res = await send(app, '/kit/call', {
          call: { track: ['PageView', { event_source_url: 'https://shop.example/' }] },
        });
        expect(res.status).toBe(200);
        expect(await resultOf(res)).toMatchObject({ accepted: false, reason: 'consent' });
      } finally {
        await app.close();
      }
    });
  });
}

/** Checks: route-level tracking happens only after a successful response, and never breaks it. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KIT_PURCHASE, type KitApp, type KitErrorInfo } from './driver.js';
import { errorsOf, type Kit, KNOWN_FBP, postJson, send, UA } from './kit.js';

export function describeConversions(kit: Kit): void {
  describe('route-level conversions', () => {
    let app: KitApp;
    let errors: KitErrorInfo[];
    beforeAll(async () => {
      app = await kit.start();
      errors = errorsOf(app.client);
    });
    afterAll(() => app?.close());
    beforeEach(() => {
      errors.length = 0;
    });

    /** Waits until every response so far was considered for tracking, then for delivery. */
    const delivered = async () => {
      await app.settled();
      await app.client.flush();
    };

    it('tracks after a 200 with the data from map and the request context', async () => {
      const res = await postJson(app, '/kit/purchase', {}, { 'x-forwarded-for': '203.0.113.5' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      await delivered();
      const events = kit.mock.events({ event_name: 'Purchase' });
      expect(events).toHaveLength(1);
      expect(events[0]?.event).toMatchObject({
        event_id: KIT_PURCHASE.event_id,
        custom_data: KIT_PURCHASE.custom_data,
        event_source_url: `${app.url}/kit/purchase`,
        user_data: { client_ip_address: '203.0.113.5', client_user_agent: UA },
      });
    });

    it('has the full context when the conversion is tracked after the response: returning visitor on a sub-request', async () => {
      // A valid _fbp, no fbclid, not a navigation: no cookie to set, so an adapter may compute the
      // context only at the tracking after the response; the request was read while it was live.
      const res = await postJson(
        app,
        '/kit/purchase',
        {},
        { 'x-forwarded-for': '203.0.113.6', cookie: `_fbp=${KNOWN_FBP}` },
      );
      expect(res.headers.getSetCookie()).toEqual([]);
      await delivered();
      expect(kit.mock.events({ event_name: 'Purchase' })[0]?.event).toMatchObject({
        event_source_url: `${app.url}/kit/purchase`,
        user_data: { client_ip_address: '203.0.113.6', client_user_agent: UA, fbp: KNOWN_FBP },
      });
    });

    it('tracks with the context alone when there is no map, and nothing on routes without a conversion', async () => {
      await postJson(app, '/kit/no-map', {}, { 'x-forwarded-for': '203.0.113.5' });
      await send(app, '/kit/call', { method: 'POST', call: { ids: true } });
      await delivered();
      expect(kit.mock.events().map((e) => e.event.event_name)).toEqual(['CompleteRegistration']);
    });

    it('does not track a HEAD request to a GET route (uptime monitors, link checkers), and tracks its GET', async () => {
      const head = await send(app, '/kit/view', { method: 'HEAD' });
      expect(head.status).toBe(200);
      await delivered();
      expect(kit.mock.requests()).toEqual([]);
      const get = await send(app, '/kit/view');
      expect(get.status).toBe(200);
      expect(await get.text()).toBe('view');
      await delivered();
      expect(kit.mock.events().map((e) => e.event.event_name)).toEqual(['ViewContent']);
    });

    it.each([400, 404, 422, 500, 503])('does not track after a %i', async (status) => {
      const res = await postJson(app, `/kit/purchase?status=${status}`, {});
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ ok: false });
      await delivered();
      expect(kit.mock.requests()).toEqual([]);
    });

    it('does not track when the handler throws', async () => {
      const res = await postJson(app, '/kit/throws', {});
      expect(res.status).toBe(500);
      await delivered();
      expect(kit.mock.requests()).toEqual([]);
    });

    it('reports a throwing map through the error hook and leaves the response alone', async () => {
      const res = await postJson(app, '/kit/bad-map', {});
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ created: true });
      await delivered();
      expect(kit.mock.requests()).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ kind: 'callback' });
      const source = kit.driver.errorSources?.map;
      if (source !== undefined) expect(errors[0]?.source).toBe(source);
      expect(errors[0]?.error.message).toContain('map exploded');
    });

    it('reports a strict-mode validation throw instead of failing the response', async () => {
      const strict = await kit.start({ strict: true });
      const strictErrors = errorsOf(strict.client);
      try {
        // A Purchase without currency is invalid: strict track() throws, after the handler ran.
        const res = await postJson(strict, '/kit/invalid-purchase', {});
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ ok: true });
        await strict.settled();
        expect(strictErrors).toEqual([expect.objectContaining({ kind: 'callback' })]);
        const source = kit.driver.errorSources?.track;
        if (source !== undefined) expect(strictErrors[0]?.source).toBe(source);
      } finally {
        await strict.close();
      }
    });
  });
}

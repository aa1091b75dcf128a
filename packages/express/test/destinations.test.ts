import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { tiktok } from '@capi-kit/tiktok';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi } from '../src/index.js';
import { capiOptions, KNOWN_FBP, listen, MAJORS, PIXEL_ID, postJson } from './fixtures.js';

// `capi()` passes its options through to the core, so a destination given to it is configured in
// the client and in the request context alike, with no Express-specific code: the `ttclid` cookie
// is set from the landing URL, `_ttp` is read, and one `req.capi.track()` reaches Meta (the strict
// mock) and TikTok (a loopback endpoint checking the Access-Token header) with one event_id.

const TIKTOK_TOKEN = 'express-tiktok-token';
/** Ids in sorted order, to compare arrivals without their order. */
const sorted = (ids: readonly string[]): string[] => [...ids].sort();
/** The sorted event ids of what a mock received. */
const idsOf = (events: readonly { event: { event_id?: unknown } }[]): string[] =>
  sorted(events.map((e) => String(e.event.event_id)));
const PIXEL_CODE = 'C4EXPRESS';

interface TikTokRequest {
  token: string | undefined;
  body: { event_source_id: string; data: Record<string, unknown>[] };
}

let mock: MockGraph;
const tiktokRequests: TikTokRequest[] = [];
const tiktokServer = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    text += chunk;
  });
  req.on('end', () => {
    const token = req.headers['access-token'] as string | undefined;
    tiktokRequests.push({ token, body: JSON.parse(text) });
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(
        token === TIKTOK_TOKEN
          ? { code: 0, message: 'OK', request_id: 'req-express', data: {} }
          : { code: 40105, message: 'Access token is invalid', data: {} },
      ),
    );
  });
});
let tiktokUrl = '';

beforeAll(async () => {
  mock = await startMockGraph();
  await new Promise<void>((resolve) => tiktokServer.listen(0, '127.0.0.1', resolve));
  tiktokUrl = `http://127.0.0.1:${(tiktokServer.address() as AddressInfo).port}/open_api/v1.3/event/track/`;
});
beforeEach(() => {
  mock.reset();
  tiktokRequests.length = 0;
});
afterAll(async () => {
  await mock.close();
  await new Promise<void>((resolve) => tiktokServer.close(() => resolve()));
});

describe.each(MAJORS)('$name: capi({ destinations: [tiktok(…)] })', ({ express }) => {
  it('sets the ttclid cookie from the landing URL; one track() reaches Meta and TikTok with one event_id', async () => {
    const tracking = capi(
      capiOptions(mock, {
        flushIntervalMs: 5,
        destinations: [
          tiktok({ pixelCode: PIXEL_CODE, accessToken: TIKTOK_TOKEN, apiUrl: tiktokUrl }),
        ],
      }),
    );
    const app = express();
    app.use(express.json());
    app.use(tracking);
    app.get('/landing', (_req, res) => {
      res.send('<html>shop</html>');
    });
    app.post('/buy', (req, res) => {
      res.json(
        req.capi.track('Purchase', {
          user_data: { em: 'jane@example.com' },
          custom_data: { value: 25, currency: 'USD', order_id: 'o-9' },
        }),
      );
    });
    const running = await listen(app);
    try {
      const landing = await running.request('/landing?ttclid=E.C.P.click-9', {
        headers: { 'sec-fetch-dest': 'document', cookie: `_fbp=${KNOWN_FBP}; _ttp=ttp-cookie-9` },
      });
      expect(landing.status).toBe(200);
      const cookies = landing.headers.getSetCookie();
      // Loopback is an IP host: host-only cookies, no Domain.
      expect(cookies).toContain('ttclid=E.C.P.click-9; Max-Age=7776000; Path=/; SameSite=Lax');
      expect(cookies.some((c) => c.startsWith(`_fbp=${KNOWN_FBP}`))).toBe(true);

      const bought = await postJson(
        running,
        '/buy',
        {},
        {
          cookie: `_fbp=${KNOWN_FBP}; ttclid=E.C.P.click-9; _ttp=ttp-cookie-9`,
          referer: `${running.url}/product`,
        },
      );
      const result = (await bought.json()) as {
        event_id: string;
        accepted: boolean;
        destinations: Record<string, { accepted: boolean }>;
      };
      expect(result.accepted).toBe(true);
      expect(result.destinations).toMatchObject({
        [PIXEL_ID]: { accepted: true },
        [`tiktok:${PIXEL_CODE}`]: { accepted: true },
      });
      // A fetch from a page without a new click changes no cookie.
      expect(bought.headers.getSetCookie()).toEqual([]);
      await tracking.client.flush();

      const metaEvents = mock.events({ pixelId: PIXEL_ID });
      expect(metaEvents.map((e) => e.event.event_id)).toEqual([result.event_id]);
      expect(mock.rejections()).toEqual([]);
      const sent = tiktokRequests.flatMap((r) => r.body.data);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        event: 'Purchase',
        event_id: result.event_id,
        user: {
          ttclid: 'E.C.P.click-9',
          ttp: 'ttp-cookie-9',
          user_agent: expect.stringContaining('capi-kit-express-test'),
        },
        properties: { value: 25, currency: 'USD', order_id: 'o-9' },
        page: { url: `${running.url}/product` },
      });
      expect(tiktokRequests.map((r) => [r.token, r.body.event_source_id])).toEqual([
        [TIKTOK_TOKEN, PIXEL_CODE],
      ]);
      const stats = tracking.client.stats();
      expect(stats.pixels[PIXEL_ID]?.sent).toBe(1);
      expect(stats.pixels[`tiktok:${PIXEL_CODE}`]?.sent).toBe(1);
    } finally {
      await running.close();
      await tracking.close();
    }
  });
});

// The same app against @capi-kit/testing's strict mocks of both platforms, which check each
// payload by its own platform's rules (TikTok's written from TikTok's documentation, not from
// @capi-kit/tiktok): what the "done when" asks for.
describe.each(MAJORS)('$name: both strict mocks', ({ express }) => {
  let strict: MockGraph;
  beforeAll(async () => {
    strict = await startMockGraph({ tiktokAccessToken: TIKTOK_TOKEN });
  });
  afterAll(() => strict.close());

  it('every tracked event reaches both, one event_id each, every payload valid; a TikTok outage leaves Meta alone', async () => {
    const tracking = capi(
      capiOptions(strict, {
        flushIntervalMs: 5,
        retry: { baseDelayMs: 10, maxDelayMs: 20 },
        destinations: [
          tiktok({ pixelCode: PIXEL_CODE, accessToken: TIKTOK_TOKEN, apiUrl: strict.tiktok.url }),
        ],
      }),
    );
    const app = express();
    app.use(express.json());
    app.use(tracking);
    app.post('/event/:name', (req, res) => {
      const name = String(req.params.name);
      res.json(
        req.capi.track(name, {
          user_data: { em: 'jane@example.com', ph: '+1 650 555 1212', external_id: 'u-1' },
          custom_data:
            name === 'Purchase'
              ? {
                  value: 25,
                  currency: 'USD',
                  order_id: 'o-1',
                  contents: [{ id: 'sku-1', quantity: 1, item_price: 25 }],
                }
              : { search_string: 'shoes' },
        }),
      );
    });
    const running = await listen(app);
    const headers = {
      cookie: `_fbp=${KNOWN_FBP}; ttclid=E.C.P.strict; _ttp=ttp-strict`,
      referer: `${running.url}/product?ttclid=E.C.P.strict`,
    };
    const send = async (name: string) =>
      (
        (await (await postJson(running, `/event/${name}`, {}, headers)).json()) as {
          event_id: string;
        }
      ).event_id;
    try {
      const ids = [];
      for (const name of ['Purchase', 'Lead', 'Search', 'SpinWheel']) ids.push(await send(name));
      await tracking.client.flush();
      expect(strict.rejections()).toEqual([]);
      expect(strict.tiktok.rejections()).toEqual([]);
      // Batches sent in turn may arrive out of turn (loaded CI runs saw the third event's batch
      // land after the fourth's, and a retried batch after a later one): events are compared as
      // sorted lists of ids, so each must arrive exactly once, in any order.
      expect(idsOf(strict.events())).toEqual(sorted(ids));
      const tiktokNameOf = new Map(
        strict.tiktok.events().map((e) => [e.event.event_id, e.event.event]),
      );
      expect(ids.map((id) => tiktokNameOf.get(id))).toEqual([
        'Purchase',
        'Lead',
        'Search',
        'SpinWheel',
      ]);
      expect(strict.tiktok.events()).toHaveLength(ids.length);
      expect(strict.duplicates()).toEqual([]);
      expect(strict.tiktok.duplicates()).toEqual([]);
      expect(
        strict.tiktok
          .requests()
          .map((r) => [r.hasAccessToken, r.tokenInUrl, r.tokenInBody, r.code]),
      ).toEqual(strict.tiktok.requests().map(() => [true, false, false, 0]));

      // TikTok goes down: Meta's events keep arriving; TikTok's wait and arrive once it is back.
      strict.tiktok.outage(503);
      const later = [await send('Lead'), await send('Purchase')];
      await tracking.client.flush();
      expect(idsOf(strict.events())).toEqual(sorted([...ids, ...later]));
      expect(tracking.client.stats().pixels[`tiktok:${PIXEL_CODE}`]?.sent).toBe(4);
      strict.tiktok.recover();
      await tracking.client.drain({ timeoutMs: 5000 });
      expect(idsOf(strict.tiktok.events())).toEqual(sorted([...ids, ...later]));
      expect(strict.tiktok.duplicates()).toEqual([]);
    } finally {
      await running.close();
      await tracking.close();
    }
  });
});

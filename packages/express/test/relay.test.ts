import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapiExpressOptions, capi } from '../src/index.js';
import { capiOptions, KNOWN_FBP, listen, MAJORS, PIXEL_ID, type Running, UA } from './fixtures.js';

const FBC = 'fb.0.1700000000001.IwAR_relay';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const relayEvent = (event_id: string, extra: Record<string, unknown> = {}) => ({
  event_name: 'AddToCart',
  event_id,
  event_time: Math.floor(Date.now() / 1000),
  event_source_url: 'http://127.0.0.1/product/1',
  custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'], secret: 'dropped' },
  ...extra,
});

const payload = (...events: unknown[]) => ({ v: 1, pixel_id: PIXEL_ID, events });

/** POSTs a relay body the way `@capi-kit/browser`'s beacon does, from a page of the app itself. */
function beacon(
  running: Running,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/capi/events',
) {
  return running.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      referer: `${running.url}/product/1`,
      cookie: `_fbp=${KNOWN_FBP}; _fbc=${FBC}`,
      'x-forwarded-for': '203.0.113.7',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const CAP = 64 * 1024;
/** A body's size just under the 64 KiB cap. */
const UNDER_CAP = CAP - 400;
const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

/** A one-event relay body of about `bytes` bytes (the filler is an allowed `custom_data` key). */
const bodyOf = (bytes: number) => {
  const empty = JSON.stringify(payload(relayEvent('cap', { custom_data: { content_name: '' } })));
  return empty.replace('"content_name":""', `"content_name":"${'x'.repeat(bytes - empty.length)}"`);
};
/** Under 20 KiB on the wire, ~100 KiB re-serialized: `1e20` is written out in full. */
const expandingBody = () =>
  JSON.stringify(payload(relayEvent('expanding'))).replace(
    '"event_id":"expanding"',
    `"event_id":"expanding","n":[${Array.from({ length: 4000 }, () => '1e20').join(',')}]`,
  );
/** ~90 KiB on the wire, ~30 KiB as JSON: `\u00e9` (6 bytes) is `é` (2 bytes) once parsed. */
const escapedBody = () =>
  JSON.stringify(payload(relayEvent('escaped', { custom_data: { content_name: '' } }))).replace(
    '"content_name":""',
    `"content_name":"${'\\u00e9'.repeat(15_000)}"`,
  );

/** POSTs a relay body chunked (a stream, so no Content-Length) or with its length. */
function relayPost(running: Running, text: string, chunked: boolean) {
  const body = chunked ? new Blob([text]).stream() : text;
  return running.request('/capi/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      'x-forwarded-for': '203.0.113.20',
    },
    body,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit & { headers: Record<string, string> });
}

describe.each(MAJORS)('$name: capi({ relay })', ({ express }) => {
  const start = async (
    relay: CapiExpressOptions['relay'],
    withJsonParser: boolean,
    extra: CapiExpressOptions = {},
  ) => {
    const tracking = capi(capiOptions(mock, { relay, flushIntervalMs: 20, ...extra }));
    const app = express();
    if (withJsonParser) app.use(express.json());
    app.use(tracking);
    app.post('/capi/other', (_req, res) => {
      res.send('app route');
    });
    app.get('/capi/events', (_req, res) => {
      res.send('never reached');
    });
    const running = await listen(app);
    return {
      running,
      tracking,
      close: async () => {
        await running.close();
        await tracking.close();
      },
    };
  };

  describe.each([
    ['without a body parser', false],
    ['after express.json()', true],
  ])('%s', (_label, withJsonParser) => {
    let app: Awaited<ReturnType<typeof start>>;
    const identified: unknown[] = [];
    beforeAll(async () => {
      app = await start(
        {
          identify: (req) => {
            identified.push(req.headers['x-user']);
            return req.headers['x-user'] === undefined
              ? undefined
              : { external_id: String(req.headers['x-user']) };
          },
          rateLimit: { eventsPerMinute: 60, burst: 5 },
        },
        withJsonParser,
      );
    });
    afterAll(() => app.close());

    it('answers a same-origin beacon 204 and forwards it with the same event_id, enriched', async () => {
      const res = await beacon(app.running, payload(relayEvent('rel-1')), { 'x-user': 'u-1' });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      const [received] = await mock.waitForEvents(1);
      expect(received?.pixelId).toBe(PIXEL_ID);
      expect(received?.event).toMatchObject({
        event_name: 'AddToCart',
        event_id: 'rel-1',
        action_source: 'website',
        event_source_url: 'http://127.0.0.1/product/1',
        user_data: {
          client_ip_address: '203.0.113.7',
          client_user_agent: UA,
          fbp: KNOWN_FBP,
          fbc: FBC,
          external_id: [expect.stringMatching(/^[0-9a-f]{64}$/)],
        },
        custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'] },
      });
      expect(received?.event.custom_data).not.toHaveProperty('secret');
      expect(identified.at(-1)).toBe('u-1');
      expect(app.tracking.client.stats().dedup.relay).toBeGreaterThanOrEqual(1);
    });

    it('takes a text/plain beacon too', async () => {
      const res = await beacon(app.running, payload(relayEvent('rel-text')), {
        'content-type': 'text/plain;charset=UTF-8',
        'x-forwarded-for': '203.0.113.8',
      });
      expect(res.status).toBe(204);
      const [received] = await mock.waitForEvents(1);
      expect(received?.event.event_id).toBe('rel-text');
    });

    it('refuses a cross-site POST with 403 and forwards nothing', async () => {
      const res = await beacon(app.running, payload(relayEvent('evil')), {
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
        'x-forwarded-for': '203.0.113.9',
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'cross_site' });
      await app.tracking.client.flush();
      expect(mock.events()).toEqual([]);
    });

    it('limits a flood from one IP with 429 + Retry-After, and not another IP', async () => {
      const flood = '198.51.100.1';
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await beacon(app.running, payload(relayEvent(`flood-${i}`)), {
          'x-forwarded-for': flood,
        });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429]);
      const other = await beacon(app.running, payload(relayEvent('other-ip')), {
        'x-forwarded-for': '198.51.100.2',
      });
      expect(other.status).toBe(204);
      await app.tracking.client.flush();
      expect(mock.uniqueEventIds().sort()).toEqual(
        ['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4', 'other-ip'].sort(),
      );
    });

    it('answers 413 to a body over 64 KiB', async () => {
      const huge = payload(
        relayEvent('huge', { custom_data: { content_name: 'x'.repeat(70_000) } }),
      );
      const res = await beacon(app.running, huge, { 'x-forwarded-for': '203.0.113.10' });
      // express.json() (100 kB limit) parses it first; the relay then checks Content-Length.
      expect(res.status).toBe(413);
    });

    it('answers 405 to other methods and leaves other paths to the app', async () => {
      const get = await app.running.request('/capi/events', {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      const other = await beacon(app.running, payload(relayEvent('x')), {}, '/capi/other');
      expect(await other.text()).toBe('app route');
    });
  });

  describe.each([
    ['without a body parser', false],
    ['after express.json()', true],
  ])('the 64 KiB cap %s', (_label, withJsonParser) => {
    let app: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      app = await start({ rateLimit: false }, withJsonParser);
    });
    afterAll(() => app.close());

    /** Posts `text` chunked (no Content-Length) or with one; the answer and what Meta got. */
    const post = async (text: string, chunked: boolean) => {
      const before = app.tracking.client.stats().dedup.relay;
      const res = await relayPost(app.running, text, chunked);
      await app.tracking.client.flush();
      const stats = app.tracking.client.stats();
      // Every event the relay handed over was delivered: none queued, dropped or dead-lettered.
      expect(stats.sent).toBe(stats.dedup.relay);
      expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
      expect(Object.values(stats.dropped).reduce((a, b) => a + b, 0)).toBe(0);
      return { res, tracked: stats.dedup.relay - before };
    };

    it.each([
      ['chunked', true],
      ['with Content-Length', false],
    ])('refuses a 90 KiB body sent %s: 413, nothing tracked or sent', async (_how, chunked) => {
      const { res, tracked } = await post(bodyOf(90 * 1024), chunked);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'body_too_large' });
      expect(tracked).toBe(0);
      expect(mock.events()).toEqual([]);
    });

    it.each([
      ['chunked', true],
      ['with Content-Length', false],
    ])('accepts a body just under the cap sent %s', async (_how, chunked) => {
      const text = bodyOf(UNDER_CAP);
      expect(byteLength(text)).toBeLessThanOrEqual(CAP);
      const { res, tracked } = await post(text, chunked);
      expect(res.status).toBe(204);
      expect(tracked).toBe(1);
      expect(mock.uniqueEventIds()).toEqual(['cap']);
    });

    it('refuses a short body that re-serializes over the cap (1e20 → 21 bytes)', async () => {
      const text = expandingBody();
      expect(byteLength(text)).toBeLessThan(20 * 1024);
      const { res, tracked } = await post(text, true);
      expect(res.status).toBe(413);
      expect(tracked).toBe(0);
      expect(mock.events()).toEqual([]);
    });

    it('escaped unicode over the cap on the wire: refused when the relay reads the bytes, measured as JSON when express.json() did', async () => {
      const text = escapedBody();
      expect(byteLength(text)).toBeGreaterThan(88 * 1024);
      const withLength = await post(text, false);
      expect(withLength.res.status).toBe(413);
      const chunked = await post(text, true);
      // express.json() kept no bytes: what is left is ~30 KiB of JSON, under the cap.
      expect(chunked.res.status).toBe(withJsonParser ? 204 : 413);
      expect(chunked.tracked).toBe(withJsonParser ? 1 : 0);
      expect(mock.uniqueEventIds()).toEqual(withJsonParser ? ['escaped'] : []);
    });
  });

  it('stops reading a chunked body at the cap and closes the connection', async () => {
    const app = await start(true, false);
    try {
      const { port } = new URL(app.running.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/capi/events',
            headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
          },
          (res) => {
            expect(res.headers.connection).toBe('close');
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        // Chunked, no Content-Length: the relay has to count while reading.
        for (let i = 0; i < 10; i++) req.write('x'.repeat(16 * 1024));
        req.end();
      });
      expect(status).toBe(413);
    } finally {
      await app.close();
    }
  });

  it('serves the relay on a custom path, and not at all without `relay`', async () => {
    const custom = await start({ path: '/t/e' }, true);
    const none = await start(undefined, true);
    try {
      expect((await beacon(custom.running, payload(relayEvent('p1')), {}, '/t/e')).status).toBe(
        204,
      );
      expect((await beacon(none.running, payload(relayEvent('p2')))).status).toBe(404);
      const [received] = await mock.waitForEvents(1);
      expect(received?.event.event_id).toBe('p1');
    } finally {
      await custom.close();
      await none.close();
    }
  });
});

it('keeps the server on its feet: a relay answer never waits for Meta', async () => {
  mock.outage('hang');
  const { express } = MAJORS[0];
  const tracking = capi(capiOptions(mock, { relay: true, timeoutMs: 60_000 }));
  const app = express();
  app.use(tracking);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const started = Date.now();
    const res = await fetch(`${url}/capi/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        'user-agent': UA,
      },
      body: JSON.stringify(payload(relayEvent('fast'))),
    });
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeLessThan(1000);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    mock.recover();
    await tracking.close({ timeoutMs: 100 });
  }
});

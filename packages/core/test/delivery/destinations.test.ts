import { describe, expect, it } from 'vitest';
import { createCapiAdapter } from '../../src/adapter/index.js';
import type { Classified, Destination, DestinationBuild } from '../../src/delivery/destination.js';
import { streamKey } from '../../src/delivery/destination.js';
import { createCapi } from '../../src/delivery/index.js';
import type { PixelStats } from '../../src/delivery/types.js';
import { type Issue, isSha256Hash } from '../../src/index.js';
import { ok, PIXEL, purchase, type SeenRequest, setupClient, TOKEN } from './helpers.js';

// The seam every platform plugs into, exercised with a made-up platform ("Acme"): its own body
// envelope, a bearer token in a header, its own answers and limits. What holds for it holds for
// TikTok (tested over loopback in @capi-kit/tiktok) and for the next platform.

const SECRET = 'acme-secret-0f9e8d7c6b5a';
const ACME_URL = 'https://events.acme.example/v1/collect';
const STREAM = 'acme:A1';

interface AcmeEvent {
  name: string;
  id: string;
  ts: number;
  value?: number;
}

const acme = (overrides: Partial<Destination<AcmeEvent>> = {}): Destination<AcmeEvent> => ({
  name: 'acme',
  id: 'A1',
  label: 'Acme',
  build: (input, context): DestinationBuild<AcmeEvent> => {
    const value = (input.custom_data as { value?: number } | undefined)?.value;
    if (typeof value === 'number' && value < 0) {
      const issue: Issue = {
        path: 'custom_data.value',
        code: 'acme_negative_value',
        message: 'Acme takes no refunds.',
        severity: 'error',
      };
      return { issues: [issue] };
    }
    const ts = Math.floor(context.now() / 1000);
    const event: AcmeEvent = { name: String(input.event_name), id: context.eventId, ts };
    if (value !== undefined) event.value = value;
    return { event, issues: [], eventName: event.name, eventTime: ts };
  },
  envelope: () => ({
    url: ACME_URL,
    prefix: '{"batch":[',
    suffix: ']}',
    headers: { Authorization: `Bearer ${SECRET}` },
    secrets: [SECRET],
  }),
  limits: { maxEvents: 500, maxBytes: 512 * 1024 },
  classify: ({ status, body }, eventsSent): Classified => {
    const b = (body ?? {}) as { ok?: boolean; bad?: number; error?: string; trace?: string };
    if (status === 200 && b.ok === true) return { class: 'success' };
    const out: Classified = { class: 'transient', message: `Acme ${status}: ${b.error ?? ''}` };
    if (b.trace !== undefined) out.traceId = b.trace;
    if (status === 429) out.class = 'throttled';
    else if (status === 401) out.class = 'auth';
    else if (status === 400) {
      out.class = 'invalid';
      if (typeof b.bad === 'number' && b.bad < eventsSent) out.rejectedIndex = b.bad;
    }
    return out;
  },
  acknowledgement: (body) => {
    const b = body as { count?: number; trace?: string };
    return { received: b.count, traceId: b.trace };
  },
  ...overrides,
});

const acmeOk = (req: SeenRequest) =>
  Response.json({
    ok: true,
    count: (req.body as unknown as { batch: unknown[] }).batch.length,
    trace: 'T',
  });

/** Meta and Acme answered by their own handlers. */
const route =
  (acmeHandler: (req: SeenRequest) => Response | Promise<Response> = acmeOk) =>
  (req: SeenRequest) =>
    req.url === ACME_URL ? acmeHandler(req) : ok(req);

const accounted = (s: PixelStats | undefined): number =>
  s === undefined
    ? Number.NaN
    : s.sent +
      s.queued +
      s.inFlight +
      s.deadLettered +
      Object.values(s.dropped).reduce((a, b) => a + b, 0);

const acmeEvents = (seen: SeenRequest[]) =>
  seen
    .filter((r) => r.url === ACME_URL)
    .flatMap((r) => (r.body as unknown as { batch: AcmeEvent[] }).batch);

describe('destinations beside Meta', () => {
  it('one track(): each destination gets its own request, envelope and headers, with one event_id', async () => {
    const { client, seen, track } = setupClient(route(), { destinations: [acme()] });
    const result = track(1, { event_id: undefined });
    await client.flush();
    const meta = seen.find((r) => r.url !== ACME_URL);
    const other = seen.find((r) => r.url === ACME_URL);
    expect(meta?.body.data[0]?.event_id).toBe(result.event_id);
    expect(other?.body).toEqual({
      batch: [{ name: 'Purchase', id: result.event_id, ts: expect.any(Number), value: 11 }],
    });
    expect(other?.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${SECRET}`,
    });
    // Meta's requests are what they were: no header of another destination.
    expect(meta?.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(Object.keys(client.stats().pixels)).toEqual([PIXEL, STREAM]);
    expect(result.destinations).toEqual({
      [PIXEL]: { accepted: true, issues: [] },
      [STREAM]: { accepted: true, issues: [] },
    });
    const em = (meta?.body.data[0]?.user_data as { em?: string[] } | undefined)?.em?.[0];
    expect(isSha256Hash(em ?? '')).toBe(true);
  });

  it('diagnostics per stream: the other destination has its figures, the match-quality estimate stays Meta’s', async () => {
    const { client, track } = setupClient(route(), { destinations: [acme()] });
    track(1); // the caller's event_id
    track(2, { event_id: undefined }); // one capi-kit generates
    await client.flush();
    const { pixels } = client.diagnostics();
    const meta = pixels[PIXEL]?.total;
    const other = pixels[STREAM]?.total;
    expect(meta).toMatchObject({ events: 2, withEventId: 1, generatedEventIds: 1 });
    expect(meta?.matchQuality).toBeGreaterThan(0);
    expect(meta?.matchKeyCoverage.em).toBe(100);
    expect(other).toMatchObject({
      events: 2,
      matchQuality: null,
      withEventId: 1,
      generatedEventIds: 1,
      sources: { server: 2, relay: 0 },
      freshness: { acknowledged: 2 },
    });
    expect(other?.matchKeyCoverage.em).toBe(0);
    expect(Object.keys(pixels[STREAM]?.events ?? {})).toEqual(['Purchase']);
  });

  it('diagnostics pair a relayed copy with its server event on every stream, Meta’s and the other destination’s', async () => {
    // Meta and Acme both call the event Purchase: the same event_name + event_id seen by two
    // streams must not count as one remembered pair, or the second stream never sees its overlap
    // (Meta's read 0 % beside TikTok) nor its generated id confirmed.
    const { client, clock, track } = setupClient(route(), { destinations: [acme()] });
    client.attachRelay();
    track(1); // the caller's event_id evt-1, then its browser copy through the relay
    client.track(purchase(1, clock.now()), { source: 'relay' });
    const { event_id } = track(2, { event_id: undefined }); // generated, returned to the page
    client.track({ ...purchase(2, clock.now()), event_id }, { source: 'relay' });
    await client.flush();
    const { pixels } = client.diagnostics();
    for (const stream of [PIXEL, STREAM]) {
      expect(pixels[stream]?.events.Purchase, stream).toMatchObject({
        sources: { server: 2, relay: 2 },
        overlapping: 2,
        overlap: 100,
        generatedEventIds: 1,
        confirmedEventIds: 1,
        unconfirmedEventIds: 0,
      });
    }
  });

  it('Meta alone: TrackResult and requests keep their shape', async () => {
    const { client, seen, track } = setupClient();
    const result = track(1);
    await client.flush();
    expect(result).toEqual({ event_id: 'evt-1', accepted: true, issues: [] });
    expect(seen).toHaveLength(1);
  });

  it('streamKey: Meta keeps the bare pixel id', () => {
    expect(streamKey({ name: 'meta', id: PIXEL })).toBe(PIXEL);
    expect(streamKey({ name: 'acme', id: 'A1' })).toBe(STREAM);
  });

  it('the platform naming an event in a rejection dead-letters it alone; the rest arrive', async () => {
    const { client, seen, track, hooks } = setupClient(
      route((req) => {
        const batch = (req.body as unknown as { batch: AcmeEvent[] }).batch;
        const bad = batch.findIndex((e) => e.value === 13);
        return bad >= 0
          ? Response.json({ error: 'bad value', bad, trace: 'R' }, { status: 400 })
          : acmeOk(req);
      }),
      { destinations: [acme()] },
    );
    // evt-3 carries value 13.
    for (let i = 0; i < 6; i++) track(i);
    await client.flush();
    await client.flush();
    // The batch, then the events before the named one and the two halves after it: 4 requests
    // (halving blindly would take 7).
    expect(seen.filter((r) => r.url === ACME_URL)).toHaveLength(4);
    const dead = hooks.deadLetter.filter((d) => d.pixelId === STREAM);
    expect(dead.flatMap((d) => d.events.map((e) => e.eventId))).toEqual(['evt-3']);
    expect(client.stats().pixels[STREAM]).toMatchObject({ sent: 5, deadLettered: 1 });
    expect(client.stats().pixels[PIXEL]).toMatchObject({ sent: 6, deadLettered: 0 });
    expect(accounted(client.stats().pixels[STREAM])).toBe(6);
  });

  it('an event one destination rejects is dropped and counted there only', async () => {
    const { client, seen, track, hooks } = setupClient(route(), { destinations: [acme()] });
    const refund = track(1, { custom_data: { currency: 'USD', value: -5 } });
    track(2);
    await client.flush();
    expect(refund.accepted).toBe(true);
    expect(refund.issues).toEqual([]);
    expect(refund.destinations?.[STREAM]).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(refund.destinations?.[STREAM]?.issues[0]?.code).toBe('acme_negative_value');
    expect(acmeEvents(seen).map((e) => e.id)).toEqual(['evt-2']);
    expect(seen.filter((r) => r.url !== ACME_URL).flatMap((r) => r.body.data)).toHaveLength(2);
    expect(hooks.dropped).toEqual([
      {
        reason: 'invalid',
        pixelId: STREAM,
        count: 1,
        events: [{ eventId: 'evt-1', eventName: 'Purchase' }],
      },
    ]);
    expect(hooks.error.map((e) => [e.kind, e.pixelId])).toEqual([['validation', STREAM]]);
    const stats = client.stats();
    expect(accounted(stats.pixels[STREAM])).toBe(2);
    expect(accounted(stats.pixels[PIXEL])).toBe(2);
  });

  it('a destination whose build throws is dropped (error) for that stream only', async () => {
    const { client, seen, track, hooks } = setupClient(route(), {
      destinations: [
        acme({
          build: () => {
            throw new TypeError(`bug with ${SECRET}`);
          },
        }),
      ],
    });
    const result = track(1);
    await client.flush();
    expect(result.accepted).toBe(true);
    expect(result.destinations?.[STREAM]).toMatchObject({ accepted: false, reason: 'error' });
    expect(seen.map((r) => r.url)).not.toContain(ACME_URL);
    expect(client.stats().pixels[STREAM]?.dropped.error).toBe(1);
    expect(hooks.error[0]).toMatchObject({ kind: 'internal', pixelId: STREAM });
    expect(JSON.stringify(hooks.error[0]?.error.message)).not.toContain(SECRET);
  });

  it('every stream has counted the event when a hook about it runs (a build that throws, one that rejects)', () => {
    const issue: Issue = {
      path: 'custom_data',
      code: 'acme_never',
      message: 'Acme takes nothing.',
      severity: 'error',
    };
    const { client, track } = setupClient(route(), {
      destinations: [
        acme({ id: 'A1', build: () => ({ issues: [issue] }) }),
        acme({
          id: 'A2',
          build: () => {
            throw new TypeError('bug');
          },
        }),
      ],
    });
    const inHooks: string[] = [];
    for (const hook of ['dropped', 'error'] as const) {
      client.on(hook, () => {
        const { pixels } = client.stats();
        const sums = [PIXEL, 'acme:A1', 'acme:A2'].map((key) => accounted(pixels[key]));
        inHooks.push(`${hook} ${sums.join(' ')}`);
      });
    }
    const result = track(1);
    expect(result.accepted).toBe(true);
    expect(result.destinations?.['acme:A1']).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(result.destinations?.['acme:A2']).toMatchObject({ accepted: false, reason: 'error' });
    expect(inHooks).toEqual(['dropped 1 1 1', 'error 1 1 1', 'dropped 1 1 1', 'error 1 1 1']);
  });

  it('a classifier that throws makes the answer a transient failure, retried', async () => {
    let calls = 0;
    const { client, seen, track, hooks, clock } = setupClient(route(), {
      destinations: [
        acme({
          classify: () => {
            calls++;
            if (calls === 1) throw new Error(`cannot read ${SECRET}`);
            return { class: 'success' };
          },
        }),
      ],
      retry: { baseDelayMs: 10, maxDelayMs: 10 },
    });
    track(1);
    await client.flush();
    await clock.advance(2000);
    await client.flush();
    expect(seen.filter((r) => r.url === ACME_URL)).toHaveLength(2);
    expect(hooks.retry[0]).toMatchObject({ pixelId: STREAM, reason: 'transient' });
    expect(hooks.retry[0]?.error).not.toContain(SECRET);
    expect(client.stats().pixels[STREAM]?.sent).toBe(1);
  });

  it('an auth answer opens the destination’s circuit alone; the secret is redacted everywhere', async () => {
    const { client, track, hooks, log } = setupClient(
      route(() => Response.json({ error: `token ${SECRET} revoked` }, { status: 401 })),
      { destinations: [acme()] },
    );
    track(1);
    await client.flush();
    expect(client.stats().pixels[STREAM]?.state).toBe('circuit_open');
    expect(client.stats().pixels[PIXEL]).toMatchObject({ state: 'open', sent: 1 });
    expect(log.text()).toContain('Acme refused the credentials');
    expect(log.text()).not.toContain(SECRET);
    expect(JSON.stringify(hooks)).not.toContain(SECRET);
    expect(hooks.error[0]?.error.message).toBe('Acme 401: token [redacted] revoked');
    expect(log.text()).not.toContain(TOKEN);
  });

  it('a trace id echoing the secret is redacted in log fields and hooks, failures and successes alike', async () => {
    let calls = 0;
    const { client, track, hooks, log } = setupClient(
      route((req) => {
        calls++;
        if (calls === 1) return Response.json({ trace: `echo-${SECRET}` }, { status: 503 });
        const count = (req.body as unknown as { batch: unknown[] }).batch.length;
        return Response.json({ ok: true, count, trace: `echo-${SECRET}` });
      }),
      {
        destinations: [
          acme({
            acknowledgement: (body) => ({ traceId: (body as { trace: string }).trace }),
            classify: ({ status, body }) =>
              status === 200
                ? { class: 'success' }
                : { class: 'transient', traceId: (body as { trace: string }).trace },
          }),
        ],
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
      },
    );
    track(1);
    await client.flush();
    await client.drain({ timeoutMs: 5_000 });
    expect(client.stats().pixels[STREAM]?.sent).toBe(1);
    expect(JSON.stringify(log.lines)).not.toContain(SECRET);
    expect(JSON.stringify(hooks)).not.toContain(SECRET);
    expect(hooks.sent.find((s) => s.pixelId === STREAM)?.traceId).toBe('echo-[redacted]');
  });

  it('names what matched nothing: destinations by name, or pixel ids', () => {
    const { client } = setupClient(route(), { destinations: [acme()] });
    const byName = client.track(purchase(1, Date.now()), { destinations: ['Acme'] });
    expect(byName.accepted).toBe(false);
    expect(byName.issues).toEqual([
      expect.objectContaining({
        path: 'destinations',
        code: 'unknown_destination',
        message:
          "None of the given destinations is configured on this client; their names are 'meta', 'acme'.",
      }),
    ]);
    // A lone string from JavaScript is a list of one, not a substring to search.
    const loose = client.track(purchase(2, Date.now()), { destinations: 'acme' as never });
    expect(Object.keys(loose.destinations ?? {})).toEqual([STREAM]);
    const partial = client.track(purchase(3, Date.now()), { destinations: 'acm' as never });
    expect(partial.issues[0]?.code).toBe('unknown_destination');
  });

  it('fixes one event_time for every destination when the caller gives none', async () => {
    let clock: { stepWall(ms: number): void } | undefined;
    const setup = setupClient(route(), {
      destinations: [
        acme({
          // Reads the time the way TikTok's build does (the input's, else its clock), after a
          // second has passed since Meta's build: without one fixed time the two would differ.
          build: (input, context) => {
            clock?.stepWall(1_500);
            const given = input.event_time;
            const ts = typeof given === 'number' ? given : Math.floor(context.now() / 1000);
            return {
              event: { name: String(input.event_name), id: context.eventId, ts },
              issues: [],
              eventName: String(input.event_name),
              eventTime: ts,
            };
          },
        }),
      ],
    });
    clock = setup.clock;
    setup.track(1, { event_time: undefined });
    await setup.client.flush();
    const meta = setup.seen.find((r) => r.url !== ACME_URL)?.body.data[0]?.event_time;
    expect(typeof meta).toBe('number');
    expect(acmeEvents(setup.seen)[0]?.ts).toBe(meta);
  });

  it('reads the wall clock once per tracked event, for its event_time and every check', async () => {
    for (const destinations of [[], [acme()]]) {
      const setup = setupClient(route(), { destinations });
      const wall = setup.clock.now;
      let reads = 0;
      // Each read a millisecond later: a second read would give the event another time.
      setup.clock.now = () => {
        reads++;
        setup.clock.stall(1);
        return wall();
      };
      const at = wall();
      setup.client.track(purchase(1, at, { event_time: undefined }));
      expect(reads).toBe(1);
      setup.clock.now = wall;
      await setup.client.flush();
      const meta = setup.seen.find((r) => r.url !== ACME_URL)?.body.data[0]?.event_time;
      expect(meta).toBe(Math.floor((at + 1) / 1000));
    }
  });

  it('a clock written as a class keeps its `this`: its reading is taken as a method call', async () => {
    // Before one reading per event, Meta's build got `now` detached from its clock, and a class
    // whose now() reads a field made every track() fail with a TypeError.
    class StartOfDay {
      private readonly at = Date.UTC(2026, 8, 12, 10, 0, 0);
      now(): number {
        return this.at;
      }
      setTimeout(fn: () => void, ms: number): unknown {
        const timer = setTimeout(fn, ms);
        timer.unref();
        return timer;
      }
      clearTimeout(handle: unknown): void {
        clearTimeout(handle as NodeJS.Timeout);
      }
    }
    const { client, seen } = setupClient(route(), { clock: new StartOfDay() });
    const result = client.track(
      purchase(1, Date.UTC(2026, 8, 12, 10, 0, 0), { event_time: undefined }),
    );
    expect(result.accepted).toBe(true);
    await client.flush();
    expect(seen[0]?.body.data[0]?.event_time).toBe(Date.UTC(2026, 8, 12, 10, 0, 0) / 1000);
    await client.close();
  });

  it('a call’s own dateOrder overrides the client’s, an invalid one reported', () => {
    const { client } = setupClient(route(), { buildOptions: { dateOrder: 'dmy' } });
    const event = purchase(1, Date.now(), { user_data: { em: 'a@example.com', db: '05/06/1990' } });
    expect(client.track(event).issues.map((i) => i.code)).not.toContain('invalid_date_order');
    // From JavaScript: `null` is not a DateOrder, and it is the caller's word for this event.
    const codes = client.track(event, { dateOrder: null as never }).issues.map((i) => i.code);
    expect(codes).toContain('invalid_date_order');
  });

  it('refuses destinations given to an adapter beside a shared client that does not send to them', () => {
    const { client } = setupClient(route());
    expect(() => createCapiAdapter({ client, destinations: [acme()] })).toThrow(
      'capi-kit: the shared client does not send to acme:A1; give destinations to createCapi() for that client, not to the adapter',
    );
    const withAcme = setupClient(route(), { destinations: [acme()] }).client;
    expect(() => createCapiAdapter({ client: withAcme, destinations: [acme()] })).not.toThrow();
  });

  it('the sent hook carries the destination’s acknowledgement', async () => {
    const { client, track, hooks } = setupClient(route(), { destinations: [acme()] });
    track(1);
    await client.flush();
    expect(hooks.sent.find((s) => s.pixelId === STREAM)).toMatchObject({
      count: 1,
      eventsReceived: 1,
      traceId: 'T',
    });
    expect(hooks.sent.find((s) => s.pixelId === PIXEL)).toMatchObject({ fbtraceId: 'TRACE' });
  });

  it('a destination’s limits lower the batch: at most maxEvents per request', async () => {
    const { client, seen, track } = setupClient(route(), {
      destinations: [acme({ limits: { maxEvents: 2, maxBytes: 1_000_000 } })],
    });
    for (let i = 0; i < 5; i++) track(i);
    await client.drain({ timeoutMs: 5000 });
    const sizes = seen
      .filter((r) => r.url === ACME_URL)
      .map((r) => (r.body as unknown as { batch: unknown[] }).batch.length);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.filter((r) => r.url !== ACME_URL)).toHaveLength(1);
  });

  it('one platform’s backlog cannot evict another’s events (queue bounds per stream)', () => {
    const { client, track } = setupClient(route(), {
      destinations: [acme()],
      maxQueuedEvents: 5,
      flushIntervalMs: 1_000_000,
      maxBatchEvents: 100,
    });
    for (let i = 0; i < 4; i++) track(i);
    // Acme falls behind alone: 12 more for it only.
    for (let i = 4; i < 16; i++) client.track(purchase(i, Date.now()), { destinations: ['acme'] });
    const stats = client.stats();
    expect(stats.pixels[PIXEL]).toMatchObject({ queued: 4, dropped: { overflow: 0 } });
    expect(stats.pixels[STREAM]).toMatchObject({ queued: 5, dropped: { overflow: 11 } });
    expect(accounted(stats.pixels[PIXEL])).toBe(4);
    expect(accounted(stats.pixels[STREAM])).toBe(16);
  });

  it('an adapter sharing a client reads its destinations’ request needs', async () => {
    const withNeeds = acme({
      context: { persist: [{ param: 'xclid', cookie: 'xclid', maxAgeSeconds: 60 }] },
    });
    const { client, seen } = setupClient(route(), { destinations: [withNeeds] });
    expect(client.destinations).toEqual([withNeeds]);
    const adapter = createCapiAdapter({ client });
    const request = new Request('https://shop.example/api/cart?xclid=C-9', {
      method: 'POST',
      headers: { cookie: '_fbp=fb.1.1700000000000.1', 'user-agent': 'UA/1' },
    });
    const { capi, cookiesToSet } = adapter.forRequest(request);
    expect(cookiesToSet.map((c) => `${c.name}=${c.value}`)).toEqual(['xclid=C-9']);
    expect(capi.context.destinations).toEqual({ acme: { xclid: 'C-9' } });
    capi.track('Lead', { user_data: { em: 'a@b.co' } });
    await client.flush();
    expect(acmeEvents(seen)).toHaveLength(1);
  });

  it('an adapter for a client without Meta (Acme alone) mints no _fbp; one with Meta still does', async () => {
    const withNeeds = acme({
      context: { persist: [{ param: 'xclid', cookie: 'xclid', maxAgeSeconds: 60 }] },
    });
    // A first visit's landing page: no cookie yet.
    const landing = () =>
      new Request('https://shop.example/?xclid=C-1', {
        headers: { 'sec-fetch-dest': 'document', 'user-agent': 'UA/1' },
      });
    const written = (adapter: ReturnType<typeof createCapiAdapter>) =>
      adapter.forRequest(landing()).cookiesToSet.map((c) => c.name);
    const alone = createCapi({ destinations: [withNeeds], env: false, logger: false });
    expect(Object.keys(alone.stats().pixels)).toEqual([STREAM]);
    // Own client or shared one alike: Meta's browser ID was set on every visitor.
    const own = createCapiAdapter({ destinations: [withNeeds], env: false, logger: false });
    expect(written(own)).toEqual(['xclid']);
    expect(written(createCapiAdapter({ client: alone }))).toEqual(['xclid']);
    // Asked for explicitly, it is still minted; a client with Meta mints it as before.
    expect(written(createCapiAdapter({ client: alone, generateFbp: true }))).toEqual([
      '_fbp',
      'xclid',
    ]);
    const withMeta = setupClient(route(), { destinations: [withNeeds] }).client;
    expect(written(createCapiAdapter({ client: withMeta }))).toEqual(['_fbp', 'xclid']);
    await Promise.all([alone.close(), own.client.close()]);
  });

  it('rejects a misconfigured destination with the rule, never a secret', () => {
    const make = (d: unknown) => () =>
      createCapi({
        pixelId: PIXEL,
        accessToken: TOKEN,
        env: false,
        logger: false,
        destinations: [d as Destination],
      });
    expect(make(acme({ name: 'meta' }))).toThrow(/other than 'meta'/);
    expect(make(acme({ name: 'Ac me' }))).toThrow(/\[a-z0-9_-\]/);
    expect(make(acme({ id: 'a:b' }))).toThrow(/without spaces or ':'/);
    expect(make({ ...acme(), classify: undefined })).toThrow(/classify must be a function/);
    expect(make(acme({ limits: { maxEvents: 0, maxBytes: 1 } }))).toThrow(/maxEvents ≥ 1/);
    expect(make(acme({ envelope: () => ({}) as never }))).toThrow(/url, prefix, suffix/);
    expect(make(null)).toThrow(/must be a destination object/);
  });
});

import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapi } from '../../src/delivery/client.js';
import type { Destination } from '../../src/delivery/destination.js';
import { MAX_ANSWER_BYTES } from '../../src/delivery/transport.js';
import type { CapiHookMap } from '../../src/delivery/types.js';
import { MAX_ANSWER_TEXT } from '../../src/delivery/verdict.js';
import {
  accounted,
  captureLogger,
  FakeClock,
  graphError,
  ok,
  PIXEL,
  purchase,
  setupClient,
  TOKEN,
} from './helpers.js';

// How the pipe treats answers a Graph endpoint should never give: each is retried like any answer
// that is not Meta's acknowledgement, told to the developer, and every event stays accounted for.

const mocks: MockGraph[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

/** A client against the mock Graph API over loopback HTTP, on a fake clock for the backoff. */
const againstMock = async () => {
  const clock = new FakeClock();
  const mock = await startMockGraph({ accessToken: TOKEN, now: clock.now });
  mocks.push(mock);
  const log = captureLogger();
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    clock,
    random: () => 0.5,
    logger: log.logger,
    env: false,
  });
  const warn: CapiHookMap['warn'][] = [];
  const retry: CapiHookMap['retry'][] = [];
  client.on('warn', (info) => {
    warn.push(info);
  });
  client.on('retry', (info) => {
    retry.push(info);
  });
  // Steps shorter than the request timeout, so loopback HTTP finishes in between.
  const walk = async (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      await clock.advance(250);
      await client.flush();
    }
  };
  return { mock, client, clock, log, warn, retry, walk };
};

describe('answers that are not Meta’s', () => {
  it('a 200 HTML page (graphUrl pointing at the app) is told once, at error, naming graphUrl', async () => {
    const { mock, client, clock, log, warn, retry, walk } = await againstMock();
    mock.failNext({ kind: 'non-meta-2xx', body: 'html' }, 3);
    client.track(purchase(1, clock.now()));
    client.track(purchase(2, clock.now()));
    await client.flush();
    await walk(30_000);
    expect(client.stats()).toMatchObject({ sent: 2, queued: 0, deadLettered: 0 });
    expect(retry.map((r) => r.status)).toEqual([200, 200, 200]);
    const told = log.lines.filter((l) => l.level === 'error' || l.level === 'warn');
    const about = told.filter((l) => l.msg.includes('graphUrl'));
    expect(about).toHaveLength(1);
    expect(about[0]?.level).toBe('error');
    expect(about[0]?.msg).toContain("not Meta's answer");
    expect(about[0]?.msg).toContain(mock.eventsUrl(PIXEL));
    expect(about[0]?.msg).toContain('an HTML page');
    expect(warn.map((w) => w.message)).toEqual([about[0]?.msg]);
    expect(log.text()).not.toContain(TOKEN);
    await client.close();
  });

  it('an answer body past the bound is not read, and retried', async () => {
    let cancelled = false;
    const { client, clock, hooks, log, track } = setupClient((req, i) => {
      if (i > 0) return ok(req);
      // A body that never ends (a misconfigured graphUrl streaming a file, a chunked loop).
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      const stream = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(chunk),
        cancel: () => {
          cancelled = true;
        },
      });
      return new Response(stream, { status: 200 });
    });
    track(1);
    await client.flush();
    expect(cancelled).toBe(true);
    expect(hooks.retry).toHaveLength(1);
    expect(hooks.retry[0]).toMatchObject({ status: 200, reason: 'transient' });
    expect(hooks.retry[0]?.error).toContain(`larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`);
    expect(client.stats()).toMatchObject({ sent: 0, queued: 1 });
    await clock.advance(60_000);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 1, queued: 0, deadLettered: 0 });
    expect(accounted(client.stats())).toBe(1);
    expect(log.text()).not.toContain(TOKEN);
    await client.close();
  });

  it('events_received as text ("2") is not Meta’s acknowledgement: retried, then dead-lettered', async () => {
    // Meta's answer is `{"events_received": <number>, …}` (capi.md §1, [UA] "Response"); a string
    // is some other server's JSON, and counting it as a delivery could lose the events.
    const { client, clock, hooks, track } = setupClient(
      (req) => Response.json({ events_received: String(req.body.data.length), fbtrace_id: 'T' }),
      { retry: { maxAttempts: 3 } },
    );
    track(1);
    track(2);
    for (let i = 0; i < 4; i++) {
      await client.flush();
      await clock.advance(60_000);
    }
    await client.flush();
    expect(hooks.sent).toHaveLength(0);
    expect(hooks.retry.length).toBeGreaterThan(0);
    expect(hooks.retry.every((r) => r.status === 200 && r.reason === 'transient')).toBe(true);
    expect(hooks.retry[0]?.error).toContain('events_received is not a number');
    expect(hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId)).sort()).toEqual([
      'evt-1',
      'evt-2',
    ]);
    expect(hooks.deadLetter.every((d) => d.reason === 'max_attempts')).toBe(true);
    expect(hooks.deadLetter[0]?.error.message).toContain('events_received is not a number');
    expect(client.stats()).toMatchObject({ sent: 0, queued: 0, deadLettered: 2 });
    expect(accounted(client.stats())).toBe(2);
    await client.close();
  });

  it.each([
    ['an object', (specs: unknown) => ({ blame_field_specs: specs })],
    ['JSON text', (specs: unknown) => JSON.stringify({ blame_field_specs: specs })],
  ])('names the fields Meta blames (error_data given as %s), never a value', async (_, data) => {
    // [MERR]: `error_data.blame_field_specs`, a list of field paths, each a list of segments.
    const specs = [
      ['data', 0, 'user_data', 'em'],
      ['custom_data', 'jane@example.com'],
    ];
    const { client, hooks, log, track } = setupClient(() =>
      graphError(400, 100, {
        message: 'Invalid parameter',
        error_subcode: 2804019,
        error_data: data(specs),
      }),
    );
    track(1);
    await client.flush();
    expect(hooks.deadLetter).toHaveLength(1);
    const reason = hooks.deadLetter[0]?.error.message ?? '';
    expect(reason).toContain('fields Meta blamed: data[0].user_data.em, custom_data.<hidden');
    expect(reason).not.toContain('jane@example.com');
    expect(hooks.deadLetter[0]?.error.graphError?.blameFields).toEqual([
      'data[0].user_data.em',
      'custom_data.<hidden: looks like customer information>',
    ]);
    const line = log.lines.find((l) => l.msg.includes('dead-lettered'));
    expect(line?.obj.fields).toEqual([
      'data[0].user_data.em',
      'custom_data.<hidden: looks like customer information>',
    ]);
    expect(log.text()).not.toContain('jane@example.com');
    expect(accounted(client.stats())).toBe(1);
    await client.close();
  });

  it('a redirect names where it points without its query or fragment', async () => {
    // A login or portal page's Location may carry a session, a return URL or a signed parameter.
    const location = 'https://portal.example/login?session=S3cr3tSessi0n&next=%2Fv26.0#state=abc';
    const { client, hooks, log, track } = setupClient((req, i) =>
      i > 0 ? ok(req) : new Response(null, { status: 302, headers: { location } }),
    );
    track(1);
    await client.flush();
    expect(hooks.retry[0]?.error).toContain(
      'HTTP 302 redirect to https://portal.example/login from',
    );
    const told = [...hooks.retry.map((r) => r.error), ...hooks.warn.map((w) => w.message)];
    expect(told.join(' ')).not.toMatch(/S3cr3t|session=|state=|\?/);
    expect(log.text()).not.toContain('S3cr3t');
    await client.close({ timeoutMs: 0 });
  });
});

describe('an unread answer still has its status and headers', () => {
  const page = `<html>${'x'.repeat(2 * MAX_ANSWER_BYTES)}</html>`;

  it('a 429 with a body past the bound is a throttle, its Retry-After kept', async () => {
    const { client, hooks, track } = setupClient((req, i) =>
      i > 0 ? ok(req) : new Response(page, { status: 429, headers: { 'retry-after': '30' } }),
    );
    track(1);
    await client.flush();
    expect(hooks.retry).toHaveLength(1);
    expect(hooks.retry[0]).toMatchObject({ status: 429, reason: 'throttled', delayMs: 30_000 });
    expect(hooks.retry[0]?.error).toContain('not read');
    await client.close({ timeoutMs: 0 });
  });

  it('a 413 with a body past the bound splits the batch, as any 413 does', async () => {
    const { client, seen, track } = setupClient((req, i) =>
      i > 0 ? ok(req) : new Response(page, { status: 413 }),
    );
    track(1);
    track(2);
    await client.flush();
    expect(seen.map((r) => r.body.data.length)).toEqual([2, 1, 1]);
    expect(client.stats()).toMatchObject({ sent: 2, queued: 0 });
    await client.close();
  });

  it('a 2xx with a body past the bound is never a success, whatever the destination says', async () => {
    // A destination that takes any 200 for an acknowledgement, body or none.
    const lenient: Destination<{ id: string }> = {
      name: 'lenient',
      id: 'L1',
      build: (_, context) => ({
        event: { id: context.eventId },
        issues: [],
        eventName: 'x',
        eventTime: Math.floor(context.now() / 1000),
      }),
      envelope: () => ({ url: 'https://lenient.example/collect', prefix: '{"b":[', suffix: ']}' }),
      limits: { maxEvents: 10, maxBytes: 1_000_000 },
      classify: ({ status }) => ({ class: status === 200 ? 'success' : 'transient' }),
      acknowledgement: () => ({}),
    };
    let lenientRequests = 0;
    const { client, hooks, track } = setupClient(
      (req) => {
        if (!req.url.startsWith('https://lenient.example')) return ok(req);
        return lenientRequests++ > 0 ? new Response('{}') : new Response(page, { status: 200 });
      },
      { destinations: [lenient] },
    );
    track(1);
    await client.flush();
    const ofLenient = (list: { pixelId: string }[]) => list.filter((h) => h.pixelId !== PIXEL);
    expect(ofLenient(hooks.sent)).toHaveLength(0);
    expect(ofLenient(hooks.retry)).toMatchObject([{ status: 200, reason: 'transient' }]);
    await client.close({ timeoutMs: 0 });
  });
});

describe('blamed fields', () => {
  it('a blamed field in data[i] names the event to dead-letter: no blind bisection', async () => {
    // Meta's message names no event here; only error_data.blame_field_specs does.
    const { client, seen, hooks, track } = setupClient((req) => {
      const bad = req.body.data.findIndex((e) => e.event_id === 'evt-2');
      if (bad < 0) return ok(req);
      return graphError(400, 100, {
        message: 'Invalid parameter',
        error_subcode: 2804019,
        error_data: { blame_field_specs: [['data', bad, 'event_time']] },
      });
    });
    for (let i = 1; i <= 4; i++) track(i);
    await client.flush();
    expect(hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId))).toEqual(['evt-2']);
    expect(hooks.deadLetter[0]?.error.message).toContain('fields Meta blamed: data[1].event_time');
    // The batch, then evt-1 (before it) and the halves of those after it: no request blamed blind.
    expect(seen.map((r) => r.body.data.map((e) => e.event_id))).toEqual([
      ['evt-1', 'evt-2', 'evt-3', 'evt-4'],
      ['evt-1'],
      ['evt-3'],
      ['evt-4'],
    ]);
    expect(client.stats()).toMatchObject({ sent: 3, deadLettered: 1, queued: 0 });
    expect(accounted(client.stats())).toBe(4);
    await client.close();
  });

  it('keeps the event of a blamed field whose key is hidden', async () => {
    const { client, hooks, track } = setupClient(() =>
      graphError(400, 100, {
        message: 'Invalid parameter',
        error_data: { blame_field_specs: [['data', 0, 'custom_data', 'jane@example.com']] },
      }),
    );
    track(1);
    await client.flush();
    expect(hooks.deadLetter[0]?.error.graphError?.blameFields).toEqual([
      'data[0].custom_data.<hidden: looks like customer information>',
    ]);
    await client.close();
  });
});

describe('answer text', () => {
  it('a megabyte of error message is clipped before it reaches hooks, logs and dead letters', async () => {
    const url = 'https://shop.example.com/checkout?order=PII0123456789';
    // The sent value straddles the clip: no prefix of it may be left behind.
    const message = `Invalid parameter ${'x'.repeat(MAX_ANSWER_TEXT - 66)} ${url} ${'y '.repeat(500_000)}`;
    const { client, hooks, log, track } = setupClient(() =>
      graphError(400, 100, { message, error_subcode: 2804019 }),
    );
    track(1, { event_source_url: url });
    await client.flush();
    expect(hooks.deadLetter).toHaveLength(1);
    const reason = hooks.deadLetter[0]?.error.message ?? '';
    expect(reason.slice(0, 50)).toBe('HTTP 400 code 100/2804019: Invalid parameter xxxxx');
    expect(reason.length).toBeLessThan(MAX_ANSWER_TEXT + 200);
    expect(reason).toContain('more characters not shown');
    expect(reason).not.toContain('shop.example');
    expect(hooks.deadLetter[0]?.error.graphError?.message?.length).toBeLessThan(
      MAX_ANSWER_TEXT + 100,
    );
    expect(log.text().length).toBeLessThan(20_000);
    await client.close();
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapi } from '../../src/delivery/client.js';
import {
  accounted,
  graphError,
  ok,
  PIXEL,
  type SeenRequest,
  setupClient,
  TOKEN,
} from './helpers.js';

/** Meta's answer to a batch holding bad events: 400/100, naming the first one when `named`. */
const rejecting =
  (bad: (eventId: string) => boolean, named: boolean) =>
  (req: SeenRequest): Response => {
    const index = req.body.data.findIndex((e) => bad(e.event_id));
    if (index === -1) return ok(req);
    return graphError(400, 100, {
      error_subcode: 2804019,
      message: 'Invalid parameter',
      error_user_msg: named
        ? `The parameter $['data'][${index}]['custom_data']['currency'] is required.`
        : 'One or more events are invalid.',
    });
  };

const everyTenth = (eventId: string) => Number(eventId.slice(4)) % 10 === 3;
const log2ceil = (x: number) => Math.ceil(Math.log2(x));

const runBatch = async (bad: (eventId: string) => boolean, named: boolean, n = 1000) => {
  const { client, seen, hooks, track } = setupClient(rejecting(bad, named), { maxConcurrency: 4 });
  for (let i = 0; i < n; i++) track(i);
  await client.flush();
  const k = Array.from({ length: n }, (_, i) => `evt-${i}`).filter(bad).length;
  const blamed = hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId));
  const stats = client.stats();
  await client.close();
  return { k, requests: seen.length, blamed, stats, blamedAll: blamed.every(bad) };
};

describe('bisection of rejected batches: bounded and complete', () => {
  it.each([
    ['10 % bad, Meta names the event', everyTenth, true],
    ['10 % bad, Meta names nothing', everyTenth, false],
    ['all bad, Meta names the event', () => true, true],
    ['all bad, Meta names nothing', () => true, false],
    ['one bad, Meta names nothing', (id: string) => id === 'evt-617', false],
  ] as const)(
    '%s: every good event delivered, every bad one dead-lettered, requests bounded',
    async (_, bad, named) => {
      const n = 1000;
      const { k, requests, blamed, stats, blamedAll } = await runBatch(bad, named, n);
      expect(blamed).toHaveLength(k);
      expect(blamedAll).toBe(true);
      expect(stats).toMatchObject({ sent: n - k, deadLettered: k, queued: 0, inFlight: 0 });
      // A plain halving never needs more than 2n − 1 requests for a batch of n.
      expect(requests).toBeLessThanOrEqual(2 * n - 1);
      if (named) {
        // Each named event costs at most three follow-up requests, and no event two.
        expect(requests).toBeLessThanOrEqual(Math.min(n, 3 * k + 1));
      } else if (k < n) {
        expect(requests).toBeLessThanOrEqual(2 * k * log2ceil(n / k) + 2 * k + 1);
      }
      console.log(`bisection: n ${n}, bad ${k}, named ${named}: ${requests} requests`);
    },
  );

  it('sends the parts of a rejected batch at once, in the free slots', async () => {
    let inFlight = 0;
    let most = 0;
    const answer = rejecting(everyTenth, false);
    const { client, track } = setupClient(
      async (req) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return answer(req);
      },
      { maxConcurrency: 4 },
    );
    for (let i = 0; i < 200; i++) track(i);
    await client.flush();
    expect(most).toBe(4);
    expect(client.stats()).toMatchObject({ sent: 180, deadLettered: 20, queued: 0 });
    await client.close();
  });

  it('a rejection of the whole request (HTML 400, then 2635) is retried, never bisected', async () => {
    const { client, clock, seen, hooks, track } = setupClient((req, i) => {
      if (i === 0) return new Response('<html>Bad Request</html>', { status: 400 });
      if (i === 1)
        return graphError(400, 2635, { message: 'You are calling a deprecated version' });
      return ok(req);
    });
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    await clock.advance(1000);
    await client.flush();
    await clock.advance(2000);
    await client.flush();
    expect(hooks.deadLetter).toHaveLength(0);
    expect(client.stats()).toMatchObject({ sent: 100, deadLettered: 0, queued: 0 });
    // The original, the HTML answer's probe (2635), then the recovery: no halves anywhere.
    expect(seen.slice(0, 2).map((r) => r.body.data.length)).toEqual([100, 1]);
    expect(hooks.retry.map((r) => r.status)).toEqual([400, 400]);
    await client.close();
  });

  it('a transient failure while parts wait: the next part goes out as the one-event probe', async () => {
    const answer = rejecting((id) => id === 'evt-10', false);
    const { client, clock, seen, track } = setupClient(
      (req, i) => (i === 1 ? graphError(502, 2) : answer(req)),
      { maxConcurrency: 1 },
    );
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    await clock.advance(1000);
    await client.flush();
    // The batch, its first half (502), then a probe of one event, as after any transient failure:
    // not the other half's 50 events to an endpoint that just failed.
    expect(seen.slice(0, 3).map((r) => r.body.data.length)).toEqual([100, 50, 1]);
    for (let t = 0; t < 60 && client.stats().queued > 0; t++) {
      await clock.advance(1000);
      await client.flush();
    }
    expect(client.stats()).toMatchObject({ sent: 99, deadLettered: 1, queued: 0 });
    await client.close();
  });

  it('a throttle while parts wait hands them back to the queue unattempted', async () => {
    let throttled = false;
    const answer = rejecting((id) => id === 'evt-10', false);
    const { client, clock, track } = setupClient(
      (req, i) => {
        if (i === 1 && !throttled) {
          throttled = true;
          return graphError(400, 4, {}, { 'retry-after': '1' });
        }
        return answer(req);
      },
      { maxConcurrency: 1 },
    );
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    const paused = client.stats();
    expect(paused.queued + paused.sent + paused.deadLettered).toBe(100);
    await clock.advance(1000);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 99, deadLettered: 1, queued: 0 });
    await client.close();
  });

  it('every event rejected: one log line per kind every 10 s, not one per event; each counted', async () => {
    const { client, clock, seen, hooks, log, track } = setupClient(
      rejecting(() => true, true),
      {
        maxConcurrency: 4,
      },
    );
    for (let i = 0; i < 500; i++) track(i);
    await client.flush();
    const deadLetterLines = () => log.lines.filter((l) => /dead-lettered/.test(l.msg));
    expect(seen.length).toBeGreaterThanOrEqual(500); // bisection named them one by one
    expect(hooks.deadLetter.reduce((n, d) => n + d.count, 0)).toBe(500);
    expect(client.stats()).toMatchObject({ deadLettered: 500, queued: 0, inFlight: 0 });
    expect(deadLetterLines()).toHaveLength(1);
    expect(deadLetterLines()[0]?.msg).toMatch(/logged at most every 10 s/);
    // The next line of the kind, 10 s on, says how many went unlogged meanwhile.
    await clock.advance(10_000);
    track(500);
    await client.flush();
    expect(deadLetterLines()).toHaveLength(2);
    expect(deadLetterLines()[1]?.obj).toMatchObject({ unlogged: 499, count: 1, code: 100 });
    expect(deadLetterLines()[1]?.msg).toMatch(/499 more for the same reason since the last line/);
    expect(accounted(client.stats())).toBe(501);
    await client.close();
  });

  it('close() during bisection accounts for the waiting parts as dropped (shutdown)', async () => {
    const answer = rejecting(everyTenth, false);
    let answered = 0;
    const { client, clock, track } = setupClient(
      (req) =>
        new Promise<Response>((resolve) =>
          setTimeout(() => {
            answered++;
            resolve(answer(req));
          }, 5),
        ),
      { maxConcurrency: 1 },
    );
    for (let i = 0; i < 200; i++) track(i);
    void client.flush();
    while (answered < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    const closing = client.close({ timeoutMs: 100 });
    await clock.advance(100);
    await closing;
    const s = client.stats();
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    expect(s.dropped.shutdown).toBeGreaterThan(0);
    expect(s.queued + s.inFlight).toBe(0);
    expect(s.sent + s.deadLettered + dropped).toBe(200);
  });
});

describe('only Meta answers count: redirects are not followed', () => {
  const servers: Server[] = [];
  const listen = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('a 302 to another origin is a failure naming graphUrl; nothing reaches the other origin', async () => {
    let elsewhere = 0;
    const other = await listen((req, res) => {
      elsewhere++;
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ events_received: 10 }));
    });
    let redirecting = true;
    const graph = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (redirecting) {
          res.writeHead(302, { location: `${other}/v26.0/${PIXEL}/events` });
          res.end();
          return;
        }
        const { data } = JSON.parse(Buffer.concat(chunks).toString()) as { data: unknown[] };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ events_received: data.length, fbtrace_id: 'T' }));
      });
    });
    const retries: string[] = [];
    const client = createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      graphUrl: graph,
      env: false,
      retry: { baseDelayMs: 20, maxDelayMs: 20 },
    });
    client.on('retry', (info) => retries.push(info.error));
    for (let i = 0; i < 10; i++) {
      client.track({
        event_name: 'Lead',
        action_source: 'website',
        event_source_url: 'https://shop.example.com/',
        user_data: { client_ip_address: '203.0.113.7', client_user_agent: 'UA' },
      });
    }
    await client.flush();
    expect(client.stats().sent).toBe(0);
    expect(elsewhere).toBe(0);
    expect(retries[0]).toContain(`HTTP 302 redirect to ${other}`);
    expect(retries[0]).toContain(`from ${graph}/v26.0/${PIXEL}/events`);
    expect(retries.join(' ')).not.toContain(TOKEN);
    redirecting = false;
    await client.close({ timeoutMs: 5000 });
    expect(client.stats()).toMatchObject({ sent: 10, queued: 0 });
    expect(elsewhere).toBe(0);
  });
});

import { type CapiClient, type CapiOptions, createCapi, type PixelStats } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { tiktok } from '@capi-kit/tiktok';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SqliteOutbox, sqliteOutbox } from '../src/index.js';
import { leadEvent, sleep, tempDir } from './helpers.js';

// Issue 23: one SQLite file holding two streams, Meta's (the bare pixel id) and TikTok's
// (`tiktok:<code>`). The file's bounds are per stream, so one platform's backlog cannot evict the
// other's events; both streams survive a restart; an outage of one delays only that one.

const TOKEN = 'EAAtest-token-0123456789';
const TT_TOKEN = 'tt-secret-token-9876543210';
const PIXEL = '1234567890';
const CODE = 'C4ABCDEFGHIJ';
const STREAM = `tiktok:${CODE}`;
let mock: MockGraph;
let temp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, tiktokAccessToken: TT_TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  temp = tempDir();
});
afterEach(() => temp.cleanup());

const client = (outbox: SqliteOutbox, extra: Partial<CapiOptions> = {}) =>
  createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: false,
    outbox,
    destinations: [tiktok({ pixelCode: CODE, accessToken: TT_TOKEN, apiUrl: mock.tiktok.url })],
    flushIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });

const waitFor = async (done: () => boolean, timeoutMs = 5000) => {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(10);
  }
};

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
const accounted = (p: PixelStats | undefined) =>
  p ? p.sent + p.queued + p.inFlight + p.deadLettered + sum(p.dropped) : 0;

/** `sent + queued + inFlight + deadLettered + Σ dropped = tracked`, for each stream. */
const expectIdentity = (capi: CapiClient, tracked: Record<string, number>) => {
  const { pixels } = capi.stats();
  for (const [stream, n] of Object.entries(tracked)) expect(accounted(pixels[stream])).toBe(n);
};

const metaIds = () => mock.uniqueEventIds().sort();
const tiktokIds = () =>
  [...new Set(mock.tiktok.events().map((e) => String(e.event.event_id)))].sort();

describe('sqliteOutbox with Meta and a TikTok destination', () => {
  it("bounds are per stream: TikTok's backlog evicts only TikTok's oldest, never Meta's waiting events", async () => {
    mock.outage(503);
    mock.tiktok.outage(503);
    const outbox = sqliteOutbox({ path: temp.file(), maxEvents: 10 });
    const capi = client(outbox, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) capi.track(leadEvent(i));
    // A burst for TikTok alone: three times its bound.
    for (let i = 5; i < 35; i++) capi.track(leadEvent(i), { destinations: ['tiktok'] });
    // Nothing was sent yet (no flush before the interval): every record is waiting, so evictable.
    const stats = capi.stats();
    expect(stats.pixels[PIXEL]).toMatchObject({ dropped: { overflow: 0 } });
    expect(stats.pixels[STREAM]?.dropped.overflow).toBe(25);
    expect(outbox.stats().pixels[PIXEL]?.queued).toBe(5);
    expect(outbox.stats().pixels[STREAM]?.queued).toBe(10);
    expectIdentity(capi, { [PIXEL]: 5, [STREAM]: 35 });

    // The same the other way round: Meta's burst evicts only Meta's oldest.
    for (let i = 35; i < 60; i++) capi.track(leadEvent(i), { destinations: ['meta'] });
    expect(capi.stats().pixels[PIXEL]?.dropped.overflow).toBe(20);
    expect(capi.stats().pixels[STREAM]?.dropped.overflow).toBe(25);
    expect(outbox.stats().pixels[STREAM]?.queued).toBe(10);
    expectIdentity(capi, { [PIXEL]: 30, [STREAM]: 35 });

    mock.recover();
    mock.tiktok.recover();
    await capi.flush();
    await mock.waitForEvents(10);
    await mock.tiktok.waitForEvents(10);
    await waitFor(() => outbox.stats().queued + outbox.stats().leased === 0);
    // What is kept is each stream's newest.
    expect(tiktokIds()).toEqual(Array.from({ length: 10 }, (_, i) => `lead-${25 + i}`).sort());
    expect(metaIds()).toEqual(Array.from({ length: 10 }, (_, i) => `lead-${50 + i}`).sort());
    expectIdentity(capi, { [PIXEL]: 30, [STREAM]: 35 });
    await capi.close();
  });

  it("both streams' records survive a restart and the next client delivers each to its platform, one event_id", async () => {
    mock.outage(503);
    mock.tiktok.outage(503);
    const path = temp.file();
    const first = client(sqliteOutbox({ path }));
    for (let i = 0; i < 40; i++) first.track(leadEvent(i));
    await first.flush();
    await first.close({ timeoutMs: 100 });
    expect(first.stats().dropped.shutdown).toBe(0);
    expectIdentity(first, { [PIXEL]: 40, [STREAM]: 40 });
    expect(mock.events()).toHaveLength(0);
    expect(mock.tiktok.events()).toHaveLength(0);

    // A request close() aborted may still reach the mock: let it meet the outage, not a recovery.
    await sleep(500);
    mock.recover();
    mock.tiktok.recover();
    const outbox = sqliteOutbox({ path });
    expect(outbox.stats().pixels[PIXEL]?.queued).toBe(40);
    expect(outbox.stats().pixels[STREAM]?.queued).toBe(40);
    const second = client(outbox);
    await mock.waitForEvents(40);
    await mock.tiktok.waitForEvents(40);
    await waitFor(() => outbox.stats().queued + outbox.stats().leased === 0);
    expectIdentity(second, { [PIXEL]: 40, [STREAM]: 40 });
    await second.close();
    expect(metaIds()).toEqual(Array.from({ length: 40 }, (_, i) => `lead-${i}`).sort());
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    // Refused only by the outage, never for what was sent.
    expect(mock.tiktok.rejections().every((r) => r.status === 503)).toBe(true);
  });

  it("a TikTok outage leaves Meta's delivery alone; TikTok's events wait in the file, across a restart, and all arrive after it", async () => {
    mock.tiktok.outage(503);
    const path = temp.file();
    const outbox = sqliteOutbox({ path });
    const first = client(outbox);
    for (let i = 0; i < 50; i++) first.track(leadEvent(i));
    await mock.waitForEvents(50, { timeoutMs: 3000 });
    await waitFor(() => mock.tiktok.rejections().length > 0);
    expect(mock.tiktok.events()).toHaveLength(0);
    // Queued and leased (in flight): the mock holds a batch before its answer reaches the client,
    // and a leased batch is no longer queued (a loaded CI run read `sent` 0 between the two).
    await waitFor(() => {
      const meta = outbox.stats().pixels[PIXEL];
      return meta !== undefined && meta.queued + meta.leased === 0;
    });
    expect(first.stats().pixels[PIXEL]?.sent).toBe(50);
    expectIdentity(first, { [PIXEL]: 50, [STREAM]: 50 });
    await first.close({ timeoutMs: 100 });
    expect(first.stats().pixels[STREAM]?.dropped.shutdown).toBe(0);

    // Only TikTok's are left in the file: Meta acknowledged its own.
    await sleep(500);
    const reopened = sqliteOutbox({ path });
    expect(reopened.stats().pixels[PIXEL]?.queued ?? 0).toBe(0);
    expect(reopened.stats().pixels[STREAM]?.queued).toBe(50);
    mock.tiktok.recover();
    const second = client(reopened);
    await mock.tiktok.waitForEvents(50);
    await waitFor(() => reopened.stats().queued + reopened.stats().leased === 0);
    await second.close();
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
  });

  it("a Meta outage leaves TikTok's delivery alone, and Meta gets every event after it", async () => {
    mock.outage(503);
    const outbox = sqliteOutbox({ path: temp.file() });
    const capi = client(outbox);
    for (let i = 0; i < 50; i++) capi.track(leadEvent(i));
    await mock.tiktok.waitForEvents(50, { timeoutMs: 3000 });
    expect(mock.events()).toHaveLength(0);
    const held = outbox.stats().pixels[PIXEL];
    expect((held?.queued ?? 0) + (held?.leased ?? 0)).toBe(50);
    expect(capi.stats().pixels[PIXEL]?.sent).toBe(0);
    mock.recover();
    await mock.waitForEvents(50);
    await waitFor(() => outbox.stats().queued + outbox.stats().leased === 0);
    expectIdentity(capi, { [PIXEL]: 50, [STREAM]: 50 });
    await capi.close();
    expect(metaIds()).toEqual(tiktokIds());
    expect(mock.duplicates()).toEqual([]);
  });

  it("dead-letters an event TikTok rejects under TikTok's stream, with TikTok's message and never its token", async () => {
    const outbox = sqliteOutbox({ path: temp.file() });
    const capi = client(outbox);
    mock.tiktok.failNext({ kind: 'tiktok', code: 40002 });
    capi.track(leadEvent(7));
    await mock.waitForEvents(1);
    await waitFor(() => outbox.stats().deadLetters === 1);
    const [letter] = outbox.deadLetters();
    expect(letter).toMatchObject({ pixelId: STREAM, eventId: 'lead-7' });
    expect(letter?.error).toContain('TikTok code 40002');
    expect(letter?.error).not.toContain(TT_TOKEN);
    expect(capi.stats().pixels[STREAM]?.deadLettered).toBe(1);
    expect(capi.stats().pixels[PIXEL]?.sent).toBe(1);
    expect(outbox.retryDeadLetters()).toBe(1);
    await mock.tiktok.waitForEvents(1);
    expect(tiktokIds()).toEqual(['lead-7']);
    await capi.close();
  });
});

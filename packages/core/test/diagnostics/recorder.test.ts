import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  freshnessIndex,
  freshnessValue,
  histogramPercentile,
} from '../../src/diagnostics/freshness.js';
import {
  createDiagnosticsRecorder,
  type DiagnosticsEventSample,
  estimateMatchQuality,
  MATCH_KEY_WEIGHTS,
  MATCH_KEYS,
  OTHER_EVENT_NAME,
} from '../../src/index.js';

const T0 = Date.UTC(2026, 8, 12, 10, 0, 0);
const H = 'a'.repeat(64);
const FULL = {
  em: [H],
  ph: [H],
  client_ip_address: '2001:db8::1',
  client_user_agent: 'UA',
  fbc: 'fb.1.1.x',
  fbp: 'fb.1.1.2',
  external_id: [H],
  fn: [H],
  ln: [H],
  db: [H],
  ge: [H],
  ct: [H],
  st: [H],
  zp: [H],
  country: [H],
};

const sample = (over: Partial<DiagnosticsEventSample> = {}): DiagnosticsEventSample => ({
  pixelIds: ['1'],
  eventName: 'Purchase',
  eventId: `id-${Math.random()}`,
  userData: { em: [H] },
  callerEventId: false,
  source: 'server',
  ...over,
});

describe('event names that are Object.prototype keys', () => {
  it('reports an event named __proto__ or constructor under its own name', () => {
    const recorder = createDiagnosticsRecorder();
    for (const eventName of ['__proto__', 'constructor', 'Lead']) {
      recorder.recordEvent(sample({ eventName }), T0);
    }
    const { events } = recorder.report(T0).pixels['1'] ?? { events: {} };
    expect(Object.keys(events)).toEqual(['Lead', '__proto__', 'constructor']);
    expect(Object.hasOwn(events, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(events)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(events, '__proto__')?.value.events).toBe(1);
    expect(Object.getOwnPropertyDescriptor(events, 'constructor')?.value.events).toBe(1);
  });
});

describe('match-quality estimate', () => {
  it('weights sum to 10 with the IP + user agent pair', () => {
    const sum = Object.values(MATCH_KEY_WEIGHTS).reduce((a, b) => a + b, 0);
    expect(sum + 150).toBe(1000);
    expect(estimateMatchQuality(FULL)).toBe(10);
    expect(estimateMatchQuality({})).toBe(0);
  });

  it.each([
    [{ em: [H] }, 3],
    [{ ph: [H] }, 2],
    [{ client_ip_address: 'ip', client_user_agent: 'ua' }, 1.5],
    [{ client_ip_address: 'ip' }, 0.5],
    [{ client_user_agent: 'ua' }, 0.5],
    [{ em: [H], ph: [H], client_ip_address: 'ip', client_user_agent: 'ua', fbp: 'f' }, 7.25],
    [{ fbc: 'c', fbp: 'p', external_id: [H] }, 2.5],
    [{ fn: [H], ln: [H], ct: [H], st: [H], zp: [H], country: [H], db: [H], ge: [H] }, 1],
  ])('%j scores %d', (userData, score) => {
    expect(estimateMatchQuality(userData)).toBe(score);
  });

  it.each([
    '10.0.0.7',
    '127.0.0.1',
    '192.168.1.20',
    '172.16.4.5',
    '172.31.255.1',
    '169.254.10.1',
    '::1',
    'fc00::1',
    'FD12:3456::1',
    'fe80::1',
    '10.0.0.7.AQYBAQIA',
  ])(
    'an internal client_ip_address (%s) matches no one: not counted, the user agent alone is',
    (ip) => {
      expect(estimateMatchQuality({ client_ip_address: ip, client_user_agent: 'ua' })).toBe(0.5);
    },
  );

  it.each(['100.64.0.1', '172.15.0.1', '172.32.0.1', '192.169.0.1', '2001:db8::1', 'fd::1'])(
    'a public client_ip_address (%s) is counted',
    (ip) => {
      expect(estimateMatchQuality({ client_ip_address: ip, client_user_agent: 'ua' })).toBe(1.5);
    },
  );

  it('ignores empty values and keys it does not count', () => {
    expect(estimateMatchQuality({ em: [], ph: '', fn: null, lead_id: 12, madid: 'x' })).toBe(0);
  });

  it("never counts a key an object's prototype knows (toString, constructor) as a match key", () => {
    // Looked up on a plain object, these found Object.prototype's functions: scored as the email.
    expect(estimateMatchQuality({ constructor: 'x' })).toBe(0);
    expect(estimateMatchQuality({ toString: 'x', fbp: 'p' })).toBe(0.75);
    expect(estimateMatchQuality(JSON.parse('{"__proto__": "x", "hasOwnProperty": 1}'))).toBe(0);
  });
});

describe('freshness grid', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [1, 1],
    [1.2, 2],
    [60, 60],
    [61, 120],
    [125, 180],
    [3600, 3600],
    [3601, 7200],
    [86_400, 86_400],
  ])('%d s rounds up to %d s', (seconds, value) => {
    expect(freshnessValue(freshnessIndex(seconds))).toBe(value);
  });

  it('takes nearest-rank percentiles', () => {
    const h = new Map<number, number>();
    for (const s of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 600]) {
      h.set(freshnessIndex(s), (h.get(freshnessIndex(s)) ?? 0) + 1);
    }
    expect(histogramPercentile(h, 50)).toBe(10);
    expect(histogramPercentile(h, 95)).toBe(19);
    expect(histogramPercentile(h, 100)).toBe(600);
    expect(histogramPercentile(new Map(), 50)).toBeNull();
  });
});

describe('createDiagnosticsRecorder', () => {
  it('reports exact figures for scripted traffic', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    // 4 purchases: full keys + caller id, em only, em+ip+ua, nothing countable.
    r.recordEvent(sample({ userData: FULL, callerEventId: true, eventId: 'o-1' }), T0);
    r.recordEvent(sample({ userData: { em: [H] } }), T0 + 1000);
    r.recordEvent(
      sample({
        userData: { em: [H], client_ip_address: 'i', client_user_agent: 'u' },
        callerEventId: true,
      }),
      T0 + 2000,
    );
    r.recordEvent(sample({ userData: { lead_id: 1 } }), T0 + 3000);
    r.recordEvent(sample({ eventName: 'Lead', userData: { ph: [H] } }), T0 + 4000);

    const report = r.report(T0 + 4000);
    const purchase = report.pixels['1']?.events.Purchase;
    expect(purchase?.events).toBe(4);
    // (10 + 3 + 4.5 + 0) / 4 = 4.375 → 4.4
    expect(purchase?.matchQuality).toBe(4.4);
    expect(purchase?.matchKeyCoverage.em).toBe(75);
    expect(purchase?.matchKeyCoverage.client_ip_address).toBe(50);
    expect(purchase?.matchKeyCoverage.fbc).toBe(25);
    expect(purchase?.matchKeyCoverage.ph).toBe(25);
    expect(purchase?.withEventId).toBe(2);
    // Two generated ids nobody confirmed: unknown, so the coverage is over the two known ones.
    expect(purchase?.generatedEventIds).toBe(2);
    expect(purchase?.unconfirmedEventIds).toBe(2);
    expect(purchase?.dedupKeyCoverage).toBe(100);
    expect(purchase?.sources).toEqual({ server: 4, relay: 0 });
    expect(purchase?.overlap).toBeNull();
    expect(purchase?.freshness).toEqual({ acknowledged: 0, p50Seconds: null, p95Seconds: null });
    expect(Object.keys(purchase?.matchKeyCoverage ?? {})).toEqual([...MATCH_KEYS]);

    const total = report.pixels['1']?.total;
    expect(total?.events).toBe(5);
    // (10 + 3 + 4.5 + 0 + 2) / 5 = 3.9
    expect(total?.matchQuality).toBe(3.9);
    expect(total?.dedupKeyCoverage).toBe(100);
    expect(total?.unconfirmedEventIds).toBe(3);
    expect(report.pixels['1']?.events.Lead?.matchQuality).toBe(2);
    expect(report.windowMs).toBe(60_000);
    expect(report.from).toBe(T0 + 5000 - 60_000);
  });

  it('measures browser/server overlap relative to the smaller source', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    // 10 server events with order ids, 4 relayed browser events: 3 share an id, 1 does not.
    for (let i = 0; i < 10; i++) {
      r.recordEvent(sample({ eventId: `o-${i}`, callerEventId: true }), T0 + i);
    }
    for (const id of ['o-1', 'o-2', 'o-3', 'b-9']) {
      r.recordEvent(sample({ eventId: id, callerEventId: true, source: 'relay' }), T0 + 100);
    }
    // The same id under another event name is not an overlap (Meta dedups on name + id).
    r.recordEvent(
      sample({ eventName: 'Lead', eventId: 'o-4', callerEventId: true, source: 'relay' }),
      T0 + 200,
    );
    // A repeat from the same source is not an overlap either.
    r.recordEvent(sample({ eventId: 'o-1', callerEventId: true, source: 'relay' }), T0 + 300);
    const p = r.report(T0 + 300).pixels['1']?.events.Purchase;
    expect(p?.sources).toEqual({ server: 10, relay: 5 });
    expect(p?.repeats).toEqual({ server: 0, relay: 1 });
    expect(p?.overlapping).toBe(3);
    expect(p?.overlap).toBe(75); // 3 of the 4 distinct relayed ids
    expect(r.report(T0 + 300).pixels['1']?.events.Lead?.overlap).toBeNull();
  });

  it('counts an overlap on each pixel whose own Pixel sent the browser copy, in either order', () => {
    // Two pixels on one page (two createPixel): the server sends each order to both, the page
    // fires each Pixel with the order id and the relay forwards each copy to its own pixel.
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay();
    const server = (id: string) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true, pixelIds: ['1', '2'] }), T0);
    const relay = (id: string, pixelId: string) =>
      r.recordEvent(
        sample({ eventId: id, callerEventId: true, source: 'relay', pixelIds: [pixelId] }),
        T0,
      );
    server('o-1');
    relay('o-1', '1');
    relay('o-1', '2'); // pixel 2's own pair: the id had a relay copy already, on pixel 1
    relay('o-2', '2');
    relay('o-2', '1');
    server('o-2');
    // A browser copy on pixel 2 only: pixel 1 never had one of o-3.
    relay('o-3', '2');
    server('o-3');
    const figures = (pixelId: string) => r.report(T0).pixels[pixelId]?.events.Purchase;
    expect(figures('1')).toMatchObject({ sources: { server: 3, relay: 2 }, overlapping: 2 });
    expect(figures('1')?.overlap).toBe(100);
    expect(figures('2')).toMatchObject({ sources: { server: 3, relay: 3 }, overlapping: 3 });
    expect(figures('2')?.overlap).toBe(100);
  });

  it('counts a repeated copy once in the overlap (a reloaded thank-you page, a retried call)', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay();
    const server = (id: string) => r.recordEvent(sample({ eventId: id, callerEventId: true }), T0);
    const relay = (id: string) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true, source: 'relay' }), T0);
    // Four orders from the server; the browser saw two of them, each page reloaded once (the
    // Pixel fires again with the same order id, which Meta keeps once).
    for (const id of ['o-1', 'o-2', 'o-3', 'o-4']) server(id);
    for (const id of ['o-1', 'o-1', 'o-2', 'o-2']) relay(id);
    server('o-1'); // and the app tracked one order twice (a retried webhook)
    const purchase = r.report(T0).pixels['1']?.events.Purchase;
    expect(purchase).toMatchObject({
      sources: { server: 5, relay: 4 },
      repeats: { server: 1, relay: 2 },
      overlapping: 2,
    });
    // Every id the browser sent also came from the server.
    expect(purchase?.overlap).toBe(100);
  });

  it('forgets the oldest remembered ids beyond overlapCapacity', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, overlapCapacity: 2 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    for (const id of ['a', 'b', 'c'])
      r.recordEvent(sample({ eventId: id, callerEventId: true }), T0);
    // 'a' was forgotten when 'c' arrived; the relayed 'a' is new (and pushes out 'b'), 'c' overlaps.
    r.recordEvent(sample({ eventId: 'a', callerEventId: true, source: 'relay' }), T0);
    r.recordEvent(sample({ eventId: 'c', callerEventId: true, source: 'relay' }), T0);
    expect(r.report(T0).pixels['1']?.events.Purchase?.overlapping).toBe(1);
  });

  it('remembers no event_id longer than a relayed event may carry: it could never be paired', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, overlapCapacity: 2 });
    r.attachRelay();
    r.recordEvent(sample({ eventId: 'a', callerEventId: true }), T0);
    // An app passing a request's ids through: these must not push 'a' out of the set.
    for (const fill of ['x', 'y', 'z'])
      r.recordEvent(sample({ eventId: fill.repeat(257), callerEventId: true }), T0);
    r.recordEvent(sample({ eventId: 'a', callerEventId: true, source: 'relay' }), T0);
    const purchase = r.report(T0).pixels['1']?.events.Purchase;
    expect(purchase?.sources).toEqual({ server: 4, relay: 1 });
    expect(purchase?.overlapping).toBe(1);
  });

  it('remembers no event_id until a relay feeds it (no browser copy could ever be paired)', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    const server = (id: string) => r.recordEvent(sample({ eventId: id, callerEventId: true }), T0);
    const relay = (id: string) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true, source: 'relay' }), T0);
    server('a');
    relay('a'); // the first relay event: from here on ids are remembered (this one included)
    server('b');
    relay('b');
    server('a'); // the relayed 'a' was remembered
    const purchase = r.report(T0).pixels['1']?.events.Purchase;
    expect(purchase?.sources).toEqual({ server: 3, relay: 2 });
    expect(purchase?.overlapping).toBe(2); // b, and a's second server copy; not the first pair
  });

  it('keeps the newest overlapCapacity ids through expiry and wrap-around', () => {
    // Capacity 5; ids expire a bucket (5 s of this 60 s window) at a time, the oldest first.
    const r = createDiagnosticsRecorder({ windowMs: 60_000, overlapCapacity: 5 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    const server = (id: string, at: number) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true }), at);
    const relay = (id: string, at: number) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true, source: 'relay' }), at);
    server('a', T0);
    server('b', T0);
    server('c', T0 + 30_000);
    // a and b leave the window with their bucket; c stays. Then d…h: h pushes out c.
    for (const id of ['d', 'e', 'f', 'g', 'h']) server(id, T0 + 61_000);
    // (Relayed ids are remembered too: the ones that overlap are relayed first.)
    for (const id of ['d', 'h', 'a', 'c']) relay(id, T0 + 62_000);
    const overlapping = () => r.report(T0 + 62_000).pixels['1']?.events.Purchase?.overlapping;
    expect(overlapping()).toBe(2); // d and h
    // Everything expires; the set starts over and wraps again without losing the newest ids.
    for (let i = 0; i < 12; i++) server(`n${i}`, T0 + 200_000);
    for (const id of ['n7', 'n11', 'n6', 'd']) relay(id, T0 + 200_000);
    // n7 and n11 are among the 5 newest (n7…n11) when relayed; n6 was pushed out, d expired.
    expect(r.report(T0 + 200_000).pixels['1']?.events.Purchase?.overlapping).toBe(2);
  });

  it('computes freshness percentiles from acknowledgements', () => {
    const r = createDiagnosticsRecorder({ windowMs: 3_600_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    const ackMs = T0 + 10_000;
    const eventTime = (delay: number) => Math.floor(ackMs / 1000) - delay;
    const delays = [...Array.from({ length: 18 }, (_, i) => i + 1), 1800, 7200];
    r.recordAcknowledged(
      '1',
      delays.map((d) => ({ eventName: 'Purchase', eventTime: eventTime(d) })),
      ackMs,
    );
    const f = r.report(ackMs).pixels['1']?.events.Purchase?.freshness;
    expect(f).toEqual({ acknowledged: 20, p50Seconds: 10, p95Seconds: 1800 });
  });

  it('expires figures a bucket at a time', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(sample(), T0);
    r.recordEvent(sample(), T0 + 30_000);
    const count = (at: number) => r.report(at).pixels['1']?.total.events;
    expect(count(T0 + 54_999)).toBe(2);
    // The bucket [T0, T0+5s) leaves the window when the 13th bucket starts.
    expect(count(T0 + 60_000)).toBe(1);
    expect(count(T0 + 89_999)).toBe(1);
    expect(count(T0 + 90_000)).toBe(0);
    expect(r.report(T0 + 90_000).pixels['1']?.total.matchQuality).toBeNull();
  });

  it('counts names past maxEventNames under (other)', () => {
    const r = createDiagnosticsRecorder({ maxEventNames: 2 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    for (const name of ['A', 'B', 'C', 'D', 'A']) r.recordEvent(sample({ eventName: name }), T0);
    const events = r.report(T0).pixels['1']?.events ?? {};
    expect(Object.keys(events).sort()).toEqual([OTHER_EVENT_NAME, 'A', 'B'].sort());
    expect(events[OTHER_EVENT_NAME]?.events).toBe(2);
    expect(events.A?.events).toBe(2);
  });

  it('frees the name of an event no longer in the window: a new name is not (other) for ever', () => {
    // 12 buckets of 1 s. A and B fill the names; once they have left the window, C is its own.
    const r = createDiagnosticsRecorder({ windowMs: 12_000, maxEventNames: 2 });
    r.recordEvent(sample({ eventName: 'A' }), T0);
    r.recordEvent(sample({ eventName: 'B' }), T0);
    r.recordEvent(sample({ eventName: 'C' }), T0 + 13_000);
    r.recordEvent(sample({ eventName: 'D' }), T0 + 13_000);
    r.recordEvent(sample({ eventName: 'E' }), T0 + 13_000); // two names again: E is (other)
    const events = r.report(T0 + 13_000).pixels['1']?.events ?? {};
    expect(Object.keys(events).sort()).toEqual([OTHER_EVENT_NAME, 'C', 'D'].sort());
    expect(events.C?.events).toBe(1);
    // A name still in the window keeps its place, even when it is not tracked again.
    const kept = createDiagnosticsRecorder({ windowMs: 12_000, maxEventNames: 2 });
    kept.recordEvent(sample({ eventName: 'A' }), T0);
    kept.recordEvent(sample({ eventName: 'B' }), T0 + 5_000);
    kept.recordEvent(sample({ eventName: 'C' }), T0 + 11_000);
    expect(Object.keys(kept.report(T0 + 11_000).pixels['1']?.events ?? {}).sort()).toEqual(
      [OTHER_EVENT_NAME, 'A', 'B'].sort(),
    );
  });

  it('forgets what it warned about once the window has passed (names come and go)', () => {
    const r = createDiagnosticsRecorder({
      windowMs: 12_000,
      maxEventNames: 1,
      thresholds: { minEvents: 1 },
    });
    r.takeWarnings(T0); // the first call only sets the clock
    // One poorly matched event name per window, each a new name: every one warns once.
    for (let i = 0; i < 5; i++) {
      const at = T0 + i * 13_000;
      r.recordEvent(sample({ eventName: `N${i}`, userData: {} }), at);
      const warned = r.takeWarnings(at + 1_000).map((w) => w.eventName);
      expect(warned).toEqual([`N${i}`]);
    }
  });

  it('warns again after the clock jumped back more than a window (a VM resumed, an NTP step)', () => {
    const r = createDiagnosticsRecorder({ windowMs: 12_000, thresholds: { minEvents: 1 } });
    r.takeWarnings(T0); // the first call only sets the clock
    const later = T0 + 3_600_000; // the clock ran an hour ahead, then was set back to T0
    r.recordEvent(sample({ userData: {} }), later);
    expect(r.takeWarnings(later + 1_000).map((w) => w.figure)).toEqual(['match_quality']);
    // Back at T0 + 13 s: the hour-ahead warning is more than a window away from now, whichever
    // side; the poorly matched traffic of this window warns (it stayed silent for an hour).
    r.recordEvent(sample({ userData: {} }), T0 + 13_000);
    expect(r.takeWarnings(T0 + 14_000).map((w) => w.figure)).toEqual(['match_quality']);
    // A small step back (NTP slewing a second) does not repeat a warning given a moment ago.
    r.recordEvent(sample({ userData: {} }), T0 + 12_500);
    expect(r.takeWarnings(T0 + 12_500)).toEqual([]);
  });

  it('expires remembered ids again once the clock came back from a jump ahead', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay();
    const server = (id: string, at: number) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true }), at);
    const relay = (id: string, at: number) =>
      r.recordEvent(sample({ eventId: id, callerEventId: true, source: 'relay' }), at);
    server('ahead', T0 + 86_400_000); // a VM resumed with its clock a day ahead; NTP set it back
    server('b', T0);
    // Two windows later: b's server copy left the window long ago, so its relayed copy is no pair.
    const later = T0 + 120_000;
    server('c', later);
    server('d', later);
    relay('b', later);
    relay('c', later);
    const purchase = r.report(later).pixels['1']?.events.Purchase;
    expect(purchase).toMatchObject({ sources: { server: 2, relay: 2 }, overlapping: 1 });
    expect(purchase?.overlap).toBe(50);
  });

  it('gives an event name its place back when the clock was set back past the buckets that held it', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, maxEventNames: 2 });
    // A VM resumed with its clock an hour ahead: two names counted then, in buckets "ahead".
    r.recordEvent(sample({ eventName: 'Lead' }), T0 + 3_610_000);
    r.recordEvent(sample({ eventName: 'Search' }), T0 + 3_610_000);
    // NTP set it back: neither is in the window that ends now, so a new name has a place.
    r.recordEvent(sample({ eventName: 'Purchase' }), T0);
    r.recordEvent(sample({ eventName: 'Purchase' }), T0 + 5_000);
    const events = r.report(T0 + 5_000).pixels['1']?.events ?? {};
    expect(Object.keys(events)).toEqual(['Purchase']);
    expect(events.Purchase?.events).toBe(2);
  });

  it('fans one event out to every pixel', () => {
    const r = createDiagnosticsRecorder();
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(sample({ pixelIds: ['1', '2'] }), T0);
    expect(r.report(T0).pixels['2']?.total.events).toBe(1);
  });

  it('rejects nonsensical options', () => {
    expect(() => createDiagnosticsRecorder({ windowMs: 0 })).toThrow(RangeError);
    expect(() => createDiagnosticsRecorder({ thresholds: { overlap: -1 } })).toThrow(RangeError);
  });

  it('names a string given for a number (an environment variable) in the refusal', () => {
    const windowMs = '3600000' as unknown as number;
    const thresholds = { matchQuality: '6' } as unknown as { matchQuality: number };
    expect(() => createDiagnosticsRecorder({ windowMs })).toThrow(
      'diagnostics: windowMs must be a positive number, got the string "3600000" (convert it with Number())',
    );
    expect(() => createDiagnosticsRecorder({ thresholds })).toThrow(
      'diagnostics: thresholds.matchQuality must be a number ≥ 0, got the string "6" (convert it with Number())',
    );
  });

  it('refuses a capacity or name count under 1, which floored to 0', () => {
    // 0.5 passed the positive check and floored to 0: the id set then evicted nothing, ever, and
    // its expiry looped for good at the next bucket (track() never returned).
    expect(() => createDiagnosticsRecorder({ overlapCapacity: 0.5 })).toThrow(RangeError);
    expect(() => createDiagnosticsRecorder({ maxEventNames: 0.9 })).toThrow(RangeError);
    // 1.5 is 1: the set keeps one id, and expires it with its bucket.
    const r = createDiagnosticsRecorder({ overlapCapacity: 1.5, windowMs: 60_000 });
    r.attachRelay();
    r.recordEvent(sample({ eventId: 'a', callerEventId: true }), T0);
    r.recordEvent(sample({ eventId: 'b', callerEventId: true }), T0);
    r.recordEvent(sample({ eventId: 'a', callerEventId: true, source: 'relay' }), T0);
    r.recordEvent(sample({ eventId: 'b', callerEventId: true, source: 'relay' }), T0 + 10_000);
    expect(r.report(T0 + 10_000).pixels['1']?.events.Purchase?.overlapping).toBe(0);
  });

  it('refuses a thresholds key that is none of them, naming the nearest, where the default stayed in force without a word', () => {
    const make = (thresholds: Record<string, unknown>) => () =>
      createDiagnosticsRecorder({ thresholds } as Parameters<typeof createDiagnosticsRecorder>[0]);
    expect(make({ matchquality: 5 })).toThrow(
      'diagnostics: thresholds.matchquality is not a threshold (did you mean matchQuality?); they are matchQuality, dedupKeyCoverage, overlap, freshnessP95Seconds, minEvents',
    );
    expect(make({ minEvent: 3 })).toThrow('(did you mean minEvents?)');
    expect(make({ latency: 3 })).toThrow(
      'diagnostics: thresholds.latency is not a threshold; they are',
    );
    expect(make({ minEvents: 3, overlap: undefined })).not.toThrow();
  });

  it('warns once per window per figure, evaluated on the first call in a new bucket', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, thresholds: { minEvents: 3 } });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    // Ids known never to have reached a browser: the dedup figure has evidence to warn on.
    const unshared = () => sample({ eventIdNeverShared: true });
    expect(r.takeWarnings(T0)).toEqual([]);
    for (let i = 0; i < 3; i++) r.recordEvent(unshared(), T0 + i);
    expect(r.takeWarnings(T0 + 4999)).toEqual([]); // same bucket
    const first = r.takeWarnings(T0 + 5000);
    expect(first.map((w) => [w.figure, w.value, w.threshold])).toEqual([
      ['match_quality', 3, 6],
      ['dedup_key_coverage', 0, 70],
    ]);
    expect(r.takeWarnings(T0 + 10_000)).toEqual([]);
    r.recordEvent(unshared(), T0 + 50_000);
    r.recordEvent(unshared(), T0 + 50_001);
    r.recordEvent(unshared(), T0 + 50_002);
    expect(r.takeWarnings(T0 + 64_999)).toEqual([]); // 59.999 s after the warning
    expect(r.takeWarnings(T0 + 65_000).map((w) => w.figure)).toEqual([
      'match_quality',
      'dedup_key_coverage',
    ]);
  });

  it('warns about the match-quality estimate only once minEvents web events were scored', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, thresholds: { minEvents: 5 } });
    r.takeWarnings(T0);
    // Store sales (not scored: Meta's EMQ is web events only) and one poor web purchase.
    for (let i = 0; i < 30; i++) r.recordEvent(sample({ actionSource: 'physical_store' }), T0);
    r.recordEvent(sample({ actionSource: 'website' }), T0);
    expect(r.report(T0).pixels['1']?.events.Purchase).toMatchObject({
      events: 31,
      scoredEvents: 1,
      matchQuality: 3,
    });
    expect(r.takeWarnings(T0 + 5000)).toEqual([]);
    for (let i = 0; i < 4; i++) r.recordEvent(sample({ actionSource: 'website' }), T0);
    expect(r.takeWarnings(T0 + 10_000).map((w) => [w.figure, w.value])).toEqual([
      ['match_quality', 3],
    ]);
  });

  it('warns about the overlap only once the smaller source has minEvents events', () => {
    // The overlap is a share of the smaller source's events: one odd browser copy beside many
    // server events is a figure of one event (0 % or 100 %), and must not page anyone.
    const r = createDiagnosticsRecorder({ windowMs: 60_000, thresholds: { minEvents: 5 } });
    r.attachRelay();
    const full = (over: Partial<DiagnosticsEventSample>) =>
      sample({ userData: FULL, callerEventId: true, ...over });
    r.takeWarnings(T0);
    for (let i = 0; i < 30; i++) r.recordEvent(full({ eventId: `o-${i}` }), T0);
    r.recordEvent(full({ eventId: 'page-test', source: 'relay' }), T0);
    expect(r.report(T0).pixels['1']?.events.Purchase?.overlap).toBe(0);
    expect(r.takeWarnings(T0 + 5000)).toEqual([]);
    // Five browser copies, none paired: that is evidence.
    for (let i = 0; i < 4; i++) r.recordEvent(full({ eventId: `b-${i}`, source: 'relay' }), T0);
    expect(r.takeWarnings(T0 + 10_000).map((w) => [w.figure, w.value])).toEqual([['overlap', 0]]);
  });
});

describe('dedup-key status: what capi-kit can know about an event_id', () => {
  const lead = (over: Partial<DiagnosticsEventSample> = {}) =>
    sample({ eventName: 'Lead', userData: FULL, ...over });
  const leadFigures = (r: ReturnType<typeof createDiagnosticsRecorder>, at: number, pixel = '1') =>
    r.report(at).pixels[pixel]?.events.Lead;

  it('counts an id the app supplied (track({ event_id }), eventId()) as deduplicable', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'l-1', callerEventId: true }), T0);
    expect(leadFigures(r, T0)).toMatchObject({
      withEventId: 1,
      generatedEventIds: 0,
      unconfirmedEventIds: 0,
      dedupKeyCoverage: 100,
    });
  });

  it("counts the browser's own id, arriving through the relay, as deduplicable", () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'pixel-1', callerEventId: true, source: 'relay' }), T0);
    expect(leadFigures(r, T0)).toMatchObject({
      withEventId: 1,
      sources: { server: 0, relay: 1 },
      dedupKeyCoverage: 100,
    });
  });

  it('confirms a generated id the relay brings back later, in the bucket of the server event', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'gen-1' }), T0);
    expect(leadFigures(r, T0)).toMatchObject({
      generatedEventIds: 1,
      confirmedEventIds: 0,
      unconfirmedEventIds: 1,
      dedupKeyCoverage: null,
    });
    // The page got the id from the response and fired its Pixel Lead with it, 12 s later.
    r.recordEvent(lead({ eventId: 'gen-1', callerEventId: true, source: 'relay' }), T0 + 12_000);
    expect(leadFigures(r, T0 + 12_000)).toMatchObject({
      events: 2,
      withEventId: 1,
      generatedEventIds: 1,
      confirmedEventIds: 1,
      unconfirmedEventIds: 0,
      dedupKeyCoverage: 100,
      overlapping: 1,
      overlap: 100,
    });
    // The server event's bucket leaves the window first, and its confirmation with it.
    const f = leadFigures(r, T0 + 60_000);
    expect(f).toMatchObject({ events: 1, generatedEventIds: 0, confirmedEventIds: 0 });
    expect(f?.withEventId).toBe(1);
  });

  it('confirms a generated id the relay saw first', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'x-1', callerEventId: true, source: 'relay' }), T0);
    r.recordEvent(lead({ eventId: 'x-1' }), T0 + 7000);
    expect(leadFigures(r, T0 + 7000)).toMatchObject({
      generatedEventIds: 1,
      confirmedEventIds: 1,
      unconfirmedEventIds: 0,
      dedupKeyCoverage: 100,
      overlapping: 1,
    });
  });

  it('confirms only on the pixels the relay event went to, and only under the same name', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'two', pixelIds: ['1', '2'] }), T0);
    // Same id under another name: Meta deduplicates on the pair, so it confirms nothing.
    r.recordEvent(
      sample({ eventName: 'Contact', eventId: 'two', callerEventId: true, source: 'relay' }),
      T0,
    );
    expect(leadFigures(r, T0)?.confirmedEventIds).toBe(0);
    r.recordEvent(lead({ eventId: 'two', callerEventId: true, source: 'relay' }), T0 + 1);
    // A second relay copy for the same pixel confirms nothing twice.
    r.recordEvent(lead({ eventId: 'two', callerEventId: true, source: 'relay' }), T0 + 2);
    expect(leadFigures(r, T0 + 2, '1')).toMatchObject({
      confirmedEventIds: 1,
      unconfirmedEventIds: 0,
    });
    expect(leadFigures(r, T0 + 2, '2')).toMatchObject({
      generatedEventIds: 1,
      confirmedEventIds: 0,
      unconfirmedEventIds: 1,
      dedupKeyCoverage: null,
    });
  });

  it('leaves an id unconfirmed once it was forgotten (capacity) or its window passed', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, overlapCapacity: 1 });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 'old' }), T0);
    r.recordEvent(lead({ eventId: 'newer' }), T0); // pushes 'old' out of the set
    r.recordEvent(lead({ eventId: 'old', callerEventId: true, source: 'relay' }), T0 + 1);
    expect(leadFigures(r, T0 + 1)).toMatchObject({ confirmedEventIds: 0, unconfirmedEventIds: 2 });

    const late = createDiagnosticsRecorder({ windowMs: 60_000 });
    late.recordEvent(lead({ eventId: 'slow' }), T0);
    late.recordEvent(lead({ eventId: 'slow', callerEventId: true, source: 'relay' }), T0 + 61_000);
    expect(leadFigures(late, T0 + 61_000)).toMatchObject({
      events: 1,
      generatedEventIds: 0,
      confirmedEventIds: 0,
      withEventId: 1,
    });
  });

  it('reports only unconfirmed ids as unknown (null) and never warns about them', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, thresholds: { minEvents: 3 } });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    for (let i = 0; i < 30; i++) r.recordEvent(lead(), T0 + i);
    expect(leadFigures(r, T0 + 30)).toMatchObject({
      events: 30,
      withEventId: 0,
      generatedEventIds: 30,
      unconfirmedEventIds: 30,
      dedupKeyCoverage: null,
    });
    r.takeWarnings(T0 + 30);
    expect(r.takeWarnings(T0 + 5000)).toEqual([]);
  });

  it('mixes the classes: coverage over the known ones, a warning on known evidence only', () => {
    const r = createDiagnosticsRecorder({ windowMs: 60_000, thresholds: { minEvents: 4 } });
    r.attachRelay(); // a relay feeds it (createRelay does this)
    r.recordEvent(lead({ eventId: 's-1', callerEventId: true }), T0); // supplied
    r.recordEvent(lead({ eventId: 'g-1' }), T0); // generated, confirmed below
    r.recordEvent(lead({ eventId: 'g-1', callerEventId: true, source: 'relay' }), T0 + 1);
    for (let i = 0; i < 10; i++) r.recordEvent(lead(), T0 + 2); // generated, unknown
    r.recordEvent(lead({ eventIdNeverShared: true }), T0 + 3); // no id in a sample file
    r.takeWarnings(T0 + 3);
    expect(r.takeWarnings(T0 + 5000)).toEqual([]); // 3 of 4 known: 75 % ≥ 70 %
    r.recordEvent(lead({ eventIdNeverShared: true }), T0 + 5001);
    const f = leadFigures(r, T0 + 5001);
    expect(f).toMatchObject({
      events: 15,
      withEventId: 2, // s-1 and the relay's own copy of g-1
      generatedEventIds: 11,
      confirmedEventIds: 1,
      unconfirmedEventIds: 10,
      unsharedEventIds: 2,
      dedupKeyCoverage: 60, // 3 deduplicable of 5 known
    });
    expect(r.takeWarnings(T0 + 10_000).map((w) => [w.figure, w.value])).toEqual([
      ['dedup_key_coverage', 60],
    ]);
  });
});

describe('docs/diagnostics.md', () => {
  it('documents the weights the code uses', () => {
    const doc = readFileSync(new URL('../../../../docs/diagnostics.md', import.meta.url), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('| `') || line.startsWith('| …'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const pointsOf = (key: string) =>
      rows.find((cells) => (cells[1] ?? '').includes(`\`${key}\``))?.[2]?.replace(' each', '');
    for (const key of MATCH_KEYS) {
      if (key === 'client_ip_address' || key === 'client_user_agent') continue;
      expect(Number(pointsOf(key)), key).toBe(MATCH_KEY_WEIGHTS[key] / 100);
    }
    expect(pointsOf('client_ip_address')).toBe('1.5');
    expect(rows.find((cells) => cells[1]?.startsWith('… only one'))?.[2]).toBe('0.5');
  });
});

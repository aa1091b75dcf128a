// The child side of the per-destination fault suite: one client from the BUILT packages (as users
// get them) sending every event to Meta and to TikTok, both played by the mock of the test
// process, with every hook counted per stream. Scripts print JSON lines on stdout as things happen
// (`retry`, `auth`, …: the test times its signals and recoveries on them) and a `result` line with
// stats() and what the hooks saw. Never a token, never user data: event ids and counts only.
import { createCapi, getRequestContext } from '@capi-kit/core';
import { tiktok } from '@capi-kit/tiktok';

/** The case's settings from the test: `{ count, badEvery?, options?, closeTimeoutMs?, … }`. */
export const config = JSON.parse(process.env.FAULT_CASE ?? '{}');

/** One JSON line on stdout (a pipe: written synchronously on Linux, so it survives a re-raised signal). */
export const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const push = (map, key, ids) => {
  map[key] ??= [];
  map[key].push(...ids);
};

/** A valid website Purchase both platforms accept (Meta's names; TikTok's copy is built from it). */
const purchase = (i, eventId) => ({
  event_name: 'Purchase',
  event_id: eventId,
  event_time: Math.floor(Date.now() / 1000),
  action_source: 'website',
  event_source_url: 'https://shop.example.com/checkout',
  user_data: {
    em: `buyer${i}@example.com`,
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
  },
  custom_data: { currency: 'USD', value: 10 + i },
});

// The `_ttp` cookie of a `bad-` event is 64 hex digits: TikTok's builder sends it (it is a
// well-formed cookie value), the strict TikTok mock refuses it as a hashed value where TikTok
// wants the raw one (code 40002, the whole batch), and Meta never sees `_ttp`. So one event of a
// batch is refused by TikTok alone, and its Meta copy is as good as any.
const BAD_TTP = 'b'.repeat(64);

/** The request an adapter would have read the event's context from. */
const requestOf = (bad) =>
  new Request('https://shop.example.com/checkout', {
    method: 'POST',
    headers: {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)',
      cookie: `_ttp=${bad ? BAD_TTP : '2F7h37YkQ.1733300000'}`,
    },
  });

/** Creates the client and the bookkeeping; `extra` overrides options. */
export const startClient = (extra = {}) => {
  const streams = {};
  const intake = {};
  const messages = [];
  const stream = (key) =>
    (streams[key] ??= {
      handed: 0,
      sentIds: [],
      deadLetter: {},
      dropped: {},
      undeliverable: {},
      retries: [],
      errors: {},
    });
  const destination = tiktok({
    pixelCode: process.env.FAULT_PIXEL_CODE,
    accessToken: process.env.FAULT_TIKTOK_TOKEN,
    apiUrl: process.env.FAULT_TIKTOK_URL,
  });
  const tiktokStream = `tiktok:${process.env.FAULT_PIXEL_CODE}`;
  const client = createCapi({
    pixelId: process.env.FAULT_PIXEL_ID,
    accessToken: process.env.FAULT_META_TOKEN,
    graphUrl: process.env.FAULT_GRAPH_URL,
    destinations: [destination],
    env: false,
    logger: false,
    ...config.options,
    ...extra,
    onUndeliverable: (records, reason) => {
      for (const r of records) push(stream(r.pixelId).undeliverable, reason, [r.eventId]);
    },
  });
  client.on('sent', (info) => {
    stream(info.pixelId).sentIds.push(...info.eventIds);
    emit({ type: 'sent', stream: info.pixelId, count: info.count });
  });
  client.on('deadLetter', (info) => {
    push(
      stream(info.pixelId).deadLetter,
      info.reason,
      info.events.map((e) => e.eventId),
    );
    messages.push(info.error.message);
  });
  client.on('dropped', (info) => {
    const ids = info.events.map((e) => e.eventId);
    if (info.pixelId === undefined) push(intake, info.reason, ids);
    else push(stream(info.pixelId).dropped, info.reason, ids);
  });
  client.on('error', (info) => {
    const seen = stream(info.pixelId ?? '(none)');
    seen.errors[info.kind] = (seen.errors[info.kind] ?? 0) + 1;
    messages.push(info.error.message);
    emit({ type: 'error', stream: info.pixelId, kind: info.kind, message: info.error.message });
  });
  client.on('retry', (info) => {
    const retry = {
      status: info.status,
      reason: info.reason,
      delayMs: info.delayMs,
      count: info.count,
      at: Date.now(),
    };
    stream(info.pixelId).retries.push(retry);
    messages.push(info.error);
    emit({ type: 'retry', stream: info.pixelId, ...retry, error: info.error });
  });

  let tracked = 0;
  /**
   * Tracks `count` more events (ids go on from the last); every `badEvery`-th one, and those at
   * the indices in `bad`, are `bad-`.
   */
  const track = (count = config.count ?? 50) => {
    const { badEvery = 0, bad: badAt = [] } = config;
    for (let n = 0; n < count; n++) {
      const i = tracked++;
      const bad = (badEvery > 0 && i % badEvery === badEvery - 1) || badAt.includes(i);
      const context = getRequestContext(requestOf(bad), { destinations: client.destinations });
      const result = client.track(purchase(i, `${bad ? 'bad' : 'ok'}-${i}`), { context });
      for (const [key, outcome] of Object.entries(result.destinations ?? {})) {
        if (outcome.accepted) stream(key).handed++;
      }
    }
    emit({ type: 'tracked', tracked });
  };
  stream(process.env.FAULT_PIXEL_ID);
  stream(tiktokStream);

  /**
   * Resolves with true once `predicate()` holds, false after `limitMs`. Its polling timer is ref'd:
   * it stands for the app's own work (a server) that keeps a real process alive meanwhile.
   */
  const until = (predicate, limitMs = 20_000) =>
    new Promise((resolve) => {
      const started = Date.now();
      const check = () => {
        if (predicate()) resolve(true);
        else if (Date.now() - started > limitMs) resolve(false);
        else setTimeout(check, 10);
      };
      check();
    });
  /** Events the `sent` hook reported for `key`. */
  const sentCount = (key) => stream(key).sentIds.length;

  /** A result line: what the script did, what the client counted, what its hooks saw. */
  const report = (more = {}) =>
    emit({ type: 'result', tracked, stats: client.stats(), streams, intake, messages, ...more });

  return { client, track, report, until, sentCount, stream, tiktokStream };
};

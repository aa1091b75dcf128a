// The child side of the fault suite: a client built from the BUILT package (as users get it),
// pointed at the mock Graph API of the test process, with every hook counted. Each script prints
// JSON lines on stdout: `{"type":"retry",…}` as retries happen (the test times its signals on
// them) and one `{"type":"result",…}` at the end. Never the token, never user data: ids only.
import { createCapi } from '@capi-kit/core';

/** The case's settings from the test: `{ count, badEvery?, options?, closeTimeoutMs? }`. */
export const config = JSON.parse(process.env.FAULT_CASE ?? '{}');

/** One JSON line on stdout (a pipe: written synchronously on Linux, so it survives a re-raised signal). */
export const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const push = (map, key, ids) => {
  map[key] ??= [];
  map[key].push(...ids);
};

/** A valid website Purchase the mock accepts; ids `bad-i` are the ones the test's rule refuses. */
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

/** Creates the client and the bookkeeping; `extra` overrides options (e.g. a `random`). */
export const startClient = (extra = {}) => {
  const seen = {
    sentIds: [],
    deadLetter: {},
    dropped: {},
    undeliverable: {},
    retries: [],
    errors: 0,
  };
  const client = createCapi({
    pixelId: process.env.FAULT_PIXEL_ID,
    accessToken: process.env.FAULT_TOKEN,
    graphUrl: process.env.FAULT_GRAPH_URL,
    env: false,
    ...config.options,
    ...extra,
    onUndeliverable: (records, reason) => {
      push(
        seen.undeliverable,
        reason,
        records.map((r) => r.eventId),
      );
    },
  });
  client.on('sent', (info) => {
    seen.sentIds.push(...info.eventIds);
  });
  client.on('deadLetter', (info) => {
    push(
      seen.deadLetter,
      info.reason,
      info.events.map((e) => e.eventId),
    );
  });
  client.on('dropped', (info) => {
    push(
      seen.dropped,
      info.reason,
      info.events.map((e) => e.eventId),
    );
  });
  client.on('error', () => {
    seen.errors++;
  });
  client.on('retry', (info) => {
    const retry = {
      status: info.status,
      reason: info.reason,
      delayMs: info.delayMs,
      count: info.count,
    };
    seen.retries.push(retry);
    emit({ type: 'retry', ...retry, error: info.error });
  });

  let tracked = 0;
  let accepted = 0;
  /** Tracks `config.count` events; every `badEvery`-th one gets a `bad-` id. */
  const trackAll = () => {
    const { count = 50, badEvery = 0 } = config;
    for (let i = 0; i < count; i++) {
      const bad = badEvery > 0 && i % badEvery === badEvery - 1;
      const result = client.track(purchase(i, `${bad ? 'bad' : 'ok'}-${i}`));
      tracked++;
      if (result.accepted) accepted++;
    }
  };

  /** The final line: what the script did, what the client counted, what its hooks saw. */
  const report = (extra = {}) =>
    emit({ type: 'result', tracked, accepted, stats: client.stats(), ...seen, ...extra });

  return { client, trackAll, report };
};

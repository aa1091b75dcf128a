// @ts-check
// `npm run demo`: the Express example against the embedded mock Graph API, a scripted visit, and a
// report of what Meta received; the mock's Events Manager page shows the same at its URL, and
// `npm run demo -- --keep` keeps the app and the mock running to look at it. With META_PIXEL_ID
// and META_ACCESS_TOKEN set it sends to Meta instead (set META_TEST_EVENT_CODE to see the events
// in Events Manager's Test Events tab).
import { startMockGraph } from '@capi-kit/testing';
import { start } from './app.js';

const real = Boolean(process.env.META_PIXEL_ID && process.env.META_ACCESS_TOKEN);
const keep = process.argv.includes('--keep');
const mock = real ? undefined : await startMockGraph();
const env = real
  ? { ...process.env, PORT: '0' }
  : {
      PORT: '0',
      META_PIXEL_ID: '1234567890',
      META_ACCESS_TOKEN: 'demo-access-token',
      META_GRAPH_URL: mock?.url,
      // The page's Pixel loads the mock's stub, so a browser's Pixel events reach the mock too.
      META_PIXEL_SCRIPT_URL: `${mock?.url}/fbevents.js`,
      TRUST_PROXY: 'loopback',
    };
const app = await start(env);

/** @type {import('@capi-kit/core').SentInfo[]} */
const acknowledgements = [];
app.client.on('sent', (info) => acknowledgements.push(info));
/** @type {string[]} */
const problems = [];
app.client.on('error', (info) => problems.push(`${info.kind}: ${info.error.message}`));
app.client.on('deadLetter', (info) => problems.push(`rejected by Meta: ${info.error.message}`));

const bold = (/** @type {string} */ s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (/** @type {string} */ s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const short = (/** @type {string} */ id) => (id.length > 18 ? `${id.slice(0, 8)}…` : id);

console.log(
  bold('capi-kit demo: the Express example') +
    (real ? ' → Meta Graph API (real credentials)' : ` → mock Graph API at ${mock?.url}`),
);
console.log(dim(`example app at ${app.url}`));

// A browser's visit: it lands from an ad click (fbclid), leaves a lead, buys, and retries the buy.
const ua =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15';
/** @type {Map<string, string>} */
const jar = new Map();
/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [extraHeaders]
 */
async function visit(method, path, body, extraHeaders = {}) {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: {
      ...extraHeaders,
      'user-agent': ua,
      // As if behind a reverse proxy on loopback (TRUST_PROXY=loopback): the proxy appends the
      // visitor's address, and only a trusted proxy's header is believed.
      'x-forwarded-for': '203.0.113.7',
      ...(method === 'GET'
        ? { accept: 'text/html', 'sec-fetch-dest': 'document' }
        : { 'content-type': 'application/json', referer: `${app.url}/` }),
      ...(jar.size && { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  for (const header of res.headers.getSetCookie()) {
    const [pair = ''] = header.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return res;
}

/**
 * The browser half of a Pixel event, as the mock's Pixel stub (/fbevents.js) posts it from a real
 * page for `fbq('track', name, data, { eventID })`: the scripted visit has no browser to run it.
 * @param {string} name
 * @param {string} eventID
 * @param {Record<string, unknown>} [data]
 */
async function pixelFires(name, eventID, data = {}) {
  if (!mock) return;
  await fetch(`${mock.url}/tr`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': ua },
    body: JSON.stringify({
      v: 1,
      id: env.META_PIXEL_ID,
      m: 'track',
      ev: name,
      eid: eventID,
      cd: data,
      dl: `${app.url}/`,
      ts: Date.now(),
      ud: [],
      fbp: jar.has('_fbp'),
      fbc: jar.has('_fbc'),
    }),
  });
}

console.log(`\n${bold('The visit')}`);
const landing = await visit('GET', '/?fbclid=IwAR1demoClickId_AbC-123');
const html = await landing.text();
const pixelEventId = /"eventID":"([^"]+)"/.exec(html)?.[1] ?? '';
await pixelFires('PageView', pixelEventId);
console.log(
  `  GET  /?fbclid=…          ${landing.status}  cookies set: ${[...jar.keys()].join(', ')}; the page's Pixel fires PageView with eventID ${short(pixelEventId)}`,
);
const lead = await visit('POST', '/lead', {
  email: ' Ada.Lovelace@Example.com ',
  phone: '+44 (0)20 7946 0958',
  first_name: 'Ada',
  last_name: 'Lovelace',
  country: 'GB',
});
const leadAnswer = /** @type {{ event_id: string }} */ (await lead.json());
await pixelFires('Lead', leadAnswer.event_id);
console.log(`  POST /lead               ${lead.status}  ${JSON.stringify(leadAnswer)}`);
// The README's Lead pattern: the page fires its Pixel Lead with the event_id it got back, and
// @capi-kit/browser mirrors it to the app's relay, which is how capi-kit sees the id was used.
const relayed = await visit(
  'POST',
  '/capi/events',
  {
    v: 1,
    pixel_id: env.META_PIXEL_ID,
    events: [
      {
        event_name: 'Lead',
        event_id: leadAnswer.event_id,
        event_time: Math.floor(Date.now() / 1000),
        event_source_url: `${app.url}/`,
      },
    ],
  },
  { 'sec-fetch-site': 'same-origin' },
);
console.log(
  `  POST /capi/events        ${relayed.status}  the page's Pixel Lead with eventID ${short(leadAnswer.event_id)}, mirrored by the relay`,
);
const order = {
  email: 'ada.lovelace@example.com',
  value: 49.9,
  currency: 'gbp',
  order_id: 'ORD-1001',
  contents: [{ id: 'engine-manual', quantity: 1, item_price: 49.9 }],
};
for (const [i, label] of ['POST /purchase          ', 'POST /purchase (retry)  '].entries()) {
  const res = await visit('POST', '/purchase', order);
  const answer = /** @type {{ event_id: string }} */ (await res.json());
  console.log(`  ${label} ${res.status}  ${JSON.stringify(answer)}`);
  // The order confirmation page fires the Pixel once; the retry was the server's alone.
  if (i === 0)
    await pixelFires('Purchase', answer.event_id, { value: order.value, currency: 'GBP' });
}
const bad = await visit('POST', '/purchase', { email: 'x@example.com', value: 'ten' });
console.log(
  `  POST /purchase (bad)     ${bad.status}  ${JSON.stringify(await bad.json())} (nothing sent)`,
);

await app.flush();

/** @param {Record<string, unknown>} userData */
const matchKeys = (userData) =>
  Object.keys(userData)
    .map((k) => ({ client_ip_address: 'ip', client_user_agent: 'ua' })[k] ?? k)
    .join(' ');

if (mock) {
  const received = mock.events();
  const requests = mock.requests().filter((r) => r.status === 200).length;
  console.log(
    `\n${bold(`What Meta received: ${received.length} events in ${requests} request(s)`)}`,
  );
  for (const { event } of received) {
    const custom = /** @type {{ value?: number, currency?: string } | undefined} */ (
      event.custom_data
    );
    console.log(
      `  ${event.event_name.padEnd(9)} ${short(String(event.event_id)).padEnd(18)} match keys: ${matchKeys(
        /** @type {Record<string, unknown>} */ (event.user_data ?? {}),
      )}${custom?.value !== undefined ? `  value ${custom.value} ${custom.currency}` : ''}`,
    );
  }
  console.log(dim('  (em, ph, fn, ln, country arrive as SHA-256 hashes of the normalized values)'));

  console.log(`\n${bold('Deduplication (Meta counts each pair once)')}`);
  const pageView = received.find((e) => e.event.event_name === 'PageView');
  if (pageView && pageView.event.event_id === pixelEventId) {
    console.log(
      `  PageView ${short(pixelEventId)}: browser Pixel + server CAPI share one event_id`,
    );
  }
  for (const dup of mock.duplicates()) {
    console.log(
      dup.event_id === leadAnswer.event_id
        ? `  ${dup.event_name} ${short(dup.event_id)}: the server's Lead and the browser's copy through the relay (and the Pixel) share one event_id`
        : `  ${dup.event_name} ${dup.event_id}: sent ${dup.count}× by the server (a retried checkout), one event_id`,
    );
  }
} else {
  console.log(`\n${bold('What Meta acknowledged')}`);
  for (const ack of acknowledgements) {
    console.log(
      `  pixel ${ack.pixelId}: ${ack.eventsReceived ?? ack.count} event(s) received, fbtrace_id ${ack.fbtraceId}`,
    );
  }
  for (const problem of problems) console.log(`  error: ${problem}`);
}
console.log(`\n${bold("Local diagnostics (an estimate from the keys sent, not Meta's EMQ)")}`);
/**
 * What capi-kit knows about the event_ids (docs/diagnostics.md): a share when it has evidence,
 * "unknown" when the only ids are ones it generated and nothing showed the page used them.
 * @param {import('@capi-kit/core').EventDiagnostics} f
 */
const dedupOf = (f) => {
  const unknown = f.unconfirmedEventIds;
  if (f.dedupKeyCoverage === null) {
    return unknown > 0
      ? `deduplicable event_id: unknown: ${unknown} event(s) use IDs capi-kit generated; pass them to the Pixel and route it through the relay to confirm`
      : 'deduplicable event_id: -';
  }
  return `deduplicable event_id: ${f.dedupKeyCoverage} %${unknown > 0 ? ` (+ ${unknown} unknown)` : ''}`;
};
for (const pixel of Object.values(app.client.diagnostics().pixels)) {
  for (const [name, figures] of Object.entries(pixel.events)) {
    console.log(
      `  ${name.padEnd(9)} match quality ~${figures.matchQuality ?? '-'}/10, ${dedupOf(figures)}, freshness p50 ${figures.freshness.p50Seconds ?? '-'} s`,
    );
  }
}
const stats = app.client.stats();
console.log(
  `\n${dim(`client stats: sent ${stats.sent}, queued ${stats.queued}, dead-lettered ${stats.deadLettered}`)}`,
);

if (mock) {
  console.log(
    `\n${bold(`Events Manager: ${mock.url}/`)} ${dim('(open it in a browser: every event, the browser/server pairs deduplicated, match keys, freshness)')}`,
  );
}
if (keep) {
  console.log(
    `Still running (--keep): the app at ${app.url}${mock ? ' (its page loads the Pixel stub, so a visit in your browser shows up there too)' : ''}. Ctrl-C to stop.`,
  );
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
} else if (mock) {
  console.log(dim('  npm run demo -- --keep keeps the app and the mock running to look at it.'));
}

await app.close();
await mock?.close();

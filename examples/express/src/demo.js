// @ts-check
// `npm run demo`: the Express example against the embedded mock, which plays Meta's Graph API and
// TikTok's Events API, a scripted visit, and a report of what each platform received, with one
// event_id per event; the mock's Events Manager page shows the same at its URL, and
// `npm run demo -- --keep` keeps the app and the mock running to look at it. With META_PIXEL_ID
// and META_ACCESS_TOKEN set it sends to Meta instead (set META_TEST_EVENT_CODE to see the events
// in Events Manager's Test Events tab), and to TikTok too when TIKTOK_PIXEL_CODE and
// TIKTOK_ACCESS_TOKEN are set (TIKTOK_TEST_EVENT_CODE likewise).
import { toTikTokPixelEvent } from '@capi-kit/browser';
import { startMockGraph } from '@capi-kit/testing';
import { tiktokPixelFromEnv } from 'capi-kit-example-shared';
import { exitOnStartFailure } from 'capi-kit-example-shared/start';
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
      // TikTok on the same mock, with the names `npx capi-kit-mock` prints (examples/README.md).
      TIKTOK_PIXEL_CODE: 'C4MOCKPIXEL000000000',
      TIKTOK_ACCESS_TOKEN: 'demo-tiktok-access-token',
      TIKTOK_EVENTS_URL: mock?.tiktok.url,
      TIKTOK_PIXEL_SCRIPT_URL: mock?.tiktok.pixelScriptUrl,
      TRUST_PROXY: 'loopback',
    };
const tiktok = tiktokPixelFromEnv(env);
// With real credentials that capi-kit refuses (META_PIXEL_ID not digits…): one line, no stack trace.
const app = await start(env).catch((error) => exitOnStartFailure(error, 'Express', 'npm run demo'));

/** @type {import('@capi-kit/core').SentInfo[]} */
const acknowledgements = [];
app.client.on('sent', (info) => acknowledgements.push(info));
/** @type {string[]} */
const problems = [];
app.client.on('error', (info) => problems.push(`${info.kind}: ${info.error.message}`));
app.client.on('deadLetter', (info) =>
  problems.push(`rejected by ${platformOf(info.pixelId)}: ${info.error.message}`),
);

const bold = (/** @type {string} */ s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (/** @type {string} */ s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const short = (/** @type {string} */ id) => (id.length > 18 ? `${id.slice(0, 8)}…` : id);
/** Meta's streams are its pixel ids; another destination's are `<name>:<id>` (docs/destinations.md). */
function platformOf(/** @type {string} */ stream) {
  return stream.startsWith('tiktok:') ? 'TikTok' : 'Meta';
}

const platforms = tiktok ? 'Meta and TikTok' : 'Meta';
console.log(
  bold('capi-kit demo: the Express example') +
    (real
      ? ` → ${tiktok ? "Meta's Graph API and TikTok's Events API" : 'Meta Graph API'} (real credentials)`
      : ` → ${platforms}, both played by the mock at ${mock?.url}`),
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
 * page for `fbq('track', name, data, { eventID })`, and the TikTok Pixel stub's copy of it for
 * `ttq.track(event, properties, { event_id })` in TikTok's names (as the page maps them, with
 * @capi-kit/browser's toTikTokPixelEvent): the scripted visit has no browser to run them.
 * @param {string} name
 * @param {string} eventID
 * @param {Record<string, unknown>} [data]
 */
async function pixelFires(name, eventID, data = {}) {
  if (!mock) return;
  if (tiktok) {
    const { event, properties } = toTikTokPixelEvent(name, data);
    await fetch(`${mock.url}/tiktok/pixel`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': ua },
      body: JSON.stringify({
        v: 1,
        code: tiktok.pixelCode,
        m: 'track',
        ev: event,
        eid: eventID,
        p: properties,
        url: `${app.url}/`,
        ts: Date.now(),
        user: [],
        ttp: jar.has('_ttp'),
        ttclid: jar.has('ttclid'),
      }),
    });
  }
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
// From an ad click on Meta (fbclid) that had earlier come from TikTok (ttclid): both click IDs.
const landing = await visit(
  'GET',
  `/?fbclid=IwAR1demoClickId_AbC-123${tiktok ? '&ttclid=E.C.P.demoTikTokClickId_7' : ''}`,
);
const html = await landing.text();
const pixelEventId = /"eventID":"([^"]+)"/.exec(html)?.[1] ?? '';
const cookiesSet = [...jar.keys()].join(', ');
// TikTok's Pixel sets its _ttp cookie in the browser (the stub does not): done by hand here.
if (tiktok) jar.set('_ttp', '2pZ1demoTtpCookie0000000001');
await pixelFires('PageView', pixelEventId);
/** The visit's lines, aligned on the longest request. */
const pad = (/** @type {string} */ label) => label.padEnd(tiktok ? 24 : 23);
console.log(
  `  ${pad(`GET  /?fbclid=…${tiktok ? '&ttclid=…' : ''}`)} ${landing.status}  cookies set: ${cookiesSet}; the page's ${tiktok ? 'Pixels fire' : 'Pixel fires'} PageView with eventID ${short(pixelEventId)}`,
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
console.log(`  ${pad('POST /lead')} ${lead.status}  ${JSON.stringify(leadAnswer)}`);
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
  `  ${pad('POST /capi/events')} ${relayed.status}  the page's Pixel Lead with eventID ${short(leadAnswer.event_id)}, mirrored by the relay`,
);
const order = {
  email: 'ada.lovelace@example.com',
  value: 49.9,
  currency: 'gbp',
  order_id: 'ORD-1001',
  contents: [{ id: 'engine-manual', quantity: 1, item_price: 49.9 }],
};
for (const [i, label] of ['POST /purchase', 'POST /purchase (retry)'].entries()) {
  const res = await visit('POST', '/purchase', order);
  const answer = /** @type {{ event_id: string }} */ (await res.json());
  console.log(`  ${pad(label)} ${res.status}  ${JSON.stringify(answer)}`);
  // The order confirmation page fires the Pixel once; the retry was the server's alone.
  if (i === 0)
    await pixelFires('Purchase', answer.event_id, { value: order.value, currency: 'GBP' });
}
const bad = await visit('POST', '/purchase', { email: 'x@example.com', value: 'ten' });
console.log(
  `  ${pad('POST /purchase (bad)')} ${bad.status}  ${JSON.stringify(await bad.json())} (nothing sent)`,
);

await app.flush();

/** @param {Record<string, unknown>} userData */
const matchKeys = (userData) =>
  Object.keys(userData)
    .map((k) => ({ client_ip_address: 'ip', client_user_agent: 'ua' })[k] ?? k)
    .join(' ');

if (mock) {
  const meta = mock.events();
  const tiktokEvents = mock.tiktok.events();
  const count = (/** @type {{ status: number }[]} */ requests) =>
    requests.filter((r) => r.status === 200).length;
  console.log(
    `\n${bold(`What ${platforms} received, by event_id`)} ${dim(
      `(Meta: ${meta.length} server events in ${count(mock.requests())} request(s)${
        tiktok
          ? `; TikTok: ${tiktokEvents.length} in ${count(mock.tiktok.requests())} request(s)`
          : ''
      })`,
    )}`,
  );
  /**
   * Where a platform's server copies of one event came from: the Lead's second is the relay's
   * (the page's Pixel Lead, forwarded to every destination); a Purchase's, the retried checkout.
   * @param {string} id
   * @param {number} count
   */
  const serverCopies = (id, count) =>
    id === leadAnswer.event_id && count === 2
      ? 'server + relay'
      : `server${count > 1 ? ` ×${count}` : ''}`;
  /** @type {string[]} */
  const ids = [...new Set(meta.map((e) => String(e.event.event_id)))];
  for (const id of ids) {
    const copies = meta.filter((e) => e.event.event_id === id);
    const first = copies[0]?.event;
    if (!first) continue;
    const retried = id.startsWith('purchase-') && copies.length > 1;
    console.log(
      `  ${bold(first.event_name)}  ${short(id)}${retried ? dim('  (a retried checkout: the server sent it twice)') : ''}`,
    );
    const custom = /** @type {{ value?: number, currency?: string } | undefined} */ (
      first.custom_data
    );
    const value = custom?.value !== undefined ? `  value ${custom.value} ${custom.currency}` : '';
    const server = serverCopies(id, copies.length);
    const metaPixel = mock.browserEvents().some((b) => b.event_id === id) ? ' + Pixel' : '';
    console.log(
      `    Meta    ${first.event_name.padEnd(10)} ${`${server}${metaPixel}`.padEnd(22)} keys: ${matchKeys(
        /** @type {Record<string, unknown>} */ (first.user_data ?? {}),
      )}${value}`,
    );
    if (!tiktok) continue;
    const tiktokCopies = tiktokEvents.filter((e) => e.event.event_id === id);
    const tt =
      /** @type {{ event?: string, user?: Record<string, unknown>, properties?: { value?: number, currency?: string } } | undefined} */ (
        tiktokCopies[0]?.event
      );
    const ttPixel = mock.tiktok.browserEvents().some((b) => b.event_id === id) ? ' + Pixel' : '';
    const ttServer = serverCopies(id, tiktokCopies.length);
    const ttValue =
      tt?.properties?.value !== undefined
        ? `  value ${tt.properties.value} ${tt.properties.currency}`
        : '';
    console.log(
      tt === undefined
        ? `    TikTok  ${dim('nothing with this event_id')}`
        : `    TikTok  ${String(tt.event).padEnd(10)} ${`${ttServer}${ttPixel}`.padEnd(22)} keys: ${Object.keys(
            tt.user ?? {},
          ).join(' ')}${ttValue}`,
    );
  }
  console.log(
    dim(
      tiktok
        ? '  Each platform counts an event once: its copies share the event name and the one event_id.\n' +
            '  Hashed keys (em/email, ph/phone, fn, ln, country) arrive as SHA-256; TikTok hashes the phone with its "+".'
        : '  Meta counts each event once: its copies share the event name and the event_id.\n' +
            '  (em, ph, fn, ln, country arrive as SHA-256 hashes of the normalized values)',
    ),
  );
} else {
  console.log(`\n${bold(`What ${platforms} acknowledged`)}`);
  for (const ack of acknowledgements) {
    const trace = ack.fbtraceId ? `fbtrace_id ${ack.fbtraceId}` : `request_id ${ack.traceId}`;
    console.log(
      `  ${platformOf(ack.pixelId)} ${ack.pixelId}: ${ack.eventsReceived ?? ack.count} event(s) received, ${trace}`,
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
for (const [stream, pixel] of Object.entries(app.client.diagnostics().pixels)) {
  if (platformOf(stream) !== 'Meta') continue;
  for (const [name, figures] of Object.entries(pixel.events)) {
    console.log(
      `  ${name.padEnd(9)} match quality ~${figures.matchQuality ?? '-'}/10, ${dedupOf(figures)}, freshness p50 ${figures.freshness.p50Seconds ?? '-'} s`,
    );
  }
}
const streams = Object.values(app.client.stats().pixels).map(
  (p) =>
    `${platformOf(p.pixelId)} sent ${p.sent}, queued ${p.queued}, dead-lettered ${p.deadLettered}`,
);
console.log(`\n${dim(`client stats: ${streams.join('; ')}`)}`);

if (mock) {
  console.log(
    `\n${bold(`Events Manager: ${mock.url}/`)} ${dim(`(open it in a browser: every event${tiktok ? ' of both platforms' : ''}, the browser/server pairs deduplicated, match keys, freshness)`)}`,
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

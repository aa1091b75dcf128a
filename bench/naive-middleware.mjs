// The middleware bench's yardstick: what a developer would write in an afternoon instead of a
// library, kept deliberately simple and honest. Per request: read `_fbp`/`_fbc` from the Cookie
// header with a regex; on a first visit set them (`_fbp` minted, `_fbc` from `?fbclid=`); client IP
// from X-Forwarded-For's first hop when the peer is a loopback proxy. Per event: SHA-256 of the
// trimmed, lower-cased email (node:crypto), Meta's wire event, pushed to an array that is POSTed in
// batches of up to 1000 with global `fetch` every second (and as soon as 1000 are queued), the
// access token in the JSON body, never in the URL. No validation, no retries, no diagnostics.
import { createHash, randomUUID } from 'node:crypto';

const FBP = /(?:^|;\s*)_fbp=([^;]*)/;
const FBC = /(?:^|;\s*)_fbc=([^;]*)/;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Cookie lifetime: the Pixel keeps `_fbp`/`_fbc` for 90 days. */
export const COOKIE_MAX_AGE_MS = 90 * 24 * 3600 * 1000;

/**
 * What the handler needs from the request: IP, user agent, page URL, fbp/fbc, and the cookies a
 * first visit needs (`newCookies`: [name, value] pairs for `res.cookie` or a Set-Cookie header).
 * `query` is the framework's parsed query (`req.query`).
 */
export const naiveContext = (headers, remoteAddress, url, query) => {
  const cookie = headers.cookie ?? '';
  let fbp = FBP.exec(cookie)?.[1];
  let fbc = FBC.exec(cookie)?.[1];
  const newCookies = [];
  const now = Date.now();
  if (fbp === undefined) {
    fbp = `fb.1.${now}.${Math.floor(Math.random() * 2147483647)}`;
    newCookies.push(['_fbp', fbp]);
  }
  const fbclid = query.fbclid;
  if (typeof fbclid === 'string' && fbclid !== '' && !fbc?.endsWith(`.${fbclid}`)) {
    fbc = `fb.1.${now}.${fbclid}`;
    newCookies.push(['_fbc', fbc]);
  }
  const proxied = LOOPBACK.has(remoteAddress);
  const forwarded = headers['x-forwarded-for'];
  const ip = proxied && forwarded !== undefined ? forwarded.split(',')[0].trim() : remoteAddress;
  const proto = proxied ? (headers['x-forwarded-proto'] ?? 'http') : 'http';
  return {
    ip,
    userAgent: headers['user-agent'],
    url: `${proto}://${headers.host}${url}`,
    secure: proto === 'https',
    fbp,
    fbc,
    newCookies,
  };
};

/** A Set-Cookie value for a framework without `res.cookie` (Fastify without @fastify/cookie). */
export const setCookieHeader = ([name, value], secure) =>
  `${name}=${value}; Max-Age=${COOKIE_MAX_AGE_MS / 1000}; Path=/; SameSite=Lax${secure ? '; Secure' : ''}`;

/**
 * The queue and its sender: `track(eventName, context, { email, custom_data })` builds Meta's wire
 * event and queues it. `stats()` gives what the bench checks against the mock.
 */
export const createNaiveTracker = ({
  graphUrl,
  pixelId,
  accessToken,
  version = 'v26.0',
  flushIntervalMs = 1000,
}) => {
  const endpoint = `${graphUrl}/${version}/${pixelId}/events`;
  let queue = [];
  const counters = { tracked: 0, delivered: 0, failed: 0, inFlight: 0 };
  const requests = new Set();
  const flush = () => {
    if (queue.length === 0) return;
    const data = queue.length > 1000 ? queue.splice(0, 1000) : queue;
    if (data === queue) queue = [];
    counters.inFlight += data.length;
    const sending = fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data, access_token: accessToken }),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.ok) counters.delivered += data.length;
        else counters.failed += data.length;
      })
      .catch(() => {
        counters.failed += data.length;
      })
      .finally(() => {
        counters.inFlight -= data.length;
        requests.delete(sending);
      });
    requests.add(sending);
  };
  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  return {
    track(eventName, context, { email, custom_data }) {
      const user_data = {
        client_ip_address: context.ip,
        client_user_agent: context.userAgent,
      };
      if (email) {
        user_data.em = [createHash('sha256').update(email.trim().toLowerCase()).digest('hex')];
      }
      if (context.fbp) user_data.fbp = context.fbp;
      if (context.fbc) user_data.fbc = context.fbc;
      queue.push({
        event_name: eventName,
        event_time: Math.floor(Date.now() / 1000),
        event_id: randomUUID(),
        action_source: 'website',
        event_source_url: context.url,
        user_data,
        custom_data,
      });
      counters.tracked++;
      if (queue.length >= 1000) flush();
    },
    stats: () => ({ ...counters, queued: queue.length }),
    /** Sends what is queued now and waits for every answer. */
    async drain() {
      while (queue.length > 0) flush();
      await Promise.allSettled([...requests]);
    },
    async close() {
      clearInterval(timer);
      await this.drain();
    },
  };
};

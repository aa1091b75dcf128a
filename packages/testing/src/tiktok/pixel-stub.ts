import { EVENT_NAME_TOO_LONG, isEventNameTooLong } from '../event-name-limit.js';
import { isRecord } from '../field-checks.js';
import type { MockTikTokBrowserEvent } from './recorder.js';

// A local stand-in for TikTok's Pixel library (events.js), the counterpart of the Meta stub
// (../pixel-stub.ts). Sources, third-party where TikTok's own reference is not in reach:
// [BASE] The base code TikTok's Events Manager hands out (reproduced in many public sites, e.g.
//        https://github.com/dailydotdev/apps packages/webapp/public/scripts/tiktok.js): it names
//        the global in `window.TiktokAnalyticsObject`, makes `ttq` an array whose methods
//        (`ttq.methods`: page, track, identify, instances, debug, on, off, once, ready, alias,
//        group, enableCookie, disableCookie, holdConsent, revokeConsent, grantConsent) push
//        `[method, ...args]`, `ttq.instance(code)` queues into `ttq._i[code]`, and `ttq.load(code)`
//        records the code in `_i`/`_t`/`_o` and adds
//        `https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=<code>&lib=ttq` (one script per
//        `load`). The library drains those queues when it arrives.
// [DEDUP] `ttq.track(event, properties, { event_id })`: TikTok deduplicates a Pixel event and an
//        Events API event with the same pixel, `event` and `event_id`,
//        https://ads.tiktok.com/help/article/event-deduplication; the call shape with `event_id`
//        in the third argument is the one Nuxt Scripts documents
//        (https://github.com/nuxt/scripts/pull/776) and @capi-kit/browser makes. `pixel_code` in
//        the same options sends to one pixel only (TikTok's GTM template,
//        https://github.com/tiktok/gtm-template-pixel).
// [PAGE] "the TikTok pixel base code tracks a `Pageview` event on every page" (its `ttq.page()`):
//        Tealium's TikTok Pixel tag guide, https://docs.tealium.com/client-side-tags/tiktok-pixel-tag/
// [IDENT] `ttq.identify({ email, phone_number, external_id })`, values hashed by the Pixel when
//        sent in clear: Segment's TikTok Pixel destination (segmentio/action-destinations #1937)
//        and Hightouch, https://hightouch.com/docs/destinations/tiktok. The older
//        `sha256_email`/`sha256_phone_number` keys are taken too.
//
// What the stub leaves out on purpose: it sets no cookie (`_ttp` is read, like `_fbp` by the Meta
// stub), sends no value given to `identify` (key names only), and does not model cookie consent
// (`holdConsent`/`revokeConsent`/`grantConsent` are accepted and do nothing).

/** Where the stub is served: TikTok's own path, so only the host of the base code's URL changes. */
export const TIKTOK_PIXEL_SCRIPT_PATH = '/i18n/pixel/events.js';

/** Where the stub sends events. The mock's own path: TikTok's Pixel endpoint is not modelled. */
export const TIKTOK_PIXEL_BEACON_PATH = '/tiktok/pixel';

/** The largest beacon body the mock reads, as for Meta's `/tr`. */
export const MAX_TIKTOK_BEACON_BYTES = 64 * 1024;

/**
 * The events.js stub. It finds its endpoint next to its own URL (`document.currentScript`), takes
 * over the base code's `ttq` in place (the page may hold a reference to it), drains the global queue
 * and each pixel's, and answers later calls directly. Every entry point is wrapped: a page's bad
 * call or an unreachable mock never throws into the page.
 */
export const TIKTOK_PIXEL_STUB_SCRIPT = `/* capi-kit mock: a local stand-in for TikTok's Pixel library, events.js (@capi-kit/testing) */
(function (w, d) {
  'use strict';
  try {
    var me = d.currentScript && d.currentScript.src;
    var endpoint = new URL('${TIKTOK_PIXEL_BEACON_PATH}', me || location.href).href;
    var name = w.TiktokAnalyticsObject || 'ttq';
    var ttq = w[name];
    // The base code adds one script per ttq.load(): the first copy to run takes over, the others stop.
    if (ttq && ttq.__capiKitStub) return;
    if (!ttq) ttq = w[name] = [];
    var METHODS = ['page', 'track', 'identify', 'instances', 'debug', 'on', 'off', 'once', 'ready', 'alias', 'group',
      'enableCookie', 'disableCookie', 'holdConsent', 'revokeConsent', 'grantConsent'];
    var codes = [], keys = {}, allKeys = [], handles = {};
    var globalQueue = Array.prototype.slice.call(ttq);
    ttq.length = 0;
    ttq._i = ttq._i || {};
    function cookie(n) {
      return d.cookie.split('; ').some(function (c) { return c.indexOf(n + '=') === 0 && c.length > n.length + 1; });
    }
    function ttclid() {
      try { if (new URL(location.href).searchParams.get('ttclid')) return true; } catch (e) {}
      return cookie('ttclid');
    }
    function send(code, method, event, properties, options) {
      if (typeof event !== 'string' || event === '') return;
      var body = { v: 1, code: code, m: method, ev: event, url: location.href, ts: Date.now(),
        p: properties && typeof properties === 'object' ? properties : {}, user: keys[code] || allKeys,
        ttp: cookie('_ttp'), ttclid: ttclid() };
      if (options && options.event_id != null && options.event_id !== '') body.eid = String(options.event_id);
      var json;
      try { json = JSON.stringify(body); } catch (e) { return; }
      try {
        if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([json], { type: 'text/plain' }))) return;
      } catch (e) {}
      try { fetch(endpoint, { method: 'POST', mode: 'no-cors', keepalive: true, body: json }).catch(function () {}); } catch (e) {}
    }
    function register(code) {
      code = String(code);
      if (codes.indexOf(code) < 0) codes.push(code);
      return code;
    }
    // One call on one pixel (an instance) or, without one, on every loaded pixel.
    function call(only, method, a) {
      var targets = only ? [only] : codes.slice(), i;
      if (method === 'track') {
        var o = a[2];
        if (!only && o && typeof o === 'object' && o.pixel_code != null) targets = [register(o.pixel_code)];
        for (i = 0; i < targets.length; i++) send(targets[i], 'track', a[0], a[1], o);
      } else if (method === 'page') {
        for (i = 0; i < targets.length; i++) send(targets[i], 'page', 'Pageview', a[0], a[1]);
      } else if (method === 'identify') {
        var u = a[0];
        if (!u || typeof u !== 'object') return;
        var present = Object.keys(u).filter(function (k) { return u[k] != null && u[k] !== ''; });
        // A global identify also holds for pixels loaded later.
        if (!only) allKeys = present;
        for (i = 0; i < targets.length; i++) keys[targets[i]] = present;
      } else if (method === 'ready') {
        if (typeof a[0] === 'function') a[0]();
      }
    }
    function safe(only, method) {
      return function () {
        try { call(only, method, Array.prototype.slice.call(arguments)); } catch (e) {}
        return this;
      };
    }
    function upgrade(target, only) {
      for (var i = 0; i < METHODS.length; i++) target[METHODS[i]] = safe(only, METHODS[i]);
      // A stray push of [method, ...args] (the queue's own shape) is a call too.
      target.push = function (entry) {
        try { if (entry && entry.length) call(only, String(entry[0]), Array.prototype.slice.call(entry, 1)); } catch (e) {}
        return 0;
      };
    }
    function instance(code) {
      code = register(code);
      if (!handles[code]) {
        var queued = Array.prototype.slice.call(ttq._i[code] || []);
        var handle = ttq._i[code] || [];
        handle.length = 0;
        upgrade(handle, code);
        ttq._i[code] = handles[code] = handle;
        for (var q = 0; q < queued.length; q++) {
          try { call(code, String(queued[q][0]), Array.prototype.slice.call(queued[q], 1)); } catch (e) {}
        }
      }
      return handles[code];
    }
    upgrade(ttq, null);
    ttq.methods = METHODS;
    ttq.instance = function (code) {
      try { return instance(code); } catch (e) { return ttq; }
    };
    ttq.load = function (code, options) {
      try {
        instance(code);
        ttq._t = ttq._t || {};
        ttq._t[code] = ttq._t[code] || Date.now();
        ttq._o = ttq._o || {};
        ttq._o[code] = options || ttq._o[code] || {};
      } catch (e) {}
    };
    ttq.__capiKitStub = true;
    // The pixels the base code loaded, then what it queued for all of them, then each pixel's own.
    var loaded = Object.keys(ttq._i);
    for (var c = 0; c < loaded.length; c++) register(loaded[c]);
    for (var g = 0; g < globalQueue.length; g++) {
      try { call(null, String(globalQueue[g][0]), Array.prototype.slice.call(globalQueue[g], 1)); } catch (e) {}
    }
    for (c = 0; c < loaded.length; c++) instance(loaded[c]);
  } catch (e) {}
})(window, document);
`;

/** What the request that carried a beacon tells about the browser. */
export interface TikTokBeaconFacts {
  /** The request carried a `User-Agent` header. */
  hasUserAgent: boolean;
  /** The socket had a remote address. */
  hasIp: boolean;
  /** Arrival, epoch ms. */
  receivedAt: number;
}

/** `identify` keys, by the name TikTok's Events API gives the same field in `user` ([IDENT]). */
const IDENTIFY_KEYS: Readonly<Record<string, string>> = {
  email: 'email',
  sha256_email: 'email',
  phone_number: 'phone',
  sha256_phone_number: 'phone',
  external_id: 'external_id',
};

/** A pixel code, as the track endpoint checks `event_source_id` (validate-request.ts). */
const PIXEL_CODE = /^[A-Za-z0-9]{1,64}$/;

/**
 * A beacon body from the stub as a TikTok browser event, or the reason it is not one. Match keys
 * are named as in the Events API's `user` (`ip`, `user_agent`, `ttp`, `ttclid`, `email`, `phone`,
 * `external_id`) so the page lists both copies alike; names only, never a value.
 */
export const parseTikTokBeacon = (
  text: string,
  facts: TikTokBeaconFacts,
): { ok: true; event: MockTikTokBrowserEvent } | { ok: false; reason: string } => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  if (!isRecord(body)) return { ok: false, reason: 'the body is not a JSON object' };
  const { code, ev, eid, m, p, url, ts, user } = body;
  if (typeof code !== 'string' || !PIXEL_CODE.test(code)) {
    return { ok: false, reason: 'code must be a TikTok pixel code (letters and digits)' };
  }
  if (typeof ev !== 'string' || ev === '') return { ok: false, reason: 'ev must be an event name' };
  if (isEventNameTooLong(ev))
    return { ok: false, reason: `ev (the event name) ${EVENT_NAME_TOO_LONG}` };
  if (eid !== undefined && typeof eid !== 'string') {
    return { ok: false, reason: 'eid must be a string' };
  }
  const matchKeys: string[] = [];
  const add = (key: string) => {
    if (!matchKeys.includes(key)) matchKeys.push(key);
  };
  if (Array.isArray(user)) {
    for (const key of user) {
      const wire =
        typeof key === 'string' && Object.hasOwn(IDENTIFY_KEYS, key) && IDENTIFY_KEYS[key];
      if (wire) add(wire);
    }
  }
  if (body.ttclid === true) add('ttclid');
  if (body.ttp === true) add('ttp');
  if (facts.hasIp) add('ip');
  if (facts.hasUserAgent) add('user_agent');
  const eventTime =
    typeof ts === 'number' && Number.isFinite(ts) && ts > 0 ? ts / 1000 : facts.receivedAt / 1000;
  return {
    ok: true,
    event: {
      platform: 'tiktok',
      source: 'browser',
      pixelCode: code,
      event: ev,
      ...(eid === undefined || eid === '' ? {} : { event_id: eid }),
      method: m === 'page' ? 'page' : 'track',
      properties: isRecord(p) ? p : {},
      ...(typeof url === 'string' ? { page_url: url } : {}),
      event_time: Math.floor(eventTime),
      matchKeys,
      receivedAt: facts.receivedAt,
    },
  };
};

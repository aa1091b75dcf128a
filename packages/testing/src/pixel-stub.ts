import { EVENT_NAME_TOO_LONG, isEventNameTooLong } from './event-name-limit.js';
import type { MockBrowserEvent } from './recorder.js';

// A local stand-in for Meta's fbevents.js, served at `/fbevents.js`. It implements the part of
// `fbq` a page uses to send events (https://developers.facebook.com/docs/meta-pixel/reference):
// `init` (with Advanced Matching), `track`, `trackCustom`, `trackSingle`, `trackSingleCustom`
// with the `{ eventID }` option Meta deduplicates on, `consent`, and the queue of calls the base
// code keeps until the library loads. Each event goes to the mock's `POST /tr` as JSON (text/plain,
// so the cross-origin beacon needs no preflight). Advanced Matching values never leave the page:
// the stub sends key names only, which is all the Events Manager page shows.

/** The largest `/tr` body the mock reads; a Pixel event is a few hundred bytes. */
export const MAX_BEACON_BYTES = 64 * 1024;

/** The `fbevents.js` stub. `/tr` is found next to the script's own URL (`document.currentScript`). */
export const PIXEL_STUB_SCRIPT = `/* capi-kit mock: a local stand-in for Meta's fbevents.js (@capi-kit/testing) */
(function (w, d) {
  'use strict';
  var me = d.currentScript && d.currentScript.src;
  var endpoint = new URL('/tr', me || location.href).href;
  var pixels = [], keys = {}, granted = true;
  var f = w.fbq;
  if (!f) {
    f = w.fbq = function () { f.callMethod ? f.callMethod.apply(f, arguments) : f.queue.push(arguments); };
    f.push = f; f.loaded = true; f.version = '2.0'; f.queue = [];
    if (!w._fbq) w._fbq = f;
  }
  function cookie(name) {
    return d.cookie.split('; ').some(function (c) { return c.indexOf(name + '=') === 0 && c.length > name.length + 1; });
  }
  function send(id, method, name, data, options) {
    if (!granted || typeof name !== 'string' || name === '') return;
    var body = { v: 1, id: String(id), m: method, ev: name, dl: location.href, ts: Date.now(),
      cd: data && typeof data === 'object' ? data : {}, ud: keys[id] || [], fbp: cookie('_fbp'), fbc: cookie('_fbc') };
    if (options && options.eventID != null) body.eid = String(options.eventID);
    var json;
    try { json = JSON.stringify(body); } catch (e) { return; }
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([json], { type: 'text/plain' }))) return;
    } catch (e) {}
    fetch(endpoint, { method: 'POST', mode: 'no-cors', keepalive: true, body: json }).catch(function () {});
  }
  function call(method) {
    var a = arguments, i;
    if (method === 'init') {
      var id = String(a[1]);
      if (pixels.indexOf(id) < 0) pixels.push(id);
      if (a[2] && typeof a[2] === 'object') keys[id] = Object.keys(a[2]).filter(function (k) { return a[2][k] != null && a[2][k] !== ''; });
    } else if (method === 'track' || method === 'trackCustom') {
      for (i = 0; i < pixels.length; i++) send(pixels[i], method, a[1], a[2], a[3]);
    } else if (method === 'trackSingle' || method === 'trackSingleCustom') {
      send(String(a[1]), method, a[2], a[3], a[4]);
    } else if (method === 'consent') {
      granted = a[1] !== 'revoke';
    }
  }
  f.callMethod = call;
  var queued = f.queue || [];
  f.queue = [];
  for (var q = 0; q < queued.length; q++) call.apply(null, queued[q]);
})(window, document);
`;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the request that carried a beacon tells about the browser, as Meta's Pixel endpoint sees it. */
export interface BeaconRequestFacts {
  /** The request carried a `User-Agent` header. */
  hasUserAgent: boolean;
  /** The socket had a remote address. */
  hasIp: boolean;
  /** Arrival, epoch ms. */
  receivedAt: number;
}

/** Advanced Matching keys the Pixel accepts in `fbq('init', id, data)`. */
const ADVANCED_MATCHING_KEYS = new Set([
  'em',
  'ph',
  'fn',
  'ln',
  'ge',
  'db',
  'ct',
  'st',
  'zp',
  'country',
  'external_id',
]);

/**
 * A `/tr` body from the stub as a browser event, or the reason it is not one. Sizes are bounded by
 * {@link MAX_BEACON_BYTES}; names are kept as sent (the page escapes them).
 */
export const parseBeacon = (
  text: string,
  facts: BeaconRequestFacts,
): { ok: true; event: MockBrowserEvent } | { ok: false; reason: string } => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  if (!isRecord(body)) return { ok: false, reason: 'the body is not a JSON object' };
  const { id, ev, eid, m, cd, dl, ts, ud } = body;
  if (typeof id !== 'string' || !/^\d{1,32}$/.test(id)) {
    return { ok: false, reason: 'id must be a Pixel ID (digits)' };
  }
  if (typeof ev !== 'string' || ev === '') return { ok: false, reason: 'ev must be an event name' };
  if (isEventNameTooLong(ev))
    return { ok: false, reason: `ev (the event name) ${EVENT_NAME_TOO_LONG}` };
  if (eid !== undefined && typeof eid !== 'string')
    return { ok: false, reason: 'eid must be a string' };
  const matchKeys = ['client_ip_address', 'client_user_agent', 'fbp', 'fbc'].filter(
    (key) =>
      (key === 'client_ip_address' && facts.hasIp) ||
      (key === 'client_user_agent' && facts.hasUserAgent) ||
      (key === 'fbp' && body.fbp === true) ||
      (key === 'fbc' && body.fbc === true),
  );
  if (Array.isArray(ud)) {
    for (const key of ud) {
      if (typeof key === 'string' && ADVANCED_MATCHING_KEYS.has(key) && !matchKeys.includes(key)) {
        matchKeys.push(key);
      }
    }
  }
  const eventTime =
    typeof ts === 'number' && Number.isFinite(ts) ? Math.floor(ts / 1000) : facts.receivedAt / 1000;
  return {
    ok: true,
    event: {
      pixelId: id,
      event_name: ev,
      ...(eid === undefined || eid === '' ? {} : { event_id: eid }),
      method: typeof m === 'string' ? m : 'track',
      custom_data: isRecord(cd) ? cd : {},
      ...(typeof dl === 'string' ? { event_source_url: dl } : {}),
      event_time: Math.floor(eventTime),
      matchKeys,
      receivedAt: facts.receivedAt,
    },
  };
};

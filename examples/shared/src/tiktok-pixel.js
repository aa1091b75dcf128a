// @ts-check
// The TikTok Pixel on the examples' server-rendered landing page, beside Meta's (pixelSnippet):
// TikTok's base code, then the page's events with the server's event_id. (The Next.js example
// renders @capi-kit/next's <TikTokPixel/> instead.)
import { toInlineJson } from '@capi-kit/core';

/** TikTok's Pixel library, loaded when `TIKTOK_PIXEL_SCRIPT_URL` names no other (the mock's stub). */
export const DEFAULT_TIKTOK_PIXEL_SCRIPT_URL = 'https://analytics.tiktok.com/i18n/pixel/events.js';

/**
 * One browser copy for the TikTok Pixel, already in TikTok's names and properties
 * (`@capi-kit/browser`'s `toTikTokPixelEvent`), with the event ID the server used.
 * @typedef {{ event: string, properties: import('@capi-kit/browser').TikTokPixelProperties, event_id: string }} TikTokPageEvent
 */

/**
 * A `<script>` with TikTok's Pixel base code for `pixelCode`, loading events.js from `scriptUrl`,
 * that then fires each event as `ttq.track(event, properties, { event_id })`: TikTok deduplicates
 * it against the Events API copy with the same event name and `event_id`
 * (https://ads.tiktok.com/help/article/event-deduplication).
 *
 * The base code's shape is what events.js (and the mock's stub) takes over when it arrives:
 * `window.TiktokAnalyticsObject` naming the global, `ttq` an array whose methods queue
 * `[method, ...args]`, and `ttq.load(code)` recording the code in `ttq._i`/`_t`/`_o` and adding
 * `events.js?sdkid=<code>&lib=ttq` (the base code TikTok's Events Manager hands out; TikTok's GTM
 * template, https://github.com/tiktok/gtm-template-pixel). A page that already has `ttq` (a tag
 * manager) keeps it.
 * @param {{ pixelCode: string, scriptUrl?: string | undefined, events?: TikTokPageEvent[] }} options
 */
export function tiktokPixelSnippet({ pixelCode, scriptUrl, events = [] }) {
  const config = toInlineJson({
    code: pixelCode,
    src: scriptUrl ?? DEFAULT_TIKTOK_PIXEL_SCRIPT_URL,
    events,
  });
  return `<script>(function (w, d, c) {
  var ttq = w.ttq;
  if (!ttq) {
    w.TiktokAnalyticsObject = 'ttq';
    ttq = w.ttq = [];
    ttq.methods = ['page', 'track', 'identify', 'instances', 'debug', 'on', 'off', 'once', 'ready',
      'alias', 'group', 'enableCookie', 'disableCookie', 'holdConsent', 'revokeConsent', 'grantConsent'];
    ttq.setAndDefer = function (target, method) {
      target[method] = function () { target.push([method].concat(Array.prototype.slice.call(arguments))); };
    };
    for (var i = 0; i < ttq.methods.length; i++) ttq.setAndDefer(ttq, ttq.methods[i]);
    ttq.instance = function (code) {
      var queue = (ttq._i && ttq._i[code]) || [];
      for (var j = 0; j < ttq.methods.length; j++) ttq.setAndDefer(queue, ttq.methods[j]);
      return queue;
    };
    ttq.load = function (code, options) {
      ttq._i = ttq._i || {}; ttq._i[code] = []; ttq._i[code]._u = c.src;
      ttq._t = ttq._t || {}; ttq._t[code] = +new Date();
      ttq._o = ttq._o || {}; ttq._o[code] = options || {};
      var script = d.createElement('script');
      script.async = true;
      script.src = c.src + '?sdkid=' + encodeURIComponent(code) + '&lib=ttq';
      (d.head || d.documentElement).appendChild(script);
    };
  }
  if (!(ttq._i && ttq._i[c.code])) {
    ttq.load(c.code);
    ttq.page();
  }
  for (var k = 0; k < c.events.length; k++) {
    var e = c.events[k];
    ttq.track(e.event, e.properties, { event_id: e.event_id });
  }
})(window, document, ${config});</script>`;
}

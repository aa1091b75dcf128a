// @ts-check
import { toTikTokPixelEvent } from '@capi-kit/browser';
import { pixelSnippet, toInlineJson } from '@capi-kit/core';
import { tiktokPixelSnippet } from './tiktok-pixel.js';

/** What the page's Buy button orders: the purchase's `custom_data`, for the server and the Pixels. */
const PURCHASE = { value: 42.5, currency: 'USD' };

/**
 * The buttons' TikTok line: the TikTok Pixel's copy of the event the server answered, with its ID.
 * @param {Record<string, ReturnType<typeof toTikTokPixelEvent>>} tiktok
 */
const tiktokCopy = (tiktok) => `
    const tt = ${toInlineJson(tiktok)}[eventName];
    if (tt && window.ttq && typeof window.ttq.track === 'function') {
      window.ttq.track(tt.event, tt.properties, { event_id: answer.event_id });
    }`;

/**
 * What the page's two buttons do: the server tracks the event (`POST /lead`, `POST /purchase`) and
 * answers its `event_id`; the Pixel then fires the browser copy with that ID, so Meta counts the
 * pair once (and the mock's Events Manager page shows it deduplicated). With TikTok, the TikTok
 * Pixel fires its copy too, with the same ID, in TikTok's names and properties (`tiktok`, mapped
 * on the server by `@capi-kit/browser`'s `toTikTokPixelEvent`, the mapping its `createPixel` uses),
 * so TikTok counts its pair once as well.
 * @param {Record<string, ReturnType<typeof toTikTokPixelEvent>> | null} tiktok
 */
const buttons = (tiktok) => `(() => {
  const status = document.getElementById('status');
  const send = async (path, body, eventName, data) => {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      status.textContent = answer.error;
      return;
    }
    if (typeof fbq === 'function') fbq('track', eventName, data, { eventID: answer.event_id });${
      tiktok === null ? '' : tiktokCopy(tiktok)
    }
    status.textContent = eventName + ' sent by the server and the ${
      tiktok === null ? 'Pixel' : 'Meta and TikTok Pixels'
    } with event_id ' + answer.event_id;
  };
  const buyer = { email: 'jane@example.com' };
  document.getElementById('lead').addEventListener('click', () => send('/lead', buyer, 'Lead', {}));
  document.getElementById('purchase').addEventListener('click', () => {
    const purchase = ${toInlineJson(PURCHASE)};
    const order = { ...buyer, ...purchase, order_id: 'ORD-' + Date.now() };
    send('/purchase', order, 'Purchase', purchase);
  });
})();`;

/**
 * The landing page: the Pixel fires `PageView` with the server event's ID, so Meta counts it once;
 * two buttons do the same for a `Lead` and a `Purchase`. With `tiktok` (see `tiktokPixelFromEnv`)
 * the page also loads the TikTok Pixel, which fires the same three events with the same IDs.
 * @param {{ pixelId: string, eventId: string, scriptUrl?: string | undefined, framework: string, tiktok?: import('./tiktok.js').TikTokPagePixel | undefined }} page
 */
export function landingPage({ pixelId, eventId, scriptUrl, framework, tiktok }) {
  const pixel = pixelSnippet({
    pixelId,
    events: [{ event_name: 'PageView', event_id: eventId }],
    ...(scriptUrl && { scriptUrl }),
  });
  const tiktokPixel =
    tiktok === undefined
      ? ''
      : tiktokPixelSnippet({
          pixelCode: tiktok.pixelCode,
          scriptUrl: tiktok.scriptUrl,
          events: [{ ...toTikTokPixelEvent('PageView'), event_id: eventId }],
        });
  const tiktokCopies =
    tiktok === undefined
      ? null
      : {
          Lead: toTikTokPixelEvent('Lead', {}),
          Purchase: toTikTokPixelEvent('Purchase', PURCHASE),
        };
  const platforms =
    tiktok === undefined ? 'Meta twice, by the Pixel' : 'Meta and to TikTok, each by its Pixel';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>capi-kit ${framework} example</title>${pixel}${tiktokPixel}</head>
<body>
<h1>capi-kit ${framework} example</h1>
<p>This page view was sent to ${platforms} and by the server, with one event ID.</p>
<p><button type="button" id="lead">Sign up (Lead)</button>
<button type="button" id="purchase">Buy (Purchase)</button></p>
<p id="status" role="status"></p>
<script>${buttons(tiktokCopies)}</script>
</body>
</html>`;
}

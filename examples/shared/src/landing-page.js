// @ts-check
import { pixelSnippet } from '@capi-kit/core';

/**
 * What the page's two buttons do: the server tracks the event (`POST /lead`, `POST /purchase`) and
 * answers its `event_id`; the Pixel then fires the browser copy with that ID, so Meta counts the
 * pair once (and the mock's Events Manager page shows it deduplicated).
 */
const BUTTONS = `(() => {
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
    if (typeof fbq === 'function') fbq('track', eventName, data, { eventID: answer.event_id });
    status.textContent = eventName + ' sent by the server and the Pixel with event_id ' + answer.event_id;
  };
  const buyer = { email: 'jane@example.com' };
  document.getElementById('lead').addEventListener('click', () => send('/lead', buyer, 'Lead', {}));
  document.getElementById('purchase').addEventListener('click', () => {
    const purchase = { value: 42.5, currency: 'USD' };
    const order = { ...buyer, ...purchase, order_id: 'ORD-' + Date.now() };
    send('/purchase', order, 'Purchase', purchase);
  });
})();`;

/**
 * The landing page: the Pixel fires `PageView` with the server event's ID, so Meta counts it once;
 * two buttons do the same for a `Lead` and a `Purchase`.
 * @param {{ pixelId: string, eventId: string, scriptUrl?: string | undefined, framework: string }} page
 */
export function landingPage({ pixelId, eventId, scriptUrl, framework }) {
  const pixel = pixelSnippet({
    pixelId,
    events: [{ event_name: 'PageView', event_id: eventId }],
    ...(scriptUrl && { scriptUrl }),
  });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>capi-kit ${framework} example</title>${pixel}</head>
<body>
<h1>capi-kit ${framework} example</h1>
<p>This page view was sent to Meta twice, by the Pixel and by the server, with one event ID.</p>
<p><button type="button" id="lead">Sign up (Lead)</button>
<button type="button" id="purchase">Buy (Purchase)</button></p>
<p id="status" role="status"></p>
<script>${BUTTONS}</script>
</body>
</html>`;
}

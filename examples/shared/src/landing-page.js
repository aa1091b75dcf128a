// @ts-check
import { pixelSnippet } from '@capi-kit/core';

/**
 * The landing page: the Pixel fires `PageView` with the server event's ID, so Meta counts it once.
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
</body>
</html>`;
}

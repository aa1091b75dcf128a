// `@capi-kit/next/client` loaded the way Jest loads it in a test set up as `next/jest` shows: with
// `require()` only (no require(esm): run with `--no-experimental-require-module`) and the `browser`
// export condition of `testEnvironment: 'jsdom'` (run with `--conditions=browser`). The page's
// PageView is tracked on the server with the core (its web build, picked by that condition) and
// rendered into <MetaPixel/> with the same event ID. Prints what arrived and what rendered as JSON.
const { createElement } = require('react');
const { renderToString } = require('react-dom/server');
const { MetaPixel, trackPixel } = require('@capi-kit/next/client');
const { createCapi } = require('@capi-kit/core');
const { startMockGraph } = require('@capi-kit/testing');

const PIXEL_ID = '1234567890';
const TOKEN = 'smoke-token';

async function main() {
  const mock = await startMockGraph({ accessToken: TOKEN });
  const capi = createCapi({
    pixelId: PIXEL_ID,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
  });
  const { event_id } = capi.track({
    event_name: 'PageView',
    action_source: 'website',
    event_source_url: 'https://shop.example.com/',
    user_data: { client_user_agent: 'SmokeUA/1.0', client_ip_address: '203.0.113.9' },
  });
  const html = renderToString(
    createElement(MetaPixel, { pixelId: PIXEL_ID, events: [{ event_name: 'PageView', event_id }] }),
  );
  // During a server render there is no Pixel: trackPixel returns an ID and does nothing else.
  const serverTrack = typeof trackPixel('Lead');
  await capi.close();
  const arrived = mock.events().map((e) => ({ pixelId: e.pixelId, event: e.event }));
  await mock.close();
  const platformModules = Object.keys(require.cache)
    .filter((file) => file.includes('@capi-kit/core/dist/platform/'))
    .map((file) => file.slice(file.lastIndexOf('/') + 1));
  console.log(
    `SMOKE_RESULT ${JSON.stringify({ event_id, html, serverTrack, arrived, platformModules })}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

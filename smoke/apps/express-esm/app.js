// An Express app as users write it (ESM), against the installed tarballs: a Lead tracked in a
// route reaches the mock Graph API. Prints what arrived as JSON; the smoke test asserts on it.
import { once } from 'node:events';
import { capi } from '@capi-kit/express';
import { startMockGraph } from '@capi-kit/testing';
import express from 'express';

const PIXEL_ID = '1234567890';
const TOKEN = 'smoke-token';

const mock = await startMockGraph({ accessToken: TOKEN });
const tracking = capi({
  env: { META_PIXEL_ID: PIXEL_ID, META_ACCESS_TOKEN: TOKEN, META_GRAPH_URL: mock.url },
});
const app = express();
app.use(express.json());
app.use(tracking);
app.post('/lead', (req, res) => {
  const { event_id } = req.capi.track('Lead', { user_data: { em: req.body.email } });
  res.json({ event_id });
});
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

const answer = await fetch(`http://127.0.0.1:${port}/lead`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'user-agent': 'SmokeUA/1.0' },
  body: JSON.stringify({ email: ' Smoke@Example.com ' }),
});
const { event_id } = await answer.json();
await tracking.close();
server.close();
const arrived = mock.events().map((e) => ({ pixelId: e.pixelId, event: e.event }));
await mock.close();
console.log(`SMOKE_RESULT ${JSON.stringify({ event_id, arrived })}`);

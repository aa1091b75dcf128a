// A CommonJS app, as most Express 4 apps are: require() the built package by name.
const { capi, trackConversion } = require('@capi-kit/express');

async function run(express) {
  const tracking = capi({ trustProxy: 'loopback' }); // credentials from META_* env
  const app = express();
  app.use(tracking);
  app.get('/', trackConversion('ViewContent'), (req, res) => {
    res.json({ lead: req.capi.track('Lead', { user_data: { em: 'cjs@example.com' } }) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const res = await fetch(`http://127.0.0.1:${server.address().port}/?fbclid=IwAR0cjs`, {
    headers: { 'user-agent': 'cjs-consumer', 'x-forwarded-for': '203.0.113.3' },
  });
  const body = await res.json();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await tracking.close();
  return { status: res.status, cookies: res.headers.getSetCookie(), body };
}

(async () => {
  const out = { express5: await run(require('express')), express4: await run(require('express4')) };
  process.stdout.write(JSON.stringify(out));
})();

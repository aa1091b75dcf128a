// A CommonJS app: require() the built package by name.
const capiKit = require('@capi-kit/fastify');

async function run(Fastify, plugin) {
  const app = Fastify();
  await app.register(plugin, { trustProxy: 'loopback' }); // credentials from META_* env
  app.get('/', { config: { capi: { event: 'ViewContent' } } }, (request) => ({
    lead: request.capi.track('Lead', { user_data: { em: 'cjs@example.com' } }),
  }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${url}/?fbclid=IwAR0cjs`, {
    headers: { 'user-agent': 'cjs-consumer', 'x-forwarded-for': '203.0.113.3' },
  });
  const body = await res.json();
  await app.close(); // onClose sends what is queued
  return { status: res.status, cookies: res.headers.getSetCookie(), body };
}

(async () => {
  const out = {
    // The named export, and the whole module (Fastify unwraps its `default`).
    fastify5: await run(require('fastify'), capiKit.capiPlugin),
    fastify4: await run(require('fastify4'), capiKit),
  };
  process.stdout.write(JSON.stringify(out));
})();

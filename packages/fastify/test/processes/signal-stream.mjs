// A Fastify app with a response that never ends (a stream), closed on SIGTERM or SIGINT by the
// README's shutdown snippet (test/readme-snippets/shutdown.ts; shutdown-process.test.ts checks the
// handler below is the snippet's, word for word). argv: the mock Graph API's URL. Prints one JSON
// line with the app's URL once it listens.
import { capiPlugin } from '@capi-kit/fastify';
import Fastify from 'fastify';

const app = Fastify();
await app.register(capiPlugin, {
  pixelId: '1234567890',
  accessToken: 'EAAfaststreamtoken',
  graphUrl: process.argv[2],
  env: false,
  trustProxy: 'loopback',
  // Only close() sends: an event delivered later proves the onClose hook ran.
  flushIntervalMs: 600_000,
});
app.get('/stream', (request, reply) => {
  request.capi.track('ViewContent');
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
  reply.raw.write('data: started\n\n');
  reply.hijack(); // never ended: a server-sent events stream
});
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }));

// SIGTERM from Docker, Kubernetes and systemd; SIGINT from PM2 and Ctrl-C.
const shutdown = () => {
  // A stream or a long poll holds app.close() until it ends: after 10 s its connection is cut,
  // and the plugin's onClose hook still sends what is queued.
  setTimeout(() => app.server.closeAllConnections(), 10_000).unref();
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

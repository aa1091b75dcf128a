// An Express app with a response that never ends (a stream), closed on SIGTERM or SIGINT by the
// README's shutdown snippet (test/readme-snippets/shutdown.ts; shutdown-process.test.ts checks the
// handler below is the snippet's, word for word). argv: the mock Graph API's URL. Prints one JSON line
// with the app's URL once it listens.
import { capi } from '@capi-kit/express';
import express from 'express';

const app = express();
const tracking = capi({
  pixelId: '1234567890',
  accessToken: 'EAAexpressstreamtoken',
  graphUrl: process.argv[2],
  env: false,
  trustProxy: 'loopback',
  // Only close() sends: an event delivered later proves the handler closed the client.
  flushIntervalMs: 600_000,
});
app.use(tracking);
app.get('/stream', (req, res) => {
  req.capi.track('ViewContent');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('data: started\n\n'); // never ended: a server-sent events stream
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }));
});

// SIGTERM from Docker, Kubernetes and systemd; SIGINT from PM2 and Ctrl-C.
const shutdown = () => {
  // A stream or a long poll holds server.close() until it ends: after 10 s its connection is cut,
  // and the callback still sends what is queued.
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
  server.close(async () => {
    await tracking.close(); // sends what is still queued (within 2 s by default)
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

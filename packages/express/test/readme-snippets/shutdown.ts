import { app, tracking } from './usage.js';

const server = app.listen(3000);
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

import { app } from './usage.js';

await app.listen({ port: 3000 });
// app.close() runs the plugin's onClose hook, which sends what is still queued.
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

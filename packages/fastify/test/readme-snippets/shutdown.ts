import { app } from './usage.js';

await app.listen({ port: 3000 });
// app.close() runs the plugin's onClose hook, which sends what is still queued.
process.on('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});

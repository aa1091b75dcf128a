import { app, tracking } from './usage.js';

const server = app.listen(3000);
process.on('SIGTERM', () => {
  server.close(async () => {
    await tracking.close(); // sends what is still queued (within 2 s by default)
    process.exit(0);
  });
});

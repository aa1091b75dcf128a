// @ts-check
import { start } from './app.js';

const app = await start();
console.log(`capi-kit Express example listening on ${app.url}`);
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}

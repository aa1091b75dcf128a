import { createCapi } from '@capi-kit/core';
import { sqliteOutbox } from '@capi-kit/outbox-sqlite';

const outbox = sqliteOutbox({ path: './var/capi-outbox.db' });
const capi = createCapi({
  pixelId: process.env.META_PIXEL_ID,
  accessToken: process.env.META_ACCESS_TOKEN,
  outbox,
});
// …
await capi.close(); // sends what it can, commits the rest to the file, closes the outbox

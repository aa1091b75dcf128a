// The root README's "Never lose an event" block, its BullMQ lines as shown there (the sqliteOutbox
// line is left out: this package does not depend on @capi-kit/outbox-sqlite). `tsc -p
// tsconfig.json` checks that they compile; test/readme.test.ts that the README shows them verbatim.
import { createCapi } from '@capi-kit/core';
import { bullmqOutbox, createCapiWorker } from '../../src/index.js';

declare const pixelId: string;
declare const accessToken: string;

// README below
const connection = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'; // or an ioredis instance
createCapi({ pixelId, accessToken, outbox: bullmqOutbox({ connection }) });
createCapiWorker({ connection, pixelId, accessToken }); // worker processes

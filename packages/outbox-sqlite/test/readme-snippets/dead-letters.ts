import { sqliteOutbox } from '@capi-kit/outbox-sqlite';

const outbox = sqliteOutbox({ path: './var/capi-outbox.db' }); // the one given to createCapi

outbox.stats();
// { queued, leased, bytes, pixels: {…}, pending (not yet committed), evicted, commits,
//   deadLettered (this run), deadLetters (rows in the table),
//   memory (held in memory only), writeFailing, writeFailures, writeFailingSince?, lastWriteError? }

outbox.deadLetters({ limit: 50, pixelId: '123' }); // limit: 100 by default, Infinity for all
// [{ id, eventId, eventName, eventTime, body, attempts, enqueuedAt, deadAt,
//    error: 'HTTP 400 code 100/2804019: Invalid parameter — The parameter … is required.' }]

outbox.retryDeadLetters(); // all, or retryDeadLetters([id, …]): back in the queue, attempts reset;
//                            the attached client sends them right away
outbox.purgeDeadLetters(); // all, or by id

// Case i: a durable outbox that answers asynchronously (a database), holding a previous run's
// records, whose start-up stats() is slow (FAULT_STATS_MS) or refused a few times first
// (FAULT_STATS_REFUSALS: a database still starting). The script tracks at once, before the count
// is known, and then simply ends: the previous run's records and this run's must be delivered,
// each counted once, and the process must end on its own. The outbox is a JSON file
// (FAULT_OUTBOX_FILE) the test wrote: read at start, written back at exit with what it still
// holds, so the test sees both the mock's records and what the next process would find.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { installShutdownHooks, memoryOutbox } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const file = process.env.FAULT_OUTBOX_FILE;
const statsMs = Number(process.env.FAULT_STATS_MS ?? 0);
let refusals = Number(process.env.FAULT_STATS_REFUSALS ?? 0);
/** How long an append takes (FAULT_WRITE_MS): a database as slow to write as to count. */
const writeMs = Number(process.env.FAULT_WRITE_MS ?? 1);

const memory = memoryOutbox();
memory.append(JSON.parse(readFileSync(file, 'utf8')));
/** Every answer a moment later, as a database's would be. */
const later = (fn, ms = 1) =>
  new Promise((resolve, reject) =>
    setTimeout(() => {
      try {
        resolve(fn());
      } catch (error) {
        reject(error);
      }
    }, ms),
  );
let statsCalls = 0;
let outboxClosed = false;
const outbox = {
  durable: true,
  append: (records) => later(() => memory.append(records), writeMs),
  claim: (limit, leaseMs, options) => later(() => memory.claim(limit, leaseMs, options)),
  ack: (ids) => later(() => memory.ack(ids)),
  nack: (ids, retryAt, error) => later(() => memory.nack(ids, retryAt, error)),
  release: (ids, retryAt) => later(() => memory.release(ids, retryAt)),
  deadLetter: (ids, error) => later(() => memory.deadLetter(ids, error)),
  stats: () => {
    statsCalls++;
    return later(() => {
      if (refusals-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return memory.stats();
    }, statsMs);
  },
  close: () => {
    outboxClosed = true;
  },
};

const { client, trackAll, report } = startClient({ outbox });
/** What the next process would find: every record still held, leased ones included. */
const persist = () =>
  writeFileSync(file, JSON.stringify(memory.claim(Number.MAX_SAFE_INTEGER, 60_000, { all: true })));

if (process.env.FAULT_SIGTERM) {
  // Case i3: a server (it keeps the process alive) with installShutdownHooks; the test sends
  // SIGTERM once the events are tracked, the count still out. The process dies of the re-raised
  // signal, so the result and the file are written from the close the hooks call.
  const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  installShutdownHooks(
    {
      close: async (options) => {
        await client.close(options);
        report({ afterClose: true, outboxClosed, statsCalls });
        persist();
      },
    },
    { timeoutMs: config.shutdownTimeoutMs ?? 2000 },
  );
  server.once('listening', () => {
    trackAll();
    emit({ type: 'tracked' });
  });
} else {
  process.on('exit', () => {
    report({ atExit: true, outboxClosed, statsCalls });
    persist();
  });
  trackAll();
}

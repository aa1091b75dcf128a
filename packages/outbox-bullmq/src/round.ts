import {
  type CapiHookMap,
  type CapiOptions,
  createCapi,
  memoryOutbox,
  type Outbox,
  type OutboxRecord,
  type RetryInfo,
} from '@capi-kit/core';

// One attempt of a job: its events run once through the core's engine (a short-lived client of
// the job's stream alone), so a worker sends exactly as `createCapi` does: the stream's envelope,
// classifier, acknowledgement, limits, redaction and bisection. What became of each event decides
// what BullMQ does with the job.

/** How one job's events fared in one round of the engine. */
export interface Round {
  delivered: OutboxRecord[];
  rejected: { record: OutboxRecord; error: string }[];
  /** Not delivered, not rejected: back to BullMQ. */
  pending: OutboxRecord[];
  /** Why they are pending. */
  retry: RetryInfo | undefined;
  authError: Error | undefined;
}

/** The engine's hooks a worker passes on (`worker.on`). */
const ENGINE_HOOKS: readonly (keyof CapiHookMap)[] = [
  'sent',
  'retry',
  'dropped',
  'deadLetter',
  'error',
  'warn',
];

/** Runs the job's events through the core engine once and reports each event's fate. */
export const deliverOnce = async (
  engine: CapiOptions,
  records: readonly OutboxRecord[],
  emit: <K extends keyof CapiHookMap>(name: K, info: CapiHookMap[K]) => void,
): Promise<Round> => {
  const memory = memoryOutbox({ maxEvents: Number.MAX_SAFE_INTEGER, maxBytes: Infinity });
  memory.append(records.map((r) => ({ ...r, attempts: 0, retryAt: 0 })));
  const fate = new Map<string, 'acked' | 'dead' | 'back'>();
  const errors = new Map<string, string>();
  // The engine's view of this job: its records are "left over from a previous run" (durable),
  // so createCapi adopts and sends them at once, and close() keeps whatever it did not settle.
  const outbox: Outbox = {
    durable: true,
    append: (r) => memory.append(r),
    claim: (limit, leaseMs, o) => memory.claim(limit, leaseMs, o),
    ack: (ids) => {
      for (const id of ids) fate.set(id, 'acked');
      memory.ack(ids);
    },
    nack: (ids, retryAt, error) => {
      for (const id of ids) fate.set(id, 'back');
      memory.nack(ids, retryAt, error);
    },
    release: (ids, retryAt) => {
      for (const id of ids) fate.set(id, 'back');
      memory.release(ids, retryAt);
    },
    deadLetter: (ids, error) => {
      for (const id of ids) {
        fate.set(id, 'dead');
        errors.set(id, error);
      }
      memory.deadLetter(ids, error);
    },
    stats: () => memory.stats(),
  };
  let retry: RetryInfo | undefined;
  let authError: Error | undefined;
  const client = createCapi({ ...engine, outbox, flushIntervalMs: 0 });
  for (const name of ENGINE_HOOKS) {
    client.on(name, (info) => {
      if (name === 'retry') retry = info as RetryInfo;
      if (name === 'error' && (info as CapiHookMap['error']).kind === 'auth') {
        authError = (info as CapiHookMap['error']).error;
      }
      emit(name, info as never);
    });
  }
  await client.flush();
  await client.close({ timeoutMs: 0 });
  const round: Round = { delivered: [], rejected: [], pending: [], retry, authError };
  for (const record of records) {
    const f = fate.get(record.id);
    if (f === 'acked') round.delivered.push(record);
    else if (f === 'dead') round.rejected.push({ record, error: errors.get(record.id) ?? '' });
    else round.pending.push(record);
  }
  return round;
};

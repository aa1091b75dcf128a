import type { OutboxRecord } from './outbox/types.js';

// A pixel sends at most `maxConcurrency` requests at once (one while probing after a failure):
// each is a slot, which tracks its events until every one is accounted for elsewhere.

/** One concurrency slot: one request. */
export interface Slot {
  controller: AbortController | undefined;
  aborted: boolean;
  /** Records of this request set aside for bisection: not settled yet, for `flush()`. */
  suspected: number;
  /** Events of this request not yet accounted elsewhere (sent, queued, dead-lettered): `inFlight`. */
  events: number;
  /** Their bytes. */
  bytes: number;
  /** The auth circuit's state it was sent in (`SendGate.starting`): only then may its answer change the circuit. */
  circuitStamp: number;
  /** When the outbox lease of these records ends (scheduling clock). */
  leaseUntil: number;
  /** The records behind `events`: those of this request not yet accounted elsewhere. */
  unlanded: readonly OutboxRecord[];
  /**
   * Its answer is being recorded (outbox calls in progress): the records in `unlanded` are this
   * request's to count, and a shutdown sweep leaves them to it.
   */
  settling: boolean;
}

/** A part of a rejected batch waiting for its own request; its records are still leased. */
export interface Part {
  records: OutboxRecord[];
  leaseUntil: number;
}

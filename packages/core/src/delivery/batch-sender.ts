import type { OutboxRecord } from './outbox/types.js';
import type { PipeConfig } from './pipe-config.js';
import type { Slot } from './slots.js';
import { buildBody, postBatch } from './transport.js';
import { type Verdict, verdictOf } from './verdict.js';

// One request of a stream: the batch's body encoded (into the buffer the last settled request
// left), posted with the request's abort controller in its slot, and its outcome read as a
// `Verdict` (verdict.ts). What the verdict does to the records is answer-handling.ts's; which
// records go, and when, is send-loop.ts's.

/** Sends one stream's batches, reusing one body buffer between settled requests. */
export class BatchSender {
  /**
   * The body buffer of the last settled request, reused by the next one: keeps garbage (and page
   * faults) off the send path. At most one per pixel, as large as the largest body sent.
   */
  private spareBody: Uint8Array<ArrayBuffer> | undefined;

  constructor(private readonly config: PipeConfig) {}

  /** Posts `records` as one request of `slot` (unless close() aborted it) and reads the answer. */
  async send(records: readonly OutboxRecord[], slot: Slot): Promise<Verdict> {
    const { config } = this;
    if (slot.aborted)
      return { cls: 'aborted', status: 0, durationMs: 0, message: 'aborted by close()' };
    const controller = new AbortController();
    slot.controller = controller;
    const body = buildBody(config.endpoint, records, this.spareBody);
    this.spareBody = undefined;
    const outcome = await postBatch(config.fetch, config.endpoint.url, body, {
      headers: config.endpoint.headers,
      timeoutMs: config.timeoutMs,
      clock: config.clock,
      controller,
    });
    // Settled: `fetch` copies the body when it is called (Fetch standard, "extract a body"), and a
    // wrapper is done with it once its answer is in, so the buffer can carry the next batch. Not
    // after a timeout or an abort: a `fetch` that ignores its signal (an old polyfill writing a
    // view of it to a socket it waits for) may still send it, and would send the next batch's
    // bytes over this one's.
    if (
      outcome.kind === 'response' ||
      outcome.kind === 'unreadable' ||
      outcome.kind === 'network'
    ) {
      this.spareBody = new Uint8Array(body.buffer);
    }
    slot.controller = undefined;
    return verdictOf(outcome, records, config);
  }
}

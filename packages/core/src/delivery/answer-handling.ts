import type { SuspectParts } from './bisection.js';
import { splitRejected } from './bisection.js';
import { META_DESTINATION } from './destination.js';
import type { OutboxRecord } from './outbox/types.js';
import type { RecordOwnership } from './ownership.js';
import type { PipeConfig } from './pipe-config.js';
import type { PipeCounts } from './pipe-counts.js';
import { ids, refs } from './pipe-counts.js';
import { answerFields, type PipeLog } from './pipe-log.js';
import type { SendGate } from './send-gate.js';
import type { ShutdownSweep } from './shutdown-sweep.js';
import type { Slot } from './slots.js';
import type { CapiDeliveryError, DeadLetterReason, SentInfo } from './types.js';
import { deliveryError, isNotPlatformAnswer, refusesRequest, type Verdict } from './verdict.js';

// What one request's answer does to its records (docs/architecture.md, delivery guarantees):
// acknowledged (the `sent` hook, a half-open auth circuit closed); rejected (the event the platform
// named dead-lettered, the rest taken apart by bisection.ts); refused credentials (the auth circuit
// opened in send-gate.ts, the records kept); throttled or failed (the records given back with a
// backoff, or dead-lettered once out of attempts). Each outbox call is followed, in the same
// synchronous step, by the counters' move (pipe-counts.ts). Reading the answer is verdict.ts's,
// sending it batch-sender.ts's, and when the records go out again send-loop.ts's.

/** What answer handling needs of the pipe it belongs to. */
export interface AnswerHandlingDeps {
  config: PipeConfig;
  /** The platform as log lines name it (`Meta`, `TikTok`). */
  label: string;
  counts: PipeCounts;
  owners: RecordOwnership;
  gate: SendGate;
  say: PipeLog;
  suspects: SuspectParts;
  sweeps: ShutdownSweep;
  /** The pipe stopped for good (close or exit). */
  stopped(): boolean;
  /** Records may be in reach of a claim again: an empty claim made before now is stale. */
  mayHaveRecords(): void;
}

/** One stream's handling of its requests' answers, and of records given back to its outbox. */
export class AnswerHandling {
  private readonly pixelId: string;
  /** Where the `sent` hook puts the trace id: `fbtraceId` predates destinations and stays Meta's. */
  private readonly traceField: 'fbtraceId' | 'traceId';

  constructor(private readonly deps: AnswerHandlingDeps) {
    this.pixelId = deps.config.pixelId;
    this.traceField = deps.config.destination.name === META_DESTINATION ? 'fbtraceId' : 'traceId';
  }

  /** Records `records`' fate from the answer to their request (`slot`). */
  handle(records: OutboxRecord[], verdict: Verdict, slot: Slot): Promise<void> {
    // From here its records are this request's to count, even past a shutdown (ownership.ts).
    slot.settling = true;
    if (verdict.cls === 'success') return this.delivered(records, verdict, slot);
    if (verdict.cls === 'invalid') return this.rejected(records, verdict, slot);
    return this.failed(records, verdict, slot);
  }

  private async delivered(
    records: readonly OutboxRecord[],
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    const { config, counts, say } = this.deps;
    await config.outbox.ack(ids(records));
    counts.delivered(slot, records);
    this.deps.owners.counted(records);
    config.acknowledged?.(records);
    if (this.deps.gate.succeeded(slot.circuitStamp)) {
      say.line('info', { pixelId: this.pixelId }, 'capi-kit: probe succeeded, circuit closed');
    }
    // The destination's classifier made sure this acknowledges every event sent.
    let ack: ReturnType<PipeConfig['destination']['acknowledgement']> = {};
    try {
      ack = config.destination.acknowledgement(verdict.body) ?? {};
    } catch {
      // Only the hook's figures come from it: the delivery stands.
    }
    const received = typeof ack.received === 'number' ? ack.received : undefined;
    const traceId = ack.traceId;
    config.hooks.emit('sent', () => {
      const info: SentInfo = {
        pixelId: this.pixelId,
        count: records.length,
        eventIds: records.map((r) => r.eventId),
        durationMs: verdict.durationMs,
      };
      if (received !== undefined) info.eventsReceived = received;
      if (typeof traceId === 'string') info[this.traceField] = config.redact(traceId);
      return info;
    });
    say.line(
      'debug',
      { pixelId: this.pixelId, count: records.length, durationMs: verdict.durationMs },
      'capi-kit: batch sent',
    );
  }

  /** Transient, throttled, auth or aborted: the records go back (or to the dead letters). */
  private async failed(
    records: readonly OutboxRecord[],
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    const { config, counts, gate, say } = this.deps;
    const { outbox, clock, retry } = config;
    const now = clock.now();
    if (verdict.warning !== undefined) say.warning(verdict);
    // Other parts of a rejected batch keep waiting for their turn through the pause: a failure of
    // one part says nothing about them (a part whose lease runs short meanwhile is given back when
    // its turn comes, see SendLoop.fillSlots).
    switch (verdict.cls) {
      case 'aborted': {
        await this.putBack(records, slot, () => outbox.release(ids(records), now));
        return;
      }
      case 'auth': {
        // A request sent before the circuit opened, or before a probe or resume() closed it, is
        // put back without touching the circuit (send-gate.ts): one error per opening.
        const opened = gate.authRefused(now, slot.circuitStamp);
        // Kept (bounded by the queue limits) and ready the moment resume() closes the circuit.
        await this.putBack(records, slot, () => outbox.release(ids(records), now));
        if (opened) {
          const error = this.error(verdict);
          say.line(
            'error',
            {
              pixelId: this.pixelId,
              status: verdict.status,
              ...answerFields(verdict),
              retryInMs: retry.authProbeIntervalMs,
            },
            `capi-kit: ${this.deps.label} refused the credentials for pixel ${this.pixelId}; sending stopped until resume() or the next probe. ${error.message}`,
          );
          config.hooks.emit('error', () => ({ kind: 'auth', pixelId: this.pixelId, error }));
        }
        return;
      }
      case 'throttled': {
        const { delayMs, retryAt, spendsAttempt } = gate.throttled(now, verdict.retryAfterMs);
        let kept: readonly OutboxRecord[] = records;
        if (spendsAttempt) {
          kept = await this.retryOrGiveUp(records, retryAt, verdict, slot);
        } else {
          await this.putBack(records, slot, () => outbox.release(ids(records), retryAt));
        }
        // Those out of attempts were dead-lettered: not retried, nor reported as such.
        counts.retriedSome(kept.length);
        if (kept.length > 0) say.retry(kept, verdict, 'throttled', delayMs);
        return;
      }
      default: {
        // transient (and, defensively, anything unexpected)
        if (refusesRequest(verdict)) say.refusal(verdict);
        else if (isNotPlatformAnswer(verdict)) say.notPlatformAnswer(verdict);
        const { delayMs, retryAt } = gate.transient(now, verdict.retryAfterMs);
        const kept = await this.retryOrGiveUp(records, retryAt, verdict, slot);
        counts.retriedSome(kept.length);
        if (kept.length > 0) say.retry(kept, verdict, 'transient', delayMs);
        return;
      }
    }
  }

  /** `nack` the records that have attempts left, dead-letter the rest. Returns those kept. */
  private async retryOrGiveUp(
    records: readonly OutboxRecord[],
    retryAt: number,
    verdict: Verdict,
    slot: Slot,
  ): Promise<readonly OutboxRecord[]> {
    const { maxAttempts } = this.deps.config.retry;
    const keep: OutboxRecord[] = [];
    const spent: OutboxRecord[] = [];
    for (const r of records) (r.attempts + 1 >= maxAttempts ? spent : keep).push(r);
    if (keep.length > 0) {
      await this.putBack(keep, slot, () =>
        this.deps.config.outbox.nack(ids(keep), retryAt, verdict.message),
      );
    }
    if (spent.length > 0) await this.deadLetterRecords(spent, 'max_attempts', verdict, slot);
    return keep;
  }

  /**
   * Gives records back to the outbox (`call`: a release or a nack), counted as queued from before
   * the call (those of `slot` move there from in flight): an outbox that takes the call before it
   * answers may hand them out again at once, and they must never count as in flight and queued
   * together. A shutdown sweep leaves them to the call (ownership.ts), and once it returns after a
   * shutdown a non-durable outbox's are swept; a durable one keeps them for the next start (those
   * its `takeNonDurable` took meanwhile are lost: `leftAfterStop`). Also used by the pipe for
   * records no request will carry (`slot` undefined: already counted as queued).
   */
  async putBack(
    records: readonly OutboxRecord[],
    slot: Slot | undefined,
    call: () => unknown,
  ): Promise<void> {
    const { owners } = this.deps;
    const giving = owners.giveBackBegins(records);
    if (slot !== undefined) this.deps.counts.requeued(slot, records);
    try {
      await call();
    } finally {
      owners.giveBackEnds(giving);
      // Claimable again (a claim made meanwhile may have found them still leased).
      this.deps.mayHaveRecords();
      // Those claimed again meanwhile are the claiming request's to count.
      if (this.deps.stopped()) {
        this.deps.sweeps.leftAfterStop(records.filter((r) => giving.has(r.id)));
      }
    }
  }

  /**
   * The platform rejected a batch of more than one event: the event it named is dead-lettered, the parts
   * wait for their own requests (bisection.ts). A single event is dead-lettered.
   */
  private async rejected(records: OutboxRecord[], verdict: Verdict, slot: Slot): Promise<void> {
    const { counts, say } = this.deps;
    // A verdict on the events comes from a working endpoint that took the credentials (Graph checks
    // the token before the payload: a refused token is a 190, never a 100 about an event): the
    // half-open circuit's probe passed, and so did an outage's probe, though its events failed.
    if (this.deps.gate.succeeded(slot.circuitStamp)) {
      say.line(
        'info',
        { pixelId: this.pixelId },
        'capi-kit: probe answered (its events rejected), credentials accepted, circuit closed',
      );
    }
    if (records.length === 1) {
      await this.deadLetterRecords(records, 'rejected', verdict, slot);
      return;
    }
    const { named, parts } = splitRejected(records, verdict);
    if (named !== undefined) {
      await this.deadLetterRecords([records[named] as OutboxRecord], 'rejected', verdict, slot);
    }
    say.line(
      'debug',
      { pixelId: this.pixelId, count: records.length, status: verdict.status, named },
      'capi-kit: batch rejected, sending its parts separately',
    );
    const stopped = this.deps.stopped();
    for (const part of parts) {
      if (part.length === 0) continue;
      // The parts keep the batch's lease: fillSlots gives a part back if it runs short.
      if (!stopped) this.deps.suspects.add({ records: part, leaseUntil: slot.leaseUntil });
      counts.requeued(slot, part);
      slot.suspected += part.length;
    }
    this.deps.mayHaveRecords();
    // Past a shutdown nothing sends the parts: a non-durable outbox's are swept (still leased,
    // counted as queued); a durable one keeps them for the next start.
    if (stopped) this.deps.sweeps.leftAfterStop(parts.flat());
  }

  private async deadLetterRecords(
    records: readonly OutboxRecord[],
    reason: DeadLetterReason,
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    const { config } = this.deps;
    const error = this.error(verdict);
    await config.outbox.deadLetter(ids(records), error.message);
    this.deps.counts.deadLetteredFrom(slot, records);
    this.deps.owners.counted(records);
    this.deps.say.deadLetter(records, reason, verdict);
    config.hooks.emit('deadLetter', () => ({
      pixelId: this.pixelId,
      reason,
      count: records.length,
      events: refs(records),
      error,
    }));
    config.undeliverable(records, reason);
  }

  private error(verdict: Verdict): CapiDeliveryError {
    return deliveryError(verdict, this.pixelId);
  }
}

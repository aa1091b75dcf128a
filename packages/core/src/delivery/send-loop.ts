import { AnswerHandling } from './answer-handling.js';
import { BatchSender } from './batch-sender.js';
import { SuspectParts } from './bisection.js';
import { expiryLookAheadMs, isExpired } from './expiry.js';
import type { OutboxRecord } from './outbox/types.js';
import type { RecordOwnership } from './ownership.js';
import type { PipeConfig } from './pipe-config.js';
import { ids, type PipeCounts, sumBytes } from './pipe-counts.js';
import type { PipeLog } from './pipe-log.js';
import type { SendGate } from './send-gate.js';
import type { ShutdownSweep } from './shutdown-sweep.js';
import type { Slot } from './slots.js';
import { WakeTimer } from './wake-timer.js';

// How one stream sends (docs/architecture.md, delivery guarantees): the pump, coalesced into one
// claim per tick and woken by a timer (the batch interval, the end of a pause, the circuit's
// probe); the claim loop (`fillSlots`): full batches, or partial ones while a flush, drain or close
// wants them, parts of rejected batches first, one small probe at a time after a failure, expired
// records dead-lettered, nothing started at or past close's deadline; and the requests in flight
// (slots), each sent by batch-sender.ts and its answer handled by answer-handling.ts. The counters
// it moves are pipe-counts.ts's; when the stream may send is send-gate.ts's; what `flush()`,
// `drain()` and `close()` wait for, and the shutdown's sweeps, are the pipe's (pixel-pipe.ts).

/** Events in the batch that probes a failing endpoint (see `fillSlots`). */
const PROBE_EVENTS = 1;

/** What the send loop needs of the pipe it belongs to. */
export interface SendLoopDeps {
  config: PipeConfig;
  /** The platform as log lines name it (`Meta`, `TikTok`). */
  label: string;
  counts: PipeCounts;
  gate: SendGate;
  owners: RecordOwnership;
  say: PipeLog;
  sweeps: ShutdownSweep;
  /** The requests in flight, a slot each (the set `owners` reads). */
  slots: Set<Slot>;
  /** The wake timer fired (batch interval, end of a pause, probe due): the pipe flushes. */
  woke(): void;
}

/** One stream's pump, claim loop and requests in flight. */
export class SendLoop {
  private readonly expired: (record: OutboxRecord, nowMs: number) => boolean;
  private inFlightRequests = 0;
  /** A flush or drain wants partial batches, until the queue is empty or no claim finds more. */
  private draining = false;
  private closing = false;
  /** Close's deadline, set by `beginClose`: no request starts at or after it (`fillSlots`). */
  private deadline = Number.POSITIVE_INFINITY;
  private isStopped = false;
  /** Past the close deadline: abort what is in flight and start nothing new. */
  private isHalted = false;
  /** The last claim found nothing, and nothing since could have put a record in reach. */
  private claimFoundNone = false;
  /**
   * Bumped by everything that may put records in reach of a claim, or asks for a partial batch
   * (`mayHaveRecords`): an empty answer to a claim made before a bump is stale, and says nothing
   * about the outbox now.
   */
  private claimEpoch = 0;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  /** The batch interval, the end of a pause, the circuit's probe: the loop looks again. */
  private readonly wake: WakeTimer;
  /** Parts of rejected batches waiting to be sent on their own (bisection.ts). */
  private readonly suspects = new SuspectParts();
  private readonly sender: BatchSender;
  /** What an answer does to its request's records, and records given back (`putBack`). */
  private readonly answers: AnswerHandling;

  constructor(private readonly deps: SendLoopDeps) {
    const { config } = deps;
    const maxAge = config.destination.limits.maxAgeSeconds;
    const lookAheadMs = expiryLookAheadMs(config.timeoutMs);
    this.expired = (record, nowMs) => isExpired(record, nowMs + lookAheadMs, maxAge);
    this.sender = new BatchSender(config);
    this.wake = new WakeTimer(config.clock, () => {
      if (!this.isStopped) deps.woke();
    });
    this.answers = new AnswerHandling({
      config,
      label: deps.label,
      counts: deps.counts,
      owners: deps.owners,
      gate: deps.gate,
      say: deps.say,
      suspects: this.suspects,
      sweeps: deps.sweeps,
      stopped: () => this.isStopped,
      mayHaveRecords: () => this.mayHaveRecords(),
    });
  }

  /** Stopped for good (`stop`): nothing is sent any more. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** Past close's deadline (`abortAll`): what was in flight is aborted, nothing new starts. */
  get halted(): boolean {
    return this.isHalted;
  }

  /** Close's deadline (`beginClose`), or infinity. */
  get closeDeadline(): number {
    return this.deadline;
  }

  /** The last claim found nothing, and nothing since could have put a record in reach. */
  get claimEmpty(): boolean {
    return this.claimFoundNone;
  }

  /** No request in flight and no pump running or scheduled. */
  get quiet(): boolean {
    return this.inFlightRequests === 0 && !this.pumping && !this.pumpScheduled;
  }

  /** Records may be in reach of a claim again, or a flush or drain wants a partial batch. */
  mayHaveRecords(): void {
    this.claimFoundNone = false;
    this.claimEpoch++;
  }

  /** Records were appended: a full batch goes at once, a partial one when the interval ends. */
  appended(): void {
    const { config, counts } = this.deps;
    if (counts.queued >= config.maxBatchEvents || counts.queuedBytes >= config.maxBatchBytes) {
      this.schedulePump();
    } else if (!this.wake.armed) {
      this.armWake(config.clock.now() + config.flushIntervalMs);
    }
  }

  /** A flush, drain or close wants everything sent, partial batches included. */
  sendAll(): void {
    this.draining = true;
    this.mayHaveRecords();
    this.schedulePump();
  }

  /** Close phase 1 begins: partial batches until close's deadline (`beginClose`). */
  startClosing(deadline: number): void {
    this.closing = true;
    this.beginClose(deadline);
    this.sendAll();
  }

  /** No request starts at or after `deadline`; a later deadline than the current one is ignored. */
  beginClose(deadline: number): void {
    this.deadline = Math.min(this.deadline, deadline);
  }

  /** Close phase 2 (deadline): abort every request in flight; their events are released unattempted. */
  abortAll(): void {
    this.isHalted = true;
    for (const slot of this.deps.slots) {
      slot.aborted = true;
      slot.controller?.abort();
    }
  }

  /** Stops for good, before the shutdown's sweep: requests aborted, their events queued again. */
  stop(): void {
    this.abortAll();
    this.isStopped = true;
    this.wake.clear();
    // Parts of rejected batches are still leased in the outbox: the shutdown's sweep (non-durable)
    // or the lease's expiry (durable) accounts for them, and they are already counted as queued.
    this.suspects.clear();
    // Requests still waiting for an answer are abandoned: their records stay leased in the
    // outbox, so they count as queued from here, for the shutdown's sweep (non-durable) or for
    // the next start (durable). A request whose answer is being recorded (`settling`: its outbox calls
    // outlasted close()'s grace) keeps its records and counts them when those calls return.
    for (const slot of this.deps.slots) {
      if (!slot.settling) this.deps.counts.requeuedUnlanded(slot);
    }
  }

  /**
   * Nothing to do now: no request, no pump, and nothing it may send (empty, nothing in reach of a
   * claim, paused, backing off, circuit open).
   */
  isIdle(): boolean {
    return (
      this.inFlightRequests === 0 &&
      !this.pumping &&
      !this.pumpScheduled &&
      (this.deps.counts.queued <= 0 ||
        this.claimFoundNone ||
        this.deps.gate.isBlocked(this.deps.config.clock.now()))
    );
  }

  /** A pump runs soon (after the current tick), unless one is already scheduled. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.isStopped) return;
    this.pumpScheduled = true;
    // Coalesces every track() of the current tick into one claim, off the caller's stack.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private armWake(at: number): void {
    if (!this.isStopped) this.wake.arm(at);
  }

  /** Next time something must happen: end of a pause, circuit probe, or the batch interval. */
  private afterPump(): void {
    if (this.isStopped || this.deps.counts.queued <= 0) return;
    const now = this.deps.config.clock.now();
    const wake = this.deps.gate.wakeAfter(now);
    if (wake !== undefined) this.armWake(wake);
    else if (this.inFlightRequests === 0 || !this.wake.armed) {
      this.armWake(now + this.deps.config.flushIntervalMs);
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.fillSlots();
      } while (this.pumpAgain && !this.isStopped);
    } catch (error) {
      this.deps.say.outboxError(error);
      // The outbox failed to hand out work; try again after a short pause instead of spinning.
      this.deps.gate.outboxFailed(this.deps.config.clock.now());
    } finally {
      this.pumping = false;
      this.afterPump();
      this.deps.counts.notify();
    }
  }

  private async fillSlots(): Promise<void> {
    const { config } = this.deps;
    // After a transient failure one small batch probes at a time until one succeeds: a struggling
    // Graph API gets one tiny request, not `maxConcurrency` full ones; an outage allocates no
    // megabyte bodies per attempt (nor `fetch`'s copies of them); and only the probe's events spend
    // attempts, so a long outage does not push whole batches towards `maxAttempts`.
    const failing = this.deps.gate.failing;
    const limit = failing ? 1 : config.maxConcurrency;
    const batchEvents = failing ? PROBE_EVENTS : config.maxBatchEvents;
    while (!this.isStopped && !this.isHalted && this.inFlightRequests < limit) {
      const now = config.clock.now();
      if (this.deps.gate.isBlocked(now)) return;
      // A request started at close's deadline would be aborted at once, yet it may already have
      // reached the platform: then its events, released as unattempted, are sent again later (a
      // duplicate, as a BullMQ worker's round saw when its backoff had run out while the event loop
      // was busy). `close({ timeoutMs: 0 })` sends nothing. Checked again after each await below.
      if (now >= this.deadline) return;
      // While the stream probes, a part goes out one probe at a time too.
      const part = this.suspects.next(batchEvents);
      if (part) {
        if (part.leaseUntil - now < this.leaseReserve()) {
          // Its lease could end mid-request, and the outbox would then hand the same records out
          // again: give it back unattempted (still queued) and let it come back as a batch.
          await this.answers.putBack(part.records, undefined, () =>
            config.outbox.release(ids(part.records), now),
          );
          continue;
        }
        const live = await this.dropExpired(part.records, config.wallNow());
        if (live.length === 0) continue;
        if (this.mayNotStart()) {
          await this.unclaim(live, now);
          return;
        }
        // Half-open circuit: this is the one probe.
        this.startSlot(live, part.leaseUntil, this.deps.gate.starting());
        continue;
      }
      const sendPartial = this.draining || this.closing;
      if (this.deps.counts.queued <= 0) {
        this.draining = false;
        return;
      }
      if (
        !sendPartial &&
        this.deps.counts.queued < config.maxBatchEvents &&
        this.deps.counts.queuedBytes < config.maxBatchBytes
      ) {
        return;
      }
      const epoch = this.claimEpoch;
      const records = await config.outbox.claim(batchEvents, config.leaseMs, {
        pixelId: config.pixelId,
        maxBytes: config.maxBatchBytes,
        now,
      });
      if (this.mayNotStart()) {
        // close() reached its deadline (or finished) while we waited on an async outbox.
        await this.unclaim(records, now);
        return;
      }
      if (records.length === 0) {
        // Asked before an append landed or a drain began (an async outbox, or one that answers
        // from a snapshot): the outbox may hold records now, and a drain wants them. Ask again.
        if (epoch !== this.claimEpoch) continue;
        // Records waiting out their own backoff: the stream waits with them (send-gate.ts).
        if (this.deps.counts.queued > 0 && this.deps.gate.waitForRetries(now)) return;
        this.claimFoundNone = true;
        this.draining = false;
        return;
      }
      if (this.deps.counts.queued <= records.length) this.draining = false;
      const live = await this.dropExpired(records, config.wallNow());
      if (live.length === 0) continue;
      if (this.mayNotStart()) {
        await this.unclaim(live, now);
        return;
      }
      // Half-open circuit: exactly one probe batch.
      this.startSlot(live, now + config.leaseMs, this.deps.gate.starting());
    }
  }

  /**
   * Records the pump claimed that no request will carry: close() reached its deadline, or
   * finished, while the outbox answered. A durable outbox gets them back untouched, for the next
   * start. A non-durable one keeps them leased: its shutdown sweep claims leased records too, and
   * a release landing between that sweep's claim and its dead letter would leave them in the
   * outbox after they were counted as dropped, for a later sweep to count again.
   */
  private async unclaim(records: readonly OutboxRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    if (this.deps.config.outbox.durable) {
      await this.answers.putBack(records, undefined, () =>
        this.deps.config.outbox.release(ids(records), now),
      );
    } else if (this.isStopped) {
      this.deps.sweeps.afterStop();
    }
  }

  /**
   * No request may start now: the pipe stopped, or close's deadline came (`halted`, or the clock
   * at it). Checked after every await in `fillSlots`, since an async outbox (a claim, a dead
   * letter) can hold the pump across the deadline.
   */
  private mayNotStart(): boolean {
    return this.isStopped || this.isHalted || this.deps.config.clock.now() >= this.deadline;
  }

  private async dropExpired(records: OutboxRecord[], now: number): Promise<OutboxRecord[]> {
    let expired: OutboxRecord[] | undefined;
    let live = records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as OutboxRecord;
      if (!this.expired(record, now)) continue;
      if (!expired) {
        expired = [];
        live = records.slice(0, i);
      }
      expired.push(record);
    }
    if (!expired) return records;
    if (live !== records) {
      live = records.filter((r) => !this.expired(r, now));
    }
    // Counted by this call, not by a shutdown sweep that runs while the outbox holds it.
    const batch: readonly OutboxRecord[] = expired;
    this.deps.owners.expiryBegins(batch);
    try {
      await this.deps.config.outbox.deadLetter(
        ids(expired),
        `expired: event_time is past ${this.deps.label}'s upload window`,
      );
    } catch (error) {
      // Still in the outbox and counted as queued; past a shutdown, only a sweep would find them.
      this.deps.owners.expiryEnds(batch);
      if (this.isStopped) this.deps.sweeps.leftAfterStop(expired);
      throw error;
    }
    this.deps.owners.expiryEnds(batch);
    this.deps.owners.counted(expired);
    this.deps.counts.unqueued(expired);
    this.deps.counts.drop('expired', expired);
    this.deps.say.line(
      'warn',
      { pixelId: this.deps.config.pixelId, count: expired.length },
      `capi-kit: dropped events past ${this.deps.label}'s upload window${this.deps.label === 'Meta' ? ' (7 days; 62 for physical_store)' : ''}`,
    );
    return live;
  }

  // ---------------------------------------------------------------- sending

  /** Moves claimed records from `queued` to `inFlight` in the same step, and sends them. */
  private startSlot(records: OutboxRecord[], leaseUntil: number, circuitStamp: number): void {
    // Records given back by a call that has not answered yet: they are this request's now.
    this.deps.owners.claimed(records);
    const bytes = sumBytes(records);
    const slot: Slot = {
      controller: undefined,
      aborted: false,
      suspected: 0,
      events: records.length,
      bytes,
      circuitStamp,
      leaseUntil,
      unlanded: records,
      settling: false,
    };
    this.deps.slots.add(slot);
    this.inFlightRequests++;
    this.deps.counts.startedRequest(slot);
    void this.deliver(records, slot)
      .catch((error: unknown) => this.deps.say.outboxError(error))
      .finally(() => {
        this.deps.slots.delete(slot);
        this.inFlightRequests--;
        const left = slot.events;
        const leftBehind = left > 0 && this.isStopped ? slot.unlanded : undefined;
        if (left > 0) {
          // An outbox call failed before these were accounted: they are still leased in the
          // outbox and come back when the lease ends, so they count as queued, not as nothing.
          // (A request abandoned at shutdown has none left: `finalize` counted them.)
          this.deps.counts.requeuedUnlanded(slot);
          this.mayHaveRecords();
        }
        if (this.isStopped) {
          // What it left behind is swept, or lost if a durable outbox's take had it.
          if (leftBehind !== undefined) this.deps.sweeps.leftAfterStop(leftBehind);
          return;
        }
        this.deps.counts.requestEnded(records.length - slot.suspected);
        this.deps.gate.settled(slot.circuitStamp);
        this.schedulePump();
        this.deps.counts.notify();
      });
  }

  /** Lease a part needs left to be sent: one request (bounded by `timeoutMs`) and its outbox calls. */
  private leaseReserve(): number {
    return 2 * this.deps.config.timeoutMs + 5_000;
  }

  private async deliver(records: OutboxRecord[], slot: Slot): Promise<void> {
    const verdict = await this.sender.send(records, slot);
    if (this.isStopped) return;
    return this.answers.handle(records, verdict, slot);
  }
}

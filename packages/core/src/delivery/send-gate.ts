import { fullJitterDelay, throttleDelay } from './backoff.js';
import type { RetryOptions } from './types.js';

// When one stream may send: the shared pause (throttling and transient backoff stop the whole
// stream, not one batch), the records' own backoff, and the auth circuit breaker (open after a
// refused credential, half-open for one probe request per `authProbeIntervalMs`). Times are on the
// engine's scheduling clock. The pipe asks it before every request (send-loop.ts) and tells it
// every answer (answer-handling.ts); the counters of events stay the pipe's (pipe-counts.ts).

/**
 * A server's hint that asks for a wait. `Retry-After: 0`, or a date already past (the server's
 * clock behind ours), asks for none: taken literally, a throttled or failing stream would resend at
 * once, spend its free throttles and every record's attempts in a burst of requests and
 * dead-letter its whole queue within a second. The stream's own backoff applies instead. So it does
 * below one second, the header's unit (RFC 9110 §10.2.3: delta-seconds are whole seconds): a
 * fraction (`0.001`) or a date a few milliseconds ahead makes the same burst one timer apart.
 */
const MIN_HINTED_WAIT_MS = 1000;
const isWait = (hintedMs: number | undefined): hintedMs is number =>
  hintedMs !== undefined && hintedMs >= MIN_HINTED_WAIT_MS;

/** The wait a failed request sets, from the platform's hint or the backoff. */
export interface Backoff {
  /** How long the stream pauses, in ms. */
  delayMs: number;
  /** When the records may be sent again (scheduling clock, epoch ms). */
  retryAt: number;
}

/** The pause, backoff and auth circuit of one stream. */
export class SendGate {
  /** End of the shared pause (throttle or backoff); nothing is sent before it. */
  private pausedUntil = 0;
  /**
   * The latest `retryAt` of records given back with a backoff: no claim finds them before it, and
   * `resume()` lifts the stream's pause, not theirs.
   */
  private retryWaitUntil = 0;
  private consecutiveFailures = 0;
  private consecutiveThrottles = 0;
  /**
   * End of the pause the last counted throttle set. A throttle answered before it ends came from a
   * request already in flight when that throttle came (none starts during a pause): the same
   * throttle of the stream, answered to each of its `maxConcurrency` requests, not another one.
   */
  private throttledUntil = 0;
  /** End of the pause the last counted transient failure set: the same reading, for failures. */
  private failedUntil = 0;
  /** > 0 while the auth circuit is open; once it passes, one probe request is allowed (half-open). */
  private circuitOpenUntil = 0;
  /**
   * Counts the auth circuit's changes (opened, opened again, closed). Every request is stamped with
   * it when it starts (`starting`): only an answer to a request sent in the circuit's current state
   * may change it. A request already in flight when a refusal opened the circuit was read by the
   * platform before that refusal, or without the token being checked again: its acceptance is not
   * the probe's, and its refusal, once a probe or `resume()` closed the circuit, is not news.
   */
  private circuitChanges = 0;
  /** The stamp of the half-open circuit's probe request while it is in flight. */
  private probe: number | undefined;

  constructor(
    private readonly retry: Required<RetryOptions>,
    private readonly random: () => number,
  ) {}

  /** The last request failed transiently: one small batch probes at a time until one is answered (`succeeded`). */
  get failing(): boolean {
    return this.consecutiveFailures > 0;
  }

  /** The auth circuit is open (a credential was refused and no probe succeeded since). */
  get circuitOpen(): boolean {
    return this.circuitOpenUntil > 0;
  }

  /** No request may start at `now`: paused, or the circuit is open and its probe not due or out. */
  isBlocked(now: number): boolean {
    if (this.circuitOpenUntil > 0 && (now < this.circuitOpenUntil || this.probe !== undefined))
      return true;
    return now < this.pausedUntil;
  }

  /** The pause outlasts `deadline` (drain and close stop waiting for it). */
  pausedPast(deadline: number): boolean {
    return this.pausedUntil > deadline;
  }

  /** When the pump must wake to send again, if a pause or the circuit holds it past `now`. */
  wakeAfter(now: number): number | undefined {
    if (this.circuitOpenUntil > now) return this.circuitOpenUntil;
    if (this.pausedUntil > now) return this.pausedUntil;
    return undefined;
  }

  /** The state `stats()` reports. */
  state(now: number): { state: 'open' | 'paused' | 'circuit_open'; pausedUntil?: number } {
    if (this.circuitOpenUntil > 0)
      return { state: 'circuit_open', pausedUntil: this.circuitOpenUntil };
    if (this.pausedUntil > now) return { state: 'paused', pausedUntil: this.pausedUntil };
    return { state: 'open' };
  }

  /**
   * A request starts: while the circuit is open it is the one probe (half-open). Returns the
   * request's stamp, which its answer hands back to `succeeded`, `authRefused` and `settled`.
   */
  starting(): number {
    if (this.circuitOpenUntil > 0) this.probe = this.circuitChanges;
    return this.circuitChanges;
  }

  /** The request stamped `stamp` settled, whatever its answer: if it was the probe, the next may go when due. */
  settled(stamp: number): void {
    if (stamp === this.probe) this.probe = undefined;
  }

  /**
   * The platform accepted a request, or judged its events (an `invalid` answer: it read the
   * payload, so the endpoint answers and took the credentials), sent as `stamp`. Returns true when
   * that closed the auth circuit: only the probe's answer does, not that of a request sent before
   * the circuit opened.
   */
  succeeded(stamp: number): boolean {
    this.consecutiveFailures = 0;
    this.failedUntil = 0;
    this.consecutiveThrottles = 0;
    if (this.circuitOpenUntil === 0 || stamp !== this.circuitChanges) return false;
    this.circuitOpenUntil = 0;
    this.circuitChanges++;
    return true;
  }

  /**
   * The platform refused the credentials of the request sent as `stamp`: the circuit opens (again)
   * until the next probe. A refusal of a request sent before the circuit's current state began
   * changes nothing: the circuit is already open for it, or a probe or `resume()` closed it since.
   * Returns true when the circuit was closed and this opened it.
   */
  authRefused(now: number, stamp: number): boolean {
    if (stamp !== this.circuitChanges) return false;
    const wasOpen = this.circuitOpenUntil > 0;
    this.circuitOpenUntil = now + this.retry.authProbeIntervalMs;
    this.probe = undefined;
    this.circuitChanges++;
    return !wasOpen;
  }

  /**
   * Throttled: the stream pauses for the platform's hint (capped) or, without one (or a hint of
   * no wait), a doubling step. `spendsAttempt` once the throttles in a row pass `freeThrottles`.
   * The answers of the requests that were in flight together with the one throttled first (they
   * come while its pause runs) are that same throttle: they neither count again nor double the
   * step again, and wait out its pause, or a longer hint of their own.
   */
  throttled(now: number, hintedMs: number | undefined): Backoff & { spendsAttempt: boolean } {
    const { retry } = this;
    if (now >= this.throttledUntil) this.consecutiveThrottles++;
    const backoff = this.pause(now, hintedMs, this.throttledUntil, () =>
      throttleDelay(
        this.consecutiveThrottles,
        retry.throttleBaseDelayMs,
        retry.maxRetryAfterMs,
        this.random,
      ),
    );
    this.throttledUntil = Math.max(this.throttledUntil, backoff.retryAt);
    return { ...backoff, spendsAttempt: this.consecutiveThrottles > retry.freeThrottles };
  }

  /**
   * A transient failure: one backoff for the whole stream (the platform's hint, or full jitter when
   * it gives none or a hint of no wait), so during an outage a single batch probes while the rest
   * wait. As with throttles, the failures of requests that were in flight with the one that failed
   * first (they come while its pause runs) are that same failure: they wait out its pause (or a
   * longer hint of their own) without growing the step. Counted once each, four requests failing
   * together made the first backoff's ceiling 8 s instead of 1 s.
   */
  transient(now: number, hintedMs: number | undefined): Backoff {
    const { retry } = this;
    if (now >= this.failedUntil) this.consecutiveFailures++;
    const backoff = this.pause(now, hintedMs, this.failedUntil, () =>
      fullJitterDelay(this.consecutiveFailures, retry.baseDelayMs, retry.maxDelayMs, this.random),
    );
    this.failedUntil = Math.max(this.failedUntil, backoff.retryAt);
    return backoff;
  }

  /** The outbox failed to hand out work: pause one base delay instead of spinning. */
  outboxFailed(now: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + this.retry.baseDelayMs);
  }

  /**
   * A claim found nothing while records wait out their own backoff (a `resume()` lifted the
   * stream's pause, not theirs): the stream pauses with them, so drain() and close() see a pause
   * to wait out within their deadline, not an empty outbox. Returns true when it did.
   */
  waitForRetries(now: number): boolean {
    if (this.retryWaitUntil <= now) return false;
    this.pausedUntil = Math.max(this.pausedUntil, this.retryWaitUntil);
    return true;
  }

  /** `resume()`: closes the circuit and lifts the pause. Returns true when the circuit was open. */
  resume(): boolean {
    const wasOpen = this.circuitOpenUntil > 0;
    this.circuitOpenUntil = 0;
    if (wasOpen) this.circuitChanges++;
    this.probe = undefined;
    this.pausedUntil = 0;
    this.throttledUntil = 0;
    this.failedUntil = 0;
    this.consecutiveFailures = 0;
    this.consecutiveThrottles = 0;
    return wasOpen;
  }

  /**
   * The pause one throttle or failure sets: the platform's hint (capped); else, during the pause
   * the same throttle or failure set (it ends at `episodeEnd`), what is left of it; else `step()`.
   */
  private pause(
    now: number,
    hintedMs: number | undefined,
    episodeEnd: number,
    step: () => number,
  ): Backoff {
    const delayMs = isWait(hintedMs)
      ? Math.min(hintedMs, this.retry.maxRetryAfterMs)
      : now < episodeEnd
        ? episodeEnd - now
        : step();
    return { delayMs, retryAt: this.pauseForRetry(now + delayMs) };
  }

  private pauseForRetry(retryAt: number): number {
    this.pausedUntil = Math.max(this.pausedUntil, retryAt);
    this.retryWaitUntil = Math.max(this.retryWaitUntil, retryAt);
    return retryAt;
  }
}

import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from '../../src/delivery/options.js';
import { SendGate } from '../../src/delivery/send-gate.js';

// The gate alone, on hand-picked times; the pipe's use of it is covered by the delivery suites
// (rejections, drain, close, the interleavings fuzz) and the real-process fault cases.

const retry = { ...DEFAULT_RETRY, freeThrottles: 2 };
/** `random()` always answers `r`: the jittered delays become exact. */
const gateWith = (r = 0.5) => new SendGate(retry, () => r);

describe('SendGate', () => {
  it('starts open: nothing blocks, nothing to wake for, stats say open', () => {
    const gate = gateWith();
    expect(gate.isBlocked(0)).toBe(false);
    expect(gate.failing).toBe(false);
    expect(gate.circuitOpen).toBe(false);
    expect(gate.wakeAfter(0)).toBeUndefined();
    expect(gate.state(0)).toEqual({ state: 'open' });
  });

  it('a transient failure pauses the stream for the full-jitter backoff, doubling per failure in a row', () => {
    const gate = gateWith(0.5);
    expect(gate.transient(1000, undefined)).toEqual({ delayMs: 500, retryAt: 1500 });
    expect(gate.failing).toBe(true);
    expect(gate.isBlocked(1499)).toBe(true);
    expect(gate.isBlocked(1500)).toBe(false);
    expect(gate.state(1200)).toEqual({ state: 'paused', pausedUntil: 1500 });
    expect(gate.wakeAfter(1200)).toBe(1500);
    // Second in a row: ceiling 2 s, half of it.
    expect(gate.transient(2000, undefined)).toEqual({ delayMs: 1000, retryAt: 3000 });
    // A hint wins, capped at maxRetryAfterMs.
    expect(gate.transient(0, 10_000_000).delayMs).toBe(retry.maxRetryAfterMs);
    expect(gate.succeeded(0)).toBe(false);
    expect(gate.failing).toBe(false);
  });

  it('failures answered while the first one’s pause runs (requests in flight with it) are that same failure', () => {
    const gate = gateWith(1);
    // Four requests in flight fail together: one backoff of the first step (ceiling 1 s), not
    // four doublings (ceiling 8 s by the fourth).
    expect(gate.transient(0, undefined)).toEqual({ delayMs: 1000, retryAt: 1000 });
    expect(gate.transient(10, undefined)).toEqual({ delayMs: 990, retryAt: 1000 });
    expect(gate.transient(20, undefined)).toEqual({ delayMs: 980, retryAt: 1000 });
    // A longer hint of its own still wins.
    expect(gate.transient(30, 5000)).toEqual({ delayMs: 5000, retryAt: 5030 });
    // The probe after the pause fails: the next step (ceiling 2 s).
    expect(gate.transient(5030, undefined)).toEqual({ delayMs: 2000, retryAt: 7030 });
    // A success ends the run: the next failure is a first one again.
    gate.succeeded(0);
    expect(gate.transient(7040, undefined)).toEqual({ delayMs: 1000, retryAt: 8040 });
  });

  it('a pause never shortens: a later, shorter backoff keeps the longer one', () => {
    const gate = gateWith(0.5);
    gate.transient(0, 60_000);
    gate.transient(1000, 100);
    expect(gate.isBlocked(30_000)).toBe(true);
    expect(gate.pausedPast(59_999)).toBe(true);
    expect(gate.pausedPast(60_000)).toBe(false);
  });

  it('throttles spend no attempt until more than freeThrottles come in a row', () => {
    const gate = gateWith(0);
    const first = gate.throttled(0, undefined);
    // Equal jitter: at least half the step (5 s) with random() = 0.
    expect(first).toEqual({ delayMs: 2500, retryAt: 2500, spendsAttempt: false });
    // The next request, sent once the pause ended, is throttled again: the step doubles.
    expect(gate.throttled(2500, undefined)).toEqual({
      delayMs: 5000,
      retryAt: 7500,
      spendsAttempt: false,
    });
    expect(gate.throttled(7500, 1000)).toEqual({
      delayMs: 1000,
      retryAt: 8500,
      spendsAttempt: true,
    });
    gate.succeeded(0);
    expect(gate.throttled(8500, 1000).spendsAttempt).toBe(false);
  });

  it('the other requests in flight throttled during the pause are the same throttle: not counted, not doubled', () => {
    const gate = gateWith(0);
    expect(gate.throttled(0, undefined)).toEqual({
      delayMs: 2500,
      retryAt: 2500,
      spendsAttempt: false,
    });
    // Three more answers of requests sent together with the first: they wait out its pause.
    expect(gate.throttled(10, undefined)).toEqual({
      delayMs: 2490,
      retryAt: 2500,
      spendsAttempt: false,
    });
    expect(gate.throttled(20, undefined).retryAt).toBe(2500);
    // A longer hint of their own still extends it.
    expect(gate.throttled(30, 4000)).toEqual({
      delayMs: 4000,
      retryAt: 4030,
      spendsAttempt: false,
    });
    // The next throttle after the pause is the second in a row (one step doubled, not four).
    expect(gate.throttled(4030, undefined)).toEqual({
      delayMs: 5000,
      retryAt: 9030,
      spendsAttempt: false,
    });
    // The third in a row passes freeThrottles (2): it spends an attempt, and so do its siblings.
    expect(gate.throttled(9030, undefined).spendsAttempt).toBe(true);
    expect(gate.throttled(9040, undefined).spendsAttempt).toBe(true);
  });

  it('a hint of no wait (Retry-After: 0, a date already past) leaves the backoff and the throttle step in force', () => {
    const gate = gateWith(0.5);
    expect(gate.transient(1000, 0)).toEqual({ delayMs: 500, retryAt: 1500 });
    expect(gate.transient(2000, 0)).toEqual({ delayMs: 1000, retryAt: 3000 });
    const throttled = gateWith(0);
    expect(throttled.throttled(0, 0)).toEqual({
      delayMs: 2500,
      retryAt: 2500,
      spendsAttempt: false,
    });
    expect(throttled.throttled(2500, 0).delayMs).toBe(5000);
  });

  it('a hint under one second (the header counts whole seconds) is no hint; one second is', () => {
    const gate = gateWith(0.5);
    expect(gate.transient(0, 1)).toEqual({ delayMs: 500, retryAt: 500 });
    // Second in a row, after the first's pause: no hint, so the doubled step (ceiling 2 s, half).
    expect(gate.transient(500, 999)).toEqual({ delayMs: 1000, retryAt: 1500 });
    expect(gate.transient(1500, 1000)).toEqual({ delayMs: 1000, retryAt: 2500 });
    expect(gateWith(0).throttled(0, 999).delayMs).toBe(2500);
    expect(gateWith(0).throttled(0, 1000).delayMs).toBe(1000);
  });

  it('resume() lifts the stream pause but records still wait out their own backoff', () => {
    const gate = gateWith(0.5);
    gate.transient(0, 5000);
    expect(gate.resume()).toBe(false);
    expect(gate.isBlocked(0)).toBe(false);
    // A claim then finds nothing before 5000: the stream waits with its records.
    expect(gate.waitForRetries(1000)).toBe(true);
    expect(gate.isBlocked(4999)).toBe(true);
    expect(gate.waitForRetries(5000)).toBe(false);
  });

  it('the auth circuit: open until the probe time, then one probe at a time, closed by a success', () => {
    const gate = gateWith();
    const before = gate.starting();
    expect(gate.authRefused(0, before)).toBe(true);
    expect(gate.circuitOpen).toBe(true);
    expect(gate.state(0)).toEqual({
      state: 'circuit_open',
      pausedUntil: retry.authProbeIntervalMs,
    });
    expect(gate.wakeAfter(0)).toBe(retry.authProbeIntervalMs);
    expect(gate.isBlocked(retry.authProbeIntervalMs - 1)).toBe(true);
    expect(gate.isBlocked(retry.authProbeIntervalMs)).toBe(false);
    const probe = gate.starting();
    expect(gate.isBlocked(retry.authProbeIntervalMs)).toBe(true); // the probe is out
    gate.settled(probe);
    expect(gate.isBlocked(retry.authProbeIntervalMs)).toBe(false);
    // Refused again: the circuit stays open (not newly opened), pushed to the next probe time.
    expect(gate.authRefused(retry.authProbeIntervalMs, probe)).toBe(false);
    expect(gate.isBlocked(2 * retry.authProbeIntervalMs - 1)).toBe(true);
    const next = gate.starting();
    expect(gate.succeeded(next)).toBe(true);
    expect(gate.circuitOpen).toBe(false);
    expect(gate.isBlocked(0)).toBe(false);
  });

  it('answers to requests sent before the circuit’s current state began leave it alone', () => {
    const gate = gateWith();
    // Two requests out together; the first is refused and opens the circuit.
    const a = gate.starting();
    const b = gate.starting();
    expect(gate.authRefused(0, a)).toBe(true);
    // The other is accepted: not the probe, the circuit stays open; refused, it is not a new opening
    // and does not push the probe back.
    expect(gate.succeeded(b)).toBe(false);
    expect(gate.circuitOpen).toBe(true);
    expect(gate.authRefused(500, b)).toBe(false);
    expect(gate.wakeAfter(0)).toBe(retry.authProbeIntervalMs);
    // The probe goes; an old request settling meanwhile does not let a second probe out.
    const probe = gate.starting();
    gate.settled(b);
    expect(gate.isBlocked(retry.authProbeIntervalMs)).toBe(true);
    expect(gate.succeeded(probe)).toBe(true);
    gate.settled(probe);
    // A refusal of a request sent while it was open, answered after the probe closed it: ignored.
    expect(gate.authRefused(retry.authProbeIntervalMs + 1, b)).toBe(false);
    expect(gate.circuitOpen).toBe(false);
    // A request sent now is refused: that opens it again.
    expect(gate.authRefused(retry.authProbeIntervalMs + 2, gate.starting())).toBe(true);
  });

  it('resume() closes an open circuit and says so; the probe out then cannot open it again', () => {
    const gate = gateWith();
    gate.authRefused(0, gate.starting());
    const probe = gate.starting();
    expect(gate.resume()).toBe(true);
    expect(gate.isBlocked(0)).toBe(false);
    expect(gate.resume()).toBe(false);
    expect(gate.authRefused(1, probe)).toBe(false);
    expect(gate.circuitOpen).toBe(false);
  });

  it('an outbox failure pauses one base delay', () => {
    const gate = gateWith();
    gate.outboxFailed(100);
    expect(gate.isBlocked(100 + retry.baseDelayMs - 1)).toBe(true);
    expect(gate.isBlocked(100 + retry.baseDelayMs)).toBe(false);
    expect(gate.failing).toBe(false);
  });
});

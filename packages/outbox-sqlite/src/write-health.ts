/**
 * Whether the database file takes writes, and when to tell the app. A full disk does not fail
 * once: every group commit, acknowledgement and retry fails until space comes back, and a disk
 * that frees a little space (deleted rows) flaps between working and failing. The app hears of it
 * once per episode, not once per write: an episode starts with the first failure and ends only
 * after writes have worked for {@link QUIET_MS} since the last failure.
 */

/** Writes must work this long after the last failure before a new failure is reported again. */
export const QUIET_MS = 60_000;

/** What a write outcome means for reporting. */
export type WriteTransition = 'first-failure' | 'failure' | 'recovered' | 'episode-ended' | 'ok';

/** The write state of one outbox file. */
export class WriteHealth {
  /** True from a failed write until the next successful one. */
  failing = false;
  /** Failed writes since open. */
  failures = 0;
  /** When the current failure began (epoch ms). */
  since: number | undefined;
  /** The last failure's message. */
  lastError: string | undefined;
  /** Failures in the current episode (reset when it ends). */
  episodeFailures = 0;
  private episodeOpen = false;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  /**
   * A write failed at `now` (epoch ms, what `since` says) and `monotonicNow` (`performance.now()`,
   * which the quiet period is measured on). `first-failure` is the one to report.
   */
  failed(message: string, now: number, monotonicNow: number): WriteTransition {
    this.failures++;
    this.episodeFailures++;
    this.lastError = message;
    this.lastFailureAt = monotonicNow;
    if (!this.failing) {
      this.failing = true;
      this.since = now;
    }
    if (this.episodeOpen) return 'failure';
    this.episodeOpen = true;
    return 'first-failure';
  }

  /**
   * A write succeeded at `monotonicNow` (`performance.now()`: a wall clock stepped back an hour
   * kept the episode open for that hour, and a failure meanwhile was not reported). `recovered`
   * when it ends a failure; `episode-ended` once writes have worked for {@link QUIET_MS}.
   */
  succeeded(monotonicNow: number): WriteTransition {
    const wasFailing = this.failing;
    this.failing = false;
    this.since = undefined;
    if (this.episodeOpen && monotonicNow - this.lastFailureAt >= QUIET_MS) {
      this.episodeOpen = false;
      return 'episode-ended';
    }
    return wasFailing ? 'recovered' : 'ok';
  }
}

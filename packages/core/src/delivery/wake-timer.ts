import type { Clock } from './types.js';

// The one timer a stream keeps (send-loop.ts): when it must look again without being asked (the
// batch interval, the end of a pause, the auth circuit's probe). A sooner time replaces a later
// one, a later one never postpones it. What the stream does when it fires is the loop's.

/** One rearmable timer on the scheduling clock: the soonest time asked for wins. */
export class WakeTimer {
  private handle: unknown;
  private at = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  /** A wake-up is pending. */
  get armed(): boolean {
    return this.handle !== undefined;
  }

  /** Fires at `at` (scheduling clock), unless a wake-up at or before it is already pending. */
  arm(at: number): void {
    if (this.handle !== undefined && this.at <= at) return;
    this.clear();
    const { clock } = this;
    this.at = at;
    this.handle = clock.setTimeout(
      () => {
        this.handle = undefined;
        this.at = Number.POSITIVE_INFINITY;
        this.fire();
      },
      Math.max(0, at - clock.now()),
    );
  }

  /** No wake-up is pending any more. */
  clear(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }
}

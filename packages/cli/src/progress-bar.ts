import type { OutputStream, Style } from './terminal.js';

/**
 * A one-line progress bar redrawn in place on a TTY (at most every 100 ms); on anything else it
 * prints nothing, so logs and pipes stay clean.
 */
export class ProgressBar {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly active: boolean;

  constructor(
    private readonly stream: OutputStream,
    private readonly style: Style,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.active = stream.isTTY === true && total > 0;
  }

  /** Redraws with `done` of `total` and a short note (e.g. batches sent). */
  update(done: number, note = '', force = false): void {
    if (!this.active) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 50));
    const ratio = Math.min(1, done / this.total);
    const filled = Math.round(ratio * width);
    const bar = `${this.style.green('█'.repeat(filled))}${this.style.dim('░'.repeat(width - filled))}`;
    const percent = `${Math.floor(ratio * 100)}`.padStart(3);
    this.stream.write(
      `\r${bar} ${percent}% ${done}/${this.total}${note ? `  ${note}` : ''}\u001b[K`,
    );
    this.drawn = true;
  }

  /** Clears the line so the next output starts clean. */
  finish(): void {
    if (this.active && this.drawn) this.stream.write('\r\u001b[K');
    this.drawn = false;
  }
}

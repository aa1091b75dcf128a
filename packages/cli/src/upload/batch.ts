import type { CapiClient } from '@capi-kit/core';
import { describeGraphError } from '../graph-request.js';
import { eventKey } from './checkpoint.js';

/** What one sent batch came to: its lines, the acknowledged keys, the rejected rows, or why it stopped. */
export interface BatchOutcome {
  fromLine: number;
  toLine: number;
  acknowledged: string[];
  rejected: { line: number; reason: string }[];
  stop?: { kind: 'auth' | 'network'; message: string };
}

/** The rows of the batch being sent, matched back from the client's hooks. */
export class Batch {
  private pending = new Map<string, { eventName: string; line: number }[]>();
  private count = 0;
  private fromLine = 0;
  private toLine = 0;
  private acknowledged: string[] = [];
  private rejected: { line: number; reason: string }[] = [];
  private stop: BatchOutcome['stop'];
  private wake: (() => void) | undefined;

  constructor(private readonly client: CapiClient) {
    client.on('sent', (info) => {
      for (const id of info.eventIds) {
        const row = this.take(id);
        if (row) this.acknowledged.push(eventKey(row.eventName, id));
      }
      this.wake?.();
    });
    client.on('deadLetter', (info) => {
      const graph = info.error.graphError;
      if (info.reason === 'max_attempts') {
        // Meta never answered usefully (network down, 5xx): the rows stay unsent for the next run.
        for (const ref of info.events) this.take(ref.eventId);
        this.stop ??= {
          kind: 'network',
          message: `gave up after retries: ${graph ? describeGraphError(graph, info.error.status) : info.error.message}`,
        };
      } else {
        const reason = `rejected by Meta: ${describeGraphError(graph, info.error.status)}`;
        for (const ref of info.events) {
          const row = this.take(ref.eventId);
          if (row) this.rejected.push({ line: row.line, reason });
        }
      }
      this.wake?.();
    });
    client.on('dropped', (info) => {
      for (const ref of info.events) {
        const row = this.take(ref.eventId);
        if (row) this.rejected.push({ line: row.line, reason: `dropped: ${info.reason}` });
      }
      this.wake?.();
    });
    client.on('error', (info) => {
      if (info.kind !== 'auth') return;
      const graph = (info.error as { graphError?: Parameters<typeof describeGraphError>[0] })
        .graphError;
      this.stop ??= {
        kind: 'auth',
        message: `Meta refused the token: ${describeGraphError(graph, (info.error as { status?: number }).status ?? 0)}`,
      };
      this.wake?.();
    });
  }

  get size(): number {
    return this.count;
  }

  add(eventId: string, eventName: string, line: number): void {
    if (this.count === 0) this.fromLine = line;
    this.toLine = line;
    this.count++;
    const list = this.pending.get(eventId);
    if (list) list.push({ eventName, line });
    else this.pending.set(eventId, [{ eventName, line }]);
  }

  /** Sends what was added and waits until every row is acknowledged, rejected or stuck (auth). */
  async settle(): Promise<BatchOutcome> {
    await this.client.flush();
    while (this.pending.size > 0 && !this.stop) {
      // Retries and throttle pauses resume on the client's own timers; poll as a safety net.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.pending.size > 0 && !this.stop) await this.client.flush();
    }
    const outcome: BatchOutcome = {
      fromLine: this.fromLine,
      toLine: this.toLine,
      acknowledged: this.acknowledged,
      rejected: this.rejected,
    };
    if (this.stop) outcome.stop = this.stop;
    this.pending.clear();
    this.count = 0;
    this.acknowledged = [];
    this.rejected = [];
    return outcome;
  }

  private take(eventId: string): { eventName: string; line: number } | undefined {
    const list = this.pending.get(eventId);
    const row = list?.shift();
    if (list && list.length === 0) this.pending.delete(eventId);
    return row;
  }
}

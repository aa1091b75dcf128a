import type { OutboxRecord } from './outbox/types.js';
import type { PipeConfig } from './pipe-config.js';
import { describeError } from './redact.js';
import type { DeadLetterReason, Logger, RetryInfo } from './types.js';
import type { Verdict } from './verdict.js';

// What one stream (pixel-pipe.ts) says about its deliveries: log lines, some rate-limited, and the
// `retry`, `warn` and `error` hooks that go with them. The pipe keeps its counters and the hooks
// that count events (`dropped`, `deadLetter`, `sent`); this file only tells.

/**
 * A log line that repeats with every event (a full queue evicting, Meta rejecting every event) is
 * written at most this often per kind; the counters and hooks count each event.
 */
const REPEAT_LOG_MS = 10_000;

/** Kinds of dead-letter lines rate-limited apart (reason, code, subcode); past it they share one. */
const MAX_DEAD_LETTER_KINDS = 32;

/** Kinds of request refusal told (`refusal`); a stream that sees more has said enough. */
const MAX_REFUSAL_KINDS = 16;

/** The platform's error code and trace id for a log line (Meta's Graph fields when it sent them). */
export const answerFields = (verdict: Verdict): Record<string, unknown> => {
  const graph = verdict.graphError;
  if (graph) {
    const fields = { code: graph.code, subcode: graph.subcode, fbtraceId: graph.fbtraceId };
    // The paths Meta blamed (never values): what to fix, in the dead letter's log line too.
    return graph.blameFields === undefined ? fields : { ...fields, fields: graph.blameFields };
  }
  return { code: verdict.code, traceId: verdict.traceId };
};

/** One stream's log lines and reporting hooks; `label` names its platform ("Meta"). */
export class PipeLog {
  private readonly pixelId: string;
  private lastOverflowLine = Number.NEGATIVE_INFINITY;
  /** Per kind of dead letter: when its last line was written, and the events since left unlogged. */
  private readonly deadLetterLines = new Map<string, { at: number; unlogged: number }>();
  /** Request refusals already told (`refusesRequest`), by status and code: each once. */
  private readonly toldRefusals = new Set<string>();

  constructor(
    private readonly config: PipeConfig,
    private readonly label: string,
  ) {
    this.pixelId = config.pixelId;
  }

  /** A log line, its message redacted; a throwing logger must not break delivery. */
  line(level: keyof Logger, obj: Record<string, unknown>, msg: string): void {
    try {
      this.config.logger[level](obj, this.config.redact(msg));
    } catch {
      // A throwing logger must not break delivery.
    }
  }

  /** The queue is full and drops its oldest events: during an outage every track() evicts one. */
  overflow(droppedSoFar: number): void {
    const now = this.config.clock.now();
    if (now - this.lastOverflowLine < REPEAT_LOG_MS) return;
    this.lastOverflowLine = now;
    this.line(
      'warn',
      { pixelId: this.pixelId, dropped: droppedSoFar },
      'capi-kit: queue full, dropping the oldest events',
    );
  }

  /**
   * The dead letter's log line, at most one per kind (reason, code, subcode) every
   * `REPEAT_LOG_MS`: bisection dead-letters a batch Meta refuses whole one event at a time, so an
   * app whose every event Meta rejects wrote a warn line per event (10,000 for a 10,000-event
   * burst). The next line of the kind says how many went unlogged since; the hook sees each.
   */
  deadLetter(records: readonly OutboxRecord[], reason: DeadLetterReason, verdict: Verdict): void {
    const now = this.config.clock.now();
    const graph = verdict.graphError;
    let key = `${reason}|${verdict.status}|${graph?.code ?? verdict.code ?? ''}|${graph?.subcode ?? ''}`;
    if (!this.deadLetterLines.has(key) && this.deadLetterLines.size >= MAX_DEAD_LETTER_KINDS) {
      key = `${reason}|other`;
    }
    const last = this.deadLetterLines.get(key);
    if (last !== undefined && now - last.at < REPEAT_LOG_MS) {
      last.unlogged += records.length;
      return;
    }
    const unlogged = last?.unlogged ?? 0;
    this.deadLetterLines.set(key, { at: now, unlogged: 0 });
    const what =
      reason === 'rejected'
        ? `capi-kit: ${this.label} rejected events (dead-lettered)`
        : 'capi-kit: events out of attempts (dead-lettered)';
    const repeats =
      last === undefined
        ? `; more of these are logged at most every ${REPEAT_LOG_MS / 1000} s (client.stats() and the deadLetter hook count each)`
        : unlogged > 0
          ? `; ${unlogged} more for the same reason since the last line`
          : '';
    // The platform's message may quote the rejected field; codes and trace ids are enough for the log.
    this.line(
      'warn',
      {
        pixelId: this.pixelId,
        reason,
        count: records.length,
        eventIds: records.map((r) => r.eventId),
        status: verdict.status,
        ...answerFields(verdict),
        ...(unlogged > 0 ? { unlogged } : {}),
      },
      `${what}${repeats}`,
    );
  }

  /** Events going back to wait (a throttle or a transient failure): a line and the `retry` hook. */
  retry(
    records: readonly OutboxRecord[],
    verdict: Verdict,
    reason: 'transient' | 'throttled',
    delayMs: number,
  ): void {
    this.line(
      'warn',
      {
        pixelId: this.pixelId,
        reason,
        count: records.length,
        status: verdict.status,
        code: verdict.graphError?.code ?? verdict.code,
        delayMs,
      },
      reason === 'throttled'
        ? `capi-kit: throttled by ${this.label}, pixel paused`
        : 'capi-kit: delivery failed, retrying with backoff',
    );
    this.config.hooks.emit('retry', () => {
      const info: RetryInfo = {
        pixelId: this.pixelId,
        count: records.length,
        reason,
        delayMs,
        status: verdict.status,
        error: verdict.message,
      };
      if (verdict.graphError) info.graphError = verdict.graphError;
      return info;
    });
  }

  /**
   * The first answer of each kind (status and code) that refused the request as a whole, told in
   * the platform's own words at `error` level and through the `warn` hook. The retry line that
   * follows every failure names the code only, at `warn`, as an outage's does: a deprecated API
   * version (2635) or a wrong `graphUrl` read like an outage until the events were dead-lettered.
   */
  refusal(verdict: Verdict): void {
    if (!this.firstOfKind(`${verdict.status}|${verdict.graphError?.code ?? verdict.code ?? ''}`))
      return;
    const answer = this.withEndpoint(verdict.message);
    const message = `capi-kit: the request for pixel ${this.pixelId} was refused (${answer}). Waiting is unlikely to change it: check the API version, the endpoint URL and the pixel id. Its events are retried with backoff until they run out of attempts (retry.maxAttempts), then dead-lettered.`;
    this.line(
      'error',
      { pixelId: this.pixelId, status: verdict.status, ...answerFields(verdict) },
      message,
    );
    this.config.hooks.emit('warn', () => ({
      message: this.config.redact(message),
      pixelId: this.pixelId,
    }));
  }

  /**
   * The first 2xx of each status that was not the platform's answer (`isNotPlatformAnswer`), told
   * at `error` level and through the `warn` hook: a wrong endpoint URL answers 200 to everything,
   * and the `retry` hook alone showed it, until the events were dead-lettered. The message names
   * the configured URL (never a token: it is in the body or a header) and what came back.
   */
  notPlatformAnswer(verdict: Verdict): void {
    if (!this.firstOfKind(`answer|${verdict.status}`)) return;
    const answer = this.withEndpoint(verdict.message);
    const message = `capi-kit: the answer to a request for pixel ${this.pixelId} was not ${this.label}'s answer (${answer}). Its events are retried with backoff until they run out of attempts (retry.maxAttempts), then dead-lettered.`;
    this.line('error', { pixelId: this.pixelId, status: verdict.status }, message);
    this.config.hooks.emit('warn', () => ({
      message: this.config.redact(message),
      pixelId: this.pixelId,
    }));
  }

  /** A destination's warning about an answer (`Classified.warning`), at `warn` and through the `warn` hook, once per text. */
  warning(verdict: Verdict): void {
    const { warning } = verdict;
    if (warning === undefined || !this.firstOfKind(`warning|${warning}`)) return;
    this.line(
      'warn',
      { pixelId: this.pixelId, status: verdict.status, code: verdict.code },
      warning,
    );
    this.config.hooks.emit('warn', () => ({
      message: this.config.redact(warning),
      pixelId: this.pixelId,
    }));
  }

  /** True the first time `key` is asked for, and while fewer than {@link MAX_REFUSAL_KINDS} were told. */
  private firstOfKind(key: string): boolean {
    if (this.toldRefusals.has(key) || this.toldRefusals.size >= MAX_REFUSAL_KINDS) return false;
    this.toldRefusals.add(key);
    return true;
  }

  /** An answer's message with the endpoint it came from, unless it names it already. */
  private withEndpoint(message: string): string {
    const { url } = this.config.endpoint;
    return message.includes(url) ? message : `${message} from ${url}`;
  }

  /** An outbox call failed: a line and the `error` hook (kind `outbox`), redacted. */
  outboxError(error: unknown): void {
    const message = describeError(error, this.config.redact);
    this.line('error', { pixelId: this.pixelId }, `capi-kit: outbox failure: ${message}`);
    this.config.hooks.emit('error', () => ({
      kind: 'outbox',
      pixelId: this.pixelId,
      error: new Error(message),
    }));
  }
}

import type { GraphErrorInfo, ResponseClass } from './classify.js';
import type { OutboxRecord } from './outbox/types.js';
import type { PipeConfig } from './pipe-config.js';
import { createRedactor, describeError, type Redactor } from './redact.js';
import type { SendOutcome } from './transport.js';
import { CapiDeliveryError } from './types.js';

// What one request's outcome means for its records (the stream's destination reads the answer:
// classify.ts for Meta), in the words every log line, hook and dead letter then uses: redacted,
// with the platform's own explanation.

/** How one answer is handled. */
export interface Verdict {
  cls: ResponseClass | 'aborted';
  status: number;
  durationMs: number;
  /** Redacted one-line description. */
  message: string;
  graphError?: GraphErrorInfo;
  /** Server-requested wait (`Retry-After`, regain-access estimate), uncapped. */
  retryAfterMs?: number;
  /** The event the platform blamed (`invalid`), index in the batch sent. */
  rejectedIndex?: number;
  /** The platform's error code and trace id, for log lines. */
  code?: number;
  traceId?: string;
  /** The destination's {@link Classified.warning}, redacted: told once per stream. */
  warning?: string;
  body?: unknown;
}

/**
 * Every text field of the platform's error, redacted: the message may echo parameters, and what a
 * proxy or a platform echoes into `type` or `fbtrace_id` reaches the hooks, the log line and
 * `CapiDeliveryError.graphError` just the same.
 */
const redactGraphError = (info: GraphErrorInfo, redact: Redactor): GraphErrorInfo => {
  const out: GraphErrorInfo = { ...info };
  if (out.message !== undefined) out.message = redact(out.message);
  if (out.type !== undefined) out.type = redact(out.type);
  if (out.userTitle !== undefined) out.userTitle = redact(out.userTitle);
  if (out.userMessage !== undefined) out.userMessage = redact(out.userMessage);
  if (out.fbtraceId !== undefined) out.fbtraceId = redact(out.fbtraceId);
  if (out.blameFields !== undefined) out.blameFields = out.blameFields.map(redact);
  return out;
};

// Fields whose values name the event rather than the customer: quoted back, they help (Meta's
// message naming the event or its action_source), and hiding every "Purchase" would shred it.
const NOT_PERSONAL: ReadonlySet<string> = new Set([
  'event_name',
  'event',
  'event_id',
  'action_source',
  'event_source',
  'currency',
]);

/** Every string value of the events sent (user data, page URLs, custom data), keys aside. */
const sentValues = (records: readonly OutboxRecord[]): string[] => {
  const values: string[] = [];
  const visit = (value: unknown, key: string, depth: number): void => {
    if (typeof value === 'string') {
      if (!NOT_PERSONAL.has(key)) values.push(value);
    } else if (typeof value === 'object' && value !== null && depth < 8) {
      for (const [k, v] of Object.entries(value))
        visit(v, Array.isArray(value) ? key : k, depth + 1);
    }
  };
  for (const record of records) {
    try {
      visit(JSON.parse(record.body), '', 0);
    } catch {
      // A body we wrote ourselves; nothing to collect should it not parse.
    }
  }
  return values;
};

/**
 * The secrets' redaction, then the values of the events sent: a platform's error message may quote
 * the request ("the event_source_url 'https://shop.example/?email=…' is invalid"), and what the
 * answer says reaches hooks, log lines and dead letters, which must never hold customer data.
 * Built only for an answer that explains itself, and only once it does.
 */
const answerRedactor = (records: readonly OutboxRecord[], config: PipeConfig): Redactor => {
  let sent: Redactor | undefined;
  return (text: string): string => {
    sent ??= createRedactor(sentValues(records));
    return sent(clipAnswerText(config.redact(text)));
  };
};

/**
 * Longest text told from an answer (a message, a title, a trace id). Meta's run to a few hundred
 * characters; an endpoint that answers a megabyte of `message` put it into every log line, hook
 * and dead-letter reason of the batch (each record's, in a durable outbox), and matching it against
 * the values of 1,000 events blocked the event loop for about a minute.
 */
export const MAX_ANSWER_TEXT = 2000;

/**
 * `text` clipped to {@link MAX_ANSWER_TEXT}, after the secrets' redaction (a secret cut in two
 * would not be recognised) and before the sent values' (cheap on a short text). The last word is
 * dropped with the rest, so a value cut in two leaves no prefix of itself behind.
 */
const clipAnswerText = (text: string): string => {
  if (text.length <= MAX_ANSWER_TEXT) return text;
  const cut = text.slice(0, MAX_ANSWER_TEXT).replace(/[^\s"'`,;()[\]{}<>]*$/, '');
  return `${cut}… (${text.length - cut.length} more characters not shown)`;
};

/** The verdict on one request's outcome (`aborted` only when close() aborted it). */
export const verdictOf = (
  outcome: SendOutcome,
  records: readonly OutboxRecord[],
  config: PipeConfig,
): Verdict => {
  switch (outcome.kind) {
    case 'aborted':
      return {
        cls: 'aborted',
        status: 0,
        durationMs: outcome.durationMs,
        message: 'aborted by close()',
      };
    case 'timeout':
      return {
        cls: 'transient',
        status: 0,
        durationMs: outcome.durationMs,
        message: `timed out after ${config.timeoutMs} ms`,
      };
    case 'network':
      return {
        cls: 'transient',
        status: 0,
        durationMs: outcome.durationMs,
        message: `network error: ${describeError(outcome.error, config.redact)}`,
      };
    case 'unreadable':
    case 'response': {
      const { status, headers } = outcome;
      // An unread body is classified as an absent one: its status and headers still say a throttle
      // (429, Retry-After), a refused token (401) or a body too large (413).
      const body = outcome.kind === 'response' ? outcome.body : undefined;
      let classified: ReturnType<PipeConfig['destination']['classify']>;
      try {
        classified = config.destination.classify(
          { status, headers, body },
          records.length,
          config.wallNow(),
        );
      } catch (error) {
        // A destination's classifier is not ours to trust blindly: an answer it cannot read is
        // retried like any answer that is not an acknowledgement.
        classified = {
          class: 'transient',
          message: `HTTP ${status}; classifying the answer failed: ${describeError(error, config.redact)}`,
        };
      }
      if (outcome.kind === 'unreadable') {
        // Never an acknowledgement, whatever the destination makes of no body.
        classified = {
          ...classified,
          class: classified.class === 'success' ? 'transient' : classified.class,
          message: `HTTP ${status} from ${config.endpoint.url}: ${outcome.reason}`,
        };
      }
      const verdict: Verdict = {
        cls: classified.class,
        status,
        durationMs: outcome.durationMs,
        message: `HTTP ${status}`,
        body,
      };
      if (classified.class === 'success') return verdict;
      const redact = answerRedactor(records, config);
      if (classified.message !== undefined) verdict.message = redact(classified.message);
      if (classified.graphError) {
        verdict.graphError = redactGraphError(classified.graphError, redact);
      }
      if (classified.retryAfterMs !== undefined) verdict.retryAfterMs = classified.retryAfterMs;
      if (classified.rejectedIndex !== undefined) verdict.rejectedIndex = classified.rejectedIndex;
      if (classified.code !== undefined) verdict.code = classified.code;
      if (typeof classified.warning === 'string') verdict.warning = redact(classified.warning);
      // A platform may echo what it was sent into its trace id: redacted like the message.
      if (typeof classified.traceId === 'string') verdict.traceId = redact(classified.traceId);
      return verdict;
    }
  }
};

/**
 * A transient verdict on an answer that refused the request as a whole and that waiting will not
 * change: a redirect, or a 4xx other than 408 and 429 (Graph's 2635 for a deprecated API version,
 * 2500 or a 404 for a wrong path, a proxy's 400 page). Retried all the same (Meta's [SUP] says
 * only to retry non-client errors, but gives no list, and a proxy's 4xx can be passing), yet
 * worth telling the developer at the first one, with the platform's words: the events will run
 * out of attempts unless the configuration changes.
 */
export const refusesRequest = (verdict: Verdict): boolean =>
  verdict.cls === 'transient' &&
  ((verdict.status >= 300 && verdict.status < 400) ||
    (verdict.status >= 400 &&
      verdict.status < 500 &&
      verdict.status !== 408 &&
      verdict.status !== 429));

/**
 * A transient verdict on a 2xx that is not the platform's answer at all (an HTML page, `{}`, an
 * unreadable body), as opposed to a 2xx carrying the platform's own error: what a wrong endpoint URL
 * (Meta's `graphUrl` pointing at the app itself, a portal, a proxy) answers to every request.
 * Waiting will not change it either, and the developer is told at the first one.
 */
export const isNotPlatformAnswer = (verdict: Verdict): boolean =>
  verdict.cls === 'transient' &&
  verdict.status >= 200 &&
  verdict.status < 300 &&
  verdict.graphError === undefined &&
  verdict.code === undefined;

/** The error handed to hooks and `onUndeliverable` for a verdict. */
export const deliveryError = (verdict: Verdict, pixelId: string): CapiDeliveryError => {
  const details: ConstructorParameters<typeof CapiDeliveryError>[1] = {
    classification: verdict.cls === 'aborted' ? 'transient' : verdict.cls,
    status: verdict.status,
    pixelId,
  };
  if (verdict.graphError) details.graphError = verdict.graphError;
  return new CapiDeliveryError(verdict.message, details);
};

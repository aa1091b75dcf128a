import {
  classifyResponse,
  type GraphErrorInfo,
  type HeadersLike,
  parseGraphError,
  type ResponseClass,
  readHeader,
  retryDelayFromHeaders,
} from './classify.js';
import type { OutboxRecord } from './outbox/types.js';
import type { PipeConfig } from './pipe-config.js';
import { describeError, type Redactor } from './redact.js';
import type { SendOutcome } from './transport.js';
import { CapiDeliveryError } from './types.js';

// What one request's outcome means for its records (classify.ts sorts Meta's answers), in the
// words every log line, hook and dead letter then uses: redacted, with Meta's own explanation.

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
  body?: unknown;
}

const redactGraphError = (info: GraphErrorInfo, redact: Redactor): GraphErrorInfo => {
  const out: GraphErrorInfo = { ...info };
  if (out.message !== undefined) out.message = redact(out.message);
  if (out.userTitle !== undefined) out.userTitle = redact(out.userTitle);
  if (out.userMessage !== undefined) out.userMessage = redact(out.userMessage);
  return out;
};

/**
 * Why an answer that is not an error is not a delivery either, for the retry message: a redirect
 * (not followed: the token would travel to another origin) or a 2xx that is not Meta's
 * acknowledgement. Names the configured URL, which never holds the token.
 */
const notMetaAnswer = (
  config: PipeConfig,
  status: number,
  body: unknown,
  headers: HeadersLike,
  records: readonly OutboxRecord[],
): string | undefined => {
  const url = config.endpoint.url;
  if (status >= 300 && status < 400) {
    const location = readHeader(headers, 'location');
    return config.redact(
      `HTTP ${status} redirect${location ? ` to ${location}` : ''} from ${url}; redirects are not followed (check graphUrl / META_GRAPH_URL)`,
    );
  }
  if (status < 200 || status >= 300 || parseGraphError(body)) return undefined;
  const received = (body as { events_received?: unknown } | undefined)?.events_received;
  const what =
    typeof received === 'number'
      ? `acknowledged ${received} of ${records.length} events`
      : body === undefined
        ? 'an empty body'
        : typeof body === 'string'
          ? 'a body that is not JSON'
          : 'JSON without events_received';
  return config.redact(
    `HTTP ${status} from ${url} is not Meta's acknowledgement (${what}); retrying`,
  );
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
    case 'response': {
      const cls = classifyResponse(outcome.status, outcome.body, outcome.headers, records.length);
      const verdict: Verdict = {
        cls,
        status: outcome.status,
        durationMs: outcome.durationMs,
        message: `HTTP ${outcome.status}`,
        body: outcome.body,
      };
      if (cls === 'success') return verdict;
      const notMeta = notMetaAnswer(config, outcome.status, outcome.body, outcome.headers, records);
      if (notMeta !== undefined) verdict.message = notMeta;
      const graphError = parseGraphError(outcome.body);
      if (graphError) {
        verdict.graphError = redactGraphError(graphError, config.redact);
        const code = graphError.code === undefined ? '' : ` code ${graphError.code}`;
        const sub = graphError.subcode === undefined ? '' : `/${graphError.subcode}`;
        // error_user_msg is where Meta explains which parameter failed and why.
        const detail = [graphError.message, graphError.userTitle, graphError.userMessage]
          .filter((part): part is string => typeof part === 'string' && part !== '')
          .join(' — ');
        verdict.message = config.redact(`HTTP ${outcome.status}${code}${sub}: ${detail}`.trim());
      }
      const retryAfterMs = retryDelayFromHeaders(outcome.headers, config.wallNow());
      if (retryAfterMs !== undefined) verdict.retryAfterMs = retryAfterMs;
      return verdict;
    }
  }
};

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

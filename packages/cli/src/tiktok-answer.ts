import type { ResponseClass } from '@capi-kit/core';
import { classifyTikTokResponse, parseTikTokBody } from '@capi-kit/tiktok';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';
import { readBoundedText, redirectTarget, TOO_LARGE, textSnippet } from './graph-request.js';
import { MOCK_GRAPH_HEADER } from './mock-detection.js';

// What TikTok's track endpoint answered, read and worded for people. TikTok answers HTTP 200 with
// `{ code, message, request_id, data }` whatever happened (code 0 is success); the class is
// @capi-kit/tiktok's `classifyTikTokResponse`, the one the delivery engine acts on, so what the CLI
// prints is what an app would do with the same answer. Nothing here is redacted: everything the
// CLI prints is, on its way out (output-redaction.ts).

/** One answer of TikTok's track endpoint (or of whatever stood in front of it). */
export interface TikTokAnswer {
  /** HTTP status. */
  status: number;
  /** The body as sent (JSON or not). */
  text: string;
  /** The `Location` header of a redirect (not followed). */
  location?: string;
  /** True when the body was larger than 1 MiB and not read (`text` is then empty). */
  tooLarge?: boolean;
  /** The `Retry-After` header, for the classifier. */
  retryAfter?: string;
  /** The `Date` header (epoch ms), for the clock check. */
  date?: number;
  /** True when the `x-capi-kit-mock` header says the mock answered, not TikTok. */
  mock: boolean;
}

/** Reads a `fetch` response of the track endpoint into a {@link TikTokAnswer}. */
export const readTikTokAnswer = async (res: Response): Promise<TikTokAnswer> => {
  const text = await readBoundedText(res);
  const answer: TikTokAnswer = {
    status: res.status,
    text: text ?? '',
    mock: res.headers.get(MOCK_GRAPH_HEADER) !== null,
  };
  if (text === undefined) answer.tooLarge = true;
  const location = res.headers.get('location');
  if (location) answer.location = location;
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter) answer.retryAfter = retryAfter;
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) answer.date = date;
  return answer;
};

/** An answer as the CLI reports it: TikTok's fields and what they mean. */
export interface TikTokVerdictReport {
  /** `success`, `auth`, `invalid`, `throttled` or `transient` (@capi-kit/tiktok's classifier). */
  class: ResponseClass;
  /** HTTP status. */
  status: number;
  /** TikTok's `code`, when the body was TikTok's envelope. */
  code?: number;
  /** TikTok's `message`. */
  message?: string;
  /** TikTok's `request_id`, to quote to TikTok support. */
  requestId?: string;
  /** A server-requested wait in seconds (`Retry-After`). */
  retryAfterSeconds?: number;
  /** One line saying what went wrong (absent on success). */
  error?: string;
}

/** What a class means, in the words the CLI prints after "TikTok …". */
const MEANING: Readonly<Record<ResponseClass, string>> = {
  success: 'accepted the event',
  auth: 'refused the credentials (access token or pixel code)',
  invalid: 'refused the event as invalid',
  throttled: 'is rate-limiting this token; try again later',
  transient: 'is failing or unreachable; try again later',
};

/**
 * `code 40105: The access token is missing or incorrect. (request_id 2026…)` for TikTok's
 * envelope; for anything else, where a redirect pointed or the status and the start of the page.
 */
const describe = (answer: TikTokAnswer, report: TikTokVerdictReport): string => {
  if (report.code !== undefined) {
    const message = report.message ? `: ${report.message}` : '';
    const trace = report.requestId ? ` (request_id ${report.requestId})` : '';
    return `HTTP ${answer.status}, code ${report.code}${message}${trace}`;
  }
  if (answer.status >= 300 && answer.status < 400) {
    return `HTTP ${answer.status} redirect${answer.location ? ` to ${redirectTarget(answer.location)}` : ''} (not followed; check --tiktok-events-url / TIKTOK_EVENTS_URL)`;
  }
  if (answer.tooLarge) {
    return `HTTP ${answer.status}: ${TOO_LARGE} (check --tiktok-events-url / TIKTOK_EVENTS_URL)`;
  }
  const snippet = textSnippet(answer.text);
  return `HTTP ${answer.status} without TikTok's answer envelope${snippet ? `: ${snippet}` : ''}`;
};

/** Classifies and words one answer of the track endpoint. */
export const reportTikTokAnswer = (
  answer: TikTokAnswer,
  nowMs = Date.now(),
): TikTokVerdictReport => {
  const verdict = classifyTikTokResponse(
    {
      status: answer.status,
      body: answer.text,
      headers: answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter },
    },
    nowMs,
  );
  const report: TikTokVerdictReport = { class: verdict.class, status: answer.status };
  // The classifier leaves an envelope's fields out of nothing: read them for success too.
  const envelope = parseTikTokBody(answer.text);
  if (envelope !== undefined) {
    report.code = envelope.code;
    if (envelope.message !== undefined) report.message = envelope.message;
    if (envelope.request_id !== undefined) report.requestId = envelope.request_id;
  }
  if (verdict.retryAfterMs !== undefined)
    report.retryAfterSeconds = Math.ceil(verdict.retryAfterMs / 1000);
  if (verdict.class !== 'success') {
    // A redirect says nothing about TikTok: the URL is wrong (or a proxy wants a login).
    report.error = isRedirect(answer)
      ? describe(answer, report)
      : `TikTok ${MEANING[verdict.class]}: ${describe(answer, report)}`;
  }
  return report;
};

/** A redirect that is not TikTok's envelope (never followed: the token would travel with it). */
const isRedirect = (answer: TikTokAnswer): boolean =>
  answer.status >= 300 && answer.status < 400 && parseTikTokBody(answer.text) === undefined;

/**
 * The exit code an answer means: 0 accepted; 1 refused (auth, invalid) or redirected (the URL is
 * wrong), which the user must fix; 3 throttled or failing, which is the environment's and passes
 * with time.
 */
export const tiktokExitCode = (answer: TikTokAnswer, cls: ResponseClass): ExitCode =>
  cls === 'success'
    ? EXIT_CODES.ok
    : cls === 'auth' || cls === 'invalid' || isRedirect(answer)
      ? EXIT_CODES.failed
      : EXIT_CODES.environment;

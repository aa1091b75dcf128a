import { randomBytes } from 'node:crypto';

/**
 * Meta's Graph API error object; the HTTP body is `{ error: GraphError }`.
 * Shape from developers.facebook.com/docs/graph-api/guides/error-handling and the Marketing API
 * error reference (which adds `is_transient`).
 */
export interface GraphError {
  /** Short message, e.g. `Invalid parameter`. */
  message: string;
  /** Exception class, usually `OAuthException`. */
  type: string;
  /** Graph error code, e.g. 100, 190, 613. */
  code: number;
  /** Finer reason, e.g. 2804019 (parameter error) or 2804003 (event older than 7 days). */
  error_subcode?: number;
  /** Meta's hint that retrying the same request may succeed. */
  is_transient?: boolean;
  /** Title meant for people. */
  error_user_title?: string;
  /** Explanation meant for people; the mock names the offending event and field here. */
  error_user_msg?: string;
  /** Request trace id, random per answer. */
  fbtrace_id: string;
}

/** Meta's `fbtrace_id` looks like 11–27 base64url characters; ours are random and unique enough. */
export const newTraceId = (): string => `A${randomBytes(15).toString('base64url')}`;

/** An error answer ready to send: HTTP status plus the Graph error object. */
export interface GraphErrorAnswer {
  status: number;
  error: GraphError;
  headers?: Record<string, string>;
}

/** The fields of a {@link GraphError} a caller chooses; the trace id is filled in. */
export type GraphErrorFields = Omit<GraphError, 'fbtrace_id'>;

/** Builds an error answer with a fresh trace id. */
export const graphErrorAnswer = (
  status: number,
  fields: GraphErrorFields,
  headers?: Record<string, string>,
): GraphErrorAnswer => ({
  status,
  error: { ...fields, fbtrace_id: newTraceId() },
  ...(headers ? { headers } : {}),
});

/** Subcodes the mock uses for payload errors (observed CAPI errors, reference §1). */
export const SUBCODE = {
  /** "Server-side API parameter error": a field is missing or malformed. */
  parameter: 2804019,
  /** An `event_time` older than the allowed window (7 days, 62 for physical_store). */
  eventTooOld: 2804003,
  /** Customer information missing or too broad to match. */
  insufficientCustomerInfo: 2804050,
} as const;

/** A payload (code 100) error with Meta's wording and the given subcode. */
export const invalidParameter = (
  subcode: number,
  userTitle: string,
  userMessage: string,
): GraphErrorAnswer =>
  graphErrorAnswer(400, {
    message: 'Invalid parameter',
    type: 'OAuthException',
    code: 100,
    error_subcode: subcode,
    is_transient: false,
    error_user_title: userTitle,
    error_user_msg: userMessage,
  });

/** Code 190: missing or wrong access token. Meta adds a `WWW-Authenticate` header to these. */
export const invalidToken = (message: string): GraphErrorAnswer =>
  graphErrorAnswer(
    400,
    { message, type: 'OAuthException', code: 190, is_transient: false },
    { 'www-authenticate': `OAuth "Facebook Platform" "invalid_token" "${message}"` },
  );

/** Codes whose HTTP status is not Meta's usual 400. */
export const httpStatusForCode = (code: number): number => {
  if (code === 1 || code === 2) return 500;
  if (code === 10 || (code >= 200 && code <= 299)) return 403;
  return 400;
};

/** Codes Meta documents as temporary (downtime, throttling, temporary policy block). */
export const isTransientCode = (code: number): boolean =>
  [1, 2, 4, 17, 32, 341, 368, 613].includes(code) || (code >= 80000 && code <= 80014);

const DEFAULT_MESSAGES: Record<number, string> = {
  1: 'An unknown error has occurred.',
  2: 'An unexpected error has occurred. Please retry your request later.',
  3: 'Application does not have the capability to make this API call.',
  4: '(#4) Application request limit reached',
  10: '(#10) Application does not have permission for this action',
  17: '(#17) User request limit reached',
  32: '(#32) Page request limit reached',
  100: 'Invalid parameter',
  190: 'Invalid OAuth access token - Cannot parse access token',
  200: '(#200) Permissions error',
  294: '(#294) Managing advertisements requires the extended permission ads_management',
  341: '(#341) Application limit reached',
  368: 'The action attempted has been deemed abusive or is otherwise disallowed',
  613: '(#613) Calls to this api have exceeded the rate limit.',
  2635: '(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.',
  80004: 'There have been too many calls to this ad-account. Wait a bit and try again.',
};

/** Meta's usual message for a code, or a generic one. */
export const defaultMessageForCode = (code: number): string =>
  DEFAULT_MESSAGES[code] ?? `(#${code}) Graph API error`;

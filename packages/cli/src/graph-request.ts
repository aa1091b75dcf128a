import { createRedactor, type GraphErrorInfo, parseGraphError } from '@capi-kit/core';
import type { GraphConfig } from './config.js';
import { CliError, EXIT_CODES } from './exit-codes.js';

/** One Graph GET answer, with the timing the clock-skew check needs. */
export interface GraphAnswer {
  /** HTTP status. */
  status: number;
  /** Parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** Meta's error, when the body carried one. */
  error?: GraphErrorInfo;
  /** The `Date` header (epoch ms, 1 s resolution), when present. */
  date?: number;
  /** Local clock when the request left. */
  sentAt: number;
  /** Local clock when the answer arrived. */
  receivedAt: number;
}

/**
 * GETs `{graphUrl}/{version}/{path}` with the token in an `Authorization: Bearer` header (never in
 * the URL). A network failure is an environment error (exit 3) whose message is redacted.
 */
export const graphGet = async (
  config: GraphConfig,
  path: string,
  query: Record<string, string>,
  fetchImpl: typeof fetch,
  timeoutMs = 10_000,
): Promise<GraphAnswer> => {
  const url = new URL(`${config.graphUrl}/${config.apiVersion}/${path}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const sentAt = Date.now();
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(url, {
      headers: { authorization: `Bearer ${config.accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (error) {
    const redact = createRedactor([config.accessToken]);
    throw new CliError(
      `Could not reach ${config.graphUrl}: ${redact(describeNetworkError(error))}`,
      EXIT_CODES.environment,
    );
  }
  const receivedAt = Date.now();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const answer: GraphAnswer = { status: res.status, body, sentAt, receivedAt };
  const error = parseGraphError(body);
  if (error) answer.error = error;
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) answer.date = date;
  return answer;
};

/** `190: Invalid OAuth access token (fbtrace_id A…)`, for printing. */
export const describeGraphError = (error: GraphErrorInfo | undefined, status: number): string => {
  if (!error) return `HTTP ${status}`;
  const code =
    error.code === undefined ? '' : `${error.code}${error.subcode ? `/${error.subcode}` : ''}: `;
  const text = error.userMessage ?? error.message ?? `HTTP ${status}`;
  const trace = error.fbtraceId ? ` (fbtrace_id ${error.fbtraceId})` : '';
  return `${code}${text}${trace}`;
};

/** `fetch failed <- connect ECONNREFUSED 127.0.0.1:9` from an error and its causes. */
export const describeNetworkError = (error: unknown): string => {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error) {
      parts.push(current.name === 'TimeoutError' ? 'timed out' : current.message);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' <- ');
};

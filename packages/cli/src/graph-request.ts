import { type GraphErrorInfo, parseGraphError } from '@capi-kit/core';
import type { GraphConfig } from './config.js';
import { CliError, EXIT_CODES } from './exit-codes.js';

/**
 * The most of an answer's body the CLI reads (as the core's delivery does): Graph's and TikTok's
 * answers are a few hundred bytes; a URL pointing at a file server, or a stream that never ends,
 * must not fill the memory before the timeout.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The body as text, or `undefined` when it is larger than {@link MAX_ANSWER_BYTES} (declared or
 * received): the rest is not read and the stream is cancelled, so the connection is let go.
 */
export const readBoundedText = async (res: Response): Promise<string | undefined> => {
  const stream = res.body;
  if (stream === null) return '';
  if (Number(res.headers.get('content-length') ?? Number.NaN) > MAX_ANSWER_BYTES) {
    stream.cancel().catch(() => {});
    return undefined;
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    size += next.value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/** `an answer larger than 1 MiB, not read`. */
export const TOO_LARGE = `an answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, not read`;

/** One Graph GET answer, with the timing the clock-skew check needs. */
export interface GraphAnswer {
  /** HTTP status. */
  status: number;
  /** Parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** Meta's error, when the body carried one. */
  error?: GraphErrorInfo;
  /** The body as text, when it was not JSON (a proxy's or load balancer's page). */
  text?: string;
  /** The `Location` header of a redirect (not followed). */
  location?: string;
  /** True when the body was larger than {@link MAX_ANSWER_BYTES} and not read. */
  tooLarge?: boolean;
  /** The `Date` header (epoch ms, 1 s resolution), when present. */
  date?: number;
  /** Local clock when the request left. */
  sentAt: number;
  /** Local clock when the answer arrived. */
  receivedAt: number;
}

/**
 * GETs `{graphUrl}/{version}/{path}` with the token in an `Authorization: Bearer` header (never in
 * the URL). Redirects are not followed (the token would travel with them), as in the core's
 * client. A network failure is an environment error (exit 3); like everything the CLI prints, its
 * message is redacted on the way out (output-redaction.ts).
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
  let text: string | undefined;
  try {
    res = await fetchImpl(url, {
      headers: { authorization: `Bearer ${config.accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    text = await readBoundedText(res);
  } catch (error) {
    throw new CliError(
      `Could not reach ${config.graphUrl}: ${describeNetworkError(error)}`,
      EXIT_CODES.environment,
    );
  }
  const receivedAt = Date.now();
  let body: unknown;
  try {
    body = text === undefined ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const answer: GraphAnswer = { status: res.status, body, sentAt, receivedAt };
  const error = parseGraphError(body);
  if (error) answer.error = error;
  if (text === undefined) answer.tooLarge = true;
  else if (body === undefined && text.trim() !== '') answer.text = text;
  const location = res.headers.get('location');
  if (location) answer.location = location;
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) answer.date = date;
  return answer;
};

/**
 * `190/463: Invalid OAuth access token — Session expired — Generate a new token (fbtrace_id A…)`,
 * for printing: Meta's message, then `error_user_title` and `error_user_msg`, where Meta says
 * which parameter failed and why. Not redacted here: the output is (output-redaction.ts).
 */
export const describeGraphError = (error: GraphErrorInfo | undefined, status: number): string => {
  if (!error) return `HTTP ${status}`;
  const code =
    error.code === undefined ? '' : `${error.code}${error.subcode ? `/${error.subcode}` : ''}: `;
  const parts = [error.message, error.userTitle, error.userMessage].filter(
    (part, i, all): part is string =>
      typeof part === 'string' && part !== '' && all.indexOf(part) === i,
  );
  const text = parts.length > 0 ? parts.join(' — ') : `HTTP ${status}`;
  const trace = error.fbtraceId ? ` (fbtrace_id ${error.fbtraceId})` : '';
  return `${code}${text}${trace}`;
};

/** What a Graph answer that is not a success says, for printing. */
export interface AnswerToDescribe {
  /** HTTP status. */
  status: number;
  /** Meta's error, when the body carried one. */
  error?: GraphErrorInfo | undefined;
  /** The body, when it was not JSON. */
  text?: string | undefined;
  /** The `Location` header of a redirect. */
  location?: string | undefined;
  /** True when the body was too large to be read. */
  tooLarge?: boolean | undefined;
}

const SNIPPET_CHARS = 200;

/**
 * The start of a non-JSON page on one line: whitespace collapsed, cut after about 200 characters.
 * It is cut between words and otherwise left as it is (tags included), so a token in the page
 * stays whole and the output redaction still recognises it; stripping tags could split a token
 * that contains `<`.
 */
export const textSnippet = (text: string): string => {
  let out = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (out.length + word.length + 1 > SNIPPET_CHARS) return out === '' ? '…' : `${out} …`;
    out = out === '' ? word : `${out} ${word}`;
  }
  return out;
};

/** Longest redirect target printed: a `Location` is the answering server's to make as long as it likes. */
const MAX_TARGET = 200;

/**
 * Where a redirect points, without its query, fragment or user name and password (as the core's
 * delivery errors tell it): a login page's or a portal's `Location` may carry a session, a signed
 * return URL or the request's own parameters, which the output redaction does not know.
 */
export const redirectTarget = (location: string): string => {
  let target = location.split(/[?#]/, 1)[0] ?? '';
  try {
    const parsed = new URL(location);
    if (parsed.origin !== 'null') target = `${parsed.origin}${parsed.pathname}`;
  } catch {
    // A relative or malformed `Location`: what comes before its query is all that is told.
  }
  return target.length > MAX_TARGET ? `${target.slice(0, MAX_TARGET)}…` : target;
};

/**
 * Meta's error (see {@link describeGraphError}); else where a redirect pointed; else the text of
 * a non-JSON page (a proxy, a load balancer); else the HTTP status.
 */
export const describeGraphAnswer = (answer: AnswerToDescribe): string => {
  const { status, error, text, location, tooLarge } = answer;
  if (error) return describeGraphError(error, status);
  if (tooLarge) return `HTTP ${status}: ${TOO_LARGE} (check --graph-url / META_GRAPH_URL)`;
  if (status >= 300 && status < 400) {
    return `HTTP ${status} redirect${location ? ` to ${redirectTarget(location)}` : ''} (not followed; check --graph-url / META_GRAPH_URL)`;
  }
  const snippet = text === undefined ? '' : textSnippet(text);
  if (status >= 200 && status < 300) {
    // A success without what Graph answers there: --graph-url is a web server, a portal, an app.
    return `HTTP ${status} that is not Graph's answer${snippet ? `: ${snippet}` : ''} (check --graph-url / META_GRAPH_URL)`;
  }
  return snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`;
};

/**
 * True when a read of a Graph node (`/me`, `/{pixel}`) was answered as Graph answers it: 200, no
 * error, and a JSON object with the node's `id` (Graph always returns it). A web server, a portal or
 * an app at `--graph-url` answers 200 too, with a page or its own JSON.
 */
export const isGraphNode = (answer: GraphAnswer): boolean =>
  answer.status === 200 &&
  !answer.error &&
  typeof answer.body === 'object' &&
  answer.body !== null &&
  typeof (answer.body as { id?: unknown }).id === 'string';

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

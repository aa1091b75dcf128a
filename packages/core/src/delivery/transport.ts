import type { HeadersLike } from './classify.js';
import type { Clock, FetchLike } from './types.js';

/** The outcome of one POST: an answer, or why there was none. */
export type SendOutcome =
  | { kind: 'response'; status: number; headers: HeadersLike; body: unknown; durationMs: number }
  | { kind: 'network'; error: unknown; durationMs: number }
  /** An answer whose body was not read (larger than {@link MAX_ANSWER_BYTES}): status and headers only. */
  | { kind: 'unreadable'; status: number; headers: HeadersLike; reason: string; durationMs: number }
  | { kind: 'timeout'; durationMs: number }
  | { kind: 'aborted'; durationMs: number };

/** Fixed parts of every request to one stream (a destination's `Envelope`), computed once at creation. */
export interface PixelEndpoint {
  /** Meta: `{graphUrl}/{version}/{pixelId}/events` — no token, ever. */
  url: string;
  /** Meta: `'{"data":['`. */
  prefix: string;
  /** Meta: `'],"partner_agent":…,"access_token":…}'`: holds the secret, so it is never logged. */
  suffix: string;
  /** Extra headers (TikTok's `Access-Token`): sent with every request, never logged. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The secrets the suffix or headers hold (Meta: the token and its proof): redacted everywhere. */
  secrets?: readonly (string | undefined)[] | undefined;
}

const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/json',
});

/** The request headers of a stream: JSON in and out, plus the envelope's own. Computed once. */
export const requestHeaders = (
  extra: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> => {
  if (extra === undefined) return BASE_HEADERS;
  const out: Record<string, string> = { ...BASE_HEADERS };
  // Lowercased so an envelope's `Content-Type` replaces ours instead of doubling it.
  for (const [name, value] of Object.entries(extra)) out[name.toLowerCase()] = value;
  return Object.freeze(out);
};

/** Everything after the `data` array, JSON-escaped once. The token is last so truncated logs of a body would cut it first. */
export const bodySuffix = (fields: {
  partnerAgent?: string | undefined;
  testEventCode?: string | undefined;
  appsecretProof?: string | undefined;
  accessToken: string;
}): string => {
  let out = ']';
  if (fields.partnerAgent) out += `,"partner_agent":${JSON.stringify(fields.partnerAgent)}`;
  if (fields.testEventCode) out += `,"test_event_code":${JSON.stringify(fields.testEventCode)}`;
  if (fields.appsecretProof) out += `,"appsecret_proof":${JSON.stringify(fields.appsecretProof)}`;
  out += `,"access_token":${JSON.stringify(fields.accessToken)}}`;
  return out;
};

const encoder = new TextEncoder();
const COMMA = 0x2c;

/** What {@link buildBody} needs of a queued event: its cached JSON and that JSON's UTF-8 size. */
export interface SerializedEvent {
  readonly body: string;
  readonly bytes: number;
}

/**
 * The request body, as UTF-8 bytes, from the events' cached JSON: no re-serialization on the send
 * path (about 3× cheaper than `JSON.stringify({ data })` for 1000 events, delivery.md §3), and no
 * joined string either. Each event is encoded straight into one buffer sized from the byte counts
 * taken at `track()`, which is ~2.5× the delivery throughput of `join` + the `TextEncoder` pass
 * `fetch` makes on a string body (bench `throughput`, bench/RESULTS.md). The bytes go into `spare`
 * when it is big enough (the caller's buffer from an earlier, settled request), so a steady stream
 * of batches, or an outage's probes, allocates nothing. If a count is wrong (an outbox restored a
 * bad one), the slower join-and-encode is used so the body is never truncated.
 */
export const buildBody = (
  endpoint: PixelEndpoint,
  events: readonly SerializedEvent[],
  spare?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> => {
  const prefix = encoder.encode(endpoint.prefix);
  const suffix = encoder.encode(endpoint.suffix);
  let size = prefix.length + suffix.length + Math.max(0, events.length - 1);
  for (const event of events) size += event.bytes;
  const out =
    spare !== undefined && spare.byteLength >= size
      ? spare.subarray(0, size)
      : new Uint8Array(size);
  out.set(prefix, 0);
  let at = prefix.length;
  for (let i = 0; i < events.length; i++) {
    const { body } = events[i] as SerializedEvent;
    if (i > 0) out[at++] = COMMA;
    const { read, written } = encoder.encodeInto(body, out.subarray(at));
    if (read !== body.length) return joinAndEncode(endpoint, events);
    at += written;
  }
  if (at + suffix.length !== size) return joinAndEncode(endpoint, events);
  out.set(suffix, at);
  return out;
};

const joinAndEncode = (
  endpoint: PixelEndpoint,
  events: readonly SerializedEvent[],
): Uint8Array<ArrayBuffer> =>
  encoder.encode(endpoint.prefix + events.map((event) => event.body).join(',') + endpoint.suffix);

/**
 * The most of an answer's body that is read. Meta's answers are a few hundred bytes (an error with
 * its user message, an acknowledgement); a `graphUrl` pointing at a file server, or a stream that
 * never ends, must not fill the memory within the request's deadline.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

const decoder = new TextDecoder();

/**
 * The answer's body as text, or `undefined` when it is larger than `max` bytes (declared or
 * received): then the rest is not read, and the stream is cancelled so the connection is let go.
 */
const readBounded = async (
  response: Response,
  max: number,
  signal: AbortSignal,
): Promise<string | undefined> => {
  const stream = response.body;
  // A wrapper's Response-like without a stream: its text is all there is.
  if (stream === null || stream === undefined) return response.text();
  const declared = Number(response.headers?.get?.('content-length') ?? Number.NaN);
  if (declared > max) {
    stream.cancel().catch(() => {});
    return undefined;
  }
  const reader = stream.getReader();
  // A `fetch` that ignores its signal keeps its stream open after a timeout or close(): let it go.
  const release = () => reader.cancel().catch(() => {});
  signal.addEventListener('abort', release, { once: true });
  // Aborted already (close() between the answer and this read): no abort event will come.
  if (signal.aborted) release();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      size += next.value.byteLength;
      if (size > max) return undefined;
      chunks.push(next.value);
    }
  } finally {
    // Too large, or abandoned (timeout, close()): the rest of the stream is not wanted.
    signal.removeEventListener('abort', release);
    if (!done) release();
  }
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return decoder.decode(all);
};

const parseBody = (text: string): unknown => {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * One POST with an absolute deadline covering headers and body. `controller` is owned by the
 * caller so `close()` can abort it; a timeout aborts it too, and the outcome says which.
 */
export const postBatch = async (
  fetchFn: FetchLike,
  url: string,
  body: Uint8Array<ArrayBuffer>,
  options: {
    timeoutMs: number;
    clock: Clock;
    controller: AbortController;
    /** Default: JSON content type and accept (`requestHeaders(undefined)`). */
    headers?: Readonly<Record<string, string>> | undefined;
  },
): Promise<SendOutcome> => {
  const { clock, controller } = options;
  const started = clock.now();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const elapsed = () => clock.now() - started;
  // Settles (rejects) when the request is aborted, by the timeout or by close(): a `fetch` that
  // ignores its signal (a wrapper, an old polyfill) must not hold the slot, flush() or close().
  const abandoned = new Promise<never>((_, reject) => {
    const { signal } = controller;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  abandoned.catch(() => {});
  try {
    const pending = fetchFn(url, {
      method: 'POST',
      headers: options.headers ?? {
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body,
      signal: controller.signal,
      // A redirect is never the platform's answer, and following it would carry the token (in the
      // body, or a header) to wherever it points: it comes back as a 3xx, retried as a failure.
      redirect: 'manual',
    });
    pending.catch(() => {});
    const response = await Promise.race([pending, abandoned]);
    if (response.type === 'opaqueredirect') {
      // Browsers hide a manual redirect's status (0) and location: say what it was.
      return {
        kind: 'network',
        error: new Error(`${url} answered with a redirect, which is not followed (check graphUrl)`),
        durationMs: elapsed(),
      };
    }
    const reading = readBounded(response, MAX_ANSWER_BYTES, controller.signal);
    reading.catch(() => {});
    const text = await Promise.race([reading, abandoned]);
    if (text === undefined) {
      return {
        kind: 'unreadable',
        status: response.status,
        headers: response.headers,
        reason: `an answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB, not read (check graphUrl)`,
        durationMs: elapsed(),
      };
    }
    return {
      kind: 'response',
      status: response.status,
      headers: response.headers,
      body: parseBody(text),
      durationMs: elapsed(),
    };
  } catch (error) {
    if (timedOut) return { kind: 'timeout', durationMs: elapsed() };
    if (controller.signal.aborted) return { kind: 'aborted', durationMs: elapsed() };
    return { kind: 'network', error, durationMs: elapsed() };
  } finally {
    clock.clearTimeout(timer);
  }
};

const NON_ASCII = /[\u0080-\uffff]/;

const countUtf8 = (text: string): number => {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
};

// Chosen once at load, not per call: `Buffer.byteLength` (Node, Bun, Workers with nodejs_compat) is
// native and ~10x faster than a JS loop on a 1.4 KB event (0.3 µs vs 3.4 µs, bench/RESULTS.md);
// elsewhere an ASCII check (native regex) skips the loop for the usual all-ASCII JSON.
const nativeByteLength = (
  globalThis as { Buffer?: { byteLength?: (s: string, e: 'utf8') => number } }
).Buffer?.byteLength;

/** UTF-8 size of a string without copying it. */
export const utf8ByteLength: (text: string) => number =
  typeof nativeByteLength === 'function'
    ? (text) => nativeByteLength(text, 'utf8')
    : (text) => (NON_ASCII.test(text) ? countUtf8(text) : text.length);

/** The portable path of {@link utf8ByteLength}, exported for tests. */
export const utf8ByteLengthPortable = (text: string): number =>
  NON_ASCII.test(text) ? countUtf8(text) : text.length;

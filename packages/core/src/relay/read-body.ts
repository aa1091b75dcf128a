import type { Clock } from '../delivery/types.js';

/** What {@link readRelayBody} read: the bytes, or that the body went past the cap. */
export type RelayBody = { bytes: Uint8Array; tooLarge: false } | { tooLarge: true };

/** A request body as runtimes give it: a Web `ReadableStream` or a Node stream (async iterable). */
export type BodySource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** What {@link readRelayBodyWithin} read: the body, that it went past the cap, or that time ran out. */
export type TimedRelayBody = RelayBody | { tooLarge: false; timedOut: true };

/** Options of {@link readRelayBodyWithin}. */
export interface BodyReadLimits {
  /** Bytes read at most; past them the body is `tooLarge`. */
  maxBytes: number;
  /** Milliseconds the whole body may take to arrive. */
  timeoutMs: number;
  /** The timers the deadline is set with. */
  timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/** Shared by a read and its deadline: the deadline stops the read. */
interface ReadControl {
  stopped: boolean;
  /** Cancels a Web stream's reader, once one is held. */
  cancel?: () => void;
}

const TIMED_OUT = { tooLarge: false, timedOut: true } as const;

/**
 * Reads a request body up to `maxBytes` and stops there, so a client cannot make the server buffer
 * more than the cap. Runtime-agnostic: a Web `ReadableStream` (its reader is cancelled on
 * overflow) or any async iterable of chunks, such as a Node `IncomingMessage`. A Node stream is
 * left paused, not destroyed, on overflow, so the 413 can still be written; answer it with
 * `Connection: close`, as the rest of the body is never read.
 * @example const body = await readRelayBody(req, relay.maxBodyBytes)
 */
export async function readRelayBody(source: BodySource, maxBytes: number): Promise<RelayBody> {
  return readChunks(source, maxBytes, { stopped: false });
}

/**
 * {@link readRelayBody} within `limits.timeoutMs`: a body not read whole by then is `{ timedOut: true }`,
 * so a client that sends half a body and stalls holds a request for that long, not for the
 * server's own `requestTimeout` (Node: 300 s). Reading stops at the deadline: a Web stream is
 * cancelled, a Node stream left paused as at the cap (answer with `Connection: close`). A Node
 * read still pending then may never settle (Node leaves it so once the answer closed the
 * connection) or may fail; nobody awaits it, and the race's handler keeps a failure from being
 * an unhandled rejection. The timer is cleared on every path (whole, too large, a failed read,
 * the deadline).
 */
export async function readRelayBodyWithin(
  source: BodySource,
  limits: BodyReadLimits,
): Promise<TimedRelayBody> {
  const { maxBytes, timeoutMs, timers } = limits;
  const control: ReadControl = { stopped: false };
  let timer: unknown;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = timers.setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  let read: TimedRelayBody;
  try {
    // The race holds a handler on the read: one that fails after the deadline is handled there.
    read = await Promise.race([readChunks(source, maxBytes, control), deadline]);
  } finally {
    timers.clearTimeout(timer);
  }
  if (read === TIMED_OUT) {
    control.stopped = true;
    control.cancel?.();
  }
  return read;
}

/** The reading itself: chunk by chunk, up to `maxBytes`, until the end or `control.stopped`. */
async function readChunks(
  source: BodySource,
  maxBytes: number,
  control: ReadControl,
): Promise<RelayBody> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const add = (chunk: Uint8Array | string): boolean => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.byteLength;
    if (size > maxBytes) return false;
    chunks.push(bytes);
    return true;
  };
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    control.cancel = () => {
      reader.cancel().catch(() => {});
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done || control.stopped) break;
      if (!add(value)) {
        reader.cancel().catch(() => {});
        return { tooLarge: true };
      }
    }
  } else {
    // Not `for await`: breaking out of it would destroy a Node request and its socket.
    const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    for (;;) {
      const { done, value } = await iterator.next();
      // Past the deadline nobody waits for the body: stop asking for more (the stream pauses).
      if (done === true || control.stopped) break;
      if (!add(value)) return { tooLarge: true };
    }
  }
  if (control.stopped) return { bytes: new Uint8Array(0), tooLarge: false }; // read by nobody
  if (chunks.length === 1 && chunks[0] !== undefined) return { bytes: chunks[0], tooLarge: false };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, tooLarge: false };
}

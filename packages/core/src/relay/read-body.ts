/** What {@link readRelayBody} read: the bytes, or that the body went past the cap. */
export type RelayBody = { bytes: Uint8Array; tooLarge: false } | { tooLarge: true };

/** A request body as runtimes give it: a Web `ReadableStream` or a Node stream (async iterable). */
export type BodySource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/**
 * Reads a request body up to `maxBytes` and stops there, so a client cannot make the server buffer
 * more than the cap. Runtime-agnostic: a Web `ReadableStream` (its reader is cancelled on
 * overflow) or any async iterable of chunks, such as a Node `IncomingMessage`. A Node stream is
 * left paused, not destroyed, on overflow, so the 413 can still be written; answer it with
 * `Connection: close`, as the rest of the body is never read.
 * @example const body = await readRelayBody(req, relay.maxBodyBytes)
 */
export async function readRelayBody(source: BodySource, maxBytes: number): Promise<RelayBody> {
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
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
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
      if (done === true) break;
      if (!add(value)) return { tooLarge: true };
    }
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return { bytes: chunks[0], tooLarge: false };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, tooLarge: false };
}

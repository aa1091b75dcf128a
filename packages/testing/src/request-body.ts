import type { IncomingMessage } from 'node:http';

/** The `maxBodyBytes` option's default: larger bodies are answered 413. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The body as read from the socket, or the fact that it was over the limit. */
export type RawBody = { tooLarge: false; bytes: Buffer } | { tooLarge: true; size: number };

/**
 * Reads the whole body. Past `limit` it keeps draining without buffering, so the 413 reaches a
 * client that is still writing (answering mid-upload makes `fetch` report a reset instead).
 */
export const readBody = (req: IncomingMessage, limit: number): Promise<RawBody> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () =>
      resolve(
        size > limit ? { tooLarge: true, size } : { tooLarge: false, bytes: Buffer.concat(chunks) },
      ),
    );
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection mid-body'));
    });
  });

/** Top-level body fields, or why the body could not be read. */
export type ParsedBody =
  | { ok: true; fields: Record<string, unknown> }
  | { ok: false; reason: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const parseJsonObject = (text: string, what: string): ParsedBody => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${what} is not valid JSON` };
  }
  return isPlainObject(value)
    ? { ok: true, fields: value }
    : { ok: false, reason: `${what} must be a JSON object` };
};

/**
 * Form fields carry `data` as a JSON string (Meta's "data as a form field"). It is decoded here so
 * the rest of the mock sees the same shape as a JSON body; a `data` that is not JSON stays a string
 * and fails validation with a clear message.
 */
const decodeFormData = (fields: Record<string, unknown>): Record<string, unknown> => {
  const data = fields.data;
  if (typeof data !== 'string') return fields;
  try {
    return { ...fields, data: JSON.parse(data) as unknown };
  } catch {
    return fields;
  }
};

const parseMultipart = (body: Buffer, contentType: string): ParsedBody => {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return { ok: false, reason: 'multipart body without a boundary' };
  const fields: Record<string, unknown> = {};
  for (const part of body.toString('utf8').split(`--${marker}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd === -1) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, headerEnd))?.[1];
    if (name === undefined) continue;
    fields[name] = part.slice(headerEnd + 4).replace(/\r\n$/, '');
  }
  return { ok: true, fields: decodeFormData(fields) };
};

/**
 * Parses the body by `Content-Type`: JSON (the Node SDK's choice), `x-www-form-urlencoded` and
 * `multipart/form-data` (Meta shows `data` as a form field). Anything else is refused so a client
 * that forgets its `Content-Type` (fetch then sends `text/plain`) is caught.
 */
export const parseBody = (body: Buffer, contentType: string | undefined): ParsedBody => {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length === 0 && type === '') return { ok: true, fields: {} };
  if (type === 'application/json' || type.endsWith('+json')) {
    return parseJsonObject(body.toString('utf8'), 'The request body');
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) fields[key] = value;
    return { ok: true, fields: decodeFormData(fields) };
  }
  if (type === 'multipart/form-data') return parseMultipart(body, contentType ?? '');
  return {
    ok: false,
    reason: `Unsupported Content-Type '${type || '(none)'}': send application/json or application/x-www-form-urlencoded`,
  };
};

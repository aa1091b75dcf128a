// @ts-check
// What `POST /lead` and `POST /purchase` accept, and the one answer every example gives otherwise.
// The rules are checked in the order a server meets them: the Content-Type header (type, then
// charset) before any byte of the body is read, then the body's size while it is read, then its
// syntax, then its fields (inputs.js). So a request gets the same answer from every framework, even
// one that breaks several rules at once.

/**
 * A refused request: the status and the JSON body every example answers with.
 * @typedef {{ status: 400 | 413 | 415, body: { error: string, field?: string } }} Rejection
 */

/**
 * The largest JSON body every example reads: 100 KiB (102 400 bytes), body-parser's default, which
 * each example configures its framework's parser to, so Express, Fastify, Nest and Next all take a
 * body of exactly this many bytes and refuse one byte more.
 */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** The answer to a body that is not `application/json` (a form post, text, no body at all). */
export const UNSUPPORTED_CONTENT_TYPE = /** @type {const} */ ({
  status: 415,
  body: { error: 'Content-Type must be application/json' },
});

/**
 * The answer to JSON in another charset than UTF-8 (`charset=latin1`, `charset=utf-16`): RFC 8259
 * §8.1 says JSON exchanged between systems MUST be UTF-8, and frameworks disagree on the others
 * (body-parser decodes UTF-16, Fastify reads every body as UTF-8 whatever it says), so none is read.
 */
export const UNSUPPORTED_CHARSET = /** @type {const} */ ({
  status: 415,
  body: { error: 'JSON must be UTF-8 (Content-Type: application/json, or with charset=utf-8)' },
});

/** The answer to a body larger than {@link BODY_LIMIT_BYTES}, however it is sent (chunked or not). */
export const BODY_TOO_LARGE = /** @type {const} */ ({
  status: 413,
  body: { error: 'the body is larger than 100 KB' },
});

/** The answer to a JSON body that does not parse, is empty, or is not an object. */
export const NOT_A_JSON_OBJECT = /** @type {const} */ ({
  status: 400,
  body: { error: 'the body must be a JSON object' },
});

/**
 * The answer to JSON with a `__proto__` key, or a `constructor` object with a `prototype` key, at
 * any depth. `JSON.parse` keeps them as plain own properties, but the first `Object.assign` or deep
 * merge of such a body into another object replaces that object's prototype (prototype
 * poisoning). No field of the contract has these names, so a body carrying them is an attack or a
 * bug: it is refused whole, while parsing, before any handler sees it — Fastify's default
 * (`onProtoPoisoning: 'error'`), now with its own answer and in every example. Silently dropping the
 * key instead would answer the same body `email is required` in one place and 200 in another.
 */
export const PROTOTYPE_KEY = /** @type {const} */ ({
  status: 400,
  body: { error: 'the body must not contain a "__proto__" or "constructor.prototype" key' },
});

/** The media type and the `charset` parameter of a `Content-Type` header (both lower-cased). */
function parseContentType(/** @type {string} */ header) {
  const [type = '', ...parameters] = header.split(';');
  let charset;
  for (const parameter of parameters) {
    const at = parameter.indexOf('=');
    if (at === -1 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    charset = parameter
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

/**
 * The rejection of a request's `Content-Type` before its body is read: not JSON →
 * {@link UNSUPPORTED_CONTENT_TYPE}; JSON in a charset other than UTF-8 →
 * {@link UNSUPPORTED_CHARSET}; `application/json` with no charset or `charset=utf-8` → `undefined`.
 * @param {string | undefined | null} contentType
 * @returns {Rejection | undefined}
 */
export function contentTypeRejection(contentType) {
  if (typeof contentType !== 'string') return UNSUPPORTED_CONTENT_TYPE;
  const { type, charset } = parseContentType(contentType);
  if (type !== 'application/json') return UNSUPPORTED_CONTENT_TYPE;
  if (charset !== undefined && charset !== 'utf-8') return UNSUPPORTED_CHARSET;
  return undefined;
}

/**
 * An error for a body the contract refuses while parsing it; {@link bodyParserRejection} answers
 * it. The answer is a getter of the class, not a property of the error, because body-parser deletes
 * the own properties of an error thrown while it parses.
 */
export class RefusedJsonError extends Error {
  /** @returns {Rejection} */
  get rejection() {
    return NOT_A_JSON_OBJECT;
  }
}

/** A JSON body with a prototype-poisoning key ({@link PROTOTYPE_KEY}). */
export class PrototypeKeyError extends RefusedJsonError {
  /** @override @returns {Rejection} */
  get rejection() {
    return PROTOTYPE_KEY;
  }
}

/**
 * A `JSON.parse` reviver that throws {@link PrototypeKeyError} on a `__proto__` key or a
 * `constructor` object with its own `prototype` key. Give it to body-parser as
 * `express.json({ reviver })`; {@link parseJsonBody} uses it too.
 * @param {string} key
 * @param {unknown} value
 */
export function refusePrototypeKeys(key, value) {
  if (key === '__proto__') throw new PrototypeKeyError('"__proto__" key in a JSON body');
  if (
    key === 'constructor' &&
    typeof value === 'object' &&
    value !== null &&
    Object.hasOwn(value, 'prototype')
  ) {
    throw new PrototypeKeyError('"constructor.prototype" key in a JSON body');
  }
  return value;
}

/**
 * Parses a JSON body's text the contract's way: an empty or broken body throws
 * {@link RefusedJsonError}, one with a prototype-poisoning key {@link PrototypeKeyError}.
 * @param {string} text
 * @returns {unknown}
 */
export function parseJsonBody(text) {
  if (text.length === 0) throw new RefusedJsonError('empty JSON body');
  try {
    return JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof RefusedJsonError) throw error;
    throw new RefusedJsonError('malformed JSON body', { cause: error });
  }
}

/**
 * Reads a Web `Request`'s JSON body the contract's way, for frameworks that hand over the body
 * unread (Next.js route handlers, where `request.json()` has no size limit, reads any charset as
 * UTF-8 and keeps `__proto__` keys): the content type and charset first, nothing read when they are
 * wrong; at most {@link BODY_LIMIT_BYTES}, counted as it streams in, so a chunked body without
 * `Content-Length` is cut off too; then {@link parseJsonBody}.
 * @param {Request} request
 * @returns {Promise<{ body: unknown } | { rejection: Rejection }>}
 */
export async function readJsonRequest(request) {
  const refused = contentTypeRejection(request.headers.get('content-type'));
  if (refused !== undefined) return { rejection: refused };
  if (Number(request.headers.get('content-length')) > BODY_LIMIT_BYTES) {
    return { rejection: BODY_TOO_LARGE };
  }
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > BODY_LIMIT_BYTES) {
        await reader.cancel().catch(() => {});
        return { rejection: BODY_TOO_LARGE };
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { body: parseJsonBody(new TextDecoder().decode(bytes)) };
  } catch (error) {
    if (error instanceof RefusedJsonError) return { rejection: error.rejection };
    throw error;
  }
}

/**
 * body-parser's `verify` option that refuses an empty JSON body, which body-parser would otherwise
 * read as `{}` ({@link parseJsonBody} refuses it).
 * @param {unknown} _req
 * @param {unknown} _res
 * @param {Uint8Array} raw
 */
function refuseEmptyJson(_req, _res, raw) {
  if (raw.length === 0) throw new RefusedJsonError('empty JSON body');
}

/**
 * The options of `express.json()` (body-parser) for the contract, used by the Express example and
 * NestJS on Express: only `application/json` with no charset or UTF-8 is read (any other charset
 * is left unread, and `readLead`/`readPurchase` answer {@link UNSUPPORTED_CHARSET}), at most
 * {@link BODY_LIMIT_BYTES}, an empty body and prototype-poisoning keys refused.
 */
export const bodyParserJsonOptions = {
  /** @param {{ headers: Record<string, string | string[] | undefined> }} req */
  type: (req) => {
    const contentType = req.headers['content-type'];
    return typeof contentType === 'string' && contentTypeRejection(contentType) === undefined;
  },
  limit: BODY_LIMIT_BYTES,
  reviver: refusePrototypeKeys,
  verify: refuseEmptyJson,
};

/**
 * Fastify's JSON parser for the contract (`addContentTypeParser('application/json', { parseAs:
 * 'string' }, parseFastifyJson)`, after `removeAllContentTypeParsers()`), used by the Fastify
 * example and NestJS on Fastify: {@link parseJsonBody}, whose errors {@link bodyParserRejection}
 * answers. Fastify enforces its `bodyLimit` before calling it.
 * @param {unknown} _request
 * @param {string | Buffer} text
 * @param {(error: Error | null, body?: unknown) => void} done
 */
export function parseFastifyJson(_request, text, done) {
  let body;
  try {
    body = parseJsonBody(String(text));
  } catch (error) {
    done(/** @type {Error} */ (error));
    return;
  }
  done(null, body);
}

/**
 * The rejection for a body parser's error, or `undefined` when the error is not about the body.
 * Knows body-parser's (Express, NestJS on Express), Fastify's (Fastify, NestJS on Fastify) and
 * this module's own errors, so a refused body gets the same answer in every example rather than
 * each framework's own (Express's HTML error page, Fastify's and Nest's error objects).
 * @param {unknown} error
 * @returns {Rejection | undefined}
 */
export function bodyParserRejection(error) {
  if (error instanceof RefusedJsonError) return error.rejection;
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, code } = /** @type {{ type?: unknown, code?: unknown }} */ (error);
  switch (type) {
    case 'entity.parse.failed':
    case 'entity.verify.failed':
      return NOT_A_JSON_OBJECT;
    case 'entity.too.large':
      return BODY_TOO_LARGE;
    // Not met with bodyParserJsonOptions, whose `type` leaves other charsets unread; kept so that
    // a plain express.json() answers the same.
    case 'charset.unsupported':
      return UNSUPPORTED_CHARSET;
  }
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return NOT_A_JSON_OBJECT;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return BODY_TOO_LARGE;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return UNSUPPORTED_CONTENT_TYPE;
  }
  return undefined;
}

/**
 * A Fastify `onRequest` hook that answers JSON in another charset than UTF-8 with
 * {@link UNSUPPORTED_CHARSET} before the body is read (Fastify's parsers read every body as UTF-8,
 * whatever its charset), used by the Fastify example and NestJS on Fastify.
 * @param {{ headers: Record<string, string | string[] | undefined> }} request
 * @param {{ code(status: number): { send(body: unknown): unknown } }} reply
 * @param {() => void} done
 */
export function refuseNonUtf8Json(request, reply, done) {
  const contentType = request.headers['content-type'];
  if (
    typeof contentType === 'string' &&
    contentTypeRejection(contentType) === UNSUPPORTED_CHARSET
  ) {
    reply.code(UNSUPPORTED_CHARSET.status).send(UNSUPPORTED_CHARSET.body);
    return;
  }
  done();
}

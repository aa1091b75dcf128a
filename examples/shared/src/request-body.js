// @ts-check
// What `POST /lead` and `POST /purchase` accept, and the one answer every example gives otherwise.

/**
 * A refused request: the status and the JSON body every example answers with.
 * @typedef {{ status: 400 | 415, body: { error: string, field?: string } }} Rejection
 */

/** The answer to a body that is not `application/json` (a form post, text, no body at all). */
export const UNSUPPORTED_CONTENT_TYPE = /** @type {const} */ ({
  status: 415,
  body: { error: 'Content-Type must be application/json' },
});

/** The answer to a JSON body that does not parse, is empty, or is not an object. */
export const NOT_A_JSON_OBJECT = /** @type {const} */ ({
  status: 400,
  body: { error: 'the body must be a JSON object' },
});

/**
 * True when a `Content-Type` header names JSON (`application/json`, any parameters).
 * @param {string | undefined | null} contentType
 */
export function isJsonContentType(contentType) {
  if (typeof contentType !== 'string') return false;
  return (contentType.split(';')[0] ?? '').trim().toLowerCase() === 'application/json';
}

/**
 * The rejection for a body parser's error, or `undefined` when the error is not about the body's
 * type or syntax. Knows body-parser's (Express, NestJS on Express) and Fastify's errors, so a
 * broken body gets the same answer in every example rather than each framework's own.
 * @param {unknown} error
 * @returns {Rejection | undefined}
 */
export function bodyParserRejection(error) {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, code } = /** @type {{ type?: unknown, code?: unknown }} */ (error);
  if (type === 'entity.parse.failed' || type === 'entity.verify.failed') return NOT_A_JSON_OBJECT;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return NOT_A_JSON_OBJECT;
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return UNSUPPORTED_CONTENT_TYPE;
  return undefined;
}

/**
 * body-parser's `verify` option that refuses an empty JSON body, which body-parser would otherwise
 * read as `{}` (Fastify and `Request.json()` refuse it). Use as `express.json({ verify })`.
 * @param {unknown} _req
 * @param {unknown} _res
 * @param {Uint8Array} raw
 */
export function refuseEmptyJson(_req, _res, raw) {
  if (raw.length === 0) throw new SyntaxError('empty JSON body');
}

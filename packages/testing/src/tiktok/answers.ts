import { randomBytes } from 'node:crypto';
import type { Answer } from '../answers.js';

// TikTok's Business API answers HTTP 200 with `{ code, message, request_id, data }` whatever
// happened; `code: 0` is success and the code says the rest ([CODES] in sources.ts).

/** The codes the mock answers with ([CODES]). */
export const TIKTOK_CODE = {
  ok: 0,
  /** No permission to operate on the object. */
  permission: 40001,
  /** A parameter is missing or malformed: an event is at fault. */
  invalidParameter: 40002,
  /** The object (e.g. the pixel) does not exist. */
  notFound: 40007,
  /** Too many requests. */
  rateLimited: 40100,
  /** The access token is missing or incorrect. */
  accessToken: 40105,
  /** TikTok's internal error (5xxxx, retryable). */
  internal: 50000,
} as const;

/** TikTok's answer envelope, as the mock sends it. */
export interface TikTokEnvelope {
  code: number;
  message: string;
  request_id: string;
  data: Record<string, unknown>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  [TIKTOK_CODE.ok]: 'OK',
  [TIKTOK_CODE.permission]: 'No permission to operate on this object.',
  [TIKTOK_CODE.invalidParameter]: 'Invalid parameters.',
  [TIKTOK_CODE.notFound]: 'The object does not exist.',
  [TIKTOK_CODE.rateLimited]: 'Too many requests. Please retry in some time.',
  [TIKTOK_CODE.accessToken]: 'The access token is missing or incorrect.',
  [TIKTOK_CODE.internal]: 'Internal error. Please retry later.',
};

/** TikTok's usual wording for a code (the mock's own words: TikTok's exact text is not documented here). */
export const defaultTikTokMessage = (code: number): string =>
  DEFAULT_MESSAGES[code] ?? (code >= 50000 ? 'Internal error.' : 'Request failed.');

/** A request id shaped like TikTok's: a UTC timestamp then random hex, e.g. `20261204203512` + 18 hex. */
export const newTikTokRequestId = (now: number = Date.now()): string =>
  `${new Date(now)
    .toISOString()
    .replace(/[-:T]/g, '')
    .slice(0, 14)}${randomBytes(9).toString('hex').toUpperCase()}`;

/** The envelope `{ code, message, request_id, data }` as an HTTP answer (200 unless told). */
export const tiktokAnswer = (
  code: number,
  message: string = defaultTikTokMessage(code),
  status = 200,
  headers: Record<string, string> = {},
): Answer => {
  const envelope: TikTokEnvelope = { code, message, request_id: newTikTokRequestId(), data: {} };
  return {
    status,
    headers: { 'content-type': JSON_TYPE, ...headers },
    body: JSON.stringify(envelope),
  };
};

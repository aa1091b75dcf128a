import type { Answer } from '../answers.js';
import type { FaultAnswerOptions, HangFault, LatencyFault, ResetFault } from '../faults.js';
import { defaultTikTokMessage, TIKTOK_CODE, tiktokAnswer } from './answers.js';

// The TikTok endpoint's own fault queue: TikTok answers HTTP 200 with a code ([CODES] in
// sources.ts), so a throttle or an auth failure is an envelope, not a status. A proxy or TikTok's
// edge in trouble is an HTTP fault (an HTML 502 page). Hang, reset and latency are Meta's kinds.

/** TikTok's envelope with any `code`: 40100 (throttle), 40105 (token), 40001, 40002, 50000… */
export interface TikTokCodeFault extends FaultAnswerOptions {
  kind: 'tiktok';
  /** TikTok's `code`, e.g. 40100; 0 is success and is refused (use no fault). */
  code: number;
  /** `message`; defaults to the mock's wording for the code. */
  message?: string;
  /** HTTP status; default 200, as TikTok answers. */
  status?: number;
}

/** An HTTP error status with a body that is not TikTok's envelope (an edge or proxy page). */
export interface TikTokHttpFault extends FaultAnswerOptions {
  kind: 'http';
  /** HTTP status, 400–599. */
  status: number;
  /** `html` (default), `text`, `empty`, or `tiktok` (an envelope: 40100 for 429, 50000 otherwise). */
  body?: 'html' | 'text' | 'empty' | 'tiktok';
}

/** A scripted fault applied to a request to TikTok's track endpoint. */
export type TikTokFault = TikTokCodeFault | TikTokHttpFault | LatencyFault | HangFault | ResetFault;

/** The kind of a {@link TikTokFault}. */
export type TikTokFaultKind = TikTokFault['kind'];

/**
 * What `mock.tiktok.failNext`/`outage` accept: a fault object; `'throttle'` (code 40100), `'auth'`
 * (code 40105), `'hang'`, `'reset'`; or an HTTP status (400–599, e.g. `503`, an HTML page).
 */
export type TikTokFaultInput = TikTokFault | 'throttle' | 'auth' | 'hang' | 'reset' | number;

const KINDS: readonly string[] = ['tiktok', 'http', 'latency', 'hang', 'reset'];
const HTTP_BODIES: readonly unknown[] = ['html', 'text', 'empty', 'tiktok'];

/** Turns shorthands into fault objects and rejects nonsense at the call site. */
export const normalizeTikTokFault = (input: TikTokFaultInput): TikTokFault => {
  if (input === 'hang') return { kind: 'hang' };
  if (input === 'reset') return { kind: 'reset' };
  if (input === 'throttle') return { kind: 'tiktok', code: TIKTOK_CODE.rateLimited };
  if (input === 'auth') return { kind: 'tiktok', code: TIKTOK_CODE.accessToken };
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 400 || input > 599) {
      throw new TypeError(
        `A number fault is an HTTP status between 400 and 599, got ${input}. For a TikTok code use { kind: 'tiktok', code: ${input} }.`,
      );
    }
    return { kind: 'http', status: input };
  }
  if (typeof input !== 'object' || input === null || !KINDS.includes(input.kind)) {
    throw new TypeError(
      `Unknown TikTok fault ${JSON.stringify(input)}: use a status number, 'throttle', 'auth', 'hang', 'reset' or { kind: ${KINDS.map((k) => `'${k}'`).join(' | ')} }.`,
    );
  }
  if (input.kind === 'tiktok') {
    if (!Number.isSafeInteger(input.code) || input.code === 0) {
      throw new TypeError(
        `A tiktok fault needs a non-zero integer code, got ${JSON.stringify(input.code)}.`,
      );
    }
    const status = input.status ?? 200;
    if (!(Number.isInteger(status) && status >= 200 && status <= 599)) {
      throw new TypeError(`A tiktok fault needs a status between 200 and 599, got ${status}.`);
    }
  }
  if (input.kind === 'http') {
    if (!(Number.isInteger(input.status) && input.status >= 400 && input.status <= 599)) {
      throw new TypeError(`An http fault needs a status between 400 and 599, got ${input.status}.`);
    }
    if (input.body !== undefined && !HTTP_BODIES.includes(input.body)) {
      throw new TypeError(
        `An http fault's body is one of ${HTTP_BODIES.join(', ')}, got ${JSON.stringify(input.body)}.`,
      );
    }
  }
  if (input.kind === 'latency' && !(Number.isFinite(input.latencyMs) && input.latencyMs >= 0)) {
    throw new TypeError(
      `A latency fault needs latencyMs >= 0, got ${JSON.stringify(input.latencyMs)}.`,
    );
  }
  return input;
};

/** What a fault does: answer now, go on as usual (latency), hang, or drop the connection. */
export type TikTokFaultAction =
  | ({ action: 'respond' } & Answer)
  | { action: 'proceed' }
  | { action: 'hang' }
  | { action: 'reset' };

const extraHeaders = (fault: FaultAnswerOptions): Record<string, string> => ({
  ...(fault.retryAfterSeconds === undefined
    ? {}
    : { 'retry-after': String(fault.retryAfterSeconds) }),
  ...fault.headers,
});

const edgePage = (status: number): string =>
  `<!DOCTYPE html><html><head><title>${status}</title></head><body><h1>${status}</h1><p>The server is temporarily unable to handle the request.</p></body></html>`;

/** The answer a fault produces once its latency has passed. */
export const answerForTikTokFault = (fault: TikTokFault): TikTokFaultAction => {
  switch (fault.kind) {
    case 'latency':
      return { action: 'proceed' };
    case 'hang':
      return { action: 'hang' };
    case 'reset':
      return { action: 'reset' };
    case 'tiktok':
      return {
        action: 'respond',
        ...tiktokAnswer(
          fault.code,
          fault.message ?? defaultTikTokMessage(fault.code),
          fault.status ?? 200,
          extraHeaders(fault),
        ),
      };
    case 'http': {
      const headers = extraHeaders(fault);
      const body = fault.body ?? 'html';
      if (body === 'tiktok') {
        const code = fault.status === 429 ? TIKTOK_CODE.rateLimited : TIKTOK_CODE.internal;
        return { action: 'respond', ...tiktokAnswer(code, undefined, fault.status, headers) };
      }
      if (body === 'html') {
        return {
          action: 'respond',
          status: fault.status,
          headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
          body: edgePage(fault.status),
        };
      }
      return {
        action: 'respond',
        status: fault.status,
        headers: body === 'text' ? { 'content-type': 'text/plain', ...headers } : headers,
        body: body === 'text' ? `Error ${fault.status}` : '',
      };
    }
  }
};

/** The delay a fault asks for before its answer (0 when none). */
export const tiktokFaultLatency = (fault: TikTokFault): number =>
  fault.kind === 'hang' ? 0 : (fault.latencyMs ?? 0);

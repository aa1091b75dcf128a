// The HTTP answers the mock writes: Graph errors and JSON, the Pixel stub's text and the page.
import { EVENTS_MANAGER_CSP, EVENTS_MANAGER_HTML } from './events-manager-page.js';
import type { GraphErrorAnswer } from './graph-error.js';

const JSON_TYPE = 'application/json; charset=UTF-8';

/** One HTTP answer of the mock: status, headers, body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A Graph error as Meta sends it: `{ error }` as JSON, with its headers. */
export const graphAnswer = (answer: GraphErrorAnswer): Answer => ({
  status: answer.status,
  headers: { 'content-type': JSON_TYPE, ...answer.headers },
  body: JSON.stringify({ error: answer.error }),
});

/** `value` as JSON with `status`. */
export const jsonAnswer = (status: number, value: unknown): Answer => ({
  status,
  headers: { 'content-type': JSON_TYPE },
  body: JSON.stringify(value),
});

/** The stub and its beacons are used from the app's pages, on another origin. */
export const CROSS_ORIGIN = { 'access-control-allow-origin': '*' } as const;

/** Plain text, readable cross-origin (the Pixel stub's endpoints). */
export const textAnswer = (status: number, text: string): Answer => ({
  status,
  headers: { ...CROSS_ORIGIN, 'content-type': 'text/plain; charset=utf-8' },
  body: text,
});

/** A 405 as {@link textAnswer}, with the `Allow` header HTTP requires of it (RFC 9110 §15.5.6). */
export const methodNotAllowed = (allow: string, text: string): Answer => {
  const answer = textAnswer(405, text);
  return { ...answer, headers: { ...answer.headers, allow } };
};

/** The Events Manager page, with its Content-Security-Policy. */
export const pageAnswer = (): Answer => ({
  status: 200,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': EVENTS_MANAGER_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  },
  body: EVENTS_MANAGER_HTML,
});

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, PixelStats } from '@capi-kit/core';

// Two small platforms on loopback for the destination tests: a Meta Graph endpoint answering
// `events_received`, and a TikTok track endpoint that checks the `Access-Token` header. Each
// records what it was sent; `answer` decides each reply (or hangs it). The strict mocks of both
// platforms are @capi-kit/testing's; these only see what goes over the wire.

/** One request a platform received. */
export interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: { data: Record<string, unknown>[] } & Record<string, unknown>;
}

/** What a platform answers: a status and JSON body, or `hang` (never answers). */
export type Answer = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

/** A loopback platform. */
export interface Platform {
  /** Base URL (`http://127.0.0.1:port`). */
  base: string;
  received: Received[];
  /** Events of the requests the platform accepted, in order (rejected requests left out). */
  events(): Record<string, unknown>[];
  answer: (request: Received) => Answer;
  close(): Promise<void>;
}

export const TIKTOK_TOKEN = 'tt-secret-token-7f3a9c';
export const META_TOKEN = 'EAAmeta-secret-token-51d2';

const start = async (
  defaultAnswer: (request: Received) => Answer,
  isAcceptance: (answer: { status: number; body: unknown }) => boolean,
): Promise<Platform> => {
  const hanging = new Set<ServerResponse>();
  const accepted = new WeakSet<Received>();
  const platform: Platform = {
    base: '',
    received: [],
    events: () =>
      platform.received.filter((r) => accepted.has(r)).flatMap((r) => r.body.data ?? []),
    answer: defaultAnswer,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      const request: Received = {
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(text),
      };
      const answer = platform.answer(request);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      // Only answered requests count as received: a hung one never reached the platform's books.
      platform.received.push(request);
      if (isAcceptance(answer)) accepted.add(request);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  platform.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return platform;
};

/** A Graph API stand-in: acknowledges every event (`events_received`). */
export const startMeta = (): Promise<Platform> =>
  start(
    (request) => ({
      status: 200,
      body: { events_received: request.body.data.length, fbtrace_id: 'meta-trace' },
    }),
    (answer) =>
      answer.status === 200 &&
      typeof (answer.body as { events_received?: unknown }).events_received === 'number',
  );

/** A TikTok stand-in: code 0 with the right `Access-Token`, 40105 otherwise. */
export const startTikTok = (): Promise<Platform> =>
  start(
    (request) =>
      request.headers['access-token'] === TIKTOK_TOKEN
        ? { status: 200, body: { code: 0, message: 'OK', request_id: 'tt-req-1', data: {} } }
        : { status: 200, body: { code: 40105, message: 'Access token is invalid', data: {} } },
    (answer) => answer.status === 200 && (answer.body as { code?: unknown }).code === 0,
  );

/** `sent + queued + inFlight + deadLettered + Σ dropped` of one stream. */
export const accounted = (stats: PixelStats | undefined): number => {
  if (stats === undefined) return Number.NaN;
  let dropped = 0;
  for (const n of Object.values(stats.dropped)) dropped += n;
  return stats.sent + stats.queued + stats.inFlight + stats.deadLettered + dropped;
};

/** Polls `done` every 5 ms until it holds; throws after `ms`. */
export const until = async (done: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A logger that keeps every line (object and message) as text. */
export const recordingLogger = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  const keep = (obj: Record<string, unknown>, msg: string) => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
};

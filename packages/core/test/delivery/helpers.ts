import { createCapi } from '../../src/delivery/client.js';
import type {
  CapiHookMap,
  CapiOptions,
  Clock,
  DeliveryCounters,
  FetchLike,
  Logger,
} from '../../src/delivery/types.js';

/** Lets every pending promise chain (and one round of I/O callbacks) run. */
export const settle = async (rounds = 3): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/**
 * A manual clock: timers fire only when `advance()` passes their time, in order. Lets a test walk
 * through minutes of backoff in milliseconds of real time. Only what goes through the injected
 * clock is simulated; real I/O (loopback HTTP) still takes real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 8, 12, 10, 0, 0)) {
    this.t = start;
  }

  /** What a wall-clock step (NTP, an operator, a VM resume) has added to `now()`; timers ignore it. */
  private wallOffset = 0;

  now = (): number => this.t + this.wallOffset;

  /** Never steps: only `advance()` moves it, like `performance.now()`. */
  monotonic = (): number => this.t;

  /** Steps the wall clock by `ms` (negative: back) without moving time or firing timers. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /**
   * Moves time forward by `ms` without firing any timer: the event loop was blocked (a CPU-bound
   * request, a loaded machine) while timers came due; they run at the next `advance()`.
   */
  stall(ms: number): void {
    this.t += ms;
  }

  /** Pending timers (a client must not leave any behind after close). */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers one by one and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at > end) continue;
        if (
          !next ||
          entry[1].at < next[1].at ||
          (entry[1].at === next[1].at && entry[1].seq < next[1].seq)
        ) {
          next = entry;
        }
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle(1);
    }
    this.t = end;
    await settle(1);
  }
}

/** One call the scripted fetch saw. */
export interface SeenRequest {
  url: string;
  headers: Record<string, string>;
  rawBody: string;
  body: {
    data: { event_id: string; event_name: string; [k: string]: unknown }[];
    [k: string]: unknown;
  };
  signal: AbortSignal | undefined;
}

export type Reply = Response | Promise<Response>;

/** The request body as text: the client sends UTF-8 bytes; a string is read as is. */
export const bodyText = (body: RequestInit['body']): string =>
  typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array);

/** A scriptable stand-in for Meta: `handler` answers each request (default: 200 with events_received). */
export const scriptedFetch = (
  handler: (req: SeenRequest, index: number) => Reply = (req) => ok(req),
) => {
  const seen: SeenRequest[] = [];
  const fetch: FetchLike = async (url, init) => {
    const rawBody = bodyText(init.body);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const req: SeenRequest = {
      url,
      headers,
      rawBody,
      body: JSON.parse(rawBody),
      signal: init.signal ?? undefined,
    };
    seen.push(req);
    return handler(req, seen.length - 1);
  };
  return { fetch, seen };
};

/** Meta's success answer for a request. */
export const ok = (req: SeenRequest): Response =>
  Response.json({ events_received: req.body.data.length, messages: [], fbtrace_id: 'TRACE' });

/** A Graph error answer. */
export const graphError = (
  status: number,
  code: number,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response =>
  Response.json(
    {
      error: {
        message: `error ${code}`,
        type: 'OAuthException',
        code,
        fbtrace_id: 'TRACE',
        ...extra,
      },
    },
    { status, headers },
  );

/** A fetch promise that settles only when the request is aborted (a blackholed endpoint). */
export const hang = (req: SeenRequest): Promise<Response> =>
  new Promise((_, reject) => {
    req.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });

/** A logger that keeps every line, to check what would have been written. */
export const captureLogger = () => {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines, text: () => JSON.stringify(lines) };
};

/** A fully populated Purchase, as an app would track it. */
export const purchase = (i: number, nowMs: number, extra: Record<string, unknown> = {}) => ({
  event_name: 'Purchase' as const,
  event_id: `evt-${i}`,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website' as const,
  event_source_url: 'https://shop.example.com/checkout',
  user_data: {
    em: 'John_Smith@gmail.com',
    ph: '+1 (650) 555-1212',
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    fbp: 'fb.1.1700000000000.123456789',
  },
  custom_data: { currency: 'USD', value: 10 + i },
  ...extra,
});

export const PIXEL = '1234567890';
export const PIXEL_2 = '2345678901';
export const TOKEN = 'EAAtestTOKENthatMustNeverLeak0123456789abcdef';
export const TOKEN_2 = 'EAAsecondTOKENthatMustNeverLeak9876543210';

/** Every event track() accepted or refused is in exactly one of these (one-pixel client). */
export const accounted = (s: DeliveryCounters): number =>
  s.sent +
  s.queued +
  s.inFlight +
  s.deadLettered +
  Object.values(s.dropped).reduce((a, b) => a + b, 0);

/**
 * A client on a fake clock and a scripted Meta, with every hook recorded. A {@link FakeClock} in
 * `options.clock` (one the test made first, for an outbox that reads it too) is the one returned.
 */
export const setupClient = (
  handler?: (req: SeenRequest, index: number) => Response | Promise<Response>,
  options: Partial<CapiOptions> = {},
) => {
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const { fetch, seen } = scriptedFetch(handler);
  const log = captureLogger();
  const client = createCapi({
    ...(options.pixels ? {} : { pixelId: PIXEL, accessToken: TOKEN }),
    fetch,
    clock,
    random: () => 0.5,
    logger: log.logger,
    env: false,
    ...options,
  });
  const hooks: { [K in keyof CapiHookMap]: CapiHookMap[K][] } = {
    sent: [],
    retry: [],
    dropped: [],
    error: [],
    deadLetter: [],
    warn: [],
  };
  for (const name of Object.keys(hooks) as (keyof CapiHookMap)[]) {
    client.on(name, (info) => {
      (hooks[name] as unknown[]).push(info);
    });
  }
  const track = (i: number, extra: Record<string, unknown> = {}) =>
    client.track(purchase(i, clock.now(), extra));
  const eventIds = (requests = seen) => requests.flatMap((r) => r.body.data.map((e) => e.event_id));
  return { clock, seen, client, hooks, log, track, eventIds };
};

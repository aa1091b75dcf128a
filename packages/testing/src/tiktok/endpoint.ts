import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Answer, CROSS_ORIGIN, methodNotAllowed, textAnswer } from '../answers.js';
import { clipEventName, clippedName } from '../event-name-limit.js';
import { FaultQueue } from '../fault-queue.js';
import { isRecord } from '../field-checks.js';
import type { MockRecorderStats } from '../recorder.js';
import { readBody } from '../request-body.js';
import { openRequest } from '../request-lifecycle.js';
import { TIKTOK_CODE, tiktokAnswer } from './answers.js';
import {
  answerForTikTokFault,
  normalizeTikTokFault,
  type TikTokFault,
  type TikTokFaultInput,
  tiktokFaultLatency,
} from './faults.js';
import {
  MAX_TIKTOK_BEACON_BYTES,
  parseTikTokBeacon,
  TIKTOK_PIXEL_BEACON_PATH,
  TIKTOK_PIXEL_SCRIPT_PATH,
  TIKTOK_PIXEL_STUB_SCRIPT,
} from './pixel-stub.js';
import {
  type MockTikTokBrowserEvent,
  type MockTikTokDuplicate,
  type MockTikTokEvent,
  type MockTikTokEventFilter,
  type MockTikTokRejectedEvent,
  type MockTikTokRequest,
  TikTokRecorder,
  type WaitForTikTokEventsOptions,
} from './recorder.js';
import { validateTikTokPayload } from './validate-request.js';

// TikTok's track endpoint inside the mock server ([EAPI], [TEA] in sources.ts). Its checks run in
// the order a gateway runs them: path, method, scripted fault, body size, `Access-Token` header,
// `Content-Type`, JSON, then the payload. Answers are TikTok's: HTTP 200 with a `code`.

/** The track endpoint's path, as TikTok spells it (trailing slash included). */
export const TIKTOK_TRACK_PATH = '/open_api/v1.3/event/track/';

/** TikTok's Events API 2.0 half of the mock: `mock.tiktok`. See the package README. */
export interface MockTikTok {
  /** The track endpoint, e.g. `http://127.0.0.1:54321/open_api/v1.3/event/track/`: TikTok's `url` option. */
  readonly url: string;
  /**
   * The TikTok Pixel stub, e.g. `http://127.0.0.1:54321/i18n/pixel/events.js` (TikTok's path on the
   * mock's host): `<TikTokPixel scriptUrl>`, or the URL in TikTok's base code.
   */
  readonly pixelScriptUrl: string;
  /** Queues a one-shot fault for each of the next `times` TikTok requests (FIFO; default 1, a whole number ≥ 0, else a `TypeError`). */
  failNext(fault: TikTokFaultInput, times?: number): MockTikTok;
  /** Applies `fault` to every TikTok request until {@link MockTikTok.recover}; queued faults go first. */
  outage(fault: TikTokFaultInput): MockTikTok;
  /** Ends a TikTok outage. Queued one-shot faults stay queued. */
  recover(): MockTikTok;
  /** TikTok one-shot faults not consumed yet. */
  pendingFaults(): number;
  /** Accepted TikTok events in arrival order, optionally for one pixel code and/or event name. */
  events(filter?: MockTikTokEventFilter): MockTikTokEvent[];
  /** Browser events the TikTok Pixel stub reported, in arrival order, optionally for one pixel code and/or event name. */
  browserEvents(filter?: MockTikTokEventFilter): MockTikTokBrowserEvent[];
  /** Every request to `/open_api/…`, in arrival order. */
  requests(): MockTikTokRequest[];
  /** Requests not answered with `code: 0`: validation and token errors, faults, hung and reset ones. */
  rejections(): MockTikTokRequest[];
  /** Events of refused batches, each with the rule its batch broke. */
  rejectedEvents(): MockTikTokRejectedEvent[];
  /** Accepted events seen more than once by (`pixelCode`, `event`, `event_id`). */
  duplicates(): MockTikTokDuplicate[];
  /** Resolves with the matching events once at least `count` were accepted; rejects on timeout. */
  waitForEvents(count: number, options?: WaitForTikTokEventsOptions): Promise<MockTikTokEvent[]>;
  /** Forgets TikTok's events (server and browser) and requests, and clears its queued faults and outage. Meta's are kept. */
  reset(): void;
}

/** What the endpoint needs from the server that hosts it. */
export interface TikTokHost {
  /** Base URL of the server, without a trailing slash. */
  url: string;
  /** When set, the `Access-Token` header must equal it (else code 40105). */
  accessToken: string | undefined;
  maxBodyBytes: number;
  maxFutureSeconds: number;
  /** Records of each kind kept, the newest first to stay (MockGraphOptions.maxEvents). */
  maxEvents: number;
  now: () => number;
  onRequest: ((request: MockTikTokRequest) => void) | undefined;
  /** Tells the Events Manager page that something changed. */
  changed(): void;
  /** A delay the server's close() cuts short. */
  sleep(ms: number): Promise<void>;
  closing(): boolean;
  write(res: ServerResponse, answer: Answer): void;
}

const sameString = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** The JSON body, or why it could not be read (TikTok takes `application/json` only, [EAPI]). */
const parseJson = (
  bytes: Buffer,
  contentType: string | undefined,
): { ok: true; body: Record<string, unknown> } | { ok: false; reason: string } => {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json') {
    return {
      ok: false,
      reason: `Content-Type must be application/json (got ${type === '' ? 'none' : type})`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the request body is not valid JSON' };
  }
  return isRecord(value)
    ? { ok: true, body: value }
    : { ok: false, reason: 'the request body must be a JSON object' };
};

/** TikTok's endpoint: routing, checks, faults and recording for `/open_api/…`. */
export class TikTokEndpoint implements MockTikTok {
  readonly url: string;
  readonly pixelScriptUrl: string;
  readonly #host: TikTokHost;
  readonly #recorder: TikTokRecorder;
  readonly #queue = new FaultQueue<TikTokFault>();
  #outage: TikTokFault | undefined;
  /** Moves at every `reset()`/`clearEvents()`: a request that came in before keeps out of what follows. */
  #generation = 0;

  constructor(host: TikTokHost) {
    this.#host = host;
    this.#recorder = new TikTokRecorder(host.maxEvents);
    this.url = `${host.url}${TIKTOK_TRACK_PATH}`;
    this.pixelScriptUrl = `${host.url}${TIKTOK_PIXEL_SCRIPT_PATH}`;
  }

  failNext(fault: TikTokFaultInput, times = 1): MockTikTok {
    this.#queue.push(normalizeTikTokFault(fault), times);
    return this;
  }

  outage(fault: TikTokFaultInput): MockTikTok {
    this.#outage = normalizeTikTokFault(fault);
    return this;
  }

  recover(): MockTikTok {
    this.#outage = undefined;
    return this;
  }

  pendingFaults(): number {
    return this.#queue.size;
  }

  events(filter?: MockTikTokEventFilter): MockTikTokEvent[] {
    return this.#recorder.events(filter);
  }

  browserEvents(filter?: MockTikTokEventFilter): MockTikTokBrowserEvent[] {
    return this.#recorder.browserEvents(filter);
  }

  requests(): MockTikTokRequest[] {
    return this.#recorder.requests();
  }

  rejections(): MockTikTokRequest[] {
    return this.#recorder.rejections();
  }

  rejectedEvents(): MockTikTokRejectedEvent[] {
    return this.#recorder.rejectedEvents();
  }

  duplicates(): MockTikTokDuplicate[] {
    return this.#recorder.duplicates();
  }

  /** The stored records, for the Events Manager view only. */
  stored(): ReturnType<TikTokRecorder['stored']> {
    return this.#recorder.stored();
  }

  /** What is kept and what was let go to stay within `maxEvents` (MockGraph.stats()). */
  stats(): MockRecorderStats {
    return this.#recorder.stats();
  }

  waitForEvents(count: number, options?: WaitForTikTokEventsOptions): Promise<MockTikTokEvent[]> {
    if (this.#host.closing()) {
      return Promise.reject(new Error('tiktok.waitForEvents: the mock is closed'));
    }
    return this.#recorder.waitForEvents(count, options);
  }

  reset(): void {
    this.#generation++;
    this.#recorder.reset();
    this.#queue.clear();
    this.#outage = undefined;
    this.#host.changed();
  }

  /** Forgets events and requests only (the page's Clear button, the server's reset). */
  clearEvents(): void {
    this.#generation++;
    this.#recorder.reset();
  }

  /** Rejects pending waiters: the server is closing. */
  abandonWaiters(): void {
    this.#recorder.abandonWaiters(
      'tiktok.waitForEvents: the mock was closed before enough events arrived',
    );
  }

  /** Whether `pathname` is the Pixel stub's script or its beacon endpoint (the server routes them here). */
  static isPixelPath(pathname: string): boolean {
    return pathname === TIKTOK_PIXEL_SCRIPT_PATH || pathname === TIKTOK_PIXEL_BEACON_PATH;
  }

  /**
   * `GET /i18n/pixel/events.js` (the stub; the base code's `?sdkid=…&lib=ttq` is ignored) and
   * `POST /tiktok/pixel` (its events, answered with no content like Meta's `/tr`). Not logged in
   * {@link MockTikTok.requests}, which is the Events API's log.
   */
  async handlePixel(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
  ): Promise<void> {
    if (url.pathname === TIKTOK_PIXEL_SCRIPT_PATH) {
      if (method !== 'GET' && method !== 'HEAD') {
        this.#host.write(
          res,
          methodNotAllowed('GET, HEAD', 'The TikTok Pixel stub is fetched with GET.'),
        );
        return;
      }
      this.#host.write(res, {
        status: 200,
        headers: { ...CROSS_ORIGIN, 'content-type': 'text/javascript; charset=utf-8' },
        body: TIKTOK_PIXEL_STUB_SCRIPT,
      });
      return;
    }
    if (method === 'OPTIONS') {
      this.#host.write(res, {
        status: 204,
        headers: {
          ...CROSS_ORIGIN,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type',
        },
        body: '',
      });
      return;
    }
    if (method !== 'POST') {
      this.#host.write(
        res,
        methodNotAllowed(
          'POST, OPTIONS',
          `The TikTok Pixel stub posts events to ${TIKTOK_PIXEL_BEACON_PATH}.`,
        ),
      );
      return;
    }
    const raw = await readBody(req, MAX_TIKTOK_BEACON_BYTES);
    if (raw.tooLarge) {
      this.#host.write(
        res,
        textAnswer(413, `A TikTok Pixel event is at most ${MAX_TIKTOK_BEACON_BYTES} bytes.`),
      );
      return;
    }
    const parsed = parseTikTokBeacon(raw.bytes.toString('utf8'), {
      hasUserAgent: req.headers['user-agent'] !== undefined,
      hasIp: req.socket.remoteAddress !== undefined,
      receivedAt: Date.now(),
    });
    if (!parsed.ok) {
      this.#host.write(res, textAnswer(400, `Not a TikTok Pixel stub event: ${parsed.reason}.`));
      return;
    }
    this.#recorder.addBrowserEvent(parsed.event);
    this.#host.changed();
    this.#host.write(res, { status: 204, headers: { ...CROSS_ORIGIN }, body: '' });
  }

  /** Answers one request under `/open_api/` (the server routes them all here). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const started = performance.now();
    const record: MockTikTokRequest = {
      platform: 'tiktok',
      index: this.#recorder.nextRequestIndex(),
      method,
      path: url.pathname,
      status: 0,
      eventCount: 0,
      eventNames: [],
      hasAccessToken: headerValue(req.headers['access-token']) !== undefined,
      tokenInUrl: url.searchParams.has('access_token'),
      tokenInBody: false,
      receivedAt: Date.now(),
      durationMs: 0,
      clientAborted: false,
    };
    const isTrack =
      url.pathname === TIKTOK_TRACK_PATH || url.pathname === TIKTOK_TRACK_PATH.slice(0, -1);
    // As for Meta's endpoint, a track request takes its fault on arrival (request-lifecycle.ts).
    const { fault, reset } = openRequest(record, res, {
      started,
      add: (r) => this.#recorder.addRequest(r),
      faults:
        isTrack && method === 'POST' ? { queue: this.#queue, outage: this.#outage } : undefined,
      onRequest: (r) => this.#host.onRequest?.(r),
      changed: () => this.#host.changed(),
      closing: () => this.#host.closing(),
    });
    const generation = this.#generation;

    const raw = await readBody(req, this.#host.maxBodyBytes);
    const parsed = raw.tooLarge ? undefined : parseJson(raw.bytes, req.headers['content-type']);
    const body = parsed?.ok ? parsed.body : {};
    this.#describe(record, body);

    if (!isTrack) {
      this.#host.write(res, this.#record(record, plain(404, 'Not Found')));
      return;
    }
    if (method !== 'POST') {
      this.#host.write(
        res,
        this.#record(
          record,
          plain(405, 'The track endpoint only accepts POST.', { allow: 'POST' }),
        ),
      );
      return;
    }

    let latency = 0;
    if (fault) {
      const action = answerForTikTokFault(fault);
      if (action.action === 'hang') return; // res 'close' (client abort or close()) finishes it
      if (action.action === 'reset') {
        await this.#host.sleep(tiktokFaultLatency(fault));
        reset(req);
        return;
      }
      if (action.action === 'respond') {
        const { action: _, ...answer } = action;
        const recorded = this.#record(record, answer);
        await this.#host.sleep(tiktokFaultLatency(fault));
        this.#host.write(res, recorded);
        return;
      }
      latency = tiktokFaultLatency(fault);
    }

    const keep = generation === this.#generation;
    const answer = this.#record(
      record,
      this.#process(req, record, raw.tooLarge, parsed, body, keep),
    );
    await this.#host.sleep(latency);
    this.#host.write(res, answer);
  }

  /** What the body says about itself, for the request log (before any check). */
  #describe(record: MockTikTokRequest, body: Record<string, unknown>): void {
    if (typeof body.event_source_id === 'string') record.pixelCode = body.event_source_id;
    if (typeof body.test_event_code === 'string') record.testEventCode = body.test_event_code;
    record.tokenInBody = body.access_token !== undefined;
    if (Array.isArray(body.data)) {
      record.eventCount = body.data.length;
      record.eventNames = body.data.map((e: unknown) =>
        isRecord(e) && typeof e.event === 'string' ? clipEventName(e.event) : '?',
      );
    }
  }

  /** TikTok's checks in order; records accepted events or the refused batch. */
  #process(
    req: IncomingMessage,
    record: MockTikTokRequest,
    tooLarge: boolean,
    parsed: ReturnType<typeof parseJson> | undefined,
    body: Record<string, unknown>,
    keep: boolean,
  ): Answer {
    if (tooLarge || parsed === undefined) {
      return tiktokAnswer(
        TIKTOK_CODE.invalidParameter,
        `The request body exceeds the mock's limit of ${this.#host.maxBodyBytes} bytes.`,
        413,
      );
    }
    const token = headerValue(req.headers['access-token'])?.trim();
    if (!token) {
      return tiktokAnswer(
        TIKTOK_CODE.accessToken,
        record.tokenInUrl || record.tokenInBody
          ? 'The access token is missing: send it in the Access-Token header, never in the URL or the body.'
          : 'The access token is missing: send it in the Access-Token header.',
      );
    }
    const expected = this.#host.accessToken;
    if (expected !== undefined && !sameString(token, expected)) {
      return tiktokAnswer(TIKTOK_CODE.accessToken, 'The access token is incorrect.');
    }
    if (!parsed.ok) {
      return tiktokAnswer(TIKTOK_CODE.invalidParameter, `Invalid request: ${parsed.reason}.`);
    }
    const check = validateTikTokPayload(body, {
      nowMs: this.#host.now(),
      maxFutureSeconds: this.#host.maxFutureSeconds,
    });
    if (!check.ok) {
      if (check.invalidEvent) record.invalidEvent = check.invalidEvent;
      if (check.invalidEvent && keep) {
        const { invalidEvent, message } = check;
        const pixelCode = record.pixelCode ?? '';
        const data = Array.isArray(body.data) ? (body.data as unknown[]) : [];
        this.#recorder.addRejectedEvents(
          data.map((event, index) => ({
            platform: 'tiktok',
            pixelCode,
            event: isRecord(event) ? clippedName({ ...event }, 'event') : {},
            receivedAt: record.receivedAt,
            requestIndex: record.index,
            invalidEvent,
            isInvalidOne: index === invalidEvent.index,
            message,
          })),
        );
      }
      return tiktokAnswer(TIKTOK_CODE.invalidParameter, check.message);
    }
    const receivedAt = Date.now();
    // A request from before the last reset() is answered as TikTok would, and recorded nowhere.
    if (!keep) return tiktokAnswer(TIKTOK_CODE.ok);
    this.#recorder.addEvents(
      check.events.map((event) => ({
        platform: 'tiktok',
        pixelCode: check.pixelCode,
        event,
        receivedAt,
        requestIndex: record.index,
        ...(record.testEventCode === undefined ? {} : { testEventCode: record.testEventCode }),
      })),
    );
    return tiktokAnswer(TIKTOK_CODE.ok);
  }

  /** Notes the answer on the request when decided, and marks it as the mock's. */
  #record(record: MockTikTokRequest, answer: Answer): Answer {
    record.status = answer.status;
    try {
      const parsed = JSON.parse(answer.body) as unknown;
      if (isRecord(parsed) && typeof parsed.code === 'number') {
        record.code = parsed.code;
        if (typeof parsed.message === 'string') record.message = parsed.message;
        if (typeof parsed.request_id === 'string') record.requestId = parsed.request_id;
      }
    } catch {
      // An HTML or empty fault body: nothing TikTok-shaped to note.
    }
    if (record.code !== 0) record.responseBody = answer.body;
    return {
      ...answer,
      headers: {
        // TikTok never sends this: it lets a client tell the mock from TikTok.
        'x-capi-kit-mock': '1',
        ...answer.headers,
      },
    };
  }
}

const plain = (status: number, text: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  body: text,
});

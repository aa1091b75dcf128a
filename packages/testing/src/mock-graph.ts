// Over 500 lines: one server class; routing, Meta's checks and recording share its private state.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Answer,
  CROSS_ORIGIN,
  graphAnswer,
  jsonAnswer,
  pageAnswer,
  textAnswer,
} from './answers.js';
import { retiredVersionAnswer } from './api-version.js';
import { checkCredentials, readCredentials } from './auth.js';
import { checkMaxEvents } from './bounded-log.js';
import { controlRoute } from './control.js';
import { controlRefusal } from './control-guard.js';
import type { DatasetQualityEvent } from './dataset-quality.js';
import type { EventsManagerSource } from './events-manager-copy.js';
import {
  buildEventsManagerView,
  type EventsManagerFilter,
  type EventsManagerView,
} from './events-manager-view.js';
import { FaultQueue } from './fault-queue.js';
import {
  answerForFault,
  faultLatency,
  type MockFault,
  type MockFaultInput,
  normalizeFault,
} from './faults.js';
import {
  type GraphError,
  type GraphErrorAnswer,
  graphErrorAnswer,
  newTraceId,
} from './graph-error.js';
import { answerRead, type GraphReadRoute, matchReadRoute } from './graph-reads.js';
import { MAX_BEACON_BYTES, PIXEL_STUB_SCRIPT, parseBeacon } from './pixel-stub.js';
import {
  type MockBrowserEvent,
  type MockDuplicate,
  type MockEvent,
  type MockEventFilter,
  type MockRecorderStats,
  type MockRequest,
  Recorder,
  type WaitForEventsOptions,
} from './recorder.js';
import { parseBody, readBody } from './request-body.js';
import { type MockTikTok, TikTokEndpoint } from './tiktok/endpoint.js';
import type { MockTikTokRequest } from './tiktok/recorder.js';
import {
  type EventRejectionRule,
  type InvalidEvent,
  type MockWireEvent,
  unreadableBody,
  validatePayload,
} from './validate-events.js';

/** Options of {@link startMockGraph}. */
export interface MockGraphOptions {
  /** Interface to listen on; default `127.0.0.1` (loopback only). */
  host?: string;
  /** Port; default 0 (an ephemeral port, read it from {@link MockGraph.url}). */
  port?: number;
  /** When set, every request's access token must equal it (else Graph error 190). */
  accessToken?: string;
  /** When set, `appsecret_proof` = HMAC-SHA256(appSecret, token) hex is required (else error 100). */
  appSecret?: string;
  /** Larger bodies are answered 413; default 10 MiB. */
  maxBodyBytes?: number;
  /** How far in the future `event_time` may be, in seconds; default 300. */
  maxFutureSeconds?: number;
  /** Clock (epoch ms) for `event_time` checks; default `Date.now`. */
  now?: () => number;
  /**
   * How many records of each kind the mock keeps (accepted, browser and refused events, requests;
   * TikTok's too): past it the oldest go, counted in {@link MockGraph.stats} and on the Events
   * Manager page. Default 100 000; a whole number ≥ 1.
   */
  maxEvents?: number;
  /** Called once per recorded request when it is finished (answered, reset, or hung and closed). */
  onRequest?: (request: MockRequest) => void;
  /** When set, TikTok's `Access-Token` header must equal it (else code 40105); any token otherwise. */
  tiktokAccessToken?: string;
  /** {@link MockGraphOptions.onRequest} for requests to TikTok's endpoint (`/open_api/…`). */
  onTikTokRequest?: (request: MockTikTokRequest) => void;
}

/** Options of {@link MockGraph.rejectEvents}. */
export interface RejectEventsOptions {
  /**
   * The field Meta's answer names as missing, as a dotted path inside the event; default
   * `custom_data.currency` (answered as `$['data'][i]['custom_data']['currency'] is required`).
   */
  field?: string;
}

/** Which events {@link MockGraph.rejectEvents} refuses: `event` as sent, `index` in `data`. */
export type RejectEventsPredicate = (event: MockWireEvent, index: number) => boolean;

/** A running mock Graph API. See the package README for a tour. */
export interface MockGraph {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** The events endpoint for a pixel, e.g. `eventsUrl('123')` → `${url}/v26.0/123/events`. */
  eventsUrl(pixelId: string, version?: string): string;
  /** Queues a one-shot fault for each of the next `times` events requests (FIFO; default 1, a whole number ≥ 0, else a `TypeError`). */
  failNext(fault: MockFaultInput, times?: number): MockGraph;
  /** Applies `fault` to every events request until {@link MockGraph.recover}; queued one-shot faults go first. */
  outage(fault: MockFaultInput): MockGraph;
  /** Ends an outage. Queued one-shot faults stay queued. */
  recover(): MockGraph;
  /** One-shot faults not consumed yet. */
  pendingFaults(): number;
  /**
   * Refuses, from now on, every request carrying an event that `predicate` picks, the way Meta
   * refuses a batch with one invalid event: HTTP 400, code 100, subcode 2804019, naming the first
   * such event (`$['data'][i]['custom_data']['currency'] is required`); nothing of the batch is
   * recorded. Replaces the previous rule; without a predicate, removes it.
   *
   * @example
   * mock.rejectEvents((event) => event.event_id?.startsWith('bad-') ?? false);
   */
  rejectEvents(predicate?: RejectEventsPredicate, options?: RejectEventsOptions): MockGraph;
  /** Accepted events in arrival order, optionally for one pixel and/or event name. */
  events(filter?: MockEventFilter): MockEvent[];
  /** Every recorded request in arrival order (health checks, `/_mock/*` and TikTok's `/open_api/*`, see `tiktok.requests()`, are not recorded here). */
  requests(): MockRequest[];
  /**
   * Requests not acknowledged in full by Meta's 200: validation and auth errors, faults, hung and
   * reset connections, redirects, 2xx answers that are not Meta's, short acknowledgements.
   */
  rejections(): MockRequest[];
  /** Browser events the Pixel stub (`/fbevents.js`) reported, in arrival order. */
  browserEvents(filter?: MockEventFilter): MockBrowserEvent[];
  /**
   * What the Events Manager page (`GET /` in a browser) shows: browser and server copies grouped
   * by pixel + `event_name` + `event_id`, refused events with their rule, per-event-name figures.
   * The same JSON as `GET /_mock/events-manager`.
   */
  eventsManager(filter?: EventsManagerFilter): EventsManagerView;
  /** Accepted events seen more than once by (`pixelId`, `event_name`, `event_id`). */
  duplicates(): MockDuplicate[];
  /** Distinct `event_id`s of accepted events, in first-seen order. */
  uniqueEventIds(): string[];
  /** Resolves with the matching events once at least `count` were accepted; rejects on timeout. */
  waitForEvents(count: number, options?: WaitForEventsOptions): Promise<MockEvent[]>;
  /**
   * Scripts the Dataset Quality API answer (`GET /{version}/dataset_quality?dataset_id=pixelId`)
   * for a pixel; without figures, it goes back to figures computed from the accepted events.
   */
  setDatasetQuality(pixelId: string, web?: DatasetQualityEvent[]): MockGraph;
  /**
   * TikTok's Events API 2.0 track endpoint, served by this same server at
   * `POST /open_api/v1.3/event/track/`: its URL, fault queue and what it received.
   */
  readonly tiktok: MockTikTok;
  /**
   * What the mock keeps of each kind of record and how many it let go (the oldest) to stay within
   * `maxEvents`, since the last reset() or clearEvents(). The same JSON as `GET /_mock/stats`.
   */
  stats(): MockStats;
  /** Forgets events, requests and scripted dataset quality; clears queued faults, any outage and the rejectEvents rule. TikTok's too. */
  reset(): void;
  /** Forgets recorded events (server, browser, refused; TikTok's too) and requests only: the page's Clear button. */
  clearEvents(): void;
  /** Stops listening and destroys open connections, hung ones included. Safe to call twice. */
  close(): Promise<void>;
}

/** {@link MockGraph.stats}: records kept and let go, Meta's and TikTok's. */
export interface MockStats extends MockRecorderStats {
  /** The `maxEvents` option: records of each kind kept at most. */
  maxEvents: number;
  /** The same for TikTok's endpoint (`mock.tiktok`). */
  tiktok: MockRecorderStats;
}

/** Default API version used by {@link MockGraph.eventsUrl}. */
export const DEFAULT_GRAPH_VERSION = 'v26.0';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const EVENTS_PATH = /^\/([^/]+)\/([^/]+)\/events\/?$/;
const VERSION = /^v\d+\.\d$/;
const PIXEL_ID = /^\d+$/;

const SOURCES: readonly string[] = ['server', 'browser'] satisfies EventsManagerSource[];

/** `?pixelId=…&event_name=…&source=server|browser&limit=…&offset=…` of `GET /_mock/events-manager`. */
const viewFilter = (query: URLSearchParams): EventsManagerFilter => {
  const pixelId = query.get('pixelId');
  const eventName = query.get('event_name');
  const source = query.get('source');
  const limit = Number(query.get('limit') ?? Number.NaN);
  const offset = Number(query.get('offset') ?? Number.NaN);
  return {
    ...(Number.isInteger(limit) && limit >= 0 ? { limit } : {}),
    ...(Number.isInteger(offset) && offset >= 0 ? { offset } : {}),
    ...(pixelId ? { pixelId } : {}),
    ...(eventName ? { event_name: eventName } : {}),
    ...(source && SOURCES.includes(source) ? { source: source as EventsManagerSource } : {}),
  };
};

const safeDecode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

const stringField = (fields: Record<string, unknown>, key: string): string | undefined => {
  const value = fields[key];
  return typeof value === 'string' ? value : undefined;
};

class MockGraphServer implements MockGraph {
  readonly url: string;
  readonly tiktok: MockTikTok;
  readonly #tiktok: TikTokEndpoint;
  readonly #server: Server;
  readonly #options: MockGraphOptions;
  readonly #recorder: Recorder;
  readonly #maxEvents: number;
  readonly #queue = new FaultQueue<MockFault>();
  /** Moves at every `reset()`/`clearEvents()`: a request that came in before keeps out of what follows. */
  #generation = 0;
  #outage: MockFault | undefined;
  #rejectRule: EventRejectionRule | undefined;
  #datasetQuality = new Map<string, DatasetQualityEvent[]>();
  #timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  #closing: Promise<void> | undefined;
  /** Moves with every change the Events Manager page shows; streamed to `/_mock/stream`. */
  #version = 0;
  #streams = new Set<ServerResponse>();
  /** The last `GET /_mock/events-manager` answer: the same state and filter are not computed twice. */
  #viewAnswer: { key: string; answer: Answer } | undefined;

  constructor(server: Server, url: string, options: MockGraphOptions) {
    this.#server = server;
    this.url = url;
    this.#options = options;
    this.#maxEvents = checkMaxEvents(options.maxEvents);
    this.#recorder = new Recorder(this.#maxEvents);
    this.#tiktok = new TikTokEndpoint({
      url,
      accessToken: options.tiktokAccessToken,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      maxFutureSeconds: options.maxFutureSeconds ?? 300,
      maxEvents: this.#maxEvents,
      now: options.now ?? Date.now,
      onRequest: options.onTikTokRequest,
      changed: () => this.#changed(),
      sleep: (ms) => this.#sleep(ms),
      closing: () => this.#closing !== undefined,
      write: (res, answer) => this.#write(res, answer),
    });
    this.tiktok = this.#tiktok;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`capi-kit mock internal error: ${String(error)}`);
        }
      });
    });
  }

  eventsUrl(pixelId: string, version: string = DEFAULT_GRAPH_VERSION): string {
    return `${this.url}/${version}/${encodeURIComponent(pixelId)}/events`;
  }

  failNext(fault: MockFaultInput, times = 1): MockGraph {
    this.#queue.push(normalizeFault(fault), times);
    return this;
  }

  outage(fault: MockFaultInput): MockGraph {
    this.#outage = normalizeFault(fault);
    return this;
  }

  recover(): MockGraph {
    this.#outage = undefined;
    return this;
  }

  pendingFaults(): number {
    return this.#queue.size;
  }

  rejectEvents(predicate?: RejectEventsPredicate, options: RejectEventsOptions = {}): MockGraph {
    if (predicate === undefined) {
      this.#rejectRule = undefined;
      return this;
    }
    if (typeof predicate !== 'function') {
      throw new TypeError('rejectEvents takes a function (event, index) => boolean, or nothing.');
    }
    const field = options.field ?? 'custom_data.currency';
    if (typeof field !== 'string' || field === '') {
      throw new TypeError(
        'rejectEvents: field must be a dotted path such as custom_data.currency.',
      );
    }
    this.#rejectRule = (event, index) => (predicate(event, index) ? field : undefined);
    return this;
  }

  events(filter?: MockEventFilter): MockEvent[] {
    return this.#recorder.events(filter);
  }

  requests(): MockRequest[] {
    return this.#recorder.requests();
  }

  rejections(): MockRequest[] {
    return this.#recorder.rejections();
  }

  duplicates(): MockDuplicate[] {
    return this.#recorder.duplicates();
  }

  browserEvents(filter?: MockEventFilter): MockBrowserEvent[] {
    return this.#recorder.browserEvents(filter);
  }

  eventsManager(filter?: EventsManagerFilter): EventsManagerView {
    // The stored records: the view builds each one's copy once, not at every page refresh.
    const tiktok = this.#tiktok.stored();
    return buildEventsManagerView(
      {
        ...this.#recorder.stored(),
        tiktokEvents: tiktok.events,
        tiktokBrowserEvents: tiktok.browserEvents,
        tiktokRejectedEvents: tiktok.rejectedEvents,
        version: this.#version,
        now: Date.now(),
        maxEvents: this.#maxEvents,
        evicted: this.#evictedEvents(),
      },
      filter,
    );
  }

  stats(): MockStats {
    return { maxEvents: this.#maxEvents, ...this.#recorder.stats(), tiktok: this.#tiktok.stats() };
  }

  /**
   * The page's data as JSON, computed again only when something was recorded or cleared since the
   * last answer, or the filter differs (several open pages, a refetch after the page's own Clear).
   * Answers with a `limit` only, as the page asks.
   */
  #viewAnswerFor(filter: EventsManagerFilter): Answer {
    // Only a page of rows is kept: an answer with every row of a full mock can be tens of MB.
    if (filter.limit === undefined) return jsonAnswer(200, this.eventsManager(filter));
    let recorded = 0;
    for (const { kept, evicted } of [this.#recorder.stats(), this.#tiktok.stats()]) {
      recorded += kept.events + kept.browserEvents + kept.rejectedEvents;
      recorded += evicted.events + evicted.browserEvents + evicted.rejectedEvents;
    }
    // #version moves at every clear, the count at every record: together they name the state.
    const key = JSON.stringify([this.#version, recorded, filter]);
    if (this.#viewAnswer?.key !== key) {
      this.#viewAnswer = { key, answer: jsonAnswer(200, this.eventsManager(filter)) };
    }
    return this.#viewAnswer.answer;
  }

  /** Events (server, browser, refused; Meta's and TikTok's) let go to stay within maxEvents. */
  #evictedEvents(): number {
    let total = 0;
    for (const { evicted } of [this.#recorder.stats(), this.#tiktok.stats()]) {
      total += evicted.events + evicted.browserEvents + evicted.rejectedEvents;
    }
    return total;
  }

  uniqueEventIds(): string[] {
    return this.#recorder.uniqueEventIds();
  }

  waitForEvents(count: number, options?: WaitForEventsOptions): Promise<MockEvent[]> {
    if (this.#closing) return Promise.reject(new Error('waitForEvents: the mock is closed'));
    return this.#recorder.waitForEvents(count, options);
  }

  setDatasetQuality(pixelId: string, web?: DatasetQualityEvent[]): MockGraph {
    if (web) this.#datasetQuality.set(pixelId, structuredClone(web));
    else this.#datasetQuality.delete(pixelId);
    return this;
  }

  reset(): void {
    this.#generation++;
    this.#datasetQuality.clear();
    this.#recorder.reset();
    this.#queue.clear();
    this.#outage = undefined;
    this.#rejectRule = undefined;
    this.#tiktok.reset();
  }

  clearEvents(): void {
    this.#generation++;
    this.#recorder.reset();
    this.#tiktok.clearEvents();
    this.#changed();
  }

  /** Tells the open Events Manager pages that what they show changed. */
  #changed(): void {
    this.#version++;
    for (const stream of this.#streams) {
      if (!stream.destroyed && !stream.writableEnded) stream.write(`data: ${this.#version}\n\n`);
    }
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const pending of this.#timers) {
        clearTimeout(pending.timer);
        pending.done();
      }
      this.#timers.clear();
      this.#recorder.abandonWaiters(
        'waitForEvents: the mock was closed before enough events arrived',
      );
      this.#tiktok.abandonWaiters();
      this.#server.close(() => resolve());
      // Idle keep-alive sockets and hung requests would otherwise hold close() open.
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  /** A delay that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.#timers.delete(pending);
          resolve();
        }, ms),
        done: () => resolve(),
      };
      this.#timers.add(pending);
    });
  }

  /** The next one-shot fault, else the outage there was when the request came in. */
  #takeFault(outage: MockFault | undefined): MockFault | undefined {
    return this.#queue.take() ?? outage;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const method = req.method ?? 'GET';

    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      // A browser gets the Events Manager page; scripts and health checks keep their JSON.
      if (req.headers.accept?.includes('text/html')) this.#write(res, pageAnswer());
      else this.#write(res, jsonAnswer(200, { ok: true, name: 'capi-kit-mock' }));
      return;
    }
    if (url.pathname === '/fbevents.js' && (method === 'GET' || method === 'HEAD')) {
      this.#write(res, {
        status: 200,
        headers: { ...CROSS_ORIGIN, 'content-type': 'text/javascript; charset=utf-8' },
        body: PIXEL_STUB_SCRIPT,
      });
      return;
    }
    if (url.pathname === '/tr') {
      await this.#beacon(req, res, method);
      return;
    }
    if (url.pathname.startsWith('/_mock/')) {
      const refusal = controlRefusal(
        { method, host: req.headers.host, origin: req.headers.origin },
        this.#options.host ?? DEFAULT_HOST,
      );
      if (refusal) {
        this.#write(res, jsonAnswer(403, { ok: false, error: `Refused: ${refusal}.` }));
        return;
      }
    }
    if (url.pathname === '/_mock/stream' && method === 'GET') {
      this.#stream(res);
      return;
    }
    if (url.pathname === '/_mock/events-manager' && method === 'GET') {
      this.#write(res, this.#viewAnswerFor(viewFilter(url.searchParams)));
      return;
    }
    if (url.pathname.startsWith('/_mock/')) {
      await this.#control(req, res, url.pathname, method);
      return;
    }
    if (TikTokEndpoint.isPixelPath(url.pathname)) {
      await this.#tiktok.handlePixel(req, res, url, method);
      return;
    }
    // TikTok's Business API lives under /open_api/, which no Graph path starts with.
    if (url.pathname.startsWith('/open_api/')) {
      await this.#tiktok.handle(req, res, url, method);
      return;
    }

    const read = method === 'GET' ? matchReadRoute(url.pathname) : undefined;
    if (read) {
      this.#read(req, res, url, read, started);
      return;
    }

    const route = EVENTS_PATH.exec(url.pathname);
    const record: MockRequest = {
      index: this.#recorder.nextRequestIndex(),
      method,
      path: url.pathname,
      ...(route ? { version: route[1] ?? '', pixelId: safeDecode(route[2] ?? '') } : {}),
      status: 0,
      eventCount: 0,
      eventNames: [],
      tokenInUrl: url.searchParams.has('access_token'),
      tokenSources: [],
      hasAuthorizationHeader: req.headers.authorization !== undefined,
      receivedAt: Date.now(),
      durationMs: 0,
      clientAborted: false,
    };
    this.#recorder.addRequest(record);
    // What holds when the request comes in decides its answer, not what holds once its body is
    // read: a test's recover() or reset() while a client's last request is still arriving must not
    // turn an outage's refusal into events accepted into the next test (seen in CI, under load).
    const outage = this.#outage;
    const generation = this.#generation;
    let finished = false;
    let resetByMock = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      record.durationMs = Math.round((performance.now() - started) * 10) / 10;
      this.#options.onRequest?.({ ...record });
      this.#changed();
    };
    res.on('close', () => {
      if (!res.writableFinished && !this.#closing && !resetByMock) record.clientAborted = true;
      finish();
    });

    const raw = await readBody(req, this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const parsed = raw.tooLarge ? undefined : parseBody(raw.bytes, req.headers['content-type']);
    const fields = parsed?.ok ? parsed.fields : {};
    const credentials = readCredentials(req.headers, url.searchParams, fields);
    record.tokenSources = credentials.tokens.map((t) => t.source);
    const partnerAgent = stringField(fields, 'partner_agent');
    if (partnerAgent !== undefined) record.partnerAgent = partnerAgent;
    // [MB] names test_event_code as a body field, but Graph reads a POST's parameters from the
    // query string too (developers.facebook.com/docs/pages/publishing posts `?message=…`), as it
    // does access_token [UA]; the body's wins when both are sent.
    const testEventCode =
      stringField(fields, 'test_event_code') ??
      url.searchParams.get('test_event_code') ??
      undefined;
    if (testEventCode !== undefined) record.testEventCode = testEventCode;
    if (Array.isArray(fields.data)) {
      record.eventCount = fields.data.length;
      record.eventNames = fields.data.map((e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as { event_name?: unknown }).event_name === 'string'
          ? (e as { event_name: string }).event_name
          : '?',
      );
    }

    if (!route) {
      // Graph answers a path it cannot route with HTTP 400, OAuthException 2500 "Unknown path
      // components" (developers.facebook.com/docs/graph-api/guides/error-handling; the status as
      // Graph sends it, e.g. github.com/arsduo/koala/issues/611), never a 404.
      const notFound = graphErrorAnswer(400, {
        message: `Unknown path components: ${url.pathname}`,
        type: 'OAuthException',
        code: 2500,
        is_transient: false,
      });
      this.#write(res, this.#record(record, graphAnswer(notFound)));
      return;
    }
    if (method !== 'POST') {
      const unsupported = graphErrorAnswer(400, {
        message: `Unsupported ${method.toLowerCase()} request. The events edge only accepts POST.`,
        type: 'GraphMethodException',
        code: 100,
        is_transient: false,
      });
      this.#write(res, this.#record(record, graphAnswer(unsupported)));
      return;
    }

    const fault = this.#takeFault(outage);
    let latency = 0;
    let eventsReceived: number | undefined;
    if (fault) {
      record.fault = fault.kind;
      const action = answerForFault(fault, record.eventCount);
      if (action.action === 'hang') return; // res 'close' (client abort or close()) finishes the record
      if (action.action === 'reset') {
        await this.#sleep(faultLatency(fault));
        resetByMock = true;
        req.socket.destroy();
        return;
      }
      if (action.action === 'respond') {
        const answer = this.#record(record, action);
        await this.#sleep(faultLatency(fault));
        this.#write(res, answer);
        return;
      }
      if (action.action === 'acknowledge') {
        eventsReceived = action.eventsReceived ?? Math.max(0, record.eventCount - 1);
      }
      latency = faultLatency(fault);
    }

    const answer = this.#record(
      record,
      this.#process(
        record,
        route[1] ?? '',
        record.pixelId ?? '',
        raw.tooLarge,
        parsed,
        fields,
        credentials,
        eventsReceived,
        generation === this.#generation,
      ),
    );
    await this.#sleep(latency);
    this.#write(res, answer);
  }

  /**
   * GET `/me`, `/{pixelId}` and `/dataset_quality` (graph-reads.ts): token first, like Graph, then
   * the node. The `Date` header follows `options.now`, so a skewed mock clock shows in it.
   */
  #read(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    route: GraphReadRoute,
    started: number,
  ): void {
    const credentials = readCredentials(req.headers, url.searchParams, {});
    const record: MockRequest = {
      index: this.#recorder.nextRequestIndex(),
      method: 'GET',
      path: url.pathname,
      version: route.version,
      ...(route.kind === 'pixel' ? { pixelId: route.pixelId } : {}),
      status: 0,
      eventCount: 0,
      eventNames: [],
      tokenInUrl: url.searchParams.has('access_token'),
      tokenSources: credentials.tokens.map((t) => t.source),
      hasAuthorizationHeader: req.headers.authorization !== undefined,
      receivedAt: Date.now(),
      durationMs: 0,
      clientAborted: false,
    };
    this.#recorder.addRequest(record);
    const authError = checkCredentials(credentials, this.#options);
    let result: Answer;
    if (authError) result = graphAnswer(authError);
    else {
      const read = answerRead(route, url.searchParams, {
        events: (filter) => this.#recorder.events(filter),
        datasetQuality: (pixelId) => this.#datasetQuality.get(pixelId),
      });
      result = read.status === 200 ? jsonAnswer(200, read.value) : graphAnswer(read.error);
    }
    const answer = this.#record(record, result);
    answer.headers.date = new Date((this.#options.now ?? Date.now)()).toUTCString();
    record.durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.#options.onRequest?.({ ...record });
    this.#write(res, answer);
  }

  /**
   * Meta's own checks, in its order: path, body, token, payload. Records accepted events, or only
   * the first `eventsReceived` of them (a short-ack fault), and acknowledges as many.
   */
  #process(
    record: MockRequest,
    version: string,
    pixelId: string,
    tooLarge: boolean,
    parsed: ReturnType<typeof parseBody> | undefined,
    fields: Record<string, unknown>,
    credentials: ReturnType<typeof readCredentials>,
    eventsReceived: number | undefined,
    keep: boolean,
  ): Answer {
    if (!VERSION.test(version)) {
      return graphAnswer(
        graphErrorAnswer(400, {
          message: `Unknown path components: /${version} is not an API version (expected e.g. ${DEFAULT_GRAPH_VERSION})`,
          type: 'OAuthException',
          code: 2500,
          is_transient: false,
        }),
      );
    }
    const retired = retiredVersionAnswer(version, (this.#options.now ?? Date.now)());
    if (retired) return graphAnswer(retired);
    if (!PIXEL_ID.test(pixelId)) {
      return graphAnswer(
        graphErrorAnswer(400, {
          message: `Unsupported post request. Object with ID '${pixelId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          is_transient: false,
        }),
      );
    }
    if (tooLarge || !parsed) {
      return graphAnswer(
        graphErrorAnswer(413, {
          message: `Request body exceeds the mock's limit of ${this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes`,
          type: 'OAuthException',
          code: 100,
          is_transient: false,
        }),
      );
    }
    const authError = checkCredentials(credentials, this.#options);
    if (authError) return graphAnswer(authError);
    if (!parsed.ok) return graphAnswer(unreadableBody(parsed.reason));

    const check = validatePayload(
      fields,
      {
        nowMs: (this.#options.now ?? Date.now)(),
        maxFutureSeconds: this.#options.maxFutureSeconds ?? 300,
      },
      this.#rejectRule,
    );
    if (!check.ok) {
      if (check.invalidEvent) {
        record.invalidEvent = check.invalidEvent;
        if (keep) {
          this.#recordRefused(record, pixelId, fields.data, check.invalidEvent, check.answer);
        }
      }
      return graphAnswer(check.answer);
    }
    const receivedAt = Date.now();
    const accepted =
      eventsReceived === undefined ? check.events : check.events.slice(0, eventsReceived);
    // A request from before the last reset() is answered as Meta would, and recorded nowhere.
    if (keep) {
      this.#recorder.addEvents(
        accepted.map((event) => ({
          pixelId,
          version,
          event,
          receivedAt,
          requestIndex: record.index,
          ...(record.testEventCode === undefined ? {} : { testEventCode: record.testEventCode }),
        })),
      );
    }
    return jsonAnswer(200, {
      events_received: accepted.length,
      messages: [],
      fbtrace_id: newTraceId(),
    });
  }

  /** Keeps a refused batch's events for the Events Manager page, each with the batch's broken rule. */
  #recordRefused(
    record: MockRequest,
    pixelId: string,
    data: unknown,
    invalidEvent: InvalidEvent,
    answer: GraphErrorAnswer,
  ): void {
    if (!Array.isArray(data)) return;
    const message = answer.error.error_user_msg ?? answer.error.message;
    this.#recorder.addRejectedEvents(
      data.map((event: unknown, index) => ({
        pixelId,
        event:
          typeof event === 'object' && event !== null && !Array.isArray(event) ? { ...event } : {},
        receivedAt: record.receivedAt,
        requestIndex: record.index,
        invalidEvent,
        isInvalidOne: index === invalidEvent.index,
        message,
      })),
    );
  }

  /** `POST /tr`: a browser event from the Pixel stub, answered like Meta's pixel endpoint (no content). */
  async #beacon(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'OPTIONS') {
      this.#write(res, {
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
      this.#write(res, textAnswer(405, 'The Pixel stub posts events to /tr.'));
      return;
    }
    const raw = await readBody(req, MAX_BEACON_BYTES);
    if (raw.tooLarge) {
      this.#write(res, textAnswer(413, `A Pixel event is at most ${MAX_BEACON_BYTES} bytes.`));
      return;
    }
    const parsed = parseBeacon(raw.bytes.toString('utf8'), {
      hasUserAgent: req.headers['user-agent'] !== undefined,
      hasIp: req.socket.remoteAddress !== undefined,
      receivedAt: Date.now(),
    });
    if (!parsed.ok) {
      this.#write(res, textAnswer(400, `Not a Pixel stub event: ${parsed.reason}.`));
      return;
    }
    this.#recorder.addBrowserEvent(parsed.event);
    this.#changed();
    this.#write(res, { status: 204, headers: { ...CROSS_ORIGIN }, body: '' });
  }

  /** `GET /_mock/stream`: Server-Sent Events, one `data: <version>` per change. */
  #stream(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 2000\ndata: ${this.#version}\n\n`);
    this.#streams.add(res);
    res.on('close', () => this.#streams.delete(res));
  }

  /**
   * Records the answer on the request when it is decided (before any latency), and returns it
   * with Meta's `x-fb-trace-id` header repeating the body's `fbtrace_id`, plus `x-capi-kit-mock: 1`.
   */
  #record(record: MockRequest, answer: Answer): Answer {
    record.status = answer.status;
    let traceId: string | undefined;
    try {
      const parsed = JSON.parse(answer.body) as { error?: GraphError; fbtrace_id?: string };
      if (parsed.error && answer.status !== 200) record.error = parsed.error;
      traceId = parsed.error?.fbtrace_id ?? parsed.fbtrace_id;
    } catch {
      // An HTML or empty fault body: nothing Graph-shaped to record.
    }
    // A faulted 2xx (a portal's page, a short acknowledgement) is kept too: it is not Meta's
    // whole answer. A latency fault delays Meta's own answer, which stays unrecorded as usual.
    if (answer.status !== 200 || (record.fault !== undefined && record.fault !== 'latency')) {
      record.responseBody = answer.body;
    }
    return {
      ...answer,
      headers: {
        ...(traceId ? { 'x-fb-trace-id': traceId } : {}),
        // Meta never sends this: it lets a client (capi-kit send-test) tell the mock from Graph.
        'x-capi-kit-mock': '1',
        ...answer.headers,
      },
    };
  }

  #write(res: ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** `/_mock/*` (control.ts): the inspection and fault API over HTTP. */
  async #control(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
  ): Promise<void> {
    const raw = await readBody(req, 1024 * 1024);
    const body = raw.tooLarge
      ? undefined
      : parseBody(raw.bytes, req.headers['content-type'] ?? 'application/json');
    const input = body?.ok ? body.fields : {};
    try {
      const answer = controlRoute(this, `${method} ${path.replace(/\/$/, '')}`, input);
      this.#write(res, jsonAnswer(answer.status, answer.value));
    } catch (error) {
      this.#write(res, jsonAnswer(400, { ok: false, error: String(error) }));
    }
  }
}

/**
 * Starts a mock Graph API on loopback.
 *
 * @example
 * const mock = await startMockGraph();
 * // point the client at mock.url, send events, then:
 * const [first] = await mock.waitForEvents(1);
 * await mock.close();
 */
export const startMockGraph = async (options: MockGraphOptions = {}): Promise<MockGraph> => {
  checkMaxEvents(options.maxEvents); // before listening: a bad option leaves no server behind
  const server = createServer();
  const host = options.host ?? DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return new MockGraphServer(server, `http://${urlHost}:${port}`, options);
};

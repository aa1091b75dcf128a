// The mock server put together: its options, the public MockGraph object, and the router that
// hands each request to the module that serves it: Meta's Graph API (graph-endpoint.ts), the
// Pixel stub (pixel-endpoint.ts), the Events Manager page's data and change stream
// (events-manager-feed.ts), the `/_mock/*` control API (control.ts, behind control-guard.ts) and
// TikTok's endpoint (tiktok/endpoint.ts). The server keeps what they share: Meta's recorder, the
// delays close() cuts short, and the write that skips a response already closed.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Answer, jsonAnswer, pageAnswer } from './answers.js';
import { DEFAULT_GRAPH_VERSION } from './api-version.js';
import { checkMaxEvents } from './bounded-log.js';
import { controlAnswer } from './control.js';
import { controlRefusal, hostRefusal } from './control-guard.js';
import type { DatasetQualityEvent } from './dataset-quality.js';
import { EventsManagerFeed } from './events-manager-feed.js';
import type { EventsManagerFilter, EventsManagerView } from './events-manager-view.js';
import type { MockFaultInput } from './faults.js';
import { GraphEndpoint } from './graph-endpoint.js';
import { matchReadRoute } from './graph-reads.js';
import { isPixelStubRoute, pixelStubAnswer } from './pixel-endpoint.js';
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
import { DEFAULT_MAX_BODY_BYTES } from './request-body.js';
import { type MockTikTok, TikTokEndpoint } from './tiktok/endpoint.js';
import type { MockTikTokRequest } from './tiktok/recorder.js';
import type { MockWireEvent } from './validate-events.js';

export { DEFAULT_GRAPH_VERSION };

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

const DEFAULT_HOST = '127.0.0.1';

/**
 * The request target as a URL, or undefined when it does not parse. A path is read as a path of
 * this server: resolved against a base, `//` (a scheme-relative reference) named a host and threw.
 */
const requestUrl = (target: string): URL | undefined => {
  try {
    return target.startsWith('/')
      ? new URL(`http://mock.invalid${target}`)
      : new URL(target, 'http://mock.invalid');
  } catch {
    return undefined;
  }
};

class MockGraphServer implements MockGraph {
  readonly url: string;
  readonly tiktok: MockTikTok;
  readonly #tiktok: TikTokEndpoint;
  readonly #graph: GraphEndpoint;
  readonly #feed: EventsManagerFeed;
  readonly #server: Server;
  readonly #options: MockGraphOptions;
  readonly #recorder: Recorder;
  readonly #maxEvents: number;
  #timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  #closing: Promise<void> | undefined;

  constructor(server: Server, url: string, options: MockGraphOptions) {
    this.#server = server;
    this.url = url;
    this.#options = options;
    this.#maxEvents = checkMaxEvents(options.maxEvents);
    this.#recorder = new Recorder(this.#maxEvents);
    this.#graph = new GraphEndpoint({
      recorder: this.#recorder,
      options,
      changed: () => this.#feed.changed(),
      sleep: (ms) => this.#sleep(ms),
      closing: () => this.#closing !== undefined,
      write: (res, answer) => this.#write(res, answer),
    });
    this.#tiktok = new TikTokEndpoint({
      url,
      accessToken: options.tiktokAccessToken,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      maxFutureSeconds: options.maxFutureSeconds ?? 300,
      maxEvents: this.#maxEvents,
      now: options.now ?? Date.now,
      onRequest: options.onTikTokRequest,
      changed: () => this.#feed.changed(),
      sleep: (ms) => this.#sleep(ms),
      closing: () => this.#closing !== undefined,
      write: (res, answer) => this.#write(res, answer),
    });
    this.tiktok = this.#tiktok;
    this.#feed = new EventsManagerFeed({
      meta: this.#recorder,
      tiktok: this.#tiktok,
      maxEvents: this.#maxEvents,
    });
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
    this.#graph.failNext(fault, times);
    return this;
  }

  outage(fault: MockFaultInput): MockGraph {
    this.#graph.outage(fault);
    return this;
  }

  recover(): MockGraph {
    this.#graph.recover();
    return this;
  }

  pendingFaults(): number {
    return this.#graph.pendingFaults();
  }

  rejectEvents(predicate?: RejectEventsPredicate, options?: RejectEventsOptions): MockGraph {
    this.#graph.rejectEvents(predicate, options);
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
    return this.#feed.view(filter);
  }

  stats(): MockStats {
    return { maxEvents: this.#maxEvents, ...this.#recorder.stats(), tiktok: this.#tiktok.stats() };
  }

  uniqueEventIds(): string[] {
    return this.#recorder.uniqueEventIds();
  }

  waitForEvents(count: number, options?: WaitForEventsOptions): Promise<MockEvent[]> {
    if (this.#closing) return Promise.reject(new Error('waitForEvents: the mock is closed'));
    return this.#recorder.waitForEvents(count, options);
  }

  setDatasetQuality(pixelId: string, web?: DatasetQualityEvent[]): MockGraph {
    this.#graph.setDatasetQuality(pixelId, web);
    return this;
  }

  reset(): void {
    this.#graph.reset();
    this.#recorder.reset();
    this.#tiktok.reset(); // tells the open pages, as clearEvents() does
  }

  clearEvents(): void {
    this.#graph.clearEvents();
    this.#recorder.reset();
    this.#tiktok.clearEvents();
    this.#feed.changed();
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

  #write(res: ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** Hands the request to the module that serves its path; in this order, first match wins. */
  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = requestUrl(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (url === undefined) {
      this.#write(res, jsonAnswer(400, { ok: false, error: 'The request target is not a URL.' }));
      return;
    }

    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      // A browser gets the Events Manager page; scripts and health checks keep their JSON.
      if (req.headers.accept?.includes('text/html')) this.#write(res, pageAnswer());
      else this.#write(res, jsonAnswer(200, { ok: true, name: 'capi-kit-mock' }));
      return;
    }
    if (isPixelStubRoute(url.pathname)) {
      const answer = await pixelStubAnswer(req, url.pathname, method, (event) => {
        this.#recorder.addBrowserEvent(event);
        this.#feed.changed();
      });
      this.#write(res, answer);
      return;
    }
    if (url.pathname.startsWith('/_mock/')) {
      const refusal = controlRefusal(
        { method, host: req.headers.host, origin: req.headers.origin },
        this.#options.host ?? DEFAULT_HOST,
      );
      if (refusal) {
        this.#write(res, jsonAnswer(403, { ok: false, error: `Refused: ${refusal}.` }));
      } else if (url.pathname === '/_mock/stream' && method === 'GET') {
        this.#feed.stream(res);
      } else if (url.pathname === '/_mock/events-manager' && method === 'GET') {
        this.#write(res, this.#feed.answer(url.searchParams));
      } else {
        this.#write(res, await controlAnswer(this, req, url.pathname, method));
      }
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
    if (method === 'GET' && matchReadRoute(url.pathname)) {
      // Reads answer from the recorded events (when a pixel last fired, its dataset quality), and
      // the mock takes any token by default: a page whose name was pointed at 127.0.0.1 would read
      // them as same-origin. The events edge takes any Host (a proxy, a container's name).
      const refusal = hostRefusal(req.headers.host, this.#options.host ?? DEFAULT_HOST);
      if (refusal) {
        this.#write(res, jsonAnswer(403, { ok: false, error: `Refused: ${refusal}.` }));
        return;
      }
    }
    await this.#graph.handle(req, res, url, method, started);
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

// Meta's Graph API inside the mock server: the events edge, `POST /{version}/{pixelId}/events`,
// and the reads `capi-kit doctor` uses (graph-reads.ts), each request kept in `mock.requests()`.
// Every path the server routes nowhere else comes here and is answered the way Graph answers it.
// The events edge's checks run in Meta's order: path, method, scripted fault (faults.ts), then
// version, pixel, body size, token (auth.ts), body, and the payload (validate-events.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Answer, graphAnswer, jsonAnswer } from './answers.js';
import { DEFAULT_GRAPH_VERSION, retiredVersionAnswer } from './api-version.js';
import { checkCredentials, readCredentials } from './auth.js';
import type { DatasetQualityEvent } from './dataset-quality.js';
import { clipEventName, clippedName } from './event-name-limit.js';
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
import type { MockGraphOptions, RejectEventsOptions, RejectEventsPredicate } from './mock-graph.js';
import type { MockRequest, Recorder } from './recorder.js';
import { DEFAULT_MAX_BODY_BYTES, parseBody, readBody } from './request-body.js';
import { openRequest } from './request-lifecycle.js';
import {
  type EventRejectionRule,
  type InvalidEvent,
  unreadableBody,
  validatePayload,
} from './validate-events.js';

const EVENTS_PATH = /^\/([^/]+)\/([^/]+)\/events\/?$/;
const VERSION = /^v\d+\.\d$/;
const PIXEL_ID = /^\d+$/;

/** What the endpoint needs from the server that hosts it. */
export interface GraphHost {
  /** Where Meta's requests and events are kept (the Pixel stub's events too, written elsewhere). */
  recorder: Recorder;
  /** The server's options, read at each request. */
  options: Pick<
    MockGraphOptions,
    'accessToken' | 'appSecret' | 'maxBodyBytes' | 'maxFutureSeconds' | 'now' | 'onRequest'
  >;
  /** Tells the Events Manager page that something changed. */
  changed(): void;
  /** A delay the server's close() cuts short. */
  sleep(ms: number): Promise<void>;
  closing(): boolean;
  write(res: ServerResponse, answer: Answer): void;
}

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

/**
 * Records the answer on the request when it is decided (before any latency), and returns it
 * with Meta's `x-fb-trace-id` header repeating the body's `fbtrace_id`, plus `x-capi-kit-mock: 1`.
 */
const recordAnswer = (record: MockRequest, answer: Answer): Answer => {
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
};

/** Meta's endpoint: routing, checks, faults and recording for the Graph API's paths. */
export class GraphEndpoint {
  readonly #host: GraphHost;
  readonly #queue = new FaultQueue<MockFault>();
  /** Moves at every `reset()`/`clearEvents()`: a request that came in before keeps out of what follows. */
  #generation = 0;
  #outage: MockFault | undefined;
  #rejectRule: EventRejectionRule | undefined;
  #datasetQuality = new Map<string, DatasetQualityEvent[]>();

  constructor(host: GraphHost) {
    this.#host = host;
  }

  /** MockGraph.failNext. */
  failNext(fault: MockFaultInput, times = 1): void {
    this.#queue.push(normalizeFault(fault), times);
  }

  /** MockGraph.outage. */
  outage(fault: MockFaultInput): void {
    this.#outage = normalizeFault(fault);
  }

  /** MockGraph.recover. */
  recover(): void {
    this.#outage = undefined;
  }

  /** MockGraph.pendingFaults. */
  pendingFaults(): number {
    return this.#queue.size;
  }

  /** MockGraph.rejectEvents. */
  rejectEvents(predicate?: RejectEventsPredicate, options: RejectEventsOptions = {}): void {
    if (predicate === undefined) {
      this.#rejectRule = undefined;
      return;
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
  }

  /** MockGraph.setDatasetQuality. */
  setDatasetQuality(pixelId: string, web?: DatasetQualityEvent[]): void {
    if (web) this.#datasetQuality.set(pixelId, structuredClone(web));
    else this.#datasetQuality.delete(pixelId);
  }

  /** Forgets scripted dataset quality, queued faults, any outage and the rejectEvents rule. */
  reset(): void {
    this.#generation++;
    this.#datasetQuality.clear();
    this.#queue.clear();
    this.#outage = undefined;
    this.#rejectRule = undefined;
  }

  /** Keeps requests still arriving out of what the recorder holds next (the page's Clear button). */
  clearEvents(): void {
    this.#generation++;
  }

  /** Answers one request the server routes to Graph: a read, the events edge, or an unknown path. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    started: number,
  ): Promise<void> {
    const read = method === 'GET' ? matchReadRoute(url.pathname) : undefined;
    if (read) {
      this.#read(req, res, url, read, started);
      return;
    }
    const { recorder, options } = this.#host;

    const route = EVENTS_PATH.exec(url.pathname);
    const record: MockRequest = {
      index: recorder.nextRequestIndex(),
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
    // The events edge takes its fault on arrival (request-lifecycle.ts).
    const { fault, reset } = openRequest(record, res, {
      started,
      add: (r) => recorder.addRequest(r),
      faults: route && method === 'POST' ? { queue: this.#queue, outage: this.#outage } : undefined,
      onRequest: (r) => options.onRequest?.(r),
      changed: () => this.#host.changed(),
      closing: () => this.#host.closing(),
    });
    const generation = this.#generation;

    const raw = await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
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
          ? clipEventName((e as { event_name: string }).event_name)
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
      this.#host.write(res, recordAnswer(record, graphAnswer(notFound)));
      return;
    }
    if (method !== 'POST') {
      const unsupported = graphErrorAnswer(400, {
        message: `Unsupported ${method.toLowerCase()} request. The events edge only accepts POST.`,
        type: 'GraphMethodException',
        code: 100,
        is_transient: false,
      });
      this.#host.write(res, recordAnswer(record, graphAnswer(unsupported)));
      return;
    }

    let latency = 0;
    let eventsReceived: number | undefined;
    if (fault) {
      const action = answerForFault(fault, record.eventCount);
      if (action.action === 'hang') return; // res 'close' (client abort or close()) finishes the record
      if (action.action === 'reset') {
        await this.#host.sleep(faultLatency(fault));
        reset(req);
        return;
      }
      if (action.action === 'respond') {
        const answer = recordAnswer(record, action);
        await this.#host.sleep(faultLatency(fault));
        this.#host.write(res, answer);
        return;
      }
      if (action.action === 'acknowledge') {
        eventsReceived = action.eventsReceived ?? Math.max(0, record.eventCount - 1);
      }
      latency = faultLatency(fault);
    }

    const answer = recordAnswer(
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
    await this.#host.sleep(latency);
    this.#host.write(res, answer);
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
    const { recorder, options } = this.#host;
    const credentials = readCredentials(req.headers, url.searchParams, {});
    const record: MockRequest = {
      index: recorder.nextRequestIndex(),
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
    recorder.addRequest(record);
    const authError = checkCredentials(credentials, options);
    let result: Answer;
    if (authError) result = graphAnswer(authError);
    else {
      const read = answerRead(route, url.searchParams, {
        events: (filter) => recorder.events(filter),
        datasetQuality: (pixelId) => this.#datasetQuality.get(pixelId),
      });
      result = read.status === 200 ? jsonAnswer(200, read.value) : graphAnswer(read.error);
    }
    const answer = recordAnswer(record, result);
    answer.headers.date = new Date((options.now ?? Date.now)()).toUTCString();
    record.durationMs = Math.round((performance.now() - started) * 10) / 10;
    options.onRequest?.({ ...record });
    this.#host.write(res, answer);
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
    const { options } = this.#host;
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
    const retired = retiredVersionAnswer(version, (options.now ?? Date.now)());
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
          message: `Request body exceeds the mock's limit of ${options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes`,
          type: 'OAuthException',
          code: 100,
          is_transient: false,
        }),
      );
    }
    const authError = checkCredentials(credentials, options);
    if (authError) return graphAnswer(authError);
    if (!parsed.ok) return graphAnswer(unreadableBody(parsed.reason));

    const check = validatePayload(
      fields,
      {
        nowMs: (options.now ?? Date.now)(),
        maxFutureSeconds: options.maxFutureSeconds ?? 300,
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
      this.#host.recorder.addEvents(
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
    this.#host.recorder.addRejectedEvents(
      data.map((event: unknown, index) => ({
        pixelId,
        event: clippedName(
          typeof event === 'object' && event !== null && !Array.isArray(event) ? { ...event } : {},
          'event_name',
        ),
        receivedAt: record.receivedAt,
        requestIndex: record.index,
        invalidEvent,
        isInvalidOne: index === invalidEvent.index,
        message,
      })),
    );
  }
}

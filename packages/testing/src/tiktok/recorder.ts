import { BoundedLog } from '../bounded-log.js';
import { EventWaiters } from '../event-waiters.js';
import type { MockRecorderStats } from '../recorder.js';
import type { InvalidEvent } from '../validate-events.js';
import type { TikTokFaultKind } from './faults.js';
import type { TikTokWireEvent } from './validate-request.js';

/** One event TikTok's endpoint accepted, as the mock received it. */
export interface MockTikTokEvent {
  /** Always `'tiktok'`: tells these entries from Meta's where both are listed. */
  platform: 'tiktok';
  /** The request's `event_source_id` (TikTok pixel code). */
  pixelCode: string;
  /** The wire object exactly as sent. */
  event: TikTokWireEvent;
  /** When it arrived, epoch ms. */
  receivedAt: number;
  /** {@link MockTikTokRequest.index} of the request that carried it. */
  requestIndex: number;
  /** The request's `test_event_code`, when it had one. */
  testEventCode?: string;
}

/**
 * One browser event the mock's TikTok Pixel stub (`/i18n/pixel/events.js`) reported: what TikTok's
 * Pixel would send for `ttq.track(event, properties, { event_id })` or `ttq.page()`.
 */
export interface MockTikTokBrowserEvent {
  /** Always `'tiktok'`. */
  platform: 'tiktok';
  /** Always `'browser'`: the Pixel's copy, paired with the Events API's by `event` + `event_id`. */
  source: 'browser';
  /** The pixel code the call went to (`ttq.load(code)`, an instance, or `pixel_code`). */
  pixelCode: string;
  /** TikTok's event name (`Pageview` for `ttq.page()`). */
  event: string;
  /** The call's `event_id` option, the browser half of TikTok's dedup key. */
  event_id?: string;
  /** The `ttq` method: `track` or `page`. */
  method: 'track' | 'page';
  /** The call's properties object, as sent. */
  properties: Record<string, unknown>;
  /** The page's URL when the call was made. */
  page_url?: string;
  /** The browser's clock at the call, epoch seconds. */
  event_time: number;
  /**
   * Match keys by name only, as the Events API's `user` names them: `identify` keys (`email`,
   * `phone`, `external_id`), `ttclid` (URL or cookie), `ttp` (the `_ttp` cookie), `ip`, `user_agent`.
   */
  matchKeys: string[];
  /** When it arrived, epoch ms. */
  receivedAt: number;
}

/** One request to TikTok's endpoint (answered, hung or reset). The access token is never stored. */
export interface MockTikTokRequest {
  /** Always `'tiktok'`. */
  platform: 'tiktok';
  /** 0-based arrival order among TikTok requests. */
  index: number;
  /** HTTP method. */
  method: string;
  /** URL path without the query string. */
  path: string;
  /** `event_source_id` of the body, when it had a string one. */
  pixelCode?: string;
  /** HTTP status answered (set when decided); 0 for hang, reset, or not decided yet. */
  status: number;
  /** TikTok's `code` answered, when the answer was TikTok's envelope (0: success). */
  code?: number;
  /** TikTok's `message` answered (the rule broken, by path; never a value). */
  message?: string;
  /** `request_id` answered. */
  requestId?: string;
  /** Events in the body, accepted or not. */
  eventCount: number;
  /** `event` of each event in the body (missing names as `?`). */
  eventNames: string[];
  /** An `Access-Token` header was present (its value is never kept). */
  hasAccessToken: boolean;
  /** An `access_token` query parameter was present: a token in a URL leaks into logs. */
  tokenInUrl: boolean;
  /** The body had an `access_token` field (refused: the token goes only in the header). */
  tokenInBody: boolean;
  /** Body `test_event_code`. */
  testEventCode?: string;
  /** When it arrived, epoch ms. */
  receivedAt: number;
  /** Arrival to answer (or to connection close, for hang and reset). */
  durationMs: number;
  /** The scripted fault applied to it, if any. */
  fault?: TikTokFaultKind;
  /** The client closed the connection before the answer was sent. */
  clientAborted: boolean;
  /** Raw body of an answer that was not a success. */
  responseBody?: string;
  /** For validation errors: the first invalid event. */
  invalidEvent?: InvalidEvent;
}

/** An event of a batch TikTok's endpoint refused: the invalid one names the rule, the others went with it. */
export interface MockTikTokRejectedEvent {
  /** Always `'tiktok'`. */
  platform: 'tiktok';
  /** The request's `event_source_id`. */
  pixelCode: string;
  /** The event as sent (not validated). */
  event: Record<string, unknown>;
  /** When the batch arrived, epoch ms. */
  receivedAt: number;
  /** {@link MockTikTokRequest.index} of the refused request. */
  requestIndex: number;
  /** The rule this event broke, or for the others of the batch, the batch's first broken rule. */
  invalidEvent: InvalidEvent;
  /** Whether this event is the one that broke it. */
  isInvalidOne: boolean;
  /** The answer's message. */
  message: string;
}

/** Narrows TikTok events to one pixel code and/or one event name. */
export interface MockTikTokEventFilter {
  pixelCode?: string;
  /** TikTok's event name (`Purchase`, `Lead`…). */
  event?: string;
}

/** Options of {@link MockTikTok.waitForEvents}. */
export interface WaitForTikTokEventsOptions extends MockTikTokEventFilter {
  /** Give up after this long; default 2000 ms. */
  timeoutMs?: number;
}

/** Events accepted more than once with the same (`pixelCode`, `event`, `event_id`). */
export interface MockTikTokDuplicate {
  pixelCode: string;
  event: string;
  event_id: string;
  /** How many times it was accepted. */
  count: number;
}

const matches = (e: MockTikTokEvent, filter: MockTikTokEventFilter | undefined): boolean =>
  (filter?.pixelCode === undefined || e.pixelCode === filter.pixelCode) &&
  (filter?.event === undefined || e.event.event === filter.event);

/** Keeps what TikTok's endpoint saw, the newest `maxEvents` of each kind, and wakes up `waitForEvents` callers. */
export class TikTokRecorder {
  readonly #events: BoundedLog<MockTikTokEvent>;
  readonly #rejected: BoundedLog<MockTikTokRejectedEvent>;
  readonly #requests: BoundedLog<MockTikTokRequest>;
  readonly #browser: BoundedLog<MockTikTokBrowserEvent>;
  readonly #waiters = new EventWaiters<MockTikTokEvent, MockTikTokEventFilter>((filter) =>
    this.events(filter),
  );
  #nextIndex = 0;

  constructor(maxEvents: number) {
    this.#events = new BoundedLog(maxEvents);
    this.#rejected = new BoundedLog(maxEvents);
    this.#requests = new BoundedLog(maxEvents);
    this.#browser = new BoundedLog(maxEvents);
  }

  /** The stored records themselves, for the Events Manager view only (see Recorder.stored). */
  stored(): {
    events: readonly MockTikTokEvent[];
    browserEvents: readonly MockTikTokBrowserEvent[];
    rejectedEvents: readonly MockTikTokRejectedEvent[];
  } {
    return {
      events: this.#events.values(),
      browserEvents: this.#browser.values(),
      rejectedEvents: this.#rejected.values(),
    };
  }

  stats(): MockRecorderStats {
    return {
      kept: {
        events: this.#events.size,
        browserEvents: this.#browser.size,
        rejectedEvents: this.#rejected.size,
        requests: this.#requests.size,
      },
      evicted: {
        events: this.#events.evicted,
        browserEvents: this.#browser.evicted,
        rejectedEvents: this.#rejected.evicted,
        requests: this.#requests.evicted,
      },
    };
  }

  nextRequestIndex(): number {
    return this.#nextIndex++;
  }

  addRequest(request: MockTikTokRequest): void {
    this.#requests.push(request);
  }

  addEvents(events: MockTikTokEvent[]): void {
    this.#events.push(...events);
    this.#waiters.notify();
  }

  addRejectedEvents(events: MockTikTokRejectedEvent[]): void {
    this.#rejected.push(...events);
  }

  addBrowserEvent(event: MockTikTokBrowserEvent): void {
    this.#browser.push(event);
  }

  browserEvents(filter?: MockTikTokEventFilter): MockTikTokBrowserEvent[] {
    return this.#browser
      .values()
      .filter(
        (e) =>
          (filter?.pixelCode === undefined || e.pixelCode === filter.pixelCode) &&
          (filter?.event === undefined || e.event === filter.event),
      )
      .map((e) => ({ ...e, properties: { ...e.properties }, matchKeys: [...e.matchKeys] }));
  }

  rejectedEvents(): MockTikTokRejectedEvent[] {
    return this.#rejected.values().map((e) => ({ ...e }));
  }

  events(filter?: MockTikTokEventFilter): MockTikTokEvent[] {
    return this.#events
      .values()
      .filter((e) => matches(e, filter))
      .map((e) => ({ ...e }));
  }

  requests(): MockTikTokRequest[] {
    return this.#requests.values().map((r) => ({ ...r }));
  }

  /** Requests not answered with TikTok's success (code 0): errors, faults, hung and reset ones. */
  rejections(): MockTikTokRequest[] {
    return this.requests().filter(
      (r) => (r.status !== 0 && r.code !== 0) || (r.status === 0 && r.fault !== undefined),
    );
  }

  duplicates(): MockTikTokDuplicate[] {
    const counts = new Map<string, MockTikTokDuplicate>();
    for (const { pixelCode, event } of this.#events) {
      if (typeof event.event_id !== 'string') continue;
      const key = JSON.stringify([pixelCode, event.event, event.event_id]);
      const seen = counts.get(key);
      if (seen) seen.count++;
      else counts.set(key, { pixelCode, event: event.event, event_id: event.event_id, count: 1 });
    }
    return [...counts.values()].filter((d) => d.count > 1);
  }

  waitForEvents(
    count: number,
    options: WaitForTikTokEventsOptions = {},
  ): Promise<MockTikTokEvent[]> {
    const { timeoutMs = 2000, ...filter } = options;
    return this.#waiters.wait(count, filter, timeoutMs, (n, f, ms) =>
      this.#timeoutMessage(n, f, ms),
    );
  }

  /** Rejects pending waiters (the mock is closing). */
  abandonWaiters(reason: string): void {
    this.#waiters.abandon(reason);
  }

  /** Forgets events (server and browser) and requests (not the waiters: a test may be waiting across a clear). */
  reset(): void {
    this.#events.clear();
    this.#rejected.clear();
    this.#requests.clear();
    this.#browser.clear();
    this.#nextIndex = 0;
  }

  #timeoutMessage(count: number, filter: MockTikTokEventFilter, timeoutMs: number): string {
    const which = [
      filter.pixelCode === undefined ? '' : ` for pixel ${filter.pixelCode}`,
      filter.event === undefined ? '' : ` named ${filter.event}`,
    ].join('');
    const rejected = this.rejections();
    const last = rejected.at(-1);
    const lastWhy = last
      ? `; last rejection: HTTP ${last.status}${last.fault ? ` (fault ${last.fault})` : ''}${
          last.code === undefined ? '' : ` code ${last.code}: ${last.message ?? ''}`
        }`
      : '';
    return `tiktok.waitForEvents: expected at least ${count} accepted TikTok event(s)${which} within ${timeoutMs} ms, got ${this.events(filter).length} (${this.#requests.size} request(s), ${rejected.length} rejected${lastWhy})`;
  }
}

import type { TokenSource } from './auth.js';
import { BoundedLog } from './bounded-log.js';
import { EventWaiters } from './event-waiters.js';
import type { MockFaultKind } from './faults.js';
import type { GraphError } from './graph-error.js';
import type { InvalidEvent, MockWireEvent } from './validate-events.js';

/** One accepted event, as the mock received it. */
export interface MockEvent {
  /** Pixel (dataset) id from the URL. */
  pixelId: string;
  /** Graph API version from the URL, e.g. `v26.0`. */
  version: string;
  /** The parsed wire object exactly as sent. */
  event: MockWireEvent;
  /** When it arrived, epoch ms. */
  receivedAt: number;
  /** {@link MockRequest.index} of the request that carried it. */
  requestIndex: number;
  /** The request's `test_event_code`, when it had one. */
  testEventCode?: string;
}

/** One request the mock answered (or hung, or reset). The access token itself is never stored. */
export interface MockRequest {
  /** 0-based arrival order. */
  index: number;
  /** HTTP method. */
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Pixel id from the URL, when the path had the events shape. */
  pixelId?: string;
  /** API version from the URL, when the path had the events shape. */
  version?: string;
  /** HTTP status answered (set once decided, before any latency); 0 for hang, reset, or not decided yet. */
  status: number;
  /** Events in the body, accepted or not. */
  eventCount: number;
  /** `event_name` of each event in the body (missing names as `?`). */
  eventNames: string[];
  /** The token was sent as an `access_token` query parameter (our client never should). */
  tokenInUrl: boolean;
  /** Where a token was found: body, `Authorization` header, query string. */
  tokenSources: TokenSource[];
  /** An `Authorization` header was present. */
  hasAuthorizationHeader: boolean;
  /** Body `partner_agent`. */
  partnerAgent?: string;
  /** `test_event_code` of the body, else of the query string. */
  testEventCode?: string;
  /** When it arrived, epoch ms. */
  receivedAt: number;
  /** Arrival to answer (or to connection close, for hang and reset). */
  durationMs: number;
  /** The scripted fault applied to it, if any. */
  fault?: MockFaultKind;
  /** The client closed the connection before the answer was sent. */
  clientAborted: boolean;
  /** The Graph error object answered, when the answer was Graph-shaped. */
  error?: GraphError;
  /** Raw body of a non-200 answer, or of a faulted 2xx (a portal's page, a short acknowledgement). */
  responseBody?: string;
  /** For validation errors: the first invalid event. */
  invalidEvent?: InvalidEvent;
}

/**
 * One browser event the mock's Pixel stub (`/fbevents.js`) reported to `POST /tr`: what Meta's
 * Pixel would send for an `fbq('track'|'trackCustom', name, data, { eventID })` call.
 */
export interface MockBrowserEvent {
  /** Pixel (dataset) id of the `fbq('init')` the call went to. */
  pixelId: string;
  /** The Pixel event name. */
  event_name: string;
  /** The call's `eventID` option, the browser half of Meta's dedup key. */
  event_id?: string;
  /** The `fbq` method: `track`, `trackCustom`, `trackSingle` or `trackSingleCustom`. */
  method: string;
  /** The call's parameters object, as sent. */
  custom_data: Record<string, unknown>;
  /** The page's URL when the call was made. */
  event_source_url?: string;
  /** The browser's clock at the call, epoch seconds (the Pixel's own event time). */
  event_time: number;
  /**
   * The match keys Meta's Pixel would attach, by name only (never a value): Advanced Matching keys
   * given to `fbq('init')`, `fbp`/`fbc` when the cookies exist, and the request's IP and user agent.
   */
  matchKeys: string[];
  /** When it arrived, epoch ms. */
  receivedAt: number;
}

/** An event of a batch the mock refused: the invalid one names the rule, the others went with it. */
export interface MockRejectedEvent {
  /** Pixel (dataset) id from the URL. */
  pixelId: string;
  /** The event as sent (not validated: any field may be missing or malformed). */
  event: Record<string, unknown>;
  /** When the batch arrived, epoch ms. */
  receivedAt: number;
  /** {@link MockRequest.index} of the refused request. */
  requestIndex: number;
  /** The rule this event broke, or for the others of the batch, the batch's first broken rule. */
  invalidEvent: InvalidEvent;
  /** Whether this event is the one that broke it (Meta refuses the whole batch for one event). */
  isInvalidOne: boolean;
  /** Meta's error message for the batch. */
  message: string;
}

/** Events received more than once with the same (`pixelId`, `event_name`, `event_id`). */
export interface MockDuplicate {
  pixelId: string;
  event_name: string;
  event_id: string;
  /** How many times it was accepted. */
  count: number;
}

/** Narrows {@link MockGraph.events} to one pixel and/or one event name. */
export interface MockEventFilter {
  pixelId?: string;
  event_name?: string;
}

/** Options of {@link MockGraph.waitForEvents}. */
export interface WaitForEventsOptions extends MockEventFilter {
  /** Give up after this long; default 2000 ms. */
  timeoutMs?: number;
}

const matches = (e: MockEvent, filter: MockEventFilter | undefined): boolean =>
  (filter?.pixelId === undefined || e.pixelId === filter.pixelId) &&
  (filter?.event_name === undefined || e.event.event_name === filter.event_name);

/** How many records of each kind: kept now, or let go to stay within `maxEvents`. */
export interface MockRecordCounts {
  /** Accepted server events. */
  events: number;
  /** Browser events from the Pixel stub. */
  browserEvents: number;
  /** Events of refused batches. */
  rejectedEvents: number;
  /** Requests. */
  requests: number;
}

/** What a recorder holds and what it let go (the oldest first) since the last reset or clear. */
export interface MockRecorderStats {
  kept: MockRecordCounts;
  evicted: MockRecordCounts;
}

/** Keeps what the mock saw, the newest `maxEvents` of each kind, and wakes up `waitForEvents` callers. */
export class Recorder {
  readonly #events: BoundedLog<MockEvent>;
  readonly #browserEvents: BoundedLog<MockBrowserEvent>;
  readonly #rejectedEvents: BoundedLog<MockRejectedEvent>;
  readonly #requests: BoundedLog<MockRequest>;
  readonly #waiters = new EventWaiters<MockEvent, MockEventFilter>((filter) => this.events(filter));
  #nextIndex = 0;

  constructor(maxEvents: number) {
    this.#events = new BoundedLog(maxEvents);
    this.#browserEvents = new BoundedLog(maxEvents);
    this.#rejectedEvents = new BoundedLog(maxEvents);
    this.#requests = new BoundedLog(maxEvents);
  }

  /**
   * The stored records themselves, not copies, for the Events Manager view only: it builds each
   * record's page copy once, keyed on the record (events-manager-view.ts). Never handed to users.
   */
  stored(): {
    events: readonly MockEvent[];
    browserEvents: readonly MockBrowserEvent[];
    rejectedEvents: readonly MockRejectedEvent[];
  } {
    return {
      events: this.#events.values(),
      browserEvents: this.#browserEvents.values(),
      rejectedEvents: this.#rejectedEvents.values(),
    };
  }

  stats(): MockRecorderStats {
    return {
      kept: {
        events: this.#events.size,
        browserEvents: this.#browserEvents.size,
        rejectedEvents: this.#rejectedEvents.size,
        requests: this.#requests.size,
      },
      evicted: {
        events: this.#events.evicted,
        browserEvents: this.#browserEvents.evicted,
        rejectedEvents: this.#rejectedEvents.evicted,
        requests: this.#requests.evicted,
      },
    };
  }

  nextRequestIndex(): number {
    return this.#nextIndex++;
  }

  addRequest(request: MockRequest): void {
    this.#requests.push(request);
  }

  addEvents(events: MockEvent[]): void {
    this.#events.push(...events);
    this.#waiters.notify();
  }

  addBrowserEvent(event: MockBrowserEvent): void {
    this.#browserEvents.push(event);
  }

  browserEvents(filter?: MockEventFilter): MockBrowserEvent[] {
    return this.#browserEvents
      .values()
      .filter(
        (e) =>
          (filter?.pixelId === undefined || e.pixelId === filter.pixelId) &&
          (filter?.event_name === undefined || e.event_name === filter.event_name),
      )
      .map((e) => ({ ...e }));
  }

  addRejectedEvents(events: MockRejectedEvent[]): void {
    this.#rejectedEvents.push(...events);
  }

  rejectedEvents(): MockRejectedEvent[] {
    return this.#rejectedEvents.values().map((e) => ({ ...e }));
  }

  events(filter?: MockEventFilter): MockEvent[] {
    return this.#events
      .values()
      .filter((e) => matches(e, filter))
      .map((e) => ({ ...e }));
  }

  requests(): MockRequest[] {
    return this.#requests.values().map((r) => ({ ...r }));
  }

  rejections(): MockRequest[] {
    // Status 0 without a fault is a request still being processed, not a rejection. A 2xx that
    // is not Meta's acknowledgement, or acknowledges only part of the events, is one.
    return this.requests().filter(
      (r) =>
        (r.status !== 200 && (r.status !== 0 || r.fault !== undefined)) ||
        r.fault === 'non-meta-2xx' ||
        r.fault === 'short-ack',
    );
  }

  duplicates(): MockDuplicate[] {
    const counts = new Map<string, MockDuplicate>();
    for (const { pixelId, event } of this.#events) {
      if (typeof event.event_id !== 'string') continue;
      const key = JSON.stringify([pixelId, event.event_name, event.event_id]);
      const seen = counts.get(key);
      if (seen) seen.count++;
      else
        counts.set(key, {
          pixelId,
          event_name: event.event_name,
          event_id: event.event_id,
          count: 1,
        });
    }
    return [...counts.values()].filter((d) => d.count > 1);
  }

  uniqueEventIds(): string[] {
    const ids = new Set<string>();
    for (const { event } of this.#events) {
      if (typeof event.event_id === 'string') ids.add(event.event_id);
    }
    return [...ids];
  }

  waitForEvents(count: number, options: WaitForEventsOptions = {}): Promise<MockEvent[]> {
    const { timeoutMs = 2000, ...filter } = options;
    return this.#waiters.wait(count, filter, timeoutMs, (n, f, ms) =>
      this.#timeoutMessage(n, f, ms),
    );
  }

  /** Rejects pending waiters (the mock is closing). */
  abandonWaiters(reason: string): void {
    this.#waiters.abandon(reason);
  }

  reset(): void {
    this.#events.clear();
    this.#browserEvents.clear();
    this.#rejectedEvents.clear();
    this.#requests.clear();
    this.#nextIndex = 0;
  }

  /** Says what did arrive, so a failing test explains itself without extra logging. */
  #timeoutMessage(count: number, filter: MockEventFilter, timeoutMs: number): string {
    const which = [
      filter.pixelId === undefined ? '' : ` for pixel ${filter.pixelId}`,
      filter.event_name === undefined ? '' : ` named ${filter.event_name}`,
    ].join('');
    const got = this.events(filter).length;
    const rejected = this.rejections();
    const last = rejected.at(-1);
    const lastWhy = last
      ? `; last rejection: HTTP ${last.status}${last.fault ? ` (fault ${last.fault})` : ''}${
          last.error
            ? ` ${last.error.code}: ${last.error.error_user_msg ?? last.error.message}`
            : ''
        }`
      : '';
    return `waitForEvents: expected at least ${count} accepted event(s)${which} within ${timeoutMs} ms, got ${got} (${this.#requests.size} request(s), ${rejected.length} rejected${lastWhy})`;
  }
}

// What the open Events Manager pages (events-manager-page.ts) read from the server: a change
// counter streamed at `GET /_mock/stream` (Server-Sent Events), which tells a page to fetch again,
// and the view itself (events-manager-view.ts) at `GET /_mock/events-manager`, built from Meta's
// and TikTok's records. Several open pages, and a refetch after the page's own Clear, ask for the
// same view: it is built again only when something was recorded or cleared since.
import type { ServerResponse } from 'node:http';
import { type Answer, jsonAnswer } from './answers.js';
import type { EventsManagerSource } from './events-manager-copy.js';
import {
  buildEventsManagerView,
  type EventsManagerFilter,
  type EventsManagerView,
} from './events-manager-view.js';
import type { MockRecorderStats, Recorder } from './recorder.js';
import type { TikTokEndpoint } from './tiktok/endpoint.js';

/** A view built this fast is built again at once. */
const QUICK_BUILD_MS = 5;
/** Filters whose last answer is kept (the pages open at once, each with its own filter). */
const KEPT_ANSWERS = 16;

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

/** The records the page shows: Meta's recorder and TikTok's endpoint, and the `maxEvents` they keep. */
export interface EventsManagerRecords {
  meta: Pick<Recorder, 'stored' | 'stats'>;
  tiktok: Pick<TikTokEndpoint, 'stored' | 'stats'>;
  maxEvents: number;
}

/** The Events Manager page's data and change stream. */
export class EventsManagerFeed {
  readonly #records: EventsManagerRecords;
  /** Moves with every change the Events Manager page shows; streamed to `/_mock/stream`. */
  #version = 0;
  /** Each open stream: the version it was last sent, and whether that write is still queued. */
  #streams = new Map<ServerResponse, { sent: number; flushing: boolean }>();
  /**
   * The last `GET /_mock/events-manager` answer of each filter (the newest few): the same state
   * and filter are not computed twice, and a page asking between two paced rebuilds gets its own.
   */
  #viewAnswers = new Map<string, { state: string; answer: Answer }>();
  /** When the last view was built and how long it took, epoch ms: rebuilds are paced on it. */
  #lastBuild = { endedAt: 0, took: 0 };

  constructor(records: EventsManagerRecords) {
    this.#records = records;
  }

  /** MockGraph.eventsManager: what the page shows. */
  view(filter?: EventsManagerFilter): EventsManagerView {
    // The stored records: the view builds each one's copy once, not at every page refresh.
    const tiktok = this.#records.tiktok.stored();
    return buildEventsManagerView(
      {
        ...this.#records.meta.stored(),
        tiktokEvents: tiktok.events,
        tiktokBrowserEvents: tiktok.browserEvents,
        tiktokRejectedEvents: tiktok.rejectedEvents,
        version: this.#version,
        now: Date.now(),
        maxEvents: this.#records.maxEvents,
        evicted: this.#evictedEvents(),
      },
      filter,
    );
  }

  /** Tells the open Events Manager pages that what they show changed. */
  changed(): void {
    this.#version++;
    for (const [stream, state] of this.#streams) this.#announce(stream, state);
  }

  /** `GET /_mock/stream`: Server-Sent Events, one `data: <version>` per change. */
  stream(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const state = { sent: this.#version, flushing: true };
    this.#streams.set(res, state);
    res.on('close', () => this.#streams.delete(res));
    res.write(`retry: 2000\ndata: ${this.#version}\n\n`, () => this.#flushed(res, state));
  }

  /**
   * Sends a stream the current version, unless its last write is still queued: a page that stops
   * reading (a tab in the background, a client that never reads) would otherwise have every
   * change buffered for it without bound. A page needs only the newest version, so one write is
   * in flight per stream and the changes meanwhile are told as one once it is flushed.
   */
  #announce(res: ServerResponse, state: { sent: number; flushing: boolean }): void {
    if (state.flushing || state.sent === this.#version || res.destroyed || res.writableEnded) {
      return;
    }
    state.flushing = true;
    state.sent = this.#version;
    res.write(`data: ${this.#version}\n\n`, () => this.#flushed(res, state));
  }

  #flushed(res: ServerResponse, state: { sent: number; flushing: boolean }): void {
    state.flushing = false;
    this.#announce(res, state);
  }

  /**
   * `GET /_mock/events-manager`: the page's data as JSON, computed again only when something was
   * recorded or cleared since the last answer, or the filter differs. Answers with a `limit` only,
   * as the page asks.
   */
  answer(query: URLSearchParams): Answer {
    const filter = viewFilter(query);
    // Only a page of rows is kept: an answer with every row of a full mock can be tens of MB.
    if (filter.limit === undefined) return jsonAnswer(200, this.view(filter));
    let recorded = 0;
    for (const { kept, evicted } of this.#stats()) {
      recorded += kept.events + kept.browserEvents + kept.rejectedEvents;
      recorded += evicted.events + evicted.browserEvents + evicted.rejectedEvents;
    }
    // #version moves at every clear, the count at every record: together they name the state.
    const state = JSON.stringify([this.#version, recorded]);
    const key = JSON.stringify(filter);
    const last = this.#viewAnswers.get(key);
    if (last?.state === state) return last.answer;
    // Every open page refetches at every change, each with its own filter: rebuilt for each in
    // turn, the view took all the mock's time from the app under load. A rebuild waits four times
    // what the last one took (a quick one, none), and meanwhile a page gets its last view, whose
    // older version tells it to ask again.
    const now = Date.now();
    const { endedAt, took } = this.#lastBuild;
    if (last !== undefined && took >= QUICK_BUILD_MS && now < endedAt + 4 * took) {
      return last.answer;
    }
    const answer = jsonAnswer(200, this.view(filter));
    this.#lastBuild = { endedAt: Date.now(), took: Date.now() - now };
    this.#viewAnswers.delete(key);
    this.#viewAnswers.set(key, { state, answer });
    for (const old of this.#viewAnswers.keys()) {
      if (this.#viewAnswers.size <= KEPT_ANSWERS) break;
      this.#viewAnswers.delete(old);
    }
    return answer;
  }

  #stats(): MockRecorderStats[] {
    return [this.#records.meta.stats(), this.#records.tiktok.stats()];
  }

  /** Events (server, browser, refused; Meta's and TikTok's) let go to stay within maxEvents. */
  #evictedEvents(): number {
    let total = 0;
    for (const { evicted } of this.#stats()) {
      total += evicted.events + evicted.browserEvents + evicted.rejectedEvents;
    }
    return total;
  }
}

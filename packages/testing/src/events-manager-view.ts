// What the Events Manager page (events-manager-page.ts) shows, computed on the server so tests
// and the CLI read the same figures at `GET /_mock/events-manager`. Meta's own page is the Test
// Events tab; the dedup rule is Meta's: a browser and a server event with the same event_name and
// event_id count once (https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events).
// TikTok's is the same rule on its own copies (pixel code, `event`, `event_id`:
// https://ads.tiktok.com/help/article/event-deduplication), so the two platforms never share a row.
// Each copy is shaped in events-manager-copy.ts.
import { DEFAULT_MAX_EVENTS } from './bounded-log.js';
import {
  browserCopy,
  type EventsManagerCopy,
  type EventsManagerSource,
  rejectedCopy,
  serverCopy,
} from './events-manager-copy.js';
import {
  tiktokBrowserCopy,
  tiktokRejectedCopy,
  tiktokServerCopy,
} from './events-manager-tiktok.js';
import type { MockBrowserEvent, MockEvent, MockRejectedEvent } from './recorder.js';
import type {
  MockTikTokBrowserEvent,
  MockTikTokEvent,
  MockTikTokRejectedEvent,
} from './tiktok/recorder.js';

/** Dedup state of a row: both copies, one of them, or refused. */
export type EventsManagerDedup = 'deduplicated' | 'server-only' | 'browser-only' | 'rejected';

/** One row: every copy sharing a pixel, `event_name` and `event_id`, the way Meta counts them. */
export interface EventsManagerRow {
  /** Stable identifier of the row. */
  id: string;
  /** Pixel (dataset) id. */
  pixelId: string;
  /** Event name (attacker-controlled text: escape it). */
  eventName: string;
  /** The shared `event_id`, or null (an event without one is its own row). */
  eventId: string | null;
  /** Arrival of the newest copy, epoch ms (rows are sorted on it, newest first). */
  receivedAt: number;
  /** Deduplicated (browser + server), one side only, or refused by validation. */
  dedup: EventsManagerDedup;
  /**
   * Why a one-sided row deserves a look: the other copy was expected because this event name also
   * arrives from the other source, or the event has no `event_id` to pair on. Absent otherwise.
   */
  flag?: string;
  /** Copies, newest first; several server copies are retries Meta also counts once. */
  copies: EventsManagerCopy[];
  /** `'tiktok'` for TikTok's events (pixel code, TikTok event name); absent for Meta's. */
  platform?: 'tiktok';
}

/** A freshness bucket: events whose delay is at most `maxSeconds` (null: the rest). */
export interface FreshnessBucket {
  /** Bucket label, e.g. `≤ 1 min`. */
  label: string;
  /** Upper bound in seconds, null for the last bucket. */
  maxSeconds: number | null;
  /** Server copies in it. */
  count: number;
}

/** The figures of one event name of one pixel. */
export interface EventsManagerSummary {
  /** Pixel (dataset) id. */
  pixelId: string;
  /** Event name. */
  eventName: string;
  /** Server events received: a row's retried copies count once, in {@link EventsManagerSummary.retriesDeduplicated}. */
  server: number;
  /**
   * Server copies of an event already received (same `event_name` + `event_id` within 48 h, such
   * as a retry after a lost answer): deduplicated, as Meta and TikTok discard them.
   */
  retriesDeduplicated: number;
  /** Browser copies. */
  browser: number;
  /** Refused server copies. */
  rejected: number;
  /** Rows with both copies. */
  deduplicated: number;
  /** `'tiktok'` for a TikTok pixel's event name; absent for Meta's. */
  platform?: 'tiktok';
  /** Mean local estimate (0–10, one decimal) over accepted web (`website`) server copies, as `client.diagnostics()`; null without any (always for TikTok). */
  matchQuality: number | null;
  /** Share (%) of browser copies whose `event_id` also came from the server; null without browser copies. */
  dedupCoverage: number | null;
  /** Server events' delay from `event_time` to arrival (a row's first server copy). */
  freshness: { p50Seconds: number | null; buckets: FreshnessBucket[] };
}

/** What the page shows, as `GET /_mock/events-manager` answers it. */
export interface EventsManagerView {
  /** When it was computed, epoch ms. */
  generatedAt: number;
  /** Changes with every recorded event; the page refetches when it moves. */
  version: number;
  /** Pixel ids seen, sorted. */
  pixels: string[];
  /**
   * Event names seen, sorted. With a `limit`, the {@link EVENT_NAME_LIMIT} received last and the
   * filter's own: any web page can send names by the thousand.
   */
  eventNames: string[];
  /** Event names in all, before `limit` cut {@link EventsManagerView.eventNames}. */
  totalEventNames: number;
  /** Rows, newest first (the newest `limit` after `offset` when the filter has them). */
  rows: EventsManagerRow[];
  /** Rows matching the filter before `limit` cut them. */
  totalRows: number;
  /**
   * One entry per pixel and event name, sorted by pixel then name. With a `limit`, those of the
   * {@link SUMMARY_LIMIT} names received last: any web page can send names by the thousand.
   */
  summaries: EventsManagerSummary[];
  /** Pixel and event names in all, before `limit` cut the summaries. */
  totalSummaries: number;
  /** The estimate's target: capi-kit's diagnostics warn below it (Meta's advice: at least 6.0). */
  matchQualityTarget: number;
  /** Meta's event coverage goal (%), the dedup coverage chart's mark. */
  coverageGoal: number;
  /** Records of each kind the mock keeps at most (its `maxEvents` option). */
  maxEvents: number;
  /** Events (server, browser, refused) let go, the oldest first, to stay within `maxEvents`: not in these figures. */
  evicted: number;
}

/** Narrows the view to one pixel, event name and/or source. */
export interface EventsManagerFilter {
  pixelId?: string;
  event_name?: string;
  source?: EventsManagerSource;
  /**
   * At most this many rows, the newest (summaries still count every event), and the summaries of
   * the {@link SUMMARY_LIMIT} event names received last.
   */
  limit?: number;
  /** Skip this many of the newest rows first: with `limit`, a page of rows (`totalRows` tells how many in all). */
  offset?: number;
}

const FRESHNESS_LIMITS: readonly [string, number | null][] = [
  ['≤ 10 s', 10],
  ['≤ 1 min', 60],
  ['≤ 10 min', 600],
  ['≤ 1 h', 3600],
  ['≤ 1 day', 86_400],
  ['> 1 day', null],
];
/** Summaries in a view with a `limit`: the page draws one card each. */
export const SUMMARY_LIMIT = 100;
/** Event names in a view with a `limit`: the page's filter lists each. */
export const EVENT_NAME_LIMIT = 1000;
/** capi-kit's diagnostics threshold (DEFAULT_DIAGNOSTICS_THRESHOLDS.matchQuality) and Meta's advice. */
const MATCH_QUALITY_TARGET = 6;
/** `event_coverage.goal_percentage` in Meta's Dataset Quality API example (capi.md §6). */
const COVERAGE_GOAL = 75;
const percentile50 = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? null;
};

/** The recorded events the page shows. */
export interface EventsManagerInput {
  /** Accepted server events. */
  events: readonly MockEvent[];
  /** Browser events from the Pixel stub. */
  browserEvents: readonly MockBrowserEvent[];
  /** Events of refused batches. */
  rejectedEvents: readonly MockRejectedEvent[];
  /** Events TikTok's endpoint accepted. */
  tiktokEvents?: readonly MockTikTokEvent[];
  /** Browser events from the TikTok Pixel stub. */
  tiktokBrowserEvents?: readonly MockTikTokBrowserEvent[];
  /** Events of batches TikTok's endpoint refused. */
  tiktokRejectedEvents?: readonly MockTikTokRejectedEvent[];
  /** The view's version (a change counter). */
  version: number;
  /** Clock, epoch ms. */
  now: number;
  /** The mock's `maxEvents`; default {@link DEFAULT_MAX_EVENTS}. */
  maxEvents?: number;
  /** Events let go to stay within it; default 0. */
  evicted?: number;
}

interface Group {
  row: EventsManagerRow;
  server: number;
  browser: number;
  /** Arrival of its first copy, epoch ms: the start of its dedup window. */
  firstAt: number;
}

/**
 * Each record's copy, built once: the page refetches the view at every change, and building all
 * the copies again (match keys, estimate, custom_data summary) made each refresh O(n) in that work
 * (over a second at 60k events, with the mock's event loop blocked meanwhile). A record never
 * changes once stored; its copy is frozen, as it is shared by every view that shows it.
 */
const builtCopies = new WeakMap<object, EventsManagerCopy>();
const copyOnce = <T extends object>(
  record: T,
  build: (record: T) => EventsManagerCopy,
): EventsManagerCopy => {
  let copy = builtCopies.get(record);
  if (copy === undefined) {
    copy = deepFreeze(build(record));
    builtCopies.set(record, copy);
  }
  return copy;
};

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
};

/** Meta discards a duplicate within 48 h of the first event with its id ([DD], capi.md §6). */
const DEDUP_WINDOW_MS = 48 * 3600 * 1000;

/**
 * Groups the copies into rows (pixel + `event_name` + `event_id`, Meta's dedup key) and computes
 * the per-event-name figures.
 */
export const buildEventsManagerView = (
  input: EventsManagerInput,
  filter: EventsManagerFilter = {},
): EventsManagerView => {
  const keep = (pixelId: string, name: unknown): boolean =>
    (filter.pixelId === undefined || pixelId === filter.pixelId) &&
    (filter.event_name === undefined || name === filter.event_name);
  const pixels = new Set<string>();
  /** Each event name and when it last arrived, epoch ms. */
  const names = new Map<string, number>();
  const note = (pixelId: string, name: unknown, receivedAt: number) => {
    pixels.add(pixelId);
    // A refused event without a name is shown as such; '' in the filter's list means every name.
    if (typeof name === 'string' && name !== '') {
      names.set(name, Math.max(names.get(name) ?? receivedAt, receivedAt));
    }
  };

  const groups = new Map<string, Group>();
  /** The group a dedup key pairs into now, and how many windows it had. */
  const slots = new Map<string, { key: string; count: number }>();
  let loose = 0;
  const place = (
    pixelId: string,
    eventName: string,
    eventId: string | undefined,
    copy: EventsManagerCopy,
  ) => {
    // TikTok's events pair only among themselves (Pixel with Events API, on pixel code, event and
    // event_id): another platform, another dedup.
    const dedupKey =
      eventId === undefined
        ? `${copy.source}:${loose++}`
        : JSON.stringify(
            copy.platform === undefined
              ? [pixelId, eventName, eventId]
              : [copy.platform, pixelId, eventName, eventId],
          );
    let slot = slots.get(dedupKey);
    let group = slot === undefined ? undefined : groups.get(slot.key);
    // [DD]: duplicates are discarded within 48 h of the first event with that id; a copy after
    // that is counted again, so it opens a row of its own (copies are placed oldest first).
    if (slot !== undefined && group && copy.receivedAt - group.firstAt > DEDUP_WINDOW_MS) {
      slot.count++;
      slot.key = `${dedupKey}#${slot.count}`;
      group = undefined;
    }
    if (slot === undefined) {
      slot = { key: dedupKey, count: 1 };
      slots.set(dedupKey, slot);
    }
    const key = slot.key;
    if (!group) {
      group = {
        row: {
          id: key,
          pixelId,
          eventName,
          eventId: eventId ?? null,
          receivedAt: copy.receivedAt,
          dedup: copy.source === 'server' ? 'server-only' : 'browser-only',
          copies: [],
          ...(copy.platform === undefined ? {} : { platform: copy.platform }),
        },
        server: 0,
        browser: 0,
        firstAt: copy.receivedAt,
      };
      groups.set(key, group);
    }
    group.row.copies.push(copy);
    group.row.receivedAt = Math.max(group.row.receivedAt, copy.receivedAt);
    if (copy.source === 'server') group.server++;
    else group.browser++;
  };

  // Every copy is placed oldest first, across sources, so each dedup window starts at its first copy.
  const arrivals: [string, string, string | undefined, EventsManagerCopy][] = [];
  const arrive = (
    pixelId: string,
    eventName: string,
    eventId: string | undefined,
    copy: EventsManagerCopy,
  ) => {
    arrivals.push([pixelId, eventName, eventId, copy]);
  };
  for (const e of input.events) {
    note(e.pixelId, e.event.event_name, e.receivedAt);
    if (!keep(e.pixelId, e.event.event_name)) continue;
    const id =
      typeof e.event.event_id === 'string' && e.event.event_id !== ''
        ? e.event.event_id
        : undefined;
    arrive(e.pixelId, e.event.event_name, id, copyOnce(e, serverCopy));
  }
  for (const e of input.browserEvents) {
    note(e.pixelId, e.event_name, e.receivedAt);
    if (!keep(e.pixelId, e.event_name)) continue;
    arrive(e.pixelId, e.event_name, e.event_id, copyOnce(e, browserCopy));
  }
  for (const e of input.tiktokEvents ?? []) {
    note(e.pixelCode, e.event.event, e.receivedAt);
    if (!keep(e.pixelCode, e.event.event)) continue;
    const id =
      typeof e.event.event_id === 'string' && e.event.event_id !== ''
        ? e.event.event_id
        : undefined;
    arrive(e.pixelCode, e.event.event, id, copyOnce(e, tiktokServerCopy));
  }
  for (const e of input.tiktokBrowserEvents ?? []) {
    note(e.pixelCode, e.event, e.receivedAt);
    if (!keep(e.pixelCode, e.event)) continue;
    arrive(e.pixelCode, e.event, e.event_id, copyOnce(e, tiktokBrowserCopy));
  }

  arrivals.sort((a, b) => a[3].receivedAt - b[3].receivedAt);
  for (const [pixelId, eventName, eventId, copy] of arrivals)
    place(pixelId, eventName, eventId, copy);

  const rows: EventsManagerRow[] = [];
  // Which sources each pixel + event name arrives from: a one-sided row is flagged when the
  // other source sends that event name too (then its copy was expected).
  const sourcesByName = new Map<string, Set<EventsManagerSource>>();
  const nameKey = (row: EventsManagerRow) =>
    JSON.stringify([row.platform ?? 'meta', row.pixelId, row.eventName]);
  for (const { row, server, browser } of groups.values()) {
    const key = nameKey(row);
    const set = sourcesByName.get(key) ?? new Set();
    if (server > 0) set.add('server');
    if (browser > 0) set.add('browser');
    sourcesByName.set(key, set);
  }
  for (const { row, server, browser } of groups.values()) {
    if (server > 0 && browser > 0) row.dedup = 'deduplicated';
    const bothSent = sourcesByName.get(nameKey(row))?.size === 2;
    if (row.eventId === null && bothSent) {
      const [side, other] = server > 0 ? ['server', 'browser'] : ['browser', 'server'];
      const platform = row.platform === 'tiktok' ? 'TikTok' : 'Meta';
      row.flag = `no event_id: ${platform} cannot pair this ${side} event with its ${other} copy`;
    } else if (row.dedup === 'server-only' && bothSent) {
      row.flag = `no browser copy with this event_id, though the Pixel sends ${row.eventName} too`;
    } else if (row.dedup === 'browser-only' && bothSent) {
      row.flag = `no server copy with this event_id, though the server sends ${row.eventName} too`;
    }
    row.copies.sort((a, b) => b.receivedAt - a.receivedAt);
    rows.push(row);
  }
  for (const e of input.rejectedEvents) {
    const name = typeof e.event.event_name === 'string' ? e.event.event_name : '';
    note(e.pixelId, name, e.receivedAt);
    if (!keep(e.pixelId, name)) continue;
    const id =
      typeof e.event.event_id === 'string' && e.event.event_id !== '' ? e.event.event_id : null;
    const copy = copyOnce(e, rejectedCopy);
    rows.push({
      id: `rejected:${e.requestIndex}:${rows.length}`,
      pixelId: e.pixelId,
      eventName: name,
      eventId: id,
      receivedAt: e.receivedAt,
      dedup: 'rejected',
      copies: [copy],
    });
  }

  for (const e of input.tiktokRejectedEvents ?? []) {
    const name = typeof e.event.event === 'string' ? e.event.event : '';
    note(e.pixelCode, name, e.receivedAt);
    if (!keep(e.pixelCode, name)) continue;
    const id =
      typeof e.event.event_id === 'string' && e.event.event_id !== '' ? e.event.event_id : null;
    rows.push({
      id: `tiktok-rejected:${e.requestIndex}:${rows.length}`,
      pixelId: e.pixelCode,
      eventName: name,
      eventId: id,
      receivedAt: e.receivedAt,
      dedup: 'rejected',
      copies: [copyOnce(e, tiktokRejectedCopy)],
      platform: 'tiktok',
    });
  }

  const allSummaries = summarize(rows);
  // The names received last, in the usual order: a card per name ever sent made each refresh of
  // the page megabytes and thousands of cards.
  const summaries =
    filter.limit === undefined || allSummaries.length <= SUMMARY_LIMIT
      ? allSummaries.map(({ lastAt: _, ...summary }) => summary)
      : allSummaries
          .map((summary, order) => ({ summary, order }))
          .sort((a, b) => b.summary.lastAt - a.summary.lastAt || a.order - b.order)
          .slice(0, SUMMARY_LIMIT)
          .sort((a, b) => a.order - b.order)
          .map(({ summary: { lastAt: _, ...summary } }) => summary);
  const shown =
    filter.source === undefined
      ? rows
      : rows.filter((row) => row.copies.some((c) => c.source === filter.source));
  shown.sort((a, b) => b.receivedAt - a.receivedAt);
  return {
    generatedAt: input.now,
    version: input.version,
    pixels: [...pixels].sort(),
    eventNames: listedNames(names, filter),
    totalEventNames: names.size,
    rows: shown.slice(
      Math.max(0, filter.offset ?? 0),
      filter.limit === undefined
        ? undefined
        : Math.max(0, filter.offset ?? 0) + Math.max(0, filter.limit),
    ),
    totalRows: shown.length,
    summaries,
    totalSummaries: allSummaries.length,
    matchQualityTarget: MATCH_QUALITY_TARGET,
    coverageGoal: COVERAGE_GOAL,
    maxEvents: input.maxEvents ?? DEFAULT_MAX_EVENTS,
    evicted: input.evicted ?? 0,
  };
};

/**
 * The filter's list: every name without a `limit`; with one, the {@link EVENT_NAME_LIMIT} received
 * last and the name the filter chose (its card is reached that way). Sorted.
 */
const listedNames = (names: ReadonlyMap<string, number>, filter: EventsManagerFilter): string[] => {
  if (filter.limit === undefined || names.size <= EVENT_NAME_LIMIT) return [...names.keys()].sort();
  const listed = [...names]
    .sort((a, b) => b[1] - a[1])
    .slice(0, EVENT_NAME_LIMIT)
    .map(([name]) => name);
  const chosen = filter.event_name;
  if (chosen !== undefined && names.has(chosen) && !listed.includes(chosen)) listed.push(chosen);
  return listed.sort();
};

/** The summaries, with when each name last arrived (epoch ms). */
const summarize = (
  rows: readonly EventsManagerRow[],
): (EventsManagerSummary & { lastAt: number })[] => {
  const byName = new Map<
    string,
    EventsManagerSummary & {
      points: number;
      scored: number;
      delays: number[];
      covered: number;
      lastAt: number;
    }
  >();
  for (const row of rows) {
    const key = JSON.stringify([row.platform ?? 'meta', row.pixelId, row.eventName]);
    let s = byName.get(key);
    if (!s) {
      s = {
        pixelId: row.pixelId,
        eventName: row.eventName,
        ...(row.platform === undefined ? {} : { platform: row.platform }),
        server: 0,
        retriesDeduplicated: 0,
        browser: 0,
        rejected: 0,
        deduplicated: 0,
        matchQuality: null,
        dedupCoverage: null,
        freshness: { p50Seconds: null, buckets: [] },
        points: 0,
        scored: 0,
        delays: [],
        covered: 0,
        lastAt: row.receivedAt,
      };
      byName.set(key, s);
    }
    s.lastAt = Math.max(s.lastAt, row.receivedAt);
    if (row.dedup === 'deduplicated') s.deduplicated++;
    // [DD] (capi.md §6): within the row's 48 h, the first server copy is the event; a later one
    // with its event_id (a retry after a lost answer, the relay's copy) is discarded. Copies are
    // newest first, so the first is the last accepted server copy.
    let kept: EventsManagerCopy | undefined;
    for (const copy of row.copies) {
      if (copy.source === 'server' && copy.validation.ok) kept = copy;
    }
    for (const copy of row.copies) {
      if (copy.source === 'browser') {
        s.browser++;
        if (row.dedup === 'deduplicated') s.covered++;
      } else if (!copy.validation.ok) {
        s.rejected++;
      } else if (copy !== kept) {
        s.retriesDeduplicated++;
      } else {
        s.server++;
        // Meta's Event Match Quality covers web events only, and so does the estimate of
        // client.diagnostics(): a store sale or a CRM lead has none.
        // https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api
        if (copy.actionSource === 'website') {
          s.scored++;
          s.points += Math.round(copy.matchQuality * 100);
        }
        if (copy.delaySeconds !== null) s.delays.push(copy.delaySeconds);
      }
    }
  }
  return [...byName.values()]
    .sort((a, b) =>
      a.pixelId === b.pixelId
        ? a.eventName.localeCompare(b.eventName)
        : a.pixelId.localeCompare(b.pixelId),
    )
    .map(({ points, scored, delays, covered, ...s }) => ({
      ...s,
      // The rounding of the core's diagnostics recorder: mean of hundredths, to one decimal.
      matchQuality:
        scored > 0 && s.platform === undefined ? Math.round(points / scored / 10) / 10 : null,
      dedupCoverage: s.browser > 0 ? Math.round((covered / s.browser) * 1000) / 10 : null,
      freshness: {
        p50Seconds: percentile50(delays),
        buckets: FRESHNESS_LIMITS.map(([label, maxSeconds], i) => ({
          label,
          maxSeconds,
          count: delays.filter(
            (d) =>
              (maxSeconds === null || d <= maxSeconds) &&
              (i === 0 || d > (FRESHNESS_LIMITS[i - 1]?.[1] ?? 0)),
          ).length,
        })),
      },
    }));
};

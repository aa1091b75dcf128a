import { describeGiven } from '../delivery/options.js';
import { reportedEventName } from '../delivery/redact.js';
import { editDistance } from '../event/spelling.js';
import { RELAY_MAX_EVENT_ID_LENGTH } from '../relay/protocol.js';
import { freshnessIndex } from './freshness.js';
import { MATCH_KEYS, matchKeyMask, matchQualityPoints } from './match-quality.js';
import { SeenIds } from './seen-ids.js';
import { figures, Tally } from './tally.js';
import type {
  DiagnosticsOptions,
  DiagnosticsReport,
  DiagnosticsThresholds,
  DiagnosticsWarning,
  EventSource,
  PixelDiagnostics,
} from './types.js';

/** Default thresholds of the `warn` hook. */
export const DEFAULT_DIAGNOSTICS_THRESHOLDS: Readonly<DiagnosticsThresholds> = Object.freeze({
  matchQuality: 6,
  dedupKeyCoverage: 70,
  overlap: 50,
  freshnessP95Seconds: 3600,
  minEvents: 20,
});
/** Default rolling window: one hour. */
export const DEFAULT_DIAGNOSTICS_WINDOW_MS = 3_600_000;
/** The window is kept as this many buckets; figures expire a bucket at a time. */
export const DIAGNOSTICS_BUCKETS = 12;
/** Event name under which names past `maxEventNames` are counted. */
export const OTHER_EVENT_NAME = '(other)';

const DEFAULT_MAX_EVENT_NAMES = 100;
const DEFAULT_OVERLAP_CAPACITY = 50_000;

/** One tracked event as the diagnostics see it: key names and flags, never values. */
export interface DiagnosticsEventSample {
  /** Pixels the event was queued for. */
  pixelIds: readonly string[];
  /** `event_name`. */
  eventName: string;
  /** `event_id` (given or generated). */
  eventId: string;
  /**
   * The wire `user_data` of a Meta event; only which keys are non-empty is read. `false` for
   * another destination's event: its match keys are not Meta's, so it counts in every figure but
   * the match-quality estimate and key coverage, and its ids pair only within its own stream.
   */
  userData: object | undefined | false;
  /**
   * Meta's `action_source`. Meta's Event Match Quality covers web events only [DQ]: an event of
   * another source (`physical_store`, `system_generated`, `app`, …) counts in every figure but
   * the match-quality estimate and key coverage. Unset: scored as a web event.
   * https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api
   */
  actionSource?: string | undefined;
  /** True when the caller (or the browser, through the relay) supplied the `event_id`. */
  callerEventId: boolean;
  /** Where the event came from. */
  source: EventSource;
  /**
   * True when the id is known never to have reached a browser (the CLI sets it for a sample line
   * without `event_id`, whose id it made up itself): counted as not deduplicable. Default false.
   */
  eventIdNeverShared?: boolean | undefined;
}

/** An acknowledged event: what freshness needs. */
export interface AcknowledgedEvent {
  /** `event_name`. */
  eventName: string;
  /** `event_time`, Unix seconds. */
  eventTime: number;
  /** Meta's `action_source`: a `physical_store` event is left out (its upload window is 62 days). */
  actionSource?: string | undefined;
}

/** Rolling-window figures with bounded memory; `createCapi` keeps one, the CLI uses one for sample files. */
export interface DiagnosticsRecorder {
  /** Window width in ms. */
  readonly windowMs: number;
  /** Effective thresholds. */
  readonly thresholds: Readonly<DiagnosticsThresholds>;
  /** Counts one accepted event at `nowMs`. O(pixels + keys). */
  recordEvent(sample: DiagnosticsEventSample, nowMs: number): void;
  /** Counts events Meta acknowledged at `ackMs` for one pixel (freshness). */
  recordAcknowledged(pixelId: string, events: readonly AcknowledgedEvent[], ackMs: number): void;
  /** The figures over the window ending at `nowMs`. */
  report(nowMs: number): DiagnosticsReport;
  /**
   * Warnings due at `nowMs`: evaluated at most once per bucket (the first call in a new bucket),
   * each (pixel, event name, figure) at most once per window. Returns `[]` otherwise.
   */
  takeWarnings(nowMs: number): DiagnosticsWarning[];
  /**
   * A first-party relay feeds this recorder browser events: from now on it remembers `event_id`s
   * to find the pairs. Until then (or until the first relay event) none are remembered, since
   * without a relay no browser copy can ever be seen.
   */
  attachRelay(): void;
}

interface Bucket {
  index: number;
  byName: Map<string, Tally>;
}

interface PixelWindow {
  ring: (Bucket | undefined)[];
  names: Set<string>;
}

interface Noted {
  /** Pixels on which this is the id's first copy from its second source. */
  overlappingOn: readonly string[];
  /** Pixels on which the id came from this source before: a repeat Meta keeps once [DD]. */
  repeatedOn: readonly string[];
  /** Pixels on which a generated id is confirmed by a relay copy seen first. */
  confirmedOn: readonly string[];
}

const NOTHING_NOTED: Noted = {
  overlappingOn: [],
  repeatedOn: [],
  confirmedOn: [],
};

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`diagnostics: ${name} must be a positive number, ${describeGiven(value)}`);
  }
  return v;
};

/**
 * A whole count of at least 1. Floored, 0.5 read as 0: an id set of capacity 0 evicted nothing
 * (its ring never held a key) and grew with every event.
 */
const count = (name: string, value: number | undefined, fallback: number): number => {
  const v = Math.floor(positive(name, value, fallback));
  if (v < 1)
    throw new RangeError(`diagnostics: ${name} must be at least 1, ${describeGiven(value)}`);
  return v;
};

/**
 * A `thresholds` key that is none of them: a misspelled one (`matchquality`, `minEvent`) left the
 * default in force without a word, where TypeScript users are told and JavaScript users were not.
 */
const unknownThreshold = (key: string): TypeError => {
  const names = Object.keys(DEFAULT_DIAGNOSTICS_THRESHOLDS);
  const meant = names.find((name) => editDistance(key.toLowerCase(), name.toLowerCase(), 3) <= 3);
  return new TypeError(
    `diagnostics: thresholds.${key.slice(0, 40)} is not a threshold${meant ? ` (did you mean ${meant}?)` : ''}; they are ${names.join(', ')}`,
  );
};

/**
 * The `diagnostics` option of `createCapi` as the recorder takes it: `undefined` when off. `false`
 * turns them off and `true` keeps the defaults, as `logger: false` and `env: false` read; a value
 * of another kind (`'false'` from an environment variable) is refused, naming the option: the
 * client read `diagnostics: false` as "on, with the defaults", without a word.
 */
export const diagnosticsOptionsOf = (
  value: unknown,
): Omit<DiagnosticsOptions, 'enabled'> | undefined => {
  if (value === undefined || value === null || value === true) return {};
  if (value === false) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    const shown =
      typeof value === 'string'
        ? `the string ${JSON.stringify(value.slice(0, 24))}`
        : String(value);
    throw new TypeError(
      `diagnostics must be an object such as { windowMs: 3_600_000 }, or false to turn them off; got ${shown}`,
    );
  }
  const { enabled } = value as DiagnosticsOptions;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new TypeError(`diagnostics.enabled must be a boolean, got ${typeof enabled}`);
  }
  return enabled === false ? undefined : (value as DiagnosticsOptions);
};

/**
 * Creates the rolling-window recorder behind `client.diagnostics()`. Memory is bounded: 12 buckets
 * × pixels × at most `maxEventNames` names of fixed-size counters (freshness as a sparse histogram
 * on a fixed grid), plus at most `overlapCapacity` remembered `event_id`s (for the overlap and to
 * confirm generated ids the browser sent back through the relay).
 * @example
 * const recorder = createDiagnosticsRecorder({ windowMs: 600_000 });
 * recorder.recordEvent({ pixelIds: ['1'], eventName: 'Lead', eventId: 'l-1', userData, callerEventId: true, source: 'server' }, Date.now());
 * recorder.report(Date.now()).pixels['1']?.events.Lead?.matchQuality;
 */
export const createDiagnosticsRecorder = (
  options: Omit<DiagnosticsOptions, 'enabled'> = {},
): DiagnosticsRecorder => {
  const windowMs = positive('windowMs', options.windowMs, DEFAULT_DIAGNOSTICS_WINDOW_MS);
  const maxEventNames = count('maxEventNames', options.maxEventNames, DEFAULT_MAX_EVENT_NAMES);
  const overlapCapacity = count(
    'overlapCapacity',
    options.overlapCapacity,
    DEFAULT_OVERLAP_CAPACITY,
  );
  const thresholds: DiagnosticsThresholds = { ...DEFAULT_DIAGNOSTICS_THRESHOLDS };
  for (const [key, value] of Object.entries(options.thresholds ?? {}) as [
    keyof DiagnosticsThresholds,
    number | undefined,
  ][]) {
    if (!Object.hasOwn(DEFAULT_DIAGNOSTICS_THRESHOLDS, key)) throw unknownThreshold(key);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `diagnostics: thresholds.${key} must be a number ≥ 0, ${describeGiven(value)}`,
      );
    }
    thresholds[key] = value;
  }
  const bucketMs = windowMs / DIAGNOSTICS_BUCKETS;
  const pixels = new Map<string, PixelWindow>();
  // event_name + event_id → what was seen of it; insertion order is time order, so the oldest
  // entries (expired or over capacity) are at the front.
  const seenIds = new SeenIds(overlapCapacity);
  let lastCheckedBucket: number | undefined;
  let lastExpiredBucket = Number.NEGATIVE_INFINITY;
  // Per-event points by key mask (2^15 masks), filled lazily: the hot path does one array read.
  const pointsByMask = new Int16Array(1 << MATCH_KEYS.length).fill(-1);
  const lastWarned = new Map<string, number>();
  // Whether a relay feeds this recorder: without one, remembering ids (a lookup and an insert in
  // a set of up to `overlapCapacity`, per event) could never find a pair.
  let relayFed = false;

  const bucketOf = (ms: number) => Math.floor(ms / bucketMs);

  const pixelWindow = (pixelId: string): PixelWindow => {
    let w = pixels.get(pixelId);
    if (!w) {
      w = { ring: new Array<Bucket | undefined>(DIAGNOSTICS_BUCKETS), names: new Set() };
      pixels.set(pixelId, w);
    }
    return w;
  };

  /**
   * The names of the events still in the window once bucket `index` starts: a name whose events
   * all left the window gives its place back, or the first `maxEventNames` names of a long run
   * would keep theirs for ever and every later one (a new event, a renamed one) read `(other)`.
   */
  const keepNamesInWindow = (w: PixelWindow, index: number): void => {
    w.names.clear();
    for (const bucket of w.ring) {
      // Not a bucket ahead of now either (written while the wall clock ran ahead, then set back):
      // the report leaves it out, and its names held their places, every new name read (other).
      if (!bucket || bucket.index <= index - DIAGNOSTICS_BUCKETS || bucket.index > index) continue;
      for (const name of bucket.byName.keys()) if (name !== OTHER_EVENT_NAME) w.names.add(name);
    }
  };

  const tallyFor = (w: PixelWindow, eventName: string, index: number): Tally => {
    const slot = index % DIAGNOSTICS_BUCKETS;
    let bucket = w.ring[slot];
    if (!bucket || bucket.index !== index) {
      bucket = { index, byName: new Map() };
      w.ring[slot] = bucket;
      keepNamesInWindow(w, index);
    }
    // The report is keyed by name: an email tracked as the event name is hidden like a value.
    let name = reportedEventName(eventName);
    if (!w.names.has(name)) {
      if (w.names.size < maxEventNames) w.names.add(name);
      else name = OTHER_EVENT_NAME;
    }
    let tally = bucket.byName.get(name);
    if (!tally) {
      tally = new Tally();
      bucket.byName.set(name, tally);
    }
    return tally;
  };

  /** The tally of `eventName` in bucket `index` if that bucket is still in the pixel's ring. */
  const tallyInRing = (pixelId: string, eventName: string, index: number): Tally | undefined => {
    const w = pixels.get(pixelId);
    const bucket = w?.ring[index % DIAGNOSTICS_BUCKETS];
    if (!w || !bucket || bucket.index !== index) return undefined;
    // Counted under its own name in that bucket, or under (other) when the names were full then.
    return bucket.byName.get(reportedEventName(eventName)) ?? bucket.byName.get(OTHER_EVENT_NAME);
  };

  // The pixel lists the remembered ids keep, one shared array per distinct list (a handful: the
  // client's pixels and streams), so an entry costs a reference, not an array of its own.
  const pixelLists = new Map<string, readonly string[]>();
  const pixelList = (pixelIds: readonly string[]): readonly string[] => {
    const key = pixelIds.length === 1 ? (pixelIds[0] as string) : pixelIds.join('\n');
    let list = pixelLists.get(key);
    if (list === undefined) {
      list = Object.freeze([...pixelIds]);
      if (pixelLists.size < 256) pixelLists.set(key, list);
    }
    return list;
  };

  /**
   * Remembers the id and returns the pixels on which it is the first sighting from the second
   * source (overlap), and on which of the event's pixels a generated id is confirmed by the relay
   * already. A relay sighting confirms an earlier generated server event in that event's own
   * bucket, so the confirmation leaves the window together with the event.
   */
  const noteId = (sample: DiagnosticsEventSample, index: number, generated: boolean): Noted => {
    if (index !== lastExpiredBucket) {
      // Entries expire a bucket at a time, so the scan runs once per bucket.
      lastExpiredBucket = index;
      // More than a window ahead of now is a clock that was set back since.
      seenIds.expire(index - DIAGNOSTICS_BUCKETS, index + DIAGNOSTICS_BUCKETS);
    }
    // Each platform pairs its own copies (Meta on pixel + event_name + event_id [DD]); another
    // destination's stream (a `tiktok:…` key, `userData: false`) is one scope of its own, all of
    // Meta's pixels another. Without the scope, Meta and TikTok both naming an event `Purchase`
    // shared one entry: the first stream's relay copy took the pair, the second never had one.
    // [DD] https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
    const scope = sample.userData === false ? sample.pixelIds.join(' ') : '';
    const key = `${scope}\n${sample.eventName}\n${sample.eventId}`;
    // Flattens the concatenation (and a rope-built id such as Node's randomUUID()) into one flat
    // string before the set keeps it: five times less memory per remembered id.
    key.charCodeAt(0);
    const relay = sample.source === 'relay';
    let entry = seenIds.get(key);
    if (entry === undefined) {
      // Both lists in the literal: added later, they took a property store of their own (32 bytes
      // more per remembered id, measured on Node 26).
      entry = { index, serverPixelIds: undefined, relayPixelIds: undefined };
      seenIds.add(key, entry);
    }
    // A Pixel's copy pairs with the server's on that Pixel's own pixel [DD]: each pixel overlaps
    // when it has both copies. With two pixels on the page the relay brings one copy per pixel;
    // counted per id, the second pixel's copy never overlapped (after the server event), or the
    // server event overlapped on a pixel whose Pixel never sent one (after the other's copy).
    const own = relay ? entry.relayPixelIds : entry.serverPixelIds;
    const other = relay ? entry.serverPixelIds : entry.relayPixelIds;
    const fresh =
      own === undefined ? sample.pixelIds : sample.pixelIds.filter((p) => !own.includes(p));
    let overlappingOn =
      other === undefined || fresh.length === 0 ? [] : fresh.filter((p) => other.includes(p));
    // A pair is credited to the bucket of its first copy, the one that leaves the window first:
    // credited to the second copy's, it stayed in the figure after the first copy had left, and
    // the overlap read 100 % beside server events the relay never sent. A pixel whose tally is
    // not in that bucket (its first copy came later than the id's first sighting elsewhere)
    // keeps it in this one.
    if (overlappingOn.length > 0 && entry.index < index) {
      const first = entry.index;
      overlappingOn = overlappingOn.filter((pixelId) => {
        const t = tallyInRing(pixelId, sample.eventName, first);
        if (t) t.overlapping++;
        return t === undefined;
      });
    }
    const repeatedOn =
      fresh.length === sample.pixelIds.length
        ? []
        : sample.pixelIds.filter((p) => !fresh.includes(p));
    if (fresh.length > 0) {
      const seen = pixelList(own === undefined ? fresh : [...own, ...fresh]);
      if (relay) entry.relayPixelIds = seen;
      else entry.serverPixelIds = seen;
    }
    if (relay) {
      const pending = entry.generatedPixelIds;
      if (pending !== undefined && entry.generatedIndex !== undefined) {
        for (const pixelId of pending) {
          if (!sample.pixelIds.includes(pixelId)) continue;
          const t = tallyInRing(pixelId, sample.eventName, entry.generatedIndex);
          if (t) t.confirmed++;
        }
        const left = pending.filter((p) => !sample.pixelIds.includes(p));
        entry.generatedPixelIds = left.length > 0 ? left : undefined;
      }
      return { overlappingOn, repeatedOn, confirmedOn: [] };
    }
    if (!generated) return { overlappingOn, repeatedOn, confirmedOn: [] };
    const seen = entry.relayPixelIds;
    if (seen === undefined) {
      entry.generatedIndex = index;
      entry.generatedPixelIds = sample.pixelIds;
      return { overlappingOn, repeatedOn, confirmedOn: [] };
    }
    const left = sample.pixelIds.filter((p) => !seen.includes(p));
    entry.generatedIndex = index;
    entry.generatedPixelIds = left.length > 0 ? left : undefined;
    return {
      overlappingOn,
      repeatedOn,
      confirmedOn: sample.pixelIds.filter((p) => seen.includes(p)),
    };
  };

  const recordEvent = (sample: DiagnosticsEventSample, nowMs: number): void => {
    const index = bucketOf(nowMs);
    // Meta's keys, on a web event: the only events Meta gives a match quality [DQ].
    const scored =
      sample.userData !== false &&
      (sample.actionSource === undefined || sample.actionSource === 'website');
    const mask = scored ? matchKeyMask(sample.userData as object | undefined) : 0;
    let points = pointsByMask[mask] as number;
    if (points < 0) {
      points = matchQualityPoints(mask);
      pointsByMask[mask] = points;
    }
    const unshared = sample.eventIdNeverShared === true;
    const supplied = !unshared && sample.callerEventId;
    const generated = !unshared && !sample.callerEventId;
    if (sample.source === 'relay') relayFed = true;
    // An id nobody else has cannot overlap or be confirmed: not worth a slot in the set; nor can
    // any id while no relay feeds the recorder, nor one longer than a relayed event may carry (an
    // app passing ids from requests through would otherwise fill the set with their lengths).
    const { overlappingOn, repeatedOn, confirmedOn } =
      unshared || !relayFed || sample.eventId.length > RELAY_MAX_EVENT_ID_LENGTH
        ? NOTHING_NOTED
        : noteId(sample, index, generated && sample.source === 'server');
    for (const pixelId of sample.pixelIds) {
      const t = tallyFor(pixelWindow(pixelId), sample.eventName, index);
      t.events++;
      if (scored) {
        t.scored++;
        t.points += points;
      }
      if (supplied) t.withEventId++;
      else if (generated) t.generated++;
      else t.unshared++;
      if (confirmedOn.includes(pixelId)) t.confirmed++;
      const repeated = repeatedOn.includes(pixelId);
      if (sample.source === 'relay') {
        t.relay++;
        if (repeated) t.relayRepeats++;
      } else {
        t.server++;
        if (repeated) t.serverRepeats++;
      }
      if (overlappingOn.includes(pixelId)) t.overlapping++;
      for (let bits = mask; bits !== 0; bits &= bits - 1) {
        const i = 31 - Math.clz32(bits & -bits); // lowest set bit
        t.keys[i] = (t.keys[i] as number) + 1;
      }
    }
  };

  const recordAcknowledged = (
    pixelId: string,
    events: readonly AcknowledgedEvent[],
    ackMs: number,
  ): void => {
    const index = bucketOf(ackMs);
    const w = pixelWindow(pixelId);
    for (const event of events) {
      // Meta takes store sales up to 62 days after they happened, against about an hour for the
      // others [UA]: a day-old till receipt is on time, and must not read as a stale web purchase.
      // https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api
      if (event.actionSource === 'physical_store') continue;
      const t = tallyFor(w, event.eventName, index);
      t.acknowledged++;
      const slot = freshnessIndex((ackMs - event.eventTime * 1000) / 1000);
      t.freshness.set(slot, (t.freshness.get(slot) ?? 0) + 1);
    }
  };

  const report = (nowMs: number): DiagnosticsReport => {
    const current = bucketOf(nowMs);
    const oldest = current - DIAGNOSTICS_BUCKETS;
    const out: DiagnosticsReport = {
      enabled: true,
      windowMs,
      generatedAt: nowMs,
      from: Math.round((oldest + 1) * bucketMs),
      pixels: {},
    };
    for (const [pixelId, w] of pixels) {
      const total = new Tally();
      const byName = new Map<string, Tally>();
      for (const bucket of w.ring) {
        if (!bucket || bucket.index <= oldest || bucket.index > current) continue;
        for (const [name, t] of bucket.byName) {
          let sum = byName.get(name);
          if (!sum) {
            sum = new Tally();
            byName.set(name, sum);
          }
          sum.add(t);
          total.add(t);
        }
      }
      const pixel: PixelDiagnostics = { pixelId, total: figures(total), events: {} };
      for (const name of [...byName.keys()].sort()) {
        // Defined, not assigned: an event named `__proto__` (a relay's allowEvents function lets
        // the page choose names) replaced the object's prototype, and its figures were lost.
        Object.defineProperty(pixel.events, name, {
          value: figures(byName.get(name) as Tally),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out.pixels[pixelId] = pixel;
    }
    return out;
  };

  const takeWarnings = (nowMs: number): DiagnosticsWarning[] => {
    const current = bucketOf(nowMs);
    if (lastCheckedBucket === current) return [];
    const first = lastCheckedBucket === undefined;
    lastCheckedBucket = current;
    if (first) return [];
    // Names come and go (keepNamesInWindow): what was warned about a window ago is forgotten.
    // A window away on either side: after the wall clock was set back (a VM resumed, an NTP
    // step), a warning stamped ahead of now kept every later one of its figure silent until the
    // clock caught up, for as long as the jump.
    const recent = (at: number) => Math.abs(nowMs - at) < windowMs;
    for (const [key, at] of lastWarned) if (!recent(at)) lastWarned.delete(key);
    const warnings: DiagnosticsWarning[] = [];
    const due = (w: DiagnosticsWarning) => {
      const key = `${w.pixelId}\n${w.eventName}\n${w.figure}`;
      const last = lastWarned.get(key);
      if (last !== undefined && recent(last)) return;
      lastWarned.set(key, nowMs);
      warnings.push(w);
    };
    for (const pixel of Object.values(report(nowMs).pixels)) {
      for (const [eventName, f] of Object.entries(pixel.events)) {
        const base = { pixelId: pixel.pixelId, eventName, windowMs };
        // Over the web events the estimate scored: a store sale or a CRM lead never counts there.
        if (
          f.scoredEvents >= thresholds.minEvents &&
          f.matchQuality !== null &&
          f.matchQuality < thresholds.matchQuality
        ) {
          due({
            ...base,
            figure: 'match_quality',
            value: f.matchQuality,
            threshold: thresholds.matchQuality,
          });
        }
        // Judged on known evidence only: an unconfirmed generated id is unknown, not bad, and a
        // relay that never shares ids with the server is the overlap figure's to report.
        const known = f.withEventId + f.confirmedEventIds + f.unsharedEventIds;
        if (
          known >= thresholds.minEvents &&
          f.dedupKeyCoverage !== null &&
          f.dedupKeyCoverage < thresholds.dedupKeyCoverage
        ) {
          due({
            ...base,
            figure: 'dedup_key_coverage',
            value: f.dedupKeyCoverage,
            threshold: thresholds.dedupKeyCoverage,
          });
        }
        // A share of the smaller source's events: judged once that source has enough of them, or
        // one odd browser copy beside a busy server's events read 0 % and warned.
        if (
          Math.min(f.sources.server - f.repeats.server, f.sources.relay - f.repeats.relay) >=
            thresholds.minEvents &&
          f.overlap !== null &&
          f.overlap < thresholds.overlap
        ) {
          due({ ...base, figure: 'overlap', value: f.overlap, threshold: thresholds.overlap });
        }
        const p95 = f.freshness.p95Seconds;
        if (
          f.freshness.acknowledged >= thresholds.minEvents &&
          p95 !== null &&
          p95 > thresholds.freshnessP95Seconds
        ) {
          due({
            ...base,
            figure: 'freshness_p95',
            value: p95,
            threshold: thresholds.freshnessP95Seconds,
          });
        }
      }
    }
    return warnings;
  };

  return {
    windowMs,
    thresholds,
    recordEvent,
    recordAcknowledged,
    report,
    takeWarnings,
    attachRelay: () => {
      relayFed = true;
    },
  };
};

const FIGURE_LABELS: Readonly<Record<DiagnosticsWarning['figure'], string>> = {
  match_quality: 'match-quality estimate',
  dedup_key_coverage: 'dedup-key (event_id) coverage',
  overlap: 'browser/server overlap',
  freshness_p95: 'p95 freshness',
};

/** One-line description of a diagnostics warning (no user data). */
export const describeDiagnosticsWarning = (w: DiagnosticsWarning): string => {
  const unit = w.figure === 'freshness_p95' ? ' s' : w.figure === 'match_quality' ? '/10' : ' %';
  const direction = w.figure === 'freshness_p95' ? 'above' : 'below';
  const minutes = Math.round(w.windowMs / 60_000);
  const note = w.figure === 'match_quality' ? " (local estimate, not Meta's EMQ)" : '';
  return `capi-kit diagnostics: ${w.eventName} on pixel ${w.pixelId}: ${FIGURE_LABELS[w.figure]} ${w.value}${unit} is ${direction} ${w.threshold}${unit} over the last ${minutes} min${note}`;
};

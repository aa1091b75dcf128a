import type { MatchKey } from './match-quality.js';

/** Where an event came from: the app's own `track()` call or the browser relay. */
export type EventSource = 'server' | 'relay';

/** Figures below (or, for freshness, above) these values fire the `warn` hook, once per window. */
export interface DiagnosticsThresholds {
  /** Match-quality estimate (0–10) below this warns; default 6 (Meta's EMQ target [BP]). */
  matchQuality: number;
  /** Dedup-key coverage (%) below this warns, once that many events have a known status (`minEvents`); default 70 (project-defined, capi.md §6). */
  dedupKeyCoverage: number;
  /** Browser/server overlap (%) below this warns once each source has `minEvents` events; default 50 (project-defined). */
  overlap: number;
  /** p95 freshness (s) above this warns; default 3600 (Meta: send within about an hour [UA]). */
  freshnessP95Seconds: number;
  /** Figures of an event name with fewer events (acknowledgements for freshness) in the window never warn; default 20. */
  minEvents: number;
}

/** `diagnostics` option of `createCapi`. */
export interface DiagnosticsOptions {
  /** Record figures; default true. When false, `diagnostics()` reports nothing and no warning fires. */
  enabled?: boolean;
  /** Rolling window the figures cover, kept as 12 buckets; default 3 600 000 ms (1 h). */
  windowMs?: number;
  /** Warning thresholds; unset ones keep their defaults. */
  thresholds?: Partial<DiagnosticsThresholds>;
  /** Distinct event names per pixel in the window; later names are counted under `(other)` until one leaves the window. Default 100. */
  maxEventNames?: number;
  /** `event_id`s remembered for the browser/server overlap and relay confirmations (oldest forgotten first); default 50 000. */
  overlapCapacity?: number;
}

/** Freshness: seconds from `event_time` to Meta's acknowledgement. */
export interface FreshnessFigures {
  /** Events Meta acknowledged in the window (store sales, `physical_store`, left out: Meta takes them within 62 days). */
  acknowledged: number;
  /** Median, rounded up to the histogram grid (1 s below 1 min, 1 min below 1 h, then 1 h); null without acknowledgements. */
  p50Seconds: number | null;
  /** 95th percentile (nearest rank), on the same grid; null without acknowledgements. */
  p95Seconds: number | null;
}

/** The figures of one event name (or of all of a pixel's events) over the window. */
export interface EventDiagnostics {
  /** Events accepted by `track()` in the window. */
  events: number;
  /** Events the match-quality estimate and key coverage are over: Meta's web (`website`) events. */
  scoredEvents: number;
  /** Local match-quality estimate 0–10 (one decimal): the mean of each web (`website`) event's score (docs/diagnostics.md). Not Meta's EMQ. Meta's streams only: null without web events, and for another destination's (`tiktok:…`). */
  matchQuality: number | null;
  /** Share of web events carrying each of Meta's match keys, in % (one decimal); all 0 without web events and for another destination's stream. */
  matchKeyCoverage: Record<MatchKey, number>;
  /** Events whose `event_id` came from the caller or the browser relay (not generated): deduplicable. */
  withEventId: number;
  /** Events whose `event_id` capi-kit generated (and returned from `track()`). */
  generatedEventIds: number;
  /** Of `generatedEventIds`, those whose id came back from the browser through the relay: deduplicable. */
  confirmedEventIds: number;
  /** `generatedEventIds` − `confirmedEventIds`: capi-kit cannot tell whether the page used the id (unknown, not bad). */
  unconfirmedEventIds: number;
  /** Events whose id is known never to have reached a browser (a CLI sample line without `event_id`): not deduplicable. */
  unsharedEventIds: number;
  /**
   * Deduplicable share of the events whose status is known: (`withEventId` + `confirmedEventIds`) /
   * (that + `unsharedEventIds`), in % (one decimal); null when no event's status is known (then
   * `unconfirmedEventIds` says how many are unknown).
   */
  dedupKeyCoverage: number | null;
  /** Events by where they came from. */
  sources: Record<EventSource, number>;
  /**
   * Of `sources`, the events whose `event_id` (and `event_name`) already came from the same source
   * on that pixel in the window (a reloaded page firing its Pixel again, a retried call): Meta
   * keeps one, so the overlap counts them once. Known only while a relay feeds the client.
   */
  repeats: Record<EventSource, number>;
  /** `event_id`s (with the same `event_name`) seen from both sources in the window. */
  overlapping: number;
  /** `overlapping` / distinct events (`sources` − `repeats`) of the smaller source, in % (one decimal); null unless both sources sent events. */
  overlap: number | null;
  /** Delay from `event_time` to Meta's acknowledgement. */
  freshness: FreshnessFigures;
}

/** One pixel's figures: all events together and per event name. */
export interface PixelDiagnostics {
  /** Pixel id. */
  pixelId: string;
  /** Every event of the pixel together. */
  total: EventDiagnostics;
  /** Per `event_name` (names past `maxEventNames` under `(other)`). */
  events: Record<string, EventDiagnostics>;
}

/** `client.diagnostics()`: figures per pixel and event name over the rolling window. */
export interface DiagnosticsReport {
  /** False when diagnostics are disabled (then `pixels` is empty). */
  enabled: boolean;
  /** Window width. */
  windowMs: number;
  /** When the report was made (epoch ms). */
  generatedAt: number;
  /** Start of the oldest bucket the figures include (epoch ms). */
  from: number;
  /** Per pixel id. */
  pixels: Record<string, PixelDiagnostics>;
}

/** Which figure a diagnostics warning is about. */
export type DiagnosticsFigure =
  | 'match_quality'
  | 'dedup_key_coverage'
  | 'overlap'
  | 'freshness_p95';

/** Details of a `warn` hook payload fired by diagnostics. */
export interface DiagnosticsWarning {
  /** The figure that crossed its threshold. */
  figure: DiagnosticsFigure;
  /** Pixel id. */
  pixelId: string;
  /** Event name. */
  eventName: string;
  /** The figure's value (estimate 0–10, %, or seconds). */
  value: number;
  /** The threshold it crossed. */
  threshold: number;
  /** Window the figure covers. */
  windowMs: number;
}

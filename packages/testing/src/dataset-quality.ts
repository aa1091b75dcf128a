// The key → identifier names are the core's, inlined by this package's build (no run-time
// dependency; packages/testing/turbo.json rebuilds the mock when they change).
import { MATCH_KEY_IDENTIFIERS } from '../../core/src/diagnostics/match-keys.js';
import type { MockEvent } from './recorder.js';

// The Dataset Quality API (`GET /{version}/dataset_quality?dataset_id=…&fields=web{…}`), shapes as
// in Meta's examples: developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api [DQ].
// The answer is `{ web: DatasetQualityEvent[] }`, one entry per event name, web events only.

/** `{ percentage, description? }`, the shape Meta uses for every percentage figure. */
export interface DatasetQualityPercentage {
  /** 0–100. */
  percentage: number;
  /** Meta's explanation of the figure. */
  description?: string;
}

/** One `match_key_feedback` entry: a match key and the share of events carrying it. */
export interface DatasetQualityMatchKey {
  /** `email`, `phone`, `ip_address`, `user_agent`, `external_id`, `fbc`, `fbp`, … */
  identifier: string;
  /** Share of events carrying the key. */
  coverage?: DatasetQualityPercentage;
  /** Meta's "potential additional conversions reported" for sending it. */
  potential_aly_acr_increase?: DatasetQualityPercentage;
}

/** One `dedupe_key_feedback` entry. */
export interface DatasetQualityDedupeKey {
  /** `event_id`, `external_id` or `fbp`. */
  dedupe_key: string;
  /** Share of Pixel events carrying the key. */
  browser_events_with_dedupe_key?: DatasetQualityPercentage;
  /** Share of Conversions API events carrying the key. */
  server_events_with_dedupe_key?: DatasetQualityPercentage;
  /** Share of Pixel events deduplicated with server events through this key (incremental). */
  overall_browser_coverage_from_dedupe_key?: DatasetQualityPercentage;
}

/** One entry of `web`: the figures of one event name. */
export interface DatasetQualityEvent {
  /** Standard or custom event name. */
  event_name: string;
  /** Meta's Event Match Quality. */
  event_match_quality?: {
    composite_score?: number;
    match_key_feedback?: DatasetQualityMatchKey[];
    diagnostics?: {
      name: string;
      description?: string;
      solution?: string;
      percentage?: number;
      affected_event_count?: number;
      total_event_count?: number;
    }[];
  };
  /** 7-day share of Pixel events covered by Conversions API events; Meta's goal is 75. */
  event_coverage?: DatasetQualityPercentage & { goal_percentage?: number };
  /** Deduplication keys, per key. */
  dedupe_key_feedback?: DatasetQualityDedupeKey[];
  /** How often events arrive: `real_time`, `hourly`, `daily`… */
  data_freshness?: { upload_frequency: string; description?: string };
  /** Additional conversions reported thanks to the Conversions API. */
  acr?: DatasetQualityPercentage;
  /** Potential additional conversions for an event not sent through the Conversions API. */
  event_potential_aly_acr_increase?: DatasetQualityPercentage;
}

/** Fields a `web` entry may be asked for (`fields=web{…}`). */
export const DATASET_QUALITY_FIELDS = [
  'event_name',
  'event_match_quality',
  'event_coverage',
  'dedupe_key_feedback',
  'data_freshness',
  'acr',
  'event_potential_aly_acr_increase',
] as const;

/** `user_data` key → `match_key_feedback.identifier`. */
const IDENTIFIERS: Readonly<Record<string, string>> = MATCH_KEY_IDENTIFIERS;

/**
 * The mock's stand-in score (Meta's model is unpublished): points per key, capped at 10. It is
 * deliberately not capi-kit's local estimate, so the two can be told apart side by side.
 */
const POINTS: Readonly<Record<string, number>> = {
  em: 4,
  ph: 3,
  fbc: 1.5,
  fbp: 1,
  external_id: 1,
  fn: 0.5,
  ln: 0.5,
  db: 0.25,
  ge: 0.25,
  ct: 0.25,
  st: 0.25,
  zp: 0.25,
  country: 0.25,
};

const round1 = (n: number): number => Math.round(n * 10) / 10;
const pct = (part: number, whole: number): DatasetQualityPercentage => ({
  percentage: whole > 0 ? round1((part / whole) * 100) : 0,
});

const has = (userData: Record<string, unknown>, key: string): boolean => {
  const v = userData[key];
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
};

const eventScore = (userData: Record<string, unknown>): number => {
  let score = 0;
  for (const [key, points] of Object.entries(POINTS)) if (has(userData, key)) score += points;
  if (has(userData, 'client_ip_address') && has(userData, 'client_user_agent')) score += 2;
  return Math.min(10, score);
};

const uploadFrequency = (delaysMs: number[]): string => {
  const sorted = [...delaysMs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  if (median < 10 * 60_000) return 'real_time';
  if (median < 2 * 3_600_000) return 'hourly';
  return 'daily';
};

/**
 * Default figures from what the mock accepted for a pixel: web events (test events included) per
 * event name. EMQ is the mock's own points score; match keys and `event_id`/`external_id`/`fbp`
 * coverage are exact shares; `data_freshness` comes from the median delay between `event_time`
 * and arrival (< 10 min `real_time`, < 2 h `hourly`, else `daily`). `event_coverage` and the
 * browser side of `dedupe_key_feedback` need Pixel traffic the mock never sees, so they are left
 * out (as Meta leaves out figures it does not have) unless scripted with `setDatasetQuality`.
 */
export const computeDatasetQuality = (events: readonly MockEvent[]): DatasetQualityEvent[] => {
  const byName = new Map<string, MockEvent[]>();
  for (const e of events) {
    if (e.event.action_source !== 'website') continue;
    const list = byName.get(e.event.event_name);
    if (list) list.push(e);
    else byName.set(e.event.event_name, [e]);
  }
  const out: DatasetQualityEvent[] = [];
  for (const [eventName, list] of byName) {
    const n = list.length;
    let score = 0;
    const keyCounts = new Map<string, number>();
    const dedupe = { event_id: 0, external_id: 0, fbp: 0 };
    const delays: number[] = [];
    for (const { event, receivedAt } of list) {
      const userData = event.user_data ?? {};
      score += eventScore(userData);
      for (const key of Object.keys(IDENTIFIERS)) {
        if (has(userData, key)) keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1);
      }
      if (typeof event.event_id === 'string' && event.event_id !== '') dedupe.event_id++;
      if (has(userData, 'external_id')) dedupe.external_id++;
      if (has(userData, 'fbp')) dedupe.fbp++;
      delays.push(receivedAt - event.event_time * 1000);
    }
    out.push({
      event_name: eventName,
      event_match_quality: {
        composite_score: round1(score / n),
        match_key_feedback: [...keyCounts].map(([key, count]) => ({
          identifier: IDENTIFIERS[key] ?? key,
          coverage: pct(count, n),
        })),
      },
      dedupe_key_feedback: Object.entries(dedupe).map(([key, count]) => ({
        dedupe_key: key,
        server_events_with_dedupe_key: pct(count, n),
      })),
      data_freshness: { upload_frequency: uploadFrequency(delays) },
    });
  }
  return out;
};

/**
 * The `web` sub-fields named in a Graph `fields` parameter (`web{event_name,event_match_quality{…}}`):
 * top-level names only, nested selections are ignored. Undefined when `fields` selects all of `web`.
 */
export const selectedWebFields = (fields: string | null): string[] | undefined => {
  if (fields === null) return undefined;
  const open = fields.indexOf('{', fields.indexOf('web'));
  if (fields.indexOf('web') === -1 || open === -1) return undefined;
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of fields.slice(open + 1)) {
    if (ch === '{') depth++;
    else if (ch === '}') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) {
      if (current.trim()) names.push(current.trim());
      current = '';
    } else if (depth === 0) current += ch;
  }
  if (current.trim()) names.push(current.trim());
  return names;
};

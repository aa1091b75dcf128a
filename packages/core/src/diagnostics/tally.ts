import { histogramPercentile } from './freshness.js';
import { MATCH_KEYS, type MatchKey } from './match-quality.js';
import type { EventDiagnostics } from './types.js';

/** Counters of one event name in one bucket. */
export class Tally {
  events = 0;
  /** Events whose match keys were scored (Meta's); other destinations' events are not. */
  scored = 0;
  points = 0;
  withEventId = 0;
  generated = 0;
  confirmed = 0;
  unshared = 0;
  server = 0;
  relay = 0;
  /** Server (relay) events whose id came from that source on that pixel before: Meta keeps one. */
  serverRepeats = 0;
  relayRepeats = 0;
  overlapping = 0;
  readonly keys = new Uint32Array(MATCH_KEYS.length);
  acknowledged = 0;
  readonly freshness = new Map<number, number>();

  add(other: Tally): void {
    this.events += other.events;
    this.scored += other.scored;
    this.points += other.points;
    this.withEventId += other.withEventId;
    this.generated += other.generated;
    this.confirmed += other.confirmed;
    this.unshared += other.unshared;
    this.server += other.server;
    this.relay += other.relay;
    this.serverRepeats += other.serverRepeats;
    this.relayRepeats += other.relayRepeats;
    this.overlapping += other.overlapping;
    for (let i = 0; i < this.keys.length; i++)
      this.keys[i] = (this.keys[i] as number) + (other.keys[i] as number);
    this.acknowledged += other.acknowledged;
    for (const [index, count] of other.freshness)
      this.freshness.set(index, (this.freshness.get(index) ?? 0) + count);
  }
}

const percent = (part: number, whole: number): number | null =>
  whole > 0 ? Math.round((part / whole) * 1000) / 10 : null;

/** The figures one tally gives, as `report()` shows them. */
export const figures = (t: Tally): EventDiagnostics => {
  const coverage = {} as Record<MatchKey, number>;
  MATCH_KEYS.forEach((key, i) => {
    coverage[key] = percent(t.keys[i] as number, t.scored) ?? 0;
  });
  // Distinct ids per source: a repeated copy (a reloaded thank-you page firing its Pixel again, a
  // retried call) is one event to Meta, which keeps the first of an event_name + event_id [DD].
  // https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
  const smaller = Math.min(t.server - t.serverRepeats, t.relay - t.relayRepeats);
  // Only events whose fate capi-kit knows count: an unconfirmed generated id is unknown, not bad.
  const deduplicable = t.withEventId + t.confirmed;
  return {
    events: t.events,
    scoredEvents: t.scored,
    matchQuality: t.scored > 0 ? Math.round(t.points / t.scored / 10) / 10 : null,
    matchKeyCoverage: coverage,
    withEventId: t.withEventId,
    generatedEventIds: t.generated,
    confirmedEventIds: t.confirmed,
    unconfirmedEventIds: t.generated - t.confirmed,
    unsharedEventIds: t.unshared,
    dedupKeyCoverage: percent(deduplicable, deduplicable + t.unshared),
    sources: { server: t.server, relay: t.relay },
    repeats: { server: t.serverRepeats, relay: t.relayRepeats },
    overlapping: t.overlapping,
    overlap: smaller > 0 ? percent(Math.min(t.overlapping, smaller), smaller) : null,
    freshness: {
      acknowledged: t.acknowledged,
      p50Seconds: histogramPercentile(t.freshness, 50),
      p95Seconds: histogramPercentile(t.freshness, 95),
    },
  };
};

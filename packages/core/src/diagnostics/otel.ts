import type { DiagnosticsReport, EventDiagnostics } from './types.js';

// Structural types of the part of `@opentelemetry/api` (>= 1.3) the bridge uses, so the core
// builds and runs without the package; pass `metrics.getMeter('capi-kit')` from the real API.

/** Attributes attached to one observation. */
export type OtelAttributes = Record<string, string>;

/** An observable instrument (`ObservableGauge`) as returned by `meter.createObservableGauge`; opaque to the bridge. */
export type OtelObservableLike = object;

/** The batch observer handed to a batch observable callback. */
export interface OtelBatchObserverLike {
  /** Reports one value of one instrument. */
  observe(observable: OtelObservableLike, value: number, attributes?: OtelAttributes): void;
}

/** The `Meter` methods the bridge calls. */
export interface OtelMeterLike {
  /** Creates an observable gauge. */
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): OtelObservableLike;
  /** Registers one callback that observes several instruments per collection. */
  addBatchObservableCallback(
    callback: (observer: OtelBatchObserverLike) => void,
    observables: OtelObservableLike[],
  ): void;
  /** Removes a callback registered with `addBatchObservableCallback`. */
  removeBatchObservableCallback(
    callback: (observer: OtelBatchObserverLike) => void,
    observables: OtelObservableLike[],
  ): void;
}

/** Anything with a `diagnostics()` method: the client of `createCapi`. */
export interface DiagnosticsSource {
  /** Current figures. */
  diagnostics(): DiagnosticsReport;
}

/** Options of {@link diagnosticsToOtel}. */
export interface DiagnosticsToOtelOptions {
  /** Instrument name prefix; default `capi_kit.diagnostics`. */
  prefix?: string;
}

/**
 * Publishes `client.diagnostics()` as OpenTelemetry observable gauges (one report per collection),
 * with `pixel_id` and `event_name` attributes (`match_key` for key coverage). Works with any
 * meter shaped like `@opentelemetry/api`'s (an optional peer dependency). Returns a function that
 * unregisters the callback.
 * @example
 * import { metrics } from '@opentelemetry/api';
 * const stop = diagnosticsToOtel(capi, metrics.getMeter('capi-kit'));
 */
export const diagnosticsToOtel = (
  client: DiagnosticsSource,
  meter: OtelMeterLike,
  options: DiagnosticsToOtelOptions = {},
): (() => void) => {
  const prefix = options.prefix ?? 'capi_kit.diagnostics';
  const gauge = (name: string, description: string, unit?: string) =>
    meter.createObservableGauge(
      `${prefix}.${name}`,
      unit ? { description, unit } : { description },
    );
  const events = gauge('events', 'Events tracked in the diagnostics window', '{event}');
  const matchQuality = gauge(
    'match_quality',
    "Local match-quality estimate 0-10 (not Meta's EMQ; see docs/diagnostics.md)",
  );
  const keyCoverage = gauge('match_key_coverage', 'Share of events carrying a match key', '%');
  const dedupKeyCoverage = gauge(
    'dedup_key_coverage',
    'Deduplicable share of the events whose event_id status is known (supplied, or generated and confirmed by the relay)',
    '%',
  );
  const dedupKeyUnconfirmed = gauge(
    'dedup_key_unconfirmed',
    'Events whose event_id capi-kit generated and no relay event confirmed: unknown whether the Pixel used it',
    '{event}',
  );
  const overlap = gauge(
    'overlap',
    'event_ids seen from both the server and the relay, relative to the smaller source',
    '%',
  );
  const freshnessP50 = gauge(
    'freshness.p50',
    'Median delay from event_time to acknowledgement',
    's',
  );
  const freshnessP95 = gauge('freshness.p95', 'p95 delay from event_time to acknowledgement', 's');
  const observables = [
    events,
    matchQuality,
    keyCoverage,
    dedupKeyCoverage,
    dedupKeyUnconfirmed,
    overlap,
    freshnessP50,
    freshnessP95,
  ];

  const observeEvent = (
    observer: OtelBatchObserverLike,
    attributes: OtelAttributes,
    f: EventDiagnostics,
  ) => {
    observer.observe(events, f.events, attributes);
    if (f.matchQuality !== null) observer.observe(matchQuality, f.matchQuality, attributes);
    // Only where Meta's keys were scored (the estimate is not null): another destination's stream
    // (TikTok) reports zeros there, which observed as 0 % dragged every key's coverage down.
    if (f.matchQuality !== null) {
      for (const [key, value] of Object.entries(f.matchKeyCoverage)) {
        observer.observe(keyCoverage, value, { ...attributes, match_key: key });
      }
    }
    if (f.dedupKeyCoverage !== null)
      observer.observe(dedupKeyCoverage, f.dedupKeyCoverage, attributes);
    observer.observe(dedupKeyUnconfirmed, f.unconfirmedEventIds, attributes);
    if (f.overlap !== null) observer.observe(overlap, f.overlap, attributes);
    if (f.freshness.p50Seconds !== null)
      observer.observe(freshnessP50, f.freshness.p50Seconds, attributes);
    if (f.freshness.p95Seconds !== null)
      observer.observe(freshnessP95, f.freshness.p95Seconds, attributes);
  };

  const callback = (observer: OtelBatchObserverLike) => {
    const report = client.diagnostics();
    for (const pixel of Object.values(report.pixels)) {
      for (const [eventName, f] of Object.entries(pixel.events)) {
        observeEvent(observer, { pixel_id: pixel.pixelId, event_name: eventName }, f);
      }
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
};

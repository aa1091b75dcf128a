export {
  estimateMatchQuality,
  MATCH_KEY_IDENTIFIERS,
  MATCH_KEY_WEIGHTS,
  MATCH_KEYS,
  type MatchKey,
} from './match-quality.js';
export {
  type DiagnosticsSource,
  type DiagnosticsToOtelOptions,
  diagnosticsToOtel,
  type OtelAttributes,
  type OtelBatchObserverLike,
  type OtelMeterLike,
  type OtelObservableLike,
} from './otel.js';
export {
  type AcknowledgedEvent,
  createDiagnosticsRecorder,
  DEFAULT_DIAGNOSTICS_THRESHOLDS,
  DEFAULT_DIAGNOSTICS_WINDOW_MS,
  type DiagnosticsEventSample,
  type DiagnosticsRecorder,
  OTHER_EVENT_NAME,
} from './recorder.js';
export type {
  DiagnosticsFigure,
  DiagnosticsOptions,
  DiagnosticsReport,
  DiagnosticsThresholds,
  DiagnosticsWarning,
  EventDiagnostics,
  EventSource,
  FreshnessFigures,
  PixelDiagnostics,
} from './types.js';

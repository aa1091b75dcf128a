export { appsecretProof, type TokenSource } from './auth.js';
export type { RejectEventsRule } from './control.js';
export {
  computeDatasetQuality,
  DATASET_QUALITY_FIELDS,
  type DatasetQualityDedupeKey,
  type DatasetQualityEvent,
  type DatasetQualityMatchKey,
  type DatasetQualityPercentage,
} from './dataset-quality.js';
export type {
  EventsManagerCopy,
  EventsManagerMatchKey,
  EventsManagerSource,
  EventsManagerValidation,
} from './events-manager-copy.js';
export type {
  EventsManagerDedup,
  EventsManagerFilter,
  EventsManagerRow,
  EventsManagerSummary,
  EventsManagerView,
  FreshnessBucket,
} from './events-manager-view.js';
export type {
  FaultAnswerOptions,
  GraphFault,
  HangFault,
  HttpFault,
  LatencyFault,
  MockFault,
  MockFaultInput,
  MockFaultKind,
  NonMetaSuccessFault,
  RedirectFault,
  ResetFault,
  ShortAckFault,
} from './faults.js';
export type { GraphError } from './graph-error.js';
export { MOCK_USER } from './graph-reads.js';
export {
  DEFAULT_GRAPH_VERSION,
  type MockGraph,
  type MockGraphOptions,
  type MockStats,
  type RejectEventsOptions,
  type RejectEventsPredicate,
  startMockGraph,
} from './mock-graph.js';
export type {
  MockBrowserEvent,
  MockDuplicate,
  MockEvent,
  MockEventFilter,
  MockRecordCounts,
  MockRecorderStats,
  MockRejectedEvent,
  MockRequest,
  WaitForEventsOptions,
} from './recorder.js';
export { TIKTOK_CODE, type TikTokEnvelope } from './tiktok/answers.js';
export { type MockTikTok, TIKTOK_TRACK_PATH } from './tiktok/endpoint.js';
export type {
  TikTokCodeFault,
  TikTokFault,
  TikTokFaultInput,
  TikTokFaultKind,
  TikTokHttpFault,
} from './tiktok/faults.js';
export type {
  MockTikTokBrowserEvent,
  MockTikTokDuplicate,
  MockTikTokEvent,
  MockTikTokEventFilter,
  MockTikTokRejectedEvent,
  MockTikTokRequest,
  WaitForTikTokEventsOptions,
} from './tiktok/recorder.js';
export {
  TIKTOK_MAX_EVENT_AGE_DAYS,
  TIKTOK_MAX_EVENTS,
  type TikTokWireEvent,
} from './tiktok/validate-request.js';
export {
  ACTION_SOURCES,
  type InvalidEvent,
  MAX_EVENTS_PER_REQUEST,
  type MockWireEvent,
} from './validate-events.js';

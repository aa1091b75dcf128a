export { appsecretProof, type TokenSource } from './auth.js';
export type {
  FaultAnswerOptions,
  GraphFault,
  HangFault,
  HttpFault,
  LatencyFault,
  MockFault,
  MockFaultInput,
  MockFaultKind,
  ResetFault,
} from './faults.js';
export type { GraphError } from './graph-error.js';
export {
  DEFAULT_GRAPH_VERSION,
  type MockGraph,
  type MockGraphOptions,
  startMockGraph,
} from './mock-graph.js';
export type {
  MockDuplicate,
  MockEvent,
  MockEventFilter,
  MockRequest,
  WaitForEventsOptions,
} from './recorder.js';
export {
  ACTION_SOURCES,
  type InvalidEvent,
  MAX_EVENTS_PER_REQUEST,
  type MockWireEvent,
} from './validate-events.js';

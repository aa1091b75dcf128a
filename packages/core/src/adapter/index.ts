export type {
  BindOptions,
  BoundRequest,
  CapiAdapter,
  CapiAdapterOptions,
  ForRequestOptions,
  LazyTrackParams,
  RequestCapi,
  TrackParams,
} from './adapter.js';
export { bindRequest, createCapiAdapter } from './adapter.js';

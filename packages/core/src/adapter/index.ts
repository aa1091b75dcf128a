export type {
  BindOptions,
  BoundRequest,
  CapiAdapter,
  CapiAdapterOptions,
  ForRequestOptions,
  LazyTrackParams,
  RequestCapi,
  TrackParams,
  TrackParamsOrNone,
} from './adapter.js';
export {
  bindRequest,
  checkContextOptions,
  conversionCounts,
  createCapiAdapter,
} from './adapter.js';

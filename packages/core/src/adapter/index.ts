export type {
  BindOptions,
  CapiAdapter,
  CapiAdapterOptions,
  LazyTrackParams,
  RequestCapi,
  TrackParams,
} from './adapter.js';
export { bindRequest, createCapiAdapter } from './adapter.js';

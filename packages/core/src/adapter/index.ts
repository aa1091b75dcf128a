export type {
  BindOptions,
  BoundRequest,
  CapiAdapter,
  CapiAdapterOptions,
  CapiAdapterWording,
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
export type { BufferedReply, NodeResponseLike } from './reply-cookies.js';
export { appendReplySetCookies, settleReplySetCookies } from './reply-cookies.js';

import type { KitRequestCapi } from './driver.js';

/**
 * What a request to `/kit/call` asks of the request-bound tracker. It travels in a header so that
 * GET requests (page navigations) carry it too, and the body and URL stay the check's own.
 */
export interface KitCall {
  /** `track(name, params)`. */
  track?: [name: string, params?: Record<string, unknown>];
  /** `track({ ...event, event_id: eventId() })`. */
  event?: Record<string, unknown>;
  /** Answer two fresh `eventId()`s. */
  ids?: boolean;
  /** Answer the request context too. */
  context?: boolean;
  /** Let other requests run before tracking, so concurrent requests interleave. */
  yield?: boolean;
}

/** What `/kit/call` answers. */
export interface KitCallAnswer {
  /** The `TrackResult`. */
  result?: unknown;
  /** Two `eventId()`s. */
  ids?: string[];
  /** The request context. */
  context?: unknown;
}

/**
 * The body of the kit's `/kit/call` route: runs the call described by the `x-kit-call` header
 * against the adapter's request-bound tracker. A driver answers it as JSON.
 * @example app.all('/kit/call', async (req, res) => { res.json(await answerKitCall(req.get('x-kit-call'), req.capi)); })
 */
export async function answerKitCall(
  header: string | readonly string[] | null | undefined,
  capi: KitRequestCapi,
): Promise<KitCallAnswer> {
  const text = typeof header === 'string' ? header : header?.[0];
  const call = (text === undefined || text === '' ? {} : JSON.parse(text)) as KitCall;
  if (call.yield === true) await new Promise((resolve) => setImmediate(resolve));
  const answer: KitCallAnswer = {};
  if (call.track !== undefined) answer.result = capi.track(call.track[0], call.track[1]);
  if (call.event !== undefined)
    answer.result = capi.track({ ...call.event, event_id: capi.eventId() });
  if (call.ids === true) answer.ids = [capi.eventId(), capi.eventId()];
  if (call.context === true) answer.context = capi.context;
  return answer;
}

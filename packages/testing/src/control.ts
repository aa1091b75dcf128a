import type { IncomingMessage } from 'node:http';
import { type Answer, jsonAnswer } from './answers.js';
import type { DatasetQualityEvent } from './dataset-quality.js';
import type { MockFaultInput } from './faults.js';
import type { MockGraph, RejectEventsOptions } from './mock-graph.js';
import { parseBody, readBody } from './request-body.js';
import type { TikTokFaultInput } from './tiktok/faults.js';
import type { MockWireEvent } from './validate-events.js';

/** A control route's JSON answer. */
export interface ControlAnswer {
  status: number;
  value: unknown;
}

/**
 * The JSON form of {@link MockGraph.rejectEvents} for a mock in another process: an event is
 * refused when it matches every condition given.
 */
export interface RejectEventsRule extends RejectEventsOptions {
  /** Refuse events whose `event_id` starts with this. */
  eventIdPrefix?: string;
  /** Refuse events with this `event_name`. */
  eventName?: string;
}

/** Builds the predicate of a JSON rule; a rule without any condition is refused. */
const predicateFor = (rule: RejectEventsRule): ((event: MockWireEvent) => boolean) => {
  const { eventIdPrefix, eventName } = rule;
  if (eventIdPrefix !== undefined && typeof eventIdPrefix !== 'string') {
    throw new TypeError('eventIdPrefix must be a string');
  }
  if (eventName !== undefined && typeof eventName !== 'string') {
    throw new TypeError('eventName must be a string');
  }
  if (eventIdPrefix === undefined && eventName === undefined) {
    // A rule matching everything is more likely a typo than a wish; 100 % is one prefix away.
    throw new TypeError('A reject-events rule needs eventIdPrefix and/or eventName.');
  }
  return (event) =>
    (eventIdPrefix === undefined ||
      (typeof event.event_id === 'string' && event.event_id.startsWith(eventIdPrefix))) &&
    (eventName === undefined || event.event_name === eventName);
};

/**
 * `/_mock/*`: the same inspection and fault API over HTTP, for a mock started with the
 * `capi-kit-mock` bin in another process. Throws `TypeError` for bad input (answered 400).
 */
export const controlRoute = (
  mock: MockGraph,
  route: string,
  input: Record<string, unknown>,
): ControlAnswer => {
  switch (route) {
    case 'GET /_mock/events':
      return { status: 200, value: mock.events() };
    case 'GET /_mock/requests':
      return { status: 200, value: mock.requests() };
    case 'GET /_mock/duplicates':
      return { status: 200, value: mock.duplicates() };
    case 'GET /_mock/browser-events':
      return { status: 200, value: mock.browserEvents() };
    case 'GET /_mock/stats':
      return { status: 200, value: mock.stats() };
    case 'DELETE /_mock/events':
      mock.clearEvents();
      return { status: 200, value: { ok: true } };
    case 'POST /_mock/reset':
      mock.reset();
      return { status: 200, value: { ok: true } };
    case 'POST /_mock/faults':
      mock.failNext(input.fault as MockFaultInput, (input.times ?? 1) as number);
      return { status: 200, value: { ok: true, pending: mock.pendingFaults() } };
    case 'POST /_mock/outage':
      mock.outage(input.fault as MockFaultInput);
      return { status: 200, value: { ok: true } };
    case 'DELETE /_mock/outage':
      mock.recover();
      return { status: 200, value: { ok: true } };
    case 'POST /_mock/reject-events': {
      const rule = input as RejectEventsRule;
      if (rule.field !== undefined && typeof rule.field !== 'string') {
        throw new TypeError('field must be a dotted path such as custom_data.currency');
      }
      mock.rejectEvents(predicateFor(rule), rule.field === undefined ? {} : { field: rule.field });
      return { status: 200, value: { ok: true } };
    }
    // TikTok's endpoint (mock.tiktok), the same verbs under /_mock/tiktok/.
    case 'GET /_mock/tiktok/events':
      return { status: 200, value: mock.tiktok.events() };
    case 'GET /_mock/tiktok/browser-events':
      return { status: 200, value: mock.tiktok.browserEvents() };
    case 'GET /_mock/tiktok/requests':
      return { status: 200, value: mock.tiktok.requests() };
    case 'GET /_mock/tiktok/rejections':
      return { status: 200, value: mock.tiktok.rejections() };
    case 'POST /_mock/tiktok/reset':
      mock.tiktok.reset();
      return { status: 200, value: { ok: true } };
    case 'POST /_mock/tiktok/faults':
      mock.tiktok.failNext(input.fault as TikTokFaultInput, (input.times ?? 1) as number);
      return { status: 200, value: { ok: true, pending: mock.tiktok.pendingFaults() } };
    case 'POST /_mock/tiktok/outage':
      mock.tiktok.outage(input.fault as TikTokFaultInput);
      return { status: 200, value: { ok: true } };
    case 'DELETE /_mock/tiktok/outage':
      mock.tiktok.recover();
      return { status: 200, value: { ok: true } };
    case 'DELETE /_mock/reject-events':
      mock.rejectEvents();
      return { status: 200, value: { ok: true } };
    case 'POST /_mock/dataset-quality':
      mock.setDatasetQuality(
        String(input.pixelId),
        Array.isArray(input.web) ? (input.web as DatasetQualityEvent[]) : undefined,
      );
      return { status: 200, value: { ok: true } };
    default:
      return { status: 404, value: { ok: false, error: `Unknown control route ${route}` } };
  }
};

/**
 * The answer to one `/_mock/*` request the server routes here (control-guard.ts has let it in):
 * its body read as JSON or a form, up to 1 MiB, then {@link controlRoute}; bad input is answered 400.
 */
export const controlAnswer = async (
  mock: MockGraph,
  req: IncomingMessage,
  path: string,
  method: string,
): Promise<Answer> => {
  const raw = await readBody(req, 1024 * 1024);
  // A body the route cannot read is refused, not taken for no input: `{}` made a broken JSON
  // body to /_mock/dataset-quality answer 200 having set nothing, and a test then failed for
  // a reason it could not see.
  if (raw.tooLarge) {
    return jsonAnswer(413, { ok: false, error: 'the control request body is larger than 1 MiB' });
  }
  let input: Record<string, unknown> = {};
  if (raw.bytes.length > 0) {
    const body = parseBody(raw.bytes, req.headers['content-type'] ?? 'application/json');
    if (!body.ok) return jsonAnswer(400, { ok: false, error: body.reason });
    input = body.fields;
  }
  try {
    const answer = controlRoute(mock, `${method} ${path.replace(/\/$/, '')}`, input);
    return jsonAnswer(answer.status, answer.value);
  } catch (error) {
    return jsonAnswer(400, { ok: false, error: String(error) });
  }
};

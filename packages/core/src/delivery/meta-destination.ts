import { type BuildEventOptions, buildEvent, type ServerEventInput } from '../event/index.js';
import {
  classifyResponse,
  type HeadersLike,
  parseGraphError,
  readHeader,
  rejectedEventIndex,
  retryDelayFromHeaders,
} from './classify.js';
import {
  type Classified,
  type Destination,
  type DestinationBuild,
  type Envelope,
  META_DESTINATION,
} from './destination.js';
import { EVENT_WINDOW_MS, PHYSICAL_STORE_WINDOW_MS } from './expiry.js';
import { MAX_EVENTS_PER_REQUEST } from './options.js';

// Meta, expressed as a destination: built from `createCapi`'s own options (one per pixel), so
// today's options mean what they meant. Its rules are the ones the engine hard-coded before:
// `buildEvent`, Meta's body envelope with the token in the suffix, Graph answer classification
// (classify.ts), bisection hints from `$['data'][i]`, `events_received` and `fbtrace_id`.

/** Meta's wire event as `buildEvent` returns it (the fields the core reads). */
interface MetaWire {
  event_id?: unknown;
  event_name: string;
  event_time: number;
  action_source?: unknown;
}

/** A body that opens like a web page: what a wrong `graphUrl` (the app itself, a portal) answers. */
const HTML_START = /^\s*<(?:!doctype|html|head|body|\?xml)\b/i;

/** Longest redirect target told: a `Location` is the answering server's to make as long as it likes. */
const MAX_TARGET = 200;

/**
 * Where a redirect points, without its query, fragment or user name: a login page's or a portal's
 * `Location` may carry a session, a signed return URL or the request's own parameters.
 */
const redirectTarget = (location: string, base: string): string => {
  let target = location.split(/[?#]/, 1)[0] ?? '';
  try {
    const parsed = new URL(location, base);
    if (parsed.origin !== 'null') target = `${parsed.origin}${parsed.pathname}`;
  } catch {
    // Not a URL: what comes before its query is all that is told.
  }
  return target.length > MAX_TARGET ? `${target.slice(0, MAX_TARGET)}…` : target;
};

/**
 * Why an answer that is not an error is not a delivery either: a redirect (not followed: the token
 * would travel to another origin) or a 2xx that is not Meta's acknowledgement. Names the
 * configured URL, which never holds the token.
 */
const notMetaAnswer = (
  url: string,
  status: number,
  body: unknown,
  headers: HeadersLike,
  eventsSent: number,
): string | undefined => {
  if (status >= 300 && status < 400) {
    const location = readHeader(headers, 'location');
    return `HTTP ${status} redirect${location ? ` to ${redirectTarget(location, url)}` : ''} from ${url}; redirects are not followed (check graphUrl / META_GRAPH_URL)`;
  }
  if (status < 200 || status >= 300 || parseGraphError(body)) return undefined;
  const received = (body as { events_received?: unknown } | undefined)?.events_received;
  // Meta's count is a JSON number ([UA] "Response"): `"3"` is some other server's JSON, and told
  // as such rather than as a missing field. Its value is not quoted: it is not Meta's to trust.
  const what =
    typeof received === 'number'
      ? `acknowledged ${received} of ${eventsSent} events`
      : received !== undefined
        ? `events_received is not a number (${received === null ? 'null' : typeof received})`
        : body === undefined
          ? 'an empty body'
          : typeof body === 'string'
            ? HTML_START.test(body)
              ? 'an HTML page'
              : 'a body that is not JSON'
            : 'JSON without events_received';
  return `HTTP ${status} from ${url} is not Meta's acknowledgement (${what}); check graphUrl (or META_GRAPH_URL): it must point at the Graph API (https://graph.facebook.com), not at this app or a proxy`;
};

/**
 * Code 100/33 ("Object with ID … does not exist, cannot be loaded due to missing permissions"):
 * the object is missing or the token may not use it ([MERR]: pixel or token). On the events edge
 * that is most often another id pasted for the pixel id (the app's, the ad account's, the
 * Business's) or a token made for another dataset. Logged as "refused the credentials" with
 * Meta's text alone, it read like a bad token, and the pixel id went unchecked.
 * https://developers.facebook.com/documentation/ads-commerce/marketing-api/error-reference [MERR]
 */
const UNKNOWN_OBJECT_FIX =
  ' (capi-kit: check that pixelId is the dataset (pixel) id shown in Events Manager, not an app, ad account or Business id, and that the access token has access to that dataset)';

/** Meta's answer → the engine's reaction (classify.ts holds the table and its sources). */
const classifyMeta = (
  url: string,
  answer: { status: number; headers: HeadersLike; body: unknown },
  eventsSent: number,
  nowMs: number,
): Classified => {
  const { status, headers, body } = answer;
  const cls = classifyResponse(status, body, headers, eventsSent);
  if (cls === 'success') return { class: cls };
  const out: Classified = { class: cls };
  const notMeta = notMetaAnswer(url, status, body, headers, eventsSent);
  if (notMeta !== undefined) out.message = notMeta;
  const graphError = parseGraphError(body);
  if (graphError) {
    out.graphError = graphError;
    if (graphError.code !== undefined) out.code = graphError.code;
    if (graphError.fbtraceId !== undefined) out.traceId = graphError.fbtraceId;
    const code = graphError.code === undefined ? '' : ` code ${graphError.code}`;
    const sub = graphError.subcode === undefined ? '' : `/${graphError.subcode}`;
    // error_user_msg is where Meta explains which parameter failed and why.
    const detail = [graphError.message, graphError.userTitle, graphError.userMessage]
      .filter((part): part is string => typeof part === 'string' && part !== '')
      .join(' — ');
    out.message = `HTTP ${status}${code}${sub}: ${detail}`.trim();
    // Field paths only (a hidden one where a key looks like customer information), never values.
    if (graphError.blameFields !== undefined) {
      out.message += ` (fields Meta blamed: ${graphError.blameFields.join(', ')})`;
    }
    if (graphError.code === 100 && graphError.subcode === 33) out.message += UNKNOWN_OBJECT_FIX;
    // A 413 blames no event; otherwise Meta may name one (`$['data'][3]…`).
    if (cls === 'invalid' && status !== 413) {
      const named = rejectedEventIndex(graphError, eventsSent);
      if (named !== undefined) out.rejectedIndex = named;
    }
  }
  const retryAfterMs = retryDelayFromHeaders(headers, nowMs);
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  return out;
};

/** Meta's upload window in seconds ([UA]: 7 days; 62 for `physical_store`). */
const metaMaxAgeSeconds = (record: { actionSource: string }): number =>
  (record.actionSource === 'physical_store' ? PHYSICAL_STORE_WINDOW_MS : EVENT_WINDOW_MS) / 1000;

/**
 * One Meta pixel as a destination. `build` is shared by every pixel of a client (the core builds
 * an event once for all destinations sharing a `build`).
 */
export const metaDestination = (
  pixelId: string,
  envelope: Envelope,
  build: Destination<MetaWire>['build'],
): Destination<MetaWire> => ({
  name: META_DESTINATION,
  id: pixelId,
  label: 'Meta',
  build,
  envelope: () => envelope,
  limits: {
    maxEvents: MAX_EVENTS_PER_REQUEST,
    maxBytes: Number.POSITIVE_INFINITY,
    maxAgeSeconds: metaMaxAgeSeconds,
  },
  classify: (answer, eventsSent, nowMs) => classifyMeta(envelope.url, answer, eventsSent, nowMs),
  acknowledgement: (body) => {
    const ack = (body ?? {}) as { events_received?: unknown; fbtrace_id?: unknown };
    return {
      received: typeof ack.events_received === 'number' ? ack.events_received : undefined,
      traceId: typeof ack.fbtrace_id === 'string' ? ack.fbtrace_id : undefined,
    };
  },
});

/**
 * Meta's `build`: `buildEvent` with the client's options, on the build context's clock (the event's
 * one reading) and its `dateOrder` when the call gives one.
 */
export const metaBuild =
  (
    options: Pick<BuildEventOptions, 'defaultCountry' | 'dateOrder'>,
  ): Destination<MetaWire>['build'] =>
  (input: ServerEventInput, context): DestinationBuild<MetaWire> => {
    const { dateOrder, eventId, now } = context;
    // The fixed id when the input has none (the client puts it in the input itself; a direct
    // caller, the destination kit say, relies on the contract). Meta alone passes '': buildEvent
    // then makes one, as before destinations.
    const source =
      eventId !== '' && (input.event_id === undefined || input.event_id === null)
        ? { ...input, event_id: eventId }
        : input;
    const { event, issues } = buildEvent(source, {
      now,
      defaultCountry: options.defaultCountry,
      // A call's own dateOrder, even an invalid one (reported), overrides the client's.
      dateOrder: dateOrder === undefined ? options.dateOrder : dateOrder,
    });
    if (!event) return { issues };
    const wire = event as unknown as MetaWire;
    return {
      event: wire,
      issues,
      eventName: wire.event_name,
      eventTime: wire.event_time,
      actionSource: typeof wire.action_source === 'string' ? wire.action_source : '',
    };
  };

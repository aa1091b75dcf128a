import type { DestinationCaptures } from '../context/destination-context.js';
import { newEventId } from '../event/event-id.js';
import type { ServerEventInput } from '../event/index.js';
import type { Issue } from '../event/issues.js';
import type { DateOrder } from '../user-data/types.js';
import type { Destination } from './destination.js';
import { isExpired } from './expiry.js';
import type { PixelPipe } from './pixel-pipe.js';
import { reportedIssues } from './redact.js';
import { utf8ByteLength } from './transport.js';
import type { DestinationOutcome, DropReason } from './types.js';

// One tracked event, built for each destination it targets (docs/destinations.md): destinations
// that share a `build` (a client's Meta pixels) share the built event and its JSON, so Meta's
// hashing still runs once per event; each stream then takes the event, or drops it for itself
// (its destination's issues, too large for its requests, too old for its platform).

/** One destination's stream: its pipe, and the largest event one of its requests can carry. */
export interface Stream {
  /** `pixelId` of its records, stats and hooks (Meta: the pixel id; others `<name>:<id>`). */
  key: string;
  destination: Destination;
  pipe: PixelPipe;
  /** Bytes an event may have to fit a request with the envelope (else `too_large`). */
  budget: number;
  /** A Meta pixel of the client's own options: its build runs unguarded, diagnostics are Meta's. */
  meta: boolean;
}

/** One destination's build of a tracked event, shared by the streams whose `build` it is. */
export interface Built {
  build: Destination['build'];
  name: string;
  meta: boolean;
  event: unknown;
  issues: Issue[];
  /** Set when this destination cannot take the event: `invalid` (its issues), `error` (it threw). */
  failed: DropReason | undefined;
  serialized: string | undefined;
  bytes: number | undefined;
  eventId: string;
  eventName: string;
  eventTime: number;
  actionSource: string;
  /**
   * What this destination's build threw (`failed` is then `error`): reported by the client once the
   * event is counted, so the figures add up inside the `error` hook.
   */
  thrown: unknown;
}

/** What became of the event for one stream: queued (`reason` undefined) or dropped there. */
export interface StreamOutcome {
  stream: Stream;
  built: Built;
  reason: DropReason | undefined;
}

/** What {@link fanOutEvent} needs of the client. */
export interface FanOutDeps {
  /** Destinations beside Meta: the `event_id` is then fixed before building (`eventId`). */
  fanOut: boolean;
  /** The client's `defaultCountry`, handed to every destination's build. */
  defaultCountry?: string | undefined;
}

/** Per event: the fixed id, the request's captures, the clock and the caller's name for it. */
export interface FanOutInput {
  eventId: string;
  captures: DestinationCaptures | undefined;
  /**
   * The wall clock's one reading for this event, epoch ms: every build's default `event_time`,
   * and the expiry check. Read once by the caller, not once per use (each read is a clock call).
   */
  now: () => number;
  dateOrder: DateOrder | undefined;
  /** The caller's `event_name`, for hooks about a destination that built nothing. */
  fallbackName: string;
}

/** Runs `destination`'s build into `built` (a function of its own: no closure per event). */
const runBuild = (
  built: Built,
  destination: Destination,
  input: ServerEventInput,
  at: FanOutInput,
  deps: FanOutDeps,
): void => {
  const result = destination.build(input, {
    eventId: at.eventId,
    captured: at.captures?.[destination.name],
    now: at.now,
    dateOrder: at.dateOrder,
    defaultCountry: deps.defaultCountry,
  });
  // A path names the caller's own keys (`custom_data.<key>`): one that is an email is hidden
  // before the issues reach the result, the hooks and CapiValidationError's message.
  if (Array.isArray(result?.issues)) built.issues = reportedIssues(result.issues);
  if (result?.event === undefined || result.event === null) return;
  built.event = result.event;
  if (typeof result.eventName === 'string') built.eventName = result.eventName;
  built.eventTime =
    typeof result.eventTime === 'number' ? result.eventTime : Math.floor(at.now() / 1000);
  built.actionSource = typeof result.actionSource === 'string' ? result.actionSource : '';
  const wireId = (result.event as { event_id?: unknown }).event_id;
  if (!deps.fanOut && (typeof wireId !== 'string' || wireId === '')) {
    // Stable from here on: retries resend this exact string, so Meta can deduplicate.
    built.eventId = newEventId();
    built.serialized = JSON.stringify({ ...(result.event as object), event_id: built.eventId });
  } else {
    if (!deps.fanOut) built.eventId = wireId as string;
    built.serialized = JSON.stringify(result.event);
  }
  // Past this point nothing of the caller's is read: custom parameters were serialized above.
  built.bytes = utf8ByteLength(built.serialized);
  built.failed = undefined;
};

/**
 * Builds and serializes the event for one destination. Meta's build runs unguarded, inside
 * intake's `try`, as always (a throwing getter of the caller's is located there); another
 * destination's throw is that destination's failure, dropped for it alone (`error`).
 */
const buildFor = (
  stream: Stream,
  input: ServerEventInput,
  at: FanOutInput,
  deps: FanOutDeps,
): Built => {
  const { destination } = stream;
  const built: Built = {
    build: destination.build,
    name: destination.name,
    meta: stream.meta,
    event: undefined,
    issues: [],
    failed: 'invalid',
    serialized: undefined,
    bytes: undefined,
    eventId: at.eventId,
    eventName: at.fallbackName,
    eventTime: 0,
    actionSource: '',
    thrown: undefined,
  };
  if (stream.meta) {
    runBuild(built, destination, input, at, deps);
    return built;
  }
  try {
    runBuild(built, destination, input, at, deps);
  } catch (error) {
    // Never a Meta build: those reach intake's guard.
    built.failed = 'error';
    built.serialized = undefined;
    built.thrown = error;
  }
  return built;
};

/**
 * The event for every targeted stream: built once per distinct destination build, then taken or
 * dropped per stream (the destination's issues, its request budget, its upload window).
 */
export const fanOutEvent = (
  targets: readonly Stream[],
  input: ServerEventInput,
  at: FanOutInput,
  deps: FanOutDeps,
): { builds: Built[]; outcomes: StreamOutcome[]; accepted: number } => {
  const builds: Built[] = [];
  const outcomes: StreamOutcome[] = [];
  const wallNow = at.now();
  let accepted = 0;
  for (const stream of targets) {
    const { destination } = stream;
    let built: Built | undefined;
    for (const b of builds) {
      if (b.build === destination.build && b.name === destination.name) built = b;
    }
    if (built === undefined) {
      built = buildFor(stream, input, at, deps);
      builds.push(built);
    }
    // A destination that could not build it keeps its reason; otherwise the stream's own limits.
    let reason: DropReason | undefined = built.failed;
    if (reason === undefined) {
      const { eventTime, actionSource } = built;
      if ((built.bytes as number) > stream.budget) reason = 'too_large';
      else if (isExpired({ eventTime, actionSource }, wallNow, destination.limits.maxAgeSeconds)) {
        reason = 'expired';
      } else accepted++;
    }
    outcomes.push({ stream, built, reason });
  }
  return { builds, outcomes, accepted };
};

/** `TrackResult.destinations`: what each stream did with the event. */
export const outcomesByStream = (
  outcomes: readonly StreamOutcome[],
): Record<string, DestinationOutcome> => {
  const out: Record<string, DestinationOutcome> = {};
  for (const { stream, built, reason } of outcomes) {
    const entry: DestinationOutcome = { accepted: reason === undefined, issues: built.issues };
    if (reason !== undefined) entry.reason = reason;
    out[stream.key] = entry;
  }
  return out;
};

/**
 * A `pixelIds` entry read as `createCapi` reads a pixel id: trimmed (`process.env.META_PIXEL_ID`
 * with its trailing newline configured the pixel and matched nothing here), and a whole number
 * (an id read from JSON) as its digits; anything else as given, matching nothing.
 */
const pixelKey = (id: unknown): string =>
  typeof id === 'string' ? id.trim() : Number.isSafeInteger(id) ? String(id) : (id as string);

/**
 * The streams `track()` options select (`pixelIds` by destination id or stream key, `destinations`
 * by name; all without either), or the issue saying which filter matched nothing: destination
 * names are not secrets, so they are listed.
 */
export const selectStreams = (
  streams: readonly Stream[],
  given: readonly string[] | undefined,
  onlyNames: readonly string[] | undefined,
): readonly Stream[] | Issue => {
  if (given === undefined && onlyNames === undefined) return streams;
  const only = given?.map(pixelKey);
  const targets = streams.filter(
    (stream) =>
      (only === undefined || only.includes(stream.destination.id) || only.includes(stream.key)) &&
      (onlyNames === undefined || onlyNames.includes(stream.destination.name)),
  );
  if (targets.length > 0) return targets;
  const byName =
    onlyNames !== undefined && !streams.some((s) => onlyNames.includes(s.destination.name));
  if (!byName) {
    // An id past 2^53 read from JSON as a number lost its last digits before track() saw it.
    const lost = given?.some((id: unknown) => Number.isInteger(id) && !Number.isSafeInteger(id));
    return {
      path: 'pixelIds',
      code: 'unknown_pixel',
      message: `None of the given pixelIds is configured on this client.${lost ? " A pixel id is a string of digits ('1234567890'): a number past 2^53 has lost digits, so quote it." : ''}`,
      severity: 'error',
    };
  }
  const names = [...new Set(streams.map((s) => `'${s.destination.name}'`))].join(', ');
  return {
    path: 'destinations',
    code: 'unknown_destination',
    message: `None of the given destinations is configured on this client; their names are ${names}.`,
    severity: 'error',
  };
};

import { mergeContext } from '../context/index.js';
import { copyForExtension, fillFromContext } from '../context/merge-context.js';
import { isLoopbackClientIp, looksInternalClientIp } from '../diagnostics/internal-client-ip.js';
import type { DiagnosticsRecorder } from '../diagnostics/recorder.js';
import { newEventId } from '../event/event-id.js';
import type { ServerEventInput } from '../event/index.js';
import { CapiValidationError, type Issue } from '../event/issues.js';
import { isInternalClientIp } from '../user-data/client-ip.js';
import {
  type Built,
  type FanOutDeps,
  fanOutEvent,
  outcomesByStream,
  type Stream,
  type StreamOutcome,
  selectStreams,
} from './fan-out.js';
import type { Feedback } from './feedback.js';
import type { HookBus } from './hooks.js';
import type { ResolvedOptions } from './options.js';
import type { OutboxRecord } from './outbox/types.js';
import { reportedEventName, reportedPath } from './redact.js';
import type { Clock, DedupCounters, DropReason, TrackOptions, TrackResult } from './types.js';
import { errorTypeOf, locateUnreadable } from './unreadable.js';

// `track()`'s side of the client: reading the caller's event and options, building it once per
// destination, and handing the records to the outbox or counting the event as an intake drop.
// Everything the caller hands over is read inside one `try`, so a throwing getter, Proxy trap or
// `toJSON` becomes a counted drop and never reaches the caller. The delivery side (the pipes, the
// outbox, close) stays in client.ts, which passes what intake needs as `IntakeDeps`.

/** An event name fit for a log line or a hook: a string the caller gave, nothing else. */
export const nameOf = (eventName: unknown): string =>
  typeof eventName === 'string' ? eventName : '';

/**
 * What a named event's params are when they cannot be its fields, or `undefined` when they can
 * (an object, or none). An `async` map (JavaScript, or a cast) hands over a Promise, whose copy is
 * empty: the event would go out without the data the map was written for, and nothing would say so.
 */
const notEventFields = (params: unknown): string | undefined => {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== 'object') return `a ${typeof params}`;
  if (Array.isArray(params)) return 'an array';
  if (typeof (params as { then?: unknown }).then === 'function') {
    return 'a Promise (a params function must return the fields, not a promise of them)';
  }
  return undefined;
};

/**
 * `track(name, params)` sends `name`: an `event_name` in `params` (copied from an object-form call,
 * or a Pixel's `fbq('track', …)` payload) is not read, which left a caller who meant it unaware.
 */
const eventNameInParams = (): Issue => ({
  path: 'event_name',
  code: 'event_name_in_params',
  message:
    'Given in params, where it is ignored: the first argument of track(name, params) is the name sent. Remove event_name from params, or pass the name you mean as the first argument.',
  severity: 'warning',
});

/**
 * A `user_data.client_ip_address` the caller gave that is loopback, private or link-local (see
 * {@link isInternalClientIp}): Meta matches on the visitor's public address ([CIP], and [PBL]
 * ranks public over private), so it matches no one, and given explicitly it wins over the
 * request's own IP. Sent as given; said, by the rule, never the address.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library
 */
const internalClientIp = (): Issue => ({
  path: 'user_data.client_ip_address',
  code: 'internal_client_ip_address',
  message:
    "An internal address (loopback, private or link-local): a proxy's or the server's own, never a visitor's, so it matches no one; sent as given. Tracking through an adapter's request-bound track (req.capi, @CapiContext(), Next.js withCapi…), leave client_ip_address out (the request's IP is used, with trustProxy behind a proxy); otherwise pass the visitor's public address, not req.socket.remoteAddress behind a proxy.",
  severity: 'warning',
});

/** What intake needs of the client it belongs to. */
export interface IntakeDeps {
  /** `strict` mode: a rejected event is thrown by `track()` (returned here). */
  strict: boolean;
  /** Flush at the end of the tick after each `track()` (serverless). */
  flushOnEnd: boolean;
  /** Default country for phone numbers, handed to every destination's build. */
  defaultCountry: ResolvedOptions['defaultCountry'];
  /** Every stream (a Meta pixel or another destination) in creation order. */
  streams: readonly Stream[];
  /** Destinations beside Meta: `track()` then fixes the `event_id` first and reports per stream. */
  fanOut: boolean;
  /** The wall clock (event times) and the scheduling clock (records' enqueue and retry times). */
  wall: Clock;
  clock: Clock;
  /** This run's prefix of record ids. */
  recordPrefix: string;
  /** `close()` began: new events are refused. */
  isClosed(): boolean;
  /** Intake drops by reason, counted once per event. */
  intakeDrops: Record<DropReason, number>;
  /** Accepted events by source and with a caller-supplied id. */
  dedup: DedupCounters;
  /** Appends one event's records and counts them; what a synchronous append threw, wrapped, or `overflow` (held appends at their bound). */
  enqueue(records: OutboxRecord[], flushNow: boolean): EnqueueRefusal | undefined;
  /** Reports an outbox failure (logger and `error` hook). */
  reportOutboxError(error: unknown): void;
  /** Flushes at the end of this tick; a request-scoped `waitUntil` is handed the wait. */
  scheduleEndFlush(waitUntil: TrackOptions['waitUntil']): void;
  feedback: Feedback;
  hooks: HookBus;
  log(level: 'debug' | 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
  diagnostics: DiagnosticsRecorder | undefined;
  /** Runs a diagnostics step; a failure is logged, never thrown. */
  observe(now: number, what: string, fn: (now: number) => void): void;
  /** Reports an app callback's error (`client.reportError`). */
  reportError(error: unknown, source: string): void;
  /** True until the client has said that events carry an internal client IP (or a proxy's). */
  internalClientIpUntold(): boolean;
  /** Says once that events carry an internal `client_ip_address` from the request's context. */
  reportInternalClientIp(): void;
}

/** Why `enqueue` did not take an event: a synchronous append threw, or held appends are at their bound. */
export type EnqueueRefusal = { error: unknown } | { overflow: true };

/** `track()` without its throw: the result, or the rejection strict mode throws. */
export type Intake = (
  input: unknown,
  trackOptions: TrackOptions | undefined,
) => TrackResult | CapiValidationError;

/** Creates a client's intake. */
export const createIntake = (deps: IntakeDeps): Intake => {
  // Read once: the closure keeps them as its own slots, as when they lived in createCapi.
  const { strict, flushOnEnd, defaultCountry, streams, fanOut, wall, clock, recordPrefix } = deps;
  const { isClosed, intakeDrops, dedup, enqueue, reportOutboxError, scheduleEndFlush } = deps;
  const { feedback, hooks, log, diagnostics, observe, reportError } = deps;
  const { internalClientIpUntold, reportInternalClientIp } = deps;
  let recordSeq = 0;

  const dropAtIntake = (
    reason: DropReason,
    givenId: string,
    eventName: unknown,
    issues: Issue[],
  ): TrackResult => {
    // An event refused before it had an id still gets one: the page fires the browser Pixel's
    // copy with `event_id` whatever the server did with its own (`if (result.event_id)` in the
    // Next.js README), and a fresh id keeps that copy its own event. Meta deduplicates on
    // event_name + event_id, so an id no server event carries is counted once (capi.md §6).
    const eventId = givenId === '' ? newEventId() : givenId;
    intakeDrops[reason]++;
    if (reason !== 'invalid') feedback.dropped(reason, nameOf(eventName));
    hooks.emit('dropped', () => ({
      reason,
      count: 1,
      events: [{ eventId, eventName: reportedEventName(nameOf(eventName)) }],
    }));
    return { event_id: eventId, accepted: false, issues, reason };
  };

  /** An event no destination may take for `issues`: an intake drop, reported, or strict mode's throw. */
  const rejectAll = (
    givenId: string,
    eventName: unknown,
    issues: Issue[],
  ): TrackResult | CapiValidationError => {
    // strict mode: the caller asked for the throw (track() throws what is returned here).
    if (strict) {
      dropAtIntake('invalid', givenId, eventName, issues);
      return new CapiValidationError(issues);
    }
    // Counted before it is reported: the figures add up inside the `error` hook too.
    const dropped = dropAtIntake('invalid', givenId, eventName, issues);
    const error = new CapiValidationError(issues);
    feedback.rejected(nameOf(eventName), issues);
    hooks.emit('error', () => ({ kind: 'validation', error, issues }));
    return dropped;
  };

  /** Adds the per-stream outcomes to a result, on clients with destinations beside Meta. */
  const withOutcomes = (result: TrackResult, outcomes: readonly StreamOutcome[]): TrackResult => {
    if (fanOut) result.destinations = outcomesByStream(outcomes);
    return result;
  };

  // A destination's build that throws is that destination's failure, reported with its stream.
  const fanOutDeps: FanOutDeps = { fanOut, defaultCountry };

  /**
   * Reports each destination build among `outcomes` that threw, once per build, under the first
   * stream it was for. Called once the event is counted (queued or dropped), never before.
   */
  const reportBuildFailures = (outcomes: readonly StreamOutcome[]) => {
    const reported = new Set<Built>();
    for (const { stream, built } of outcomes) {
      if (built.failed !== 'error' || reported.has(built)) continue;
      reported.add(built);
      const errorType = errorTypeOf(built.thrown);
      const what = `destination ${stream.destination.name} could not build the event (${errorType})`;
      log('error', { pixelId: stream.key, errorType }, `capi-kit: ${what}`);
      hooks.emit('error', () => ({
        kind: 'internal',
        pixelId: stream.key,
        error: new Error(what),
      }));
    }
  };

  /** Streams that could not take an event other streams queued: counted and reported there only. */
  const rejectedByStreams = (outcomes: readonly StreamOutcome[], eventId: string) => {
    // Every stream counts first: the figures add up inside the hooks reported below.
    for (const { stream, reason } of outcomes) {
      if (reason !== undefined) stream.pipe.noteRejected(reason);
    }
    for (const outcome of outcomes) {
      if (outcome.reason === undefined) continue;
      const { stream, built, reason } = outcome;
      const name = built.eventName;
      stream.pipe.reportRejected(reason, eventId, name);
      if (reason === 'invalid') {
        const issues = built.issues;
        feedback.rejected(name, issues);
        hooks.emit('error', () => ({
          kind: 'validation',
          pixelId: stream.key,
          error: new CapiValidationError(issues),
          issues,
        }));
      } else if (reason === 'too_large') {
        log(
          'warn',
          { pixelId: stream.key, eventId, bytes: built.bytes },
          'capi-kit: event larger than maxBatchBytes, dropped for this destination',
        );
      }
    }
  };

  /**
   * Everything `track()` does, with every read of the caller's data (input, lazy params, options,
   * the context in them) inside its one `try`: a throwing getter, Proxy trap or `toJSON` never
   * reaches the caller, it becomes an intake drop like any other. A `strict`-mode rejection is
   * returned, not thrown, so the `catch` only ever sees what the caller's data (or a bug) threw.
   */
  const intake = (
    input: unknown,
    trackOptions: TrackOptions | undefined,
  ): TrackResult | CapiValidationError => {
    // What the failure path needs, filled in as reading goes.
    let givenId = '';
    let eventName: unknown;
    let params: unknown = input;
    let callingParams = false;
    /** What intake itself found in the caller's data, told first by every build (rarely any). */
    let intakeIssues: Issue[] | undefined;
    let queued: TrackResult | undefined;
    try {
      let context: TrackOptions['context'];
      let waitUntil: TrackOptions['waitUntil'];
      let only: TrackOptions['pixelIds'];
      let source: TrackOptions['source'];
      let name: TrackOptions['eventName'];
      let dateOrder: TrackOptions['dateOrder'];
      let onlyNames: TrackOptions['destinations'];
      if (trackOptions !== undefined && trackOptions !== null) {
        ({
          context,
          waitUntil,
          pixelIds: only,
          source,
          eventName: name,
          dateOrder,
          destinations: onlyNames,
        } = trackOptions);
        // From JavaScript a lone string or number may come in: a list of one, never a substring
        // match.
        if (typeof only === 'string' || typeof only === 'number') only = [only];
        if (typeof onlyNames === 'string') onlyNames = [onlyNames];
      }
      if (name !== undefined) {
        // `req.capi.track(name, params)` hands its params over unread, so they are read here.
        eventName = name;
        if (typeof params === 'function') {
          callingParams = true;
          params = params();
          callingParams = false;
        }
        const shape = notEventFields(params);
        if (shape !== undefined) {
          const issues: Issue[] = [
            {
              path: 'event',
              code: 'invalid_event',
              message: `The event's fields must be an object; got ${shape}.`,
              severity: 'error',
            },
          ];
          return rejectAll(givenId, name, issues);
        }
        const named = (params == null ? {} : copyForExtension(params)) as Record<string, unknown>;
        const inParams = named.event_name;
        if (inParams !== undefined && inParams !== null && inParams !== name) {
          // Sent as `name`, and said.
          intakeIssues = [eventNameInParams()];
        }
        named.event_name = name;
        params = named;
      }
      const given = (params as { event_id?: unknown } | null | undefined)?.event_id;
      if (typeof given === 'string') givenId = given;
      else if (typeof given === 'number' && Number.isFinite(given)) givenId = String(given);
      eventName = (params as { event_name?: unknown } | null | undefined)?.event_name;
      if (isClosed()) return dropAtIntake('closed', givenId, eventName, []);
      const targets = selectStreams(streams, only, onlyNames);
      if ('path' in targets) return dropAtIntake('invalid', givenId, eventName, [targets]);
      if (context?.consent === 'denied') return dropAtIntake('consent', givenId, eventName, []);
      // The caller's own IP, before the context's is filled in: an internal one wins over the
      // request's and matches no one. The context's own is not checked here (a proxy's is told by
      // reportProxyNotTrusted; a direct loopback peer is local development).
      const givenUserData = (params as { user_data?: unknown } | null | undefined)?.user_data;
      const givenIp =
        typeof givenUserData === 'object' && givenUserData !== null
          ? (givenUserData as { client_ip_address?: unknown }).client_ip_address
          : undefined;
      if (typeof givenIp === 'string' && isInternalClientIp(givenIp)) {
        intakeIssues = [...(intakeIssues ?? []), internalClientIp()];
      }
      // A named event's params were copied above: the context fills that copy (one copy, not two).
      let merged = (
        context
          ? name !== undefined
            ? fillFromContext(params as ServerEventInput, context)
            : mergeContext(params as ServerEventInput, context)
          : params
      ) as ServerEventInput | undefined;
      // The wall clock, read once for the event: its default event_time in every build, the expiry
      // check and diagnostics (each read is a clock call, 50-85 ns on the machines of 2026).
      const wallNow = wall.now();
      // One event_id for every destination, fixed before any of them builds, so each platform
      // deduplicates with its own Pixel on the id the page got. Meta alone keeps building it
      // itself (buildEvent), exactly as before destinations.
      let fixedId: string | undefined;
      if (fanOut) {
        if (given === undefined || given === null) {
          fixedId = newEventId();
          merged = { ...(merged as ServerEventInput), event_id: fixedId };
        } else fixedId = givenId.trim() === '' ? '' : givenId;
        // One event_time too: each destination reading the clock itself could straddle a second.
        const time = (merged as ServerEventInput).event_time;
        if (time === undefined || time === null) {
          merged = { ...(merged as ServerEventInput), event_time: Math.floor(wallNow / 1000) };
        }
      }
      const {
        builds,
        outcomes,
        accepted: acceptedCount,
      } = fanOutEvent(
        targets,
        merged as ServerEventInput,
        {
          eventId: fixedId ?? '',
          captures: fanOut ? context?.destinations : undefined,
          now: () => wallNow,
          dateOrder,
          fallbackName: nameOf(eventName),
        },
        fanOutDeps,
      );
      if (intakeIssues !== undefined) {
        // Told first, by every build, before whatever each found (they explain what was sent). A
        // new array and new issues each, since a destination's build may return its own array.
        for (const built of builds) {
          built.issues = [...intakeIssues.map((issue) => ({ ...issue })), ...built.issues];
        }
      }
      // What the caller is told first: Meta's findings when Meta was asked, else everyone's.
      const metaBuilt = builds.find((b) => b.meta);
      const issues = metaBuilt ? metaBuilt.issues : builds.flatMap((b) => b.issues);
      const eventId = fixedId ?? builds[0]?.eventId ?? givenId;
      if (acceptedCount === 0) {
        // No destination took it: one intake drop, as when Meta alone rejects an event.
        const first = outcomes[0] as StreamOutcome;
        const invalid = outcomes.every((o) => o.reason === 'invalid');
        if (invalid) {
          const rejected = rejectAll(givenId, eventName, issues);
          return rejected instanceof CapiValidationError
            ? rejected
            : withOutcomes(rejected, outcomes);
        }
        const failed = outcomes.find((o) => o.reason !== 'invalid') ?? first;
        const reason = failed.reason as DropReason;
        const wireName = failed.built.eventName;
        if (reason === 'too_large') {
          log(
            'warn',
            { eventId, bytes: failed.built.bytes },
            'capi-kit: event larger than maxBatchBytes, dropped',
          );
        }
        const dropped = dropAtIntake(reason, eventId, wireName, issues);
        reportBuildFailures(outcomes);
        return withOutcomes(dropped, outcomes);
      }
      const now = clock.now();
      const records: OutboxRecord[] = [];
      for (const outcome of outcomes) {
        if (outcome.reason !== undefined) continue;
        const { built, stream } = outcome;
        records.push({
          id: recordPrefix + (recordSeq++).toString(36),
          pixelId: stream.key,
          eventId,
          eventName: built.eventName,
          eventTime: built.eventTime,
          actionSource: built.actionSource,
          body: built.serialized as string,
          bytes: built.bytes as number,
          attempts: 0,
          enqueuedAt: now,
          retryAt: now,
        });
      }
      const wireName =
        (metaBuilt?.serialized !== undefined
          ? metaBuilt
          : builds.find((b) => b.serialized !== undefined)
        )?.eventName ?? nameOf(eventName);
      const flushNow = flushOnEnd || waitUntil !== undefined;
      const refused = enqueue(records, flushNow);
      if (refused !== undefined) {
        if ('overflow' in refused) return dropAtIntake('overflow', eventId, wireName, issues);
        const dropped = dropAtIntake('error', eventId, wireName, issues);
        reportOutboxError(refused.error);
        return dropped;
      }
      // Counted as accepted from here: a later failure must not count it as dropped too.
      queued = withOutcomes({ event_id: eventId, accepted: true, issues }, outcomes);
      // Streams that could not take it while others did: dropped there only, counted there.
      if (acceptedCount < outcomes.length) {
        rejectedByStreams(outcomes, eventId);
        reportBuildFailures(outcomes);
      }
      // Each build's warnings under the name it sent (Meta's Purchase, TikTok's CompletePayment when renamed), once per
      // build: a rejection elsewhere was reported by rejectedByStreams, under that stream.
      outcomes.forEach(({ built, reason }, i) => {
        if (reason !== undefined || built.issues.length === 0) return;
        const again = outcomes.some((o, j) => j < i && o.built === built && o.reason === undefined);
        if (!again) feedback.changed(built.eventName, built.issues);
      });
      if (flushNow) scheduleEndFlush(waitUntil);
      const from = source === 'relay' ? 'relay' : 'server';
      // Caller-supplied (or browser-supplied, through the relay) ids are the ones a Pixel can share.
      const callerEventId = given !== undefined && given !== null;
      // A placeholder id (`order-undefined`) is shared by every such event, and Meta keeps only
      // the first per event name: counted as not deduplicable, so the dedup-key coverage says so.
      const placeholderId =
        callerEventId && issues.length > 0 && issues.some((i) => i.code === 'placeholder_event_id');
      dedup[from]++;
      if (callerEventId) dedup.withEventId++;
      // Diagnostics per stream that took the event: Meta's pixels with the match-quality estimate
      // (Meta's keys, one sample for all of them); every other destination's stream with the
      // figures that mean the same on any platform (events, dedup keys, sources, overlap).
      if (diagnostics) {
        const metaTargets: string[] = [];
        for (const o of outcomes) {
          if (o.reason !== undefined) continue;
          if (o.stream.meta) metaTargets.push(o.stream.key);
          else {
            const { stream, built } = o;
            observe(wallNow, 'track', (at) =>
              diagnostics?.recordEvent(
                {
                  pixelIds: [stream.key],
                  eventName: built.eventName,
                  eventId,
                  userData: false,
                  callerEventId,
                  source: from,
                  eventIdNeverShared: placeholderId,
                },
                at,
              ),
            );
          }
        }
        if (metaBuilt !== undefined && metaTargets.length > 0) {
          const metaEvent = metaBuilt.event as { user_data?: object };
          // The context's IP, internal: the app is behind a proxy trustProxy does not reach past
          // (the estimate leaves it out). The caller's own carries an issue instead; a loopback
          // one is a browser on this machine, in development. A prefix look, until said once.
          if (givenIp === undefined && internalClientIpUntold()) {
            const ip = (metaEvent.user_data as { client_ip_address?: unknown } | undefined)
              ?.client_ip_address;
            if (typeof ip === 'string' && looksInternalClientIp(ip) && !isLoopbackClientIp(ip)) {
              reportInternalClientIp();
            }
          }
          observe(wallNow, 'track', (at) =>
            diagnostics?.recordEvent(
              {
                pixelIds: metaTargets,
                eventName: metaBuilt.eventName,
                eventId,
                userData: metaEvent.user_data,
                actionSource: metaBuilt.actionSource,
                callerEventId,
                source: from,
                eventIdNeverShared: placeholderId,
              },
              at,
            ),
          );
        }
      }
      return queued;
    } catch (error) {
      return failedIntake(error, {
        input: params,
        trackOptions,
        givenId,
        eventName,
        callingParams,
        queued,
      });
    }
  };

  /**
   * What a throw inside {@link intake} becomes. Never the thrown value or its message (the
   * caller's getter may have put customer data in it): the field it came from and its type.
   */
  const failedIntake = (
    error: unknown,
    failure: {
      input: unknown;
      trackOptions: unknown;
      givenId: string;
      eventName: unknown;
      callingParams: boolean;
      queued: TrackResult | undefined;
    },
  ): TrackResult | CapiValidationError => {
    const { givenId, eventName } = failure;
    if (failure.queued) {
      // Only our own code runs after the event is queued; report it and keep the event.
      const errorType = errorTypeOf(error);
      log('error', { errorType }, `capi-kit: track() failed after queueing (${errorType})`);
      hooks.emit('error', () => ({
        kind: 'internal',
        error: new Error(`track() failed after queueing (${errorType})`),
      }));
      return failure.queued;
    }
    if (failure.callingParams) {
      // A lazy params function (an adapter's `map`) is app code, reported like every callback;
      // it never throws, not even in strict mode: it runs after the response was sent.
      const dropped = dropAtIntake('error', '', eventName, []);
      reportError(error, `${reportedEventName(nameOf(eventName))} params`);
      return dropped;
    }
    const found = locateUnreadable([
      ['options', failure.trackOptions],
      ['', failure.input],
    ]);
    if (found === undefined) {
      // Every read succeeds on a second look: our bug, or a getter that throws only once.
      const dropped = dropAtIntake('error', givenId, eventName, []);
      const errorType = errorTypeOf(error);
      log(
        'error',
        { eventName: reportedEventName(nameOf(eventName)), errorType },
        `capi-kit: track() failed (${errorType})`,
      );
      hooks.emit('error', () => ({
        kind: 'internal',
        error: new Error(`track() failed (${errorType})`),
      }));
      return dropped;
    }
    // The path names the caller's keys on the way to the getter: one that is an email is hidden.
    const path = reportedPath(found.path);
    const issues: Issue[] = [
      {
        path,
        code: 'unreadable_value',
        message: `Reading this field threw ${found.errorType} (from a getter, a Proxy trap or toJSON); the event was not tracked.`,
        severity: 'error',
      },
    ];
    const rejection = new CapiValidationError(issues);
    const result = dropAtIntake('invalid', givenId, eventName, issues);
    if (!strict) {
      log(
        'warn',
        {
          eventName: reportedEventName(nameOf(eventName)),
          issues: [`${path}:unreadable_value`],
        },
        'capi-kit: event rejected, its data could not be read',
      );
      hooks.emit('error', () => ({ kind: 'validation', error: rejection, issues }));
    }
    return strict ? rejection : result;
  };

  return intake;
};

// Over 500 lines: createCapi is one closure; the pipes, outbox calls and shutdown share its state.
// What needs little of it lives beside: intake.ts (track()'s side, handed what it needs),
// client-appends.ts (an event's records into the outbox, counted), adopt.ts (a durable outbox's
// start-up count), fan-out.ts (an event per destination, which streams it targets),
// client-stats.ts (the counters summed), exit-close.ts (closeOnExit), client-close.ts (what
// close() does once started), close-outbox.ts (its last calls on the outbox, then the outbox's
// own close), proxy-not-trusted.ts (what reportProxyNotTrusted says).

import type { ProxyNotTrustedCause } from '../context/trust-proxy.js';
import {
  createDiagnosticsRecorder,
  DEFAULT_DIAGNOSTICS_WINDOW_MS,
  describeDiagnosticsWarning,
  diagnosticsOptionsOf,
} from '../diagnostics/recorder.js';
import type { DiagnosticsReport } from '../diagnostics/types.js';
import { newEventId } from '../event/event-id.js';
import type { EventName, ServerEventInput } from '../event/index.js';
import { CapiValidationError } from '../event/issues.js';
import { type Adoption, adoptPreviousRun } from './adopt.js';
import { createAppends } from './client-appends.js';
import {
  CloseDeadline,
  closeClient,
  deadlineMs,
  deadlineTimer,
  optionsDeadlineMs,
} from './client-close.js';
import { emptyDrops, sumStats } from './client-stats.js';
import { schedulingClock } from './clock.js';
import { delegatedTestCodeWarning } from './delegated-test-code.js';
import type { Destination, Envelope } from './destination.js';
import { closeAtExit } from './exit-close.js';
import type { Stream } from './fan-out.js';
import { Feedback } from './feedback.js';
import { HookBus, type Listener } from './hooks.js';
import { createIntake } from './intake.js';
import { countLiveClient } from './live-clients.js';
import { metaBuild, metaDestination } from './meta-destination.js';
import { misspeltOptionsWarning } from './misspelt-options.js';
import { MAX_EVENTS_PER_REQUEST, resolveOptions } from './options.js';
import { memoryOutbox } from './outbox/memory.js';
import type { Outbox, OutboxRecord, OutboxStats } from './outbox/types.js';
import { countOutboxCalls, isPromise } from './outbox-calls.js';
import { assertOutboxFree, holdOutbox } from './outbox-holder.js';
import { PixelPipe } from './pixel-pipe.js';
import { productionTestCodeWarning } from './production-test-code.js';
import {
  INTERNAL_CLIENT_IP_WARNING,
  proxyNotTrustedHeader,
  proxyNotTrustedWarning,
} from './proxy-not-trusted.js';
import { describeError } from './redact.js';
import { requestHeaders, utf8ByteLength } from './transport.js';
import type {
  CapiHookMap,
  CapiOptions,
  CapiStats,
  TrackOptions,
  TrackResult,
  UndeliverableReason,
} from './types.js';

/** Options of `close()`. */
export interface CloseOptions {
  /** Hard deadline: in-flight requests are aborted and `close()` resolves by then. Default 2000 ms. */
  timeoutMs?: number | undefined;
}

/** Options of `drain()`. */
export interface DrainOptions {
  /** Longest wait in ms; default 10 000. */
  timeoutMs?: number | undefined;
}

/** The client returned by {@link createCapi}. */
export interface CapiClient {
  /**
   * Builds, validates and queues one event for every configured pixel. Synchronous and O(1); never
   * throws (except `CapiValidationError` in `strict` mode) and never returns a promise, whatever it
   * is handed: an input or options whose getter, Proxy trap or `toJSON` throws, or a revoked Proxy,
   * is dropped as `invalid` with an `unreadable_value` issue naming the field (docs/architecture.md).
   */
  track<Name extends EventName>(input: ServerEventInput<Name>, options?: TrackOptions): TrackResult;
  /**
   * Sends what is queued now. Resolves when every event queued or in flight at the call has been
   * attempted at least once — delivered, dead-lettered, dropped, or re-queued after a failure and
   * now waiting on backoff, a throttle pause or an open circuit — so it does not wait out backoffs
   * (use `close()` for that), nor a durable outbox's start-up count that failed or has not answered
   * in 10 s (docs/architecture.md). Events tracked after the call may ride along but are not waited
   * for. Never rejects.
   */
  flush(): Promise<void>;
  /**
   * Stops intake (`track` → not accepted, reason `closed`), sends what is queued (waiting out
   * pauses that end before the deadline; no request starts at or after it, so `timeoutMs: 0` sends
   * nothing), aborts requests still in flight at the deadline and resolves by `timeoutMs`. With
   * the default in-memory outbox, leftovers are counted as dropped (`shutdown`) and passed to
   * `onUndeliverable`; a durable outbox keeps them, except records it could only hold in memory
   * (`Outbox.takeNonDurable`), which are counted the same way. Never rejects. Calling it again
   * returns the same promise; a call whose deadline (now + its `timeoutMs`) comes sooner than the
   * running close's brings it forward, so the promise resolves by the sooner one (a SIGTERM hook's
   * short budget after the app's own `close()`), and one whose deadline comes later changes nothing.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * Waits until every event queued or in flight at the call has been delivered, dead-lettered or
   * dropped, waiting out backoffs and pauses, or until `timeoutMs` (default 10 000) passes; with a
   * durable outbox, until it holds them (committed), then one `flush()`. Intake stays open and
   * nothing is aborted. What a request-scoped `waitUntil` (Next's `after()`, Cloudflare's
   * `ctx.waitUntil`) is handed, so a platform keeps the invocation alive until its events are
   * delivered, not just tried once. Once `close()` began, it waits for the close, still no
   * longer than its own `timeoutMs`. Never rejects.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** Counters, totals and per pixel. Synchronous. */
  stats(): CapiStats;
  /**
   * Per pixel and event name over the rolling window: the local match-quality estimate (not Meta's
   * EMQ), match-key and dedup-key coverage, browser/server overlap and freshness
   * (docs/diagnostics.md). Synchronous.
   */
  diagnostics(): DiagnosticsReport;
  /** Subscribes to a hook; returns the unsubscribe function. Listener failures are contained. */
  on<K extends keyof CapiHookMap>(name: K, listener: Listener<CapiHookMap[K]>): () => void;
  /**
   * Closes an open auth circuit and lifts pauses for one pixel (or all), then sends what waits;
   * events given back with a backoff of their own (a retry, a throttle) still wait it out. An id
   * this client doesn't have is logged as a warning, naming the ids it has.
   */
  resume(pixelId?: string): void;
  /**
   * Reports an error from code around the client (an adapter's `map` or `when` callback) through
   * the logger and the `error` hook, redacted, instead of letting it reach the user's request.
   */
  reportError(error: unknown, source: string): void;
  /**
   * Says a first-party relay feeds this client browser events (`createRelay` calls it): diagnostics
   * then remember `event_id`s to find the browser/server pairs, which without a relay never show.
   */
  attachRelay(): void;
  /**
   * Reports a request the first-party relay refused (`createRelay` calls it) through the client's
   * feedback: a warn line per reason, then a count per minute. The browser never reads the relay's
   * answer, so without it a page whose beacons are all refused (another pixel ID, an old browser
   * module) would say nothing anywhere.
   */
  reportRelayRefusal(reason: string, status: number, text: string): void;
  /**
   * Reports an event the first-party relay dropped from a request it accepted (`createRelay` calls
   * it), `eventName` as the page sent it: a warn line per reason, then a count per minute; with
   * `developmentOnly`, in development only. Optional for hand-made clients.
   */
  reportRelayEventDrop?(
    reason: string,
    eventName: string | undefined,
    text: string,
    developmentOnly?: boolean,
  ): void;
  /**
   * Says a request came through a proxy (it carries `header`) and the client IP found for it is
   * internal (loopback, private, link-local): a proxy's address, because `trustProxy` does not
   * reach past that proxy; with `cause` `'unix-socket'`, that the proxy is on a Unix socket, which
   * a list of ranges cannot match, so no IP was found. Adapters and the relay call it; one warning
   * per client, since every such event carries an address that matches no visitor, or none.
   * `note`, from the adapter, is added in its framework's terms (Express: its own `trust proxy`
   * setting is not read).
   */
  reportProxyNotTrusted(header: string, cause?: ProxyNotTrustedCause, note?: string): void;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /**
   * The destinations beside Meta this client sends to (`options.destinations`, checked): an
   * adapter given this client as `client` reads their request needs from here.
   */
  readonly destinations?: readonly Destination[];
}

/** Default bound of `drain()`, and of the wait a request-scoped `waitUntil` is handed. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Creates a Conversions API client: `track()` on the request path, batching, retries, throttling,
 * bisection of rejected batches and graceful shutdown in the background. Throws (at creation
 * only) when no pixel or token is configured.
 *
 * @example
 * const capi = createCapi({ pixelId: '123', accessToken: process.env.META_ACCESS_TOKEN });
 * const { event_id } = capi.track({ event_name: 'Purchase', action_source: 'website', … });
 */
export const createCapi = (options: CapiOptions = {}): CapiClient => {
  const resolved = resolveOptions(options);
  if (options.outbox !== undefined) assertOutboxFree(options.outbox);
  const { logger, redact } = resolved;
  // Wall time for event_time, Meta's window and diagnostics; scheduling time for everything that waits.
  const wall = resolved.clock;
  const clock = schedulingClock(wall);
  const hooks = new HookBus(logger);
  const feedback = new Feedback({
    warn: (obj, msg) => log('warn', obj, msg),
    development: resolved.development,
    clock,
  });
  // A given outbox's calls are counted while they run (close() closes it only after them); the
  // default in-memory one answers every call at once.
  const calls = options.outbox === undefined ? undefined : countOutboxCalls(options.outbox);
  const outbox: Outbox =
    calls?.outbox ??
    memoryOutbox({ maxEvents: resolved.maxQueuedEvents, maxBytes: resolved.maxQueuedBytes });
  const intakeDrops = emptyDrops();
  const dedup = { server: 0, relay: 0, withEventId: 0 };
  const diagnosticsOptions = diagnosticsOptionsOf(options.diagnostics);
  const diagnostics =
    diagnosticsOptions === undefined ? undefined : createDiagnosticsRecorder(diagnosticsOptions);
  /** close() called the outbox's own `close()`: `flush()` leaves it alone from then on. */
  let outboxClosed = false;
  let releaseOutbox: (() => void) | undefined;
  const recordPrefix = `${newEventId().slice(0, 8)}-`;
  let closed = false;
  let closing: Promise<void> | undefined;
  let endFlushScheduled = false;
  const endFlushWaiters = new Set<(promise: Promise<unknown>) => void>();
  let cachedOutboxStats: OutboxStats | undefined;
  let proxyNotTrustedTold = false;
  /** Said that events carry an internal client IP from the request's context (intake.ts). */
  let internalClientIpTold = false;

  const log = (
    level: 'debug' | 'info' | 'warn' | 'error',
    obj: Record<string, unknown>,
    msg: string,
  ) => {
    try {
      logger[level](obj, redact(msg));
    } catch {
      // A throwing logger must not break the caller.
    }
  };

  const level = resolved.development ? 'warn' : 'info';
  // Diagnostics never break delivery: a failure is logged and the figures stay as they were.
  const observe = (now: number, what: string, fn: (now: number) => void) => {
    if (!diagnostics) return;
    try {
      for (const warning of diagnostics.takeWarnings(now)) {
        const message = describeDiagnosticsWarning(warning);
        const { figure, pixelId, eventName, value, threshold } = warning;
        // An advisory, not a failure: quiet in production unless the app's logger shows `info`.
        log(level, { pixelId, eventName, figure, value, threshold }, message);
        hooks.emit('warn', () => ({ message, pixelId, diagnostics: warning }));
      }
      fn(now);
    } catch (error) {
      log('error', {}, `capi-kit: diagnostics ${what} failed: ${describeError(error, redact)}`);
    }
  };

  const keepAlive = (
    promise: Promise<unknown>,
    extra?: Iterable<(p: Promise<unknown>) => void>,
  ) => {
    const targets = [...(extra ?? [])];
    if (resolved.waitUntil) targets.push(resolved.waitUntil);
    for (const waitUntil of targets) {
      try {
        waitUntil(promise);
      } catch (error) {
        log('warn', { error: describeError(error, redact) }, 'capi-kit: waitUntil threw');
      }
    }
  };

  const undeliverable = (records: readonly OutboxRecord[], reason: UndeliverableReason) => {
    const sink = resolved.onUndeliverable;
    if (!sink || records.length === 0) return;
    try {
      const result = sink(records, reason);
      if (isPromise(result)) {
        result.then(undefined, (error: unknown) =>
          log(
            'error',
            { reason, error: describeError(error, redact) },
            'capi-kit: onUndeliverable rejected',
          ),
        );
      }
    } catch (error) {
      log(
        'error',
        { reason, error: describeError(error, redact) },
        'capi-kit: onUndeliverable threw',
      );
    }
  };

  const buildOptions = { defaultCountry: resolved.defaultCountry, dateOrder: resolved.dateOrder };

  /** A durable outbox's start-up count (adopt.ts), set once the pipes exist. */
  let adoption: Adoption | undefined;
  /**
   * `work` (a flush) as flush() and the background keep-alives wait for it: a start-up count still
   * unknown holds every outbox call, and one that failed (asked again after a pause) or is long in
   * coming is not waited out, like a pause; one that answers is, and the work then with it.
   * close() and drain() bound their waits themselves.
   */
  const pastCount = <T>(work: Promise<T>): Promise<unknown> => {
    const count = adoption?.wait();
    if (count === undefined) return work;
    return Promise.race([work.then(() => 'done' as const), count]).then((first) =>
      first === 'known' ? work : undefined,
    );
  };

  const pipes = new Map<string, PixelPipe>();
  const streams: Stream[] = [];
  const addStream = (key: string, destination: Destination, envelope: Envelope, meta: boolean) => {
    const envelopeSize = utf8ByteLength(envelope.prefix) + utf8ByteLength(envelope.suffix);
    const maxBytes = Math.min(resolved.maxBatchBytes, destination.limits.maxBytes);
    const pipe = new PixelPipe({
      pixelId: key,
      destination,
      endpoint: {
        url: envelope.url,
        prefix: envelope.prefix,
        suffix: envelope.suffix,
        headers: requestHeaders(envelope.headers),
      },
      fetch: resolved.fetch,
      clock,
      wallNow: () => wall.now(),
      random: resolved.random,
      outbox,
      maxBatchEvents: Math.max(
        1,
        Math.min(resolved.maxBatchEvents, Math.floor(destination.limits.maxEvents)),
      ),
      maxBatchBytes: Math.max(1, maxBytes - envelopeSize),
      flushIntervalMs: resolved.flushIntervalMs,
      timeoutMs: resolved.timeoutMs,
      maxConcurrency: resolved.maxConcurrency,
      // Leases only guard against a record the engine lost track of (an outbox call that failed):
      // this process is the only one claiming. Long enough for a whole bisection of the largest
      // batch with every request running to its timeout, one at a time (2n requests); a part
      // whose lease still runs short is given back (SendLoop.fillSlots).
      leaseMs: Math.max(3_600_000, resolved.timeoutMs * 2 * MAX_EVENTS_PER_REQUEST),
      retry: resolved.retry,
      redact,
      logger,
      hooks,
      undeliverable,
      background: (promise) => keepAlive(pastCount(promise)),
      acknowledged: (records) =>
        observe(wall.now(), 'acknowledgement', (now) =>
          diagnostics?.recordAcknowledged(key, records, now),
        ),
    });
    pipes.set(key, pipe);
    streams.push({ key, destination, pipe, budget: maxBytes - envelopeSize, meta });
  };
  // Meta first, one destination per pixel sharing one build: an event is built (and hashed) once
  // for all of them, as before destinations.
  const buildMeta = metaBuild(buildOptions);
  for (const pixel of resolved.pixels) {
    addStream(
      pixel.pixelId,
      metaDestination(pixel.pixelId, pixel.endpoint, buildMeta),
      pixel.endpoint,
      true,
    );
  }
  for (const { destination, envelope, stream } of resolved.destinations) {
    addStream(stream, destination, envelope, false);
  }
  /** Destinations beside Meta: `track()` then fixes the `event_id` first and reports per stream. */
  const fanOut = resolved.destinations.length > 0;

  // Records a previous run left in a durable outbox are counted on start (adopt.ts); until they
  // are, every other call of the engine's on the outbox waits. close() does not wait for the
  // count: closing under it changes nothing in the outbox (its close may well be what ends it: a
  // pool ended rejects what it had pending); it gives the count up when it stops waiting for its
  // drain, and an answer after that is dropped, those records left uncounted for the next start.
  adoption =
    outbox.durable && calls !== undefined
      ? adoptPreviousRun({
          calls,
          clock,
          log,
          describe: (error) => describeError(error, redact),
          count: (stats) => {
            cachedOutboxStats = stats;
            for (const [pixelId, pixelStats] of Object.entries(stats.pixels)) {
              const pipe = pipes.get(pixelId);
              const waiting = pixelStats.queued + pixelStats.leased;
              if (pipe && waiting > 0) {
                pipe.noteAppended(waiting, pixelStats.bytes, true);
                keepAlive(pipe.flush());
              }
            }
          },
        })
      : undefined;

  // Events handed to another process leave this client's Test Events code behind: said once.
  const delegatedTestCode = delegatedTestCodeWarning(resolved);
  // A Test Events code shipped to production: said once, now, before any event is sent. There is
  // no `warn` listener yet to tell, only the logger.
  const productionTestCode = productionTestCodeWarning(resolved);
  if (productionTestCode !== undefined) {
    const { pixelIds, message } = productionTestCode;
    log('warn', { pixelIds }, message);
  }
  // An option's name misspelt (`trustproxy`): ignored, its default applies. Said once, now.
  const misspelt =
    typeof options === 'object' && options !== null ? misspeltOptionsWarning(options) : undefined;
  if (misspelt !== undefined) log('warn', {}, misspelt);

  const scheduleEndFlush = (waitUntil: TrackOptions['waitUntil']) => {
    if (waitUntil) endFlushWaiters.add(waitUntil);
    if (endFlushScheduled) return;
    endFlushScheduled = true;
    // End of the current tick: every track() of this tick rides in the same request.
    queueMicrotask(() => {
      endFlushScheduled = false;
      const waiters = [...endFlushWaiters];
      endFlushWaiters.clear();
      if (waiters.length === 0) {
        keepAlive(client.flush());
        return;
      }
      // A request-scoped keep-alive (after(), ctx.waitUntil) holds the invocation until this
      // tick's events are delivered or counted, not just tried once; the client-wide one, which
      // also gets every timer flush, is handed the same.
      keepAlive(drain(), waiters);
    });
  };

  const appends = createAppends({
    outbox,
    pipes,
    adoption: () => adoption,
    outboxClosed: () => outboxClosed,
    maxQueuedEvents: resolved.maxQueuedEvents,
    maxQueuedBytes: resolved.maxQueuedBytes,
    clock,
    log,
    hooks,
    redact,
    delegatedTestCode,
  });
  const { enqueue, settle: settleAppends, reportOutboxError } = appends;
  appends.attach();

  const intake = createIntake({
    strict: resolved.strict,
    flushOnEnd: resolved.flushOnEnd,
    defaultCountry: resolved.defaultCountry,
    streams,
    fanOut,
    wall,
    clock,
    recordPrefix,
    isClosed: () => closed,
    intakeDrops,
    dedup,
    enqueue,
    reportOutboxError,
    scheduleEndFlush,
    feedback,
    hooks,
    log,
    diagnostics,
    observe,
    reportError: (error, source) => client.reportError(error, source),
    internalClientIpUntold: () => !internalClientIpTold && !proxyNotTrustedTold,
    reportInternalClientIp: () => {
      if (internalClientIpTold || proxyNotTrustedTold) return;
      internalClientIpTold = true;
      const message = INTERNAL_CLIENT_IP_WARNING;
      log('warn', {}, message);
      hooks.emit('warn', () => ({ message }));
    },
  });

  const track = <Name extends EventName>(
    input: ServerEventInput<Name>,
    trackOptions?: TrackOptions,
  ): TrackResult => {
    const outcome = intake(input, trackOptions);
    if (outcome instanceof CapiValidationError) throw outcome;
    return outcome;
  };

  const flush = async (): Promise<void> => {
    await pastCount(
      (async () => {
        await settleAppends();
        await Promise.all([...pipes.values()].map((pipe) => pipe.flush()));
      })(),
    );
  };

  const drain = async (drainOptions: DrainOptions = {}): Promise<void> => {
    const timeoutMs = optionsDeadlineMs(drainOptions, DEFAULT_DRAIN_TIMEOUT_MS);
    const deadline = clock.now() + timeoutMs;
    const timer = deadlineTimer(clock, timeoutMs);
    // Once close() began, drain() waits for it, still no longer than its own `timeoutMs`: a
    // waitUntil handed a 100 ms drain must not be held for the whole close.
    const drained =
      closing ??
      (async () => {
        await settleAppends();
        // Committed to a durable outbox is handed off: this or a later process delivers it.
        if (outbox.durable) await Promise.all([...pipes.values()].map((pipe) => pipe.flush()));
        else await Promise.all([...pipes.values()].map((pipe) => pipe.drain(deadline)));
      })();
    try {
      await Promise.race([drained, timer.promise]);
    } finally {
      timer.cancel();
    }
  };

  let releaseLive = (): void => {};
  // Set once the client is registered for closeOnExit; a client whose close ended needs no entry there.
  let forgetAtExit: (() => void) | undefined;
  /** The running close's deadlines, which a later close() may bring forward. */
  let closeDeadline: CloseDeadline | undefined;
  const close = (closeOptions: CloseOptions = {}): Promise<void> => {
    // Read first: the caller's getter may have called close() itself.
    const timeoutMs = optionsDeadlineMs(closeOptions, 2000);
    if (closing) {
      // A SIGTERM hook's short budget after the app's own close(): the sooner end wins.
      try {
        closeDeadline?.tighten(timeoutMs);
      } catch (error) {
        log('error', {}, `capi-kit: close() failed: ${describeError(error, redact)}`);
      }
      return closing;
    }
    closed = true;
    releaseLive();
    // Set before closing starts: its first steps call the logger and the `error` hook, and a
    // close() from there must get this promise, not start a second close (and a third…).
    let started: (closed: Promise<void>) => void = () => {};
    closing = new Promise<void>((resolve) => {
      started = resolve;
    });
    try {
      closeDeadline = new CloseDeadline(clock, timeoutMs);
      started(
        closeClient(
          {
            clock,
            pipes,
            outbox,
            calls,
            adoption,
            settleAppends,
            feedback,
            log,
            redact,
            reportOutboxError,
            outboxClosing: () => {
              outboxClosed = true;
            },
            summary,
          },
          closeDeadline,
        ),
      );
    } catch (error) {
      // Its first steps run the pipes' and the clock's code before any await: a throw there must
      // neither reach the caller nor leave every later close() waiting on a promise never settled.
      log('error', {}, `capi-kit: close() failed: ${describeError(error, redact)}`);
      started(Promise.resolve());
    }
    // Listed for `exit` until the close ends: a process.exit() before then still counts what is left.
    const release = () => {
      forgetAtExit?.();
      releaseOutbox?.();
    };
    void closing.then(release, release);
    return closing;
  };

  const readOutboxStats = (): OutboxStats | undefined => {
    // A closed outbox is not asked: its last figures stand (close()'s own log line reads them).
    if (outboxClosed) return cachedOutboxStats;
    try {
      const stats = outbox.stats();
      if (isPromise<OutboxStats>(stats)) {
        // Async outbox: serve the last known figures, refresh in the background.
        stats.then(
          (value) => {
            cachedOutboxStats = value;
          },
          () => {},
        );
        return cachedOutboxStats;
      }
      cachedOutboxStats = stats;
      return stats;
    } catch {
      return cachedOutboxStats;
    }
  };

  const summary = () => {
    const s = stats();
    return { queued: s.queued, sent: s.sent, deadLettered: s.deadLettered, dropped: s.dropped };
  };

  const stats = (): CapiStats => sumStats(pipes, readOutboxStats()?.pixels, intakeDrops, dedup);

  const client: CapiClient = {
    track,
    flush,
    drain,
    close,
    stats,
    diagnostics: () => {
      if (diagnostics) return diagnostics.report(wall.now());
      const now = wall.now();
      return {
        enabled: false,
        windowMs:
          (typeof options.diagnostics === 'object' ? options.diagnostics?.windowMs : undefined) ??
          DEFAULT_DIAGNOSTICS_WINDOW_MS,
        generatedAt: now,
        from: now,
        pixels: {},
      };
    },
    on: (name, listener) => hooks.on(name, listener),
    resume: (pixelId) => {
      if (pixelId === undefined) {
        for (const pipe of pipes.values()) pipe.resume();
        return;
      }
      // Read as createCapi reads pixelId (an env var's newline, a number from a config file); an
      // id the client lacks left the circuit open with nothing said while events waited.
      const id = String(pixelId).trim();
      const pipe = pipes.get(id);
      if (pipe !== undefined) {
        pipe.resume();
        return;
      }
      // Not a pixel id at all may be a secret pasted in the wrong place: its length only.
      const named = /^\d+$/.test(id)
        ? `resume('${id}'): this client has no pixel ${id}`
        : `resume(…): not a pixel id (${id.length} characters)`;
      log('warn', {}, `capi-kit: ${named}; its pixels: ${[...pipes.keys()].join(', ')}`);
    },
    reportError: (error, source) => {
      const message = describeError(error, redact);
      log('error', { source }, `capi-kit: ${source} threw: ${message}`);
      hooks.emit('error', () => ({ kind: 'callback', source, error: new Error(message) }));
    },
    attachRelay: () => diagnostics?.attachRelay(),
    reportRelayRefusal: (reason, status, text) => feedback.relayRefused(reason, status, text),
    reportRelayEventDrop: (reason, eventName, text, developmentOnly) =>
      feedback.relayEventDropped(reason, eventName, text, developmentOnly),
    reportProxyNotTrusted: (header, cause, note) => {
      if (proxyNotTrustedTold) return;
      proxyNotTrustedTold = true;
      const message = proxyNotTrustedWarning(header, cause, note);
      log('warn', { header: proxyNotTrustedHeader(header, cause) }, message);
      hooks.emit('warn', () => ({ message }));
    },
    get closed() {
      return closed;
    },
    destinations: Object.freeze(resolved.destinations.map((d) => d.destination)),
  };
  // Counted as open until close() begins: past a bound, a client per request is suspected.
  const live = countLiveClient();
  releaseLive = live.release;
  if (live.warning !== undefined) log('warn', {}, live.warning);
  // Released once close() has resolved: the outbox may then serve another client.
  if (options.outbox !== undefined) releaseOutbox = holdOutbox(options.outbox);
  const exit = options.closeOnExit ?? true;
  if (exit !== false) {
    forgetAtExit = closeAtExit(
      client,
      deadlineMs(exit === true ? undefined : exit.timeoutMs, 2000),
      () => {
        const { queued, inFlight } = stats();
        log(
          'info',
          { queued, inFlight },
          'capi-kit: the process is ending with events pending; closing the client to send them (closeOnExit)',
        );
      },
      () => {
        let pending = 0;
        for (const pipe of pipes.values()) {
          const { queued, inFlight } = pipe.stats(undefined);
          pending += queued + inFlight;
        }
        return pending;
      },
      () => {
        closed = true;
        for (const pipe of pipes.values()) pipe.dropAtExit();
        // What was counted but not yet summarized is printed too.
        feedback.close();
      },
    );
  }
  return client;
};

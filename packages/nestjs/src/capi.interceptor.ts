import {
  type CapiAdapter,
  conversionCounts,
  optionsRedactor,
  type Redactor,
  type RequestCapi,
  type TrackParams,
} from '@capi-kit/core';
import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import { handlerResult, handlerSucceeded } from './handler-outcome.js';
import type { CapiModuleOptions } from './options.js';
import { bindRequestCapi, type HttpExchange, httpExchangeOf } from './request-capi.js';
import { CAPI_ADAPTER, CAPI_OPTIONS } from './tokens.js';
import { type ConversionMetadata, TRACK_CONVERSION_METADATA } from './track-conversion.js';

type Callback = (result: unknown, request: unknown) => unknown;

/**
 * The handler calls a `CapiInterceptor` already took. Nest hands every interceptor of one call the
 * same `ExecutionContext`; with `CapiModule` registered twice (two `forRoot` with different
 * options) there are two global interceptors, and each would track the call's conversion.
 */
const claimedCalls = new WeakMap<ExecutionContext, CapiInterceptor>();

/**
 * Registered globally by `CapiModule` (`APP_INTERCEPTOR`). For `http` and `graphql` calls it binds
 * the request's context (writing `_fbp`/`_fbc`) and runs `@TrackConversion`; `rpc` and `ws` calls
 * pass through untouched (a `@TrackConversion` there is ignored with a warning).
 */
export class CapiInterceptor implements NestInterceptor {
  private readonly logger = new Logger('CapiModule');
  private readonly warnedHandlers = new WeakSet<object>();
  private warnedTwice = false;
  private shutdownChecked = false;

  /** The module's secrets, for what this interceptor prints itself through Nest's Logger. */
  private readonly redact: Redactor;

  constructor(
    private readonly adapter: CapiAdapter,
    private readonly reflector: Reflector,
    options?: CapiModuleOptions,
  ) {
    // An app's map or when may throw an error quoting the token (a failed call's URL or body): the
    // client's own report of it is redacted, and Nest's log line of the same error must be too.
    this.redact = optionsRedactor(options);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const claimant = claimedCalls.get(context);
    if (claimant !== undefined && claimant !== this) {
      this.warnRegisteredTwice();
      return next.handle();
    }
    claimedCalls.set(context, this);
    if (!this.shutdownChecked) this.checkShutdownHooks();
    const conversion = this.reflector.getAllAndOverride<ConversionMetadata | undefined>(
      TRACK_CONVERSION_METADATA,
      [context.getHandler(), context.getClass()],
    );
    const exchange = httpExchangeOf(context);
    if (exchange === undefined) {
      if (conversion !== undefined) this.warnSkipped(context);
      return next.handle();
    }
    let capi: RequestCapi;
    try {
      capi = bindRequestCapi(this.adapter, exchange);
    } catch (error) {
      this.report('capi-kit request context', error);
      return next.handle();
    }
    if (conversion === undefined || !isTrackedCall(context)) return next.handle();
    let last: unknown;
    let resolved = false;
    return next.handle().pipe(
      tap({
        next: (value) => {
          last = value;
          resolved = true;
        },
        // Only after the last value: an Observable handler is one response, so one conversion.
        // Not when the handler threw (or was cut short) and an interceptor inside this one
        // answered with a value instead: that answer is the app's, as Fastify's `config.capi` decides.
        complete: () => {
          if (resolved && handlerSucceeded(context)) {
            // The handler's own result: what map and when are written for (handler-outcome.ts).
            const own = handlerResult(context);
            this.trackOnceSent(conversion, capi, own === undefined ? last : own.value, exchange);
          }
        },
      }),
    );
  }

  /**
   * Tracks once the response is sent (its `finish`), with the status it was sent with. The handler
   * returning is not the response: Nest serializes the result afterwards, and a result it cannot
   * serialize (a `BigInt` id from the ORM, a circular object) became a 500 after the conversion
   * was tracked; a `@Redirect` status is set then too. A response closed before it finished (the
   * browser gone, a `StreamableFile` whose stream failed) tracks nothing, as Express's
   * `trackConversion` and Fastify's `config.capi` do. Without a Node response (a GraphQL driver's
   * context without one), at once.
   */
  private trackOnceSent(
    conversion: ConversionMetadata,
    capi: RequestCapi,
    result: unknown,
    exchange: HttpExchange,
  ): void {
    const response = nodeResponseOf(exchange.response);
    if (response === undefined || response.writableFinished === true) {
      this.track(conversion, capi, result, exchange);
      return;
    }
    if (response.destroyed === true) return;
    const settle = (finished: boolean) => () => {
      response.removeListener('finish', onFinish);
      response.removeListener('close', onClose);
      if (!finished) return;
      // A listener's throw has no caller: it would be an uncaught exception. Only app code can
      // throw here (a logger, a getter on the request), and the response is already sent.
      try {
        this.track(conversion, capi, result, exchange);
      } catch (error) {
        try {
          this.adapter.client.reportError(error, `@TrackConversion('${conversion.eventName}')`);
        } catch {
          // Nothing left to tell it to.
        }
      }
    };
    const onFinish = settle(true);
    const onClose = settle(false);
    response.on('finish', onFinish);
    response.on('close', onClose);
  }

  private track(
    { eventName, options }: ConversionMetadata,
    capi: RequestCapi,
    result: unknown,
    exchange: HttpExchange,
  ): void {
    // No status known yet counts as a success: the handler returned.
    const status = statusOf(exchange.response) ?? 200;
    const method = (exchange.request as { method?: unknown }).method;
    if (!conversionCounts(typeof method === 'string' ? method : undefined, status)) return;
    const source = `@TrackConversion('${eventName}')`;
    let params: TrackParams | undefined;
    try {
      const decided =
        options.when === undefined || (options.when as Callback)(result, exchange.request);
      if (isThenable(decided)) {
        // An async `when` (JavaScript, or a cast): its Promise is truthy, so every call would be
        // tracked whatever it resolves to, the filter silently off. Fails closed, like `map`'s.
        this.report(
          `${source} when`,
          new TypeError(
            'when returned a Promise; when must be synchronous: await in the handler and return what when needs',
          ),
          'returned no boolean',
        );
        return;
      }
      if (!decided) return;
    } catch (error) {
      this.report(`${source} when`, error);
      return;
    }
    try {
      const mapped = (options.map as Callback | undefined)?.(result, exchange.request);
      const wrong = notEventFields(mapped);
      if (wrong !== undefined) {
        this.report(`${source} map`, new TypeError(wrong), 'returned no event fields');
        return;
      }
      params = mapped as TrackParams | undefined;
    } catch (error) {
      this.report(`${source} map`, error);
      return;
    }
    try {
      capi.track(eventName, params);
    } catch (error) {
      // Only `strict` mode throws; the handler already succeeded, so its response must stand.
      this.report(`${source} track`, error);
    }
  }

  private warnRegisteredTwice(): void {
    if (this.warnedTwice) return;
    this.warnedTwice = true;
    this.logger.warn(
      'CapiModule is registered more than once in this app (forRoot/forRootAsync with different ' +
        'options): only the first registration binds requests and tracks @TrackConversion; ' +
        'import CapiModule once, in the root module (isGlobal: true makes CapiService injectable everywhere)',
    );
  }

  /**
   * Once, at the first call (the app is serving by then, so `enableShutdownHooks()` has run if
   * main.ts calls it): without a SIGTERM listener, `docker stop` or a Kubernetes rollout kills the
   * process at once and `onApplicationShutdown` never runs, so what is queued or being sent is
   * lost and counted nowhere. Quiet under NODE_ENV=test, where a process ends on its own and the
   * client's `beforeExit` close sends it.
   */
  private checkShutdownHooks(): void {
    this.shutdownChecked = true;
    const proc = (globalThis as { process?: Partial<NodeJS.Process> }).process;
    if (typeof proc?.listenerCount !== 'function' || proc.env?.NODE_ENV === 'test') return;
    if (proc.listenerCount('SIGTERM') > 0) return;
    this.logger.warn(
      'nothing handles SIGTERM: when the process is stopped (docker stop, Kubernetes, systemd), ' +
        'events still queued or being sent are lost without being counted; call ' +
        'app.enableShutdownHooks() in main.ts before app.listen(), so that app.close() sends them ' +
        '(bounded by shutdownTimeoutMs)',
    );
  }

  private warnSkipped(context: ExecutionContext): void {
    const handler = context.getHandler();
    if (this.warnedHandlers.has(handler)) return;
    this.warnedHandlers.add(handler);
    this.logger.warn(
      `@TrackConversion on ${context.getClass().name}.${handler.name} is ignored: ` +
        `'${context.getType()}' calls carry no HTTP request; only http routes and GraphQL ` +
        'queries and mutations over HTTP are tracked',
    );
  }

  /**
   * Through the client (its logger and `error` hook, kind `callback`, redacted) and Nest's Logger,
   * which is where a Nest app looks; never into the response.
   */
  private report(source: string, error: unknown, happened = 'threw'): void {
    this.adapter.client.reportError(error, source);
    const { message, stack } = describeThrown(error);
    this.logger.error(
      this.redact(`${source} ${happened}; nothing was tracked: ${message}`),
      stack === undefined ? undefined : this.redact(stack),
    );
  }
}

Inject(CAPI_ADAPTER)(CapiInterceptor, undefined, 0);
Inject(Reflector)(CapiInterceptor, undefined, 1);
Inject(CAPI_OPTIONS)(CapiInterceptor, undefined, 2);
Optional()(CapiInterceptor, undefined, 2);
Injectable()(CapiInterceptor);

/**
 * GraphQL field resolvers run once per object of a result; only root fields (the query or
 * mutation itself) count as a conversion. HTTP handlers always do.
 */
function isTrackedCall(context: ExecutionContext): boolean {
  if (context.getType<string>() !== 'graphql') return true;
  const info: unknown = context.getArgs()[3];
  const path = (info as { path?: { prev?: unknown } } | undefined)?.path;
  return path === undefined || path.prev === undefined;
}

/** The part of a Node `ServerResponse` that says when it is sent. */
interface SendingResponse {
  readonly writableFinished?: boolean;
  readonly destroyed?: boolean;
  on(event: 'finish' | 'close', listener: () => void): unknown;
  removeListener(event: 'finish' | 'close', listener: () => void): unknown;
}

/** The Node response under a platform response (`FastifyReply.raw`, or Express's own), if any. */
function nodeResponseOf(response: object | undefined): SendingResponse | undefined {
  const raw: unknown = (response as { raw?: unknown } | undefined)?.raw;
  const node: unknown = typeof raw === 'object' && raw !== null ? raw : response;
  const candidate = node as Partial<SendingResponse> | undefined;
  return typeof candidate?.on === 'function' &&
    typeof candidate.removeListener === 'function' &&
    typeof candidate.writableFinished === 'boolean'
    ? (candidate as SendingResponse)
    : undefined;
}

/** The status the response has: Express `res.statusCode`, Fastify `reply.statusCode`. */
function statusOf(response: object | undefined): number | undefined {
  const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Why a `map` result is not an event's fields, or `undefined` when it is (an object, or nothing).
 * Tracked as it is, an async `map`'s Promise (a JavaScript app, or a cast) or a string would send
 * the event without the data the map was written for, and say nothing.
 */
function notEventFields(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') {
    return `map returned a ${typeof value}; it must return the event's fields (an object) or undefined`;
  }
  if (Array.isArray(value)) {
    return "map returned an array; it must return the event's fields (an object) or undefined";
  }
  if (isThenable(value)) {
    return 'map returned a Promise; map must be synchronous: await in the handler and return what map needs';
  }
  return undefined;
}

/** Whether a callback's answer is a Promise (or another thenable) rather than a value. */
function isThenable(value: unknown): boolean {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A thrown value's message and stack for Nest's Logger. App code may throw anything: a value
 * without `toString` (`Object.create(null)`), a Proxy whose traps throw, an Error whose `message`
 * getter throws. Describing it must never throw, or the handler's response would become a 500.
 */
function describeThrown(error: unknown): { message: string; stack?: string | undefined } {
  try {
    if (error instanceof Error) {
      const stack: unknown = error.stack;
      return {
        message: String(error.message),
        stack: typeof stack === 'string' ? stack : undefined,
      };
    }
    return { message: String(error) };
  } catch {
    return { message: 'a value that cannot be read as text' };
  }
}

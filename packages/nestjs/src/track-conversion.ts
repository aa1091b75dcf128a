import type { EventName, TrackParamsOrNone } from '@capi-kit/core';
import { SetMetadata } from '@nestjs/common';

/**
 * Options of {@link TrackConversion}. `TResult` is what the handler resolves to (the last value of
 * an Observable, a `StreamableFile`…), `TRequest` the platform request (Express `Request`, Fastify
 * `FastifyRequest`, or the GraphQL context's `req`).
 */
export interface TrackConversionOptions<
  TResult = unknown,
  TRequest = unknown,
  Name extends EventName = EventName,
> {
  /**
   * The event's data from the handler's result: `user_data` (raw, hashed by the core),
   * `custom_data`, `event_id` (e.g. derived from an order ID) and any other event field. Explicit
   * values win over the request context. Synchronous: a throw, or a result that is not an object
   * or `undefined` (a Promise), is logged and the event is not tracked. Typed by
   * the event name: a `Purchase` map returns `custom_data` with `value` and `currency`.
   * @example map: (order: Order) => ({ event_id: order.id, custom_data: { value: order.total, currency: 'EUR' } })
   */
  map?: ((result: TResult, request: TRequest) => TrackParamsOrNone<Name>) | undefined;
  /** Tracks only when this returns true. Synchronous: a throw or a Promise is logged and counts as false. */
  when?: (result: TResult, request: TRequest) => boolean;
}

/** What `@TrackConversion` stores on a handler or controller. */
export interface ConversionMetadata {
  /** The event to track. */
  readonly eventName: EventName;
  /** `map` and `when`. */
  readonly options: TrackConversionOptions<never, never>;
}

/** Metadata key of {@link TrackConversion}, read with `Reflector` over handler then class. */
export const TRACK_CONVERSION_METADATA = 'capi-kit:track-conversion';

/**
 * Tracks `eventName` with the request's context after the handler succeeds: once, when its
 * promise resolves or its Observable completes and the response has been sent; never when it
 * throws (even when the app's filter or interceptor answers its error with a success), when the
 * response status is 400 or more or it closed unsent, or when `options.when` returns false. On a
 * controller class it applies to every handler; a handler's own `@TrackConversion` wins. One per
 * handler or class: a second on the same one throws when the class is defined. Needs `CapiModule`
 * imported.
 * @example @Post('checkout') @TrackConversion('Purchase', { map: (order: Order) => ({ event_id: order.id }) })
 */
// Generic over the name (last, so explicit `<Order>` type arguments keep compiling; they turn the
// name's inference off, so annotate `map`'s parameter instead). A `Purchase` requires `map`.
export function TrackConversion<
  TResult = unknown,
  TRequest = unknown,
  Name extends EventName = EventName,
>(
  eventName: Name,
  ...options: [Name] extends ['Purchase']
    ? [options: TrackConversionOptions<TResult, TRequest, Name> & { map: unknown }]
    : [options?: TrackConversionOptions<TResult, TRequest, Name>]
): MethodDecorator & ClassDecorator {
  // Checked here, at class definition, like a second decorator: from JavaScript (the types refuse
  // each of these) a wrong shape tracked the event without its data, with nothing said.
  const problem = conversionProblem(eventName, options[0]);
  if (problem !== undefined) throw new TypeError(`capi-kit: ${problem}`);
  const metadata: ConversionMetadata = {
    eventName,
    // Checked at the call; stored for any name and result.
    options: (options[0] ?? {}) as unknown as TrackConversionOptions<never, never>,
  };
  const setMetadata = SetMetadata(TRACK_CONVERSION_METADATA, metadata);
  const decorate = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    // Metadata holds one conversion: a second decorator on the same handler or class would
    // replace the first without a word, and its conversion would never be tracked.
    const holder: unknown = descriptor === undefined ? target : descriptor.value;
    const earlier = ownConversion(holder);
    if (earlier !== undefined) {
      const where =
        key === undefined
          ? (target as { name?: string }).name
          : `${(target as { constructor?: { name?: string } }).constructor?.name}.${String(key)}`;
      throw new TypeError(
        `@TrackConversion('${eventName}') on ${where}: it already has @TrackConversion('${earlier.eventName}'), ` +
          'and a handler tracks one conversion; track the other in the handler with @CapiContext() capi.track()',
      );
    }
    (setMetadata as (...args: unknown[]) => unknown)(target, key, descriptor);
  };
  return decorate as MethodDecorator & ClassDecorator;
}

/** What a value is, for a message that must not repeat it. */
const kindOf = (value: unknown): string => (value === null ? 'null' : typeof value);

/**
 * What is wrong with `@TrackConversion(eventName, options)` written from JavaScript, or
 * `undefined`. A map given in place of the options, or the event's fields in place of a map, left
 * `map` unset: every call tracked the bare event (no user_data, no value) and said nothing.
 */
function conversionProblem(eventName: unknown, options: unknown): string | undefined {
  if (typeof eventName !== 'string' || eventName === '') {
    return `@TrackConversion(eventName, options?) takes the event's name first, e.g. @TrackConversion('Lead'); got ${eventName === '' ? 'an empty string' : kindOf(eventName)}`;
  }
  const call = `@TrackConversion('${eventName}', options)`;
  if (options === undefined) return undefined;
  if (typeof options === 'function') {
    return `${call}: options must be { map?, when? }; got a function: pass it as { map: (result, request) => ({ … }) }`;
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return `${call}: options must be { map?, when? }, e.g. { map: (result) => ({ custom_data: { … } }) }; got ${Array.isArray(options) ? 'an array' : kindOf(options)}`;
  }
  const { map, when } = options as { map?: unknown; when?: unknown };
  for (const [name, value] of [
    ['map', map],
    ['when', when],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      return `${call}: ${name} must be a function of (result, request); got ${kindOf(value)}`;
    }
  }
  const other = Object.keys(options).find((key) => key !== 'map' && key !== 'when');
  if (map === undefined && other !== undefined) {
    return `${call}: options take map and when, not '${other}'; the event's fields come from map, e.g. { map: (result) => ({ ${other}: … }) }`;
  }
  return undefined;
}

/** The conversion set on this very handler or class (not inherited), if any. */
export function ownConversion(holder: unknown): ConversionMetadata | undefined {
  if ((typeof holder !== 'object' && typeof holder !== 'function') || holder === null) return;
  // reflect-metadata's API, loaded by every Nest app (a peer dependency).
  const reflect = Reflect as unknown as {
    getOwnMetadata?: (key: string, target: object) => unknown;
  };
  return reflect.getOwnMetadata?.(TRACK_CONVERSION_METADATA, holder) as
    | ConversionMetadata
    | undefined;
}

import { type ExecutionContext, type NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { defer, tap } from 'rxjs';
import { TRACK_CONVERSION_METADATA } from './track-conversion.js';

/**
 * How the handler of each call last ran, by its `ExecutionContext` (Nest hands every interceptor
 * of one call the same one): `running` from the moment it is called until it completes or fails.
 */
const outcomes = new WeakMap<ExecutionContext, 'running' | 'succeeded' | 'failed'>();

/**
 * The handler's own last value of each call, as it left the handler. The app's interceptors run
 * inside `CapiInterceptor` and may transform it (Nest's documented `TransformInterceptor`, which
 * answers `{ data }`): `map` and `when` are written for what the handler returns.
 */
const results = new WeakMap<ExecutionContext, { readonly value: unknown }>();

/**
 * The innermost interceptor of each handler with a `@TrackConversion`: notes whether the handler
 * gave its result, threw (or its Observable errored), or was cut short before it gave any (a
 * deadline's `timeout()`). `CapiInterceptor` is global and registered with the module, so the
 * app's `app.useGlobalInterceptors()`, controller and handler interceptors run inside it; one of
 * them answering the error with a value (`catchError(() => of({ declined: true }))`) hid it, and
 * the declined payment was tracked as a Purchase. A retried handler that then succeeds is a success.
 */
const handlerOutcome: NestInterceptor = {
  intercept: (context, next) =>
    defer(() => {
      outcomes.set(context, 'running');
      results.delete(context);
      return next.handle();
    }).pipe(
      // A value is a success: an interceptor taking the first one (`take(1)`) unsubscribes
      // before the handler's completion is seen. An Observable that then errors has failed.
      tap({
        next: (value) => {
          outcomes.set(context, 'succeeded');
          results.set(context, { value });
        },
        complete: () => outcomes.set(context, 'succeeded'),
        error: () => outcomes.set(context, 'failed'),
      }),
    ),
};

/**
 * Whether the handler of this call succeeded on its last run, whatever an interceptor then
 * answered; `true` when it never ran under the watch (an app's cache interceptor answering with
 * the handler's earlier result).
 */
export function handlerSucceeded(context: ExecutionContext): boolean {
  const outcome = outcomes.get(context);
  return outcome === undefined || outcome === 'succeeded';
}

/**
 * The last value the handler of this call gave, before any interceptor of the app transformed it;
 * `undefined` when it gave none under the watch (an app's cache interceptor answering instead).
 */
export function handlerResult(context: ExecutionContext): { readonly value: unknown } | undefined {
  return results.get(context);
}

/** Nest's `@UseInterceptors` metadata key (`@nestjs/common/constants`). */
const INTERCEPTORS_METADATA = '__interceptors__';

const reflect = Reflect as unknown as {
  getMetadata?: (key: string, target: object) => unknown;
};

/**
 * Puts {@link handlerOutcome} last among the interceptors of every controller and resolver method
 * a `@TrackConversion` covers (its own, or its class's), as `@UseInterceptors` above all of the
 * method's decorators would. Run before Nest builds the routes (`app.init()` reads this metadata)
 * and resolvers (in `GraphQLModule`'s `onModuleInit`); a class already done (a second app of the
 * same process) is left as it is.
 */
export function watchHandlerOutcomes(discovery: DiscoveryService, scanner: MetadataScanner): void {
  const seen = new Set<unknown>();
  for (const wrapper of [...discovery.getControllers(), ...discovery.getProviders()]) {
    try {
      const { metatype } = wrapper;
      if (typeof metatype !== 'function' || wrapper.isFactory || seen.has(metatype)) continue;
      seen.add(metatype);
      const prototype = (metatype as { prototype?: Record<string, unknown> }).prototype;
      if (prototype === undefined) continue;
      const onClass = reflect.getMetadata?.(TRACK_CONVERSION_METADATA, metatype) !== undefined;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const method = prototype[name];
        if (typeof method !== 'function') continue;
        if (!onClass && reflect.getMetadata?.(TRACK_CONVERSION_METADATA, method) === undefined) {
          continue;
        }
        const interceptors = reflect.getMetadata?.(INTERCEPTORS_METADATA, method);
        if (Array.isArray(interceptors) && interceptors.includes(handlerOutcome)) continue;
        UseInterceptors(handlerOutcome)(prototype, name, { value: method });
      }
    } catch {
      // A class that cannot be read (a Proxy, a throwing getter) keeps its interceptors: a
      // handler's error answered with a success is then tracked, and the app still starts.
    }
  }
}

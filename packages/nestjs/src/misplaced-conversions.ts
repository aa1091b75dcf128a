import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ownConversion } from './track-conversion.js';

/**
 * Class metadata of providers whose methods Nest does call through interceptors: GraphQL
 * resolvers (`@Resolver`) and WebSocket gateways (where the interceptor warns at the first call).
 * Read by key, so neither `@nestjs/graphql` nor `@nestjs/websockets` is imported.
 */
const HANDLER_CLASS_KEYS = [
  'graphql:resolver_type',
  'graphql:resolver_name',
  'websockets:is_gateway',
];

const reflect = Reflect as unknown as { hasMetadata?: (key: string, target: object) => boolean };

/**
 * `Class.method` (or `Class`) of each `@TrackConversion` on a provider that is no resolver: a
 * service method such as `OrderService.placeOrder`. Nest runs interceptors around route handlers
 * and resolvers only, so such a decorator tracks nothing, ever, and nothing else would say so.
 */
export function misplacedConversions(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  for (const wrapper of discovery.getProviders()) {
    try {
      collect(wrapper, scanner, seen, found);
    } catch {
      // A provider whose class cannot be read (a Proxy, a throwing getter) is skipped: a warning
      // must never fail the app's start.
    }
  }
  return found;
}

function collect(
  wrapper: ReturnType<DiscoveryService['getProviders']>[number],
  scanner: MetadataScanner,
  seen: Set<unknown>,
  found: string[],
): void {
  const { metatype } = wrapper;
  // Class providers only: a factory's or a value's metatype is not the class of what it provides.
  if (typeof metatype !== 'function' || wrapper.isFactory || seen.has(metatype)) return;
  seen.add(metatype);
  if (HANDLER_CLASS_KEYS.some((key) => reflect.hasMetadata?.(key, metatype) === true)) return;
  if (ownConversion(metatype) !== undefined) found.push(metatype.name);
  const prototype = (metatype as { prototype?: Record<string, unknown> }).prototype;
  if (prototype === undefined) return;
  for (const name of scanner.getAllMethodNames(prototype)) {
    const method = prototype[name];
    if (typeof method === 'function' && ownConversion(method) !== undefined) {
      found.push(`${metatype.name}.${name}`);
    }
  }
}

import { Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import type { CapiModuleAsyncOptions } from './options.js';

/**
 * Nest's metadata keys (`@nestjs/common/constants`): `@Injectable({ scope })`, a constructor's
 * parameter types, `@Inject(token)` on a constructor parameter and on a property.
 */
const SCOPE_OPTIONS = 'scope:options';
const PARAM_TYPES = 'design:paramtypes';
const SELF_DECLARED_DEPS = 'self:paramtypes';
const PROPERTY_DEPS = 'self:properties_metadata';

/** Reads Nest's metadata of a class, without failing where `reflect-metadata` is not loaded. */
function metadataOf(key: string, target: unknown): unknown {
  const reflect = Reflect as { getMetadata?: (key: string, target: object) => unknown };
  return typeof target === 'function' && typeof reflect.getMetadata === 'function'
    ? reflect.getMetadata(key, target)
    : undefined;
}

/** The token of an `inject` entry or a dependency: `{ token, optional }` and `forwardRef(() => X)` unwrapped. */
function tokenOf(entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null) return entry;
  if ('forwardRef' in entry && typeof entry.forwardRef === 'function') {
    return (entry.forwardRef as () => unknown)();
  }
  return 'token' in entry ? entry.token : entry;
}

/** A provider given as an object (`{ provide, useFactory, inject, scope }`…), by the token it provides. */
interface ProviderObject {
  provide: unknown;
  scope?: Scope;
  useClass?: unknown;
  useExisting?: unknown;
  useFactory?: unknown;
  inject?: unknown[];
}

/** What a class's constructor and properties inject, as Nest reads it. */
function classDependencies(type: unknown): unknown[] {
  const params = metadataOf(PARAM_TYPES, type);
  const deps: unknown[] = Array.isArray(params) ? [...params] : [];
  const declared = metadataOf(SELF_DECLARED_DEPS, type);
  if (Array.isArray(declared)) {
    for (const { index, param } of declared as { index: number; param: unknown }[]) {
      deps[index] = param;
    }
  }
  const properties = metadataOf(PROPERTY_DEPS, type);
  if (Array.isArray(properties)) {
    for (const { type: property } of properties as { type: unknown }[]) deps.push(property);
  }
  return deps.map(tokenOf);
}

/** How `token` is provided: its own scope and what it injects. */
function providerOf(
  token: unknown,
  declared: Map<unknown, ProviderObject>,
): { scope: unknown; dependencies: unknown[] } {
  const provider = declared.get(token);
  if (provider === undefined || provider.useClass !== undefined) {
    const type = provider?.useClass ?? token;
    const own = metadataOf(SCOPE_OPTIONS, type) as { scope?: unknown } | undefined;
    return { scope: provider?.scope ?? own?.scope, dependencies: classDependencies(type) };
  }
  const dependencies =
    provider.useExisting !== undefined
      ? [provider.useExisting]
      : provider.useFactory !== undefined
        ? (provider.inject ?? []).map(tokenOf)
        : [];
  return { scope: provider.scope, dependencies };
}

/**
 * `token` and what it depends on down to the first provider that is request-scoped by its own
 * declaration (`Scope.REQUEST`, or it injects `REQUEST`), or `undefined`. Nest makes everything
 * above such a provider request-scoped too, without a word. Classes are read from their metadata
 * wherever they are provided; other tokens only where `extraProviders` declares them.
 */
function requestScopedChain(
  token: unknown,
  declared: Map<unknown, ProviderObject>,
  seen: Set<unknown>,
): unknown[] | undefined {
  if (token === undefined || token === null || seen.has(token)) return undefined;
  seen.add(token);
  const { scope, dependencies } = providerOf(token, declared);
  if (scope === Scope.REQUEST || dependencies.includes(REQUEST)) return [token];
  for (const dependency of dependencies) {
    const chain = requestScopedChain(dependency, declared, seen);
    if (chain !== undefined) return [token, ...chain];
  }
  return undefined;
}

function nameOf(token: unknown): string {
  return typeof token === 'function' ? token.name : String(token);
}

/**
 * Which part of `forRootAsync`'s options makes them request-scoped, or `undefined`. Nest then
 * failed the start saying that the module's global interceptor "depends on a request-scoped
 * provider" and should be marked `Scope.REQUEST`, a fix the app cannot apply and that would not help:
 * the options make the one client, at startup, when there is no request. Through a dependency
 * (a settings service that injects a request-scoped tenant) Nest does the same, implicitly.
 */
export function requestScopedOptions(options: CapiModuleAsyncOptions): string | undefined {
  const injected = (options.useFactory === undefined ? [] : (options.inject ?? [])).map(tokenOf);
  if (injected.some((token) => token === REQUEST)) return 'its useFactory injects REQUEST';
  const declared = new Map<unknown, ProviderObject>();
  for (const provider of options.extraProviders ?? []) {
    if (typeof provider === 'object' && provider !== null && 'provide' in provider) {
      declared.set(provider.provide, provider as ProviderObject);
    }
  }
  const seen = new Set<unknown>();
  for (const token of [...injected, options.useClass, options.useExisting]) {
    const chain = requestScopedChain(token, declared, seen);
    if (chain === undefined) continue;
    const [scoped, ...through] = chain.map(nameOf);
    const via = through.length === 0 ? '' : ` through ${through.join(' → ')}`;
    return `${scoped} is request-scoped${via} (Scope.REQUEST, or it injects REQUEST)`;
  }
  return undefined;
}

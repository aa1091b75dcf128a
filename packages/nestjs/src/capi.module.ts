import {
  type CapiAdapter,
  type CapiAdapterWording,
  createCapiAdapter,
  DEFAULT_RELAY_PATH,
  relayOptionProblem,
  relayPathProblem,
} from '@capi-kit/core';
import {
  type DynamicModule,
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
  type Provider,
  RequestMethod,
} from '@nestjs/common';
import {
  APP_INTERCEPTOR,
  ApplicationConfig,
  DiscoveryModule,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
} from '@nestjs/core';
import { CapiInterceptor } from './capi.interceptor.js';
import { CapiService } from './capi.service.js';
import { settleSetCookiesOnFastify } from './fastify-set-cookies.js';
import { watchHandlerOutcomes } from './handler-outcome.js';
import { misplacedConversions } from './misplaced-conversions.js';
import type {
  CapiModuleAsyncOptions,
  CapiModuleOptions,
  CapiModuleRootOptions,
  CapiOptionsFactory,
} from './options.js';
import { CapiRelayMiddleware } from './relay.middleware.js';
import { requestScopedOptions } from './request-scoped-options.js';
import { CAPI_ADAPTER, CAPI_CLIENT, CAPI_OPTIONS } from './tokens.js';

function createAdapter(options: CapiModuleOptions): CapiAdapter {
  if (typeof options !== 'object' || options === null) {
    // A factory body in braces without `return` is the usual cause; say so rather than let the
    // destructuring below fail with "Cannot destructure property … of 'undefined'".
    throw new TypeError(
      `CapiModule.forRootAsync: the options factory (useFactory, or createCapiOptions() of useClass/useExisting) resolved to ${options === null ? 'null' : typeof options}; return the options object (an arrow function with a body in braces needs \`return\`)`,
    );
  }
  const { shutdownTimeoutMs: _, relay, ...adapterOptions } = options;
  const kindProblem = relayOptionProblem(relay);
  if (kindProblem !== undefined) throw new TypeError(`capi-kit: ${kindProblem}`);
  // Checked before a client exists, as Express and Fastify do (see `relayPathProblem`): an empty
  // path (an unset environment variable) put the relay where the browser never posts, a query
  // failed the start in path-to-regexp without naming the option. Nest resolves a path without
  // its leading '/' from the root (or the global prefix) like one with it, so that one stays.
  const path: unknown = typeof relay === 'object' && relay !== null ? relay.path : undefined;
  if (path !== undefined) {
    const problem = relayPathProblem(
      typeof path === 'string' && path !== '' && !path.startsWith('/') ? `/${path}` : path,
    );
    if (problem !== undefined) throw new TypeError(`capi-kit: ${problem}`);
  }
  return createCapiAdapter(adapterOptions, NEST_WORDING);
}

/**
 * Nest's platforms have proxy settings of their own (Express's `app.set('trust proxy', …)`, the
 * Fastify adapter's `trustProxy`), which the module does not read: said in the proxy warning.
 */
const NEST_WORDING: CapiAdapterWording = {
  proxyNote:
    "The platform's own proxy setting (app.set('trust proxy', …) on Express, new FastifyAdapter({ trustProxy }) on Fastify) is not read by capi-kit: set trustProxy in CapiModule.forRoot({ trustProxy: 'loopback' }) too, with the same value.",
};

const sharedProviders: Provider[] = [
  { provide: CAPI_ADAPTER, useFactory: createAdapter, inject: [CAPI_OPTIONS] },
  {
    provide: CAPI_CLIENT,
    useFactory: (adapter: CapiAdapter) => adapter.client,
    inject: [CAPI_ADAPTER],
  },
  CapiService,
  { provide: APP_INTERCEPTOR, useClass: CapiInterceptor },
];

const exported = [CapiService, CAPI_CLIENT, CAPI_OPTIONS];

/** Whether `setGlobalPrefix(…, { exclude })` keeps `path` (a route path, with or without its `/`) at the root. */
function excludedFromPrefix(config: ApplicationConfig | undefined, path: string): boolean {
  const root = `/${path.replace(/^\/+/, '')}`;
  try {
    return (config?.getGlobalPrefixOptions().exclude ?? []).some(
      (route) => route.pathRegex.test(root) || route.pathRegex.test(root.slice(1)),
    );
  } catch {
    // An exclusion Nest describes otherwise: no warning rather than a failed start.
    return true;
  }
}

/**
 * The apps already checked for misplaced `@TrackConversion`s, by their `DiscoveryService` (one per
 * app): an app that registers the module twice warns once.
 */
const checkedApps = new WeakSet<DiscoveryService>();

/**
 * The options a factory resolved to, refused when `isGlobal` is among them: put beside `pixelId`
 * in what the factory returns, it was read by nothing, the module stayed local, and a feature
 * module's `CapiService` failed in Nest's words while the app "set" isGlobal. Checked as the
 * options are made, before the adapter, so that this is what the failed start says.
 */
function checkedFactoryOptions(options: CapiModuleOptions): CapiModuleOptions {
  if (typeof options === 'object' && options !== null && 'isGlobal' in options) {
    throw new TypeError(
      'CapiModule.forRootAsync: the options factory returned isGlobal, which is not read there: ' +
        'isGlobal is an option of forRootAsync itself, known before the factory runs; write ' +
        'CapiModule.forRootAsync({ isGlobal: true, useFactory: … }) and leave it out of what the factory returns',
    );
  }
  return options;
}

function optionsProviders(options: CapiModuleAsyncOptions): Provider[] {
  const scoped = requestScopedOptions(options);
  if (scoped !== undefined) {
    throw new TypeError(
      `CapiModule.forRootAsync: ${scoped}, but the options are built once, at startup, for the module's one client, when there is no request: ` +
        'build them from what is known at startup (ConfigService…), and read the request where the module hands it to you: ' +
        'consent(input) for per-request consent, CapiService.track(event, request) or @CapiContext() for event data',
    );
  }
  const fromFactory = async (factory: CapiOptionsFactory) =>
    checkedFactoryOptions(await factory.createCapiOptions());
  const { useFactory } = options;
  if (useFactory !== undefined) {
    return [
      {
        provide: CAPI_OPTIONS,
        useFactory: async (...args: unknown[]) => checkedFactoryOptions(await useFactory(...args)),
        inject: options.inject ?? [],
      },
    ];
  }
  if (options.useClass !== undefined) {
    return [
      { provide: options.useClass, useClass: options.useClass },
      { provide: CAPI_OPTIONS, useFactory: fromFactory, inject: [options.useClass] },
    ];
  }
  if (options.useExisting !== undefined) {
    return [{ provide: CAPI_OPTIONS, useFactory: fromFactory, inject: [options.useExisting] }];
  }
  throw new TypeError('CapiModule.forRootAsync: pass useFactory, useClass or useExisting');
}

/**
 * The Conversions API for a Nest app: provides `CapiService` and the `CAPI_CLIENT`/`CAPI_OPTIONS`
 * tokens, registers the global interceptor behind `@TrackConversion`, `@CapiContext()` and the
 * `_fbp`/`_fbc` cookies, and flushes the client on `app.close()` (if it created it). Import once.
 * @example @Module({ imports: [CapiModule.forRoot({ trustProxy: 'loopback', isGlobal: true })] })
 */
export class CapiModule
  implements NestModule, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  /**
   * Both are `undefined` when the class is imported as it is (`imports: [CapiModule]`) rather than
   * through `forRoot`/`forRootAsync`: that instance has nothing of its own to do.
   */
  constructor(
    private readonly adapter: CapiAdapter | undefined,
    private readonly options: CapiModuleOptions | undefined,
    private readonly discovery?: DiscoveryService,
    private readonly appConfig?: ApplicationConfig,
    private readonly adapterHost?: HttpAdapterHost,
  ) {
    // `imports: [CapiModule]` in a feature module, the way many Nest modules are imported. Nest
    // would fail the start naming this module's internal token, which the app never wrote. With
    // a global forRoot the options are visible here and the import is merely redundant.
    if (adapter === undefined && options === undefined) {
      throw new TypeError(
        'capi-kit: CapiModule is imported without configuration (imports: [CapiModule]); import ' +
          'CapiModule.forRoot({ ... }) or CapiModule.forRootAsync({ ... }) once, in the root ' +
          'module, with isGlobal: true so that feature modules can inject CapiService without importing it',
      );
    }
    // Here, when the app's modules are built: Nest reads each route's interceptors when the app
    // starts (`app.init()`, before any module's `onModuleInit`).
    if (adapter !== undefined && discovery !== undefined) {
      watchHandlerOutcomes(discovery, new MetadataScanner());
    }
  }

  /**
   * Configures the module from options known up front (unset credentials fall back to `META_*`
   * environment variables, as in `createCapi`).
   */
  static forRoot(options: CapiModuleRootOptions = {}): DynamicModule {
    const { isGlobal, ...moduleOptions } = options;
    return {
      module: CapiModule,
      global: isGlobal === true,
      imports: [DiscoveryModule],
      providers: [{ provide: CAPI_OPTIONS, useValue: moduleOptions }, ...sharedProviders],
      exports: exported,
    };
  }

  /** Configures the module from other providers (`ConfigService`…) via a factory or a class. */
  static forRootAsync(options: CapiModuleAsyncOptions): DynamicModule {
    return {
      module: CapiModule,
      global: options.isGlobal === true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        ...optionsProviders(options),
        ...(options.extraProviders ?? []),
        ...sharedProviders,
      ],
      exports: exported,
    };
  }

  /** Registers the relay middleware when `relay` is set. */
  configure(consumer: MiddlewareConsumer): void {
    // Only the configured instance serves the relay (see the constructor).
    if (this.adapter === undefined) return;
    const relay = this.options?.relay;
    if (!relay) return;
    const path = (relay === true ? undefined : relay.path) ?? DEFAULT_RELAY_PATH;
    consumer.apply(CapiRelayMiddleware).forRoutes({ path, method: RequestMethod.ALL });
    const prefix = this.appConfig?.getGlobalPrefix();
    if (prefix && !excludedFromPrefix(this.appConfig, path)) {
      // Nest puts middleware under the global prefix: the relay answers at /api/capi/events
      // while @capi-kit/browser posts to /capi/events, and every browser event got the app's
      // 404 with nothing said. Kept where it is (an app may post there on purpose), and said.
      const root = `/${path.replace(/^\/+/, '')}`;
      const served = `/${prefix.replace(/^\/+|\/+$/g, '')}${root}`;
      new Logger('CapiModule').warn(
        `the relay answers at ${served}, under the global prefix, not at ${root}: give the ` +
          `browser that URL (createPixel({ relay: '${served}' })), or serve it from the root: ` +
          `app.setGlobalPrefix('${prefix}', { exclude: ['${root.slice(1)}'] })`,
      );
    }
  }

  /**
   * On Fastify, adds the `onSend` hook that keeps `Set-Cookie` right on replies Fastify sends
   * (see fastify-set-cookies.ts). Here, not at bootstrap: Fastify must not have started yet, and
   * the HTTP adapter is known only once the app exists (`NestFactory.create`, `createNestApplication`).
   */
  onModuleInit(): void {
    if (this.adapter === undefined || this.options?.cookies === false) return;
    const http = this.adapterHost?.httpAdapter;
    if (http === undefined || http === null) return;
    settleSetCookiesOnFastify(http.getType(), http.getInstance());
  }

  /**
   * Warns once about each `@TrackConversion` on a provider method (a service rather than a
   * controller route or a resolver): Nest never runs an interceptor there, so it tracks nothing.
   */
  onApplicationBootstrap(): void {
    const { discovery } = this;
    if (this.adapter === undefined || discovery === undefined || checkedApps.has(discovery)) return;
    checkedApps.add(discovery);
    const logger = new Logger('CapiModule');
    for (const where of misplacedConversions(discovery, new MetadataScanner())) {
      logger.warn(
        `@TrackConversion on ${where} is ignored: it is a provider, and only controller route ` +
          'handlers and GraphQL queries and mutations are tracked; move it to the route that ' +
          'calls it, or call CapiService.track(event, request) there',
      );
    }
  }

  /** Sends what is queued and closes the client, unless it was shared in as `options.client`. */
  async onApplicationShutdown(): Promise<void> {
    if (this.adapter === undefined) return;
    const timeoutMs = this.options?.shutdownTimeoutMs;
    await this.adapter.close(timeoutMs === undefined ? {} : { timeoutMs });
  }
}

Inject(CAPI_ADAPTER)(CapiModule, undefined, 0);
Optional()(CapiModule, undefined, 0);
Inject(CAPI_OPTIONS)(CapiModule, undefined, 1);
Optional()(CapiModule, undefined, 1);
Inject(DiscoveryService)(CapiModule, undefined, 2);
Optional()(CapiModule, undefined, 2);
Inject(ApplicationConfig)(CapiModule, undefined, 3);
Optional()(CapiModule, undefined, 3);
Inject(HttpAdapterHost)(CapiModule, undefined, 4);
Optional()(CapiModule, undefined, 4);
Module({})(CapiModule);

import type { ServerResponse } from 'node:http';
import type { CapiClient } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  forwardRef,
  Get,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Req,
  Scope,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { REQUEST } from '@nestjs/core';
import { Mutation, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CAPI_CLIENT,
  CAPI_OPTIONS,
  CapiModule,
  type CapiModuleOptions,
  type CapiOptionsFactory,
  CapiService,
  TrackConversion,
} from '../src/index.js';
import { ACCESS_TOKEN, capiOptions, PIXEL_ID, recordingLogger, startApp, UA } from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock?.close());
beforeEach(() => mock.reset());

/** Compiles a module graph and returns the CapiService and client it resolved. */
async function resolve(
  imports: NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>,
) {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  return {
    moduleRef,
    service: moduleRef.get(CapiService),
    client: moduleRef.get<CapiClient>(CAPI_CLIENT),
    options: moduleRef.get<CapiModuleOptions>(CAPI_OPTIONS),
  };
}

const lead = {
  event_name: 'Lead',
  user_data: { em: 'a@example.com' },
  action_source: 'system_generated',
} as const;

describe('CapiModule.forRoot', () => {
  it('provides CapiService, CAPI_CLIENT and CAPI_OPTIONS around one client', async () => {
    const { moduleRef, service, client, options } = await resolve([
      CapiModule.forRoot(capiOptions(mock)),
    ]);
    expect(service.client).toBe(client);
    expect(options.pixelId).toBe(PIXEL_ID);
    expect(service.eventId()).toMatch(/^[0-9a-f-]{36}$/);
    const result = service.track(lead);
    expect(result.accepted).toBe(true);
    await client.flush();
    expect(mock.events({ event_name: 'Lead' })[0]?.event.event_id).toBe(result.event_id);
    await moduleRef.close();
  });
});

describe('CapiModule.forRootAsync', () => {
  const env = () => ({
    META_PIXEL_ID: PIXEL_ID,
    META_ACCESS_TOKEN: ACCESS_TOKEN,
    META_GRAPH_URL: mock.url,
  });
  const fromConfig = (config: ConfigService): CapiModuleOptions => ({
    pixelId: config.getOrThrow<string>('META_PIXEL_ID'),
    accessToken: config.getOrThrow<string>('META_ACCESS_TOKEN'),
    graphUrl: config.getOrThrow<string>('META_GRAPH_URL'),
    env: false,
  });

  it('useFactory + inject: ConfigService', async () => {
    const { moduleRef, service, client } = await resolve([
      CapiModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [env] })],
        inject: [ConfigService],
        useFactory: fromConfig,
      }),
    ]);
    service.track(lead);
    await client.flush();
    expect(mock.events({ pixelId: PIXEL_ID })).toHaveLength(1);
    await moduleRef.close();
  });

  it('useFactory may be async', async () => {
    const { moduleRef, options } = await resolve([
      CapiModule.forRootAsync({
        useFactory: async () => capiOptions(mock, { partnerAgent: 'async' }),
      }),
    ]);
    expect(options.partnerAgent).toBe('async');
    await moduleRef.close();
  });

  it('useClass: the factory gets its own dependencies injected', async () => {
    @Injectable()
    class CapiConfig implements CapiOptionsFactory {
      constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
      createCapiOptions(): CapiModuleOptions {
        return { ...fromConfig(this.config), partnerAgent: 'use-class' };
      }
    }
    const { moduleRef, options, client } = await resolve([
      CapiModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [env] })],
        useClass: CapiConfig,
      }),
    ]);
    expect(options.partnerAgent).toBe('use-class');
    expect(client.closed).toBe(false);
    await moduleRef.close();
  });

  it('useExisting: reuses a factory provided by an imported module', async () => {
    @Injectable()
    class SharedConfig implements CapiOptionsFactory {
      createCapiOptions(): CapiModuleOptions {
        return capiOptions(mock, { partnerAgent: 'use-existing' });
      }
    }
    @Module({ providers: [SharedConfig], exports: [SharedConfig] })
    class SharedConfigModule {}
    const { moduleRef, options } = await resolve([
      CapiModule.forRootAsync({ imports: [SharedConfigModule], useExisting: SharedConfig }),
    ]);
    expect(options.partnerAgent).toBe('use-existing');
    await moduleRef.close();
  });

  it.each([undefined, null])('says so when the factory resolves to %s', async (value) => {
    await expect(
      Test.createTestingModule({
        imports: [
          CapiModule.forRootAsync({
            // A body in braces without `return`, as JavaScript (or `any`) lets through.
            useFactory: (() => value) as unknown as () => CapiModuleOptions,
          }),
        ],
      }).compile(),
    ).rejects.toThrow(
      `CapiModule.forRootAsync: the options factory (useFactory, or createCapiOptions() of useClass/useExisting) resolved to ${value === null ? 'null' : 'undefined'}; return the options object`,
    );
  });

  it('refuses options without a factory', () => {
    expect(() => CapiModule.forRootAsync({})).toThrow(/useFactory, useClass or useExisting/);
  });

  it('refuses request-scoped options at once, naming what makes them so and the fix', async () => {
    // Nest failed the start saying the module's interceptor should be marked Scope.REQUEST, a fix
    // the app cannot apply: the options make the one client, at startup, without a request.
    const fix = /built once, at startup.*consent\(input\).*CapiService\.track\(event, request\)/;
    expect(() =>
      CapiModule.forRootAsync({ inject: [REQUEST], useFactory: () => capiOptions(mock) }),
    ).toThrow(/^CapiModule\.forRootAsync: its useFactory injects REQUEST, but the options are/);
    expect(() =>
      CapiModule.forRootAsync({
        inject: [{ token: REQUEST, optional: true }],
        useFactory: () => capiOptions(mock),
      }),
    ).toThrow(fix);
    @Injectable()
    class PerRequestConfig implements CapiOptionsFactory {
      constructor(@Inject(REQUEST) private readonly request: { url: string }) {}
      createCapiOptions(): CapiModuleOptions {
        return capiOptions(mock, { partnerAgent: this.request.url });
      }
    }
    @Injectable({ scope: Scope.REQUEST })
    class ScopedSettings {}
    expect(() => CapiModule.forRootAsync({ useClass: PerRequestConfig })).toThrow(
      /PerRequestConfig is request-scoped \(Scope\.REQUEST, or it injects REQUEST\), but/,
    );
    expect(() =>
      CapiModule.forRootAsync({
        inject: [ScopedSettings],
        extraProviders: [ScopedSettings],
        useFactory: () => capiOptions(mock),
      }),
    ).toThrow(/ScopedSettings is request-scoped/);
    // A singleton factory class is not refused.
    const { moduleRef } = await resolve([
      CapiModule.forRootAsync({
        inject: [ConfigService],
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [env] })],
        useFactory: fromConfig,
      }),
    ]);
    await moduleRef.close();
  });

  it('refuses options request-scoped through a dependency, as Nest makes them implicitly', async () => {
    // A factory injecting a singleton-looking service that depends on a request-scoped one: Nest
    // made the options, the client and the module's interceptor request-scoped with it, and
    // failed the start naming the interceptor (older Nest built a client per request instead).
    @Injectable({ scope: Scope.REQUEST })
    class Tenant {
      readonly id = 'tenant-1';
    }
    @Injectable()
    class TenantSettings {
      constructor(readonly tenant: Tenant) {}
    }
    @Injectable()
    class RequestHeaders {
      constructor(@Inject(REQUEST) readonly request: object) {}
    }
    @Injectable()
    class AuditLog {
      @Inject(RequestHeaders) readonly headers!: RequestHeaders;
    }
    @Injectable()
    class Settings {
      constructor(readonly tenant: TenantSettings) {}
      createCapiOptions(): CapiModuleOptions {
        return capiOptions(mock);
      }
    }
    const refusal = (what: string, through: string) =>
      new RegExp(
        `^CapiModule\\.forRootAsync: ${what} is request-scoped through ${through} \\(Scope\\.REQUEST, or it injects REQUEST\\), but the options are built once, at startup`,
      );
    const factory = (inject: unknown[]) => () =>
      CapiModule.forRootAsync({
        inject: inject as never[],
        extraProviders: [Tenant, TenantSettings, RequestHeaders, AuditLog],
        useFactory: () => capiOptions(mock),
      });
    expect(factory([TenantSettings])).toThrow(refusal('TenantSettings', 'Tenant'));
    expect(factory([AuditLog])).toThrow(refusal('AuditLog', 'RequestHeaders'));
    expect(() => CapiModule.forRootAsync({ useClass: Settings })).toThrow(
      refusal('Settings', 'TenantSettings → Tenant'),
    );
    // A token provided as a request-scoped factory in extraProviders, injected by a class.
    @Injectable()
    class Locale {
      constructor(@Inject('LOCALE') readonly locale: string) {}
    }
    expect(() =>
      CapiModule.forRootAsync({
        inject: [Locale],
        extraProviders: [
          Locale,
          { provide: 'LOCALE', scope: Scope.REQUEST, useFactory: () => 'en' },
        ],
        useFactory: () => capiOptions(mock),
      }),
    ).toThrow(refusal('Locale', 'LOCALE'));
  });

  it('a singleton dependency chain, cycles included, is not refused and starts', async () => {
    @Injectable()
    class Clock {
      readonly now = () => 0;
    }
    @Injectable()
    class Settings {
      constructor(
        readonly config: ConfigService,
        readonly clock: Clock,
      ) {}
    }
    // forwardRef cycles must not loop the walk.
    @Injectable()
    class Left {
      constructor(@Inject(forwardRef(() => Right)) readonly right: unknown) {}
    }
    @Injectable()
    class Right {
      constructor(@Inject(forwardRef(() => Left)) readonly left: Left) {}
    }
    const running = await startApp('express', {
      imports: [
        CapiModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [env] })],
          inject: [Settings, Left],
          extraProviders: [Settings, Clock, Left, Right],
          useFactory: () => capiOptions(mock),
        }),
      ],
    });
    await running.app.close();
  });
});

describe('relay.path', () => {
  it.each([
    ['empty (an unset environment variable)', ''],
    ['with a query', '/capi/events?via=beacon'],
    ['not a string (JavaScript)', 42],
  ])('%s: the start fails naming the option, before a client exists', async (_, path) => {
    await expect(
      Test.createTestingModule({
        imports: [CapiModule.forRoot(capiOptions(mock, { relay: { path: path as string } }))],
      }).compile(),
    ).rejects.toThrow(
      "capi-kit: relay.path must be a path from the site root, starting with '/' and without a query",
    );
  });

  it('a relay given as its path alone: the start fails naming the fix', async () => {
    // relay: '/api/capi/events' served the relay at /capi/events, unheard at the intended path.
    await expect(
      Test.createTestingModule({
        imports: [CapiModule.forRoot(capiOptions(mock, { relay: '/api/capi/events' as never }))],
      }).compile(),
    ).rejects.toThrow(
      `capi-kit: relay must be true or the relay's options ({ path, … }), got a string: for another path write relay: { path: "/api/capi/events" }`,
    );
  });

  it("without its leading '/': Nest resolves it from the root, so it still serves the relay", async () => {
    const running = await startApp('express', {
      imports: [CapiModule.forRoot(capiOptions(mock, { relay: { path: 'beacon/events' } }))],
    });
    try {
      const res = await running.request('/beacon/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ v: 1, pixel_id: PIXEL_ID, events: [] }),
      });
      expect(res.status).not.toBe(404);
    } finally {
      await running.app.close();
    }
  });
});

describe('isGlobal', () => {
  @Injectable()
  class Checkout {
    constructor(@Inject(CapiService) readonly capi: CapiService) {}
  }
  @Module({ providers: [Checkout], exports: [Checkout] })
  class CheckoutModule {}

  it('forRoot({ isGlobal: true }) lets feature modules inject CapiService without importing it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CapiModule.forRoot({ ...capiOptions(mock), isGlobal: true }), CheckoutModule],
    }).compile();
    expect(moduleRef.get(Checkout).capi).toBe(moduleRef.get(CapiService));
    await moduleRef.close();
  });

  it('forRootAsync({ isGlobal: true }) too', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CapiModule.forRootAsync({ isGlobal: true, useFactory: () => capiOptions(mock) }),
        CheckoutModule,
      ],
    }).compile();
    expect(moduleRef.get(Checkout).capi).toBeInstanceOf(CapiService);
    await moduleRef.close();
  });

  it("isGlobal in the factory's options, where it is not read: the start fails saying where it goes", async () => {
    for (const imports of [[], [CheckoutModule]]) {
      await expect(
        Test.createTestingModule({
          imports: [
            CapiModule.forRootAsync({
              // JavaScript, or a factory typed loosely, lets it through.
              useFactory: () => ({ ...capiOptions(mock), isGlobal: true }) as CapiModuleOptions,
            }),
            ...imports,
          ],
        }).compile(),
      ).rejects.toThrow(
        /isGlobal is an option of forRootAsync itself.*CapiModule\.forRootAsync\(\{ isGlobal: true, useFactory/,
      );
    }
  });

  it('without isGlobal a feature module that does not import CapiModule cannot inject it', async () => {
    await expect(
      Test.createTestingModule({
        imports: [CapiModule.forRoot(capiOptions(mock)), CheckoutModule],
      }).compile(),
    ).rejects.toThrow(/CapiService/);
  });
});

describe('CapiModule imported as it is (imports: [CapiModule])', () => {
  @Injectable()
  class Signup {
    constructor(@Inject(CapiService) readonly capi: CapiService) {}
  }
  // What many Nest modules ask for in a feature module; CapiModule's configuration is forRoot's.
  @Module({ imports: [CapiModule], providers: [Signup], exports: [Signup] })
  class SignupModule {}

  it('without a global forRoot: the start fails saying how to import it', async () => {
    // (A provider there that injects CapiService fails first, with Nest's own clear message.)
    @Module({ imports: [CapiModule] })
    class ReportsModule {}
    await expect(
      Test.createTestingModule({
        imports: [CapiModule.forRoot(capiOptions(mock)), ReportsModule],
      }).compile(),
    ).rejects.toThrow(
      'capi-kit: CapiModule is imported without configuration (imports: [CapiModule]); import CapiModule.forRoot({ ... })',
    );
  });

  it('beside a global forRoot: redundant and harmless, where it failed the start', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CapiModule.forRoot({ ...capiOptions(mock), relay: true, isGlobal: true }),
        SignupModule,
      ],
    }).compile();
    const { capi } = moduleRef.get(Signup);
    expect(capi).toBe(moduleRef.get(CapiService));
    capi.track(lead);
    await moduleRef.close();
    expect(capi.client.closed).toBe(true);
    expect(mock.events({ event_name: 'Lead' })).toHaveLength(1);
  });
});

describe('CapiModule imported as it is (imports: [CapiModule])', () => {
  @Injectable()
  class Signup {
    constructor(@Inject(CapiService) readonly capi: CapiService) {}
  }
  // What many Nest modules ask for in a feature module; CapiModule's configuration is forRoot's.
  @Module({ imports: [CapiModule], providers: [Signup], exports: [Signup] })
  class SignupModule {}

  it('without a global forRoot: the start fails saying how to import it', async () => {
    // (A provider there that injects CapiService fails first, with Nest's own clear message.)
    @Module({ imports: [CapiModule] })
    class ReportsModule {}
    await expect(
      Test.createTestingModule({
        imports: [CapiModule.forRoot(capiOptions(mock)), ReportsModule],
      }).compile(),
    ).rejects.toThrow(
      'capi-kit: CapiModule is imported without configuration (imports: [CapiModule]); import CapiModule.forRoot({ ... })',
    );
  });

  it('beside a global forRoot: redundant and harmless, where it failed the start', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CapiModule.forRoot({ ...capiOptions(mock), relay: true, isGlobal: true }),
        SignupModule,
      ],
    }).compile();
    const { capi } = moduleRef.get(Signup);
    expect(capi).toBe(moduleRef.get(CapiService));
    capi.track(lead);
    await moduleRef.close();
    expect(capi.client.closed).toBe(true);
    expect(mock.events({ event_name: 'Lead' })).toHaveLength(1);
  });
});

describe('CapiModule registered twice', () => {
  @Controller()
  class SignupController {
    @Get('signup')
    @TrackConversion('Lead')
    signup() {
      return { ok: true };
    }
  }
  // A feature module with its own forRoot (other options, so Nest keeps both instances).
  @Module({
    imports: [
      CapiModule.forRootAsync({ useFactory: () => capiOptions(mock, { partnerAgent: 'feature' }) }),
    ],
  })
  class FeatureModule {}

  it.each(['express', 'fastify'] as const)(
    'tracks each conversion once and warns once (%s)',
    async (platform) => {
      const log = recordingLogger();
      const running = await startApp(
        platform,
        {
          imports: [CapiModule.forRoot(capiOptions(mock)), FeatureModule],
          controllers: [SignupController],
        },
        log.logger,
      );
      try {
        expect((await running.request('/signup')).status).toBe(200);
        expect((await running.request('/signup')).status).toBe(200);
      } finally {
        // Closes (and so flushes) both modules' clients.
        await running.app.close();
      }
      expect(mock.events({ event_name: 'Lead' })).toHaveLength(2);
      const warnings = log.entries.filter((e) => e.level === 'warn').map((e) => e.message);
      expect(warnings).toEqual([expect.stringMatching(/^CapiModule is registered more than once/)]);
    },
  );
});

describe('CapiModule registered twice: a feature module tracking with its own CapiService', () => {
  const FEATURE_PIXEL = '2222222222';
  @Injectable()
  class FeatureSignups {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    signup(request: object) {
      return this.capi.track({ event_name: 'Lead', user_data: { em: 'b@example.com' } }, request);
    }
  }
  @Controller()
  class FeatureController {
    constructor(@Inject(FeatureSignups) private readonly signups: FeatureSignups) {}
    @Get('feature-signup')
    signup(@Req() request: object) {
      return this.signups.signup(request);
    }
  }
  @Module({
    imports: [
      CapiModule.forRootAsync({ useFactory: () => capiOptions(mock, { pixelId: FEATURE_PIXEL }) }),
    ],
    providers: [FeatureSignups],
    controllers: [FeatureController],
  })
  class FeatureModule {}

  it.each(['express', 'fastify'] as const)(
    "sends the event to the feature module's pixel, with the request's context (%s)",
    async (platform) => {
      // The request was bound by the root module first, and the feature module's
      // CapiService.track(event, request) went through that binding: to the root pixel.
      const log = recordingLogger();
      const running = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock)), FeatureModule] },
        log.logger,
      );
      let eventId: string;
      try {
        const res = await running.request('/feature-signup', {
          headers: { cookie: '_fbp=fb.1.1700000000000.42' },
        });
        expect(res.status).toBe(200);
        const result = (await res.json()) as { accepted: boolean; event_id: string };
        expect(result.accepted).toBe(true);
        eventId = result.event_id;
      } finally {
        await running.app.close();
      }
      expect(mock.events({ pixelId: PIXEL_ID })).toEqual([]);
      const [sent] = mock.events({ pixelId: FEATURE_PIXEL });
      expect(sent?.event).toMatchObject({
        event_id: eventId,
        user_data: { fbp: 'fb.1.1700000000000.42', client_user_agent: UA },
      });
    },
  );
});

describe('CapiService with a request', () => {
  @Controller()
  class LeadController {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    @Get('lead')
    lead(@Req() request: object) {
      const a = this.capi.forRequest(request);
      const b = this.capi.forRequest(request);
      const { event_id } = this.capi.track(
        { event_name: 'Lead', user_data: { em: 'b@example.com' } },
        request,
      );
      return { event_id, same: a === b };
    }
  }

  @Controller()
  class MistakeController {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    @Get('not-a-request')
    notARequest(@Req() request: object) {
      const event = { event_name: 'Lead', user_data: { em: 'b@example.com' } } as const;
      // A GraphQL context instead of its req, and a request that is not there (a job's null).
      const graphqlContext = this.capi.track(event, { req: request });
      const nothing = this.capi.track(event, null as unknown as object);
      return { results: [graphqlContext, nothing].map(({ accepted }) => accepted) };
    }
  }

  it.each(['express', 'fastify'] as const)(
    'something that is not a request: the handler still answers, the event is reported, not sent (%s)',
    async (platform) => {
      const running = await startApp(platform, {
        imports: [CapiModule.forRoot(capiOptions(mock))],
        controllers: [MistakeController],
      });
      const errors: string[] = [];
      running.client.on('error', ({ error }) => {
        errors.push(error.message);
      });
      try {
        const res = await running.request('/not-a-request');
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ results: [false, false] });
        await running.client.flush();
        expect(mock.events()).toEqual([]);
        expect(errors).toEqual([
          expect.stringMatching(
            /^TypeError: capi-kit: got object without headers where the HTTP request belongs.*context's req/,
          ),
          expect.stringMatching(/^TypeError: capi-kit: got null without headers/),
        ]);
        // Counted: dropped the way the core drops an unreadable context (failing closed).
        expect(running.client.stats().dropped).toMatchObject({ consent: 2 });
      } finally {
        await running.app.close();
      }
    },
  );

  it.each(['express', 'fastify'] as const)(
    'fills the request context in (%s)',
    async (platform) => {
      const running = await startApp(platform, {
        imports: [CapiModule.forRoot(capiOptions(mock))],
        controllers: [LeadController],
      });
      try {
        const res = await running.request('/lead', {
          headers: { 'x-forwarded-for': '198.51.100.4' },
        });
        const body = (await res.json()) as { event_id: string; same: boolean };
        expect(body.same).toBe(true);
        await running.client.flush();
        expect(mock.events()[0]?.event).toMatchObject({
          event_id: body.event_id,
          event_source_url: `${running.url}/shop`,
          user_data: { client_ip_address: '198.51.100.4' },
        });
      } finally {
        await running.app.close();
      }
    },
  );
});

describe('a guard that tracks with the request, then rejects it', () => {
  // An auth guard tracking the attempt, then throwing UnauthorizedException: the interceptor, which
  // writes _fbp/_fbc, never ran, so the event went out with an _fbp the browser never got (its
  // next visit minted another) and an _fbc from the ad click's fbclid no later request carried.
  @Injectable()
  class TrackingAuthGuard implements CanActivate {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<object>();
      this.capi.track({ event_name: 'AuthAttempt', action_source: 'website' }, request);
      throw new UnauthorizedException();
    }
  }
  @Injectable()
  class RejectingGuard implements CanActivate {
    canActivate(): boolean {
      throw new UnauthorizedException();
    }
  }
  @Controller()
  class AccountController {
    @Get('account')
    @UseGuards(TrackingAuthGuard)
    @TrackConversion('ViewContent')
    account() {
      return 'ok';
    }
    @Get('orders')
    @UseGuards(RejectingGuard)
    @TrackConversion('ViewContent')
    orders() {
      return 'ok';
    }
  }

  it.each(['express', 'fastify'] as const)(
    'the cookies of the context it computed go out with the error response (%s)',
    async (platform) => {
      const running = await startApp(platform, {
        imports: [CapiModule.forRoot(capiOptions(mock))],
        controllers: [AccountController],
        providers: [TrackingAuthGuard],
      });
      const landing = { 'sec-fetch-dest': 'document', accept: 'text/html' };
      try {
        const res = await running.request('/account?fbclid=AbCd', { headers: landing });
        expect(res.status).toBe(401);
        expect(res.headers.getSetCookie()).toHaveLength(2);
        const cookies = new Map(
          res.headers.getSetCookie().map((cookie) => {
            const [pair = ''] = cookie.split(';');
            const at = pair.indexOf('=');
            return [pair.slice(0, at), pair.slice(at + 1)] as const;
          }),
        );
        // Nothing computed a context for a request the guard rejected untouched: no cookies.
        const untouched = await running.request('/orders?fbclid=AbCd', { headers: landing });
        expect(untouched.status).toBe(401);
        expect(untouched.headers.getSetCookie()).toEqual([]);
        await running.client.flush();
        // The guard's event only: the handler's conversion did not run.
        const events = mock.events().map(({ event }) => event);
        expect(events.map((event) => event.event_name)).toEqual(['AuthAttempt']);
        expect(cookies.get('_fbp')).toBe(events[0]?.user_data.fbp);
        expect(cookies.get('_fbc')).toBe(events[0]?.user_data.fbc);
        expect(cookies.get('_fbc')).toMatch(/\.AbCd$/);
      } finally {
        await running.app.close();
      }
    },
  );
});

describe('a middleware that tracks with the request, then answers itself', () => {
  // An ad click's redirect (/go?fbclid=…) answered by a Nest middleware: nothing else writes the
  // cookies. On Fastify the middleware gets the Node request, which has no link to its response
  // (Express's has req.res), and Fastify's onSend hook never runs for a response written raw: the
  // event went out with an _fbp and _fbc the browser never got.
  @Injectable()
  class GoMiddleware implements NestMiddleware {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    use(req: object, res: ServerResponse): void {
      this.capi.track({ event_name: 'ViewContent', action_source: 'website' }, req);
      res.writeHead(302, { location: '/landing' }).end();
    }
  }
  class RedirectModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(GoMiddleware).forRoutes('go');
    }
  }

  it.each(['express', 'fastify'] as const)(
    'sends the cookies of the context it computed with its answer (%s)',
    async (platform) => {
      Module({ imports: [CapiModule.forRoot(capiOptions(mock))], providers: [GoMiddleware] })(
        RedirectModule,
      );
      const running = await startApp(platform, { imports: [RedirectModule] });
      try {
        const res = await running.request('/go?fbclid=AbCd', { redirect: 'manual' });
        expect(res.status).toBe(302);
        await running.client.flush();
        const [event] = mock.events().map((e) => e.event);
        const cookies = res.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
        expect(cookies).toEqual([`_fbp=${event?.user_data.fbp}`, `_fbc=${event?.user_data.fbc}`]);
      } finally {
        await running.app.close();
      }
    },
  );
});

describe('@TrackConversion on a provider method', () => {
  interface Order {
    id: string;
    total: number;
  }
  // What a user may well write: Nest's @Cron or @OnEvent work on service methods, so why not this?
  @Injectable()
  class OrderService {
    @TrackConversion('Purchase', {
      map: (order: Order) => ({ custom_data: { value: order.total, currency: 'EUR' } }),
    })
    place(order: Order): Order {
      return order;
    }
  }
  @Injectable()
  @TrackConversion('Lead')
  class NewsletterService {}

  @Resolver()
  class OrderResolver {
    @Mutation(() => String)
    @TrackConversion('Purchase', { map: () => ({ custom_data: { value: 1, currency: 'EUR' } }) })
    placeOrder(): string {
      return 'ok';
    }
  }
  @Controller()
  @TrackConversion('ViewContent')
  class ShopController {
    @Get('shop')
    shop(): string {
      return 'shop';
    }
  }

  it.each(['express', 'fastify'] as const)(
    'is never tracked, so the start warns once per decorator (%s)',
    async (platform) => {
      const log = recordingLogger();
      const running = await startApp(
        platform,
        {
          imports: [
            CapiModule.forRoot(capiOptions(mock)),
            // Registered twice: still one warning each.
            CapiModule.forRootAsync({
              useFactory: () => capiOptions(mock, { partnerAgent: 'feature' }),
            }),
          ],
          controllers: [ShopController],
          providers: [OrderService, NewsletterService, OrderResolver],
        },
        log.logger,
      );
      await running.app.close();
      const misplaced = log.entries
        .filter((e) => e.level === 'warn' && e.message.includes('is a provider'))
        .map((e) => e.message);
      expect(misplaced).toEqual([
        expect.stringMatching(
          /^@TrackConversion on OrderService\.place is ignored: it is a provider/,
        ),
        expect.stringMatching(/^@TrackConversion on NewsletterService is ignored/),
      ]);
      expect(misplaced[0]).toContain('call CapiService.track(event, request) there');
    },
  );
});

describe('the relay under a global prefix', () => {
  const relayAt = async (url: string, path: string) =>
    (
      await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: '{}',
      })
    ).status;

  it.each(['express', 'fastify'] as const)(
    'answers under the prefix, which the start says, naming both fixes; excluded, at the root and nothing said (%s)',
    async (platform) => {
      const log = recordingLogger();
      const prefixed = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock, { relay: true }))] },
        log.logger,
        {},
        (app) => app.setGlobalPrefix('api'),
      );
      // @capi-kit/browser posts to /capi/events: the app's 404, with nothing said before.
      expect(await relayAt(prefixed.url, '/capi/events')).toBe(404);
      expect(await relayAt(prefixed.url, '/api/capi/events')).toBe(400);
      await prefixed.app.close();
      expect(
        log.entries.filter((e) => e.level === 'warn' && e.message.includes('global prefix')),
      ).toEqual([
        {
          level: 'warn',
          message: expect.stringContaining(
            "the relay answers at /api/capi/events, under the global prefix, not at /capi/events: give the browser that URL (createPixel({ relay: '/api/capi/events' })), or serve it from the root: app.setGlobalPrefix('api', { exclude: ['capi/events'] })",
          ),
        },
      ]);

      const quiet = recordingLogger();
      const excluded = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock, { relay: true }))] },
        quiet.logger,
        {},
        (app) => app.setGlobalPrefix('api', { exclude: ['capi/events'] }),
      );
      expect(await relayAt(excluded.url, '/capi/events')).toBe(400);
      await excluded.app.close();
      expect(quiet.entries.filter((e) => e.message.includes('global prefix'))).toEqual([]);
    },
  );
});

describe('a proxy trustProxy does not reach past', () => {
  @Controller()
  class PingController {
    constructor(@Inject(CapiService) private readonly capi: CapiService) {}
    @Get('ping')
    ping(@Req() request: object) {
      return { capiIp: this.capi.forRequest(request).context.user_data.client_ip_address };
    }
  }

  it.each(['express', 'fastify'] as const)(
    "says the platform's own proxy setting is not read and where trustProxy goes (%s)",
    async (platform) => {
      const running = await startApp(platform, {
        imports: [CapiModule.forRoot(capiOptions(mock, { trustProxy: false }))],
        controllers: [PingController],
      });
      const client = running.app.get<CapiClient>(CAPI_CLIENT);
      const warned: string[] = [];
      client.on('warn', ({ message }) => warned.push(message));
      try {
        for (let i = 0; i < 2; i++) {
          const res = await running.request('/ping', {
            headers: { 'x-forwarded-for': '203.0.113.32' },
          });
          expect(await res.json()).toEqual({ capiIp: '127.0.0.1' });
        }
      } finally {
        await running.app.close();
      }
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('came through a proxy');
      expect(warned[0]).toContain(
        "The platform's own proxy setting (app.set('trust proxy', …) on Express, new FastifyAdapter({ trustProxy }) on Fastify) is not read by capi-kit: set trustProxy in CapiModule.forRoot",
      );
      expect(warned[0]).not.toContain('203.0.113.32');
    },
  );
});

import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createCapi, type RequestCapi } from '@capi-kit/core';
import * as kit from '@capi-kit/testing/adapter-kit';
import {
  All,
  Controller,
  Get,
  Headers,
  HttpCode,
  Module,
  type NestApplicationOptions,
  type NestModule,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { MiddlewareConsumer } from '@nestjs/common/interfaces';
import { CapiContext, CapiModule, type CapiModuleOptions, TrackConversion } from '../src/index.js';
import { PLATFORMS, type Platform, startApp } from './fixtures.js';

// The behaviour every adapter shares, from @capi-kit/testing's conformance kit, on both platforms.
// This file is only the translation: the kit's routes as a controller with @TrackConversion.

/** What handlers set the status and cookies with: Express's `res`, Fastify's `reply`. */
interface PlatformResponse {
  status(code: number): unknown;
  cookie?(name: string, value: string): unknown;
  header(name: string, value: string): unknown;
}

@Controller('kit')
class KitController {
  @All('call')
  @HttpCode(200)
  call(@CapiContext() capi: RequestCapi, @Headers('x-kit-call') call: string | undefined) {
    return kit.answerKitCall(call, capi);
  }

  @Get('cookies')
  cookies(@Res({ passthrough: true }) res: PlatformResponse): string {
    // The app's own cookies, set the platform's usual way after the interceptor wrote ours (on
    // Express, csrf and session came from a middleware before it).
    if (res.cookie) res.cookie('theme', 'dark');
    else {
      for (const cookie of [
        'csrf=1; Path=/',
        'session=abc; Path=/; HttpOnly',
        'theme=dark; Path=/',
      ])
        res.header('set-cookie', cookie);
    }
    return 'ok';
  }

  @Post('purchase')
  @HttpCode(200)
  @TrackConversion('Purchase', { map: () => kit.KIT_PURCHASE })
  purchase(
    @Query('status') status: string | undefined,
    @Res({ passthrough: true }) res: PlatformResponse,
  ) {
    const code = Number(status ?? 200);
    res.status(code);
    return { ok: code < 400 };
  }

  @Post('throws')
  @TrackConversion('Purchase', { map: () => kit.KIT_PURCHASE })
  throws(): never {
    throw new Error('handler failed');
  }

  @Post('bad-map')
  @HttpCode(201)
  @TrackConversion('Purchase', {
    map: () => {
      throw new Error('map exploded');
    },
  })
  badMap() {
    return { created: true };
  }

  @Get('view')
  @TrackConversion('ViewContent')
  view() {
    return 'view';
  }

  @Post('no-map')
  @HttpCode(200)
  @TrackConversion('CompleteRegistration')
  noMap() {
    return { ok: true };
  }

  @Post('invalid-purchase')
  @HttpCode(200)
  // The types reject a Purchase without currency; JavaScript callers reach this run-time path.
  @TrackConversion('Purchase', { map: () => kit.KIT_INVALID_PURCHASE as never })
  invalidPurchase() {
    return { ok: true };
  }
}

@Controller('capi')
class OtherController {
  @Post('other')
  @HttpCode(200)
  async other(@Req() req: Readable & { body?: { n: number } }) {
    // With `bodyParser: false` the app reads its own body.
    const body = req.body ?? (JSON.parse(await text(req)) as { n: number });
    return { n: body.n };
  }
}

/**
 * The app module: the kit's routes, and on Express the app's own cookies from a middleware before
 * ours. (On Fastify a middleware writes the raw response, whose `Set-Cookie` Fastify's reply
 * headers replace: an app sets cookies through the reply there.)
 */
const kitModule = (options: CapiModuleOptions, platform: Platform) => {
  @Module({ imports: [CapiModule.forRoot(options)], controllers: [KitController, OtherController] })
  class KitModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      if (platform !== 'express') return;
      consumer
        .apply(
          (_req: unknown, res: { setHeader(n: string, v: string[]): void }, next: () => void) => {
            res.setHeader('set-cookie', ['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly']);
            next();
          },
        )
        .forRoutes('kit/cookies');
    }
  }
  return KitModule;
};

// Nest on Express parses JSON before middleware run (unless `bodyParser: false`) and keeps the raw
// bytes only with `rawBody: true`; on Fastify, middleware run before any parser, on the stream.
const VARIANTS: Record<
  Platform,
  { name: string; parsesJsonFirst: boolean; nest: NestApplicationOptions }[]
> = {
  express: [
    { name: "Nest's JSON parser", parsesJsonFirst: true, nest: {} },
    { name: 'rawBody: true', parsesJsonFirst: false, nest: { rawBody: true } },
    { name: 'bodyParser: false', parsesJsonFirst: false, nest: { bodyParser: false } },
  ],
  fastify: [
    { name: "Nest's JSON parser", parsesJsonFirst: false, nest: {} },
    { name: 'rawBody: true', parsesJsonFirst: false, nest: { rawBody: true } },
  ],
};

const nestDriver = (platform: Platform): kit.AdapterDriver => ({
  name: `NestJS on ${platform}`,
  cookieOrder:
    platform === 'express'
      ? ['csrf', 'session', '_fbp', '_fbc', 'theme']
      : ['_fbp', '_fbc', 'csrf', 'session', 'theme'],
  relayVariants: VARIANTS[platform],
  errorSources: {
    map: "@TrackConversion('Purchase') map",
    track: "@TrackConversion('Purchase') track",
  },
  createClient: (options) => createCapi(options),
  async start({ capi: options, variant }) {
    const nest = VARIANTS[platform].find((v) => v.name === variant)?.nest ?? {};
    const running = await startApp(
      platform,
      { imports: [kitModule(options as CapiModuleOptions, platform)] },
      false,
      nest,
    );
    return {
      url: running.url,
      client: running.client,
      // @TrackConversion tracks at the response's `finish`, which the server emits before this
      // process's client can read the reply (the same event loop).
      settled: async () => {},
      close: () => running.app.close(),
    };
  },
});

for (const platform of PLATFORMS) kit.describeAdapterConformance(nestDriver(platform));

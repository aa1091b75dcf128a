import { CapiModule } from '@capi-kit/nestjs';
import { type DynamicModule, Module } from '@nestjs/common';
import { destinationsFromEnv, parseTrustProxy, tiktokPixelFromEnv } from 'capi-kit-example-shared';
import { type Env, EXAMPLE_CONFIG, type ExampleConfig } from './config';
import { ShopController } from './shop.controller';

/** The example's root module; {@link appModule} configures it for one environment. */
@Module({})
export class AppModule {}

/** The app for one environment: `process.env` in `main.ts`, the contract's in tests. */
export function appModule(env: Env): DynamicModule {
  const config: ExampleConfig = { pixelId: env.META_PIXEL_ID ?? '' };
  if (env.META_PIXEL_SCRIPT_URL) config.pixelScriptUrl = env.META_PIXEL_SCRIPT_URL;
  const tiktok = tiktokPixelFromEnv(env);
  if (tiktok) config.tiktok = tiktok;
  return {
    module: AppModule,
    imports: [
      // Pixel ID, token, META_GRAPH_URL and META_TEST_EVENT_CODE are read from `env`;
      // `destinations`: [] or [tiktok(…)] from the TIKTOK_* variables (examples/shared).
      // `relay`: POST /capi/events, @capi-kit/browser's first-party relay, with the default rules.
      // `shutdownTimeoutMs`: on SIGTERM the client gets 5 s (like the Express example) to deliver
      // what the last requests tracked, time for a `Retry-After` of a second or two on a busy host.
      CapiModule.forRoot({
        env,
        trustProxy: parseTrustProxy(env.TRUST_PROXY),
        destinations: destinationsFromEnv(env),
        relay: true,
        shutdownTimeoutMs: 5_000,
      }),
    ],
    controllers: [ShopController],
    providers: [{ provide: EXAMPLE_CONFIG, useValue: config }],
  };
}

// Every entry point of every package, used with its types, as an app written in TypeScript does.
// The smoke test type-checks this file with `strict` under `nodenext` (ESM and CommonJS),
// `node10` and `bundler` resolution. Each `@ts-expect-error` proves a type is really there: had an
// import fallen back to `any`, there would be no error and the unused directive would fail.
import { createPixel, type Pixel } from '@capi-kit/browser';
import { runCli } from '@capi-kit/cli';
import { type CapiClient, createCapi, sha256Hex, type TrackResult } from '@capi-kit/core';
import { capi } from '@capi-kit/express';
import { capiPlugin } from '@capi-kit/fastify';
import { CapiModule } from '@capi-kit/nestjs';
import { createNextCapi } from '@capi-kit/next';
import { MetaPixel, type MetaPixelProps, trackPixel } from '@capi-kit/next/client';
import { capiProxy } from '@capi-kit/next/proxy';
import { bullmqOutbox } from '@capi-kit/outbox-bullmq';
import { sqliteOutbox } from '@capi-kit/outbox-sqlite';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { type TikTokEvent, toTikTokEvent } from '@capi-kit/tiktok';

export const client: CapiClient = createCapi({ pixelId: '1', accessToken: 't', env: false });
export const tracked: TrackResult = client.track({ event_name: 'Lead' });
export const eventId: string = tracked.event_id;
// @ts-expect-error track() takes an event object, not a bare name
client.track('Lead');
export const digest: string = sha256Hex('a');

export const middleware = capi({ pixelId: '1', accessToken: 't' });
// @ts-expect-error the Express middleware has no `port` option
capi({ port: 1 });
export const plugin = capiPlugin;
export const nestModule = CapiModule.forRoot({ pixelId: '1', accessToken: 't' });

export const nextCapi = createNextCapi({ pixelId: '1', accessToken: 't' });
export const proxy: (...args: never[]) => Promise<Response> = capiProxy();
// @ts-expect-error capiProxy takes an options object
capiProxy('/capi');
export const pixelProps: MetaPixelProps = { pixelId: '1', events: [] };
// @ts-expect-error <MetaPixel/> requires its pixel
export const noPixel: MetaPixelProps = { events: [] };
export const pixelComponent = MetaPixel;
export const pixelEventId: string = trackPixel('Lead', {}, { eventID: eventId });

export const pixel: Pixel = createPixel({ pixelId: '1' });
// @ts-expect-error Purchase needs value and currency
pixel.track('Purchase', {});

export const mock: Promise<MockGraph> = startMockGraph({ port: 0 });
export const cli: Promise<number> = runCli(['--help'], {
  stdout: process.stdout,
  stderr: process.stderr,
  env: {},
  cwd: '/',
});
export const outboxes = [sqliteOutbox, bullmqOutbox] as const;

export const tiktokEvent: TikTokEvent | undefined = toTikTokEvent(
  { event_name: 'Lead' },
  { eventId },
).event;
// @ts-expect-error a Purchase needs value and currency for TikTok too
toTikTokEvent({ event_name: 'Purchase', custom_data: {} }, { eventId });

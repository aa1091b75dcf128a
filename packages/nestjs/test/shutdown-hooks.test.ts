import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Get } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CapiModule } from '../src/index.js';
import { capiOptions, PLATFORMS, recordingLogger, startApp } from './fixtures.js';

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock?.close());

// Test runners set NODE_ENV=test, where the warning stays quiet (an e2e test's process ends on its
// own, and the client's beforeExit close sends what is queued); an app in production does not.
const nodeEnv = process.env.NODE_ENV;
afterEach(() => {
  process.env.NODE_ENV = nodeEnv;
});

const shutdownWarnings = (entries: { level: string; message: string }[]) =>
  entries.filter((e) => e.level === 'warn' && e.message.includes('enableShutdownHooks'));

describe.each(PLATFORMS)('app.enableShutdownHooks() forgotten (%s)', (platform) => {
  it('is said once, at the first request, naming the fix', async () => {
    process.env.NODE_ENV = 'production';
    const log = recordingLogger();
    const app = await startApp(
      platform,
      { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [PingController] },
      log.logger,
    );
    try {
      expect((await app.request('/ping')).status).toBe(200);
      expect((await app.request('/ping')).status).toBe(200);
      const warnings = shutdownWarnings(log.entries);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toContain('SIGTERM');
    } finally {
      await app.app.close();
    }
  });

  it('is not said when shutdown hooks are enabled, nor under NODE_ENV=test', async () => {
    for (const [env, hooks] of [
      ['production', true],
      ['test', false],
    ] as const) {
      process.env.NODE_ENV = env;
      const log = recordingLogger();
      const app = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [PingController] },
        log.logger,
        {},
        (nest) => {
          if (hooks) nest.enableShutdownHooks();
        },
      );
      try {
        expect((await app.request('/ping')).status).toBe(200);
        expect(shutdownWarnings(log.entries)).toEqual([]);
      } finally {
        await app.app.close();
      }
    }
  });
});

import { readFileSync } from 'node:fs';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeReadmeSnippets,
  readmeSnippets,
} from '../../../scripts/test-support/package-checks.ts';
import { CapiModule } from '../src/index.js';
import { capiOptions, PLATFORMS, postJson, startApp } from './fixtures.js';
import { SignupService } from './readme-snippets/capi-service.js';
import { CheckoutController } from './readme-snippets/track-conversion.js';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks.
const snippetDir = new URL('./readme-snippets/', import.meta.url);
describeReadmeSnippets(import.meta.url);

// The root README shows some of the same snippets; they must stay identical too.
describe('the root README', () => {
  it('shows NestJS snippets, each identical to its checked file', () => {
    const rootBlocks = readmeSnippets(new URL('../../../README.md', import.meta.url));
    expect(rootBlocks.length).toBeGreaterThanOrEqual(3);
    for (const [file, code] of rootBlocks) {
      expect(code).toBe(readFileSync(new URL(file, snippetDir), 'utf8'));
    }
  });
});

describe.each(PLATFORMS)('README snippets run (%s)', (platform) => {
  let mock: MockGraph;
  beforeAll(async () => {
    mock = await startMockGraph();
  });
  afterAll(() => mock?.close());

  it('the @TrackConversion and CapiService snippets work as shown', async () => {
    const running = await startApp(platform, {
      imports: [CapiModule.forRoot({ ...capiOptions(mock), isGlobal: true })],
      controllers: [CheckoutController],
      providers: [SignupService],
    });
    try {
      const order = { id: '42', email: 'r@example.com', total: 9.5, currency: 'EUR' };
      expect((await postJson(running, '/checkout', order)).status).toBe(201);
      const lead = (await (
        await postJson(running, '/lead', { email: 'l@example.com' })
      ).json()) as {
        event_id: string;
      };
      const signup = running.app.get(SignupService).completed('s@example.com', {
        method: 'POST',
        url: '/signup',
        headers: {
          host: 'shop.example',
          'user-agent': 'test',
          referer: 'http://shop.example/join',
        },
      });
      await running.client.flush();
      expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
        ['Purchase', 'order-42'],
        ['Lead', lead.event_id],
        ['CompleteRegistration', signup],
      ]);
    } finally {
      await running.app.close();
    }
  });
});

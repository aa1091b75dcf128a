import type { RequestCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Get, Inject, Post, Req } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiContext, CapiModule, CapiService } from '../src/index.js';
import { capiOptions, PLATFORMS, type RunningApp, startApp } from './fixtures.js';

// Cookies and the request context every adapter writes are checked by the conformance kit
// (conformance.test.ts); here, what only Nest has: @CapiContext() and CapiService.forRequest().

@Controller()
class LeadController {
  constructor(@Inject(CapiService) private readonly capi: CapiService) {}

  @Post('lead')
  lead(@CapiContext() capi: RequestCapi, @Req() request: object) {
    return {
      same: capi === this.capi.forRequest(request),
      fbp: capi.context.user_data.fbp ?? null,
      event_id: capi.track('Lead', { user_data: { em: 'c@example.com' } }).event_id,
    };
  }
}

describe.each(PLATFORMS)('@CapiContext() on %s', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(platform, {
      imports: [CapiModule.forRoot(capiOptions(mock))],
      controllers: [LeadController],
    });
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => mock.reset());

  it('is the tracker CapiService.forRequest() gives, with the browser _fbp left as it is', async () => {
    const res = await running.request('/lead', {
      method: 'POST',
      headers: { cookie: '_fbp=fb.0.1700000000000.777' },
    });
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('_fbp='))).toEqual([]);
    const body = (await res.json()) as { same: boolean; fbp: string; event_id: string };
    expect(body).toMatchObject({ same: true, fbp: 'fb.0.1700000000000.777' });
    await running.client.flush();
    expect(mock.events()[0]?.event).toMatchObject({
      event_id: body.event_id,
      user_data: { fbp: 'fb.0.1700000000000.777' },
    });
  });
});

@Controller()
class ApiController {
  @Get('api/stock')
  stock() {
    return { stock: 3 };
  }

  @Post('api/lead')
  lead(@CapiContext() capi: RequestCapi) {
    return { accepted: capi.track('Lead', { user_data: { em: 'd@example.com' } }).accepted };
  }
}

describe.each(PLATFORMS)('a request that tracks nothing on %s', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;
  let contexts = 0;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(platform, {
      imports: [
        CapiModule.forRoot(
          capiOptions(mock, {
            // Called once per request context computed: what this test counts.
            consent: () => {
              contexts++;
              return 'granted';
            },
          }),
        ),
      ],
      controllers: [ApiController],
    });
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => {
    mock.reset();
    contexts = 0;
  });

  // A returning visitor's fetch: a valid _fbp, no fbclid, not a page navigation.
  const returning = { cookie: '_fbp=fb.1.1700000000000.42', 'sec-fetch-dest': 'empty' };

  it('computes no request context and sets no cookie', async () => {
    const res = await running.request('/api/stock', { headers: returning });
    expect(await res.json()).toEqual({ stock: 3 });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(contexts).toBe(0);
  });

  it('computes it on the first track(), with the browser _fbp', async () => {
    const res = await running.request('/api/lead', { method: 'POST', headers: returning });
    expect(await res.json()).toEqual({ accepted: true });
    expect(contexts).toBe(1);
    await running.client.flush();
    expect(mock.events()[0]?.event.user_data?.fbp).toBe('fb.1.1700000000000.42');
  });

  it('computes it at once for a new visitor, whose _fbp is minted', async () => {
    const res = await running.request('/api/stock', { headers: { 'sec-fetch-dest': 'empty' } });
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^_fbp=fb\.\d\./)]);
    expect(contexts).toBe(1);
  });
});

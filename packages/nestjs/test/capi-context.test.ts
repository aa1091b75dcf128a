import type { RequestCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Inject, Post, Req } from '@nestjs/common';
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

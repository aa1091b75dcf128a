import type { RequestCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Get, Header, Inject, Post, Req, Res } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiContext, CapiModule, CapiService } from '../src/index.js';
import { capiOptions, PLATFORMS, type RunningApp, startApp, UA } from './fixtures.js';

const cookieValue = (setCookies: string[], name: string) =>
  setCookies
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1)
    .split(';')[0];

interface PlatformResponse {
  cookie?(name: string, value: string): unknown;
  header(name: string, value: string): unknown;
}

@Controller()
class PageController {
  constructor(@Inject(CapiService) private readonly capi: CapiService) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(@CapiContext() capi: RequestCapi): string {
    const { event_id } = capi.track('PageView');
    return `<p data-event-id="${event_id}">hello</p>`;
  }

  @Get('own-cookie')
  ownCookie(@Res({ passthrough: true }) res: PlatformResponse): { ok: true } {
    // The app's own Set-Cookie, set the platform's usual way after the interceptor wrote ours.
    if (res.cookie) res.cookie('session', 'abc');
    else res.header('set-cookie', 'session=abc; Path=/; HttpOnly');
    return { ok: true };
  }

  @Post('lead')
  lead(@CapiContext() capi: RequestCapi, @Req() request: object) {
    return {
      same: capi === this.capi.forRequest(request),
      fbp: capi.context.user_data.fbp ?? null,
      event_id: capi.track('Lead', { user_data: { em: 'c@example.com' } }).event_id,
    };
  }
}

describe.each(PLATFORMS)('cookies and @CapiContext() on %s', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(platform, {
      imports: [CapiModule.forRoot(capiOptions(mock))],
      controllers: [PageController],
    });
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => mock.reset());
  afterEach(() => running.client.flush());

  const navigate = (path: string) =>
    running.request(path, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });

  it('a page load sets _fbp, and _fbc from ?fbclid=, matching the tracked event', async () => {
    const res = await navigate('/?fbclid=IwAR_nest-1');
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie();
    const fbp = cookieValue(cookies, '_fbp');
    const fbc = cookieValue(cookies, '_fbc');
    expect(fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
    expect(fbc).toMatch(/^fb\.0\.\d{13}\.IwAR_nest-1$/);
    expect(cookies.filter((c) => c.startsWith('_fbp='))).toHaveLength(1);
    const eventId = /data-event-id="([^"]+)"/.exec(await res.text())?.[1];
    await running.client.flush();
    expect(mock.events({ event_name: 'PageView' })[0]?.event).toMatchObject({
      event_id: eventId,
      event_source_url: `${running.url}/?fbclid=IwAR_nest-1`,
      user_data: { fbp, fbc, client_user_agent: UA },
    });
  });

  it('keeps the cookies the app sets itself', async () => {
    const res = await navigate('/own-cookie');
    const cookies = res.headers.getSetCookie();
    expect(cookieValue(cookies, 'session')).toBe('abc');
    expect(cookieValue(cookies, '_fbp')).toMatch(/^fb\.0\./);
  });

  it('does not rewrite a valid _fbp the browser already has', async () => {
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

  it('concurrent requests each get their own context', async () => {
    const n = 12;
    const bodies = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await running.request('/lead', {
          method: 'POST',
          headers: { cookie: `_fbp=fb.0.1700000000000.${100 + i}`, 'user-agent': `UA-${i}` },
        });
        return (await res.json()) as { fbp: string; event_id: string };
      }),
    );
    await running.client.flush();
    const byId = new Map(mock.events().map((e) => [e.event.event_id, e.event]));
    bodies.forEach((body, i) => {
      expect(body.fbp).toBe(`fb.0.1700000000000.${100 + i}`);
      expect(byId.get(body.event_id)?.user_data).toMatchObject({
        fbp: body.fbp,
        client_user_agent: `UA-${i}`,
      });
    });
  });
});

import type { ServerResponse } from 'node:http';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Get, type MessageEvent, Res, Sse } from '@nestjs/common';
import { type Observable, of } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiModule } from '../src/index.js';
import { capiOptions, PLATFORMS, type RunningApp, startApp } from './fixtures.js';

/** The Node response under the platform's: Fastify's `reply.raw`, or Express's `res` itself. */
type PlatformResponse = ServerResponse & { raw?: ServerResponse };

@Controller()
class StreamController {
  @Sse('events')
  events(): Observable<MessageEvent> {
    return of({ data: { n: 1 } });
  }

  /** Writes the Node response itself, as a server-side renderer handed it does. */
  @Get('rendered')
  rendered(@Res() res: PlatformResponse): void {
    const node = res.raw ?? res;
    node.setHeader('content-type', 'text/html');
    node.end('<!doctype html><p>rendered</p>');
  }

  @Get('page')
  page(
    @Res({ passthrough: true })
    res: {
      append?(name: string, value: string): unknown;
      header(name: string, value: string): unknown;
    },
  ) {
    // The platform's appending call: Express `res.append`, Fastify `reply.header`.
    if (res.append) res.append('set-cookie', 'theme=dark; Path=/');
    else res.header('set-cookie', 'theme=dark; Path=/');
    return 'page';
  }
}

// A landing from an ad: the visitor has no _fbp yet and the URL carries the click ID.
const LANDING = '?fbclid=IwAR_raw_response';

describe.each(PLATFORMS)('_fbp/_fbc on responses Nest writes raw (%s)', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(platform, {
      imports: [CapiModule.forRoot(capiOptions(mock))],
      controllers: [StreamController],
    });
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => mock.reset());

  const cookieNames = (res: Response) =>
    res.headers.getSetCookie().map((cookie) => cookie.slice(0, cookie.indexOf('=')));

  it('an @Sse() handler', async () => {
    const res = await running.request(`/events${LANDING}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data: {"n":1}');
    expect(cookieNames(res)).toEqual(['_fbp', '_fbc']);
  });

  it('a handler that writes the Node response itself', async () => {
    const res = await running.request(`/rendered${LANDING}`, { headers: { accept: 'text/html' } });
    expect(await res.text()).toContain('rendered');
    expect(cookieNames(res)).toEqual(['_fbp', '_fbc']);
  });

  it("a reply the platform writes still carries one of each, beside the app's", async () => {
    const res = await running.request(`/page${LANDING}`, { headers: { accept: 'text/html' } });
    expect(await res.text()).toBe('page');
    expect(cookieNames(res)).toEqual(['_fbp', '_fbc', 'theme']);
  });
});

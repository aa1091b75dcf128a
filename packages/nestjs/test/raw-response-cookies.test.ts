import type { ServerResponse } from 'node:http';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  Get,
  type MessageEvent,
  type NestInterceptor,
  Res,
  Sse,
  UseInterceptors,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Observable, of, tap } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiModule } from '../src/index.js';
import { capiOptions, PLATFORMS, type RunningApp, startApp } from './fixtures.js';

/** The Node response under the platform's: Fastify's `reply.raw`, or Express's `res` itself. */
type PlatformResponse = ServerResponse & { raw?: ServerResponse };

/** Express `Response` and `FastifyReply` alike: `removeHeader` and a way to set one header. */
interface HeaderWriter {
  removeHeader(name: string): unknown;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

/** Makes a page cacheable the way an app does: no `Set-Cookie`, a public `Cache-Control`. */
function makeCacheable(res: HeaderWriter): void {
  res.removeHeader('set-cookie');
  if (res.header) res.header('cache-control', 'public, max-age=600');
  else res.setHeader?.('cache-control', 'public, max-age=600');
}

/** A caching interceptor's part that matters here: after the handler, the page loses its cookies. */
class CacheableInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(tap(() => makeCacheable(context.switchToHttp().getResponse<HeaderWriter>())));
  }
}

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

  /** Hands the Node response to a session library that appends its cookie, as iron-session does. */
  @Get('login')
  login(@Res({ passthrough: true }) res: PlatformResponse) {
    const node = res.raw ?? res;
    const prev = node.getHeader('set-cookie') ?? [];
    node.setHeader(
      'set-cookie',
      (Array.isArray(prev) ? prev : [String(prev)]).concat('session=abc; Path=/; HttpOnly'),
    );
    return 'welcome';
  }

  @Get('cacheable')
  cacheable(@Res({ passthrough: true }) res: HeaderWriter) {
    makeCacheable(res);
    return 'page';
  }

  @Get('cacheable-by-interceptor')
  @UseInterceptors(CacheableInterceptor)
  cacheableByInterceptor() {
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

  it('a cookie a handler adds on the Node response is kept beside them', async () => {
    const res = await running.request(`/login${LANDING}`, { headers: { accept: 'text/html' } });
    expect(await res.text()).toBe('welcome');
    expect(cookieNames(res).sort()).toEqual(['_fbc', '_fbp', 'session']);
  });

  it('a page the app removed Set-Cookie from (to be cached) carries no _fbp/_fbc', async () => {
    // A shared cache would hand the page's Set-Cookie, a freshly minted _fbp, to every visitor.
    // On Fastify 4 and the Fastify 5 that @nestjs/platform-fastify 11 ships, removeHeader leaves
    // the raw response alone, where the copies for handlers writing it themselves went out.
    for (const path of ['/cacheable', '/cacheable-by-interceptor']) {
      const res = await running.request(`${path}${LANDING}`, { headers: { accept: 'text/html' } });
      expect(await res.text()).toBe('page');
      expect(res.headers.get('cache-control')).toBe('public, max-age=600');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it("a reply the platform writes still carries one of each, beside the app's", async () => {
    const res = await running.request(`/page${LANDING}`, { headers: { accept: 'text/html' } });
    expect(await res.text()).toBe('page');
    expect(cookieNames(res)).toEqual(['_fbp', '_fbc', 'theme']);
  });
});

describe('_fbp/_fbc on Fastify when an onSend hook of the app removes Set-Cookie', () => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(
      'fastify',
      { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [StreamController] },
      false,
      {},
      (app) => {
        // Added in main.ts, as an app does: every page under /page is served for a shared cache.
        (app as NestFastifyApplication)
          .getHttpAdapter()
          .getInstance()
          .addHook('onSend', (request, reply, payload, done) => {
            if (request.url.startsWith('/page')) reply.removeHeader('set-cookie');
            done(null, payload);
          });
      },
    );
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });

  it('sends none of them', async () => {
    const res = await running.request(`/page${LANDING}`, { headers: { accept: 'text/html' } });
    expect(await res.text()).toBe('page');
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

/**
 * What express-session and cookie-session do (through the on-headers package): their cookie is
 * set from a writeHead wrapper, as the head goes out. `app.use()` runs it on either platform
 * (through @fastify/middie on Fastify).
 */
function sessionAtHead(_req: unknown, res: ServerResponse, next: () => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const prev = res.getHeader('set-cookie') ?? [];
    res.setHeader(
      'set-cookie',
      (Array.isArray(prev) ? prev : [String(prev)]).concat('sid=abc; Path=/; HttpOnly'),
    );
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  next();
}

describe.each(PLATFORMS)('a session cookie set as the head is written (%s)', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(
      platform,
      { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [StreamController] },
      false,
      {},
      (app) => app.use(sessionAtHead),
    );
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });

  it('is kept beside _fbp/_fbc, each once', async () => {
    for (const [path, body, names] of [
      ['/page', 'page', ['_fbc', '_fbp', 'sid', 'theme']],
      ['/login', 'welcome', ['_fbc', '_fbp', 'session', 'sid']],
      ['/rendered', 'rendered', ['_fbc', '_fbp', 'sid']],
    ] as const) {
      const res = await running.request(`${path}${LANDING}`, { headers: { accept: 'text/html' } });
      expect(await res.text()).toContain(body);
      expect(
        res.headers
          .getSetCookie()
          .map((cookie) => cookie.slice(0, cookie.indexOf('=')))
          .sort(),
      ).toEqual(names);
    }
  });
});

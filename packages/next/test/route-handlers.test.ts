import { createNextCapi, type NextCapi } from '@capi-kit/next';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { graphOptions, mock, setUpMockGraph, sha256, UA } from './mock-graph.ts';
import { redirectError, scope } from './next-mocks.ts';

vi.mock('next/headers.js', async () => (await import('./next-mocks.ts')).nextHeadersMock());
vi.mock('next/server.js', async () => (await import('./next-mocks.ts')).nextServerMock());
vi.mock('next/navigation.js', async () => (await import('./next-mocks.ts')).nextNavigationMock());

let capi: NextCapi;

/**
 * A GET of `/go` from the page `/` that links it with `<Link href="/go">`, behind capiProxy: the
 * router's fetch (Next 16.4, Chromium, `next start`) unless `headers` say otherwise.
 */
const fromLink = (headers: Record<string, string>) =>
  new Request('http://localhost:3000/go', {
    headers: {
      accept: '*/*',
      host: 'shop.example.com',
      referer: 'https://shop.example.com/',
      'sec-fetch-dest': 'empty',
      'sec-fetch-mode': 'cors',
      'sec-fetch-site': 'same-origin',
      'user-agent': UA,
      'x-capi-kit-url': '/go',
      'x-forwarded-for': '203.0.113.9',
      ...headers,
    },
  });

/** A request as Next's server hands it over: its own hostname in the URL, the browser's in `Host`. */
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(`http://localhost:3000${path}`, {
    method: 'POST',
    headers: {
      host: 'shop.example.com',
      'content-type': 'application/json',
      'user-agent': UA,
      referer: 'https://shop.example.com/checkout',
      'x-forwarded-for': '203.0.113.9',
      ...headers,
    },
    body: JSON.stringify(body),
  });

setUpMockGraph();
beforeEach(() => {
  scope.reset();
  capi = createNextCapi(graphOptions());
});
afterEach(() => capi.close());

describe('withCapi', () => {
  it('binds track() to the request (no request argument) and appends the cookies to the response', async () => {
    const { withCapi, track } = capi;
    const POST = withCapi(async (request: Request) => {
      const { email } = (await request.json()) as { email: string };
      return Response.json(track('Lead', { user_data: { em: email } }));
    });
    const response = await POST(post('/lead', { email: 'Bob@Example.com' }), {
      params: Promise.resolve({}),
    });
    expect(response.status).toBe(200);
    const { event_id, accepted } = (await response.json()) as {
      event_id: string;
      accepted: boolean;
    };
    expect(accepted).toBe(true);
    const minted = response.headers.getSetCookie();
    expect(minted).toEqual([
      expect.stringMatching(
        /^_fbp=fb\.1\.\d{13}\.\d+; Max-Age=7776000; Domain=example\.com; Path=\/; SameSite=Lax$/,
      ),
    ]);
    const [lead] = await mock.waitForEvents(1);
    expect(lead?.event).toMatchObject({
      event_id,
      event_source_url: 'https://shop.example.com/checkout',
      user_data: {
        em: [sha256('bob@example.com')],
        fbp: minted[0]?.slice('_fbp='.length).split(';')[0],
        client_user_agent: UA,
        client_ip_address: '203.0.113.9',
      },
    });
    // Delivery was handed to after(), not awaited by the handler.
    expect(scope.afterTasks).toHaveLength(1);
  });

  it('tracks options.event after a response below 400, with map reading its own copy of the body', async () => {
    const POST = capi.withCapi(
      async (request: Request) => {
        const { order } = (await request.json()) as { order: string };
        return Response.json({ event_id: `purchase-${order}` });
      },
      {
        event: 'Purchase',
        map: async (request, response) => {
          const { order, email } = (await request.json()) as { order: string; email: string };
          const { event_id } = (await response.json()) as { event_id: string };
          return {
            event_id,
            user_data: { em: email },
            custom_data: { value: 10, currency: 'USD', order_id: order },
          };
        },
      },
    );
    const response = await POST(post('/purchase', { order: 'A-1', email: 'c@example.com' }), {});
    // The handler's response body is still readable by the client.
    expect(await response.json()).toEqual({ event_id: 'purchase-A-1' });
    const [purchase] = await mock.waitForEvents(1, { event_name: 'Purchase' });
    expect(purchase?.event).toMatchObject({
      event_id: 'purchase-A-1',
      custom_data: { order_id: 'A-1' },
    });
  });

  it('hands back a streamed response before map has read it; the event follows once the stream ends', async () => {
    let send: ReadableStreamDefaultController<Uint8Array> | undefined;
    const encoder = new TextEncoder();
    const POST = capi.withCapi(
      async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              send = controller;
              controller.enqueue(encoder.encode('data: order A-7\n\n'));
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
      {
        event: 'Purchase',
        // Reads the whole answer: it ends when the stream does.
        map: async (_request, response) => ({
          custom_data: { value: 7, currency: 'EUR', order_id: (await response.text()).trim() },
        }),
      },
    );
    // Awaiting map here held the response until the stream ended: this await never returned.
    const response = await POST(post('/chat', {}), {});
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toBe('data: order A-7\n\n');
    expect(mock.events()).toEqual([]);
    send?.close();
    expect((await reader?.read())?.done).toBe(true);
    // The request's keep-alive holds the event until it is tracked and delivered.
    await Promise.all(scope.afterTasks ?? []);
    const [purchase] = await mock.waitForEvents(1, { event_name: 'Purchase' });
    expect(purchase?.event.custom_data).toMatchObject({ order_id: 'data: order A-7' });
  });

  it("lets a streamed response's source stop when the visitor leaves, once map is done with its copy", async () => {
    // An endless stream (SSE): the copy map got is a branch of it, and an unread branch that
    // stays open keeps the source going (and buffers every chunk) after the visitor has gone.
    let cancelled = false;
    const encoder = new TextEncoder();
    const GET = capi.withCapi(
      async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async pull(controller) {
              controller.enqueue(encoder.encode('data: tick\n\n'));
              await new Promise((resolve) => setTimeout(resolve, 5));
            },
            cancel() {
              cancelled = true;
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
      {
        event: 'ViewContent',
        // Reads the request only.
        map: async (request) => ({ custom_data: { content_ids: [new URL(request.url).pathname] } }),
      },
    );
    const response = await GET(post('/live', {}), {});
    const reader = response.body?.getReader();
    await reader?.read();
    await Promise.all(scope.afterTasks ?? []);
    await mock.waitForEvents(1, { event_name: 'ViewContent' });
    // The visitor closes the tab. (A branch's cancel settles once the source is cancelled.)
    void reader?.cancel();
    await vi.waitFor(() => expect(cancelled).toBe(true), { timeout: 1000 });
  });

  // Found by the adapter conformance kit: both used to bypass the client's `error` hook, and the
  // strict-mode throw turned the handler's answer into a 500.
  it('reports a throwing map and a strict-mode rejection of options.event through the error hook; the response stands', async () => {
    const strict = createNextCapi({
      ...graphOptions(),
      strict: true,
    });
    const errors: { kind: string; source?: string | undefined }[] = [];
    strict.client.on('error', ({ kind, source }) => {
      errors.push({ kind, source });
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const ok = async () => Response.json({ ok: true });
    const badMap = strict.withCapi(ok, {
      event: 'Lead',
      map: () => {
        throw new Error('map exploded');
      },
    });
    const invalid = strict.withCapi(ok, {
      event: 'Purchase',
      // A Purchase without currency: the types refuse it, JavaScript reaches it.
      map: () => ({ custom_data: { value: 1 } }) as never,
    });
    try {
      expect((await badMap(post('/lead', {}), {})).status).toBe(200);
      expect((await invalid(post('/buy', {}), {})).status).toBe(200);
      // map and track run after the response, kept alive by after().
      await Promise.all(scope.afterTasks ?? []);
    } finally {
      logged.mockRestore();
    }
    expect(errors).toEqual([
      { kind: 'callback', source: "withCapi event 'Lead' map" },
      { kind: 'callback', source: "withCapi event 'Purchase' track" },
    ]);
    await strict.flush();
    expect(mock.events()).toEqual([]);
  });

  it('does not track options.event after a 4xx, and still sets the cookies', async () => {
    const POST = capi.withCapi(
      async () => Response.json({ error: 'email is required' }, { status: 400 }),
      {
        event: 'Lead',
      },
    );
    const response = await POST(post('/lead', {}), {});
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie()).toHaveLength(1);
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it("hands back the handler's answer, and Next's redirect() untouched, when the caller's waitUntil throws", async () => {
    // A keep-alive that throws (a method passed unbound, `waitUntil: ctx.waitUntil`: Illegal
    // invocation; a platform lookup outside its request) threw out of withCapi once the handler
    // had answered: a 500 for a request that succeeded, and an error in place of Next's redirect.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const throwing = createNextCapi({
      ...graphOptions(),
      waitUntil: () => {
        throw new TypeError('Illegal invocation');
      },
    });
    try {
      const POST = throwing.withCapi(async () => Response.json({ ok: true }), { event: 'Lead' });
      const response = await POST(post('/lead', {}), {});
      expect(response.status).toBe(200);
      const moved = redirectError('/thanks');
      const redirecting = throwing.withCapi(
        async () => {
          throw moved;
        },
        { event: 'Lead' },
      );
      await expect(redirecting(post('/lead', {}), {})).rejects.toBe(moved);
      // Both answers still count: the events run on without the keep-alive (next start).
      await throwing.flush();
      await vi.waitFor(() => expect(mock.events({ event_name: 'Lead' })).toHaveLength(2));
      expect(String(warn.mock.calls[0]?.[0])).toContain('waitUntil threw');
    } finally {
      warn.mockRestore();
      await throwing.close();
    }
  });

  it("hands Next a handler's missing answer untouched, for Next's own error to name it", async () => {
    // A branch without `return` (or a plain object returned): Next says "No response is returned
    // from route handler". Through withCapi it was a TypeError of capi-kit's ('reading status'
    // with an event, 'reading body' when cookies were to be set) that named neither.
    const answers = [undefined, { ok: true }];
    for (const answer of answers) {
      const GET = capi.withCapi(async () => answer as unknown as Response, { event: 'Lead' });
      const POST = capi.withCapi(async () => answer as unknown as Response);
      await expect(GET(post('/lead', {}), {})).resolves.toBe(answer);
      await expect(POST(post('/lead', {}), {})).resolves.toBe(answer);
    }
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('rethrows what the handler throws, untouched, and tracks nothing', async () => {
    const failure = new Error('boom');
    const GET = capi.withCapi(
      async () => {
        throw failure;
      },
      { event: 'ViewContent' },
    );
    await expect(GET(new Request('http://localhost/x'), {})).rejects.toBe(failure);
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('sets the cookies on a response whose headers are immutable (Response.redirect)', async () => {
    const GET = capi.withCapi(async () => Response.redirect('https://shop.example.com/next', 303));
    const response = await GET(
      new Request('http://localhost:3000/go?fbclid=IwAR_xyz', {
        headers: {
          host: 'shop.example.com',
          accept: 'text/html',
          'sec-fetch-dest': 'document',
          'user-agent': UA,
        },
      }),
      {},
    );
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('https://shop.example.com/next');
    const names = response.headers.getSetCookie().map((c) => c.split('=')[0]);
    expect(names.sort()).toEqual(['_fbc', '_fbp']);
  });

  it("writes the cookies through cookies().set when the handler calls redirect(), Next's error untouched", async () => {
    // Next answers a redirect() from a route handler itself, with only what cookies().set wrote
    // (app-route module, handleHandlerError): a Set-Cookie of ours would never be seen.
    const thrown = redirectError('/welcome');
    const GET = capi.withCapi(async () => {
      throw thrown;
    });
    await expect(
      GET(
        new Request('http://localhost:3000/go?fbclid=IwAR_redirected', {
          headers: {
            host: 'shop.example.com',
            accept: 'text/html',
            'sec-fetch-dest': 'document',
            'user-agent': UA,
          },
        }),
        {},
      ),
    ).rejects.toBe(thrown);
    expect(scope.written.map((c) => c.name).sort()).toEqual(['_fbc', '_fbp']);
    expect(scope.written.find((c) => c.name === '_fbc')).toMatchObject({
      value: expect.stringMatching(/^fb\.1\.\d{13}\.IwAR_redirected$/),
      maxAge: 7_776_000,
      domain: 'example.com',
      path: '/',
    });
  });

  it('behind capiProxy, leaves the cookies of a redirect() to the proxy, which already set them', async () => {
    // Seen on next start (Next 16.4.6): GET /go?fbclid=… through capiProxy to a handler that calls
    // redirect() answered each of _fbp and _fbc twice, the proxy's Set-Cookie and cookies().set's.
    const fbc = 'fb.1.1700000000000.IwAR_proxied';
    const thrown = redirectError('/welcome');
    const GET = capi.withCapi(
      async () => {
        throw thrown;
      },
      { event: 'Lead' },
    );
    await expect(
      GET(
        new Request('http://localhost:3000/go?fbclid=IwAR_proxied', {
          headers: {
            host: 'shop.example.com',
            accept: 'text/html',
            'sec-fetch-dest': 'document',
            'user-agent': UA,
            // What capiProxy forwards: the page URL, and the cookies it sets on this response.
            'x-capi-kit-url': '/go?fbclid=IwAR_proxied',
            cookie: `_fbp=fb.1.1700000000000.42; _fbc=${fbc}`,
          },
        }),
        {},
      ),
    ).rejects.toBe(thrown);
    expect(scope.written).toEqual([]);
    const [lead] = await mock.waitForEvents(1, { event_name: 'Lead' });
    expect(lead?.event.user_data).toMatchObject({ fbp: 'fb.1.1700000000000.42', fbc });
  });

  it('says once that a route Next renders ahead of time (force-static) has no visit to track, and tracks nothing', async () => {
    // `export const dynamic = 'force-static'` (next/dist/server/route-modules/app-route, Next 16.4):
    // the NextRequest behind a Proxy with empty headers, whose other getters run against the Proxy,
    // so reading `method` throws 'Illegal invocation', as in a real `next build`.
    class StandInNextRequest extends Request {
      get nextUrl(): URL {
        return new URL(this.url);
      }
    }
    const forceStatic = () =>
      new Proxy(new StandInNextRequest('http://localhost:3000/feed'), {
        get(target, prop, receiver) {
          if (prop === 'headers') return new Headers();
          if (prop === 'url') return target.nextUrl.href;
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { withCapi, track } = capi;
      const GET = withCapi(async () => Response.json(track('ViewContent')), {
        event: 'ViewContent',
      });
      const first = await GET(forceStatic(), {});
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ event_id: '', accepted: false });
      await GET(forceStatic(), {});
      const told = error.mock.calls.map((call) => String(call[0]));
      expect(told).toEqual([expect.stringContaining("dynamic = 'force-static'")]);
      expect(warn).not.toHaveBeenCalled();
      await capi.flush();
      const stats = capi.client.stats();
      expect(stats.sent + stats.queued + stats.inFlight + stats.dropped.invalid).toBe(0);
      expect(mock.events()).toEqual([]);
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
  });

  it("tracks nothing and sets no cookie for the App Router's prefetch of a <Link> to the route", async () => {
    // What a GET route handler gets when a page shows `<Link href="/go">` (Next 16.4, Chromium,
    // `next start`): the default prefetch asks for the route tree first (segment `/_tree`), any
    // prefetch of a page sends `Next-Router-Prefetch` (1 partial, 2 and 3 runtime), and a browser's
    // speculative load says `Sec-Purpose: prefetch`. Route handlers run for all of them, before anyone
    // clicked: a declared `event` was tracked for every link on screen.
    const { withCapi, track } = capi;
    const GET = withCapi(async () => Response.json(track('ViewContent')), { event: 'Lead' });
    for (const headers of [
      { rsc: '1', 'next-router-prefetch': '1', 'next-router-segment-prefetch': '/_tree' },
      { rsc: '1', 'next-router-prefetch': '1', 'next-router-state-tree': '%5B%22%22%5D' },
      { rsc: '1', 'next-router-prefetch': '2' },
      { 'sec-purpose': 'prefetch', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' },
      { purpose: 'prefetch' },
    ]) {
      const response = await GET(fromLink(headers), {});
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ event_id: '', accepted: false });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    await capi.flush();
    expect(mock.events()).toEqual([]);
    // The click that follows is a visit.
    const click = await GET(
      fromLink({ 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' }),
      {},
    );
    expect(await click.json()).toMatchObject({ accepted: true });
    const events = await mock.waitForEvents(2);
    expect(events.map((e) => e.event.event_name).sort()).toEqual(['Lead', 'ViewContent']);
  });

  it("tracks options.event once for a <Link> clicked to the route, not for the router's fetch it throws away", async () => {
    // A click on `<Link href="/go">` (Next 16.4, Chromium): the router fetches the route as RSC
    // (`RSC: 1`, no prefetch header) and, for an answer that is neither Flight nor a redirect its
    // fetch can follow (same origin), loads the URL again as a page (doMpaNavigation), which runs
    // the handler a second time: the event was tracked twice for one click.
    const routerFetch = { rsc: '1', 'next-router-state-tree': '%5B%22%22%5D' };
    const page = {
      'sec-fetch-dest': 'document',
      'sec-fetch-mode': 'navigate',
      accept: 'text/html',
    };
    let answer: () => Response = () => new Response('go');
    const GET = capi.withCapi(async () => answer(), { event: 'Lead' });
    await GET(fromLink(routerFetch), {});
    await GET(fromLink(page), {});
    await capi.flush();
    expect(mock.events().map((e) => e.event.event_source_url)).toEqual([
      'http://shop.example.com/go',
    ]);
    mock.reset();
    // A redirect the fetch follows is the only time the route runs: tracked. One it cannot follow
    // (another site) makes the router load the route again as a page.
    answer = () => new Response(null, { status: 307, headers: { location: '/thanks' } });
    await GET(fromLink(routerFetch), {});
    answer = () => Response.redirect('https://shop.example.com/thanks', 303);
    await GET(fromLink(routerFetch), {});
    answer = () => Response.redirect('https://pay.example.net/checkout', 303);
    await GET(fromLink(routerFetch), {});
    await capi.flush();
    expect(mock.events()).toHaveLength(2);
  });

  it("hands back Next's prerender bailouts untouched, before the handler runs and with or without a client", async () => {
    // While `next build` prerenders a GET (ISR `revalidate`, `dynamic = 'error'`, Cache Components),
    // Next wraps the request so that reading its URL or headers throws; that is how the route
    // learns it runs per request. `dynamic = 'error'` throws a StaticGenBailoutError (a `code`).
    const prerendering = (thrown: Error) =>
      new Proxy(new Request('http://localhost:3000/feed'), {
        get(target, prop) {
          if (prop === 'url' || prop === 'headers') throw thrown;
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const dynamicUsage = Object.assign(new Error('used `request.url`'), {
      digest: 'DYNAMIC_SERVER_USAGE',
    });
    const staticOnly = Object.assign(new Error('with `dynamic = "error"`'), {
      code: 'NEXT_STATIC_GEN_BAILOUT',
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const handler = vi.fn(async () => Response.json({ ok: true }));
      // The build has no secrets: no client can be created there.
      const atBuild = createNextCapi({ env: false });
      for (const binding of [capi, atBuild]) {
        const GET = binding.withCapi(handler, { event: 'ViewContent' });
        for (const thrown of [dynamicUsage, staticOnly]) {
          await expect(GET(prerendering(thrown), {})).rejects.toBe(thrown);
        }
      }
      expect(handler).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
    }
  });

  it('tracks options.event when the handler answers with redirect(), as with a returned redirect', async () => {
    // A form posted to a route handler that saves the lead and sends the visitor on.
    const map = vi.fn(async (request: Request, response: Response) => ({
      user_data: { em: ((await request.json()) as { email: string }).email },
      custom_data: { content_name: `${response.status} ${response.headers.get('location')}` },
    }));
    const thrown = redirectError('/thanks?from=lead;form');
    const POST = capi.withCapi(
      async (request: Request) => {
        await request.json();
        throw thrown;
      },
      { event: 'Lead', map },
    );
    await expect(POST(post('/lead', { email: 'Ann@Example.com' }), {})).rejects.toBe(thrown);
    await Promise.all(scope.afterTasks ?? []);
    const [lead] = await mock.waitForEvents(1, { event_name: 'Lead' });
    expect(lead?.event).toMatchObject({
      user_data: { em: [sha256('ann@example.com')] },
      custom_data: { content_name: '307 /thanks?from=lead;form' },
    });
    // HEAD is answered with GET's handler: not a conversion, redirect or not.
    const GET = capi.withCapi(
      async () => {
        throw redirectError('/thanks');
      },
      { event: 'ViewContent' },
    );
    await expect(
      GET(new Request('http://localhost:3000/go', { method: 'HEAD' }), {}),
    ).rejects.toThrow();
    await capi.flush();
    expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead']);
  });

  it('trackConversion inside withCapi uses the handler request, not headers()', async () => {
    const POST = capi.withCapi(async () => Response.json(await capi.trackConversion('Contact')));
    scope.headersError = new Error('headers() must not be called');
    const response = await POST(post('/contact', {}), {});
    expect(((await response.json()) as { accepted: boolean }).accepted).toBe(true);
    const [contact] = await mock.waitForEvents(1);
    expect(contact?.event.user_data?.client_user_agent).toBe(UA);
  });

  it('exposes the request context to the handler', async () => {
    const GET = capi.withCapi(async () => Response.json(capi.requestContext()?.user_data ?? null));
    const response = await GET(post('/x', {}, { cookie: '_fbp=fb.1.1700000000000.7' }), {});
    expect(await response.json()).toMatchObject({
      fbp: 'fb.1.1700000000000.7',
      client_user_agent: UA,
    });
    expect(capi.requestContext()).toBeUndefined();
  });

  it('concurrent requests never mix contexts', async () => {
    const POST = capi.withCapi(async (request: Request) => {
      const { i } = (await request.json()) as { i: number };
      // Yield between reading and tracking so the requests interleave.
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
      return Response.json(capi.track('Lead', { user_data: { em: `u${i}@example.com` } }));
    });
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await POST(post('/lead', { i }, { 'user-agent': `UA-${i}` }), {});
        return ((await response.json()) as { event_id: string }).event_id;
      }),
    );
    await capi.flush();
    const byId = new Map(mock.events().map((e) => [e.event.event_id, e.event]));
    ids.forEach((id, i) => {
      expect(byId.get(id)?.user_data).toMatchObject({
        em: [sha256(`u${i}@example.com`)],
        client_user_agent: `UA-${i}`,
      });
    });
  });

  it('track() outside withCapi warns once and tracks without request data', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const first = capi.track('Lead', { user_data: { em: 'a@example.com' } });
    capi.track('Lead', { user_data: { em: 'a@example.com' } });
    // A website event needs the page URL and user agent, which only a request gives.
    expect(first.accepted).toBe(false);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]?.[0]).toMatch(/outside withCapi/);
    error.mockRestore();
  });

  it('track() while next build runs (a static page, generateStaticParams) tracks nothing, makes no client and says so once', async () => {
    // No visit: what the build renders every visitor gets. An event with all its data was sent from
    // every build, and the fresh event_id baked into the page made every visitor's Pixel copy one
    // event, which Meta keeps once. A build without secrets said createCapi's "needs a pixelId and
    // an accessToken", asking for secrets at build.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('NEXT_PHASE', 'phase-production-build');
    const withoutSecrets = createNextCapi({ env: false });
    try {
      const results = [capi, withoutSecrets].flatMap(({ track }) => [
        track('Lead', { user_data: { em: 'a@example.com' } }),
        track({
          event_name: 'Purchase',
          action_source: 'system_generated',
          user_data: { em: 'a@example.com' },
          custom_data: { value: 10, currency: 'EUR' },
        }),
      ]);
      expect(results.map(({ event_id, accepted }) => ({ event_id, accepted }))).toEqual(
        Array(4).fill({ event_id: '', accepted: false }),
      );
      await capi.flush();
      expect(mock.events()).toEqual([]);
      const told = error.mock.calls.map((call) => String(call[0]));
      expect(told).toEqual([
        expect.stringContaining('track() ran during next build, outside a request'),
        expect.stringContaining('track() ran during next build, outside a request'),
      ]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllEnvs();
      await withoutSecrets.close();
    }
  });
});

describe('flush and close', () => {
  it('reach every client createNextCapi made in this process (Next loads lib/capi.ts once per bundle layer)', async () => {
    mock.outage({ kind: 'latency', latencyMs: 150 });
    const layerA = createNextCapi({
      ...graphOptions(),
    });
    const layerB = createNextCapi({
      ...graphOptions(),
    });
    const input = {
      event_name: 'Lead',
      action_source: 'system_generated',
      user_data: { em: 'a@example.com' },
    } as const;
    layerA.client.track(input);
    layerB.client.track(input);
    await layerA.flush();
    expect(mock.events()).toHaveLength(2);
    await layerA.close();
    expect(layerB.client.closed).toBe(true);
  });
});

describe('client IP: next start without a proxy in front', () => {
  // `next start` writes the socket address into X-Forwarded-For when a request has none: a local
  // `curl` arrives with `x-forwarded-for: 127.0.0.1`. That is no proxy, and nothing to warn about.
  it("says nothing of a proxy for X-Forwarded-For holding only the peer, and still does for a proxy's chain", async () => {
    const warnings: string[] = [];
    const record = (_obj: Record<string, unknown>, msg: string) => {
      warnings.push(msg);
    };
    const local = createNextCapi({
      ...graphOptions(),
      logger: { debug: () => {}, info: () => {}, warn: record, error: record },
    });
    const proxyWarnings = () => warnings.filter((line) => line.includes('came through a proxy'));
    try {
      const POST = local.withCapi(async () =>
        Response.json(local.track('Lead', { user_data: { em: 'ann@example.com' } })),
      );
      await POST(post('/lead', {}, { 'x-forwarded-for': '127.0.0.1' }), {
        params: Promise.resolve({}),
      });
      const [lead] = await mock.waitForEvents(1);
      expect(lead?.event.user_data).toMatchObject({ client_ip_address: '127.0.0.1' });
      expect(proxyWarnings()).toEqual([]);

      // A proxy on 10.0.0.2 that trustProxy does not name: its address is taken for the visitor's.
      await POST(post('/lead', {}, { 'x-forwarded-for': '203.0.113.9, 10.0.0.2' }), {
        params: Promise.resolve({}),
      });
      const events = await mock.waitForEvents(2);
      expect(events[1]?.event.user_data).toMatchObject({ client_ip_address: '10.0.0.2' });
      expect(proxyWarnings()).toHaveLength(1);
    } finally {
      await local.close();
    }
  });
});

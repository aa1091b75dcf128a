import type { Destination } from '@capi-kit/core';
import { createNextCapi, type NextCapi, type NextCapiOptions } from '@capi-kit/next';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { graphOptions, mock, setUpMockGraph, sha256, TOKEN, UA } from './mock-graph.ts';
import { notFoundError, redirectError, scope } from './next-mocks.ts';

vi.mock('next/headers.js', async () => (await import('./next-mocks.ts')).nextHeadersMock());
vi.mock('next/server.js', async () => (await import('./next-mocks.ts')).nextServerMock());
vi.mock('next/navigation.js', async () => (await import('./next-mocks.ts')).nextNavigationMock());

const FBP = 'fb.1.1700000000000.42';

/** The headers Next gives a Server Action: a POST from the page in `Referer`. */
const actionHeaders = (extra: Record<string, string> = {}) => ({
  host: 'shop.example.com',
  'next-action': '7f3a9c',
  accept: 'text/x-component',
  'user-agent': UA,
  referer: 'https://shop.example.com/signup?plan=pro',
  'x-forwarded-for': '198.51.100.7',
  ...extra,
});

/** A Server Component rendering a page load: the headers Next gives it, and cookies it cannot set. */
const renderPage = (extra: Record<string, string> = {}) => {
  scope.reset({
    host: 'shop.example.com',
    accept: 'text/html',
    'sec-fetch-dest': 'document',
    'user-agent': UA,
    ...extra,
  });
  scope.cookiesWritable = false;
};

let capi: NextCapi;
const bind = (options: NextCapiOptions = {}) => {
  capi = createNextCapi({ ...graphOptions(), ...options });
  return capi;
};

setUpMockGraph();
beforeEach(() => {
  scope.reset(actionHeaders());
});
afterEach(async () => {
  await capi?.close();
  vi.restoreAllMocks();
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('@vercel/request-context')];
});

describe('trackConversion in a Server Action', () => {
  it('tracks with the request read from headers() and cookies(), and returns the event_id', async () => {
    scope.reset(actionHeaders({ cookie: `theme=dark; _fbp=${FBP}` }));
    const { trackConversion } = bind();
    const result = await trackConversion('Lead', { user_data: { em: 'Alice@Example.com' } });
    expect(result).toMatchObject({ accepted: true, issues: [] });
    const [lead] = await mock.waitForEvents(1, { event_name: 'Lead' });
    expect(lead?.event).toMatchObject({
      event_id: result.event_id,
      event_name: 'Lead',
      action_source: 'website',
      event_source_url: 'https://shop.example.com/signup?plan=pro',
      user_data: {
        em: [sha256('alice@example.com')],
        fbp: FBP,
        client_user_agent: UA,
        client_ip_address: '198.51.100.7',
      },
    });
    // The browser had its _fbp and this is no page load: nothing to write.
    expect(scope.written).toEqual([]);
  });

  it('hands a cookie pair without "=" on untouched, whatever its name (as capiProxy does)', async () => {
    scope.reset(actionHeaders({ cookie: `theme=dark; _fbpx; _fbp=${FBP}` }));
    let seen: unknown;
    const { trackConversion } = bind({
      consent: (input) => {
        seen = (input.headers as Record<string, string>).cookie;
        return 'granted';
      },
    });
    await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    expect(String(seen).split('; ')).toEqual(['theme=dark', '_fbpx', `_fbp=${FBP}`]);
  });

  it('keeps the first valid _fbp of two, as every adapter does, and mints none over it', async () => {
    // Two `_fbp` cookies reach the server when one was set host-only and one for the site (an
    // older Pixel, another subdomain). Next's cookie store keeps the last of a name, and that value
    // replaced both: a malformed one sent last hid the valid one, and the action minted and wrote a
    // new `_fbp` over the visitor's, on every request.
    scope.reset(actionHeaders({ cookie: `_fbp=${FBP}; _fbp=fb.1.garbage` }));
    const { trackConversion } = bind();
    await trackConversion('Lead', { user_data: { em: 'alice@example.com' } });
    const [lead] = await mock.waitForEvents(1);
    expect(lead?.event.user_data?.fbp).toBe(FBP);
    expect(scope.written).toEqual([]);
  });

  it('writes a minted _fbp through cookies().set and sends that same value', async () => {
    const { trackConversion } = bind();
    await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    expect(scope.written).toHaveLength(1);
    const [cookie] = scope.written;
    expect(cookie).toMatchObject({
      name: '_fbp',
      value: expect.stringMatching(/^fb\.1\.\d{13}\.\d+$/),
      maxAge: 7_776_000,
      domain: 'example.com',
      path: '/',
      sameSite: 'lax',
      httpOnly: false,
    });
    const [lead] = await mock.waitForEvents(1);
    expect(lead?.event.user_data?.fbp).toBe(cookie?.value);
  });

  it('finishes delivery through after(), never before the action returns', async () => {
    mock.outage('hang');
    // A delivery the action waited for would hold it the whole 20 s: far from what a loaded
    // machine takes to track (the 1.5 s default against a 500 ms bound left little room).
    const { trackConversion } = bind({ timeoutMs: 20_000 });
    const started = Date.now();
    const { accepted } = await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    expect(accepted).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await vi.waitFor(() => expect(scope.afterTasks).toHaveLength(1));
    mock.recover();
  });

  it("uses Vercel's request-context waitUntil when after() is unavailable", async () => {
    scope.afterTasks = undefined;
    const waitUntil = vi.fn();
    (globalThis as Record<symbol, unknown>)[Symbol.for('@vercel/request-context')] = {
      get: () => ({ waitUntil }),
    };
    const { trackConversion } = bind();
    await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    await vi.waitFor(() => expect(waitUntil).toHaveBeenCalledTimes(1));
    expect(waitUntil.mock.calls[0]?.[0]).toBeInstanceOf(Promise);
    await mock.waitForEvents(1);
  });

  it('prefers a caller-supplied waitUntil over after()', async () => {
    const waitUntil = vi.fn();
    const { trackConversion } = bind({ waitUntil });
    await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    await vi.waitFor(() => expect(waitUntil).toHaveBeenCalledTimes(1));
    expect(scope.afterTasks).toEqual([]);
  });

  it("hands Next's dynamic-rendering bailout back untouched", async () => {
    const bailout = Object.assign(new Error('Dynamic server usage: headers'), {
      digest: 'DYNAMIC_SERVER_USAGE',
    });
    scope.headersError = bailout;
    const { trackConversion } = bind();
    await expect(trackConversion('PageView')).rejects.toBe(bailout);
    // `dynamic = 'error'`: the StaticGenBailoutError that fails `next build` (a `code`, no digest).
    const staticOnly = Object.assign(new Error('with `dynamic = "error"`'), {
      code: 'NEXT_STATIC_GEN_BAILOUT',
    });
    scope.headersError = staticOnly;
    await expect(trackConversion('PageView')).rejects.toBe(staticOnly);
  });

  it('never rejects because of capi-kit: without request data the event is reported, not thrown', async () => {
    scope.headersError = new Error('`headers` was called outside a request scope');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const result = await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    expect(result.accepted).toBe(false);
    expect(result.issues.some((i) => i.severity === 'error')).toBe(true);
    // Once: outside a request (an after() callback in a page, a timer) it is every call's lot, and
    // an error line per call buried the app's own.
    await trackConversion('Lead', { user_data: { em: 'a@example.com' } });
    expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('could not read the request'),
    ]);
  });

  it('creates the client on first use, and a missing token only fails that use', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    capi = createNextCapi({ env: false });
    expect(error).not.toHaveBeenCalled();
    const first = await capi.trackConversion('Lead');
    const second = await capi.trackConversion('Lead');
    expect(first).toMatchObject({ accepted: false, reason: 'error' });
    expect(second.accepted).toBe(false);
    expect(error).toHaveBeenCalledTimes(1);
    expect(() => capi.client).toThrow(/pixelId/);
  });

  it('without a client still returns an event_id, so the browser Pixel fires its copy', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    capi = createNextCapi({ env: false }); // META_ACCESS_TOKEN missing on the server
    // An empty ID made the README's `if (state?.event_id) trackPixel(...)` skip the browser
    // conversion, and <MetaPixel/> fired only the first '' of a visit (the next look fired).
    const views = [await capi.trackConversion('PageView'), await capi.trackConversion('PageView')];
    expect(views.map((view) => view.accepted)).toEqual([false, false]);
    expect(views[0]?.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(views[1]?.event_id).not.toBe(views[0]?.event_id);
    const signup = capi.withConversion('CompleteRegistration', async () => ({ ok: true }));
    expect((await signup()).event_id).toMatch(/^[0-9a-f-]{36}$/);
    // An ID the caller gave (an order ID the Pixel uses too) is kept.
    const order = await capi.trackConversion('Purchase', {
      event_id: 'order-1001',
      custom_data: { value: 5, currency: 'EUR' },
    });
    expect(order).toMatchObject({ event_id: 'order-1001', accepted: false });
    expect(capi.track({ event_name: 'Lead', event_id: 'lead-9' }).event_id).toBe('lead-9');
  });
});

describe('trackConversion during next build (generateStaticParams)', () => {
  it("tracks nothing, makes no client and says so once, with Next.js's reason", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // What next/headers throws in generateStaticParams (Next 16.4.6), in a build without secrets.
    scope.headersError = new Error(
      'Route /product/[slug] used `headers()` inside `generateStaticParams`. This is not supported because `generateStaticParams` runs at build time without an HTTP request.',
    );
    vi.stubEnv('NEXT_PHASE', 'phase-production-build');
    try {
      capi = createNextCapi({ env: false });
      const results = [
        await capi.trackConversion('ViewContent'),
        await capi.trackConversion('Lead'),
      ];
      expect(results.map(({ event_id, accepted }) => ({ event_id, accepted }))).toEqual([
        { event_id: '', accepted: false },
        { event_id: '', accepted: false },
      ]);
      const told = error.mock.calls.map((call) => String(call[0]));
      expect(told).toEqual([expect.stringContaining('ran during next build, outside a request')]);
      expect(told[0]).toContain('inside `generateStaticParams`');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("lib/capi.ts imported into a 'use client' file", () => {
  // Next builds it for the browser without a word. There, createCapi asked for META_PIXEL_ID and
  // META_ACCESS_TOKEN, a fix that would ship the token to every visitor.
  it('tracks nothing in the page and says the helpers run on the server, once', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const page = globalThis as { window?: unknown; document?: unknown };
    page.window = globalThis;
    page.document = {};
    // What next/headers does in a page.
    scope.headersError = new Error('`headers` was called outside a request scope');
    try {
      // Credentials given in the code (NEXT_PUBLIC_…): in a page they are every visitor's.
      const { trackConversion, track } = bind();
      const results = [await trackConversion('Lead'), track('Lead')];
      expect(results.map(({ accepted, reason }) => ({ accepted, reason }))).toEqual([
        { accepted: false, reason: 'error' },
        { accepted: false, reason: 'error' },
      ]);
      expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
        expect.stringContaining(
          "runs on the server only, and was used in the browser (a 'use client' file",
        ),
      ]);
      expect(mock.events()).toEqual([]);
    } finally {
      delete page.window;
      delete page.document;
    }
  });
});

describe('trackConversion in a Server Component', () => {
  it('is the page view of the URL capiProxy forwarded, and never sends an _fbp it could not store', async () => {
    renderPage({
      referer: 'https://www.google.com/',
      'x-capi-kit-url': '/landing?fbclid=IwAR_abc',
    });
    const { trackConversion } = bind();
    const { event_id, accepted } = await trackConversion('PageView');
    expect(accepted).toBe(true);
    const [view] = await mock.waitForEvents(1);
    expect(view?.event).toMatchObject({
      event_id,
      event_source_url: 'http://shop.example.com/landing?fbclid=IwAR_abc',
      referrer_url: 'https://www.google.com/',
      user_data: { fbc: expect.stringMatching(/\.IwAR_abc$/) },
    });
    expect(view?.event.user_data).not.toHaveProperty('fbp');
  });

  it('keeps the _fbp the proxy set on this request (it is in cookies(), not yet in the header)', async () => {
    renderPage({
      cookie: `_fbp=${FBP}`,
      'x-capi-kit-url': '/',
    });
    const { trackConversion } = bind();
    await trackConversion('PageView');
    const [view] = await mock.waitForEvents(1);
    expect(view?.event.user_data?.fbp).toBe(FBP);
  });

  // What `headers()` holds in a page rendered for a click on `<Link href="/pricing">`. Next 16.4.6
  // (Chromium, `next start`): the router's fetch accepts `*/*` (Next sends `Accept:
  // text/x-component` with Server Actions only) and Next hides its `RSC` header. Read as a
  // sub-request of the page in `Referer`, the view went out with the previous page's URL.
  it.each([
    ['an RSC fetch (Accept: text/x-component)', 'ViewContent', { accept: 'text/x-component' }],
    [
      "the App Router's fetch of a clicked <Link>, as Next 16 sends it",
      'PageView',
      { accept: '*/*', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' },
    ],
  ] as const)(
    'treats a client-side navigation as a page view of the new URL: %s',
    async (_, name, headers) => {
      renderPage({
        'sec-fetch-dest': 'empty',
        cookie: `_fbp=${FBP}`,
        referer: 'http://shop.example.com/',
        'x-capi-kit-url': '/pricing',
        ...headers,
      });
      const { trackConversion } = bind();
      await trackConversion(name);
      const [view] = await mock.waitForEvents(1);
      expect(view?.event).toMatchObject({
        event_name: name,
        event_source_url: 'http://shop.example.com/pricing',
        referrer_url: 'http://shop.example.com/',
        user_data: { fbp: FBP },
      });
    },
  );

  it("tracks nothing for a browser's speculative load of the page (Sec-Purpose: prefetch), which is no visit yet", async () => {
    // Chrome prerenders a page the address bar predicts, and speculation rules prefetch or
    // prerender links, before anyone opens them: the page renders with these headers (Next shows
    // them in headers()). Its PageView was sent for every page predicted.
    const { trackConversion } = bind();
    for (const purpose of ['prefetch;prerender', 'prefetch']) {
      renderPage({
        'sec-fetch-mode': 'navigate',
        'sec-purpose': purpose,
        cookie: `_fbp=${FBP}`,
        'x-capi-kit-url': '/pricing',
      });
      expect(await trackConversion('PageView')).toMatchObject({ event_id: '', accepted: false });
    }
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('says once when createNextCapi() has made more clients than bundle layers explain (a call per request)', async () => {
    const lines: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (_fields: unknown, message: string) => lines.push(message),
    };
    const made: NextCapi[] = [];
    try {
      // As `createNextCapi()` inside a route handler would, one binding (and client) per request.
      for (let i = 0; i < 12; i++) {
        const binding = createNextCapi({
          ...graphOptions(),
          logger,
        });
        expect(binding.client).toBeDefined();
        made.push(binding);
      }
      // The clients every copy of the module shares (Symbol.for, see next-capi.ts).
      const live = (globalThis as Record<symbol, Set<unknown>>)[
        Symbol.for('@capi-kit/next.clients')
      ];
      expect(live?.size).toBeGreaterThan(8);
      expect(lines).toEqual([
        expect.stringContaining('call it once, at module scope (lib/capi.ts)'),
      ]);
      expect(lines[0]).not.toContain(TOKEN);
    } finally {
      await Promise.all(made.map((binding) => binding.close()));
    }
  });

  it('says once that a page rendered ahead of time (force-static) has no visit to track, and tracks nothing', async () => {
    // `export const dynamic = 'force-static'`: headers() and cookies() are empty, and the render,
    // event_id included, is what every visitor gets.
    scope.reset({});
    scope.cookiesWritable = false;
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { trackConversion } = bind();
    expect(await trackConversion('PageView')).toMatchObject({ event_id: '', accepted: false });
    await trackConversion('ViewContent');
    const told = error.mock.calls.map((call) => String(call[0]));
    expect(told).toEqual([expect.stringContaining("dynamic = 'force-static'")]);
    // Not the core's refusal of an event without request data: there was no visit.
    expect(warn).not.toHaveBeenCalled();
    await capi.flush();
    expect(capi.client.stats().dropped.invalid).toBe(0);
    expect(mock.events()).toEqual([]);
  });

  it("tracks nothing inside a cached function, known by Next 15's words where its store is not read", async () => {
    // Next 15.5's errors from headers() inside 'use cache' and unstable_cache (no digest, no code).
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    for (const message of [
      'Route /product used "headers" inside "use cache". Accessing Dynamic data sources inside a cache scope is not supported.',
      'Route /product used "headers" inside a function cached with "unstable_cache(...)". Accessing Dynamic data sources inside a cache scope is not supported.',
    ]) {
      scope.headersError = new Error(message);
      expect(await trackConversion('ViewContent')).toMatchObject({ event_id: '', accepted: false });
    }
    expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining("'use cache' or unstable_cache"),
    ]);
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('without capiProxy a page load has no URL: the event is refused, not sent with a wrong one', async () => {
    renderPage({
      cookie: `_fbp=${FBP}`,
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const result = await trackConversion('PageView');
    expect(result.accepted).toBe(false);
    expect(result.issues.map((i) => i.path)).toContain('event_source_url');
    await trackConversion('ViewContent');
    // The fix that works in Next.js (the core's refusal can only say how other adapters add the
    // URL), once: a proxy missing or a matcher that leaves the page out.
    const told = error.mock.calls
      .map((call) => String(call[0]))
      .filter((l) => l.includes('capiProxy'));
    expect(told).toEqual([expect.stringContaining('matcher')]);
    expect(told[0]).toContain('proxy.ts');
    // Where Next looks for it: a proxy.ts at the project root of an app in src/ never runs, and
    // nothing else says so.
    expect(told[0]).toContain('beside the app/ folder (src/proxy.ts with a src/ folder)');
  });

  it('says nothing of capiProxy when the page gives its own event_source_url', async () => {
    renderPage({
      cookie: `_fbp=${FBP}`,
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const result = await trackConversion('PageView', {
      event_source_url: 'https://shop.example.com/landing',
    });
    expect(result.accepted).toBe(true);
    expect(error).not.toHaveBeenCalled();
  });
});

describe('withConversion', () => {
  const signup = vi.fn(async (_state: unknown, form: FormData) => ({
    ok: true,
    user: String(form.get('email')),
  }));
  const form = () => {
    const data = new FormData();
    data.set('email', 'New.User@Example.com');
    return data;
  };
  const emailOf = (_result: unknown, _state: unknown, data: FormData) => ({
    user_data: { em: String(data.get('email')) },
  });

  it('tracks after the action succeeded and adds the event_id to its result', async () => {
    const { withConversion } = bind();
    const action = withConversion('CompleteRegistration', signup, emailOf);
    const result = await action(undefined, form());
    expect(result).toEqual({
      ok: true,
      user: 'New.User@Example.com',
      event_id: expect.any(String),
    });
    const [event] = await mock.waitForEvents(1);
    expect(event?.event).toMatchObject({
      event_name: 'CompleteRegistration',
      event_id: result.event_id,
      user_data: { em: [sha256('new.user@example.com')] },
    });
  });

  it('returns { event_id } for an action without a result', async () => {
    const { withConversion } = bind();
    const action = withConversion('Subscribe', async () => {});
    expect(await action()).toEqual({ event_id: expect.any(String) });
  });

  it('does not track when the action throws, and rethrows its error', async () => {
    const { withConversion } = bind();
    const failure = new Error('database down');
    const action = withConversion('CompleteRegistration', async () => {
      throw failure;
    });
    await expect(action()).rejects.toBe(failure);
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('counts a redirect() as success: tracks, then rethrows the same redirect error', async () => {
    const { withConversion } = bind();
    const redirect = redirectError('/welcome');
    const map = vi.fn(emailOf);
    const action = withConversion(
      'CompleteRegistration',
      async (_state: unknown, _form: FormData): Promise<{ ok: boolean }> => {
        throw redirect;
      },
      map,
    );
    await expect(action(undefined, form())).rejects.toBe(redirect);
    expect(map).toHaveBeenCalledWith(undefined, undefined, expect.any(FormData));
    await mock.waitForEvents(1, { event_name: 'CompleteRegistration' });
  });

  it('does not count notFound(): rethrown untouched, nothing tracked', async () => {
    const { withConversion } = bind();
    const missing = notFoundError();
    const action = withConversion('Lead', async () => {
      throw missing;
    });
    await expect(action()).rejects.toBe(missing);
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('tracks nothing when map returns null (e.g. a validation error the action returned)', async () => {
    const { withConversion } = bind();
    const action = withConversion(
      'CompleteRegistration',
      async () => ({ ok: false, error: 'email is invalid' }),
      (result) => (result?.ok ? {} : null),
    );
    expect(await action()).toEqual({ ok: false, error: 'email is invalid' });
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it('a throwing map never breaks the action: its result comes back, nothing is tracked', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { withConversion } = bind();
    const action = withConversion(
      'Lead',
      async () => ({ ok: true }),
      () => {
        throw new TypeError('bad map');
      },
    );
    expect(await action()).toEqual({ ok: true });
    expect(error).toHaveBeenCalledWith(expect.stringContaining('map threw'));
    await capi.flush();
    expect(mock.events()).toEqual([]);
  });

  it("never prints another destination's token (TikTok's), even when an error quotes it", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const OTHER = 'acme0123456789abcdef0123456789abcdef';
    // A destination like tiktok(): its token travels in a header and is one of its secrets.
    const acme: Destination = {
      name: 'acme',
      id: 'A1',
      build: (input) => ({ event: { name: input.event_name }, issues: [] }),
      envelope: () => ({
        url: 'https://acme.example/events',
        headers: { authorization: `Token ${OTHER}` },
        prefix: '{"batch":[',
        suffix: ']}',
        secrets: [OTHER],
      }),
      limits: { maxEvents: 100, maxBytes: 100_000 },
      classify: (answer) => ({ class: answer.status === 200 ? 'success' : 'transient' }),
      acknowledgement: () => ({}),
    };
    const { withConversion } = bind({ destinations: [acme] });
    const action = withConversion(
      'Lead',
      async () => ({ ok: true }),
      () => {
        throw new Error(`acme lookup failed with token ${OTHER}`);
      },
    );
    await action();
    const printed = error.mock.calls.flat().join(' ');
    expect(printed).toContain('acme lookup failed');
    expect(printed).not.toContain(OTHER);
  });

  it('never prints the access token, even when an error quotes it', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { withConversion } = bind();
    const action = withConversion(
      'Lead',
      async () => ({ ok: true }),
      () => {
        throw new Error(`request failed: https://graph.example/?access_token=${TOKEN}`);
      },
    );
    await action();
    const printed = error.mock.calls.flat().join(' ');
    expect(printed).toContain('request failed');
    expect(printed).not.toContain(TOKEN);
  });
});

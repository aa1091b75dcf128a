import { createNextCapi } from '@capi-kit/next';
import { capiProxy } from '@capi-kit/next/proxy';
import { NextRequest, NextResponse } from 'next/server.js';
import { describe, expect, it, vi } from 'vitest';

const event = {} as Parameters<ReturnType<typeof capiProxy>>[1];

describe('capiProxy composed with a proxy that forwards its own request cookies', () => {
  it('merges _fbp/_fbc into the cookie header the composed proxy forwards (a refreshed session)', async () => {
    // The Supabase SSR pattern: refresh the session, put it in the request cookies for the
    // Server Components behind, and continue with `NextResponse.next({ request })`.
    const request = new NextRequest('http://localhost:3000/dashboard?fbclid=IwAR_click-1', {
      headers: {
        host: 'shop.example.com',
        accept: 'text/html',
        'sec-fetch-dest': 'document',
        cookie: 'sb-token=stale; _fbp=fb.1.1700000000000.42',
      },
    });
    const response = await capiProxy({
      next: (incoming) => {
        incoming.cookies.set('sb-token', 'fresh');
        return NextResponse.next({ request: incoming });
      },
    })(request, event);
    const forwarded = response.headers.get('x-middleware-request-cookie') ?? '';
    expect(forwarded).toContain('sb-token=fresh');
    expect(forwarded).not.toContain('sb-token=stale');
    expect(forwarded).toContain('_fbp=fb.1.1700000000000.42');
    expect(forwarded).toMatch(/_fbc=fb\.1\.\d{13}\.IwAR_click-1/);
  });
});

describe('withCapi without credentials', () => {
  it('reports the missing credentials, not a track() outside withCapi() that did not happen', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    try {
      const capi = createNextCapi({ env: false });
      const POST = capi.withCapi(async () => Response.json(capi.track('Lead')));
      const response = await POST(
        new Request('http://localhost:3000/lead', {
          method: 'POST',
          headers: { host: 'shop.example.com' },
        }),
        {},
      );
      expect(await response.json()).toMatchObject({ accepted: false });
      expect(errors).toEqual([expect.stringContaining('needs a pixelId and an accessToken')]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('capiProxy on a /_next/ asset (a matcher that covers static files)', () => {
  it('sets no cookie on the asset and says once how to fix the matcher', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const asset = () =>
        new NextRequest('http://localhost:3000/_next/static/chunks/main-abc.js', {
          headers: { host: 'shop.example.com', 'sec-fetch-dest': 'script', accept: '*/*' },
        });
      const proxy = capiProxy();
      const first = await proxy(asset(), event);
      const second = await proxy(asset(), event);
      expect(first.headers.getSetCookie()).toEqual([]);
      expect(second.headers.getSetCookie()).toEqual([]);
      expect(first.headers.get('x-middleware-next')).toBe('1');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('matcher');
      // Pages still get their cookies.
      const page = await proxy(
        new NextRequest('http://localhost:3000/', {
          headers: { host: 'shop.example.com', 'sec-fetch-dest': 'document', accept: 'text/html' },
        }),
        event,
      );
      expect(page.headers.getSetCookie()).toEqual([expect.stringMatching(/^_fbp=fb\.1\./)]);
    } finally {
      warn.mockRestore();
    }
  });
});

import type { RequestContext, TrackResult } from '@capi-kit/core';
import { createNextCapi, type WithEventId } from '@capi-kit/next';
import { MetaPixel, type MetaPixelProps, trackPixel, usePixel } from '@capi-kit/next/client';
import { capiProxy } from '@capi-kit/next/proxy';
import type { NextFetchEvent, NextRequest } from 'next/server.js';
import type { ReactElement } from 'react';
import { describe, expectTypeOf, it } from 'vitest';

// Type-level tests: `tsc -p packages/next` checks them; at run time they only create functions.
const capi = createNextCapi({ pixelId: '1', accessToken: 't', env: false });

describe('types users rely on', () => {
  it('trackConversion resolves with the event_id for the Pixel', () => {
    expectTypeOf(capi.trackConversion).returns.resolves.toEqualTypeOf<TrackResult>();
    expectTypeOf(capi.trackConversion).toBeCallableWith('Purchase', {
      custom_data: { value: 10, currency: 'USD' },
    });
    expectTypeOf(capi.trackConversion).toBeCallableWith({
      event_name: 'Lead',
      action_source: 'website',
    });
    expectTypeOf<
      Awaited<ReturnType<typeof capi.trackConversion>>['event_id']
    >().toEqualTypeOf<string>();
  });

  it('withConversion keeps the action signature and adds an optional event_id to its result', () => {
    const action = capi.withConversion(
      'CompleteRegistration',
      async (_state: { n: number } | null, form: FormData) => ({
        ok: true as const,
        email: String(form.get('email')),
      }),
    );
    expectTypeOf(action).parameters.toEqualTypeOf<[{ n: number } | null, FormData]>();
    expectTypeOf(action).returns.resolves.toEqualTypeOf<
      { ok: true; email: string } & { event_id?: string }
    >();
    const nothing = capi.withConversion('Subscribe', async () => {});
    expectTypeOf(nothing).returns.resolves.toEqualTypeOf<{ event_id?: string }>();
    expectTypeOf<WithEventId<{ a: 1 } | undefined>>().toEqualTypeOf<
      ({ a: 1 } & { event_id?: string }) | { event_id?: string }
    >();
  });

  it("withConversion's map sees the result (undefined after a redirect) and the action's arguments", () => {
    capi.withConversion(
      'Lead',
      async (id: number, form: FormData) => ({ id, form }),
      (result, id, form) => {
        expectTypeOf(result).toEqualTypeOf<{ id: number; form: FormData } | undefined>();
        expectTypeOf(id).toEqualTypeOf<number>();
        expectTypeOf(form).toEqualTypeOf<FormData>();
        return null;
      },
    );
  });

  it('withCapi returns a route handler with the same request and context types', () => {
    const GET = capi.withCapi(
      async (_request: NextRequest, _context: { params: Promise<{ id: string }> }) =>
        Response.json({}),
    );
    expectTypeOf(GET).parameters.toEqualTypeOf<
      [NextRequest, { params: Promise<{ id: string }> }]
    >();
    expectTypeOf(GET).returns.toEqualTypeOf<Promise<Response>>();
    expectTypeOf(capi.track).returns.toEqualTypeOf<TrackResult>();
    expectTypeOf(capi.requestContext).returns.toEqualTypeOf<RequestContext | undefined>();
  });

  it('track, trackConversion, withConversion and withCapi are typed by the event name', () => {
    // Type checks only: never called.
    const calls = async () => {
      await capi.trackConversion('Purchase', { custom_data: { value: 1, currency: 'EUR' } });
      await capi.trackConversion('Lead');
      await capi.trackConversion('MyCustomEvent', {
        custom_data: { custom_properties: { plan: 'pro' } },
      });
      // @ts-expect-error a Purchase needs custom_data with value and currency
      await capi.trackConversion('Purchase', {});
      // @ts-expect-error the same in the object form
      await capi.trackConversion({ event_name: 'Purchase' });
      // @ts-expect-error misspelled documented key
      await capi.trackConversion('Purchase', { custom_data: { value: 1, curency: 'EUR' } });
      capi.track('Purchase', { custom_data: { value: 1, currency: 'EUR' } });
      capi.track('ViewContent');
      capi.track('MyCustomEvent', { custom_data: { custom_properties: { a: 1 } } });
      // @ts-expect-error a Purchase needs custom_data with value and currency
      capi.track('Purchase', {});
      // @ts-expect-error the same in the object form
      capi.track({ event_name: 'Purchase' });
      // @ts-expect-error custom keys go in custom_properties
      capi.track('Lead', { custom_data: { plan: 'pro' } });
    };
    expectTypeOf(calls).toBeFunction();
    const save = async (_form: FormData) => ({ total: 5 });
    capi.withConversion('Purchase', save, async (result) =>
      result ? { custom_data: { value: result.total, currency: 'EUR' } } : null,
    );
    capi.withConversion('SignupStarted', save, async () => ({
      custom_data: { custom_properties: { plan: 'pro' } },
    }));
    capi.withConversion('Lead', save);
    // @ts-expect-error a Purchase needs a map (its value and currency come from somewhere)
    capi.withConversion('Purchase', save);
    // @ts-expect-error a Purchase map must return currency
    capi.withConversion('Purchase', save, async () => ({ custom_data: { value: 1 } }));
    // @ts-expect-error or null (nothing tracked), not undefined
    capi.withConversion('Purchase', save, async () => undefined);
    // @ts-expect-error misspelled documented key
    capi.withConversion('Lead', save, async () => ({ custom_data: { curency: 'EUR' } }));
    const handler = async () => new Response('ok');
    capi.withCapi(handler, {
      event: 'Purchase',
      map: async () => ({ custom_data: { value: 1, currency: 'EUR' } }),
    });
    capi.withCapi(handler, { event: 'MyCustomEvent', map: () => undefined });
    capi.withCapi(handler, {
      event: 'Purchase',
      // @ts-expect-error a Purchase map must return currency
      map: async () => ({ custom_data: { value: 1 } }),
    });
    capi.withCapi(handler, {
      event: 'Lead',
      // @ts-expect-error misspelled documented key
      map: () => ({ custom_data: { curency: 'EUR' } }),
    });
  });

  it('capiProxy is a Next.js proxy and composes with one', () => {
    const proxy = capiProxy({ trustProxy: 1, next: (_request: NextRequest) => undefined });
    expectTypeOf(proxy).parameters.toEqualTypeOf<[NextRequest, NextFetchEvent]>();
    expectTypeOf(proxy).returns.toEqualTypeOf<Promise<Response>>();
    // @ts-expect-error the proxy never creates a client, so it takes no credentials
    capiProxy({ accessToken: 'x' });
  });

  it('the client API', () => {
    expectTypeOf(MetaPixel).parameter(0).toEqualTypeOf<MetaPixelProps>();
    expectTypeOf(MetaPixel).returns.toEqualTypeOf<ReactElement | null>();
    expectTypeOf(trackPixel).toBeCallableWith('Lead', {}, { eventID: 'e1' });
    expectTypeOf(trackPixel).returns.toEqualTypeOf<string>();
    expectTypeOf(usePixel).returns.toHaveProperty('track');
  });
});

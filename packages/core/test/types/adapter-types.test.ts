import { describe, expectTypeOf, it } from 'vitest';
import {
  type BoundRequest,
  bindRequest,
  createCapiAdapter,
  type LazyTrackParams,
  type RequestCapi,
  type TrackParams,
  type TrackParamsOrNone,
} from '../../src/adapter/index.js';
import {
  type CookieToSet,
  fromIncomingMessage,
  mayWriteCookies,
  type RequestContext,
} from '../../src/context/index.js';

// Checked by `tsc -p packages/core/tsconfig.json`: every `@ts-expect-error` below must be an error.
// At run time nothing is sent: the adapter's client is closed at the end.

describe('adapter types: what a third-party adapter is written against', () => {
  it('forRequest gives req.capi and the read-only cookies to set', async () => {
    const adapter = createCapiAdapter({ pixelId: '1', accessToken: 'EAAtypes', env: false });
    const request = fromIncomingMessage({
      method: 'GET',
      url: '/',
      headers: { host: 'a.example' },
    });
    const bound = adapter.forRequest(request, { remoteAddress: '203.0.113.1' });
    const context: RequestContext = adapter.contextOf(request);
    expectTypeOf(bound).toEqualTypeOf<BoundRequest>();
    expectTypeOf(bound.capi).toEqualTypeOf<RequestCapi>();
    expectTypeOf(bound.cookiesToSet).toEqualTypeOf<readonly CookieToSet[]>();
    expectTypeOf(bound.capi.context).toEqualTypeOf<RequestContext>();
    // Type checks only (the array is frozen and `context` has no setter, so these would throw).
    const mutations = () => {
      // @ts-expect-error the cookies to set are not the adapter's to change
      bound.cookiesToSet.push({} as CookieToSet);
      // @ts-expect-error `context` is read-only on req.capi
      bound.capi.context = context;
    };
    expectTypeOf(mutations).toBeFunction();
    expectTypeOf(mayWriteCookies(request)).toEqualTypeOf<boolean>();
    await adapter.close();
  });

  it('bindRequest and adapter.bind take a context or a function that computes it', async () => {
    const adapter = createCapiAdapter({ pixelId: '1', accessToken: 'EAAtypes', env: false });
    const context = adapter.contextOf({ headers: {} });
    expectTypeOf(bindRequest(adapter.client, () => context)).toEqualTypeOf<RequestCapi>();
    expectTypeOf(adapter.bind(context)).toEqualTypeOf<RequestCapi>();
    // @ts-expect-error a function must return the context
    adapter.bind(() => undefined);
    await adapter.close();
  });
});

describe('req.capi.track: generic over the event name', () => {
  // Type checks only: never called.
  const calls = (capi: RequestCapi) => {
    capi.track('Purchase', { custom_data: { value: 9.99, currency: 'USD' } });
    capi.track({ event_name: 'Purchase', custom_data: { value: 9.99, currency: 'USD' } });
    capi.track('Purchase', () => ({ custom_data: { value: 9.99, currency: 'USD' } }));
    capi.track('Lead');
    capi.track('ViewContent', { user_data: { em: 'a@example.com' } });
    capi.track('Lead', () => undefined);
    capi.track('MyCustomEvent', { custom_data: { custom_properties: { plan: 'pro', seats: 3 } } });
    capi.track({ event_name: 'MyCustomEvent' });
    // @ts-expect-error a Purchase needs custom_data with value and currency
    capi.track('Purchase', {});
    // @ts-expect-error the same in the object form
    capi.track({ event_name: 'Purchase' });
    // @ts-expect-error currency is missing
    capi.track('Purchase', { custom_data: { value: 1 } });
    // @ts-expect-error lazy params of a Purchase need them too
    capi.track('Purchase', () => ({ custom_data: { value: 1 } }));
    // @ts-expect-error and cannot return nothing
    capi.track('Purchase', () => undefined);
    // @ts-expect-error misspelled documented key
    capi.track('Purchase', { custom_data: { value: 1, curency: 'USD' } });
    // @ts-expect-error misspelled documented key, custom event
    capi.track('MyCustomEvent', { custom_data: { vlue: 1 } });
    // @ts-expect-error custom keys go in custom_properties
    capi.track({ event_name: 'Lead', custom_data: { plan: 'pro' } });
    // A wide name (as adapters pass it) keeps everything optional.
    const name: string = 'Purchase';
    capi.track(name, {});
  };

  it('infers the literal name and types its params', () => {
    expectTypeOf(calls).toBeFunction();
    expectTypeOf<TrackParams<'Purchase'>['custom_data']['currency']>().toEqualTypeOf<string>();
    expectTypeOf<TrackParams['custom_data']>().toEqualTypeOf<TrackParams<'Lead'>['custom_data']>();
    expectTypeOf<TrackParamsOrNone<'Purchase'>>().toEqualTypeOf<TrackParams<'Purchase'>>();
    expectTypeOf<TrackParamsOrNone<'Lead'>>().toEqualTypeOf<TrackParams<'Lead'> | undefined>();
    expectTypeOf<TrackParamsOrNone>().toEqualTypeOf<TrackParams | undefined>();
    expectTypeOf<LazyTrackParams<'Purchase'>>().returns.toEqualTypeOf<TrackParams<'Purchase'>>();
  });
});

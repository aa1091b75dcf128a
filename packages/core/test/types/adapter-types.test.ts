import { describe, expectTypeOf, it } from 'vitest';
import {
  type BoundRequest,
  bindRequest,
  createCapiAdapter,
  type RequestCapi,
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

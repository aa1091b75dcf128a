import type { RequestCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLModule,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { catchError, type Observable, of } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiContext, CapiModule, TrackConversion } from '../src/index.js';
import { capiOptions, postJson, type RunningApp, startApp } from './fixtures.js';

class DeclinedReceipt implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(catchError(() => of({ event_id: 'declined', order: 'declined' })));
  }
}

@ObjectType()
class Receipt {
  @Field(() => String)
  event_id!: string;

  @Field(() => String)
  order!: string;
}

@Resolver(() => Receipt)
@TrackConversion('ViewContent')
class CheckoutResolver {
  @Query(() => Receipt)
  receipt(@Args('order', { type: () => String }) order: string): Receipt {
    return { event_id: `view-${order}`, order };
  }

  @Query(() => String)
  eventId(@CapiContext() capi: RequestCapi): string {
    return capi.context.user_data.client_user_agent ?? 'none';
  }

  @Mutation(() => Receipt)
  @TrackConversion('Purchase', {
    map: (receipt: Receipt) => ({
      event_id: receipt.event_id,
      custom_data: { value: 5, currency: 'EUR', order_id: receipt.order },
    }),
  })
  checkout(@Args('order', { type: () => String }) order: string): Receipt {
    if (order === 'declined') throw new Error('card declined');
    return { event_id: `order-${order}`, order };
  }

  // The app's interceptor answers a declined order with a receipt of its own.
  @Mutation(() => Receipt)
  @UseInterceptors(DeclinedReceipt)
  @TrackConversion('Purchase', { map: () => ({ custom_data: { value: 5, currency: 'EUR' } }) })
  checkoutOrReceipt(@Args('order', { type: () => String }) order: string): Receipt {
    throw new Error(`card declined for ${order}`);
  }

  // A field resolver runs once per Receipt; it must never count as a conversion.
  @ResolveField(() => String)
  label(@Parent() receipt: Receipt): string {
    return `#${receipt.order}`;
  }
}

// GraphQL over HTTP with Apollo on the Express platform; the Mercurius (Fastify) context shape
// (`{ reply }`) is covered by the interceptor unit tests.
describe('GraphQL (Apollo, Express)', () => {
  let mock: MockGraph;
  let running: RunningApp;

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp('express', {
      imports: [
        CapiModule.forRoot(capiOptions(mock)),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          // Interceptors also run for field resolvers: the root-field rule must hold there too.
          fieldResolverEnhancers: ['interceptors'],
        }),
      ],
      providers: [CheckoutResolver],
    });
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => mock.reset());
  afterEach(() => running.client.flush());

  const graphql = async (query: string) => {
    const res = await postJson(running, '/graphql', { query });
    return { res, body: (await res.json()) as { data?: unknown; errors?: unknown[] } };
  };

  it('a mutation is tracked once with map() data; its field resolvers are not', async () => {
    const { res, body } = await graphql('mutation { checkout(order: "G-1") { event_id label } }');
    expect(body).toEqual({ data: { checkout: { event_id: 'order-G-1', label: '#G-1' } } });
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^_fbp=fb\.0\./)]);
    await running.client.flush();
    expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
      ['Purchase', 'order-G-1'],
    ]);
    expect(mock.events()[0]?.event.custom_data).toMatchObject({ order_id: 'G-1' });
  });

  it('a class-level decorator covers queries', async () => {
    await graphql('{ receipt(order: "G-2") { order label } }');
    await running.client.flush();
    expect(mock.events().map((e) => e.event.event_name)).toEqual(['ViewContent']);
  });

  it('a resolver that throws is not tracked (GraphQL still answers 200)', async () => {
    const { res, body } = await graphql('mutation { checkout(order: "declined") { event_id } }');
    expect(res.status).toBe(200);
    expect(body.errors).toHaveLength(1);
    await running.client.flush();
    expect(mock.events()).toHaveLength(0);
  });

  it('a resolver that throws is not tracked when an interceptor answers with a value', async () => {
    const { body } = await graphql('mutation { checkoutOrReceipt(order: "G-3") { event_id } }');
    expect(body).toEqual({ data: { checkoutOrReceipt: { event_id: 'declined' } } });
    await running.client.flush();
    expect(mock.events()).toHaveLength(0);
  });

  it('@CapiContext() works in resolvers', async () => {
    const { body } = await graphql('{ eventId }');
    expect(body).toEqual({ data: { eventId: expect.stringContaining('capi-kit-nestjs-test') } });
  });
});

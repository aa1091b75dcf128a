import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import {
  type ArgumentsHost,
  type CallHandler,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  type NestInterceptor,
  Post,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import {
  catchError,
  concat,
  delay,
  NEVER,
  type Observable,
  of,
  retry,
  take,
  throwError,
  timeout,
} from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiModule, TrackConversion } from '../src/index.js';
import { capiOptions, PLATFORMS, type RunningApp, startApp } from './fixtures.js';

// The app's own error handling answering with a success: a declined payment shown as a page of the shop
// rather than an error. The handler threw, so there was no conversion, whatever was answered
// (as Fastify's `config.capi` decides).
class DeclinedInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(catchError(() => of({ declined: true })));
  }
}

@Catch()
class DeclinedFilter implements ExceptionFilter {
  catch(_error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    if (typeof response.code === 'function') response.code(200).send({ declined: true });
    else response.status(200).json({ declined: true });
  }
}

/** An app's deadline: a handler still running after it is cut short (and answered by the app). */
class Deadline implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(timeout(20));
  }
}

/** An app's interceptor that takes the first value: the handler's completion is never seen. */
class FirstValue implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(take(1));
  }
}

/** An app's retry interceptor: a handler that failed once and then succeeded is a conversion. */
class RetryOnce implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(retry(1));
  }
}

const purchase = {
  map: (order: { id: string }) => ({
    event_id: `order-${order.id}`,
    custom_data: { value: 9, currency: 'EUR' },
  }),
};

@Controller('pay')
class PayController {
  private attempts = 0;

  @Post('declined')
  @TrackConversion('Purchase', purchase)
  declined(): { id: string } {
    throw new Error('card declined');
  }

  @Get('partial')
  @TrackConversion('ViewContent')
  partial(): Observable<unknown> {
    return concat(of({ id: 'first' }), throwError(() => new Error('feed broke')).pipe(delay(1)));
  }

  @Post('stuck')
  @UseInterceptors(Deadline)
  @TrackConversion('Purchase', purchase)
  stuck(): Observable<{ id: string }> {
    // A payment provider that never answers.
    return NEVER;
  }

  @Post('first')
  @UseInterceptors(FirstValue)
  @TrackConversion('Purchase', purchase)
  async first(): Promise<{ id: string }> {
    return { id: 'F-1' };
  }

  @Post('retried')
  @UseInterceptors(RetryOnce)
  @TrackConversion('Purchase', purchase)
  retried(): { id: string } {
    this.attempts += 1;
    if (this.attempts % 2 === 1) throw new Error('deadlock, try again');
    return { id: 'R-1' };
  }
}

@Controller('shop')
@UseInterceptors(DeclinedInterceptor)
@TrackConversion('Lead')
class ShopController {
  @Post('intercepted')
  intercepted(): never {
    throw new Error('card declined');
  }
}

@Controller('form')
class FormController {
  @Post('filtered')
  @UseFilters(DeclinedFilter)
  @TrackConversion('Lead')
  filtered(): never {
    throw new Error('card declined');
  }
}

describe.each(PLATFORMS)(
  '@TrackConversion when the handler threw and the app answered a success (%s)',
  (platform) => {
    let mock: MockGraph;
    let global: RunningApp;
    let scoped: RunningApp;

    beforeAll(async () => {
      mock = await startMockGraph();
      // app.useGlobalInterceptors comes after the module's own interceptor, so inside it.
      global = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [PayController] },
        false,
        {},
        (app) => app.useGlobalInterceptors(new DeclinedInterceptor()),
      );
      scoped = await startApp(platform, {
        imports: [CapiModule.forRoot(capiOptions(mock))],
        controllers: [ShopController, FormController],
      });
    });
    afterAll(async () => {
      await global?.app.close();
      await scoped?.app.close();
      await mock?.close();
    });
    beforeEach(async () => {
      // A failed test's events are not left for the next one.
      await global.client.flush();
      await scoped.client.flush();
      mock.reset();
    });

    const sent = async () => {
      await global.client.flush();
      await scoped.client.flush();
      return mock.events();
    };

    it('tracks nothing when a global interceptor answers the error with a success', async () => {
      const res = await global.request('/pay/declined', { method: 'POST' });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ declined: true });
      expect(await sent()).toHaveLength(0);
    });

    it('tracks nothing when an Observable errors after its first value and the error is answered', async () => {
      const res = await global.request('/pay/partial');
      expect(res.status).toBe(200);
      expect(await sent()).toHaveLength(0);
    });

    it("tracks nothing when a controller's interceptor or a filter answers the error with a success", async () => {
      const intercepted = await scoped.request('/shop/intercepted', { method: 'POST' });
      expect(intercepted.status).toBe(201);
      const filtered = await scoped.request('/form/filtered', { method: 'POST' });
      expect(filtered.status).toBe(200);
      expect(await sent()).toHaveLength(0);
    });

    it('tracks nothing when the handler is cut short by a deadline and the app answers instead', async () => {
      const res = await global.request('/pay/stuck', { method: 'POST' });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ declined: true });
      expect(await sent()).toHaveLength(0);
    });

    it('tracks a handler whose first value an interceptor takes (take(1), first())', async () => {
      const res = await global.request('/pay/first', { method: 'POST' });
      expect(res.status).toBe(201);
      const events = await sent();
      expect(events.map((e) => e.event.event_id)).toEqual(['order-F-1']);
    });

    it('tracks a handler that failed and then succeeded when retried, once', async () => {
      const res = await global.request('/pay/retried', { method: 'POST' });
      expect(res.status).toBe(201);
      const events = await sent();
      expect(events.map((e) => e.event.event_id)).toEqual(['order-R-1']);
    });
  },
);

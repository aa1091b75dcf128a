import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  type NestInterceptor,
  Post,
  Query,
  Redirect,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { delay, map, of } from 'rxjs';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
} from 'vitest';
import { CapiModule, TrackConversion } from '../src/index.js';
import {
  capiOptions,
  PLATFORMS,
  postJson,
  type RunningApp,
  recordingLogger,
  startApp,
  UA,
} from './fixtures.js';

interface Order {
  id: string;
  email: string;
  total: number;
}

@Controller('shop')
class ShopController {
  @Post('purchase')
  @TrackConversion('Purchase', {
    map: (order: Order) => ({
      event_id: `order-${order.id}`,
      user_data: { em: order.email },
      custom_data: { value: order.total, currency: 'EUR', order_id: order.id },
    }),
  })
  purchase(@Body() body: Order): Order {
    if (typeof body.email !== 'string') throw new BadRequestException({ field: 'email' });
    return body;
  }

  @Get('crash')
  @TrackConversion('Lead')
  crash(): never {
    throw new Error('boom');
  }

  @Get('gone')
  @HttpCode(404)
  @TrackConversion('Lead')
  gone(): { ok: false } {
    return { ok: false };
  }

  // An ORM's bigint column: Nest cannot serialize the result, and answers 500.
  @Get('unserializable')
  @TrackConversion('Lead')
  unserializable(): { id: bigint } {
    return { id: 10n };
  }

  @Get('thanks')
  @Redirect('/shop/thank-you', 303)
  @TrackConversion('Lead')
  thanks(): void {}

  @Get('status')
  @TrackConversion('Lead')
  status(@Res({ passthrough: true }) res: { status(code: number): unknown }): string {
    res.status(410);
    return 'gone';
  }

  @Get('maybe')
  @TrackConversion('Lead', {
    when: (_result: unknown, request: { query: Record<string, string | undefined> }) =>
      request.query.track === 'yes',
  })
  maybe(@Query('track') track: string): { track: string } {
    return { track };
  }

  @Get('observable')
  @TrackConversion('ViewContent', {
    map: (value: number) => ({ custom_data: { value, currency: 'USD' } }),
  })
  observable() {
    return of(1, 2, 3).pipe(delay(5));
  }

  @Get('file')
  @TrackConversion('ViewContent', {
    map: (file: StreamableFile) => ({
      custom_data: { content_type: file instanceof StreamableFile ? 'product' : 'other' },
    }),
  })
  file(): StreamableFile {
    return new StreamableFile(Buffer.from('a file'), { type: 'text/plain' });
  }

  @Get('map-throws')
  @TrackConversion('Lead', {
    map: () => {
      throw new Error('bad map');
    },
  })
  mapThrows(): { ok: true } {
    return { ok: true };
  }

  @Get('when-throws')
  @TrackConversion('Lead', {
    when: () => {
      throw new Error('bad when');
    },
  })
  whenThrows(): { ok: true } {
    return { ok: true };
  }

  @Get('map-throws-bare')
  @TrackConversion('Lead', {
    map: () => {
      // No prototype, so no toString: String() of it throws.
      throw Object.create(null);
    },
  })
  mapThrowsBare(): { ok: true } {
    return { ok: true };
  }

  @Get('when-throws-unreadable')
  @TrackConversion('Lead', {
    when: () => {
      const error = new Error('hidden');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('no message for you');
        },
      });
      throw error;
    },
  })
  whenThrowsUnreadable(): { ok: true } {
    return { ok: true };
  }

  @Get('map-async')
  // What a JavaScript app (or a cast) can pass: TypeScript rejects a Promise here.
  @TrackConversion('Lead', {
    map: (async (order: Order) => ({ user_data: { em: order.email } })) as never,
  })
  mapAsync(): Order {
    return { id: 'A-3', email: 'ann@example.com', total: 1 };
  }

  @Get('when-async')
  // What a JavaScript app (or a cast) can pass: TypeScript rejects a Promise here.
  @TrackConversion('Lead', {
    when: (async (_result: unknown, request: { query: Record<string, string | undefined> }) =>
      request.query.track === 'yes') as never,
  })
  whenAsync(): { ok: true } {
    return { ok: true };
  }

  @Get('map-string')
  @TrackConversion('Lead', { map: (() => 'ann@example.com') as never })
  mapString(): { ok: true } {
    return { ok: true };
  }

  @Get('untracked')
  untracked(): { ok: true } {
    return { ok: true };
  }
}

@Controller('catalog')
@TrackConversion('ViewContent')
class CatalogController {
  @Get('item')
  item(): { id: string } {
    return { id: 'sku-1' };
  }

  @Get('cart')
  @TrackConversion('AddToCart')
  cart(): { id: string } {
    return { id: 'sku-1' };
  }
}

describe.each(PLATFORMS)('@TrackConversion on %s', (platform) => {
  let mock: MockGraph;
  let running: RunningApp;
  const log = recordingLogger();

  beforeAll(async () => {
    mock = await startMockGraph();
    running = await startApp(
      platform,
      {
        imports: [CapiModule.forRoot(capiOptions(mock))],
        controllers: [ShopController, CatalogController],
      },
      log.logger,
    );
  });
  afterAll(async () => {
    await running?.app.close();
    await mock?.close();
  });
  beforeEach(() => {
    mock.reset();
    log.entries.length = 0;
  });
  afterEach(() => running.client.flush());

  const sent = async (eventName?: string) => {
    await running.client.flush();
    return mock.events(eventName === undefined ? {} : { event_name: eventName });
  };

  it('tracks once per successful call, with map() data and the request context', async () => {
    const order = { id: 'A-1', email: 'Ann@Example.com', total: 12.5 };
    // The socket is a trusted proxy (loopback), so the client is the forwarded address.
    const forwarded = { 'x-forwarded-for': '203.0.113.9' };
    const first = await postJson(running, '/shop/purchase', order, forwarded);
    expect(first.status).toBe(201);
    const second = await postJson(running, '/shop/purchase', { ...order, id: 'A-2' }, forwarded);
    expect(second.status).toBe(201);
    const events = await sent();
    expect(events.map((e) => e.event.event_id)).toEqual(['order-A-1', 'order-A-2']);
    expect(events[0]?.event).toMatchObject({
      event_name: 'Purchase',
      action_source: 'website',
      event_source_url: `${running.url}/shop`,
      user_data: { client_user_agent: UA, client_ip_address: '203.0.113.9' },
      custom_data: { value: 12.5, currency: 'EUR', order_id: 'A-1' },
    });
    expect(events[0]?.event.user_data?.em).toHaveLength(1);
  });

  it('tracks nothing when the handler throws an HttpException (400) or an Error (500)', async () => {
    expect((await postJson(running, '/shop/purchase', { id: 'x' })).status).toBe(400);
    expect((await running.request('/shop/crash')).status).toBe(500);
    expect(await sent()).toHaveLength(0);
  });

  it('tracks nothing when the status is 400 or more (@HttpCode, res.status)', async () => {
    expect((await running.request('/shop/gone')).status).toBe(404);
    expect((await running.request('/shop/status')).status).toBe(410);
    expect(await sent()).toHaveLength(0);
  });

  it('tracks once the response is sent, not when the handler returns: nothing for a result Nest answers 500 to', async () => {
    // The handler returning is not the response: a result that cannot be serialized became a
    // 500 after its conversion was tracked. A @Redirect's status is set after the handler too.
    expect((await running.request('/shop/unserializable')).status).toBe(500);
    const redirected = await running.request('/shop/thanks', { redirect: 'manual' });
    expect(redirected.status).toBe(303);
    expect(await sent('Lead')).toHaveLength(1);
    const stats = running.client.stats();
    expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
  });

  it('tracks only when when() returns true', async () => {
    expect((await running.request('/shop/maybe?track=no')).status).toBe(200);
    expect(await sent()).toHaveLength(0);
    expect((await running.request('/shop/maybe?track=yes')).status).toBe(200);
    expect(await sent('Lead')).toHaveLength(1);
  });

  it('tracks an Observable result once, with its last value', async () => {
    const res = await running.request('/shop/observable');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('3');
    const events = await sent();
    expect(events).toHaveLength(1);
    expect(events[0]?.event.custom_data).toMatchObject({ value: 3, currency: 'USD' });
  });

  it('tracks a StreamableFile result and still streams the file', async () => {
    const res = await running.request('/shop/file');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('a file');
    const events = await sent('ViewContent');
    expect(events).toHaveLength(1);
    expect(events[0]?.event.custom_data).toMatchObject({ content_type: 'product' });
  });

  it('a throwing map() or when() keeps the response and is reported; nothing is tracked', async () => {
    const hooked: { kind: string; source?: string | undefined; message: string }[] = [];
    const off = running.client.on('error', ({ kind, source, error }) => {
      hooked.push({ kind, source, message: error.message });
    });
    onTestFinished(off);
    expect((await running.request('/shop/map-throws')).status).toBe(200);
    expect((await running.request('/shop/when-throws')).status).toBe(200);
    expect(await sent()).toHaveLength(0);
    expect(log.errors().map((e) => e.message)).toEqual([
      expect.stringMatching(/^@TrackConversion\('Lead'\) map threw; nothing was tracked: bad map/),
      expect.stringMatching(
        /^@TrackConversion\('Lead'\) when threw; nothing was tracked: bad when/,
      ),
    ]);
    // Also through the client, for apps that route its `error` hook (kind `callback`).
    expect(hooked).toEqual([
      { kind: 'callback', source: "@TrackConversion('Lead') map", message: 'bad map' },
      { kind: 'callback', source: "@TrackConversion('Lead') when", message: 'bad when' },
    ]);
  });

  it('a map() or when() throwing a value that cannot be printed keeps the response', async () => {
    const bare = await running.request('/shop/map-throws-bare');
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ ok: true });
    const unreadable = await running.request('/shop/when-throws-unreadable');
    expect(unreadable.status).toBe(200);
    expect(await unreadable.json()).toEqual({ ok: true });
    expect(await sent()).toHaveLength(0);
    expect(log.errors().map((e) => e.message)).toEqual([
      "@TrackConversion('Lead') map threw; nothing was tracked: a value that cannot be read as text",
      "@TrackConversion('Lead') when threw; nothing was tracked: a value that cannot be read as text",
    ]);
  });

  it('a map() returning a Promise or a string is reported; nothing is tracked', async () => {
    const hooked: string[] = [];
    const off = running.client.on('error', ({ error }) => {
      hooked.push(error.message);
    });
    onTestFinished(off);
    expect((await running.request('/shop/map-async')).status).toBe(200);
    expect((await running.request('/shop/map-string')).status).toBe(200);
    expect(await sent()).toHaveLength(0);
    expect(log.errors().map((e) => e.message)).toEqual([
      "@TrackConversion('Lead') map returned no event fields; nothing was tracked: map returned a Promise; map must be synchronous: await in the handler and return what map needs",
      "@TrackConversion('Lead') map returned no event fields; nothing was tracked: map returned a string; it must return the event's fields (an object) or undefined",
    ]);
    expect(hooked).toEqual([
      expect.stringContaining('map returned a Promise'),
      expect.stringContaining('map returned a string'),
    ]);
    // The value the map returned never reaches a log line.
    expect(JSON.stringify([log.entries, hooked])).not.toContain('ann@example.com');
  });

  it('a when() returning a Promise is reported; nothing is tracked, whatever it resolves to', async () => {
    const hooked: string[] = [];
    const off = running.client.on('error', ({ error }) => {
      hooked.push(error.message);
    });
    onTestFinished(off);
    // Its Promise is truthy: the filter was off, and the visit that said no was tracked too.
    expect((await running.request('/shop/when-async?track=no')).status).toBe(200);
    expect(await sent()).toHaveLength(0);
    expect(log.errors().map((e) => e.message)).toEqual([
      "@TrackConversion('Lead') when returned no boolean; nothing was tracked: when returned a Promise; when must be synchronous: await in the handler and return what when needs",
    ]);
    expect(hooked).toEqual([expect.stringContaining('when returned a Promise')]);
  });

  it('a class-level decorator covers every handler; a handler-level one wins', async () => {
    await running.request('/catalog/item');
    await running.request('/catalog/cart');
    await running.request('/shop/untracked');
    const events = await sent();
    expect(events.map((e) => e.event.event_name)).toEqual(['ViewContent', 'AddToCart']);
  });
});

describe.each(PLATFORMS)('@TrackConversion when the app logger throws (%s)', (platform) => {
  it('a map that throws, told to a logger that throws, neither fails the response nor escapes', async () => {
    // Tracked from the response's `finish` listener, a throw would have no caller: an uncaught
    // exception, the process down.
    const mock = await startMockGraph();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const throwing = () => {
      throw new Error('logger down');
    };
    const running = await startApp(
      platform,
      { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [ShopController] },
      { log() {}, warn() {}, error: throwing },
    );
    const hooked: string[] = [];
    running.client.on('error', (event) => hooked.push(event.source ?? ''));
    try {
      expect((await running.request('/shop/map-throws')).status).toBe(200);
      await running.client.flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
      expect(mock.events()).toHaveLength(0);
      expect(hooked).toContain("@TrackConversion('Lead') map");
    } finally {
      process.off('uncaughtException', onUncaught);
      await running.app.close();
      await mock.close();
    }
  });
});

describe('@TrackConversion applied twice', () => {
  it('on one handler: fails at definition, naming both, instead of dropping one', () => {
    expect(() => {
      class CheckoutController {
        @TrackConversion('Purchase', {
          map: () => ({ custom_data: { value: 1, currency: 'EUR' } }),
        })
        @TrackConversion('CompleteRegistration')
        checkout(): void {}
      }
      return CheckoutController;
    }).toThrow(
      "@TrackConversion('Purchase') on CheckoutController.checkout: it already has @TrackConversion('CompleteRegistration')",
    );
  });

  it('on one class: the same', () => {
    expect(() => {
      @TrackConversion('ViewContent')
      @TrackConversion('Search')
      class SearchController {}
      return SearchController;
    }).toThrow("@TrackConversion('ViewContent') on SearchController: it already has");
  });

  it('on a class and its handler, or on a subclass of a decorated class: allowed', () => {
    @TrackConversion('ViewContent')
    class BaseController {
      @TrackConversion('AddToCart')
      cart(): void {}
    }
    @TrackConversion('Search')
    class SubController extends BaseController {}
    expect(SubController).toBeTypeOf('function');
  });
});

describe('@TrackConversion of the wrong shape, as JavaScript can write it', () => {
  // Each tracked the bare event on every call (no user_data, no value) and said nothing, or
  // reported 'options.map is not a function' per request; now the class definition fails.
  const untypedTrackConversion = TrackConversion as (...args: unknown[]) => MethodDecorator;
  const decorate =
    (...args: unknown[]) =>
    () => {
      class CheckoutController {
        @untypedTrackConversion(...args)
        checkout(): void {}
      }
      return CheckoutController;
    };
  const map = (order: Order) => ({ user_data: { em: order.email } });

  it.each([
    [
      [map],
      "@TrackConversion(eventName, options?) takes the event's name first, e.g. @TrackConversion('Lead'); got function",
    ],
    [
      [''],
      "@TrackConversion(eventName, options?) takes the event's name first, e.g. @TrackConversion('Lead'); got an empty string",
    ],
    [
      ['Lead', map],
      "@TrackConversion('Lead', options): options must be { map?, when? }; got a function: pass it as { map: (result, request) => ({ … }) }",
    ],
    [['Lead', 'em'], "@TrackConversion('Lead', options): options must be { map?, when? }"],
    [
      ['Lead', { user_data: { em: 'ann@example.com' } }],
      "@TrackConversion('Lead', options): options take map and when, not 'user_data'; the event's fields come from map",
    ],
    [
      ['Lead', { map: { user_data: {} } }],
      "@TrackConversion('Lead', options): map must be a function of (result, request); got object",
    ],
    [
      ['Lead', { when: true }],
      "@TrackConversion('Lead', options): when must be a function of (result, request); got boolean",
    ],
  ])('%# is refused when the class is defined', (args, message) => {
    expect(decorate(...args)).toThrow(`capi-kit: ${message}`);
  });

  it('the value is never in the message', () => {
    expect(decorate('Lead', { user_data: { em: 'ann@example.com' } })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('ann@') }),
    );
  });

  it('the right shapes still decorate', () => {
    expect(decorate('Lead')).not.toThrow();
    expect(decorate('Lead', {})).not.toThrow();
    expect(decorate('Lead', { map, when: () => true })).not.toThrow();
    expect(decorate('Lead', { map: undefined })).not.toThrow();
  });
});

// Nest's documented TransformInterceptor, registered with app.useGlobalInterceptors(): it runs
// inside the module's interceptor, so what the module saw was { data: order }, and a map written
// for the handler's Order gave every order the event_id 'order-undefined': one Purchase to Meta.
const wrapInData: NestInterceptor = {
  intercept: (_context, next) => next.handle().pipe(map((data: unknown) => ({ data }))),
};

@Controller('wrapped')
class WrappedController {
  @Post('purchase')
  @TrackConversion('Purchase', {
    map: (order: Order) => ({
      event_id: `order-${order.id}`,
      custom_data: { value: order.total, currency: 'EUR' },
    }),
    when: (order: Order) => order.total > 0,
  })
  purchase(@Body() order: Order): Order {
    return order;
  }
}

describe.each(PLATFORMS)(
  '@TrackConversion beside an app interceptor that transforms results (%s)',
  (platform) => {
    it("map and when get the handler's result, not the transformed response", async () => {
      const mock = await startMockGraph();
      const running = await startApp(
        platform,
        { imports: [CapiModule.forRoot(capiOptions(mock))], controllers: [WrappedController] },
        false,
        {},
        (app) => app.useGlobalInterceptors(wrapInData),
      );
      try {
        const order = { id: 'W-1', email: 'w@example.com', total: 9 };
        const res = await postJson(running, '/wrapped/purchase', order);
        expect(await res.json()).toEqual({ data: order });
        await postJson(running, '/wrapped/purchase', { ...order, id: 'W-2' });
        await running.client.flush();
        expect(mock.events().map((e) => e.event.event_id)).toEqual(['order-W-1', 'order-W-2']);
        expect(mock.events()[0]?.event.custom_data).toMatchObject({ value: 9 });
      } finally {
        await running.app.close();
        await mock.close();
      }
    });
  },
);

import { type CapiAdapter, createCapiAdapter } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { lastValueFrom, of } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CapiInterceptor } from '../src/capi.interceptor.js';
import { TrackConversion } from '../src/index.js';
import { ACCESS_TOKEN, PIXEL_ID, recordingLogger, UA } from './fixtures.js';

class Handlers {
  @TrackConversion('Lead', { map: (r: { email: string }) => ({ user_data: { em: r.email } }) })
  convert(): void {}

  plain(): void {}
}

const handler = (name: 'convert' | 'plain') => Handlers.prototype[name];

/** A raw Node-style request and response, as a GraphQL driver puts them in its context. */
function nodeExchange() {
  const headers = new Map<string, string | string[]>();
  const req = {
    method: 'POST',
    url: '/graphql',
    headers: { host: 'shop.example', 'user-agent': UA, referer: 'http://shop.example/cart' },
    socket: { remoteAddress: '127.0.0.1' },
  };
  const res = {
    statusCode: 200,
    headersSent: false,
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: string | string[]) => headers.set(name.toLowerCase(), value),
  };
  headers.set('set-cookie', 'session=1');
  return { req, res, headers };
}

describe('CapiInterceptor per context type', () => {
  let mock: MockGraph;
  let adapter: CapiAdapter;
  let interceptor: CapiInterceptor;
  const log = recordingLogger();

  beforeAll(async () => {
    mock = await startMockGraph();
    Logger.overrideLogger(log.logger);
  });
  afterAll(async () => {
    Logger.overrideLogger(false);
    await mock?.close();
  });
  beforeEach(() => {
    mock.reset();
    log.entries.length = 0;
    adapter = createCapiAdapter({
      pixelId: PIXEL_ID,
      accessToken: ACCESS_TOKEN,
      graphUrl: mock.url,
      env: false,
    });
    interceptor = new CapiInterceptor(adapter, new Reflector());
  });
  afterEach(() => adapter.close());

  const run = async (context: ExecutionContextHost, result: unknown) => {
    const handle = vi.fn(() => of(result));
    const value = await lastValueFrom(interceptor.intercept(context, { handle }));
    await adapter.client.flush();
    return { value, handle };
  };

  it.each(['rpc', 'ws'] as const)(
    '%s: passes through, tracks nothing, warns once per handler',
    async (type) => {
      const contextOf = vi.spyOn(adapter, 'contextOf');
      const context = new ExecutionContextHost(
        [{ pattern: 'order.created' }, {}],
        Handlers,
        handler('convert'),
      );
      context.setType(type);
      const first = await run(context, { email: 'a@example.com' });
      await run(context, { email: 'a@example.com' });
      expect(first.value).toEqual({ email: 'a@example.com' });
      expect(first.handle).toHaveBeenCalledOnce();
      expect(contextOf).not.toHaveBeenCalled();
      expect(mock.events()).toHaveLength(0);
      expect(log.entries.filter((e) => e.level === 'warn')).toEqual([
        {
          level: 'warn',
          message: expect.stringContaining(`'${type}' calls carry no HTTP request`),
        },
      ]);
    },
  );

  it('rpc without @TrackConversion: no warning', async () => {
    const context = new ExecutionContextHost([{}, {}], Handlers, handler('plain'));
    context.setType('rpc');
    await run(context, 1);
    expect(log.entries).toEqual([]);
  });

  it('graphql: a root field is tracked with the context of the driver request', async () => {
    const { req, res, headers } = nodeExchange();
    const info = { path: { key: 'checkout', prev: undefined } };
    const context = new ExecutionContextHost(
      [{}, {}, { req, res }, info],
      Handlers,
      handler('convert'),
    );
    context.setType('graphql');
    await run(context, { email: 'g@example.com' });
    const events = mock.events({ event_name: 'Lead' });
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toMatchObject({
      event_source_url: 'http://shop.example/cart',
      user_data: { client_user_agent: UA },
    });
    // The raw response got _fbp appended to the cookie that was already there.
    const setCookie = headers.get('set-cookie') as string[];
    expect(setCookie[0]).toBe('session=1');
    expect(setCookie[1]).toMatch(/^_fbp=fb\.\d\./);
  });

  it('graphql: a nested field resolver is not a conversion', async () => {
    const { req, res } = nodeExchange();
    const info = { path: { key: 'total', prev: { key: 'checkout', prev: undefined } } };
    const context = new ExecutionContextHost(
      [{}, {}, { req, res }, info],
      Handlers,
      handler('convert'),
    );
    context.setType('graphql');
    await run(context, { email: 'g@example.com' });
    expect(mock.events()).toHaveLength(0);
  });

  it('graphql without an HTTP request (subscriptions over ws) passes through', async () => {
    const context = new ExecutionContextHost(
      [{}, {}, { connection: {} }, {}],
      Handlers,
      handler('convert'),
    );
    context.setType('graphql');
    const { value } = await run(context, { email: 'g@example.com' });
    expect(value).toEqual({ email: 'g@example.com' });
    expect(mock.events()).toHaveLength(0);
  });
});

describe("CapiInterceptor's own log line of an app's error", () => {
  const SECRET = 'EAAnestSecretToken0123456789abcdef';
  const APP_SECRET = 'nest-app-secret-0123456789';

  class Throwing {
    // An app's map whose failure quotes the token (a failed call's URL, a config dump).
    @TrackConversion('Lead', {
      map: () => {
        throw new Error(`lookup failed: GET /me?access_token=${SECRET}&x=${APP_SECRET} ${SECRET}`);
      },
    })
    convert(): void {}
  }

  it('is redacted like the client redacts its report of it: message and stack', async () => {
    const mock = await startMockGraph();
    const printed: unknown[][] = [];
    const record = (...args: unknown[]) => {
      printed.push(args);
    };
    Logger.overrideLogger({ log: record, error: record, warn: record, debug: record });
    const options = {
      pixelId: PIXEL_ID,
      accessToken: SECRET,
      appSecret: APP_SECRET,
      graphUrl: mock.url,
      env: false as const,
    };
    const adapter = createCapiAdapter(options);
    try {
      const interceptor = new CapiInterceptor(adapter, new Reflector(), options);
      const { req, res } = nodeExchange();
      const context = new ExecutionContextHost(
        [{}, {}, { req, res }, { path: { key: 'checkout', prev: undefined } }],
        Throwing,
        Throwing.prototype.convert,
      );
      context.setType('graphql');
      await lastValueFrom(interceptor.intercept(context, { handle: () => of({}) }));
      const text = JSON.stringify(printed);
      // The line was printed, with the app's own words.
      expect(text).toContain('map threw; nothing was tracked: lookup failed');
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(APP_SECRET);
    } finally {
      Logger.overrideLogger(false);
      await adapter.close();
      await mock.close();
    }
  });
});

/**
 * What every suite of the kit shares: the mock Graph API, the options it hands the driver, and
 * requests made the way a browser makes them.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type MockGraph, startMockGraph } from '../mock-graph.js';
import {
  type AdapterDriver,
  KIT_CALL_HEADER,
  type KitApp,
  type KitClient,
  type KitErrorInfo,
} from './driver.js';
import type { KitCall, KitCallAnswer } from './kit-call.js';

export const PIXEL_ID = '1234567890';
export const ACCESS_TOKEN = 'adapter-kit-token';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-adapter-kit/1.0';
/** A well-formed `_fbp` a returning browser sends. */
export const KNOWN_FBP = 'fb.0.1700000000000.123456789';
/** Headers of a top-level page load (what a browser sends when following an ad click). */
export const NAVIGATION = { 'sec-fetch-dest': 'document', accept: 'text/html' } as const;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A request as the checks make it: a browser user agent, and optionally a `/kit/call` call. */
export interface KitRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
  call?: KitCall;
}

/** The kit's state for one driver. */
export interface Kit {
  readonly driver: AdapterDriver;
  /** The mock Graph API (started before, reset before each check). */
  readonly mock: MockGraph;
  /** The adapter options of every check: the mock, `env: false`, the loopback proxy trusted. */
  options(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Starts the driver's app with {@link options}; its `close()` may be called more than once. */
  start(extra?: Record<string, unknown>, variant?: string): Promise<KitApp>;
  /** Starts the driver's app with exactly these adapter options. */
  startWith(capi: Record<string, unknown>, variant?: string): Promise<KitApp>;
}

/** Sets up the mock Graph API for a driver's suites (call inside a `describe`). */
export function kitFor(driver: AdapterDriver): Kit {
  let mock: MockGraph | undefined;
  beforeAll(async () => {
    mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
  });
  beforeEach(() => mock?.reset());
  afterAll(() => mock?.close());
  const kit: Kit = {
    driver,
    get mock() {
      if (mock === undefined) throw new Error('the mock Graph API is not running');
      return mock;
    },
    options: (extra = {}) => ({
      pixelId: PIXEL_ID,
      accessToken: ACCESS_TOKEN,
      graphUrl: kit.mock.url,
      env: false,
      trustProxy: 'loopback',
      ...extra,
    }),
    start: (extra, variant) => kit.startWith(kit.options(extra), variant),
    startWith: async (capi, variant) => {
      const app = await driver.start({ capi, variant });
      let closing: Promise<void> | undefined;
      return { ...app, close: () => (closing ??= app.close()) };
    },
  };
  return kit;
}

/** Requests `path` of the app the way a browser does (its user agent unless `headers` replace it). */
export function send(app: KitApp, path: string, request: KitRequest = {}): Promise<Response> {
  const { call, headers, ...init } = request;
  return fetch(`${app.url}${path}`, {
    ...init,
    headers: {
      'user-agent': UA,
      ...(call === undefined ? {} : { [KIT_CALL_HEADER]: JSON.stringify(call) }),
      ...headers,
    },
  });
}

/** POSTs JSON. */
export const postJson = (
  app: KitApp,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  send(app, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Reads a `/kit/call` answer. */
export const answerOf = async (res: Response) => (await res.json()) as KitCallAnswer;

/** A track result as the wire shows it. */
export interface WireResult {
  event_id: string;
  accepted: boolean;
  issues: { path: string; code: string; message: string; severity: string }[];
  reason?: string;
}

/** The track result of a `/kit/call` answer. */
export const resultOf = async (res: Response) => (await answerOf(res)).result as WireResult;

/**
 * The event the mock received with this `event_id`, asserted present. A test reads its own event,
 * never the first: the mock is shared by a file, and an earlier test's event may reach it late (a
 * request aborted by a `close()` on a loaded machine).
 */
export function sentEvent(kit: Kit, eventId: string) {
  const found = kit.mock.events().find((e) => e.event.event_id === eventId);
  expect(found, `no event ${eventId} reached the mock`).toBeDefined();
  return found?.event;
}

/** Records what the client reports through its `error` hook. */
export function errorsOf(client: KitClient): KitErrorInfo[] {
  const errors: KitErrorInfo[] = [];
  client.on('error', (info) => {
    errors.push(info);
  });
  return errors;
}

/** The names of a response's `Set-Cookie` headers, in order. */
export const cookieNames = (res: Response) =>
  res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));

/** Options that make `getRequestContext` throw, standing in for any bug on that path. */
export const brokenTrustList = (): string[] =>
  new Proxy([] as string[], {
    get() {
      throw new Error('broken trust list');
    },
  });

/** Every counter of `stats().dropped`, summed. */
export const droppedOf = (client: KitClient) =>
  Object.values(client.stats().dropped as Record<string, number>).reduce((a, b) => a + b, 0);

import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindRequest } from '../../src/adapter/index.js';
import type { RequestContext } from '../../src/context/index.js';
import {
  type CapiOptions,
  type CapiStats,
  createCapi,
  type ErrorInfo,
  type TrackResult,
} from '../../src/delivery/index.js';
import { CapiValidationError } from '../../src/event/index.js';
import { PIXEL, TOKEN } from './helpers.js';
import {
  eventInputArb,
  type Hostility,
  hostilitiesAt,
  MARK,
  makeHostile,
  type Path,
  pathText,
  positionsOf,
  requestContextArb,
  THROWN_KINDS,
  thrownValue,
  trackOptionsArb,
} from './hostile-inputs.js';

/** A generated `event_id`: a UUID v4. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Issue 17 item 4: non-strict track() must not throw whatever the caller's data does when read,
// and the one pixel's accounting identity must hold after every call:
// track() calls = sent + queued + inFlight + deadLettered + Σ dropped.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
afterAll(() => mock.close());

const accounted = (s: CapiStats): number =>
  s.sent +
  s.queued +
  s.inFlight +
  s.deadLettered +
  Object.values(s.dropped).reduce((a, b) => a + b);

/** A client delivering to the mock, recording every log line and hook payload as text. */
function harness(extra: CapiOptions = {}) {
  const said: string[] = [];
  const record = (obj: Record<string, unknown>, msg: string) => {
    said.push(`${JSON.stringify(obj)} ${msg}`);
  };
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    flushIntervalMs: 60_000,
    logger: { debug: record, info: record, warn: record, error: record },
    ...extra,
  });
  const errors: ErrorInfo[] = [];
  client.on('error', (info) => {
    errors.push(info);
    said.push(
      JSON.stringify({ ...info, error: info.error.message, cause: String(info.error.cause) }),
    );
  });
  client.on('dropped', (info) => {
    said.push(JSON.stringify(info));
  });
  let calls = 0;
  let thrownKind = 0;
  return {
    client,
    errors,
    said,
    /** The next thrown value, cycling through every kind. */
    thrown: () => thrownValue(THROWN_KINDS[thrownKind++ % THROWN_KINDS.length] ?? 'error'),
    /** Runs one track() call and checks what every call must satisfy. */
    call(run: () => TrackResult): TrackResult {
      calls++;
      let result: unknown;
      expect(() => {
        result = run();
      }).not.toThrow();
      expectResultShape(result);
      expect(accounted(client.stats())).toBe(calls);
      return result as TrackResult;
    },
    /** The identity once more, then no marker anywhere in what the client said. */
    async finish(): Promise<void> {
      await client.flush();
      expect(accounted(client.stats())).toBe(calls);
      await client.close();
      expect(accounted(client.stats())).toBe(calls);
      expect(said.filter((line) => line.includes(MARK))).toEqual([]);
    },
    get calls() {
      return calls;
    },
  };
}

function expectResultShape(result: unknown): asserts result is TrackResult {
  expect(result).not.toBeInstanceOf(Promise);
  expect(typeof (result as { then?: unknown }).then).not.toBe('function');
  const { event_id, accepted, issues, reason } = result as TrackResult;
  expect(typeof event_id).toBe('string');
  expect(typeof accepted).toBe('boolean');
  expect(Array.isArray(issues)).toBe(true);
  if (!accepted) expect(typeof reason).toBe('string');
  expect(JSON.stringify(issues)).not.toContain(MARK);
}

/** An `unreadable_value` issue names the hostile position or a field inside it. */
function expectPathWithin(
  result: TrackResult,
  position: string,
  hostility: Hostility,
  fired: boolean,
): void {
  const unreadable = result.issues.filter((i) => i.code === 'unreadable_value');
  if (unreadable.length === 0) return;
  // Only a read that threw can be reported (a revoked Proxy has no trap to tell), and only that one.
  expect(fired || hostility.kind === 'revoked').toBe(true);
  expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
  expect(unreadable).toHaveLength(1);
  const path = unreadable[0]?.path ?? '';
  if (position === 'event') {
    // The root input: itself, or the first of its fields read through its hostile trap.
    expect(path.startsWith('options')).toBe(false);
  } else {
    expect(
      path === position || path.startsWith(`${position}.`) || path.startsWith(`${position}[`),
    ).toBe(true);
  }
}

/** Every position of `tree`, with every way it can throw. */
function* variants(tree: unknown): Generator<[Path, Hostility]> {
  for (const path of positionsOf(tree)) {
    for (const hostility of hostilitiesAt(path)) yield [path, hostility];
  }
}

const options = trackOptionsArb(PIXEL);

describe('track() with hostile caller data (property)', () => {
  it('never throws, never returns a promise, keeps the identity and leaks nothing, at every position', async () => {
    let located = 0;
    await fc.assert(
      fc.asyncProperty(eventInputArb, options, async (input, trackOptions) => {
        const h = harness();
        for (const [path, hostility] of variants(input)) {
          let fired = false;
          const hostile = makeHostile(input, path, hostility, h.thrown, () => {
            fired = true;
          });
          const result = h.call(() => h.client.track(hostile as never, trackOptions as never));
          expectPathWithin(
            result,
            pathText(path, 'event').replace(/^event\./, ''),
            hostility,
            fired,
          );
          if (result.issues.some((i) => i.code === 'unreadable_value')) located++;
        }
        for (const [path, hostility] of variants(trackOptions)) {
          let fired = false;
          const hostile = makeHostile(trackOptions, path, hostility, h.thrown, () => {
            fired = true;
          });
          const result = h.call(() => h.client.track(input as never, hostile as never));
          expectPathWithin(result, pathText(path, 'options'), hostility, fired);
          if (result.issues.some((i) => i.code === 'unreadable_value')) located++;
        }
        await h.finish();
      }),
      { numRuns: 20 },
    );
    // The walk must have found hostile reads, or the assertions above checked nothing.
    expect(located).toBeGreaterThan(100);
  }, 120_000);

  it('req.capi.track(name, params) and req.capi.track(event) through bindRequest: the same, with a hostile context too', async () => {
    await fc.assert(
      fc.asyncProperty(eventInputArb, requestContextArb, async (input, context) => {
        const h = harness();
        const { event_name: name, ...params } = input;
        const plain = bindRequest(h.client, context as RequestContext);
        for (const [path, hostility] of variants(params)) {
          let fired = false;
          const hostile = makeHostile(params, path, hostility, h.thrown, () => {
            fired = true;
          });
          const named = h.call(() => plain.track(name, hostile as never));
          expectPathWithin(
            named,
            pathText(path, 'event').replace(/^event\./, ''),
            hostility,
            fired,
          );
          // Lazy params returning the same hostile object (trackConversion's map).
          const lazy = h.call(() => plain.track(name, () => hostile as never));
          expectPathWithin(lazy, pathText(path, 'event').replace(/^event\./, ''), hostility, fired);
        }
        for (const [path, hostility] of variants(input)) {
          const hostile = makeHostile(input, path, hostility, h.thrown, () => {});
          h.call(() => plain.track(hostile as never));
        }
        for (const [path, hostility] of variants(context)) {
          let fired = false;
          const hostileContext = makeHostile(context, path, hostility, h.thrown, () => {
            fired = true;
          });
          const capi = bindRequest(h.client, hostileContext as RequestContext);
          const result = h.call(() => capi.track(name, params as never));
          expectPathWithin(result, pathText(path, 'options.context'), hostility, fired);
        }
        await h.finish();
      }),
      { numRuns: 10 },
    );
  }, 120_000);

  it('strict mode throws only CapiValidationError, counted, and an unreadable field is one of its issues', async () => {
    await fc.assert(
      fc.asyncProperty(eventInputArb, async (input) => {
        const h = harness({ strict: true });
        let calls = 0;
        for (const [path, hostility] of variants(input)) {
          const hostile = makeHostile(input, path, hostility, h.thrown, () => {});
          calls++;
          let result: unknown;
          try {
            result = h.client.track(hostile as never);
          } catch (error) {
            expect(error).toBeInstanceOf(CapiValidationError);
            expect((error as Error).message).not.toContain(MARK);
          }
          if (result !== undefined) expectResultShape(result);
          expect(accounted(h.client.stats())).toBe(calls);
        }
        await h.client.close();
        expect(accounted(h.client.stats())).toBe(calls);
        expect(h.said.filter((line) => line.includes(MARK))).toEqual([]);
      }),
      { numRuns: 10 },
    );
  }, 120_000);
});

// The cases reproduced on main, one by one, with the exact result.
describe('track() with hostile caller data (the reproduced cases)', () => {
  const throwing = <T extends object>(target: T, key: string): T =>
    Object.defineProperty(target, key, {
      get() {
        throw new Error(`getter saw ${MARK}`);
      },
      enumerable: true,
    });
  const revoked = (): object => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const lead = () => ({
    event_name: 'Lead',
    event_source_url: 'https://shop.example/',
    user_data: { em: 'a@example.com', client_user_agent: 'UA' },
  });
  // With no event_id read, a generated one (the page's Pixel copy still fires with it).
  const unreadableAt = (path: string, event_id: unknown = expect.stringMatching(UUID)) => ({
    event_id,
    accepted: false,
    reason: 'invalid',
    issues: [expect.objectContaining({ path, code: 'unreadable_value', severity: 'error' })],
  });

  it.each([
    ['a throwing event_id getter', () => throwing(lead(), 'event_id'), undefined, 'event_id'],
    ['a throwing event_name getter', () => throwing(lead(), 'event_name'), undefined, 'event_name'],
    ['a revoked Proxy as input', revoked, undefined, 'event'],
    ['a revoked Proxy as options', lead, revoked, 'options'],
    [
      'a throwing options.pixelIds getter',
      lead,
      () => throwing({}, 'pixelIds'),
      'options.pixelIds',
    ],
    [
      'a throwing getter deep in custom_data',
      () => ({ ...lead(), custom_data: { contents: [throwing({ id: 'a' }, 'quantity')] } }),
      undefined,
      'custom_data.contents[0].quantity',
    ],
    [
      'a throwing toJSON on a custom parameter',
      () => ({
        ...lead(),
        custom_data: {
          note: {
            toJSON: () => {
              throw new Error(MARK);
            },
          },
        },
      }),
      undefined,
      'custom_data.note',
    ],
  ])(
    '%s: dropped as invalid, counted, reported by path and type',
    async (_name, input, opts, path) => {
      const h = harness();
      const result = h.call(() => h.client.track(input() as never, opts?.() as never));
      expect(result).toEqual(unreadableAt(path));
      expect(h.client.stats().dropped.invalid).toBe(1);
      expect(h.errors).toEqual([
        expect.objectContaining({ kind: 'validation', issues: result.issues }),
      ]);
      expect(h.said.some((line) => line.includes(`${path}:unreadable_value`))).toBe(true);
      await h.finish();
    },
  );

  it('keeps a given event_id it could read', async () => {
    const h = harness();
    const input = throwing({ ...lead(), event_id: 'order-7' }, 'user_data');
    expect(h.call(() => h.client.track(input as never))).toEqual(
      unreadableAt('user_data', 'order-7'),
    );
    await h.finish();
  });

  it('req.capi.track(name, params) with a throwing getter in params', async () => {
    const h = harness();
    const context: RequestContext = {
      user_data: { client_user_agent: 'UA' },
      event_source_url: 'https://shop.example/',
      cookiesToSet: [],
      consent: 'granted',
      isNavigation: false,
    };
    const capi = bindRequest(h.client, context);
    const params = { user_data: throwing({ client_ip_address: '203.0.113.9' }, 'em') };
    expect(h.call(() => capi.track('Lead', params as never))).toEqual(unreadableAt('user_data.em'));
    expect(h.call(() => capi.track('Lead', revoked() as never))).toEqual(unreadableAt('event'));
    expect(h.call(() => capi.track('Lead', () => params as never))).toEqual(
      unreadableAt('user_data.em'),
    );
    // The same params, readable, go through: nothing of the failure stuck.
    expect(h.call(() => capi.track('Lead', { user_data: { em: 'a@example.com' } })).accepted).toBe(
      true,
    );
    await h.finish();
    expect(mock.events({ pixelId: PIXEL }).length).toBeGreaterThan(0);
  });

  it('strict mode throws CapiValidationError for an unreadable field, after counting it', async () => {
    const h = harness({ strict: true });
    const input = throwing(lead(), 'user_data');
    let thrown: unknown;
    try {
      h.client.track(input as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CapiValidationError);
    expect((thrown as CapiValidationError).issues).toEqual([
      expect.objectContaining({ path: 'user_data', code: 'unreadable_value' }),
    ]);
    expect((thrown as Error).message).not.toContain(MARK);
    expect(h.client.stats().dropped.invalid).toBe(1);
    // Lazy params are never thrown, not even in strict mode: they run after the response.
    const capi = bindRequest(h.client, {
      user_data: {},
      cookiesToSet: [],
      consent: 'granted',
      isNavigation: false,
    });
    expect(capi.track('Lead', () => input as never)).toMatchObject({
      accepted: false,
      reason: 'invalid',
      issues: [expect.objectContaining({ path: 'user_data', code: 'unreadable_value' })],
    });
    expect(h.client.stats().dropped.invalid).toBe(2);
    await h.client.close();
  });

  it('a read that throws once and not on a second look is an internal error, counted', async () => {
    const h = harness();
    let reads = 0;
    const input = Object.defineProperty(lead(), 'action_source', {
      get() {
        reads++;
        if (reads === 1) throw new Error(MARK);
        return 'website';
      },
      enumerable: true,
    });
    expect(h.call(() => h.client.track(input as never))).toEqual({
      event_id: expect.stringMatching(UUID),
      accepted: false,
      reason: 'error',
      issues: [],
    });
    expect(h.errors).toEqual([expect.objectContaining({ kind: 'internal' })]);
    expect(h.errors[0]?.error.message).toBe('track() failed (Error)');
    await h.finish();
  });

  it('a BigInt or a cycle deep in a custom parameter is a validation issue naming it, not an internal error', async () => {
    const h = harness();
    const loop: Record<string, unknown> = {};
    loop.again = loop;
    for (const [custom_data, path] of [
      [{ order: { id: 12n } }, 'custom_data.order.id'],
      [{ custom_properties: { loop } }, 'custom_data.custom_properties.loop.again'],
    ] as const) {
      const result = h.call(() => h.client.track({ ...lead(), custom_data } as never));
      expect(result).toMatchObject({
        accepted: false,
        reason: 'invalid',
        issues: [{ path, code: 'invalid_custom_parameter', severity: 'error' }],
      });
    }
    expect(h.client.stats().dropped).toMatchObject({ invalid: 2, error: 0 });
    expect(h.errors.map((e) => e.kind)).toEqual(['validation', 'validation']);
    await h.finish();
  });

  it('a throwing context function given to bind() is reported; the request tracks nothing, fail-closed', async () => {
    const h = harness();
    const capi = bindRequest(h.client, () => {
      throw new Error('context failed');
    });
    expect(h.call(() => capi.track('Lead', { user_data: { em: 'a@example.com' } }))).toMatchObject({
      accepted: false,
      reason: 'consent',
    });
    expect(h.errors).toEqual([
      expect.objectContaining({ kind: 'callback', source: 'request context' }),
    ]);
    expect(capi.context.consent).toBe('denied');
    await h.finish();
  });

  it('a throwing lazy params function is app code: reported with its message, counted as error', async () => {
    const h = harness({ strict: true });
    const capi = bindRequest(h.client, {
      user_data: {},
      cookiesToSet: [],
      consent: 'granted',
      isNavigation: false,
    });
    const result = h.call(() =>
      capi.track('Purchase', () => {
        throw new Error('map failed');
      }),
    );
    expect(result).toEqual({
      event_id: expect.stringMatching(UUID),
      accepted: false,
      issues: [],
      reason: 'error',
    });
    expect(h.errors).toEqual([
      expect.objectContaining({ kind: 'callback', source: 'Purchase params' }),
    ]);
    expect(h.client.stats().dropped.error).toBe(1);
    await h.client.close();
  });
});

// Issue 20 review: the unknown-key walks (event, user_data, custom_data) read own keys only. A
// `for…in` walk also enumerates the prototype chain, which runs traps no read of the event
// touches: these events, readable field by field, were dropped as `unreadable_value` by it.
describe('track() reads own keys only: a hostile prototype nothing reads is not a failure', () => {
  const boom = () => {
    throw new Error(MARK);
  };
  const onHostileProto = <T extends object>(fields: T, traps: ProxyHandler<object>): T =>
    Object.assign(Object.create(new Proxy({ inherited: 1 }, traps)), fields);
  const userData = () => ({ em: 'proto@example.com', client_user_agent: 'UA' });
  const customData = () => ({ value: 12, currency: 'EUR', plan: 'pro' });
  const purchase = (id: string, fields: Record<string, unknown> = {}) => ({
    event_name: 'Purchase',
    event_id: id,
    event_source_url: 'https://shop.example/checkout',
    user_data: userData(),
    custom_data: customData(),
    ...fields,
  });

  it.each([
    [
      'user_data on a Proxy whose ownKeys throws',
      (id: string) => purchase(id, { user_data: onHostileProto(userData(), { ownKeys: boom }) }),
    ],
    [
      'custom_data on a Proxy whose ownKeys throws',
      (id: string) =>
        purchase(id, { custom_data: onHostileProto(customData(), { ownKeys: boom }) }),
    ],
    [
      'the event on a Proxy whose getOwnPropertyDescriptor throws',
      (id: string) => onHostileProto(purchase(id), { getOwnPropertyDescriptor: boom }),
    ],
    [
      'user_data a Proxy whose getPrototypeOf throws',
      (id: string) => purchase(id, { user_data: new Proxy(userData(), { getPrototypeOf: boom }) }),
    ],
    [
      'custom_data a Proxy whose getPrototypeOf throws',
      (id: string) =>
        purchase(id, { custom_data: new Proxy(customData(), { getPrototypeOf: boom }) }),
    ],
    [
      'the event a Proxy whose getPrototypeOf throws',
      (id: string) => new Proxy(purchase(id), { getPrototypeOf: boom }),
    ],
  ])('%s: accepted and delivered', async (name, input) => {
    const h = harness();
    const id = `proto-${name.length}-${name.slice(0, 12).replace(/\W/g, '')}`;
    const result = h.call(() => h.client.track(input(id) as never));
    expect(result).toEqual({ event_id: id, accepted: true, issues: [] });
    await h.finish();
    const sent = mock.events({ pixelId: PIXEL }).find((e) => e.event.event_id === id);
    expect(sent?.event).toMatchObject({
      event_name: 'Purchase',
      custom_data: { value: 12, currency: 'EUR', plan: 'pro' },
      user_data: { client_user_agent: 'UA' },
    });
    expect(h.errors).toEqual([]);
  });
});

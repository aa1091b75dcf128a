import { describe, expect, it } from 'vitest';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { Outbox } from '../../src/delivery/outbox/types.js';
import { countOutboxCalls } from '../../src/delivery/outbox-calls.js';

describe('countOutboxCalls', () => {
  it('counts the calls that return a promise until they settle, rejected ones included', async () => {
    const memory = memoryOutbox();
    const gates: { open: () => void; fail: () => void }[] = [];
    const held = <T>(value: T) =>
      new Promise<T>((resolve, reject) => {
        gates.push({ open: () => resolve(value), fail: () => reject(new Error('refused')) });
      });
    const outbox: Outbox = { ...memory, ack: () => held(undefined), nack: () => held(undefined) };
    const calls = countOutboxCalls(outbox);
    calls.outbox.claim(10, 1000); // synchronous: not counted
    const ack = calls.outbox.ack(['a']);
    const nack = calls.outbox.nack(['b'], 0);
    expect(calls.running()).toBe(2);
    let idle = false;
    void calls.idle().then(() => {
      idle = true;
    });
    gates[0]?.open();
    await ack;
    expect({ running: calls.running(), idle }).toEqual({ running: 1, idle: false });
    gates[1]?.fail();
    await expect(nack).rejects.toThrow('refused');
    await Promise.resolve();
    expect({ running: calls.running(), idle }).toEqual({ running: 0, idle: true });
    await calls.idle(); // none running: at once
  });

  it('calls a thenable’s then once, and counts it settled once whatever it does', async () => {
    const memory = memoryOutbox();
    let thens = 0;
    const outbox: Outbox = {
      ...memory,
      // A lazy query builder: every `then` runs the query again.
      ack: (ids) =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
          then(resolve: () => void, reject: (e: unknown) => void) {
            thens++;
            return Promise.resolve(memory.ack(ids)).then(resolve, reject);
          },
        }) as unknown as Promise<void>,
      // Calls back twice.
      nack: () =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
          then(resolve: () => void) {
            resolve();
            resolve();
          },
        }) as unknown as Promise<void>,
      // Its then throws.
      release: () =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
          then() {
            throw new Error('broken then');
          },
        }) as unknown as Promise<void>,
    };
    const calls = countOutboxCalls(outbox);
    await calls.outbox.ack(['a']);
    expect(thens).toBe(1);
    await calls.outbox.nack(['b'], 0);
    await expect(calls.outbox.release(['c'], 0)).rejects.toThrow('broken then');
    await Promise.resolve();
    expect(calls.running()).toBe(0);
  });

  it('reads durable and the optional methods from the outbox at each use', () => {
    const outbox: Outbox = memoryOutbox();
    const calls = countOutboxCalls(outbox);
    expect([calls.outbox.close, calls.outbox.flush, calls.outbox.takeNonDurable]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const closed: string[] = [];
    outbox.close = () => {
      closed.push('close');
    };
    calls.outbox.close?.();
    expect(closed).toEqual(['close']);
    expect(calls.outbox.durable).toBe(false);
  });

  it('holds calls until the gate settles, then runs them in the order made, later calls behind them', async () => {
    const memory = memoryOutbox();
    const order: string[] = [];
    const outbox: Outbox = {
      ...memory,
      append: (records) => {
        order.push(`append ${records.map((r) => r.id).join(',')}`);
        return memory.append(records);
      },
      claim: (limit, leaseMs, options) => {
        order.push('claim');
        return memory.claim(limit, leaseMs, options);
      },
      stats: () => {
        order.push('stats');
        return memory.stats();
      },
    };
    const calls = countOutboxCalls(outbox);
    let open: (() => void) | undefined;
    calls.holdUntil(
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    const record = (id: string) => ({
      id,
      pixelId: 'p',
      eventId: id,
      eventName: 'Purchase',
      eventTime: 1,
      actionSource: 'website',
      body: '{}',
      bytes: 2,
      attempts: 0,
      enqueuedAt: 0,
      retryAt: 0,
    });
    calls.outbox.append([record('a')]);
    const second = calls.outbox.claim(10, 1000, { pixelId: 'p', now: 0 });
    calls.outbox.stats(); // never held
    await Promise.resolve();
    expect({ order, running: calls.running() }).toEqual({ order: ['stats'], running: 2 });
    open?.();
    // Made once the gate settled but before the held calls ran: it runs behind them.
    let later: unknown;
    queueMicrotask(() => {
      later = calls.outbox.append([record('c')]);
    });
    expect(await second).toHaveLength(1);
    await later;
    expect(order).toEqual(['stats', 'append a', 'claim', 'append c']);
    // The gate is down: calls answer as the outbox does, synchronously here.
    expect(Array.isArray(calls.outbox.claim(10, 1000, { pixelId: 'p', now: 0 }))).toBe(true);
    expect(calls.running()).toBe(0);
  });
});

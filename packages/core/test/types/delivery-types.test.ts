import { describe, expectTypeOf, it } from 'vitest';
import {
  type CapiClient,
  type Clock,
  createCapi,
  type DrainOptions,
  isMetaAcknowledgement,
  MAX_TIMER_MS,
  rejectedEventIndex,
  schedulingClock,
  systemClock,
} from '../../src/index.js';

// Checked by `tsc -p packages/core/tsconfig.json`: every `@ts-expect-error` below must be an error.

describe('delivery types', () => {
  it('drain() takes an optional deadline and resolves to nothing', async () => {
    expectTypeOf<CapiClient['drain']>().parameters.toEqualTypeOf<[options?: DrainOptions]>();
    expectTypeOf<CapiClient['drain']>().returns.toEqualTypeOf<Promise<void>>();
    const client = createCapi({ pixelId: '1', accessToken: 'EAAtypes', env: false });
    // @ts-expect-error: the deadline is a number of milliseconds
    void client.drain({ timeoutMs: '10s' });
    await client.close({ timeoutMs: 0 });
  });

  it('a Clock needs now/setTimeout/clearTimeout; monotonic and ref are optional', () => {
    const minimal: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
    expectTypeOf(schedulingClock(minimal)).toEqualTypeOf<Clock>();
    expectTypeOf(systemClock.monotonic).toEqualTypeOf<(() => number) | undefined>();
    // The bound the outboxes check their timer options against.
    expectTypeOf(MAX_TIMER_MS).toBeNumber();
    // @ts-expect-error: now() is required
    const broken: Clock = { setTimeout: () => 0, clearTimeout: () => {} };
    void broken;
  });

  it('the acknowledgement and index readers are plain predicates', () => {
    expectTypeOf(isMetaAcknowledgement).returns.toEqualTypeOf<boolean>();
    expectTypeOf(rejectedEventIndex).returns.toEqualTypeOf<number | undefined>();
  });
});

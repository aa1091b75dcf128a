import { describe, expect, it } from 'vitest';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { AppendResult, Outbox, OutboxRecord } from '../../src/delivery/outbox/types.js';
import { setupClient } from './helpers.js';

// Engine bugs the random interleavings (interleavings.test.ts) found, each reduced to the fewest
// calls that show it. Marked `it.fails` while the engine has the bug: CI stays green, and the day
// a fix lands the test fails, telling whoever fixed it to drop the `.fails` (and the random
// test's exemption that names this file).

describe('found by the random interleavings (it.fails until the engine is fixed)', () => {
  // interleavings.test.ts, several-streams mode "durable outbox holding records in memory only"
  // (takeNonDurable returns and removes everything it holds, and its close() loses what is left,
  // as the process does at exit), seed 13: about a quarter of the seeds with async appends failed
  // (251 of seeds 1–1000; none with synchronous ones) with "queued 3 but outbox holds 0". An
  // append still pending when close() stopped waiting for it took effect after the take at close:
  // the engine counts its record as queued for the next start (`noteAppendLanded`: "a durable
  // outbox keeps them"), but the outbox holds it in memory only, and `takeNonDurable` is called
  // once, before it landed, so it is never counted as dropped `shutdown` nor handed to
  // onUndeliverable. Low stakes today: @capi-kit/outbox-sqlite, the one outbox with
  // takeNonDurable, appends synchronously; the Outbox contract allows async appends.
  it.fails('an async append answered after the take at close is asked about too (durable outbox holding records in memory only)', async () => {
    const memory = memoryOutbox();
    const landings: (() => void)[] = [];
    const outbox: Outbox = {
      ...memory,
      durable: true,
      append: (records) =>
        new Promise<AppendResult>((resolve) => {
          landings.push(() => resolve(memory.append(records)));
        }),
      // Its storage refuses every write: all it holds is in memory only.
      takeNonDurable: (pixelId) => {
        const left = memory.claim(Number.MAX_SAFE_INTEGER, 60_000, { pixelId, all: true });
        memory.ack(left.map((r) => r.id));
        return left;
      },
    };
    const undeliverable: string[] = [];
    const { client, clock, track } = setupClient(undefined, {
      outbox,
      onUndeliverable: (records: readonly OutboxRecord[], reason) => {
        for (const r of records) undeliverable.push(`${reason} ${r.eventId}`);
      },
    });
    track(1);
    landings.shift()?.();
    track(2); // its append answers only after close()
    const closed = client.close({ timeoutMs: 100 });
    await clock.advance(200);
    await closed;
    expect(undeliverable).toEqual(['shutdown evt-1']); // taken at close
    landings.shift()?.();
    await clock.advance(100);
    expect(memory.stats().queued).toBe(1); // in memory only: gone when the process exits
    const s = client.stats();
    // Fails: { queued: 1, shutdown: 1, undeliverable: ['shutdown evt-1'] }.
    expect({ queued: s.queued, shutdown: s.dropped.shutdown, undeliverable }).toEqual({
      queued: 0,
      shutdown: 2,
      undeliverable: ['shutdown evt-1', 'shutdown evt-2'],
    });
  });
});

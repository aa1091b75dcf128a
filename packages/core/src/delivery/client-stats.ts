import type { OutboxPixelStats } from './outbox/types.js';
import type { PixelPipe } from './pixel-pipe.js';
import type { CapiStats, DedupCounters, DropReason } from './types.js';

/** A count of zero for every drop reason: the client's intake drops, and each pipe's. */
export const emptyDrops = (): Record<DropReason, number> => ({
  consent: 0,
  closed: 0,
  invalid: 0,
  too_large: 0,
  overflow: 0,
  expired: 0,
  shutdown: 0,
  error: 0,
});

/**
 * `client.stats()`: each stream's counters (its pipe's, with the outbox's oldest record), and the
 * client's totals, which add the drops at intake (counted once per `track()`, before any stream).
 */
export const sumStats = (
  pipes: ReadonlyMap<string, PixelPipe>,
  outboxPixels: Readonly<Record<string, OutboxPixelStats>> | undefined,
  intakeDrops: Readonly<Record<DropReason, number>>,
  dedup: Readonly<DedupCounters>,
): CapiStats => {
  const total: CapiStats = {
    queued: 0,
    inFlight: 0,
    sent: 0,
    retried: 0,
    dropped: { ...intakeDrops },
    deadLettered: 0,
    oldestQueuedAgeMs: 0,
    pixels: {},
    dedup: { ...dedup },
  };
  for (const [pixelId, pipe] of pipes) {
    const s = pipe.stats(outboxPixels?.[pixelId]?.oldestEnqueuedAt);
    total.pixels[pixelId] = s;
    total.queued += s.queued;
    total.inFlight += s.inFlight;
    total.sent += s.sent;
    total.retried += s.retried;
    total.deadLettered += s.deadLettered;
    total.oldestQueuedAgeMs = Math.max(total.oldestQueuedAgeMs, s.oldestQueuedAgeMs);
    for (const reason of Object.keys(s.dropped) as DropReason[])
      total.dropped[reason] += s.dropped[reason];
  }
  return total;
};

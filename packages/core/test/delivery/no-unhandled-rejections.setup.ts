import { afterAll } from 'vitest';

// Delivery runs in the background; a promise that rejects with nobody listening would crash a
// user's app (segmentio/analytics-node#320). Vitest reports these too, but only as a side note:
// here any unhandled rejection in a test file fails that file.
const seen: unknown[] = [];
const record = (reason: unknown): void => {
  seen.push(reason);
};
process.on('unhandledRejection', record);

afterAll(async () => {
  // Let rejections from the last test's background work surface before checking.
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  process.off('unhandledRejection', record);
  if (seen.length > 0) {
    const first = seen[0];
    throw new Error(
      `${seen.length} unhandled promise rejection(s); first: ${first instanceof Error ? (first.stack ?? first.message) : String(first)}`,
    );
  }
});

import type { Clock } from './types.js';

/**
 * The real clock. Every timer is `unref()`'d where the runtime supports it (Node, Bun, Deno), so
 * a client never keeps a process or a Lambda alive (segmentio/analytics-node#102, Amplitude #272).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') {
      handle.unref();
    }
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

import type { OutboxRecord } from './outbox/types.js';

// Meta's upload window: an event whose `event_time` is past it makes Meta reject the whole batch,
// so the pipe dead-letters it before sending.

/** Meta refuses events older than 7 days; `physical_store` events may be 62 days old ([UA], [SE]). */
export const EVENT_WINDOW_MS = 7 * 24 * 3600 * 1000;
/** Upload window for `action_source: physical_store` ([UA]). */
export const PHYSICAL_STORE_WINDOW_MS = 62 * 24 * 3600 * 1000;
// A request takes up to `timeoutMs`; drop a little early so an event never crosses the line mid-flight.
const EXPIRY_MARGIN_MS = 60_000;
// What a request needs beyond its timeout: the outbox calls around it and the event loop's delays.
const SEND_SLACK_MS = 10_000;

/**
 * How much later than `now` a pipe checks a record's age, so that one request of up to
 * `timeoutMs` still lands inside the window: nothing for timeouts the 60 s margin covers (the
 * default 1.5 s), the excess for longer ones (a `timeoutMs` of 120 s would otherwise send an event
 * with 61 s left that reaches the platform after the window, and the whole batch is refused).
 */
export const expiryLookAheadMs = (timeoutMs: number): number =>
  Math.max(0, timeoutMs + SEND_SLACK_MS - EXPIRY_MARGIN_MS);

/**
 * True when the platform would refuse the event's `event_time` as too old (whole batch rejected):
 * past `maxAgeSeconds` (a destination's `limits.maxAgeSeconds`), by default Meta's window.
 */
export const isExpired = (
  record: Pick<OutboxRecord, 'eventTime' | 'actionSource'>,
  nowMs: number,
  maxAgeSeconds?: (record: Pick<OutboxRecord, 'actionSource'>) => number,
): boolean => {
  const windowMs =
    maxAgeSeconds !== undefined
      ? maxAgeSeconds(record) * 1000
      : record.actionSource === 'physical_store'
        ? PHYSICAL_STORE_WINDOW_MS
        : EVENT_WINDOW_MS;
  return nowMs - record.eventTime * 1000 > windowMs - EXPIRY_MARGIN_MS;
};

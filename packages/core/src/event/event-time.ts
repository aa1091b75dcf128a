import type { Issue } from './issues.js';

// `event_time` is Unix seconds. Events older than 7 days fail the whole request (62 days for
// physical_store uploads); millisecond values read as far-future times and silently don't
// attribute, and Meta documents no future limit, so more than 5 minutes ahead (clock skew) is refused.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api [UA]

const DAY = 86_400;
/** Window for events older than now, in seconds. */
export const MAX_EVENT_AGE_SECONDS = 7 * DAY;
/** Window for `physical_store` events, in seconds. */
export const MAX_PHYSICAL_STORE_EVENT_AGE_SECONDS = 62 * DAY;
/** Allowed clock skew into the future, in seconds. */
export const MAX_EVENT_TIME_SKEW_SECONDS = 300;
/** Above this, a number is taken as milliseconds (1e11 s is the year 5138). */
const MILLISECONDS_THRESHOLD = 1e11;

/**
 * Reads an event time (Unix seconds, milliseconds or a `Date`) as whole Unix seconds, pushing an
 * issue to `issues` when it isn't a time. A millisecond value is converted with a warning.
 */
export function toUnixSeconds(value: unknown, path: string, issues: Issue[]): number | undefined {
  let seconds: number;
  if (value instanceof Date) {
    seconds = value.getTime() / 1000;
  } else if (typeof value === 'number') {
    seconds = value;
    if (seconds > MILLISECONDS_THRESHOLD) {
      seconds /= 1000;
      issues.push({
        path,
        code: 'event_time_in_milliseconds',
        message: 'Looks like milliseconds; converted to Unix seconds as Meta expects.',
        severity: 'warning',
      });
    }
  } else {
    seconds = Number.NaN;
  }
  if (!Number.isFinite(seconds)) {
    issues.push({
      path,
      code: 'invalid_event_time',
      message: 'Must be Unix time in seconds (a finite number) or a valid Date.',
      severity: 'error',
    });
    return undefined;
  }
  return Math.floor(seconds);
}

/** Checks that `eventTime` (Unix seconds) is inside the window Meta accepts for `actionSource`. */
export function checkEventTimeWindow(
  eventTime: number,
  nowSeconds: number,
  actionSource: string,
  issues: Issue[],
): void {
  const maxAge =
    actionSource === 'physical_store'
      ? MAX_PHYSICAL_STORE_EVENT_AGE_SECONDS
      : MAX_EVENT_AGE_SECONDS;
  if (nowSeconds - eventTime > maxAge) {
    issues.push({
      path: 'event_time',
      code: 'event_time_too_old',
      message:
        actionSource === 'physical_store'
          ? 'More than 62 days old; Meta rejects physical_store events older than that.'
          : 'More than 7 days old; Meta rejects the whole request for such an event.',
      severity: 'error',
    });
  } else if (eventTime - nowSeconds > MAX_EVENT_TIME_SKEW_SECONDS) {
    issues.push({
      path: 'event_time',
      code: 'event_time_in_future',
      message: 'More than 5 minutes in the future; Meta does not attribute future events.',
      severity: 'error',
    });
  }
}

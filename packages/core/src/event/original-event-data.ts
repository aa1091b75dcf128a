import { toUnixSeconds } from './event-time.js';
import type { Issue } from './issues.js';
import type { OriginalEventData } from './types.js';

// `original_event_data` names the earlier event a delayed event is about.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/original-event [OED]

const KNOWN: ReadonlySet<string> = new Set(['event_name', 'event_time', 'order_id', 'event_id']);

function id(
  value: unknown,
  path: string,
  allowNumber: boolean,
  issues: Issue[],
): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (allowNumber && typeof value === 'number' && Number.isFinite(value)) return String(value);
  issues.push({
    path,
    code: 'invalid_type',
    message: 'Expected a non-empty string.',
    severity: 'error',
  });
  return undefined;
}

/** Validates and copies `original_event_data`, converting its `event_time` like the event's own. */
export function normalizeOriginalEventData(
  input: unknown,
  issues: Issue[],
): OriginalEventData | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input)) {
    issues.push({
      path: 'original_event_data',
      code: 'invalid_original_event_data',
      message: 'original_event_data must be an object.',
      severity: 'error',
    });
    return undefined;
  }
  const source = input as Record<string, unknown>;
  const out: OriginalEventData = {};
  if (source.event_name !== undefined) {
    const name = id(source.event_name, 'original_event_data.event_name', false, issues);
    if (name !== undefined) out.event_name = name;
  }
  if (source.event_time !== undefined) {
    const time = toUnixSeconds(source.event_time, 'original_event_data.event_time', issues);
    if (time !== undefined) out.event_time = time;
  }
  if (source.order_id !== undefined) {
    const orderId = id(source.order_id, 'original_event_data.order_id', true, issues);
    if (orderId !== undefined) out.order_id = orderId;
  }
  if (source.event_id !== undefined) {
    const eventId = id(source.event_id, 'original_event_data.event_id', true, issues);
    if (eventId !== undefined) out.event_id = eventId;
  }
  for (const key of Object.keys(source)) {
    if (!KNOWN.has(key) && source[key] !== undefined) {
      issues.push({
        path: `original_event_data.${key}`,
        code: 'unknown_original_event_data_field',
        message: 'Not a documented original_event_data field; dropped.',
        severity: 'warning',
      });
    }
  }
  return out;
}

// `action_source`: where the conversion happened; by sending it you agree it is accurate.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]

/** Every `action_source` value Meta accepts. */
export const ACTION_SOURCES = [
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
] as const;

/** Where the conversion happened. */
export type ActionSource = (typeof ACTION_SOURCES)[number];

const sources: ReadonlySet<string> = new Set(ACTION_SOURCES);

/** True for one of Meta's nine `action_source` values. */
export function isActionSource(value: unknown): value is ActionSource {
  return typeof value === 'string' && sources.has(value);
}

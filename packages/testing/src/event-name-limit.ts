// How long an event name the mock takes. Meta documents no length limit for the Conversions API's
// `event_name` (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event
// lists none), nor TikTok for `event`; the mock sets its own: 100 characters, the bound the core's
// relay already puts on a browser's event name. Anything that reaches the mock can send a name (a
// web page can post to `/tr`), and without a bound a megabyte name was kept in every record, log
// line and Events Manager page refresh that carried it.

/** Longest event name the mock accepts (its own limit, not Meta's or TikTok's). */
export const MAX_EVENT_NAME_LENGTH = 100;

/** Why a longer name is refused, as the field's reason. */
export const EVENT_NAME_TOO_LONG = `is longer than ${MAX_EVENT_NAME_LENGTH} characters (the mock's own limit: Meta and TikTok document none)`;

/** True when `name` is over {@link MAX_EVENT_NAME_LENGTH}. */
export const isEventNameTooLong = (name: string): boolean => name.length > MAX_EVENT_NAME_LENGTH;

/** A name as a log or a refused record keeps it: the first {@link MAX_EVENT_NAME_LENGTH} characters, then `…`. */
export const clipEventName = (name: string): string =>
  isEventNameTooLong(name) ? `${name.slice(0, MAX_EVENT_NAME_LENGTH)}…` : name;

/** A refused event as it is kept: its name under `key` clipped ({@link clipEventName}), the rest as sent. */
export const clippedName = (
  event: Record<string, unknown>,
  key: string,
): Record<string, unknown> => {
  const name = event[key];
  return typeof name === 'string' && isEventNameTooLong(name)
    ? { ...event, [key]: clipEventName(name) }
    : event;
};

import { closestName } from './spelling.js';
import { STANDARD_EVENTS, type StandardEventName } from './standard-event-names.js';

export { STANDARD_EVENTS, type StandardEventName };

/** An event name: a standard one (autocompleted) or any custom name. */
export type EventName = StandardEventName | (string & {});

const nearMisses = new Map<string, StandardEventName | null>();

/**
 * The standard event `name` was probably meant to be: differing in case or separators
 * (`purchase`, `add_to_cart`) or by a typo or two (`Purchse`, `ViewContnet`); otherwise
 * `undefined`. Meta treats such a name as a different, custom event. Answers are cached (a few
 * hundred names at most), since custom event names repeat on every call.
 */
export function nearestStandardEvent(name: string): StandardEventName | undefined {
  const known = nearMisses.get(name);
  if (known !== undefined) return known ?? undefined;
  const nearest = closestName(name, STANDARD_EVENTS);
  if (nearMisses.size >= 512) nearMisses.clear();
  nearMisses.set(name, nearest ?? null);
  return nearest;
}

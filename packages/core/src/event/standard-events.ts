import { closestName } from './spelling.js';
// Meta Pixel standard events, plus PageView from the base code.
// https://developers.facebook.com/docs/meta-pixel/reference [PIX]

/** The 17 standard events and `PageView`, as Meta spells them (case matters for deduplication). */
export const STANDARD_EVENTS = [
  'AddPaymentInfo',
  'AddToCart',
  'AddToWishlist',
  'CompleteRegistration',
  'Contact',
  'CustomizeProduct',
  'Donate',
  'FindLocation',
  'InitiateCheckout',
  'Lead',
  'Purchase',
  'Schedule',
  'Search',
  'StartTrial',
  'SubmitApplication',
  'Subscribe',
  'ViewContent',
  'PageView',
] as const;

/** A Meta standard event name. */
export type StandardEventName = (typeof STANDARD_EVENTS)[number];

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

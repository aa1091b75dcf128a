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

let byLowercase: Map<string, StandardEventName> | undefined;

/**
 * The standard event `name` was probably meant to be when it differs only in case (`purchase`),
 * otherwise `undefined`. Meta treats such a name as a different, custom event.
 */
export function caseVariantOfStandardEvent(name: string): StandardEventName | undefined {
  byLowercase ??= new Map(STANDARD_EVENTS.map((event) => [event.toLowerCase(), event]));
  const standard = byLowercase.get(name.toLowerCase());
  return standard === name ? undefined : standard;
}

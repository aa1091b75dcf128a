// Meta Pixel standard events, plus PageView from the base code.
// https://developers.facebook.com/docs/meta-pixel/reference [PIX]
// No imports, on purpose: @capi-kit/browser bundles this file at build time (its one list of
// standard events, without depending on the core at run time).

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

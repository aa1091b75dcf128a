import type { StandardEventName } from '@capi-kit/core';

// Meta standard event → TikTok event name ([SE], [SEO] in sources.ts). A name TikTok also uses
// stays as it is; a name with no TikTok standard event passes unchanged and TikTok records it as a
// custom event (reporting and audiences, no optimization). Deduplication with the TikTok Pixel is
// on the event name too, so the browser's `ttq.track` must use the name in this table.
//
// | Meta                 | TikTok               | note                                                   |
// | -------------------- | -------------------- | ------------------------------------------------------ |
// | AddPaymentInfo       | AddPaymentInfo       | standard [SE]                                          |
// | AddToCart            | AddToCart            | standard [SE]                                          |
// | AddToWishlist        | AddToWishlist        | standard [SE]                                          |
// | CompleteRegistration | CompleteRegistration | standard [SE]                                          |
// | Contact              | Contact              | standard [SE]                                          |
// | CustomizeProduct     | CustomizeProduct     | standard [SE]                                          |
// | Donate               | Donate               | custom: TikTok has no donation event                   |
// | FindLocation         | FindLocation         | standard [SE]                                          |
// | InitiateCheckout     | InitiateCheckout     | standard [SE]                                          |
// | Lead                 | Lead                 | standard [RENAME]: SubmitForm's name since May 2025    |
// | PageView             | PageView             | custom: no Events API page-view event in [SE]          |
// | Purchase             | Purchase             | standard [SE] since 2025 (was CompletePayment [SEO])   |
// | Schedule             | Schedule             | standard [SE]                                          |
// | Search               | Search               | standard [SE]                                          |
// | StartTrial           | StartTrial           | standard [SE-ZH]                                       |
// | SubmitApplication    | SubmitApplication    | standard [SE-ZH]                                       |
// | Subscribe            | Subscribe            | standard [SEO]                                         |
// | ViewContent          | ViewContent          | standard [SEO]                                         |

// Lead is TikTok's name since May 2025. TikTok's "How to Adopt TikTok's Updated Standard Events"
// ([RENAME] in sources.ts) says SubmitForm was renamed to Lead (as CompletePayment to Purchase,
// followed here already) and that any new Pixel setup should use Lead; the legacy name is still
// converted on TikTok's side. /work/shared/reference/destinations.md (TikTok row) leaves event
// names to TikTok's own pages ("verify each against the platform's own documentation"). A Pixel
// that still fires `ttq.track('SubmitForm')` by hand keeps pairing with the server's copy with
// `eventNames: { Lead: 'SubmitForm' }`, since deduplication keys on the name ([DEDUP]).

/** Meta standard event → TikTok event name, for every Meta standard event (see the table above). */
export const TIKTOK_EVENT_NAMES: Readonly<Record<StandardEventName, string>> = Object.freeze({
  AddPaymentInfo: 'AddPaymentInfo',
  AddToCart: 'AddToCart',
  AddToWishlist: 'AddToWishlist',
  CompleteRegistration: 'CompleteRegistration',
  Contact: 'Contact',
  CustomizeProduct: 'CustomizeProduct',
  Donate: 'Donate',
  FindLocation: 'FindLocation',
  InitiateCheckout: 'InitiateCheckout',
  Lead: 'Lead',
  PageView: 'PageView',
  Purchase: 'Purchase',
  Schedule: 'Schedule',
  Search: 'Search',
  StartTrial: 'StartTrial',
  SubmitApplication: 'SubmitApplication',
  Subscribe: 'Subscribe',
  ViewContent: 'ViewContent',
});

/**
 * The TikTok event name for a Meta event name: the table's entry for a Meta standard event, the
 * name itself for anything else (a custom event). `overrides` win, e.g. `{ Purchase: 'CompletePayment' }`
 * for a TikTok Pixel still firing the older name.
 * @example tiktokEventName('Lead') // 'Lead'
 */
export function tiktokEventName(
  metaName: string,
  overrides?: Readonly<Record<string, string>>,
): string {
  // `null` (a config value read from JSON) is no overrides: `Object.hasOwn(null)` would throw, and
  // inside a destination's build every event would be dropped for TikTok.
  if (typeof overrides === 'object' && overrides !== null && Object.hasOwn(overrides, metaName)) {
    // Trimmed, and white space alone is none: TikTok refuses a blank name with the whole batch
    // ([BATCH] in sources.ts), and this function also serves toTikTokEvent, which no
    // configuration check guards as tiktok()'s options are.
    const name = overrides[metaName];
    if (typeof name === 'string' && name.trim() !== '') return name.trim();
  }
  return Object.hasOwn(TIKTOK_EVENT_NAMES, metaName)
    ? TIKTOK_EVENT_NAMES[metaName as StandardEventName]
    : metaName;
}

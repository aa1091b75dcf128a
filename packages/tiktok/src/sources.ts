// The pages this package implements, cited by tag in each module.
//
// [SE]  TikTok Ads Manager help, "About supported standard events" (last updated September 2025):
//       https://ads.tiktok.com/help/article/supported-standard-events
// [SE-ZH] The Chinese version of [SE] (last updated May 2025), which this package could read to
//       the end: it lists 'Lead' ("when a visitor submits a form") between InitiateCheckout and
//       Purchase, and 'StartTrial' (content_ids, currency, value) and 'SubmitApplication' as
//       standard events; no 'SubmitForm'. https://ads.tiktok.com/help/article/supported-standard-events?lang=zh
//       [RENAME] settles it: 'Lead' is SubmitForm's new name (see event-names.ts).
// [RENAME] TikTok Ads Manager help, "How to Adopt TikTok's Updated Standard Events" (May 2025):
//       "SubmitForm renamed to Lead, CompletePayment renamed to Purchase", in effect for Web from
//       1 May 2025; new Pixel setups should use the new names, legacy names are converted on
//       TikTok's side. https://ads.tiktok.com/help/article/how-to-adopt-tiktoks-updated-standard-events
// [SEO] The same page before 2025 ("About Standard and Custom events", October 2023), which still
//       lists CompletePayment, PlaceAnOrder, SubmitForm and ClickButton:
//       https://ads.tiktok.com/help/article?aid=10028
// [EAPI] TikTok Events API 2.0 request sample (`/open_api/v1.3/event/track/`, `Access-Token` header,
//       `event_source`, `event_source_id`, `data[].user.{ttclid,external_id,phone,email,ttp,ip,
//       user_agent}`, `page.url`, `properties.contents[].content_id`), as reproduced from TikTok's
//       Events Manager setup guide; TikTok's developer reference itself
//       (https://business-api.tiktok.com/portal/docs?id=1771101027431425) is not in the corpus
//       this package was written from. Reproduction: https://cozyclimb.store ; endpoint and
//       version also in Tealium's connector docs: https://docs.tealium.com/server-side-connectors/tiktok-events-connector/
// [PH]  Phone in E.164 with the `+` before hashing ("Country code must be included and prefixed
//       with the '+' sign"): Cloudflare's TikTok managed component,
//       https://github.com/managed-components/tiktok ; also /work/shared/reference/destinations.md.
// [BATCH] Up to 1,000 events per call, and TikTok fails the whole batch on one bad event:
//       Hightouch's TikTok destination docs, https://hightouch.com/docs/destinations/tiktok
// [CODES] Business API codes 40001 (permission), 40002 (parameters), 40007 (object does not
//       exist), 40100 (rate limit), 40105 (access token missing or wrong): SleekFlow's TikTok
//       Business Messaging troubleshooting page (same Business API),
//       https://help.sleekflow.io/en_US/tiktok-business-messaging/troubleshooting-your-tiktok-business-messaging-channels
// [LDU] `limited_data_use`, a boolean per event of `data` (limited data use for GDPR/CCPA):
//       Perspection's TikTok Events API guide, https://www.perspection.app/library/connect-tiktok-events-api-guide ;
//       sent per event by Segment's TikTok Conversions destination,
//       https://github.com/segmentio/action-destinations (tiktok-conversions/reportWebEvent/utils.ts).
// [DEDUP] `event_id` deduplication with the TikTok Pixel within 48 hours:
//       /work/shared/reference/destinations.md (issue 23). TikTok's own page says the same and
//       that the key is the pair `event` + `event_id` (Pixel and Events API copies within 5
//       minutes are merged, later ones up to 48 hours deduplicated):
//       https://ads.tiktok.com/help/article/event-deduplication
export {};

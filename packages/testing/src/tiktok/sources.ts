// The pages the TikTok half of the mock implements, cited by tag next to each rule. TikTok's own
// developer reference (business-api.tiktok.com/portal/docs) is not in the corpus this was written
// from; where only third-party pages back a rule it says so, and the README lists what is unverified.
//
// [EAPI]  TikTok Events API 2.0 request sample, reproduced from TikTok's Events Manager setup
//         guide: `POST /open_api/v1.3/event/track/`, `Access-Token` and `Content-Type:
//         application/json` headers, `event_source: "web"`, `event_source_id` (pixel code),
//         `data[]` of `event`, `event_id` (string), `event_time` (number, Unix seconds), `user`
//         (`ttclid`, `external_id`, `phone`, `email` "must be hashed with SHA-256 on the client
//         side"; `ttp`; `ip` and `user_agent` "non-hashed"), `page.url`, `properties`
//         (`contents[].content_id/content_type/content_name`, `value` number, `currency` "the
//         4217 currency code"). https://cozyclimb.store
// [TEA]   Endpoint and version v1.3: Tealium's TikTok Events connector,
//         https://docs.tealium.com/server-side-connectors/tiktok-events-connector/
// [BATCH] Up to 1,000 events per request; one bad event fails the whole batch: Hightouch's TikTok
//         destination, https://hightouch.com/docs/destinations/tiktok
// [CODES] Business API codes 40001 (no permission), 40002 (parameters), 40007 (object does not
//         exist), 40100 (rate limit), 40105 (access token missing or incorrect): SleekFlow's TikTok
//         troubleshooting page, https://help.sleekflow.io/en_US/tiktok-business-messaging/troubleshooting-your-tiktok-business-messaging-channels
//         Other third-party pages disagree (adskull.io lists 40002 as "insufficient permission"
//         and 40100 as "invalid access token"); the mock follows [CODES], as
//         @capi-kit/tiktok's classifier does.
// [AGE]   "Events must have occurred within the previous 28 days": Amperity's TikTok Ads events
//         page, https://docs.amperity.com/operator/events_tiktok_ads.html (third-party; unverified).
// [TEST]  `test_event_code` routes events to Events Manager's Test Events: Commanders Act's TikTok
//         destination, https://doc.commandersact.com/features/destinations/destinations-catalog/tiktok/tiktok
// [LDU]   `limited_data_use` per event for GDPR/CCPA: Perspection's TikTok guide,
//         https://www.perspection.app/library/connect-tiktok-events-api-guide
export {};

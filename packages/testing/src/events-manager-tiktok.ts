// A TikTok event as the Events Manager page shows it: a copy marked `platform: 'tiktok'`, the
// Events API's (server) or the Pixel stub's (browser), with TikTok's `user` keys (names and hash
// prefixes, never values) and a summary of `properties`.
// capi-kit's match-quality estimate is Meta's (docs/destinations.md: it stays Meta's until another
// platform documents its weights), so a TikTok copy carries none (0, and null in its summary).
import {
  delayOf,
  type EventsManagerCopy,
  type EventsManagerMatchKey,
  summarizeCustomData,
  validTime,
} from './events-manager-copy.js';
import type {
  MockTikTokBrowserEvent,
  MockTikTokEvent,
  MockTikTokRejectedEvent,
} from './tiktok/recorder.js';

const HASHED: readonly string[] = ['email', 'phone', 'external_id'];
const SHA256_HEX = /^[0-9a-f]{64}$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const userKeys = (user: unknown): EventsManagerMatchKey[] => {
  if (!isRecord(user)) return [];
  const keys: EventsManagerMatchKey[] = [];
  for (const [key, value] of Object.entries(user)) {
    if (value === undefined || value === null || value === '') continue;
    if (!HASHED.includes(key)) keys.push({ key });
    else if (typeof value === 'string' && SHA256_HEX.test(value)) {
      keys.push({ key, hashPrefix: value.slice(0, 8) });
    } else keys.push({ key, notHashed: true });
  }
  return keys;
};

const common = (event: Record<string, unknown>, receivedAt: number) => {
  const eventTime = validTime(event.event_time);
  return {
    source: 'server' as const,
    platform: 'tiktok' as const,
    receivedAt,
    eventTime,
    delaySeconds: delayOf(receivedAt, eventTime),
    // TikTok's `event_source` of every request the mock accepts.
    actionSource: 'web',
    matchKeys: userKeys(event.user),
    matchQuality: 0,
    customData: summarizeCustomData(event.properties),
  };
};

/** An accepted TikTok event as the page shows it. */
export const tiktokServerCopy = (e: MockTikTokEvent): EventsManagerCopy => ({
  ...common(e.event, e.receivedAt),
  validation: { ok: true, warnings: [] },
  ...(e.testEventCode === undefined ? {} : { testEventCode: e.testEventCode }),
});

/** An event of a refused TikTok batch as the page shows it, with the rule it broke. */
export const tiktokRejectedCopy = (e: MockTikTokRejectedEvent): EventsManagerCopy => ({
  ...common(e.event, e.receivedAt),
  validation: {
    ok: false,
    field: e.invalidEvent.field,
    reason: e.invalidEvent.reason,
    message: e.message,
    isInvalidOne: e.isInvalidOne,
  },
});

/**
 * A browser event from the TikTok Pixel stub as the page shows it. Its one warning is the one that
 * stops the pairing: without `event_id` TikTok cannot deduplicate it against the Events API copy
 * (https://ads.tiktok.com/help/article/event-deduplication).
 */
export const tiktokBrowserCopy = (e: MockTikTokBrowserEvent): EventsManagerCopy => ({
  source: 'browser',
  platform: 'tiktok',
  receivedAt: e.receivedAt,
  eventTime: e.event_time,
  delaySeconds: delayOf(e.receivedAt, e.event_time),
  actionSource: 'web',
  matchKeys: e.matchKeys.map((key) => ({ key })),
  matchQuality: 0,
  customData: summarizeCustomData(e.properties),
  validation: {
    ok: true,
    warnings: e.event_id === undefined ? ['no event_id: TikTok cannot deduplicate it'] : [],
  },
});

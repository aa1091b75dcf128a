import * as tiktok from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';

describe('@capi-kit/tiktok public exports', () => {
  it('are exactly these (a change here is an API change: add a changeset)', () => {
    expect(Object.keys(tiktok).sort()).toEqual([
      'TIKTOK_EVENTS_URL',
      'TIKTOK_EVENT_NAMES',
      'TIKTOK_MAX_EVENTS_PER_REQUEST',
      'TIKTOK_THROTTLE_CODE',
      'TTCLID_COOKIE_MAX_AGE',
      'TTCLID_PARAM',
      'TTP_COOKIE',
      'classifyTikTokResponse',
      'cookieFromHeader',
      'isTikTokIdValue',
      'normalizeTikTokUser',
      'parseTikTokBody',
      'readTikTokContext',
      'tiktok',
      'tiktokEnvelope',
      'tiktokEventName',
      'tiktokRequest',
      'toTikTokEvent',
      'toTikTokProperties',
    ]);
  });
});

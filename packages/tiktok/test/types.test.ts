import type { Issue, ResponseClass } from '@capi-kit/core';
import {
  classifyTikTokResponse,
  type TikTokEvent,
  type TikTokUser,
  toTikTokEvent,
} from '@capi-kit/tiktok';
import { describe, expectTypeOf, it } from 'vitest';

describe('types users rely on', () => {
  it('toTikTokEvent takes the Meta-named input track() takes', () => {
    const result = toTikTokEvent({ event_name: 'Lead' }, { eventId: 'e' });
    expectTypeOf(result.event).toEqualTypeOf<TikTokEvent | undefined>();
    expectTypeOf(result.issues).toEqualTypeOf<Issue[]>();
    // @ts-expect-error a Purchase needs value and currency, as in track()
    toTikTokEvent({ event_name: 'Purchase', custom_data: {} }, { eventId: 'e' });
    // A custom event takes any custom_data.
    toTikTokEvent({ event_name: 'MyEvent', custom_data: {} }, { eventId: 'e' });
  });

  it('the verdict uses the core’s response classes', () => {
    expectTypeOf(classifyTikTokResponse({ status: 200 }).class).toEqualTypeOf<ResponseClass>();
  });

  it('user keys are TikTok’s', () => {
    expectTypeOf<keyof TikTokUser>().toEqualTypeOf<
      'email' | 'phone' | 'external_id' | 'ttclid' | 'ttp' | 'ip' | 'user_agent'
    >();
  });
});

/**
 * Checks: a destination beside Meta (`createCapi`'s `destinations`, e.g. `tiktok()` from
 * `@capi-kit/tiktok`) gets what it declares from the request through the adapter, with no adapter
 * code for it: its click ID kept in a first-party cookie on a landing, its cookies read on later
 * requests, and each tracked event with the one `event_id` Meta gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KitApp } from './driver.js';
import {
  ACCESS_TOKEN,
  cookieNames,
  type Kit,
  KNOWN_FBP,
  NAVIGATION,
  PIXEL_ID,
  resultOf,
  send,
} from './kit.js';

/** The pixel the kit's destination sends to, on the same mock (a second dataset of the Graph API). */
export const KIT_DESTINATION_PIXEL = '5550001112';
/** The query parameter the kit's destination captures and keeps in a cookie of the same name. */
export const KIT_CLICK_PARAM = 'kitclid';
/** The browser-ID cookie the kit's destination reads (as TikTok reads `_ttp`). */
export const KIT_BROWSER_COOKIE = '_kitp';
const MAX_AGE = 7_776_000;

/**
 * A made-up platform, written against the core's `Destination` contract (structurally: the kit has
 * no runtime dependency on the core): it declares TikTok-like request needs and posts Meta-shaped
 * events to a second pixel of the mock Graph API, which validates them strictly. What it captured
 * travels in `custom_data`, where the checks can read it.
 */
function kitDestination(mockUrl: string) {
  return {
    name: 'kit',
    id: KIT_DESTINATION_PIXEL,
    label: 'Kit platform',
    context: {
      cookies: [KIT_BROWSER_COOKIE],
      persist: [{ param: KIT_CLICK_PARAM, cookie: KIT_CLICK_PARAM, maxAgeSeconds: MAX_AGE }],
    },
    build(
      input: Record<string, unknown>,
      context: { eventId: string; captured?: Readonly<Record<string, string>>; now: () => number },
    ) {
      const eventName = String(input.event_name);
      const eventTime = Math.floor(context.now() / 1000);
      const given = (input.user_data ?? {}) as Record<string, unknown>;
      const user_data: Record<string, unknown> = {};
      // The request's match keys (the mock refuses an event with the user agent alone).
      for (const key of ['client_ip_address', 'client_user_agent', 'fbp', 'fbc'] as const) {
        if (typeof given[key] === 'string') user_data[key] = given[key];
      }
      const custom_data: Record<string, string> = {};
      const click = context.captured?.[KIT_CLICK_PARAM];
      const browser = context.captured?.[KIT_BROWSER_COOKIE];
      if (click !== undefined) custom_data.kit_click = click;
      if (browser !== undefined) custom_data.kit_browser = browser;
      const event = {
        event_name: eventName,
        event_time: eventTime,
        event_id: context.eventId,
        action_source: 'website',
        event_source_url: input.event_source_url,
        user_data,
        custom_data,
      };
      return { event, issues: [], eventName, eventTime, actionSource: 'website' };
    },
    envelope() {
      return {
        url: `${mockUrl}/v26.0/${KIT_DESTINATION_PIXEL}/events`,
        prefix: '{"data":[',
        suffix: `],"access_token":${JSON.stringify(ACCESS_TOKEN)}}`,
        secrets: [ACCESS_TOKEN],
      };
    },
    limits: { maxEvents: 100, maxBytes: 1_000_000 },
    classify: (answer: { status: number }) => ({
      class: answer.status === 200 ? 'success' : answer.status === 400 ? 'invalid' : 'transient',
    }),
    acknowledgement: (body: unknown) => {
      const received = (body as { events_received?: unknown } | null)?.events_received;
      return typeof received === 'number' ? { received } : {};
    },
  };
}

export function describeDestinations(kit: Kit): void {
  describe('destinations beside Meta', () => {
    let app: KitApp;
    beforeAll(async () => {
      app = await kit.start({ destinations: [kitDestination(kit.mock.url)] });
    });
    afterAll(() => app?.close());

    it("keeps a destination's click ID in its first-party cookie on a landing, beside _fbp/_fbc", async () => {
      const res = await send(app, `/kit/call?fbclid=IwAR0abc&${KIT_CLICK_PARAM}=Click-42_x`, {
        headers: NAVIGATION,
      });
      expect(res.status).toBe(200);
      expect(cookieNames(res).sort()).toEqual(['_fbc', '_fbp', KIT_CLICK_PARAM].sort());
      expect(res.headers.getSetCookie().filter((c) => c.startsWith(`${KIT_CLICK_PARAM}=`))).toEqual(
        [`${KIT_CLICK_PARAM}=Click-42_x; Max-Age=${MAX_AGE}; Path=/; SameSite=Lax`],
      );
      // A later sub-request of the same visitor changes nothing.
      const later = await send(app, '/kit/call', {
        method: 'POST',
        headers: { cookie: `_fbp=${KNOWN_FBP}; ${KIT_CLICK_PARAM}=Click-42_x` },
      });
      expect(later.headers.getSetCookie()).toEqual([]);
    });

    it('sends each tracked event to Meta and to the destination with one event_id and its captures', async () => {
      const res = await send(app, '/kit/call', {
        method: 'POST',
        headers: {
          cookie: `_fbp=${KNOWN_FBP}; ${KIT_CLICK_PARAM}=Click-42_x; ${KIT_BROWSER_COOKIE}=B.7`,
        },
        call: { track: ['Lead', {}] },
      });
      const result = await resultOf(res);
      expect(result.accepted).toBe(true);
      await app.client.flush();
      const meta = kit.mock.events({ pixelId: PIXEL_ID, event_name: 'Lead' });
      const other = kit.mock.events({ pixelId: KIT_DESTINATION_PIXEL, event_name: 'Lead' });
      expect(meta.map((e) => e.event.event_id)).toEqual([result.event_id]);
      expect(other.map((e) => e.event.event_id)).toEqual([result.event_id]);
      expect(other[0]?.event.custom_data).toEqual({ kit_click: 'Click-42_x', kit_browser: 'B.7' });
      expect(kit.mock.rejections()).toEqual([]);
    });

    it('writes no destination cookie with cookies: false, and still reads what the browser sent', async () => {
      const off = await kit.start({ destinations: [kitDestination(kit.mock.url)], cookies: false });
      try {
        const res = await send(off, `/kit/call?${KIT_CLICK_PARAM}=Click-9`, {
          headers: { ...NAVIGATION, cookie: `_fbp=${KNOWN_FBP}; ${KIT_BROWSER_COOKIE}=B.9` },
          call: { track: ['ViewContent', {}] },
        });
        expect(res.headers.getSetCookie()).toEqual([]);
        await off.client.flush();
        const other = kit.mock.events({
          pixelId: KIT_DESTINATION_PIXEL,
          event_name: 'ViewContent',
        });
        expect(other[0]?.event.custom_data).toEqual({ kit_click: 'Click-9', kit_browser: 'B.9' });
      } finally {
        await off.close();
      }
    });
  });
}

import { type CapiClient, createCapi, type ServerEventInput } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { tiktok } from '@capi-kit/tiktok';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accounted } from './platforms.js';
import { SHA256 } from './vectors.js';

// One client, Meta and TikTok, against @capi-kit/testing's strict mocks of both over loopback:
// inputs a Meta user writes (or Meta's own tooling hands them) reach TikTok in TikTok's form, and
// what TikTok cannot take is refused for TikTok the way Meta refuses it, never sent to fail a batch
// or to go out with less protection than the caller asked for.

const PIXEL = '1234567890';
const META_TOKEN = 'EAAmeta-strict-token';
const CODE = 'C4STRICTMOCK';
const STREAM = `tiktok:${CODE}`;
const TIKTOK_TOKEN = 'tt-strict-token-9c1e';

let mock: MockGraph;
let clients: CapiClient[] = [];
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: META_TOKEN, tiktokAccessToken: TIKTOK_TOKEN });
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close({ timeoutMs: 500 })));
  clients = [];
  mock.reset();
});
afterAll(() => mock.close());

const client = (): CapiClient => {
  const c = createCapi({
    pixelId: PIXEL,
    accessToken: META_TOKEN,
    graphUrl: mock.url,
    destinations: [tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: mock.tiktok.url })],
    flushIntervalMs: 5,
    retry: { baseDelayMs: 10, maxDelayMs: 20 },
    logger: false,
    env: false,
  });
  clients.push(c);
  return c;
};

const lead = (user_data: ServerEventInput['user_data'], extra: Partial<ServerEventInput> = {}) =>
  ({
    event_name: 'Lead',
    action_source: 'website',
    event_source_url: 'https://shop.example/form',
    user_data: { client_user_agent: 'Mozilla/5.0 test', ...user_data },
    ...extra,
  }) as ServerEventInput;

const tiktokEvent = (id: string) => mock.tiktok.events().find((e) => e.event.event_id === id);

describe('Meta Parameter Builder output', () => {
  it("an IP with the builder's appendix reaches TikTok as the bare address, in the batch it came with", async () => {
    const capi = client();
    const withAppendix = capi.track(
      lead({ em: 'jane@example.com', client_ip_address: '203.0.113.7.AQYBAQIA' }),
    );
    const others = [
      capi.track(lead({ em: 'a@example.com', client_ip_address: '203.0.113.8' })),
      capi.track(lead({ em: 'b@example.com', client_ip_address: '2001:db8::1.AQYBAQIA' })),
    ];
    await capi.drain({ timeoutMs: 5000 });
    // Meta takes the builder's output as is, as Meta documents.
    expect(mock.rejections()).toEqual([]);
    expect(mock.tiktok.rejections().map((r) => r.message)).toEqual([]);
    expect(tiktokEvent(withAppendix.event_id)?.event.user.ip).toBe('203.0.113.7');
    expect(tiktokEvent(others[1]?.event_id ?? '')?.event.user.ip).toBe('2001:db8::1');
    const stats = capi.stats().pixels[STREAM];
    expect(stats?.sent).toBe(3);
    expect(stats?.deadLettered).toBe(0);
    expect(accounted(stats)).toBe(3);
  });
});

describe('numeric identifiers', () => {
  it('a numeric external_id and phone reach TikTok hashed, as they reach Meta', async () => {
    const capi = client();
    const { event_id } = capi.track(
      lead({ external_id: 12345 as never, ph: 6505551212 as never, country: 'US' }),
    );
    await capi.drain({ timeoutMs: 5000 });
    const meta = mock.events().find((e) => e.event.event_id === event_id)?.event.user_data;
    expect(meta?.external_id).toEqual([SHA256['12345']]);
    expect(tiktokEvent(event_id)?.event.user).toMatchObject({
      external_id: SHA256['12345'],
      phone: SHA256['+16505551212'],
    });
  });
  it('numeric content_ids and order_id reach TikTok as strings, as they reach Meta', async () => {
    const capi = client();
    const { event_id } = capi.track(
      lead(
        { em: 'jane@example.com' },
        {
          event_name: 'Purchase',
          custom_data: {
            value: 25,
            currency: 'USD',
            order_id: 98765 as never,
            content_ids: [1077218, 1077219] as never,
          },
        },
      ),
    );
    await capi.drain({ timeoutMs: 5000 });
    const meta = mock.events().find((e) => e.event.event_id === event_id)?.event.custom_data;
    expect(meta).toMatchObject({ order_id: '98765', content_ids: ['1077218', '1077219'] });
    expect(tiktokEvent(event_id)?.event.properties).toEqual({
      contents: [{ content_id: '1077218' }, { content_id: '1077219' }],
      value: 25,
      currency: 'USD',
      order_id: '98765',
    });
  });
});

describe('Limited Data Use', () => {
  it('a data_processing_options Meta refuses is refused for TikTok too, never sent without limited_data_use', async () => {
    const capi = client();
    const mistyped = capi.track(
      lead({ em: 'jane@example.com' }, { data_processing_options: ['ldu'] as never }),
    );
    const limited = capi.track(
      lead(
        { em: 'jane@example.com' },
        {
          data_processing_options: ['LDU'],
          data_processing_options_country: 0,
          data_processing_options_state: 0,
        },
      ),
    );
    await capi.drain({ timeoutMs: 5000 });
    // Neither platform got the event whose consent setting cannot be read: one intake drop.
    expect(mistyped.accepted).toBe(false);
    expect(mistyped.destinations?.[STREAM]).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(tiktokEvent(mistyped.event_id)).toBeUndefined();
    expect(tiktokEvent(limited.event_id)?.event.limited_data_use).toBe(true);
    expect(mock.tiktok.events()).toHaveLength(1);
    expect(capi.stats().dropped.invalid).toBe(1);
    expect(accounted(capi.stats().pixels[STREAM])).toBe(1);
  });
});

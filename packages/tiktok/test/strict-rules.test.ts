import { toTikTokEvent } from '@capi-kit/tiktok';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateTikTokPayload } from '../../testing/src/tiktok/validate-request.js';

// Whatever a caller writes in Meta's names (values of the wrong type, numbers for ids, Meta's own
// tooling's formats), the TikTok event toTikTokEvent builds is one the strict TikTok mock of
// @capi-kit/testing accepts: TikTok fails a whole batch for one bad event ([BATCH]), so a value
// TikTok cannot take is left out (or the event refused), never sent. The mock's rules are written
// from TikTok's documentation, not from this package.

const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);

const samples = fc.constantFrom(
  '',
  ' ',
  'jane@example.com',
  '+1 650 555 1212',
  '(650) 555-1212',
  '203.0.113.7',
  '203.0.113.7.AQYBAQIA',
  '2001:db8::1.Zk',
  '::ffff:1.2.3.4',
  'https://shop.example/p?q=1',
  'https://user:pass@shop.example/',
  '/relative',
  'USD',
  'usd',
  'dollars',
  'product',
  'LDU',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  `${'A'.repeat(64)}.AQYBAQIA`,
);
const value = fc.oneof(
  samples,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.array(fc.oneof(samples, fc.integer(), fc.string()), { maxLength: 3 }),
);
const input = fc.record(
  {
    event_name: fc.oneof(fc.constantFrom('Purchase', 'Lead', ' Search ', 'Spin Wheel'), value),
    event_time: fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: NOW / 1000 - 6 * 86_400, max: NOW / 1000 + 400 }),
      fc.integer({ min: NOW - 6 * 86_400_000, max: NOW + 400_000 }),
      fc.date({ min: new Date(NOW - 6 * 86_400_000), max: new Date(NOW + 400_000) }),
      // Not a time at all; a time too old is the core's to drop (expiry), not the builder's.
      fc.oneof(samples, fc.boolean(), fc.constant(null), fc.constant(Number.NaN)),
    ),
    event_source_url: value,
    referrer_url: value,
    user_data: fc.record(
      {
        em: value,
        ph: value,
        external_id: value,
        client_ip_address: value,
        client_user_agent: fc.oneof(fc.constantFrom('Mozilla/5.0 (X11)', ''), fc.string()),
        country: value,
      },
      { requiredKeys: [] },
    ),
    custom_data: fc.record(
      {
        value,
        currency: value,
        order_id: value,
        content_ids: value,
        content_type: value,
        search_string: value,
        content_name: value,
        contents: fc.oneof(
          value,
          fc.array(
            fc.record(
              { id: value, quantity: value, item_price: value, title: value, brand: value },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
        ),
      },
      { requiredKeys: [] },
    ),
    data_processing_options: fc.oneof(fc.constant(['LDU']), fc.constant([]), value),
  },
  { requiredKeys: ['event_name'] },
);

describe('toTikTokEvent against the strict mock’s rules', () => {
  it('builds, for any Meta-named input, only events the strict TikTok mock accepts', () => {
    fc.assert(
      fc.property(input, (event) => {
        const built = toTikTokEvent(event as never, {
          eventId: 'evt-1',
          context: { ttclid: 'E.C.P.click', ttp: '2F7h37YkS1j57AYSKTI7IHhJPYH' },
          now: () => NOW,
        });
        if (built.event === undefined) return;
        const check = validateTikTokPayload(
          { event_source: 'web', event_source_id: 'C4RULES', data: [built.event] },
          { nowMs: NOW, maxFutureSeconds: 300 },
        );
        expect(check.ok ? 'accepted' : check.message).toBe('accepted');
      }),
      { numRuns: 3000 },
    );
  });
});

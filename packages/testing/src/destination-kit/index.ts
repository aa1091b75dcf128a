/**
 * `@capi-kit/testing/destination-kit`: what every capi-kit destination (an ad platform beside or
 * instead of Meta: `tiktok()` from `@capi-kit/tiktok`, Meta's own) must guarantee the core, written
 * once as vitest suites. The core trusts a destination to be pure and total: `build`, `classify`
 * and `acknowledgement` never throw, whatever the caller or the platform sends; the envelope keeps
 * its secret out of the URL; a built event carries the `event_id` the core fixed and never a raw
 * customer value. A package adding a platform runs this next to its own payload tests
 * (docs/destinations.md, "Adding a third platform").
 */
import { describe, expect, it } from 'vitest';

/** The part of `@capi-kit/core`'s `Destination` the kit checks (structural: no runtime dependency on the core). */
export interface KitDestination {
  readonly name: string;
  readonly id: string;
  build(
    input: never,
    context: {
      eventId: string;
      captured: Readonly<Record<string, string>> | undefined;
      now: () => number;
    },
  ): {
    event?: unknown;
    issues: readonly { path: string; code: string; message: string; severity: string }[];
    eventName?: string | undefined;
    eventTime?: number | undefined;
  };
  envelope(): {
    url: string;
    prefix: string;
    suffix: string;
    headers?: Readonly<Record<string, string>> | undefined;
    secrets?: readonly (string | undefined)[] | undefined;
  };
  readonly limits: { maxEvents: number; maxBytes: number };
  classify(
    answer: { status: number; headers: Headers; body: unknown },
    eventsSent: number,
    nowMs: number,
  ): { class: string; retryAfterMs?: number | undefined; rejectedIndex?: number | undefined };
  acknowledgement(body: unknown): { received?: number | undefined; traceId?: string | undefined };
  readonly context?:
    | {
        readonly cookies?: readonly string[] | undefined;
        readonly queryParams?: readonly string[] | undefined;
        readonly persist?:
          | readonly { param: string; cookie: string; maxAgeSeconds: number }[]
          | undefined;
      }
    | undefined;
}

/** What {@link describeDestinationConformance} is given. */
export interface DestinationKitSubject {
  /** The suite's title, e.g. `tiktok()`. */
  name: string;
  /** A fresh destination, configured with {@link secrets}. */
  create(): KitDestination;
  /** The credentials given to `create` (tokens, keys): never in a URL, always in the envelope's `secrets` when sent. */
  secrets: readonly string[];
  /** Names of request captures the destination reads in `build` (its `context`), with a sample value each. */
  captures?: Readonly<Record<string, string>> | undefined;
}

// Customer values the core hands every destination raw (normalizing and hashing is the
// destination's job): none may reach the wire as written.
const RAW_EMAIL = 'Jane.Doe+kit@Example.com';
const RAW_PHONE = '+1 (650) 555-0142';
const RAW_EXTERNAL_ID = 'kit-user-4242';
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

/** A realistic event as `track()` hands it on: Meta's names, the request context merged. */
const REALISTIC = {
  event_name: 'Purchase',
  event_time: Math.floor(NOW / 1000) - 30,
  action_source: 'website',
  event_source_url: 'https://shop.example/checkout?step=3',
  referrer_url: 'https://shop.example/cart',
  user_data: {
    em: RAW_EMAIL,
    ph: RAW_PHONE,
    external_id: RAW_EXTERNAL_ID,
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-destination-kit/1.0',
    fbp: 'fb.1.1700000000000.123456789',
  },
  custom_data: {
    value: 42.5,
    currency: 'usd',
    content_type: 'product',
    contents: [{ id: 'SKU-1', quantity: 2, item_price: 21.25 }],
    order_id: 'order-77',
  },
};

// What a careless or hostile caller passes: wrong types everywhere, prototype keys, huge and odd
// strings. `track()` reads its input once, guarded, and hands plain data on; these are plain data.
const HUGE = 'x'.repeat(100_000);
const HOSTILE: readonly [string, unknown][] = [
  ['an empty object', {}],
  ['a name only', { event_name: 'Lead' }],
  ['a custom name', { event_name: 'Kit Custom Event ✓' }],
  ['a blank name', { event_name: '   ' }],
  ['a number as name', { event_name: 42 }],
  ['wrong types', { event_name: 'Lead', event_time: 'soon', user_data: 'x', custom_data: 7 }],
  [
    'user_data of wrong types',
    { event_name: 'Lead', user_data: { em: 5, ph: {}, external_id: [null] } },
  ],
  ['arrays of values', { event_name: 'Lead', user_data: { em: [RAW_EMAIL, ''], ph: [RAW_PHONE] } }],
  [
    'request fields of wrong types',
    {
      event_name: 'Lead',
      user_data: { client_ip_address: 203, client_user_agent: ['ua'], fbp: {} },
      data_processing_options: { LDU: true },
      event_source_url: 42,
    },
  ],
  ['nulls', { event_name: 'Lead', user_data: null, custom_data: null, event_source_url: null }],
  [
    'a __proto__ key',
    JSON.parse(
      '{"event_name":"Lead","__proto__":{"polluted":true},"custom_data":{"__proto__":{"x":1}}}',
    ),
  ],
  [
    'huge strings',
    {
      event_name: 'Lead',
      event_source_url: `https://shop.example/${HUGE}`,
      user_data: { em: `${HUGE}@example.com` },
    },
  ],
  [
    'contents of junk',
    {
      event_name: 'Purchase',
      custom_data: { contents: [null, 1, 'x', { id: {} }], value: Number.NaN, currency: '' },
    },
  ],
  ['a millisecond time', { event_name: 'Lead', event_time: NOW }],
  ['a future time', { event_name: 'Lead', event_time: Math.floor(NOW / 1000) + 86_400 }],
  ['a Date time', { event_name: 'Lead', event_time: new Date(NOW) }],
  ['a non-website source', { event_name: 'Lead', action_source: 'physical_store' }],
  [
    'LDU',
    {
      event_name: 'Lead',
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    },
  ],
];

// Answers a platform (or whatever stands between) may give: every status class, bodies of every
// shape, an HTML error page, headers with odd Retry-After values.
const STATUSES = [0, 200, 201, 204, 301, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504];
const BODIES: readonly unknown[] = [
  undefined,
  '',
  '<html><body>Bad gateway</body></html>',
  'not json {',
  null,
  {},
  [],
  42,
  { code: 'x', message: 7, data: 'y' },
  { error: { code: '190', message: null } },
  { code: 0, message: 'OK', data: {} },
  { events_received: '1' },
];
const RETRY_AFTER = [undefined, '0', '120', '-5', 'soon', 'Wed, 21 Oct 2099 07:28:00 GMT', '1e309'];
const CLASSES = ['success', 'transient', 'throttled', 'auth', 'invalid'];

/**
 * Declares the destination contract's checks (call it at the top level of a test file).
 * @example describeDestinationConformance({ name: 'tiktok()', create: () => tiktok({ pixelCode: 'C4KIT', accessToken: TOKEN }), secrets: [TOKEN] })
 */
export function describeDestinationConformance(subject: DestinationKitSubject): void {
  describe(`${subject.name}: destination conformance`, () => {
    const context = (eventId = 'kit-event-id-1') => ({
      eventId,
      captured: subject.captures,
      now: () => NOW,
    });
    const showsSecret = (text: string) => subject.secrets.some((s) => s !== '' && text.includes(s));

    it('has a stable name, an id and sane limits', () => {
      const d = subject.create();
      expect(d.name).toMatch(/^[a-z0-9_-]{1,32}$/);
      expect(typeof d.id === 'string' && d.id.trim() !== '').toBe(true);
      expect(Number.isInteger(d.limits.maxEvents) && d.limits.maxEvents >= 1).toBe(true);
      expect(d.limits.maxBytes >= 1024).toBe(true);
    });

    it('keeps its secrets out of the URL, lists every secret it sends, and wraps events in valid JSON', () => {
      const d = subject.create();
      const envelope = d.envelope();
      const url = new URL(envelope.url);
      expect(['https:', 'http:']).toContain(url.protocol);
      expect(showsSecret(envelope.url)).toBe(false);
      const sent = [
        envelope.prefix,
        envelope.suffix,
        ...Object.values(envelope.headers ?? {}),
      ].join('\n');
      for (const secret of subject.secrets) {
        if (sent.includes(secret)) expect(envelope.secrets ?? []).toContain(secret);
      }
      for (const events of ['{"a":1}', '{"a":1},{"b":[2]}']) {
        expect(() => JSON.parse(`${envelope.prefix}${events}${envelope.suffix}`)).not.toThrow();
      }
      // Asked again, the same envelope: the core computes it once and reuses it.
      expect(d.envelope()).toEqual(envelope);
    });

    it('builds a realistic event with the fixed event_id, its name and time, and no raw customer value', () => {
      const d = subject.create();
      const built = d.build(REALISTIC as never, context('kit-fixed-id-7'));
      expect(built.issues.filter((i) => i.severity === 'error')).toEqual([]);
      expect(built.event).toBeDefined();
      const wire = JSON.stringify(built.event);
      expect(wire).toContain('kit-fixed-id-7');
      for (const raw of [RAW_EMAIL, RAW_EMAIL.toLowerCase(), RAW_PHONE, RAW_EXTERNAL_ID]) {
        expect(wire.includes(raw)).toBe(false);
      }
      expect(showsSecret(wire)).toBe(false);
      expect(typeof built.eventName === 'string' && built.eventName !== '').toBe(true);
      expect(Number.isInteger(built.eventTime)).toBe(true);
      expect(Math.abs((built.eventTime as number) - NOW / 1000)).toBeLessThan(7 * 86_400);
    });

    it.each(HOSTILE)(
      'never throws on %s, and reports issues without customer values',
      (_label, input) => {
        const d = subject.create();
        const built = d.build(input as never, context());
        expect(Array.isArray(built.issues)).toBe(true);
        for (const issue of built.issues) {
          expect(typeof issue.path).toBe('string');
          expect(typeof issue.code).toBe('string');
          expect(['error', 'warning', 'info']).toContain(issue.severity);
          const said = `${issue.path} ${issue.message}`;
          for (const raw of [RAW_EMAIL, RAW_PHONE, RAW_EXTERNAL_ID, HUGE.slice(0, 100)]) {
            expect(said.includes(raw)).toBe(false);
          }
        }
        if (built.event !== undefined) {
          expect(() => JSON.stringify(built.event)).not.toThrow();
          expect(typeof built.eventName === 'string' && built.eventName !== '').toBe(true);
          expect(Number.isInteger(built.eventTime)).toBe(true);
        } else {
          expect(built.issues.some((i) => i.severity === 'error')).toBe(true);
        }
        expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
      },
    );

    it('classifies every answer into one of the five classes, never throwing', () => {
      const d = subject.create();
      for (const status of STATUSES) {
        for (const body of BODIES) {
          for (const retryAfter of RETRY_AFTER) {
            const headers = new Headers(
              retryAfter === undefined ? {} : { 'retry-after': retryAfter },
            );
            for (const eventsSent of [1, 3]) {
              const verdict = d.classify({ status, headers, body }, eventsSent, NOW);
              expect(CLASSES).toContain(verdict.class);
              if (verdict.retryAfterMs !== undefined) {
                expect(Number.isFinite(verdict.retryAfterMs) && verdict.retryAfterMs >= 0).toBe(
                  true,
                );
              }
              if (verdict.rejectedIndex !== undefined) {
                expect(Number.isInteger(verdict.rejectedIndex)).toBe(true);
                expect(verdict.rejectedIndex >= 0 && verdict.rejectedIndex < eventsSent).toBe(true);
              }
              if (status >= 500 || status === 0) expect(verdict.class).not.toBe('success');
            }
          }
        }
      }
    });

    it('reads an acknowledgement out of any body, never throwing', () => {
      const d = subject.create();
      for (const body of BODIES) {
        const ack = d.acknowledgement(body);
        if (ack.received !== undefined) expect(Number.isFinite(ack.received)).toBe(true);
        if (ack.traceId !== undefined) expect(typeof ack.traceId).toBe('string');
      }
    });

    it('declares request needs the core can serve safely (cookie-safe names, positive lifetimes)', () => {
      const needs = subject.create().context;
      const token = /^[A-Za-z0-9_.-]{1,64}$/;
      for (const name of [...(needs?.cookies ?? []), ...(needs?.queryParams ?? [])]) {
        expect(name).toMatch(token);
      }
      for (const kept of needs?.persist ?? []) {
        expect(kept.param).toMatch(token);
        expect(kept.cookie).toMatch(token);
        expect(Number.isInteger(kept.maxAgeSeconds) && kept.maxAgeSeconds > 0).toBe(true);
        // Browsers cap cookie lifetimes at 400 days (RFC 6265bis).
        expect(kept.maxAgeSeconds).toBeLessThanOrEqual(400 * 86_400);
      }
    });
  });
}

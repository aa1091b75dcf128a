import { describe, expect, it } from 'vitest';
import { HIDDEN_PERSONAL, reportedEventName } from '../../src/delivery/redact.js';
import { graphError, PIXEL, setupClient } from './helpers.js';

// An event name is the developer's, but may be anything: an app that tracks the customer's email
// as the event name (a template slip, `track(user.email, …)`) must not see it come back out of
// the hooks, the log fields or client.diagnostics(), which go to error trackers and dashboards.
// The development warnings already hid it (feedback.ts); every other report showed it as is.

const EMAIL = 'jane.doe@example.com';
const PHONE = '14155550123';

describe('an event name that looks like customer information', () => {
  it('is hidden in dropped, deadLetter and diagnostics, like the warnings hide it', async () => {
    // Meta refuses the one event: dead-lettered (rejected), with its name in the hook.
    const { client, hooks, log, track, clock } = setupClient(() =>
      graphError(400, 100, { error_subcode: 2804008, message: 'Invalid parameter' }),
    );
    // Accepted (a custom event name), then refused by Meta: the deadLetter hook names it.
    track(1, { event_name: EMAIL });
    // Refused at intake (no currency, no value): the dropped hook names it.
    client.track({ event_name: `Lead ${PHONE}`, custom_data: { value: 'x' } } as never);
    const diagnostics = JSON.stringify(client.diagnostics());
    await clock.advance(60_000);
    await client.close();

    const reported = JSON.stringify({
      dropped: hooks.dropped,
      deadLetter: hooks.deadLetter,
      error: hooks.error,
      retry: hooks.retry,
      logFields: log.lines.map((l) => l.obj),
    });
    // The events were reported at all (the check below is not vacuous).
    expect(hooks.dropped.length + hooks.deadLetter.length).toBeGreaterThanOrEqual(2);
    expect(diagnostics).toContain(PIXEL);
    expect(reported).toContain('<hidden: looks like customer information>');
    expect(diagnostics).toContain('<hidden: looks like customer information>');
    for (const text of [reported, diagnostics]) {
      expect(text).not.toContain('jane.doe');
      expect(text).not.toContain(PHONE);
    }
  });

  it('keeps ordinary names, digits and all', async () => {
    const { client, hooks } = setupClient();
    client.track({ event_name: 'Lead', custom_data: { value: 'x' } } as never);
    client.track({ event_name: 'Purchase2026', custom_data: { value: 'x' } } as never);
    await client.close();
    expect(hooks.dropped.flatMap((d) => d.events.map((e) => e.eventName))).toEqual([
      'Lead',
      'Purchase2026',
    ]);
  });
});

// A phone number is written with separators more often than without: as the event name it is the
// customer's all the same. Dates and versions have separated digits too, and are names an app
// means (a campaign's day, a release): they stay.
describe('an event name holding a phone number written with separators', () => {
  it.each([
    '+1 (555) 010-2345',
    '555-010-2345',
    '(555) 010-2345',
    '(555)010-2345',
    '555 010 2345',
    '555.010.2345',
    '+44 20 7946 0958',
    '+33 1 23 45 67 89',
    'Lead 555-010-2345',
  ])('%s is hidden', (name) => {
    expect(reportedEventName(name)).toBe(HIDDEN_PERSONAL);
  });

  it.each([
    '2026-12-07',
    'Sale 2026-12-07',
    'Sale (2026-12-07)',
    '07-12-2026',
    '12/07/2026',
    '2026-12-07 10:30:00',
    '2026-12-07T10:30:00Z',
    '2026.12.07',
    'Checkout v1.2.3',
    'Release 10.0.19045',
    '192.168.100.200',
    'Purchase2026',
    'Step 1-2',
  ])('%s is kept', (name) => {
    expect(reportedEventName(name)).toBe(name);
  });
});

// An issue's path names the caller's own keys (`custom_data.<key>`, an unknown top-level key, the
// key on the way to a throwing getter): a key that is an email is the customer's, and Issue
// promises the path names a field, never PII. The warnings hid it; the result, the `error` hook and
// CapiValidationError's message (strict mode's throw, an error tracker's title) showed it.
describe('an issue path through a key that looks like customer information', () => {
  const base = {
    event_name: 'Lead',
    action_source: 'website',
    event_source_url: 'https://shop.example/',
    user_data: { external_id: 'u1', client_user_agent: 'UA/1.0' },
  };

  it('is hidden in the result, the error hook and the error message', async () => {
    const { client, hooks, log } = setupClient();
    const results = [
      // A custom parameter that cannot be sent, under an email key: rejected.
      client.track({ ...base, custom_data: { [EMAIL]: () => 1 } } as never),
      // An unknown top-level key: a warning on an accepted event.
      client.track({ ...base, [`+${PHONE}`]: 1 } as never),
      // A getter that throws, reached through an email key: rejected (unreadable_value).
      client.track({
        ...base,
        custom_data: {
          [EMAIL]: {
            get x() {
              throw new Error('nope');
            },
          },
        },
      } as never),
    ];
    await client.close();
    expect(results.map((r) => r.issues.length > 0)).toEqual([true, true, true]);
    expect(hooks.error.length).toBeGreaterThanOrEqual(2);
    const reported = JSON.stringify({
      results,
      errors: hooks.error.map((e) => ({ ...e, message: e.error.message })),
      logs: log.lines,
    });
    expect(reported).toContain('custom_data.<hidden: looks like customer information>');
    expect(reported).not.toContain('jane.doe');
    expect(reported).not.toContain(PHONE);
  });

  it('is hidden in the CapiValidationError strict mode throws', async () => {
    const { client } = setupClient(undefined, { strict: true });
    let thrown: unknown;
    try {
      client.track({ ...base, custom_data: { [EMAIL]: Symbol('x') } } as never);
    } catch (error) {
      thrown = error;
    }
    await client.close();
    expect(thrown).toBeInstanceOf(Error);
    const error = thrown as Error & { issues: { path: string }[] };
    expect(error.message).toContain('custom_data.<hidden: looks like customer information>');
    expect(`${error.message} ${JSON.stringify(error.issues)}`).not.toContain('jane.doe');
  });

  it('keeps ordinary keys as they are', () => {
    const { client } = setupClient();
    const result = client.track({ ...base, custom_data: { order_ref: () => 1 } } as never);
    expect(result.issues.map((i) => i.path)).toEqual(['custom_data.order_ref']);
  });
});

// Meta (or a proxy, or another platform) may quote the request in its error: the page URL with
// the customer's email in its query, the IP, the user agent, a hashed email. Its message goes to
// the deadLetter and retry hooks, CapiDeliveryError.graphError and the log lines: the values the
// batch carried are hidden there like the token is.
describe('an error message that quotes the events sent', () => {
  const PAGE = `https://shop.example/checkout?email=${encodeURIComponent(EMAIL)}&step=2`;
  const IP = '203.0.113.77';
  const UA = 'Mozilla/5.0 (X11; Linux x86_64) QuotedAgent/9.9';

  it('is reported without them, its explanation kept', async () => {
    let quoted = '';
    const { client, hooks, log } = setupClient((req) => {
      const event = req.body.data[0] as unknown as {
        event_source_url: string;
        user_data: { client_ip_address: string; client_user_agent: string; em: string[] };
      };
      quoted = event.user_data.em[0] as string;
      return graphError(400, 100, {
        error_subcode: 2804019,
        message: `Invalid parameter event_source_url '${event.event_source_url}'`,
        error_user_title: `IP ${event.user_data.client_ip_address} (${event.user_data.client_user_agent})`,
        error_user_msg: `em ${quoted} does not match; see $['data'][0]['user_data']`,
      });
    });
    client.track({
      event_name: 'Lead',
      action_source: 'website',
      event_source_url: PAGE,
      user_data: { em: EMAIL, client_ip_address: IP, client_user_agent: UA },
    });
    await client.close();

    expect(hooks.deadLetter).toHaveLength(1);
    const dead = hooks.deadLetter[0];
    const reported = JSON.stringify({
      message: dead?.error.message,
      graphError: dead?.error.graphError,
      retry: hooks.retry,
      errors: hooks.error.map((e) => e.error.message),
      logs: log.lines,
    });
    expect(quoted).toMatch(/^[0-9a-f]{64}$/);
    for (const value of [PAGE, encodeURIComponent(EMAIL), EMAIL, IP, UA, quoted]) {
      expect(reported).not.toContain(value);
    }
    // What Meta said, the field it blamed, is still there.
    expect(dead?.error.message).toContain('Invalid parameter event_source_url');
    expect(dead?.error.graphError?.userMessage).toContain("$['data'][0]['user_data']");
  });
});

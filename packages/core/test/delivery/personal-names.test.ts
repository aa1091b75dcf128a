import { describe, expect, it } from 'vitest';
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

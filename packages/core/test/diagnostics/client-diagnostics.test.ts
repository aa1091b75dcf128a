import { describe, expect, it } from 'vitest';
import {
  type CapiOptions,
  createDiagnosticsRecorder,
  diagnosticsToOtel,
  type OtelBatchObserverLike,
  type OtelMeterLike,
} from '../../src/index.js';
import { PIXEL, PIXEL_2, purchase, setupClient, TOKEN } from '../delivery/helpers.js';

const setup = (options: Partial<CapiOptions> = {}) => {
  const kit = setupClient(undefined, options);
  // The tests play the relay with `track(…, { source: 'relay' })`; createRelay says so itself.
  kit.client.attachRelay();
  return { ...kit, warnings: kit.hooks.warn };
};

/** A website Lead with only an email and a user agent: estimate 3.5, no caller event_id. */
const poorLead = (nowMs: number) => ({
  event_name: 'Lead' as const,
  event_time: Math.floor(nowMs / 1000),
  event_source_url: 'https://shop.example.com/signup',
  user_data: { em: 'jane@example.com', client_user_agent: 'Mozilla/5.0' },
});

describe('client.diagnostics()', () => {
  it('reports exact figures for scripted traffic, freshness from acknowledgements', async () => {
    const { clock, client } = setup({ diagnostics: { windowMs: 600_000 } });
    const now = clock.now();
    // Purchase: em, ph, ip + ua, fbp = 7.25; given event_id; sent 30 s after it happened.
    for (let i = 0; i < 3; i++) {
      client.track(purchase(i, now, { event_time: Math.floor(now / 1000) - 30 }));
    }
    // One relayed browser copy of evt-0 and one browser-only purchase (ids supplied).
    client.track(purchase(0, now), { source: 'relay' });
    client.track(purchase(9, now, { event_time: Math.floor(now / 1000) - 600 }), {
      source: 'relay',
    });
    client.track(poorLead(now));
    await client.flush();

    const report = client.diagnostics();
    expect(report.enabled).toBe(true);
    expect(report.windowMs).toBe(600_000);
    const p = report.pixels[PIXEL];
    const purchases = p?.events.Purchase;
    expect(purchases?.events).toBe(5);
    expect(purchases?.matchQuality).toBe(7.3); // 7.25 rounded to one decimal
    expect(purchases?.matchKeyCoverage).toMatchObject({
      em: 100,
      ph: 100,
      client_ip_address: 100,
      client_user_agent: 100,
      fbp: 100,
      fbc: 0,
      external_id: 0,
    });
    expect(purchases?.dedupKeyCoverage).toBe(100);
    expect(purchases?.sources).toEqual({ server: 3, relay: 2 });
    expect(purchases?.overlapping).toBe(1);
    expect(purchases?.overlap).toBe(50); // 1 of the 2 relayed ids also came from the server
    // Delays: 30, 30, 30, 0, 600 → p50 30 s, p95 600 s.
    expect(purchases?.freshness).toEqual({ acknowledged: 5, p50Seconds: 30, p95Seconds: 600 });

    const lead = p?.events.Lead;
    expect(lead?.matchQuality).toBe(3.5);
    // Its id was generated and returned to the app; nothing shows whether the page used it.
    expect(lead?.generatedEventIds).toBe(1);
    expect(lead?.unconfirmedEventIds).toBe(1);
    expect(lead?.dedupKeyCoverage).toBeNull();
    expect(lead?.overlap).toBeNull();
    expect(p?.total.events).toBe(6);
    expect(p?.total.withEventId).toBe(5);
  });

  it("confirms a generated event_id the browser sends back through the relay (README's Lead)", () => {
    const { clock, client } = setup({ diagnostics: { windowMs: 60_000 } });
    const { event_id } = client.track(poorLead(clock.now())); // returned to the page
    expect(client.diagnostics().pixels[PIXEL]?.events.Lead?.dedupKeyCoverage).toBeNull();
    // The page fires its Pixel Lead with that eventID; the relay forwards the copy.
    const relayed = client.track(
      {
        ...poorLead(clock.now()),
        event_id,
        user_data: { client_user_agent: 'Mozilla/5.0', fbp: 'fb.1.1700000000000.42' },
      },
      { source: 'relay', pixelIds: [PIXEL] },
    );
    expect(relayed).toMatchObject({ event_id, accepted: true, issues: [] });
    expect(client.diagnostics().pixels[PIXEL]?.events.Lead).toMatchObject({
      generatedEventIds: 1,
      confirmedEventIds: 1,
      unconfirmedEventIds: 0,
      dedupKeyCoverage: 100,
      overlap: 100,
    });
  });

  it("scores website events only, as Meta's Event Match Quality (web events only)", async () => {
    const { clock, client, warnings } = setup({
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 5 } },
    });
    // Web purchases (7.25) beside store sales uploaded with an email and a phone (5.0).
    for (let i = 0; i < 5; i++) client.track(purchase(i, clock.now()));
    for (let i = 10; i < 15; i++) {
      client.track({
        event_name: 'Purchase',
        event_id: `store-${i}`,
        event_time: Math.floor(clock.now() / 1000),
        action_source: 'physical_store',
        user_data: { em: 'jane@example.com', ph: '+16505551212' },
        custom_data: { currency: 'USD', value: 20 },
      });
    }
    // Leads from a CRM: Meta gives them no match quality, and the estimate does not either.
    for (let i = 20; i < 25; i++) {
      client.track({
        event_name: 'Lead',
        event_id: `crm-${i}`,
        event_time: Math.floor(clock.now() / 1000),
        action_source: 'system_generated',
        user_data: { em: 'jane@example.com' },
      });
    }
    const events = client.diagnostics().pixels[PIXEL]?.events;
    expect(events?.Purchase).toMatchObject({ events: 10, matchQuality: 7.3 });
    expect(events?.Purchase?.matchKeyCoverage.client_ip_address).toBe(100);
    expect(events?.Lead).toMatchObject({ events: 5, matchQuality: null });
    expect(events?.Lead?.matchKeyCoverage.em).toBe(0);
    await clock.advance(5000);
    client.track(purchase(30, clock.now()));
    expect(warnings.map((w) => w.diagnostics?.figure)).toEqual([]);
    await client.close();
  });

  it('leaves an internal client_ip_address out of the estimate, and says once that events carry one, with what to set', async () => {
    const { clock, client, warnings } = setup({ diagnostics: { windowMs: 60_000 } });
    const behind = (ip: string) => ({
      user_data: { client_ip_address: ip, client_user_agent: 'Mozilla/5.0' },
      cookiesToSet: [],
      consent: 'granted' as const,
      isNavigation: false,
    });
    const { client_ip_address: _, ...noIp } = purchase(0, clock.now()).user_data;
    // The request's context carries a proxy's address: the app is behind one without trustProxy.
    for (let i = 0; i < 3; i++) {
      client.track(
        { ...purchase(i, clock.now()), user_data: noIp },
        { context: behind('10.1.2.3') },
      );
    }
    const purchases = client.diagnostics().pixels[PIXEL]?.events.Purchase;
    expect(purchases?.matchKeyCoverage.client_ip_address).toBe(0);
    expect(purchases?.matchQuality).toBe(6.3); // em, ph, fbp and the user agent alone: 6.25
    const told = warnings.filter((w) => w.message.includes('internal client_ip_address'));
    expect(told).toHaveLength(1);
    expect(told[0]?.message).toContain('trustProxy');
    expect(told[0]?.message).not.toContain('10.1.2.3');
    await client.close();
  });

  it('does not say it for a loopback address (local development), nor after the proxy warning said it', async () => {
    const { clock, client, warnings } = setup();
    const context = (ip: string) => ({
      user_data: { client_ip_address: ip },
      cookiesToSet: [],
      consent: 'granted' as const,
      isNavigation: false,
    });
    const { client_ip_address: _, ...noIp } = purchase(0, clock.now()).user_data;
    client.track(
      { ...purchase(1, clock.now()), user_data: noIp },
      { context: context('127.0.0.1') },
    );
    client.track({ ...purchase(2, clock.now()), user_data: noIp }, { context: context('::1') });
    expect(
      client.diagnostics().pixels[PIXEL]?.events.Purchase?.matchKeyCoverage.client_ip_address,
    ).toBe(0);
    expect(warnings.filter((w) => w.message.includes('internal client_ip_address'))).toEqual([]);
    client.reportProxyNotTrusted('x-forwarded-for');
    client.track(
      { ...purchase(3, clock.now()), user_data: noIp },
      { context: context('192.168.0.9') },
    );
    expect(warnings.filter((w) => w.message.includes('internal client_ip_address'))).toEqual([]);
    await client.close();
  });

  it('keeps the dedup accounting in stats()', () => {
    const { clock, client } = setup();
    client.track(purchase(1, clock.now()));
    client.track(purchase(2, clock.now()), { source: 'relay' });
    client.track(poorLead(clock.now()));
    client.track({ ...poorLead(clock.now()), user_data: {} }); // invalid: not counted
    expect(client.stats().dedup).toEqual({ server: 2, relay: 1, withEventId: 2 });
  });

  it('counts an event once per pixel it goes to', async () => {
    const { clock, client } = setup({
      pixelId: undefined,
      accessToken: undefined,
      pixels: [
        { pixelId: PIXEL, accessToken: TOKEN },
        { pixelId: PIXEL_2, accessToken: TOKEN },
      ],
    });
    client.track(purchase(1, clock.now()));
    await client.flush();
    const report = client.diagnostics();
    expect(report.pixels[PIXEL]?.total.events).toBe(1);
    expect(report.pixels[PIXEL_2]?.total.freshness.acknowledged).toBe(1);
    expect(client.stats().dedup.server).toBe(1);
  });

  it('counts a placeholder event_id (order-undefined) as not deduplicable, relay or not', async () => {
    const kit = setupClient(undefined, {
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 5 } },
    });
    const { clock, client } = kit;
    // `order-${order.id}` with no order: every Purchase shares one id, and Meta keeps the first.
    for (let i = 0; i < 5; i++) {
      client.track(purchase(i, clock.now(), { event_id: 'order-undefined' }));
    }
    client.track(purchase(9, clock.now())); // a real order id
    const purchases = client.diagnostics().pixels[PIXEL]?.events.Purchase;
    expect(purchases).toMatchObject({ withEventId: 1, unsharedEventIds: 5 });
    expect(purchases?.dedupKeyCoverage).toBe(16.7);
    await clock.advance(5000);
    client.track(purchase(10, clock.now())); // first event of a new bucket: the check runs
    expect(kit.hooks.warn.map((w) => w.diagnostics?.figure)).toContain('dedup_key_coverage');
    await client.close();
  });

  it('fires the warn hook once per window for each figure below its threshold', async () => {
    const { clock, client, warnings, log } = setup({
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 5 } },
    });
    for (let i = 0; i < 5; i++) client.track(poorLead(clock.now()));
    expect(warnings).toEqual([]);
    await clock.advance(5000);
    client.track(poorLead(clock.now())); // first event of a new bucket: the check runs
    // The generated event_ids are unknown, not bad: only the estimate warns.
    expect(warnings.map((w) => w.diagnostics?.figure)).toEqual(['match_quality']);
    expect(warnings[0]).toMatchObject({
      pixelId: PIXEL,
      diagnostics: { eventName: 'Lead', value: 3.5, threshold: 6, windowMs: 60_000 },
    });
    expect(warnings[0]?.message).toContain("not Meta's EMQ");
    expect(log.lines.filter((l) => l.level === 'warn' && l.obj.figure)).toHaveLength(1);

    for (let step = 0; step < 10; step++) {
      await clock.advance(5000);
      for (let i = 0; i < 5; i++) client.track(poorLead(clock.now()));
    }
    await clock.advance(5000);
    client.track(poorLead(clock.now()));
    expect(warnings).toHaveLength(1); // 55 s after the warnings: still the same window
    await clock.advance(5000);
    client.track(poorLead(clock.now()));
    expect(warnings).toHaveLength(2); // a window later, still poor: warned again
    await client.close();
  });

  it('warns about stale events (p95 freshness above an hour)', async () => {
    const { clock, client, warnings } = setup({
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 2 } },
    });
    const old = Math.floor(clock.now() / 1000) - 2 * 3600;
    client.track(purchase(1, clock.now(), { event_time: old }));
    client.track(purchase(2, clock.now(), { event_time: old }));
    await client.flush();
    await clock.advance(5000);
    client.track(purchase(3, clock.now()));
    expect(warnings.map((w) => [w.diagnostics?.figure, w.diagnostics?.value])).toEqual([
      ['freshness_p95', 7200],
    ]);
    await client.close();
  });

  it('leaves store sales (uploaded within 62 days, as Meta allows) out of freshness', async () => {
    const { clock, client, warnings } = setup({
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 2 } },
    });
    const now = () => Math.floor(clock.now() / 1000);
    client.track(purchase(1, clock.now(), { event_time: now() - 30 }));
    client.track(purchase(2, clock.now(), { event_time: now() - 30 }));
    // Yesterday's till receipts, uploaded today beside the web purchases.
    for (let i = 10; i < 13; i++) {
      client.track({
        event_name: 'Purchase',
        event_id: `till-${i}`,
        event_time: now() - 86_400,
        action_source: 'physical_store',
        user_data: { em: 'jane@example.com', ph: '+16505551212' },
        custom_data: { currency: 'USD', value: 20 },
      });
    }
    await client.flush();
    expect(client.diagnostics().pixels[PIXEL]?.events.Purchase?.freshness).toEqual({
      acknowledged: 2,
      p50Seconds: 30,
      p95Seconds: 30,
    });
    await clock.advance(5000);
    client.track(purchase(3, clock.now()));
    expect(warnings.map((w) => w.diagnostics?.figure)).toEqual([]);
    await client.close();
  });

  it('counts a pair in the overlap only while both its copies are in the window', async () => {
    // Buckets of 10 s. The server copies in one bucket, their relay copies in the next: once the
    // server copies leave the window, those ids are no longer "seen from both sources within the
    // window" (docs/diagnostics.md), and new server ids the relay never sent must read 0 %.
    const { clock, client } = setup({ diagnostics: { windowMs: 120_000 } });
    await clock.advance(10_000 - (clock.now() % 10_000) + 1);
    for (let i = 0; i < 4; i++) client.track(purchase(i, clock.now()));
    await clock.advance(10_000);
    for (let i = 0; i < 4; i++) client.track(purchase(i, clock.now()), { source: 'relay' });
    const paired = client.diagnostics().pixels[PIXEL]?.events.Purchase;
    expect([paired?.sources, paired?.overlapping, paired?.overlap]).toEqual([
      { server: 4, relay: 4 },
      4,
      100,
    ]);
    await clock.advance(110_000); // the server copies' bucket has left; the relay copies' has not
    for (let i = 10; i < 14; i++) client.track(purchase(i, clock.now()));
    const later = client.diagnostics().pixels[PIXEL]?.events.Purchase;
    expect([later?.sources, later?.overlapping, later?.overlap]).toEqual([
      { server: 4, relay: 4 },
      0,
      0,
    ]);
    await client.close();
  });

  it('warns about a low overlap only while the relay is in use', async () => {
    const { clock, client, warnings } = setup({
      diagnostics: { windowMs: 60_000, thresholds: { minEvents: 4 } },
    });
    for (let i = 0; i < 4; i++) client.track(purchase(i, clock.now()));
    await clock.advance(5000);
    client.track(purchase(10, clock.now()));
    expect(warnings).toEqual([]); // good figures, no relay: nothing to say
    for (let i = 20; i < 24; i++) client.track(purchase(i, clock.now()), { source: 'relay' });
    await clock.advance(5000);
    client.track(purchase(30, clock.now()));
    expect(warnings.map((w) => [w.diagnostics?.figure, w.diagnostics?.value])).toEqual([
      ['overlap', 0],
    ]);
    await client.close();
  });

  it('does nothing when disabled', async () => {
    const { clock, client, warnings } = setup({
      diagnostics: { enabled: false, thresholds: { minEvents: 1 } },
    });
    client.track(poorLead(clock.now()));
    await clock.advance(3_600_000);
    client.track(poorLead(clock.now()));
    const report = client.diagnostics();
    expect(report).toMatchObject({ enabled: false, windowMs: 3_600_000, pixels: {} });
    expect(warnings).toEqual([]);
    expect(client.stats().dedup.server).toBe(2);
  });

  it('does nothing when given `diagnostics: false` (as `logger: false`, `env: false`)', () => {
    // JavaScript callers write it; it used to leave diagnostics on without a word.
    const { clock, client } = setup({ diagnostics: false });
    client.track(poorLead(clock.now()));
    expect(client.diagnostics()).toMatchObject({ enabled: false, pixels: {} });
    const on = setup({ diagnostics: true });
    on.client.track(poorLead(on.clock.now()));
    expect(on.client.diagnostics().pixels[PIXEL]?.events.Lead?.events).toBe(1);
  });

  it('refuses a diagnostics option or an enabled flag of the wrong kind, naming it', () => {
    const given = (diagnostics: unknown) => () =>
      setup({ diagnostics: diagnostics as CapiOptions['diagnostics'] });
    expect(given('false')).toThrow(/diagnostics must be an object/);
    expect(given(0)).toThrow(/diagnostics must be an object/);
    expect(given({ enabled: 'false' })).toThrow(/diagnostics\.enabled must be a boolean/);
  });

  it('rejects invalid diagnostics options at creation', () => {
    expect(() => setup({ diagnostics: { windowMs: -1 } })).toThrow(RangeError);
  });
});

describe('diagnosticsToOtel', () => {
  const fakeMeter = () => {
    const gauges: { name: string; unit?: string }[] = [];
    const callbacks = new Set<(observer: OtelBatchObserverLike) => void>();
    const meter: OtelMeterLike = {
      createObservableGauge: (name, options) => {
        const gauge = { name, ...(options?.unit ? { unit: options.unit } : {}) };
        gauges.push(gauge);
        return gauge;
      },
      addBatchObservableCallback: (callback) => {
        callbacks.add(callback);
      },
      removeBatchObservableCallback: (callback) => {
        callbacks.delete(callback);
      },
    };
    const collect = () => {
      const points: { name: string; value: number; attributes?: Record<string, string> }[] = [];
      for (const callback of callbacks) {
        callback({
          observe: (observable, value, attributes) => {
            points.push({
              name: (observable as { name: string }).name,
              value,
              ...(attributes ? { attributes } : {}),
            });
          },
        });
      }
      return points;
    };
    return { meter, gauges, collect, callbacks };
  };

  it('publishes the figures as observable gauges and unregisters', async () => {
    const { clock, client } = setup();
    const { meter, gauges, collect, callbacks } = fakeMeter();
    const stop = diagnosticsToOtel(client, meter);
    expect(gauges.map((g) => g.name)).toContain('capi_kit.diagnostics.match_quality');
    expect(gauges.find((g) => g.name.endsWith('freshness.p95'))?.unit).toBe('s');
    expect(collect()).toEqual([]);

    client.track(purchase(1, clock.now(), { event_time: Math.floor(clock.now() / 1000) - 12 }));
    await client.flush();
    const points = collect();
    const attributes = { pixel_id: PIXEL, event_name: 'Purchase' };
    expect(points).toContainEqual({
      name: 'capi_kit.diagnostics.match_quality',
      value: 7.3,
      attributes,
    });
    expect(points).toContainEqual({
      name: 'capi_kit.diagnostics.match_key_coverage',
      value: 100,
      attributes: { ...attributes, match_key: 'em' },
    });
    expect(points).toContainEqual({
      name: 'capi_kit.diagnostics.freshness.p95',
      value: 12,
      attributes,
    });
    expect(points.some((p) => p.name.endsWith('.overlap'))).toBe(false); // no relay traffic
    expect(points).toContainEqual({
      name: 'capi_kit.diagnostics.dedup_key_unconfirmed',
      value: 0,
      attributes,
    });

    client.track(poorLead(clock.now())); // a generated event_id nobody confirmed
    const lead = { pixel_id: PIXEL, event_name: 'Lead' };
    const after = collect();
    expect(after).toContainEqual({
      name: 'capi_kit.diagnostics.dedup_key_unconfirmed',
      value: 1,
      attributes: lead,
    });
    expect(
      after.some(
        (p) => p.name.endsWith('.dedup_key_coverage') && p.attributes?.event_name === 'Lead',
      ),
    ).toBe(false); // unknown, so not observed
    stop();
    expect(callbacks.size).toBe(0);
  });

  it("observes no match-key coverage for another destination's stream (its keys are not Meta's)", () => {
    // A TikTok stream counts in every figure but the estimate and key coverage: the report has
    // null for the one and zeros for the other; a dashboard of email coverage read them as 0 %.
    const recorder = createDiagnosticsRecorder();
    const now = Date.UTC(2026, 8, 12, 10);
    const tiktok = 'tiktok:C4ABCDEF';
    recorder.recordEvent(
      {
        pixelIds: [tiktok],
        eventName: 'CompletePayment',
        eventId: 'o-1',
        userData: false,
        callerEventId: true,
        source: 'server',
      },
      now,
    );
    const { meter, collect } = fakeMeter();
    diagnosticsToOtel({ diagnostics: () => recorder.report(now) }, meter);
    const points = collect();
    expect(points).toContainEqual({
      name: 'capi_kit.diagnostics.events',
      value: 1,
      attributes: { pixel_id: tiktok, event_name: 'CompletePayment' },
    });
    expect(points.filter((p) => p.name.endsWith('.match_key_coverage'))).toEqual([]);
    expect(points.filter((p) => p.name.endsWith('.match_quality'))).toEqual([]);
  });
});

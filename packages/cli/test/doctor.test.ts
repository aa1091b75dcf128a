import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphEnv, PIXEL, runBin, TOKEN } from './helpers.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

type Check = { name: string; status: string; message: string };
const checks = (stdout: string): Record<string, Check> =>
  Object.fromEntries((JSON.parse(stdout).checks as Check[]).map((c) => [c.name, c]));

describe('capi-kit doctor', () => {
  it('passes on a healthy setup and shows Meta’s dataset quality', async () => {
    await runBin(['send-test', '--test-event-code', 'T'], graphEnv(mock.url));
    const result = await runBin(['doctor', '--json'], graphEnv(mock.url));
    expect(result.code).toBe(0);
    const c = checks(result.stdout);
    expect(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.status]))).toEqual({
      'access token': 'ok',
      pixel: 'ok',
      'API version': 'ok',
      clock: 'ok',
      'dataset quality': 'ok',
    });
    expect(c['access token']?.message).toContain('capi-kit mock system user');
    expect(c.pixel?.message).toContain('last event');
    expect(JSON.parse(result.stdout).datasetQuality).toEqual([
      { eventName: 'Purchase', emq: 10, eventIdServer: 100, freshness: 'real_time' },
    ]);
    // The token travels in a header, never in a URL.
    expect(
      mock
        .requests()
        .filter((r) => r.method === 'GET')
        .every((r) => r.tokenSources.join() === 'header'),
    ).toBe(true);
  });

  it('fails on a refused token (190) and skips what needs it', async () => {
    const result = await runBin(
      ['doctor'],
      graphEnv(mock.url, { META_ACCESS_TOKEN: 'EAAB-expired-0123456789' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✖ access token\s+invalid or expired: 190: /);
    expect(result.stdout).toMatch(/– pixel\s+skipped/);
    expect(result.stdout).toContain('1 failed');
    expect(result.stdout + result.stderr).not.toContain('EAAB-expired-0123456789');
  });

  it('warns about scripted low quality figures, and fails on them with --strict', async () => {
    mock.setDatasetQuality(PIXEL, [
      {
        event_name: 'Purchase',
        event_match_quality: { composite_score: 4.2 },
        event_coverage: { percentage: 30, goal_percentage: 75 },
        dedupe_key_feedback: [
          { dedupe_key: 'event_id', server_events_with_dedupe_key: { percentage: 40 } },
        ],
        data_freshness: { upload_frequency: 'hourly' },
      },
    ]);
    const result = await runBin(['doctor'], graphEnv(mock.url));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /⚠ dataset quality\s+1 event name: Purchase EMQ 4.2 < 6; Purchase event coverage 30% < 75%/,
    );
    expect(result.stdout).toMatch(
      /event\s+EMQ \(Meta\)\s+EMQ est\.\s+event_id \(Meta\)\s+event_id \(local\)\s+overlap \(local\)\s+coverage \(Meta\)\s+freshness \(Meta\)\n/,
    );
    expect(result.stdout).toMatch(/Purchase\s+4\.2\s+—\s+40%\s+—\s+—\s+30% \(goal 75%\)\s+hourly/);
    expect((await runBin(['doctor', '--strict'], graphEnv(mock.url))).code).toBe(1);
  });

  it("hides an event name of Meta's that looks like customer information, as the core does", async () => {
    // An app that once tracked user.email as the event name: Meta lists it among its event names.
    mock.setDatasetQuality(PIXEL, [
      { event_name: 'jane.doe@example.com', event_match_quality: { composite_score: 3.1 } },
      { event_name: 'Purchase', event_match_quality: { composite_score: 8 } },
    ]);
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const result = await runBin(args, graphEnv(mock.url));
      expect(result.stdout + result.stderr).not.toContain('jane.doe@example.com');
      expect(result.stdout).toContain('hidden: looks like customer information');
      expect(result.stdout).toContain('Purchase');
    }
  });

  it("hides a phone number with separators as Meta's event name, and keeps a dated one", async () => {
    mock.setDatasetQuality(PIXEL, [
      { event_name: '+1 (555) 010-2345', event_match_quality: { composite_score: 3.1 } },
      { event_name: 'Sale 2026-12-07', event_match_quality: { composite_score: 8 } },
    ]);
    const result = await runBin(['doctor', '--json'], graphEnv(mock.url));
    expect(result.stdout + result.stderr).not.toContain('010-2345');
    expect(result.stdout).toContain('hidden: looks like customer information');
    expect(result.stdout).toContain('Sale 2026-12-07');
  });

  it('puts local estimates from --local-events next to Meta’s figures', async () => {
    const file = join(tmpdir(), `capi-kit-doctor-${process.pid}.ndjson`);
    const t = Math.floor(Date.now() / 1000) - 60;
    const purchase = (id: string, user_data: object) => ({
      event_name: 'Purchase',
      event_id: id,
      event_time: t,
      event_source_url: 'https://shop.example/checkout',
      user_data: { client_user_agent: 'Mozilla/5.0', ...user_data },
      custom_data: { value: 5, currency: 'EUR' },
    });
    writeFileSync(
      file,
      [
        JSON.stringify(purchase('o-1', { em: 'a@example.com', client_ip_address: '2001:db8::1' })),
        JSON.stringify({
          event: purchase('o-1', { fbp: 'fb.1.1700000000000.42' }),
          source: 'relay',
        }),
        '{ not json',
        // No event_id: the id the doctor makes up for it is one no Pixel can have used.
        JSON.stringify({
          event_name: 'Lead',
          event_time: t,
          event_source_url: 'https://shop.example/signup',
          user_data: { em: 'b@example.com', client_user_agent: 'Mozilla/5.0' },
        }),
        // A placeholder id (`lead-${undefined}`): every such Lead shares it, so it is no key.
        JSON.stringify({
          event_name: 'Lead',
          event_id: 'lead-undefined',
          event_time: t,
          event_source_url: 'https://shop.example/signup',
          user_data: { em: 'c@example.com', client_user_agent: 'Mozilla/5.0' },
        }),
      ].join('\n'),
    );
    const result = await runBin(['doctor', '--json', '--local-events', file], graphEnv(mock.url));
    rmSync(file, { force: true });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.local.events).toBe(4);
    expect(json.local.invalidLines).toEqual([3]);
    // (4.5 + 1.25) / 2 = 2.875 → 2.9; both ids caller-supplied; one id from both sources.
    expect(json.local.figures.events.Purchase).toMatchObject({
      matchQuality: 2.9,
      dedupKeyCoverage: 100,
      sources: { server: 1, relay: 1 },
      overlap: 100,
    });
    expect(json.local.figures.events.Lead).toMatchObject({
      withEventId: 0,
      unsharedEventIds: 2,
      unconfirmedEventIds: 0,
      dedupKeyCoverage: 0,
    });
    const local = checks(result.stdout)['local events'];
    expect(local?.status).toBe('warn');
    expect(local?.message).toContain('Lead event_id coverage 0% < 70%');
  });

  it("estimates match quality from --local-events' web events only, as Meta's EMQ", async () => {
    const file = join(tmpdir(), `capi-kit-doctor-web-${process.pid}.ndjson`);
    const t = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(
      file,
      [
        {
          event_name: 'Purchase',
          event_id: 'o-1',
          event_time: t,
          event_source_url: 'https://shop.example/checkout',
          user_data: {
            em: 'a@example.com',
            client_ip_address: '2001:db8::1',
            client_user_agent: 'Mozilla/5.0',
          },
          custom_data: { value: 5, currency: 'EUR' },
        },
        {
          event_name: 'Purchase',
          event_id: 's-1',
          event_time: t,
          action_source: 'physical_store',
          user_data: { em: 'b@example.com', ph: '+16505551212' },
          custom_data: { value: 5, currency: 'EUR' },
        },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    const result = await runBin(['doctor', '--json', '--local-events', file], graphEnv(mock.url));
    rmSync(file, { force: true });
    expect(result.code).toBe(0);
    // The store sale (5.0) is not a web event: Meta's EMQ leaves it out, so does the estimate.
    expect(JSON.parse(result.stdout).local.figures.events.Purchase).toMatchObject({
      events: 2,
      matchQuality: 4.5,
    });
  });

  // Events whose client_ip_address is internal (a proxy's or the server's own) are left out of
  // the estimate's IP key, and nothing said so: the operator saw a lower estimate with no reason.
  it('says how many --local-events events carried an internal client IP, never the address', async () => {
    const file = join(tmpdir(), `capi-kit-doctor-ip-${process.pid}.ndjson`);
    const t = Math.floor(Date.now() / 1000) - 60;
    const lead = (event_id: string, client_ip_address: string) =>
      JSON.stringify({
        event_name: 'Lead',
        event_id,
        event_time: t,
        event_source_url: 'https://shop.example/signup',
        user_data: { em: 'b@example.com', client_user_agent: 'Mozilla/5.0', client_ip_address },
      });
    writeFileSync(
      file,
      [
        lead('l-1', '10.0.0.7'),
        lead('l-2', '192.168.1.20'),
        lead('l-3', 'fd12:3456:789a::1'),
        lead('l-4', '2001:db8::1'),
      ].join('\n'),
    );
    const result = await runBin(['doctor', '--json', '--local-events', file], graphEnv(mock.url));
    rmSync(file, { force: true });
    const local = checks(result.stdout)['local events'];
    expect(local?.status).toBe('warn');
    expect(local?.message).toMatch(
      /3 event\(s\) carried an internal client_ip_address .*left out of the estimate.*trustProxy/,
    );
    expect(result.stdout + result.stderr).not.toMatch(/10\.0\.0\.7|192\.168|fd12/);
  });

  it('reads a --local-events line whose event_time is in milliseconds, as track() does', async () => {
    const file = join(tmpdir(), `capi-kit-doctor-ms-${process.pid}.ndjson`);
    const lead = (event_id: string, event_time: number) =>
      JSON.stringify({
        event_name: 'Lead',
        event_id,
        event_time,
        event_source_url: 'https://shop.example/signup',
        user_data: { em: 'b@example.com', client_user_agent: 'Mozilla/5.0' },
      });
    const ms = Date.now() - 60_000;
    writeFileSync(file, [lead('l-1', ms), lead('l-2', Math.floor(ms / 1000))].join('\n'));
    const result = await runBin(['doctor', '--json', '--local-events', file], graphEnv(mock.url));
    rmSync(file, { force: true });
    const json = JSON.parse(result.stdout);
    expect(json.local.invalidLines).toEqual([]);
    expect(json.local.events).toBe(2);
    expect(json.local.figures.events.Lead).toMatchObject({ events: 2, withEventId: 2 });
  });

  it('fails a version past its end and a skewed clock', async () => {
    const skewed = await startMockGraph({
      accessToken: TOKEN,
      now: () => Date.now() - 10 * 60_000,
    });
    try {
      const result = await runBin(
        ['doctor', '--json', '--api-version', 'v20.0'],
        graphEnv(skewed.url),
      );
      expect(result.code).toBe(1);
      const c = checks(result.stdout);
      expect(c['API version']).toMatchObject({ status: 'fail' });
      expect(c.clock?.status).toBe('fail');
      // 10 min back, read through a 1 s-resolution Date header on a loaded machine: 599–6xx s.
      expect(c.clock?.message).toMatch(/local clock is (59\d|6\d\d) s ahead of Graph's/);
    } finally {
      await skewed.close();
    }
  });

  it('fails when --graph-url answers 200 but is not Graph (a web page, an app’s own JSON)', async () => {
    let body = '<!doctype html><html><body><h1>My shop</h1></body></html>';
    const site = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': body.startsWith('<') ? 'text/html' : 'application/json',
        });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    try {
      const page = await runBin(['doctor'], graphEnv(url));
      expect(page.code).toBe(1);
      expect(page.stdout).toMatch(
        /✖ access token\s+not checked: HTTP 200 that is not Graph's answer: <!doctype html>.*My shop.* \(check --graph-url \/ META_GRAPH_URL\)/,
      );
      expect(page.stdout).toMatch(/– pixel\s+skipped/);
      body = JSON.stringify({ status: 'ok' });
      const json = await runBin(['doctor', '--json'], graphEnv(url));
      expect(json.code).toBe(1);
      expect(checks(json.stdout)['access token']?.status).toBe('fail');
    } finally {
      await new Promise<void>((resolve) => site.close(() => resolve()));
    }
  });

  it('exits 3 when Graph cannot be reached, 2 when the configuration is missing', async () => {
    const offline = await runBin(['doctor'], graphEnv('http://127.0.0.1:9'));
    expect(offline.code).toBe(3);
    expect(offline.stderr).toContain('Could not reach http://127.0.0.1:9');
    const missing = await runBin(['doctor'], { META_GRAPH_URL: mock.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('META_PIXEL_ID');
  });
});

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCapi } from '../../src/delivery/client.js';
import { consoleLogger } from '../../src/delivery/console-logger.js';
import type { CapiOptions } from '../../src/delivery/types.js';
import { FakeClock, PIXEL, scriptedFetch, TOKEN } from './helpers.js';

// Issue 18 item 1: outside production every event capi-kit rejects, drops or changes is reported
// once, through the logger (the console by default), with the event, the field path, the rule and
// the fix, never the value; repeats are summarized; production reports only losses.

const EMAIL = 'jane.doe@example.com';
const PAGE = 'https://shop.example/checkout';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Test/1.0';

const consoleSpies = () => ({
  warn: vi.spyOn(console, 'warn').mockImplementation(() => {}),
  error: vi.spyOn(console, 'error').mockImplementation(() => {}),
  info: vi.spyOn(console, 'info').mockImplementation(() => {}),
  debug: vi.spyOn(console, 'debug').mockImplementation(() => {}),
});

const client = (nodeEnv: string | undefined, options: Partial<CapiOptions> = {}) => {
  const clock = new FakeClock();
  const { fetch } = scriptedFetch();
  const capi = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    fetch,
    clock,
    env: nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv },
    ...options,
  });
  return { capi, clock };
};

const lines = (spy: { mock: { calls: unknown[][] } }): string[] =>
  spy.mock.calls.map((call) => String(call[0]));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('development feedback, default logger (the console)', () => {
  it('names the event, path, rule and fix of a rejected Purchase, without any value', async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    const result = capi.track({
      event_name: 'Purchase',
      event_source_url: PAGE,
      user_data: { em: EMAIL, client_user_agent: UA },
      custom_data: { value: 1, curency: 'USD' },
    } as never);
    expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
    const [line, ...rest] = lines(spies.warn);
    expect(rest).toEqual([]);
    expect(line).toContain('capi-kit: Purchase not sent (invalid)');
    expect(line).toContain('custom_data.currency');
    expect(line).toContain('(missing_currency)');
    expect(line).toContain("fix: add custom_data.currency, an ISO 4217 code such as 'USD'");
    expect(line).toContain('custom_data.curency');
    expect(line).toContain('did you mean currency?');
    expect(line).not.toContain(EMAIL);
    expect(line).not.toContain('USD"');
    await capi.close();
  });

  it('reports an accepted event sent with changes, without the dropped value', async () => {
    const spies = consoleSpies();
    const { capi } = client(undefined);
    const result = capi.track({
      event_name: 'Lead',
      event_source_url: PAGE,
      user_data: { em: ['not-an-email', EMAIL], ph: '12', client_user_agent: UA },
    });
    expect(result.accepted).toBe(true);
    const [line, ...rest] = lines(spies.warn);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^capi-kit: Lead sent with changes: user_data\.em\[0\]: Not an email/);
    expect(line).toContain('(invalid_email)');
    expect(line).toContain('user_data.ph: Not a phone number');
    expect(line).not.toContain('not-an-email');
    expect(line).not.toContain(EMAIL);
    await capi.close();
  });

  it('asks "did you mean" once for a misspelled standard event, then only counts', async () => {
    const spies = consoleSpies();
    const { capi, clock } = client('test');
    const track = () =>
      capi.track({
        event_name: 'Purchse',
        event_source_url: PAGE,
        user_data: { em: EMAIL, client_user_agent: UA },
      });
    for (let i = 0; i < 50; i++) expect(track().accepted).toBe(true);
    expect(lines(spies.warn)).toEqual([
      expect.stringMatching(
        /^capi-kit: Purchse sent with changes: event_name: Not a standard event; did you mean Purchase\?/,
      ),
    ]);
    await clock.advance(60_000);
    expect(lines(spies.warn)[1]).toBe(
      'capi-kit: Purchse sent with changes 49 more times, for the same reason (reported above)',
    );
    for (let i = 0; i < 3; i++) track();
    await capi.close();
    // close() prints what is pending rather than losing it.
    expect(lines(spies.warn).slice(2)).toEqual([
      'capi-kit: Purchse sent with changes 3 more times, for the same reason (reported above)',
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('rate-limits per kind: another field or event is a new first line', async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    const base = { event_source_url: PAGE, user_data: { em: EMAIL, client_user_agent: UA } };
    for (let i = 0; i < 10; i++) capi.track({ ...base, event_name: 'Purchase' } as never);
    for (let i = 0; i < 10; i++) {
      capi.track({ ...base, event_name: 'Purchase', custom_data: { value: 1 } } as never);
    }
    for (let i = 0; i < 10; i++) {
      capi.track({ ...base, event_name: 'Lead', user_data: { ...base.user_data, ph: '12' } });
    }
    expect(lines(spies.warn).map((l) => l.slice(0, 60))).toEqual([
      expect.stringContaining('Purchase not sent (invalid): custom_data.value'),
      expect.stringContaining('Purchase not sent (invalid): custom_data.currency'),
      expect.stringContaining('Lead sent with changes: user_data.ph'),
    ]);
    await capi.close();
    expect(lines(spies.warn).slice(3)).toEqual([
      expect.stringContaining('Purchase not sent 9 more times'),
      expect.stringContaining('Purchase not sent 9 more times'),
      expect.stringContaining('Lead sent with changes 9 more times'),
    ]);
  });

  it('says why an event tracked after close() was dropped', async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    await capi.close();
    const result = capi.track({ event_name: 'Lead', user_data: { em: EMAIL } });
    expect(result.reason).toBe('closed');
    expect(lines(spies.warn)).toEqual([
      'capi-kit: Lead tracked after close() began; not sent. Track before shutting the client down.',
    ]);
  });

  it("points an event no visitor's request made (a cron job) to action_source, beside the request-bound track", async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    capi.track({
      event_name: 'Purchase',
      user_data: { em: 'buyer@example.com' },
      custom_data: { value: 1, currency: 'EUR' },
    });
    const [line] = lines(spies.warn);
    expect(line).toContain('(missing_event_source_url); fix: track through');
    expect(line).toContain(
      "set action_source to where the conversion happened ('system_generated', …)",
    );
    expect(line).not.toContain('buyer@example.com');
    await capi.close();
  });

  it('never prints control characters or an endless event name', async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    capi.track({ event_name: `Evil\n${'x'.repeat(500)}`, user_data: {} });
    const [line] = lines(spies.warn);
    expect(line).not.toContain('\n');
    // Two issues with their fixes, and the name cut: the whole 500-character name would pass 1,200.
    expect(line?.length).toBeLessThan(900);
    expect(line).toContain('capi-kit: Evil?xxxx');
    await capi.close();
  });

  it('keeps memory bounded: beyond 256 kinds the oldest is summarized and forgotten', async () => {
    const spies = consoleSpies();
    const { capi, clock } = client('development');
    const track = (i: number) => capi.track({ event_name: `Custom${i}`, user_data: {} });
    const firstLines = () => lines(spies.warn).filter((l) => l.includes('not sent (invalid)'));
    // 20 new kinds a window are printed (and remembered); 15 windows make 300 kinds.
    for (let w = 0; w < 15; w++) {
      for (let i = w * 20; i < w * 20 + 20; i++) track(i);
      await clock.advance(60_000);
    }
    expect(firstLines()).toHaveLength(300);
    // The newest 256 kinds are remembered: their repeats are only counted.
    for (let i = 44; i < 300; i++) track(i);
    expect(firstLines()).toHaveLength(300);
    // The oldest were forgotten: a repeat of one is a new first line.
    track(0);
    expect(firstLines()).toHaveLength(301);
    await capi.close();
  });

  it('prints at most 20 different problems a window, then one line for the rest', async () => {
    const spies = consoleSpies();
    const { capi, clock } = client('production');
    // Ever-new names: each its own kind of problem, a loss reported in production.
    for (let i = 0; i < 10_000; i++) capi.track({ event_name: `Custom${i}`, user_data: {} });
    expect(lines(spies.warn)).toHaveLength(20);
    await clock.advance(60_000);
    const all = lines(spies.warn);
    expect(all).toHaveLength(21);
    expect(all[20]).toBe(
      'capi-kit: 9980 more events with 256+ other kinds of problems not shown (at most 20 different problems are printed per window; client.stats() counts every rejected and dropped event)',
    );
    // A new window has a new budget.
    capi.track({ event_name: 'Custom10000', user_data: {} });
    expect(lines(spies.warn)).toHaveLength(22);
    await capi.close();
  });

  it('never prints a key that looks like customer information, a forged line or an endless key', async () => {
    const spies = consoleSpies();
    const { capi } = client('development');
    const base = {
      event_source_url: PAGE,
      user_data: { external_id: 'u1', client_user_agent: UA },
    };
    capi.track({ event_name: 'Lead', ...base, [EMAIL]: 1 } as never);
    capi.track({
      event_name: 'Lead',
      ...base,
      custom_data: { contents: [{ id: '1', [EMAIL]: 1 }] },
    } as never);
    capi.track({
      event_name: 'Lead',
      ...base,
      user_data: { ...base.user_data, '+14155550123': 'x' },
    } as never);
    capi.track({ event_name: 'Lead', ...base, 'k\ncapi-kit: forged\u2028line': 1 } as never);
    capi.track({ event_name: 'Lead', ...base, ['k'.repeat(100_000)]: 1 } as never);
    capi.track({ event_name: `Lead for ${EMAIL}`, ...base, custom_data: { value: 'x' } } as never);
    const all = lines(spies.warn);
    expect(all).toHaveLength(6);
    expect(all.join('')).not.toContain('jane.doe');
    expect(all.join('')).not.toContain('4155550123');
    expect(all[0]).toContain(
      'capi-kit: Lead sent with changes: <hidden: looks like customer information>: ',
    );
    expect(all[1]).toContain(
      ': custom_data.contents[0].<hidden: looks like customer information>: ',
    );
    expect(all[2]).toContain('user_data.<hidden: looks like customer information>: ');
    expect(all[3]).toContain('k?capi-kit: forged?line: ');
    expect(all.every((l) => !/[\n\u2028]/.test(l) && l.length < 600)).toBe(true);
    expect(all[5]).toContain(
      'capi-kit: (event name <hidden: looks like customer information>) not sent',
    );
    await capi.close();
  });

  it('names the first 10 issues of an event with thousands, and counts the rest', async () => {
    const spies = consoleSpies();
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const { capi } = client('development', { logger });
    const em = Array.from({ length: 5000 }, (_, i) => `not-an-email-${i}`);
    capi.track({
      event_name: 'Lead',
      event_source_url: PAGE,
      user_data: { em, external_id: 'u1', client_user_agent: UA },
    });
    expect(spies.warn).not.toHaveBeenCalled();
    const [[fields, line]] = logger.warn.mock.calls as [[{ issues: string[] }, string]];
    expect(line).toContain('user_data.em[9]: ');
    expect(line).not.toContain('user_data.em[10]: ');
    expect(line).toMatch(/; and 4990 more issues$/);
    expect(line.length).toBeLessThan(2000);
    expect(fields.issues).toHaveLength(10);
    await capi.close();
  });
});

describe('production and silence', () => {
  it('production: losses only; a changed event and diagnostics advisories stay quiet', async () => {
    const spies = consoleSpies();
    const { capi } = client('production');
    for (let i = 0; i < 5; i++) {
      capi.track({
        event_name: 'Purchse',
        event_source_url: PAGE,
        user_data: { em: EMAIL, ph: '12', client_user_agent: UA },
      });
    }
    expect(spies.warn).not.toHaveBeenCalled();
    capi.track({ event_name: 'Purchase', user_data: { em: EMAIL } } as never);
    const [line, ...rest] = lines(spies.warn);
    expect(rest).toEqual([]);
    expect(line).toContain('capi-kit: Purchase not sent (invalid)');
    // The fix hints are for development; production says what was lost and why.
    expect(line).not.toContain('fix:');
    await capi.close();
    expect(spies.info).not.toHaveBeenCalled();
    expect(spies.debug).not.toHaveBeenCalled();
  });

  it('production: an event_id holding "undefined" is said once, then counted: Meta would discard the events after the first', async () => {
    const spies = consoleSpies();
    const { capi, clock } = client('production');
    for (let i = 0; i < 3; i++) {
      const result = capi.track({
        event_name: 'Purchase',
        event_id: `order-${undefined}`,
        event_source_url: PAGE,
        user_data: { em: EMAIL, client_user_agent: UA },
        custom_data: { value: 10 + i, currency: 'EUR' },
      });
      expect(result.accepted).toBe(true);
    }
    const [line, ...rest] = lines(spies.warn);
    expect(rest).toEqual([]);
    expect(line).toContain(
      'capi-kit: Purchase sent with changes: event_id: event_id holds "undefined"',
    );
    expect(line).toContain('(placeholder_event_id)');
    expect(line).not.toContain(EMAIL);
    await clock.advance(60_000);
    expect(lines(spies.warn).slice(1)).toEqual([
      'capi-kit: Purchase sent with changes 2 more times, for the same reason (reported above)',
    ]);
    await capi.close();
  });

  it('development: false turns the feedback off, a custom logger still gets losses', async () => {
    const spies = consoleSpies();
    const seen: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (_obj: Record<string, unknown>, msg: string) => seen.push(msg),
      error: (_obj: Record<string, unknown>, msg: string) => seen.push(msg),
    };
    const { capi } = client('development', { development: false, logger });
    capi.track({
      event_name: 'Purchse',
      event_source_url: PAGE,
      user_data: { em: EMAIL, client_user_agent: UA },
    });
    capi.track({ event_name: 'Purchase', user_data: { em: EMAIL } } as never);
    expect(seen).toEqual([expect.stringContaining('capi-kit: Purchase not sent (invalid)')]);
    expect(spies.warn).not.toHaveBeenCalled();
    await capi.close();
  });

  it('logger: false silences everything, even losses', async () => {
    const spies = consoleSpies();
    const { capi } = client('development', { logger: false });
    capi.track({ event_name: 'Purchase', user_data: { em: EMAIL } } as never);
    capi.track({ event_name: 'Purchse', user_data: { em: 'x' } });
    await capi.close();
    capi.track({ event_name: 'Lead', user_data: { em: EMAIL } });
    for (const spy of Object.values(spies)) expect(spy).not.toHaveBeenCalled();
  });

  it('testEventCode left set under NODE_ENV=production is said once, at creation, naming the option', async () => {
    const seen: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (obj: Record<string, unknown>, msg: string) => seen.push({ obj, msg }),
      error: () => {},
    };
    const { capi } = client('production', { testEventCode: 'TEST4242', logger });
    expect(seen).toHaveLength(1);
    const [{ msg, obj } = { msg: '', obj: {} }] = seen;
    expect(msg).toContain('testEventCode');
    expect(msg).toContain('NODE_ENV is production');
    expect(msg).toContain('Told once.');
    // The option, never its value.
    expect(JSON.stringify(seen)).not.toContain('TEST4242');
    expect(obj).toEqual({ pixelIds: [PIXEL] });
    capi.track({
      event_name: 'Lead',
      event_source_url: PAGE,
      user_data: { em: EMAIL, client_user_agent: UA },
    });
    await capi.close();
    expect(seen).toHaveLength(1);
    // A pixel's own code is named by its place in pixels.
    seen.length = 0;
    const perPixel = client('production', {
      pixelId: undefined,
      accessToken: undefined,
      pixels: [{ pixelId: PIXEL, accessToken: TOKEN, testEventCode: 'TEST4242' }],
      logger,
    });
    expect(seen.map((s) => s.msg)).toEqual([expect.stringContaining('pixels[0].testEventCode')]);
    await perPixel.capi.close();
    // Another platform's destination with its own code is named by its label.
    seen.length = 0;
    const withDestination = client('production', {
      logger,
      destinations: [
        {
          name: 'acme',
          id: 'A1',
          label: 'Acme',
          build: () => ({ issues: [] }),
          envelope: () => ({
            url: 'https://acme.example/e',
            prefix: '[',
            suffix: ']',
            testEventCode: 'T9',
          }),
          limits: { maxEvents: 10, maxBytes: 1024 },
          classify: () => ({ class: 'success' }),
          acknowledgement: () => ({}),
        },
      ],
    });
    expect(seen.map((s) => s.msg)).toEqual([
      expect.stringContaining(
        "the Acme destination's testEventCode is set while NODE_ENV is production",
      ),
    ]);
    expect(seen[0]?.obj).toEqual({ pixelIds: ['acme:A1'] });
    // Only the destination has a code: Meta's advice is not put in another platform's mouth.
    expect(seen[0]?.msg).not.toContain('Meta');
    expect(seen[0]?.msg).toContain('every event of that platform is sent as a test event');
    await withDestination.capi.close();
    // Outside production, testing is what the code is for: nothing is said.
    seen.length = 0;
    for (const env of ['development', 'test', undefined]) {
      const { capi: quiet } = client(env, { testEventCode: 'TEST4242', logger });
      await quiet.close();
    }
    expect(seen).toEqual([]);
  });

  it('a throwing logger never reaches track()', async () => {
    const boom = () => {
      throw new Error('logger down');
    };
    const { capi } = client('development', {
      logger: { debug: boom, info: boom, warn: boom, error: boom },
    });
    expect(capi.track({ event_name: 'Purchase', user_data: { em: EMAIL } } as never)).toMatchObject(
      { accepted: false, reason: 'invalid' },
    );
    await capi.close();
  });
});

describe('consoleLogger', () => {
  it('prints the message with its fields, long lists as their length, from its level up', () => {
    const spies = consoleSpies();
    const logger = consoleLogger('warn');
    logger.debug({ a: 1 }, 'capi-kit: batch sent');
    logger.info({ a: 1 }, 'capi-kit: closed');
    logger.warn(
      { pixelId: '1', count: 7, eventIds: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], missing: undefined },
      'capi-kit: Meta rejected events (dead-lettered)',
    );
    logger.error({ codes: [190, 102], detail: { status: 401 } }, 'capi-kit: refused');
    expect(spies.debug).not.toHaveBeenCalled();
    expect(spies.info).not.toHaveBeenCalled();
    expect(lines(spies.warn)).toEqual([
      'capi-kit: Meta rejected events (dead-lettered) (pixelId=1, count=7, eventIds=[7 items])',
    ]);
    expect(lines(spies.error)).toEqual([
      'capi-kit: refused (codes=[190, 102], detail={"status":401})',
    ]);
    consoleLogger('debug').debug({}, 'capi-kit: batch sent');
    expect(lines(spies.debug)).toEqual(['capi-kit: batch sent']);
  });
});

describe('a script that ends without close()', () => {
  it('still prints the summary of its repeats, and exits on its own at once', () => {
    const script = new URL('../faults/scripts/track-and-end.mjs', import.meta.url);
    const started = Date.now();
    const child = spawnSync(process.execPath, [script.pathname], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH },
    });
    expect(child.status).toBe(0);
    // The summary timer is unref'd (a minute away): the process did not wait for it.
    expect(Date.now() - started).toBeLessThan(15_000);
    const printed = child.stderr.trim().split('\n');
    expect(printed).toEqual([
      expect.stringContaining('capi-kit: Purchase not sent (invalid): '),
      'capi-kit: Purchase not sent 2 more times, for the same reason (reported above)',
    ]);
  });
});

describe('the development default', () => {
  const changedLead = (capi: ReturnType<typeof createCapi>) =>
    capi.track({
      event_name: 'Purchse',
      event_source_url: PAGE,
      user_data: { em: EMAIL, client_user_agent: UA },
    });

  it('reads NODE_ENV from process.env when env is false or does not set it', async () => {
    const spies = consoleSpies();
    vi.stubEnv('NODE_ENV', 'production');
    try {
      for (const env of [false, {}] as const) {
        const capi = createCapi({
          pixelId: PIXEL,
          accessToken: TOKEN,
          env,
          fetch: scriptedFetch().fetch,
        });
        changedLead(capi);
        await capi.close();
      }
      expect(spies.warn).not.toHaveBeenCalled();
      // An env that says otherwise wins.
      const { capi } = client('development');
      changedLead(capi);
      await capi.close();
      expect(lines(spies.warn)).toEqual([expect.stringContaining('did you mean Purchase?')]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

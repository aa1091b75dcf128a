import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapiExpressOptions, capi } from '../src/index.js';
import { capiOptions, listen, MAJORS } from './fixtures.js';

// Request-context options as a JavaScript app hands them over (a config file's `null`, a value
// from an environment variable), on a real server: each is either read as the app meant it or
// refused when capi() is created, never turned into a silent loss on every request.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: request-context options from JavaScript', ({ express }) => {
  /** One page view through capi(extra): what track() answered, the cookies, what reached Meta. */
  const pageView = async (extra: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const tracking = capi(capiOptions(mock, extra as CapiExpressOptions));
    const errors: string[] = [];
    tracking.client.on('error', (info) => errors.push(`${info.source}: ${info.error.message}`));
    const app = express();
    app.use(tracking);
    app.get('/', (req, res) => {
      res.json(req.capi.track('ViewContent'));
    });
    const running = await listen(app);
    try {
      const res = await running.request('/', { headers: { accept: 'text/html', ...headers } });
      const result = (await res.json()) as { accepted: boolean; reason?: string };
      await tracking.client.flush();
      return {
        status: res.status,
        result,
        cookies: res.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0]),
        sent: mock.events().map((e) => e.event.user_data),
        errors,
      };
    } finally {
      await running.close();
      await tracking.close();
    }
  };

  it('consent: null is no consent callback: the event is sent and _fbp set, nothing reported', async () => {
    // Accepted at creation as "not set", then called on every request: it threw, each request
    // counted as 'denied', and every event was dropped with an error per request.
    const seen = await pageView({ consent: null });
    expect(seen).toMatchObject({ status: 200, result: { accepted: true }, errors: [] });
    expect(seen.cookies).toEqual(['_fbp']);
    expect(seen.sent).toHaveLength(1);
  });

  it('platform: null is no platform: the visitor keeps its IP', async () => {
    // Read as a platform without a header: every visitor went without an IP, nothing said.
    const seen = await pageView({ trustProxy: false, platform: null });
    expect(seen.sent).toEqual([expect.objectContaining({ client_ip_address: '127.0.0.1' })]);
  });

  it('refuses a platform that names no preset when created, naming the fix', () => {
    // 'Cloudflare' or 'cloudfront' trusted no header: every event went without an IP, silently.
    expect(() => capi(capiOptions(mock, { platform: 'Cloudflare' as never }))).toThrow(
      "capi-kit: platform: 'Cloudflare' is not a preset; write 'cloudflare'",
    );
    expect(() => capi(capiOptions(mock, { platform: 'cloudfront' as never }))).toThrow(
      "capi-kit: platform: 'cloudfront' is not a preset; it must be one of 'vercel', 'cloudflare', 'fly', 'render', 'netlify', 'aws-alb'",
    );
    expect(() => capi(capiOptions(mock, { platform: true as never }))).toThrow(
      'capi-kit: platform: must be one of',
    );
  });

  it('refuses a forwardedHeader it would not find when created, naming the fix', () => {
    // 'X-Forwarded-For' was looked up as written and never found: behind the trusted proxy every
    // visitor went without an IP; 'Forwarded' also let X-Forwarded-Host set the page URL.
    expect(() => capi(capiOptions(mock, { forwardedHeader: 'X-Forwarded-For' as never }))).toThrow(
      "capi-kit: forwardedHeader must be 'x-forwarded-for' or 'forwarded', in lowercase: write 'x-forwarded-for'",
    );
    expect(() => capi(capiOptions(mock, { forwardedHeader: 'Forwarded' as never }))).toThrow(
      "in lowercase: write 'forwarded'",
    );
    expect(() => capi(capiOptions(mock, { forwardedHeader: 'x-real-ip' as never }))).toThrow(
      "capi-kit: forwardedHeader must be 'x-forwarded-for' or 'forwarded', got 'x-real-ip' (for a platform's own client-IP header, set platform)",
    );
  });

  it('forwardedHeader: null reads X-Forwarded-For, the default', async () => {
    const seen = await pageView({ forwardedHeader: null }, { 'x-forwarded-for': '203.0.113.8' });
    expect(seen.sent).toEqual([expect.objectContaining({ client_ip_address: '203.0.113.8' })]);
  });

  it('cookieDomain: null is the default scope: the page view keeps its context and _fbp', async () => {
    // Read as a domain, it threw on every page view: the context was lost (no IP, no user agent,
    // no _fbp), every such event was refused, and an error was reported per request.
    const seen = await pageView(
      { cookieDomain: null },
      { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'shop.example.com' },
    );
    expect(seen).toMatchObject({ status: 200, result: { accepted: true }, errors: [] });
    expect(seen.cookies).toEqual(['_fbp']);
    expect(seen.sent).toEqual([expect.objectContaining({ client_ip_address: '203.0.113.9' })]);
  });

  it('refuses a cookieDomain that is not a string when created', () => {
    expect(() => capi(capiOptions(mock, { cookieDomain: true as never }))).toThrow(
      "capi-kit: cookieDomain must be a domain name such as 'example.com', got boolean",
    );
  });

  it("refuses an ldu location Meta does not take when created, naming the fix (ldu: 'US')", () => {
    // 'US' was read per request as { country, state }: neither was there, so every LDU event
    // asked Meta to geolocate (country 0, state 0), silently; { country: 'US' } made every LDU
    // event invalid instead.
    expect(() => capi(capiOptions(mock, { ldu: 'US' as never }))).toThrow(
      'capi-kit: ldu must be { country, state }, got the string "US": write { country: 1, state: 1000 } for California',
    );
    expect(() => capi(capiOptions(mock, { ldu: { country: 'US' } as never }))).toThrow(
      'capi-kit: ldu country must be 1 (United States) or 0 (geolocate), got "US"',
    );
    expect(() => capi(capiOptions(mock, { ldu: { country: 1, state: 1 } as never }))).toThrow(
      'capi-kit: ldu state must be 1000 (California) or 0 (geolocate), got 1',
    );
  });

  it('an ldu location reaches Meta on an LDU event; ldu: null is the default (geolocate)', async () => {
    const california = await pageView({ consent: () => 'ldu', ldu: { country: 1, state: 1000 } });
    expect(california.result).toMatchObject({ accepted: true });
    const [sent] = mock.events();
    expect(sent?.event).toMatchObject({
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    });
    mock.reset();
    const unset = await pageView({ consent: () => 'ldu', ldu: null });
    expect(unset.result).toMatchObject({ accepted: true });
    expect(mock.events()[0]?.event).toMatchObject({
      data_processing_options_country: 0,
      data_processing_options_state: 0,
    });
  });

  it('behind a proxy on a Unix socket, says once how to trust it, and trustProxy: 1 reads the IP', async () => {
    // nginx's proxy_pass http://unix:/run/app.sock: the socket has no address, so a list such as
    // 'loopback' never matched it, every event went without client_ip_address, and nothing said so.
    const overSocket = async (trustProxy: CapiExpressOptions['trustProxy']) => {
      const tracking = capi(capiOptions(mock, { trustProxy }));
      const warned: string[] = [];
      tracking.client.on('warn', ({ message }) => warned.push(message));
      const app = express();
      app.use(tracking);
      app.get('/', (req, res) => {
        res.json(req.capi.track('ViewContent'));
      });
      const dir = await mkdtemp(join(tmpdir(), 'capi-unix-'));
      const path = join(dir, 'app.sock');
      const server = app.listen(path);
      await once(server, 'listening');
      try {
        for (let i = 0; i < 2; i++) {
          const status = await new Promise<number | undefined>((resolve, reject) => {
            const req = httpRequest(
              {
                socketPath: path,
                path: '/',
                headers: {
                  host: 'shop.example.com',
                  accept: 'text/html',
                  'user-agent': 'Mozilla/5.0 (unix socket test)',
                  'x-forwarded-for': '203.0.113.21',
                },
              },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode));
              },
            );
            req.on('error', reject);
            req.end();
          });
          expect(status).toBe(200);
        }
        await tracking.client.flush();
        return { warned, ips: mock.events().map((e) => e.event.user_data.client_ip_address) };
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await tracking.close();
        await rm(dir, { recursive: true, force: true });
      }
    };
    const listed = await overSocket('loopback');
    expect(listed.ips).toEqual([undefined, undefined]);
    expect(listed.warned).toHaveLength(1);
    expect(listed.warned[0]).toContain('over a Unix socket');
    expect(listed.warned[0]).toContain('set trustProxy: 1');
    expect(listed.warned[0]).not.toContain('203.0.113.21');
    mock.reset();
    const hop = await overSocket(1);
    expect(hop).toEqual({ warned: [], ips: ['203.0.113.21', '203.0.113.21'] });
  });

  it("behind a proxy it does not trust, says that Express's own app.set('trust proxy') is not read and trustProxy goes on capi()", async () => {
    // The app trusts its proxy the Express way; capi-kit reads only its own option, so every
    // visitor got the proxy's address, and the warning named trustProxy as if it were Express's.
    const tracking = capi(capiOptions(mock, { trustProxy: false }));
    const warned: string[] = [];
    tracking.client.on('warn', ({ message }) => warned.push(message));
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(tracking);
    app.get('/', (req, res) => {
      res.json({ expressIp: req.ip, capiIp: req.capi.context.user_data.client_ip_address });
    });
    const running = await listen(app);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await running.request('/', { headers: { 'x-forwarded-for': '203.0.113.30' } });
        expect(await res.json()).toEqual({ expressIp: '203.0.113.30', capiIp: '127.0.0.1' });
      }
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('came through a proxy');
      expect(warned[0]).toContain(
        "Express's app.set('trust proxy', …) is not read by capi-kit: set trustProxy on capi()",
      );
      expect(warned[0]).not.toContain('203.0.113.30');
    } finally {
      await running.close();
      await tracking.close();
    }
  });

  it('a platform preset reads its header', async () => {
    const seen = await pageView({ platform: 'cloudflare' }, { 'cf-connecting-ip': '203.0.113.7' });
    expect(seen.sent).toEqual([expect.objectContaining({ client_ip_address: '203.0.113.7' })]);
  });
});

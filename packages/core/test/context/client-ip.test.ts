import { getHeapSnapshot } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { getRequestContext, type RequestContextOptions } from '../../src/context/index.js';
import { contextOf, type RequestSpec } from './request-shapes.js';

const PAGE = 'https://www.example.com/page';

interface IpCase {
  name: string;
  socket?: string;
  headers?: Record<string, string>;
  options?: RequestContextOptions;
  expected: string | undefined;
}

function clientIp(c: IpCase): string | undefined {
  const spec: RequestSpec = { url: PAGE, headers: c.headers ?? {} };
  if (c.socket !== undefined) spec.remoteAddress = c.socket;
  return contextOf(spec, c.options).user_data.client_ip_address;
}

const run = (cases: IpCase[]) =>
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(clientIp(c)).toBe(c.expected);
  });

describe('client IP without trustProxy (default)', () => {
  run([
    { name: 'socket address', socket: '203.0.113.9', expected: '203.0.113.9' },
    {
      name: 'spoofed X-Forwarded-For is ignored',
      socket: '203.0.113.9',
      headers: { 'x-forwarded-for': '1.1.1.1' },
      expected: '203.0.113.9',
    },
    {
      name: 'spoofed Forwarded is ignored',
      socket: '203.0.113.9',
      headers: { forwarded: 'for=1.1.1.1' },
      options: { forwardedHeader: 'forwarded' },
      expected: '203.0.113.9',
    },
    {
      name: 'platform headers are ignored unless a platform is chosen',
      socket: '203.0.113.9',
      headers: {
        'cf-connecting-ip': '1.1.1.1',
        'x-real-ip': '1.1.1.2',
        'fly-client-ip': '1.1.1.3',
        'true-client-ip': '1.1.1.4',
      },
      expected: '203.0.113.9',
    },
    {
      name: 'IPv4-mapped socket is unwrapped',
      socket: '::ffff:203.0.113.9',
      expected: '203.0.113.9',
    },
    { name: 'IPv6 socket is canonical', socket: '2001:DB8:0:0::1', expected: '2001:db8::1' },
    { name: 'no socket address → unknown', expected: undefined },
    { name: 'malformed socket address → unknown', socket: 'not-an-ip', expected: undefined },
    { name: 'zone id on the socket → unknown', socket: 'fe80::1%eth0', expected: undefined },
    {
      name: 'trustProxy: 0 trusts nobody',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '1.1.1.1' },
      options: { trustProxy: 0 },
      expected: '127.0.0.1',
    },
    {
      name: 'an invalid hop count trusts nobody',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '1.1.1.1' },
      options: { trustProxy: -1 },
      expected: '127.0.0.1',
    },
  ]);
});

describe('trustProxy presets and lists (right-to-left walk)', () => {
  run([
    {
      name: 'loopback: socket trusted → nearest untrusted hop',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: 'loopback' },
      expected: '198.51.100.7',
    },
    {
      name: 'loopback (IPv6 socket ::1)',
      socket: '::1',
      headers: { 'x-forwarded-for': '2001:db8::7' },
      options: { trustProxy: 'loopback' },
      expected: '2001:db8::7',
    },
    {
      name: 'loopback (IPv4-mapped socket)',
      socket: '::ffff:127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: 'loopback' },
      expected: '198.51.100.7',
    },
    {
      name: 'loopback: untrusted socket → socket, header ignored',
      socket: '203.0.113.9',
      headers: { 'x-forwarded-for': '1.1.1.1' },
      options: { trustProxy: 'loopback' },
      expected: '203.0.113.9',
    },
    {
      name: 'list: no socket address → cannot trust the header',
      headers: { 'x-forwarded-for': '1.1.1.1' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'client-written entries left of the client are never read',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': 'evil, 6.6.6.6, 198.51.100.7' },
      options: { trustProxy: 'loopback' },
      expected: '198.51.100.7',
    },
    {
      name: 'private: skips trusted hops right to left',
      socket: '10.0.0.2',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 192.168.1.5, 172.16.0.9' },
      options: { trustProxy: 'private' },
      expected: '198.51.100.7',
    },
    {
      name: 'private covers fc00::/7',
      socket: 'fd00::2',
      headers: { 'x-forwarded-for': '2001:db8::7, fd00::1' },
      options: { trustProxy: 'private' },
      expected: '2001:db8::7',
    },
    {
      name: 'linklocal',
      socket: '169.254.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: 'linklocal' },
      expected: '198.51.100.7',
    },
    {
      name: 'preset + CIDR combined in a list',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' },
      options: { trustProxy: ['loopback', '10.0.0.0/8'] },
      expected: '198.51.100.7',
    },
    {
      name: 'comma-separated string (Express style)',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' },
      options: { trustProxy: 'loopback, 10.0.0.0/8' },
      expected: '198.51.100.7',
    },
    {
      name: 'hop in the list but outside the CIDR is the client',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, 11.1.2.3' },
      options: { trustProxy: ['loopback', '10.0.0.0/8'] },
      expected: '11.1.2.3',
    },
    {
      name: 'IPv6 CIDR list',
      socket: '2001:db8:1::10',
      headers: { 'x-forwarded-for': '2a00:1450::1, 2001:db8:1::20' },
      options: { trustProxy: ['2001:db8:1::/48'] },
      expected: '2a00:1450::1',
    },
    {
      name: 'single trusted IP',
      socket: '203.0.113.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: ['203.0.113.1'] },
      expected: '198.51.100.7',
    },
    {
      name: 'every hop a declared proxy → no client address in the chain → unknown',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' },
      options: { trustProxy: 'private' },
      expected: undefined,
    },
    {
      name: 'declared proxy without a chain is not the visitor → unknown',
      socket: '127.0.0.1',
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'blank chain header counts as no chain',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '  ' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'invalid list entries are dropped, valid ones still apply',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: ['not-a-cidr', '10.0.0.0/99', 'loopback'] },
      expected: '198.51.100.7',
    },
    {
      name: 'a list with no valid entry trusts nobody',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: ['not-a-cidr'] },
      expected: '127.0.0.1',
    },
    {
      name: 'ports and brackets are stripped from hops',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '[2001:db8::9]:443, 198.51.100.7:5678' },
      options: { trustProxy: ['loopback', '198.51.100.0/24'] },
      expected: '2001:db8::9',
    },
    {
      name: 'IPv4-mapped hop is unwrapped and matched as IPv4',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, ::ffff:10.0.0.5' },
      options: { trustProxy: ['loopback', '10.0.0.0/8'] },
      expected: '198.51.100.7',
    },
  ]);
});

describe('trustProxy: true and hop counts', () => {
  run([
    {
      name: 'true → left-most entry',
      socket: '203.0.113.9',
      headers: { 'x-forwarded-for': '198.51.100.7, 10.0.0.1, 10.0.0.2' },
      options: { trustProxy: true },
      expected: '198.51.100.7',
    },
    {
      name: 'true without a socket address still reads the header',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: true },
      expected: '198.51.100.7',
    },
    {
      name: 'true without a chain → socket',
      socket: '203.0.113.9',
      options: { trustProxy: true },
      expected: '203.0.113.9',
    },
    {
      name: 'hop count without a chain → socket (Express)',
      socket: '10.0.0.1',
      options: { trustProxy: 2 },
      expected: '10.0.0.1',
    },
    {
      name: '1 hop → right-most entry',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' },
      options: { trustProxy: 1 },
      expected: '198.51.100.7',
    },
    {
      name: '2 hops → second from the right',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.2' },
      options: { trustProxy: 2 },
      expected: '198.51.100.7',
    },
    {
      name: 'more hops than entries → left-most entry (Express)',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: 3 },
      expected: '198.51.100.7',
    },
    {
      name: 'hop count ignores garbage beyond its reach',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': 'garbage, 198.51.100.7' },
      options: { trustProxy: 1 },
      expected: '198.51.100.7',
    },
  ]);
});

describe('malformed chains fail closed (client IP unknown, never a guess)', () => {
  run([
    {
      name: 'malformed right-most hop',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, nope' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'malformed hop reached while skipping trusted ones',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, bad, 10.0.0.1' },
      options: { trustProxy: ['loopback', '10.0.0.0/8'] },
      expected: undefined,
    },
    {
      name: 'empty entry',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, , 10.0.0.1' },
      options: { trustProxy: ['loopback', '10.0.0.0/8'] },
      expected: undefined,
    },
    {
      name: 'trailing comma',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7,' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'true: any malformed entry on the way to the left-most',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, unknown, 10.0.0.1' },
      options: { trustProxy: true },
      expected: undefined,
    },
    {
      name: 'hop count: malformed entry within reach',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, 1.2.3' },
      options: { trustProxy: 2 },
      expected: undefined,
    },
    {
      name: 'zone id in a hop',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': 'fe80::1%eth0' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'hostname in a hop',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': 'proxy.internal' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
    {
      name: 'leading-zero IPv4 (ambiguous octal)',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '010.0.0.1' },
      options: { trustProxy: 'loopback' },
      expected: undefined,
    },
  ]);
});

describe('RFC 7239 Forwarded (forwardedHeader: "forwarded")', () => {
  const forwarded = (
    value: string,
    trustProxy: RequestContextOptions['trustProxy'] = 'loopback',
  ): IpCase => ({
    name: value,
    socket: '127.0.0.1',
    headers: { forwarded: value },
    options: { trustProxy, forwardedHeader: 'forwarded' },
    expected: undefined,
  });
  run([
    { ...forwarded('for=198.51.100.7'), expected: '198.51.100.7' },
    { ...forwarded('for="[2001:db8:cafe::17]:4711"'), expected: '2001:db8:cafe::17' },
    { ...forwarded('for="[2001:db8:cafe::17]"'), expected: '2001:db8:cafe::17' },
    {
      ...forwarded('For="198.51.100.7:47011";proto=https;by=203.0.113.43'),
      expected: '198.51.100.7',
    },
    { ...forwarded('proto=https; for=198.51.100.7 ;host=example.com'), expected: '198.51.100.7' },
    { ...forwarded('for=6.6.6.6, for=198.51.100.7'), expected: '198.51.100.7' },
    {
      ...forwarded('for=198.51.100.7, for=10.0.0.1', ['loopback', '10.0.0.0/8']),
      expected: '198.51.100.7',
    },
    {
      ...forwarded('for=198.51.100.7, for="[fd00::1]"', ['loopback', 'private']),
      expected: '198.51.100.7',
    },
    { ...forwarded('for=198.51.100.7, for=10.0.0.1', true), expected: '198.51.100.7' },
    { ...forwarded('for=6.6.6.6, for=198.51.100.7, for=10.0.0.1', 2), expected: '198.51.100.7' },
    { ...forwarded('for="\\[2001:db8::1\\]"'), expected: '2001:db8::1' },
    // RFC 7239 §6.3: a proxy may hide the port behind an obfuscated one; the address stays known.
    { ...forwarded('for="198.51.100.7:_a1.b-c"'), expected: '198.51.100.7' },
    { ...forwarded('for="[2001:db8::7]:_port"'), expected: '2001:db8::7' },
    { ...forwarded('for="198.51.100.7:_"'), expected: undefined },
    { ...forwarded('for="198.51.100.7:_a b"'), expected: undefined },
    { ...forwarded('for="_hidden:_port"'), expected: undefined },
    { ...forwarded('for=unknown'), expected: undefined },
    { ...forwarded('for=_hidden'), expected: undefined },
    { ...forwarded('proto=https'), expected: undefined },
    { ...forwarded('for=1.1.1.1;for=2.2.2.2'), expected: undefined },
    { ...forwarded('for="198.51.100.7'), expected: undefined },
    { ...forwarded('for=198.51.100.7 garbage'), expected: undefined },
    { ...forwarded('=198.51.100.7'), expected: undefined },
    {
      ...forwarded('for=198.51.100.7, , for=10.0.0.1', ['loopback', '10.0.0.0/8']),
      expected: undefined,
    },
    {
      name: 'X-Forwarded-For is not read when Forwarded is the chosen header',
      socket: '127.0.0.1',
      headers: { 'x-forwarded-for': '1.1.1.1', forwarded: 'for=198.51.100.7' },
      options: { trustProxy: 'loopback', forwardedHeader: 'forwarded' },
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded is not read when X-Forwarded-For is the chosen header (default)',
      socket: '127.0.0.1',
      headers: { forwarded: 'for=1.1.1.1', 'x-forwarded-for': '198.51.100.7' },
      options: { trustProxy: 'loopback' },
      expected: '198.51.100.7',
    },
  ]);
});

describe('platform presets (opt-in, no fallback)', () => {
  run([
    {
      name: 'vercel: x-vercel-forwarded-for',
      socket: '10.0.0.1',
      headers: { 'x-vercel-forwarded-for': '198.51.100.7', 'x-real-ip': '1.1.1.1' },
      options: { platform: 'vercel' },
      expected: '198.51.100.7',
    },
    {
      name: 'vercel: x-real-ip when x-vercel-forwarded-for is absent',
      socket: '10.0.0.1',
      headers: { 'x-real-ip': '2001:db8::7' },
      options: { platform: 'vercel' },
      expected: '2001:db8::7',
    },
    {
      name: 'vercel: malformed first header fails closed (no fallthrough)',
      socket: '10.0.0.1',
      headers: { 'x-vercel-forwarded-for': '1.1.1.1, 2.2.2.2', 'x-real-ip': '198.51.100.7' },
      options: { platform: 'vercel' },
      expected: undefined,
    },
    {
      name: 'cloudflare: cf-connecting-ip',
      socket: '172.64.0.1',
      headers: { 'cf-connecting-ip': '198.51.100.7', 'x-forwarded-for': '1.1.1.1' },
      options: { platform: 'cloudflare' },
      expected: '198.51.100.7',
    },
    {
      name: 'cloudflare: Pseudo IPv4 → the real IPv6 from cf-connecting-ipv6',
      headers: {
        'cf-connecting-ip': '240.16.0.1',
        'cf-connecting-ipv6': '2400:cb00:f00d:dead:beef:1111:2222:3333',
      },
      options: { platform: 'cloudflare' },
      expected: '2400:cb00:f00d:dead:beef:1111:2222:3333',
    },
    {
      name: 'cloudflare: Pseudo IPv4 without the IPv6 header → unknown',
      headers: { 'cf-connecting-ip': '240.16.0.1' },
      options: { platform: 'cloudflare' },
      expected: undefined,
    },
    {
      name: 'cloudflare: cf-connecting-ipv6 is ignored when cf-connecting-ip is a real address',
      headers: { 'cf-connecting-ip': '198.51.100.7', 'cf-connecting-ipv6': '2001:db8::1' },
      options: { platform: 'cloudflare' },
      expected: '198.51.100.7',
    },
    {
      name: 'fly: fly-client-ip',
      socket: '172.16.0.1',
      headers: { 'fly-client-ip': '198.51.100.7' },
      options: { platform: 'fly' },
      expected: '198.51.100.7',
    },
    {
      name: 'render: true-client-ip',
      socket: '10.0.0.1',
      headers: { 'true-client-ip': '198.51.100.7' },
      options: { platform: 'render' },
      expected: '198.51.100.7',
    },
    {
      name: 'netlify: x-nf-client-connection-ip',
      headers: { 'x-nf-client-connection-ip': '2001:db8::7' },
      options: { platform: 'netlify' },
      expected: '2001:db8::7',
    },
    {
      name: 'aws-alb: right-most X-Forwarded-For entry',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' },
      options: { platform: 'aws-alb' },
      expected: '198.51.100.7',
    },
    {
      name: 'aws-alb: client port appended by the ALB is stripped',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7:51234' },
      options: { platform: 'aws-alb' },
      expected: '198.51.100.7',
    },
    {
      name: 'aws-alb: malformed right-most entry → unknown',
      socket: '10.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.7, junk' },
      options: { platform: 'aws-alb' },
      expected: undefined,
    },
    {
      name: 'platform header missing → unknown, never the socket (it is the platform proxy)',
      socket: '10.0.0.1',
      options: { platform: 'fly' },
      expected: undefined,
    },
    {
      name: 'platform header with an IPv4-mapped address is unwrapped',
      headers: { 'fly-client-ip': '::ffff:198.51.100.7' },
      options: { platform: 'fly' },
      expected: '198.51.100.7',
    },
    {
      name: 'another platform’s header is not read',
      socket: '10.0.0.1',
      headers: { 'cf-connecting-ip': '198.51.100.7' },
      options: { platform: 'fly' },
      expected: undefined,
    },
  ]);
});

// getRequestContext keeps the last trusted peer it parsed (behind a proxy, nearly every request
// comes from it). Requests in a row must still be decided each on its own peer and policy.
describe('client IP across consecutive requests (the trusted peer kept between them)', () => {
  it('a trusted peer, then an untrusted one, then other policies, then the first again', () => {
    const xff = { 'x-forwarded-for': '198.51.100.7' };
    const loopback: RequestContextOptions = { trustProxy: 'loopback' };
    const tenNet: RequestContextOptions = { trustProxy: ['10.0.0.0/8'] };
    const sequence: [string, Record<string, string>, RequestContextOptions, string | undefined][] =
      [
        ['127.0.0.1', xff, loopback, '198.51.100.7'],
        ['127.0.0.1', xff, loopback, '198.51.100.7'],
        ['203.0.113.9', xff, loopback, '203.0.113.9'],
        ['127.0.0.1', xff, {}, '127.0.0.1'],
        ['127.0.0.1', xff, tenNet, '127.0.0.1'],
        ['10.1.2.3', xff, tenNet, '198.51.100.7'],
        ['10.1.2.3', xff, loopback, '10.1.2.3'],
        ['127.0.0.1', {}, loopback, undefined],
        ['127.0.0.1', xff, loopback, '198.51.100.7'],
      ];
    const seen = sequence.map(([socket, headers, options]) =>
      clientIp({ name: '', socket, headers, options, expected: undefined }),
    );
    expect(seen).toEqual(sequence.map(([, , , ip]) => ip));
  });
});

// The peer kept between requests must never be the visitor. A heap snapshot (taken after a full
// collection) holds every string still reachable: the visitor's address must not be among them
// once its request is done. The address is built at run time, so no literal of it is in this file.
describe('what getRequestContext keeps of a peer after its request', () => {
  const contextFrom = (remoteAddress: string, trustProxy: RequestContextOptions['trustProxy']) => {
    const ctx = getRequestContext(
      { method: 'GET', url: '/p', headers: { host: 'shop.example' } },
      { remoteAddress, trustProxy, cookies: false },
    );
    // Without a forwarded chain the socket is the visitor, except a declared proxy's.
    const proxy = Array.isArray(trustProxy);
    expect(ctx.user_data.client_ip_address).toBe(proxy ? undefined : remoteAddress);
  };
  const heapHolds = async (needle: string): Promise<boolean> => {
    /x/.exec('y'); // V8 keeps the last subject a regular expression matched
    const chunks: string[] = [];
    for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
    return chunks.join('').includes(`"${needle}"`);
  };

  it.each([
    ['true', true],
    ['a hop count', 1],
    ['none', false],
  ] as const)(
    'trustProxy %s: the socket address (the visitor) is not kept',
    async (_, trust) => {
      const octet = 100 + Math.floor(Math.random() * 100);
      contextFrom(['203', '0', '113', String(octet)].join('.'), trust);
      expect(await heapHolds(`203.0.113.${octet}`)).toBe(false);
    },
    60_000,
  ); // a heap snapshot each: past 5 s on a loaded machine

  it('a peer inside the declared ranges (the proxy) is kept, which the check above would see', async () => {
    const octet = 100 + Math.floor(Math.random() * 100);
    contextFrom(['127', '0', '0', String(octet)].join('.'), ['127.0.0.0/8']);
    expect(await heapHolds(`127.0.0.${octet}`)).toBe(true);
  }, 60_000);
});

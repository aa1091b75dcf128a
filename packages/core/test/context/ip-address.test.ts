import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIp,
  type IpAddress,
  ipInRange,
  parseAddress,
  parseIp,
  parseIpRange,
} from '../../src/context/ip-address.js';

const format = (text: string): string | undefined => {
  const ip = parseAddress(text);
  return ip === undefined ? undefined : formatIp(ip);
};

describe('parseAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['  1.2.3.4\t', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8:cafe::17]:4711', '2001:db8:cafe::17'],
    ['::1', '::1'],
    ['::', '::'],
    ['1::', '1::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:102:304', '1.2.3.4'],
    ['[::ffff:10.0.0.1]:80', '10.0.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%j → %j', (input, expected) => {
    expect(format(input)).toBe(expected);
  });

  it.each([
    [''],
    ['   '],
    ['unknown'],
    ['example.com'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['256.1.1.1'],
    ['01.2.3.4'],
    ['1.2.3.-4'],
    ['1.2.3.4:'],
    ['1.2.3.4:65536'],
    ['1.2.3.4:80:80'],
    ['1.2.3.4 5.6.7.8'],
    ['fe80::1%eth0'],
    ['[fe80::1%25eth0]'],
    ['[2001:db8::1'],
    ['[2001:db8::1]x'],
    ['[2001:db8::1]:'],
    ['[1.2.3.4]'],
    ['1:2:3:4:5:6:7:8:9'],
    ['1:2:3:4:5:6:7'],
    ['1::2::3'],
    [':::'],
    ['12345::'],
    ['g::1'],
    ['1.2.3.4::'],
    ['::1.2.3'],
    ['1.2.3.4\r\n'],
    ['_hidden'],
  ])('%j is rejected', (input) => {
    expect(parseAddress(input)).toBeUndefined();
  });

  it('agrees with node:net on what is an IP address (bare forms)', () => {
    const char = fc.constantFrom(...'0123456789abcdefABCDEF:.%'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 45 }), (text) => {
        const ours = parseIp(text);
        const node = isIP(text);
        // node:net accepts zone ids (`fe80::1%1`) and leading-zero IPv4 in IPv6 tails; we refuse both.
        if (text.includes('%')) return ours === undefined;
        if (ours === undefined) return node === 0 || /(^|[:.])0\d/.test(text);
        return node !== 0;
      }),
      { numRuns: 3000 },
    );
  });

  const ipv6Parts = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });

  it('formats IPv6 exactly like the WHATWG URL serializer (RFC 5952)', () => {
    fc.assert(
      fc.property(ipv6Parts, (parts) => {
        const ip: IpAddress = { version: 6, parts };
        const text = formatIp(ip);
        const mapped = parts.slice(0, 5).every((p) => p === 0) && parts[5] === 0xffff;
        fc.pre(!mapped);
        expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
        expect(parseIp(text)).toEqual(ip);
      }),
    );
  });

  it('round-trips IPv4 and unwraps every IPv4-mapped IPv6 address', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        (parts) => {
          const text = parts.join('.');
          expect(parseIp(text)).toEqual({ version: 4, parts });
          expect(format(`::ffff:${text}`)).toBe(text);
          expect(format(`[::ffff:${text}]:8080`)).toBe(text);
        },
      ),
    );
  });
});

describe('parseIpRange / ipInRange', () => {
  const inRange = (ip: string, range: string): boolean => {
    const address = parseAddress(ip);
    const parsed = parseIpRange(range);
    if (address === undefined || parsed === undefined)
      throw new Error(`bad test input ${ip} ${range}`);
    return ipInRange(address, parsed);
  };

  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.0.0.1', '10.0.0.0/8', false],
    ['172.31.255.255', '172.16.0.0/12', true],
    ['172.32.0.0', '172.16.0.0/12', false],
    ['192.168.1.1', '192.168.1.1', true],
    ['192.168.1.2', '192.168.1.1', false],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['10.9.8.7', '10.0.0.0/255.0.0.0', true],
    ['10.9.8.7', '10.9.8.0/25', true],
    ['10.9.8.200', '10.9.8.0/25', false],
    ['::ffff:10.0.0.1', '10.0.0.0/8', true],
    ['10.0.0.1', '::ffff:10.0.0.0/104', true],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['fd12:3456::1', 'fc00::/7', true],
    ['fe80::1', 'fe80::/10', true],
    ['febf::1', 'fe80::/10', true],
    ['fec0::1', 'fe80::/10', false],
    ['::1', '::1/128', true],
    ['1.2.3.4', '::/0', false],
    ['2001:db8::1', '0.0.0.0/0', false],
  ])('%s in %s → %s', (ip, range, expected) => {
    expect(inRange(ip, range)).toBe(expected);
  });

  it.each([
    ['10.0.0.0/33'],
    ['10.0.0.0/'],
    ['10.0.0.0/8x'],
    ['10.0.0.0/255.0.255.0'],
    ['::/129'],
    ['nope'],
    ['10.0.0.0/-1'],
  ])('%j is not a range', (range) => {
    expect(parseIpRange(range)).toBeUndefined();
  });

  it('a /n range contains exactly the addresses sharing the first n bits (IPv4)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        (a, b, prefix) => {
          const dotted = (n: number) =>
            [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
          const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
          const expected = (a & mask) >>> 0 === (b & mask) >>> 0;
          expect(inRange(dotted(a), `${dotted(b)}/${prefix}`)).toBe(expected);
        },
      ),
    );
  });
});

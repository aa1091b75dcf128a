import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/context/ip-address.js';
import {
  compileTrustProxy,
  isPeerTrusted,
  type TrustProxy,
  trustProxyProblem,
} from '../../src/context/trust-proxy.js';

const trusts = (trust: TrustProxy, socket: string): boolean =>
  isPeerTrusted(compileTrustProxy(trust), parseAddress(socket));

describe('compileTrustProxy', () => {
  it.each([
    [undefined, 'none'],
    [false, 'none'],
    [true, 'all'],
    [0, 'none'],
    [1.5, 'none'],
    [-2, 'none'],
    [Number.POSITIVE_INFINITY, 'none'],
    [Number.NaN, 'none'],
    [3, 'hops'],
    ['', 'none'],
    [' , ', 'none'],
    ['loopback', 'ranges'],
    [[], 'none'],
  ] as const)('%j → %s', (trust, kind) => {
    expect(compileTrustProxy(trust as TrustProxy | undefined).kind).toBe(kind);
  });

  it.each([
    ['loopback', '127.255.0.1', true],
    ['loopback', '::1', true],
    ['loopback', '::ffff:127.0.0.1', true],
    ['loopback', '10.0.0.1', false],
    ['private', '10.0.0.1', true],
    ['private', '172.16.5.4', true],
    ['private', '192.168.0.1', true],
    ['private', 'fd00::1', true],
    ['private', '8.8.8.8', false],
    ['uniquelocal', '10.0.0.1', true],
    ['linklocal', '169.254.1.1', true],
    ['linklocal', 'fe80::1', true],
    ['linklocal', '127.0.0.1', false],
  ] as const)('preset %s trusts %s: %s', (preset, socket, expected) => {
    expect(trusts(preset, socket)).toBe(expected);
  });

  it('a range policy needs a known socket address; a hop count does not', () => {
    expect(isPeerTrusted(compileTrustProxy('loopback'), undefined)).toBe(false);
    expect(isPeerTrusted(compileTrustProxy(1), undefined)).toBe(true);
  });

  it('caches lists by identity: pass a new array to change the trusted set', () => {
    const list = ['10.0.0.0/8'];
    expect(trusts(list, '192.168.0.1')).toBe(false);
    expect(compileTrustProxy(list)).toBe(compileTrustProxy(list));
    expect(trusts([...list, '192.168.0.0/16'], '192.168.0.1')).toBe(true);
  });
});

describe('trustProxyProblem (told at creation; the request path fails closed)', () => {
  it.each([
    [undefined],
    [true],
    [false],
    [0],
    [2],
    [''],
    ['loopback'],
    ['loopback, 10.0.0.0/8'],
    [['private', '2001:db8::/32', '192.168.1.1']],
    ['10.0.0.0/255.0.0.0'],
  ] as const)('%j is understood', (trust) => {
    expect(trustProxyProblem(trust)).toBeUndefined();
  });

  it.each([
    ['true', "the string 'true' is not an address; pass the boolean true"],
    ['false', "the string 'false' is not an address; pass the boolean false"],
    ['1', "the string '1' is not an address; pass the hop count as a number"],
    [['loopback', '2'], "the string '2' is not an address"],
    ['loopback,10.0.0.0/33', "'10.0.0.0/33' is not an IP address, a CIDR range or a preset"],
    [
      ['lookback'],
      "'lookback' is not an IP address, a CIDR range or a preset (loopback, linklocal",
    ],
    [-1, 'a hop count must be a whole number of 0 or more, got -1'],
    [1.5, 'a hop count must be a whole number of 0 or more, got 1.5'],
    [Number.NaN, 'a hop count must be a whole number of 0 or more'],
    [{ hops: 1 }, 'expected true, false, a hop count or a list'],
    [null, 'got null'],
    [[1], 'a list entry must be a string, got number'],
  ] as const)('%j: %s', (trust, message) => {
    expect(trustProxyProblem(trust)).toContain(message);
  });

  it('leaves a list whose reads throw to the request path, which reports it there', () => {
    const broken = new Proxy([] as string[], {
      get() {
        throw new Error('broken trust list');
      },
    });
    expect(trustProxyProblem(broken)).toBeUndefined();
  });
});

// The `Cookie` header reader against the `cookie` package (jshttp, the parser Express and Fastify
// use), which the core depended on before: same pairs, same raw values, same first-wins rule.
import { parse } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookieValue, cookieValues, parseCookieHeader } from '../../src/context/cookie-header.js';

const RAW = { decode: (value: string) => value };

// Headers built from the characters that matter to the grammar, plus ordinary cookie text.
const headerText = fc.string({
  unit: fc.constantFrom(';', '=', ' ', '\t', '"', '%', 'a', 'b', '_', 'f', 'p', '.', '1', 'é'),
  maxLength: 60,
});
const realistic = fc
  .array(
    fc.tuple(
      fc.constantFrom('_fbp', '_fbc', 'sid', 'consent', ' _fbp', '_fbp ', '', 'a b'),
      fc.string({ maxLength: 12 }).filter((v) => !v.includes(';')),
      fc.constantFrom('; ', ';', ' ; ', ';\t'),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([name, value, sep]) => `${name}=${value}${sep}`).join(''));

describe('parseCookieHeader', () => {
  it('reads name=value pairs raw, trimmed, first one winning', () => {
    const jar = parseCookieHeader(
      ' _fbp=fb.1.1700000000000.123 ;_fbc = fb.1.1.Ab%20C ; _fbp=second; flag; q="x y"',
    );
    expect({ ...jar }).toEqual({
      _fbp: 'fb.1.1700000000000.123',
      _fbc: 'fb.1.1.Ab%20C',
      q: '"x y"',
    });
    expect(Object.getPrototypeOf(jar)).toBeNull();
    expect({ ...parseCookieHeader('') }).toEqual({});
  });

  it('agrees with the cookie package on any header', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, realistic), (header) => {
        // The package returns nothing for a header shorter than 2 characters, even `=`; here
        // that is a nameless empty cookie, which no lookup by name can see either way.
        fc.pre(header.length >= 2);
        expect({ ...parseCookieHeader(header) }).toEqual({ ...parse(header, RAW) });
      }),
      { numRuns: 2000 },
    );
  });

  it('handles a header of thousands of pairs without `=` (linear, not a scan per pair)', () => {
    const header = `${'x;'.repeat(50_000)}_fbp=fb.1.2.3`;
    expect(parseCookieHeader(header)._fbp).toBe('fb.1.2.3');
    expect(cookieValue(header, '_fbp')).toBe('fb.1.2.3');
  });
});

describe('cookieValue', () => {
  it('returns the first value of one cookie, as parseCookieHeader would', () => {
    fc.assert(
      fc.property(
        fc.oneof(headerText, realistic),
        fc.constantFrom('_fbp', '_fbc', 'a', ''),
        (header, name) => {
          expect(cookieValue(header, name)).toBe(parseCookieHeader(header)[name]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('cookieValues', () => {
  it('returns the first value of each of two cookies, as parseCookieHeader would', () => {
    fc.assert(
      fc.property(
        fc.oneof(headerText, realistic),
        fc.constantFrom<[string, string]>(
          ['_fbp', '_fbc'],
          ['_fbc', '_fbp'],
          ['a', '_fbp'],
          ['', 'b'],
        ),
        (header, [first, second]) => {
          const jar = parseCookieHeader(header);
          expect(cookieValues(header, first, second)).toEqual([jar[first], jar[second]]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('compares names exactly (a prefix or a longer name is another cookie)', () => {
    expect(cookieValues('_fb=1; _fbpx=2; _fbp =3; _fbc=4; _fbp=5', '_fbp', '_fbc')).toEqual([
      '3',
      '4',
    ]);
  });
});

describe('lookups with an accept test', () => {
  const digits = (value: string) => /^[0-9]+$/.test(value);

  it('take the first value that passes, skipping earlier ones of the same name', () => {
    const header = 'a=x; b=; a=12; b=3; a=45';
    expect(cookieValue(header, 'a', digits)).toBe('12');
    expect(cookieValues(header, 'a', 'b', digits)).toEqual(['12', '3']);
    expect(cookieValue('a=x; a=y', 'a', digits)).toBeUndefined();
    expect(cookieValues('a=x; b=1', 'a', 'b', digits)).toEqual([undefined, '1']);
  });

  it('agree with filtering every pair of the header', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, realistic), (header) => {
        const all = header.split(';').flatMap((pair) => {
          const equals = pair.indexOf('=');
          return equals === -1
            ? []
            : [[pair.slice(0, equals).trim(), pair.slice(equals + 1).trim()]];
        });
        const firstPassing = (name: string) =>
          all.find(([n, v]) => n === name && v !== undefined && v.startsWith('f'))?.[1];
        const accept = (value: string) => value.startsWith('f');
        expect(cookieValue(header, '_fbp', accept)).toBe(firstPassing('_fbp'));
        expect(cookieValues(header, '_fbp', '_fbc', accept)).toEqual([
          firstPassing('_fbp'),
          firstPassing('_fbc'),
        ]);
      }),
      { numRuns: 2000 },
    );
  });
});

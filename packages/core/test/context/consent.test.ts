import { describe, expect, it, vi } from 'vitest';
import type {
  ConsentState,
  ParsedRequest,
  RequestContextOptions,
} from '../../src/context/index.js';
import { contextOf, type RequestSpec } from './request-shapes.js';

const LANDING: RequestSpec = {
  url: 'https://www.example.com/?fbclid=AbC',
  headers: { 'sec-fetch-dest': 'document', cookie: '_fbp=fb.1.1690000000000.42; consent=ads%3Ano' },
};

const fixed =
  (state: ConsentState): RequestContextOptions['consent'] =>
  () =>
    state;

describe('consent', () => {
  it('defaults to granted, with no LDU fields', () => {
    const context = contextOf(LANDING);
    expect(context.consent).toBe('granted');
    expect(context).not.toHaveProperty('data_processing_options');
    expect(context.cookiesToSet.length).toBeGreaterThan(0);
  });

  it('denied: no cookies are written and no _fbp is minted', () => {
    const denied = contextOf(LANDING, { consent: fixed('denied') });
    expect(denied.consent).toBe('denied');
    expect(denied.cookiesToSet).toEqual([]);
    const fresh = contextOf(
      { url: 'https://www.example.com/', headers: { 'sec-fetch-dest': 'document' } },
      { consent: fixed('denied') },
    );
    expect(fresh.user_data.fbp).toBeUndefined();
  });

  it('ldu: LDU fields with country/state 0 (geolocate) by default, cookies still written', () => {
    const context = contextOf(LANDING, { consent: fixed('ldu') });
    expect(context).toMatchObject({
      consent: 'ldu',
      data_processing_options: ['LDU'],
      data_processing_options_country: 0,
      data_processing_options_state: 0,
    });
    expect(context.cookiesToSet.length).toBeGreaterThan(0);
  });

  it('ldu with a configured location', () => {
    const context = contextOf(LANDING, { consent: fixed('ldu'), ldu: { country: 1, state: 1000 } });
    expect(context).toMatchObject({
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    });
  });

  it('the callback gets the input and the parsed request (raw cookie values)', () => {
    const consent = vi.fn(
      (_input: unknown, request: ParsedRequest): ConsentState =>
        request.cookies.consent === 'ads%3Ano' && request.header('sec-fetch-dest') === 'document'
          ? 'denied'
          : 'granted',
    );
    expect(contextOf(LANDING, { consent }).consent).toBe('denied');
    expect(consent).toHaveBeenCalledTimes(2);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('cmp not loaded');
      },
    ],
    ['returns something else', () => 'yes' as unknown as ConsentState],
  ])('a callback that %s counts as denied', (_name, consent) => {
    const context = contextOf(LANDING, { consent });
    expect(context.consent).toBe('denied');
    expect(context.cookiesToSet).toEqual([]);
  });

  it.each([
    [true, undefined, 'ldu'],
    [false, undefined, 'granted'],
    [true, 'granted', 'ldu'],
    [true, 'denied', 'denied'],
    [true, 'ldu', 'ldu'],
  ] as const)(
    'Sec-GPC: 1 with respectGpc=%s and callback %s → %s',
    (respectGpc, answer, expected) => {
      const spec: RequestSpec = { ...LANDING, headers: { ...LANDING.headers, 'sec-gpc': '1' } };
      const options: RequestContextOptions = { respectGpc };
      if (answer !== undefined) options.consent = fixed(answer);
      expect(contextOf(spec, options).consent).toBe(expected);
    },
  );

  it('Sec-GPC other than 1 is not a signal', () => {
    const spec: RequestSpec = { ...LANDING, headers: { ...LANDING.headers, 'sec-gpc': '0' } };
    expect(contextOf(spec, { respectGpc: true }).consent).toBe('granted');
  });
});

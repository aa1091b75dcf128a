import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { mergeContext, type RequestContext } from '../../src/context/index.js';

const CONTEXT: RequestContext = {
  user_data: {
    client_ip_address: '198.51.100.7',
    client_user_agent: 'UA/1',
    fbp: 'fb.1.1700000000000.42',
    fbc: 'fb.1.1700000000000.AbC',
  },
  event_source_url: 'https://www.example.com/p',
  referrer_url: 'https://www.google.com/',
  cookiesToSet: [],
  consent: 'ldu',
  isNavigation: true,
  data_processing_options: ['LDU'],
  data_processing_options_country: 0,
  data_processing_options_state: 0,
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('mergeContext', () => {
  it('fills everything the request knows into an empty input', () => {
    expect(mergeContext({ event_name: 'PageView' }, CONTEXT)).toEqual({
      event_name: 'PageView',
      user_data: CONTEXT.user_data,
      event_source_url: 'https://www.example.com/p',
      referrer_url: 'https://www.google.com/',
      data_processing_options: ['LDU'],
      data_processing_options_country: 0,
      data_processing_options_state: 0,
    });
  });

  it('explicit values always win, field by field', () => {
    const merged = mergeContext(
      {
        event_name: 'Lead',
        user_data: { em: ['abc'], client_ip_address: '2001:db8::1', fbc: 'fb.1.1.mine' },
        event_source_url: 'https://www.example.com/explicit',
        data_processing_options_country: 1,
      },
      CONTEXT,
    );
    expect(merged).toEqual({
      event_name: 'Lead',
      user_data: {
        em: ['abc'],
        client_ip_address: '2001:db8::1',
        client_user_agent: 'UA/1',
        fbp: 'fb.1.1700000000000.42',
        fbc: 'fb.1.1.mine',
      },
      event_source_url: 'https://www.example.com/explicit',
      referrer_url: 'https://www.google.com/',
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 0,
    });
  });

  it('an explicit data_processing_options (even []) keeps the input’s LDU choice entirely', () => {
    const merged = mergeContext({ event_name: 'Lead', data_processing_options: [] }, CONTEXT);
    expect(merged.data_processing_options).toEqual([]);
    expect(merged).not.toHaveProperty('data_processing_options_country');
    expect(merged).not.toHaveProperty('data_processing_options_state');
  });

  it('adds nothing the context does not have', () => {
    const empty: RequestContext = {
      user_data: {},
      cookiesToSet: [],
      consent: 'granted',
      isNavigation: false,
    };
    const input = { event_name: 'Lead', custom_data: { value: 1 } };
    const merged = mergeContext(input, empty);
    expect(merged).toEqual(input);
    expect(merged).not.toHaveProperty('user_data');
    expect(merged).not.toBe(input);
  });

  it('copies an own __proto__ key (parsed JSON) as data, never as the copy’s prototype', () => {
    const input = JSON.parse(
      '{"event_name":"Lead","__proto__":{"polluted":true},"user_data":{"__proto__":{"x":1},"em":"a@b.co"}}',
    );
    const merged = mergeContext(input, CONTEXT) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged.polluted).toBeUndefined();
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    const userData = merged.user_data as Record<string, unknown>;
    expect(Object.getPrototypeOf(userData)).toBe(Object.prototype);
    expect(userData.x).toBeUndefined();
    expect(userData).toMatchObject({ em: 'a@b.co', client_ip_address: '198.51.100.7' });
  });

  it('leaves a user_data that is not an object to the build: never spread, never thrown on', () => {
    // A string was spread into one key per character (the event then went to Meta without it, with
    // a warning per character) and null threw inside track().
    for (const user_data of ['jane@example.com', null, ['jane@example.com'], 42]) {
      const merged = mergeContext({ event_name: 'Lead', user_data } as never, CONTEXT) as {
        user_data: unknown;
        event_source_url: string;
      };
      expect(merged.user_data).toBe(user_data);
      expect(merged.event_source_url).toBe('https://www.example.com/p');
    }
  });

  it('never mutates either argument', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            event_name: fc.constant('Lead'),
            user_data: fc.record(
              { em: fc.array(fc.string()), client_ip_address: fc.string(), fbp: fc.string() },
              { requiredKeys: [] },
            ),
            event_source_url: fc.webUrl(),
            data_processing_options: fc.constantFrom<string[]>([], ['LDU']),
          },
          { requiredKeys: ['event_name'] },
        ),
        (input) => {
          const frozenInput = deepFreeze(structuredClone(input));
          const frozenContext = deepFreeze(structuredClone(CONTEXT));
          const merged = mergeContext(frozenInput, frozenContext);
          expect(frozenInput).toEqual(input);
          expect(frozenContext).toEqual(CONTEXT);
          // Explicit values survive untouched.
          for (const [key, value] of Object.entries(input.user_data ?? {})) {
            expect((merged.user_data as Record<string, unknown>)[key]).toEqual(value);
          }
          if (input.event_source_url !== undefined)
            expect(merged.event_source_url).toBe(input.event_source_url);
        },
      ),
    );
  });

  it('is typed over the caller’s own input type', () => {
    interface UserData {
      em?: string[];
      client_ip_address?: string;
      client_user_agent?: string;
      fbp?: string;
      fbc?: string;
    }
    interface EventInput {
      event_name: string;
      user_data?: UserData;
      event_source_url?: string;
      referrer_url?: string;
      data_processing_options?: string[];
    }
    const input: EventInput = { event_name: 'Purchase' };
    expectTypeOf(mergeContext(input, CONTEXT)).toEqualTypeOf<EventInput>();
    expectTypeOf(mergeContext({ event_name: 'x' }, CONTEXT)).toEqualTypeOf<{
      event_name: string;
    }>();
    // @ts-expect-error event_source_url must be a string
    mergeContext({ event_source_url: 5 }, CONTEXT);
    // @ts-expect-error user_data must be an object
    mergeContext({ user_data: 'x' }, CONTEXT);
  });
});

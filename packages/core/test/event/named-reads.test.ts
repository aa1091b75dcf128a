import { describe, expect, it } from 'vitest';
import {
  KNOWN_CUSTOM_DATA_KEYS,
  knownValuesOf,
  writeKnownValue,
} from '../../src/event/custom-data.js';
import { buildEvent } from '../../src/event/index.js';
import {
  HASHED_USER_DATA_KEYS,
  hashedValuesOf,
  PLAIN_USER_DATA_KEYS,
  plainValuesOf,
  writeHashedValue,
  writePlainValue,
} from '../../src/user-data/keys.js';

// The hot path reads these key lists by name (one function per list), not with `source[key]` in a
// loop: each function must return exactly its list's values, in the list's order.
const lists = [
  ['HASHED_USER_DATA_KEYS', HASHED_USER_DATA_KEYS, hashedValuesOf],
  ['PLAIN_USER_DATA_KEYS', PLAIN_USER_DATA_KEYS, plainValuesOf],
  ['custom_data known keys', KNOWN_CUSTOM_DATA_KEYS, knownValuesOf],
] as const;

describe('key lists read by name', () => {
  it.each(lists)('%s: every key, in order, and nothing else', (_, keys, read) => {
    const source = Object.fromEntries(keys.map((key) => [key, `value of ${key}`]));
    expect(read(source)).toEqual(keys.map((key) => `value of ${key}`));
    expect(read({ unrelated: 1 })).toEqual(keys.map(() => undefined));
  });

  // And written by name (one store site per key): entry i of each list is written to its own key.
  const writers = [
    ['HASHED_USER_DATA_KEYS', HASHED_USER_DATA_KEYS, writeHashedValue],
    ['PLAIN_USER_DATA_KEYS', PLAIN_USER_DATA_KEYS, writePlainValue],
    ['custom_data known keys', KNOWN_CUSTOM_DATA_KEYS, writeKnownValue],
  ] as const;
  it.each(writers)('%s: written by index, each to its own key, in list order', (_, keys, write) => {
    const write_ = write as (out: object, index: number, value: never) => void;
    keys.forEach((key, i) => {
      const one = {};
      write_(one, i, [`value ${i}`] as never);
      expect(one).toEqual({ [key]: [`value ${i}`] });
    });
    const all = {};
    for (let i = 0; i < keys.length; i++) write_(all, i, i as never);
    expect(Object.keys(all)).toEqual([...keys]);
    expect(() => write_({}, keys.length, 1 as never)).toThrow(RangeError);
  });

  it('still reads keys a class provides through getters on its prototype', () => {
    class Customer {
      get em() {
        return 'Getter@Example.com';
      }
      get client_ip_address() {
        return '203.0.113.9';
      }
    }
    class Cart {
      get value() {
        return 12;
      }
      get currency() {
        return 'eur';
      }
    }
    const { event, issues } = buildEvent({
      event_name: 'Purchase',
      action_source: 'system_generated',
      user_data: new Customer() as never,
      custom_data: new Cart() as never,
    });
    expect(issues).toEqual([]);
    expect(event?.user_data.em).toHaveLength(1);
    expect(event?.user_data.client_ip_address).toBe('203.0.113.9');
    expect(event?.custom_data).toEqual({ value: 12, currency: 'EUR' });
  });

  it('a Purchase without custom_data still names both missing fields', () => {
    for (const custom_data of [undefined, null]) {
      const { event, issues } = buildEvent({
        event_name: 'Purchase',
        action_source: 'system_generated',
        user_data: { em: 'a@example.com' },
        custom_data: custom_data as never,
      });
      expect(event).toBeUndefined();
      expect(issues.map((issue) => [issue.path, issue.code, issue.severity])).toEqual([
        ['custom_data.value', 'missing_value', 'error'],
        ['custom_data.currency', 'missing_currency', 'error'],
      ]);
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  CapiValidationError,
  type Issue,
  type ServerEventInput,
} from '../../src/event/index.js';
import { HASHED_USER_DATA_KEYS, PLAIN_USER_DATA_KEYS } from '../../src/user-data/index.js';

// Issues end up in logs and error trackers, so they must never carry a customer's data: every
// message and path is checked for the raw value (and its trimmed and lowercased forms).

const NOW = Date.UTC(2026, 8, 12);

const piiValue = fc
  .oneof(
    fc.string({ minLength: 8 }),
    fc.string({ unit: 'binary', minLength: 8 }),
    fc.string({ unit: 'grapheme', minLength: 8 }),
    fc.emailAddress(),
    fc.stringMatching(/^\+?[0-9 ()\-.]{8,20}$/),
    fc.constantFrom(
      'John_Smith@gmail.com',
      '+44 (0)7911 123456',
      '2/16/1997',
      'São Paulo 01310-100',
    ),
  )
  .filter((value) => value.trim().length >= 8);

function leaks(issues: readonly Issue[], value: string): string[] {
  const forms = new Set([value, value.trim(), value.trim().toLowerCase()]);
  const found: string[] = [];
  for (const issue of issues) {
    for (const form of forms) {
      if (issue.message.includes(form) || issue.path.includes(form)) found.push(issue.code);
    }
  }
  return found;
}

function eventWith(value: string, asList: boolean): ServerEventInput {
  const userData: Record<string, unknown> = {};
  for (const key of HASHED_USER_DATA_KEYS)
    userData[key] = asList ? [value, value.toUpperCase()] : value;
  for (const key of PLAIN_USER_DATA_KEYS) userData[key] = value;
  return {
    event_name: 'Purchase',
    event_id: 'evt-1',
    event_source_url: value,
    referrer_url: value,
    user_data: userData,
    custom_data: { value: 10, currency: value, contents: [{ id: 'a', delivery_category: value }] },
    original_event_data: { event_time: value },
    data_processing_options: [value],
  } as unknown as ServerEventInput;
}

describe('issues never contain the PII value', () => {
  it.each([
    ['single values', false],
    ['lists', true],
  ])('in messages and paths, for %s', (_label, asList) => {
    fc.assert(
      fc.property(piiValue, (value) => {
        const { issues } = buildEvent(eventWith(value, asList), {
          now: () => NOW,
          defaultCountry: 'us',
        });
        expect(issues.length).toBeGreaterThan(0);
        expect(leaks(issues, value)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('in the strict-mode error message', () => {
    fc.assert(
      fc.property(piiValue, (value) => {
        try {
          buildEvent(eventWith(value, false), { now: () => NOW, strict: true });
        } catch (error) {
          expect(error).toBeInstanceOf(CapiValidationError);
          const message = (error as Error).message;
          expect(message.includes(value) || message.includes(value.trim())).toBe(false);
          return;
        }
        throw new Error('expected strict mode to throw');
      }),
      { numRuns: 200 },
    );
  });

  it('for a too-broad event built from plausible values', () => {
    const { issues } = buildEvent(
      {
        event_name: 'Lead',
        event_source_url: 'https://shop.example/',
        user_data: { fn: 'Mary', ge: 'female' },
      },
      { now: () => NOW },
    );
    expect(issues.map((i) => i.code)).toEqual(['missing_client_user_agent', 'user_data_too_broad']);
    expect(leaks(issues, 'Mary')).toEqual([]);
    expect(leaks(issues, 'mary')).toEqual([]);
  });
});

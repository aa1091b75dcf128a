import type { UserData } from './types.js';

// Meta rejects an event whose customer information is only a subset of one of these combinations,
// as too broad to match a person (error 2804050, "insufficient customer information").
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/best-practices [BP]

const CT = 1 << 0;
const COUNTRY = 1 << 1;
const ST = 1 << 2;
const ZP = 1 << 3;
const GE = 1 << 4;
const USER_AGENT = 1 << 5;
const DB = 1 << 6;
const FN = 1 << 7;
const LN = 1 << 8;
const OTHER = 1 << 9;

// A Map rather than an object: a lookup by a key from a `for…in` is a megamorphic keyed read on
// an object (about twice a Map's price, callgrind), and needs an own-property check besides.
const BITS: ReadonlyMap<string, number> = new Map([
  ['ct', CT],
  ['country', COUNTRY],
  ['st', ST],
  ['zp', ZP],
  ['ge', GE],
  ['client_user_agent', USER_AGENT],
  ['db', DB],
  ['fn', FN],
  ['ln', LN],
]);

const TOO_BROAD = [CT | COUNTRY | ST | ZP | GE | USER_AGENT, DB | USER_AGENT, FN | GE, LN | GE];

/**
 * True when the keys of `userData` are a non-empty subset of one of Meta's too-broad combinations:
 * {ct, country, st, zp, ge, client_user_agent}, {db, client_user_agent}, {fn, ge} or {ln, ge}.
 * @example isUserDataTooBroad({ fn: ['…'], ge: ['…'] }) // true
 */
export function isUserDataTooBroad(userData: UserData): boolean {
  let mask = 0;
  for (const key in userData) {
    if ((userData as Record<string, unknown>)[key] === undefined) continue;
    mask |= BITS.get(key) ?? OTHER;
  }
  if (mask === 0) return false;
  for (const combination of TOO_BROAD) if ((mask & ~combination) === 0) return true;
  return false;
}

import { closestName } from '../event/spelling.js';
import { HASHED_USER_DATA_KEYS, PLAIN_USER_DATA_KEYS } from './keys.js';

// Meta's customer information parameters have short names (`em`, `ph`, `fn`…):
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// A developer new to them writes the long name (`email`, `phone`, `first_name`) and the value is
// dropped; the warning names Meta's key so the fix is one rename away.

/** Long names people write, lowercased with `_`, `-` and spaces removed, and Meta's key for each. */
const LONG_NAMES: Readonly<Record<string, string>> = {
  email: 'em',
  emails: 'em',
  emailaddress: 'em',
  mail: 'em',
  phone: 'ph',
  phones: 'ph',
  phonenumber: 'ph',
  telephone: 'ph',
  tel: 'ph',
  mobile: 'ph',
  firstname: 'fn',
  givenname: 'fn',
  lastname: 'ln',
  surname: 'ln',
  familyname: 'ln',
  dateofbirth: 'db',
  birthdate: 'db',
  birthday: 'db',
  dob: 'db',
  gender: 'ge',
  sex: 'ge',
  city: 'ct',
  town: 'ct',
  state: 'st',
  province: 'st',
  region: 'st',
  zip: 'zp',
  zipcode: 'zp',
  postalcode: 'zp',
  postcode: 'zp',
  countrycode: 'country',
  externalid: 'external_id',
  userid: 'external_id',
  customerid: 'external_id',
  ip: 'client_ip_address',
  ipaddress: 'client_ip_address',
  clientip: 'client_ip_address',
  useragent: 'client_user_agent',
  clientuseragent: 'client_user_agent',
};

const ALL_KEYS: readonly string[] = [...HASHED_USER_DATA_KEYS, ...PLAIN_USER_DATA_KEYS];

/**
 * Meta's `user_data` key that `key` (not one of them) most likely means: a long name (`email`,
 * `firstName`, `zip_code`) or a misspelling (`client_ip_adress`). `undefined` when nothing is close.
 */
export function meantUserDataKey(key: string): string | undefined {
  return LONG_NAMES[key.toLowerCase().replace(/[\s_-]+/g, '')] ?? closestName(key, ALL_KEYS);
}

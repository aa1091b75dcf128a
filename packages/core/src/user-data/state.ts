import { compactLowercase, lookupKey } from './compact-text.js';

// `st`: the 2-character ANSI abbreviation, lowercase; states outside the US lowercase with no
// punctuation, special characters or spaces.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// US and Canadian names are mapped to their postal codes (English and, for Canada, French names).

const US_STATES: readonly (readonly [code: string, ...names: string[]])[] = [
  ['al', 'Alabama'],
  ['ak', 'Alaska'],
  ['az', 'Arizona'],
  ['ar', 'Arkansas'],
  ['ca', 'California'],
  ['co', 'Colorado'],
  ['ct', 'Connecticut'],
  ['de', 'Delaware'],
  ['dc', 'District of Columbia', 'Washington DC', 'Washington D.C.'],
  ['fl', 'Florida'],
  ['ga', 'Georgia'],
  ['hi', 'Hawaii', "Hawai'i"],
  ['id', 'Idaho'],
  ['il', 'Illinois'],
  ['in', 'Indiana'],
  ['ia', 'Iowa'],
  ['ks', 'Kansas'],
  ['ky', 'Kentucky'],
  ['la', 'Louisiana'],
  ['me', 'Maine'],
  ['md', 'Maryland'],
  ['ma', 'Massachusetts'],
  ['mi', 'Michigan'],
  ['mn', 'Minnesota'],
  ['ms', 'Mississippi'],
  ['mo', 'Missouri'],
  ['mt', 'Montana'],
  ['ne', 'Nebraska'],
  ['nv', 'Nevada'],
  ['nh', 'New Hampshire'],
  ['nj', 'New Jersey'],
  ['nm', 'New Mexico'],
  ['ny', 'New York'],
  ['nc', 'North Carolina'],
  ['nd', 'North Dakota'],
  ['oh', 'Ohio'],
  ['ok', 'Oklahoma'],
  ['or', 'Oregon'],
  ['pa', 'Pennsylvania'],
  ['ri', 'Rhode Island'],
  ['sc', 'South Carolina'],
  ['sd', 'South Dakota'],
  ['tn', 'Tennessee'],
  ['tx', 'Texas'],
  ['ut', 'Utah'],
  ['vt', 'Vermont'],
  ['va', 'Virginia'],
  ['wa', 'Washington'],
  ['wv', 'West Virginia'],
  ['wi', 'Wisconsin'],
  ['wy', 'Wyoming'],
  ['as', 'American Samoa'],
  ['gu', 'Guam'],
  ['mp', 'Northern Mariana Islands'],
  ['pr', 'Puerto Rico'],
  ['vi', 'U.S. Virgin Islands', 'US Virgin Islands', 'Virgin Islands'],
  ['um', 'U.S. Minor Outlying Islands', 'United States Minor Outlying Islands'],
  ['aa', 'Armed Forces Americas'],
  ['ae', 'Armed Forces Europe'],
  ['ap', 'Armed Forces Pacific'],
];

const CANADIAN_PROVINCES: readonly (readonly [code: string, ...names: string[]])[] = [
  ['ab', 'Alberta'],
  ['bc', 'British Columbia', 'Colombie-Britannique'],
  ['mb', 'Manitoba'],
  ['nb', 'New Brunswick', 'Nouveau-Brunswick'],
  ['nl', 'Newfoundland and Labrador', 'Newfoundland', 'Terre-Neuve-et-Labrador'],
  ['ns', 'Nova Scotia', 'Nouvelle-Écosse'],
  ['nt', 'Northwest Territories', 'Territoires du Nord-Ouest'],
  ['nu', 'Nunavut'],
  ['on', 'Ontario'],
  ['pe', 'Prince Edward Island', 'Île-du-Prince-Édouard'],
  ['qc', 'Quebec', 'Québec'],
  ['sk', 'Saskatchewan'],
  ['yt', 'Yukon', 'Yukon Territory'],
];

type Table = Map<string, string>;
let usTable: Table | undefined;
let caTable: Table | undefined;

function buildTable(rows: readonly (readonly [string, ...string[]])[]): Table {
  const table: Table = new Map();
  for (const [code, ...names] of rows) {
    for (const name of names) table.set(lookupKey(name), code);
  }
  return table;
}

function usStates(): Table {
  usTable ??= buildTable(US_STATES);
  return usTable;
}

function canadianProvinces(): Table {
  caTable ??= buildTable(CANADIAN_PROVINCES);
  return caTable;
}

/** `US-CA`, `CA-ON`: ISO 3166-2 subdivision codes of the two countries whose names we map. */
function isoSubdivision(value: string): string | undefined {
  if (value.length !== 5 || (value.charCodeAt(2) !== 0x2d && value.charCodeAt(2) !== 0x20)) {
    return undefined;
  }
  const country = value.slice(0, 2).toLowerCase();
  return country === 'us' || country === 'ca' ? compactLowercase(value.slice(3)) : undefined;
}

/**
 * Normalizes a state or province. US states and Canadian provinces become their lowercase 2-letter
 * code (`California` → `ca`, `Québec` → `qc`, `US-NY` → `ny`) unless `country` (ISO alpha-2, any
 * case) says the address is elsewhere; other values are lowercased with spaces and punctuation
 * removed. Returns `undefined` when nothing is left.
 * @example normalizeState('California') // 'ca'
 */
export function normalizeState(value: string, country?: string | undefined): string | undefined {
  const trimmed = value.trim();
  const code = isoSubdivision(trimmed);
  if (code !== undefined && code.length === 2) return code;
  const state = compactLowercase(trimmed);
  if (state.length <= 2) return state === '' ? undefined : state;
  const where = country?.toLowerCase();
  if (where !== undefined && where !== 'us' && where !== 'ca') return state;
  const key = lookupKey(state);
  if (where !== 'ca') {
    const us = usStates().get(key);
    if (us !== undefined) return us;
  }
  if (where !== 'us') {
    const ca = canadianProvinces().get(key);
    if (ca !== undefined) return ca;
  }
  return state;
}

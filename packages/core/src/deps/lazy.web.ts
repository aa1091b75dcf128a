import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { getDomain } from 'tldts';
import type { PhoneLibrary, PublicSuffixLibrary } from './types.js';

// Edge runtimes, workers and browsers have no synchronous `require`, and their bundlers need
// static imports to include a dependency: both libraries load with the module here (see
// lazy.node.ts for Node, where they load on first use).
const phone: PhoneLibrary = { parsePhoneNumberFromString };
const publicSuffix: PublicSuffixLibrary = { getDomain };

/** `libphonenumber-js/min` (imported statically on this runtime). */
export const phoneLibrary = (): PhoneLibrary => phone;

/** `tldts` (imported statically on this runtime). */
export const publicSuffixLibrary = (): PublicSuffixLibrary => publicSuffix;

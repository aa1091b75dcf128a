import type * as Phone from 'libphonenumber-js/min';
import type * as PublicSuffix from 'tldts';

/** The parts of `libphonenumber-js/min` the phone normalization uses. */
export type PhoneLibrary = Pick<typeof Phone, 'parsePhoneNumberFromString'>;

/** The part of `tldts` the cookie scope uses. */
export type PublicSuffixLibrary = Pick<typeof PublicSuffix, 'getDomain'>;

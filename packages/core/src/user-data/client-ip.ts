import { parseIpv4, parseIpv6 } from '../context/ip-address.js';
import { isAppendix } from './prehashed.js';

// `client_ip_address`: a valid IPv4 or IPv6 address (IPv6 preferred), no spaces; never hashed.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// Meta's Parameter Builder returns `<ip>.<appendix>`, which Meta says to send as-is.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library [PBL]

function isIp(text: string): boolean {
  return text.indexOf(':') === -1 ? parseIpv4(text) !== undefined : parseIpv6(text) !== undefined;
}

/**
 * True for a bare IPv4 or IPv6 address (no port, brackets or zone id), optionally followed by a
 * Parameter Builder appendix.
 * @example isClientIpAddress('2001:db8::1') // true
 */
export function isClientIpAddress(value: string): boolean {
  if (isIp(value)) return true;
  const dot = value.lastIndexOf('.');
  return dot > 0 && isAppendix(value, dot + 1) && isIp(value.slice(0, dot));
}

import { parseIp, parseIpv4, parseIpv6 } from '../context/ip-address.js';
import { isInternalAddress } from '../context/trust-proxy.js';
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

/**
 * True for an address no visitor has: loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12,
 * 192.168/16, fc00::/7) or link-local (169.254/16, fe80::/10), the ranges Meta's Parameter
 * Builder ranks below a public address [PBL]. Such a `client_ip_address` is a proxy's or the
 * server's own (`req.socket.remoteAddress` behind nginx) and matches no one. A Parameter Builder
 * appendix is looked past; anything that is not an address is `false` (reported elsewhere).
 * @example isInternalClientIp('10.0.0.7') // true
 */
export function isInternalClientIp(value: string): boolean {
  const text = value.trim();
  let address = parseIp(text);
  if (address === undefined) {
    const dot = text.lastIndexOf('.');
    if (dot <= 0 || !isAppendix(text, dot + 1)) return false;
    address = parseIp(text.slice(0, dot));
  }
  return address !== undefined && isInternalAddress(address);
}

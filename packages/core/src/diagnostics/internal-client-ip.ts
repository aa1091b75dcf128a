// Whether a `client_ip_address` is loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16,
// fc00::/7) or link-local (169.254/16, fe80::/10): a proxy's or the server's own address, never a
// visitor's, so Meta matches no one on it ([CIP]; [PBL] ranks public over private). Read on every
// scored event, so a look at the first characters, not a parse: the wire value is an address
// (buildEvent checked it), maybe with a Parameter Builder appendix after it, which a prefix
// ignores. user-data/client-ip.ts's isInternalClientIp parses, for the caller's own value.
// No imports, on purpose: @capi-kit/testing's mock bundles match-quality.ts, which imports this.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library [PBL]

const digit = (value: string, at: number): number => {
  const c = value.charCodeAt(at) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/** True when the address is 172.16.0.0/12: `172.` then 16 to 31 then a dot. */
const private172 = (value: string): boolean => {
  if (!value.startsWith('172.') || value.charCodeAt(6) !== 46) return false;
  const tens = digit(value, 4);
  const ones = digit(value, 5);
  return (
    (tens === 1 && ones >= 6) || (tens === 2 && ones >= 0) || (tens === 3 && ones <= 1 && ones >= 0)
  );
};

/**
 * True for a loopback, private or link-local address, judged on its first characters.
 * @example looksInternalClientIp('10.0.0.7') // true
 */
export const looksInternalClientIp = (value: string): boolean => {
  const first = value.charCodeAt(0);
  if (first === 49 /* 1 */) {
    return (
      value.startsWith('10.') ||
      value.startsWith('127.') ||
      value.startsWith('192.168.') ||
      value.startsWith('169.254.') ||
      private172(value)
    );
  }
  if (first === 58 /* : */) return value === '::1';
  // IPv6 whose first group is four hex digits: fc00::/7 is fcXX and fdXX, fe80::/10 fe8X to febX.
  if ((first | 32) !== 102 /* f */ || value.charCodeAt(4) !== 58) return false;
  const second = value.charCodeAt(1) | 32;
  if (second === 99 /* c */ || second === 100 /* d */) return true;
  if (second !== 101 /* e */) return false;
  const third = value.charCodeAt(2) | 32;
  return third === 56 || third === 57 || (third >= 97 && third <= 98); // 8, 9, a, b
};

/** True for a loopback address (127/8, ::1): a browser on the same machine, in development. */
export const isLoopbackClientIp = (value: string): boolean =>
  value.startsWith('127.') || value === '::1';

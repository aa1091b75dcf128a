// `currency`: an ISO 4217 code, required with `value` on purchases. Meta's own example sends `usd`
// while its Node SDK uppercases; we validate and send uppercase.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data [CD]
//
// Active ISO 4217 codes (list one, 2026), including funds and X-codes. Withdrawn codes are left out:
// BGN (euro since 2026), HRK (euro since 2023), ANG (XCG since 2025), ZWL (ZWG since 2024),
// SLL (SLE), CUC, VEF, MRO, STD.
const ISO_4217 =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP ' +
  'GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR ' +
  'KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN ' +
  'MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD ' +
  'SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX ' +
  'USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF ' +
  'XPT XSU XTS XUA XXX YER ZAR ZMW ZWG';

let codes: ReadonlySet<string> | undefined;

/** True for an active ISO 4217 code, uppercase. */
export function isCurrencyCode(code: string): boolean {
  codes ??= new Set(ISO_4217.split(' '));
  return codes.has(code);
}

/**
 * Uppercases and validates a currency code (`usd` → `USD`); `undefined` when it isn't an active
 * ISO 4217 code.
 * @example normalizeCurrency(' eur ') // 'EUR'
 */
export function normalizeCurrency(value: string): string | undefined {
  const code = value.trim().toUpperCase();
  return code.length === 3 && isCurrencyCode(code) ? code : undefined;
}

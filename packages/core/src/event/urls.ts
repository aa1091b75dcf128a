// `event_source_url` is the browser URL where the event happened and "should match the verified
// domain", so it must be an absolute http(s) URL.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]

// URL.canParse avoids allocating a URL object; older runtimes without it fall back to the constructor.
const canParse: (url: string) => boolean =
  typeof URL.canParse === 'function'
    ? (url) => URL.canParse(url)
    : (url) => {
        try {
          new URL(url);
          return true;
        } catch {
          return false;
        }
      };

function hasHttpScheme(value: string): boolean {
  const c = value.charCodeAt(4);
  const scheme = value.slice(0, c === 0x3a ? 7 : 8).toLowerCase();
  return scheme === 'http://' || scheme === 'https://';
}

/** True for an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(value: string): boolean {
  return hasHttpScheme(value) && canParse(value);
}

/** True for any absolute URL (referrers may be `android-app://…`). */
export function isAbsoluteUrl(value: string): boolean {
  return canParse(value);
}

// What is wrong with a pixel id or an access token as it was pasted, said without the value: one
// of the two is a secret, and with META_PIXEL_ID and META_ACCESS_TOKEN swapped the "pixel id" is
// the token. The token goes in the request body's `access_token`:
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api [UA]

/**
 * What is wrong with a token copied with something around it, or `undefined`. The token goes in
 * the body's `access_token` ([UA]) and Meta's tokens are letters and digits, so `Bearer EAA…`
 * (copied from a curl command or an HTTP client), `access_token=EAA…`, a token still in its
 * `.env` quotes, or one with a line break inside were sent as they were: Meta answered code 190
 * "Cannot parse access token", every event was held, and the log said only that the credentials
 * were refused. Never the value: it is the secret.
 */
export const tokenProblem = (token: string): string | undefined => {
  const scheme = /^(bearer|oauth)\s/i.exec(token)?.[1];
  if (scheme !== undefined) {
    return `starts with "${scheme} ": pass the token alone (capi-kit sends it in the request body)`;
  }
  // `access_token=EAA…` from a Graph API Explorer URL or a curl `-F` field, `META_ACCESS_TOKEN=EAA…`
  // from a whole .env line pasted into a secrets manager: the name is printed, never what follows.
  const name = /^(access_token|[A-Z][A-Z0-9_]*TOKEN[A-Z0-9_]*)=./.exec(token)?.[1];
  if (name !== undefined) {
    return `starts with "${name}=": pass the token alone (the part after "=")`;
  }
  if (/^["'`]|["'`]$/.test(token)) {
    return 'is wrapped in quotes (kept from a .env or YAML file?): pass the token without them';
  }
  if (/\s/.test(token)) {
    return 'contains whitespace (a space or line break pasted with it): a token has none';
  }
  // An app secret is 32 hex digits, and sits beside the app id on the same settings page; Meta's
  // access tokens are far longer and start with EAA. Sent, it drew code 190 as the others do.
  if (/^[0-9a-f]{32}$/i.test(token)) {
    return 'is shaped like an app secret (32 hexadecimal characters), not an access token: pass the Conversions API access token (generated in Events Manager › Settings, it starts with EAA); an app secret goes in appSecret';
  }
  return undefined;
};

/**
 * What is wrong with a pixel id that is not all digits, or `undefined` when it is: the message
 * lands in the app's start-up log, so it names the likely paste, never the text.
 */
export const pixelIdProblem = (pixelId: string): string | undefined => {
  if (/^\d+$/.test(pixelId)) return undefined;
  const base = `must be the numeric pixel (dataset) id; got ${pixelId.length} characters, not all digits`;
  if (pixelId.startsWith('EAA')) {
    return `${base} and shaped like an access token (pixelId and accessToken swapped?)`;
  }
  if (/^["'`]\d+["'`]$/.test(pixelId)) {
    return `${base} but digits in quotes (kept from a .env or YAML file?): pass the id without them`;
  }
  if (/^act_\d+$/.test(pixelId)) {
    return `${base}: act_… is an ad account id; the pixel (dataset) id is in Events Manager › Data sources`;
  }
  if (/^\d+(?:[\s-]+\d+)+$/.test(pixelId)) {
    return `${base} but digits with spaces or dashes between them: pass the digits alone`;
  }
  return base;
};

// @ts-check
// The example contract's environment (examples/README.md, "Environment").
import { missingTikTokVariable } from './tiktok.js';

/** The variables no example starts without. */
export const REQUIRED_ENV = /** @type {const} */ (['META_PIXEL_ID', 'META_ACCESS_TOKEN']);

/**
 * The one line an example prints when a required variable is missing: which, and how to get a
 * local stand-in for Meta (or TikTok, when only one of its two variables is set). `undefined` when
 * nothing is missing.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @param {string} framework e.g. `Express`
 */
export function missingEnvMessage(env, framework) {
  const missing = REQUIRED_ENV.filter((name) => (env[name] ?? '').trim() === '');
  if (missing.length > 0) {
    const names = missing.join(' and ');
    return (
      `capi-kit ${framework} example: ${names} ${missing.length === 1 ? 'is' : 'are'} not set. ` +
      'To run it without a Meta account, start the mock Graph API in another terminal ' +
      '(npx capi-kit-mock), paste the export lines it prints here, and run npm start again.'
    );
  }
  const tiktok = missingTikTokVariable(env);
  if (tiktok === undefined) return undefined;
  const other = tiktok === 'TIKTOK_ACCESS_TOKEN' ? 'TIKTOK_PIXEL_CODE' : 'TIKTOK_ACCESS_TOKEN';
  return (
    `capi-kit ${framework} example: ${other} is set but ${tiktok} is not. ` +
    'Set both to send to TikTok as well (the mock, npx capi-kit-mock, prints both), ' +
    'or neither for Meta alone, and run npm start again.'
  );
}

/**
 * `TRUST_PROXY` as capi-kit's `trustProxy` option: `true`/`false`, a hop count, or a comma list of
 * presets (`loopback`, `private`) and IPs/CIDRs.
 * @param {string | undefined} value
 * @returns {boolean | number | string[]}
 */
export function parseTrustProxy(value) {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim());
}

// @ts-check
// TikTok beside Meta (issue 23): the examples' TIKTOK_* variables (examples/README.md,
// "Environment") read once, here, into the `tiktok(…)` destination every example passes as
// `destinations`, and into what the landing page needs to load the TikTok Pixel. With neither
// TIKTOK_PIXEL_CODE nor TIKTOK_ACCESS_TOKEN set, every example is Meta-only, exactly as before.
import { tiktok } from '@capi-kit/tiktok';

/** The two variables that turn TikTok on: both set, or neither. */
export const TIKTOK_REQUIRED_ENV = /** @type {const} */ ([
  'TIKTOK_PIXEL_CODE',
  'TIKTOK_ACCESS_TOKEN',
]);

/**
 * @param {Readonly<Record<string, string | undefined>>} env
 * @param {string} name
 */
const read = (env, name) => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/**
 * `TIKTOK_PIXEL_CODE` or `TIKTOK_ACCESS_TOKEN` when only the other one is set: half a TikTok
 * configuration, which the examples refuse rather than quietly sending to Meta alone.
 * `undefined` when both or neither are set.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {(typeof TIKTOK_REQUIRED_ENV)[number] | undefined}
 */
export function missingTikTokVariable(env) {
  const [code, token] = TIKTOK_REQUIRED_ENV.map((name) => read(env, name) !== undefined);
  if (code === token) return undefined;
  return code ? 'TIKTOK_ACCESS_TOKEN' : 'TIKTOK_PIXEL_CODE';
}

/**
 * The examples' `destinations` option: `[tiktok(…)]` when `TIKTOK_PIXEL_CODE` and
 * `TIKTOK_ACCESS_TOKEN` are set (with `TIKTOK_EVENTS_URL`, the mock's or TikTok's, and
 * `TIKTOK_TEST_EVENT_CODE` when given), `[]` when neither is. Throws a `TypeError` naming the
 * missing variable when only one is set (the start scripts refuse that first, with one line).
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {import('@capi-kit/core').Destination[]}
 */
export function destinationsFromEnv(env) {
  const missing = missingTikTokVariable(env);
  if (missing !== undefined) {
    throw new TypeError(
      `${missing} is not set: set both TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN, or neither`,
    );
  }
  const pixelCode = read(env, 'TIKTOK_PIXEL_CODE');
  const accessToken = read(env, 'TIKTOK_ACCESS_TOKEN');
  if (pixelCode === undefined || accessToken === undefined) return [];
  return [
    tiktok({
      pixelCode,
      accessToken,
      apiUrl: read(env, 'TIKTOK_EVENTS_URL'),
      testEventCode: read(env, 'TIKTOK_TEST_EVENT_CODE'),
    }),
  ];
}

/**
 * What a page needs to load the TikTok Pixel: the pixel code and, from `TIKTOK_PIXEL_SCRIPT_URL`,
 * another events.js (the mock's stub); `undefined` when TikTok is not configured.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {TikTokPagePixel | undefined}
 */
export function tiktokPixelFromEnv(env) {
  const pixelCode = read(env, 'TIKTOK_PIXEL_CODE');
  if (pixelCode === undefined || read(env, 'TIKTOK_ACCESS_TOKEN') === undefined) return undefined;
  const scriptUrl = read(env, 'TIKTOK_PIXEL_SCRIPT_URL');
  return scriptUrl === undefined ? { pixelCode } : { pixelCode, scriptUrl };
}

/**
 * The TikTok Pixel of a page: its code, and where events.js is loaded from when not TikTok's.
 * @typedef {{ pixelCode: string, scriptUrl?: string }} TikTokPagePixel
 */

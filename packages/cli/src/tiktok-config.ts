import { TIKTOK_EVENTS_URL, tiktokEnvelope } from '@capi-kit/tiktok';
import { CliError, EXIT_CODES } from './exit-codes.js';

// TikTok's half of the configuration, read the way config.ts reads Meta's: flags override the
// environment, the token comes from the environment only (a flag would land in shell history and
// `ps`), and a malformed value is named with the flag or variable it came from. The variable names
// are the ones `capi-kit mock` and `capi-kit-mock` print (TIKTOK_EVENTS_URL, TIKTOK_ACCESS_TOKEN,
// TIKTOK_PIXEL_CODE), so the two paste into each other.

type Env = Readonly<Record<string, string | undefined>>;

/** Where and as whom the CLI talks to TikTok's Events API. */
export interface TikTokConfig {
  /** `--tiktok-pixel-code` or `TIKTOK_PIXEL_CODE` (the Pixel's `event_source_id`). */
  pixelCode: string;
  /** `TIKTOK_ACCESS_TOKEN`; sent only in the `Access-Token` header, never accepted as a flag. */
  accessToken: string;
  /** `--tiktok-events-url` or `TIKTOK_EVENTS_URL`, default TikTok's track endpoint. */
  eventsUrl: string;
}

/** Flags that override TikTok's environment. */
export interface TikTokFlags {
  'tiktok-pixel-code'?: string | undefined;
  'tiktok-events-url'?: string | undefined;
}

/** TikTok options shared by send-test and doctor, for `parseArgs`. */
export const TIKTOK_OPTIONS = {
  'tiktok-pixel-code': { type: 'string' },
  'tiktok-events-url': { type: 'string' },
  'tiktok-test-event-code': { type: 'string' },
} as const;

/** Help lines for {@link TIKTOK_OPTIONS} (options column aligned with every command's own, 27). */
export const TIKTOK_OPTIONS_HELP = `      --tiktok-pixel-code  TikTok pixel code (default: TIKTOK_PIXEL_CODE)
      --tiktok-events-url  TikTok track endpoint (default: TIKTOK_EVENTS_URL or
                           ${TIKTOK_EVENTS_URL})
      --tiktok-test-event-code C
                           TikTok Events Manager › Test events code (default: TIKTOK_TEST_EVENT_CODE)`;

/** `Environment:` lines for TikTok's variables. */
export const TIKTOK_ENV: readonly (readonly [string, string])[] = [
  ['TIKTOK_ACCESS_TOKEN', 'TikTok Events API access token (never printed, never a flag)'],
  ['TIKTOK_PIXEL_CODE', 'TikTok pixel code'],
  ['TIKTOK_EVENTS_URL', 'TikTok track endpoint (point it at `capi-kit mock`)'],
  ['TIKTOK_TEST_EVENT_CODE', 'TikTok Events Manager › Test events code'],
];

const nonEmpty = (value: string | undefined): string | undefined => {
  const v = value?.trim();
  return v ? v : undefined;
};

/** True when the environment or flags name a TikTok pixel or token (the URL alone does not count). */
export const tiktokConfigured = (env: Env, flags: TikTokFlags): boolean =>
  nonEmpty(flags['tiktok-pixel-code']) !== undefined ||
  nonEmpty(env.TIKTOK_PIXEL_CODE) !== undefined ||
  nonEmpty(env.TIKTOK_ACCESS_TOKEN) !== undefined;

/** One of TikTok's settings as read, before it is judged, and where it came from. */
export interface TikTokSetting {
  value: string | undefined;
  source: string;
}

/** TikTok's settings as given, unchecked: the doctor reports on them one by one. */
export interface TikTokSettings {
  pixelCode: TikTokSetting;
  accessToken: string | undefined;
  eventsUrl: { value: string; source: string };
}

/** Reads TikTok's settings without judging them (flags over environment, defaults filled in). */
export const readTikTokSettings = (env: Env, flags: TikTokFlags): TikTokSettings => {
  const flagCode = nonEmpty(flags['tiktok-pixel-code']);
  const flagUrl = nonEmpty(flags['tiktok-events-url']);
  const envUrl = nonEmpty(env.TIKTOK_EVENTS_URL);
  return {
    pixelCode:
      flagCode !== undefined
        ? { value: flagCode, source: '--tiktok-pixel-code' }
        : { value: nonEmpty(env.TIKTOK_PIXEL_CODE), source: 'TIKTOK_PIXEL_CODE' },
    accessToken: nonEmpty(env.TIKTOK_ACCESS_TOKEN),
    eventsUrl:
      flagUrl !== undefined
        ? { value: flagUrl, source: '--tiktok-events-url' }
        : envUrl !== undefined
          ? { value: envUrl, source: 'TIKTOK_EVENTS_URL' }
          : { value: TIKTOK_EVENTS_URL, source: 'the default' },
  };
};

/**
 * What @capi-kit/tiktok's own configuration check (`tiktokEnvelope`, the one `tiktok()` runs) says
 * of a pixel code and token, so the CLI refuses exactly what the destination would, before
 * anything is sent. Its messages quote neither value.
 */
const credentialsVerdict = (pixelCode: string, accessToken: string): string | undefined => {
  try {
    tiktokEnvelope({ pixelCode, accessToken });
    return undefined;
  } catch (error) {
    if (error instanceof TypeError) return error.message;
    throw error;
  }
};

// A stand-in token for judging a pixel code alone (the doctor checks each setting on its own).
const PLACEHOLDER_TOKEN = 'capi-kit-cli-placeholder-token';

/**
 * Why a pixel code is malformed, or undefined when it is fine: @capi-kit/tiktok's rule (letters
 * and digits, not a Meta pixel id's digits only, not a token given in its place). The value is
 * never quoted: a token pasted into TIKTOK_PIXEL_CODE would otherwise be printed, and the output
 * redaction only knows TIKTOK_ACCESS_TOKEN's value.
 */
export const pixelCodeProblem = (setting: TikTokSetting): string | undefined => {
  if (setting.value === undefined) return undefined;
  const verdict = credentialsVerdict(setting.value, PLACEHOLDER_TOKEN);
  return verdict === undefined
    ? undefined
    : `${setting.source} is not a TikTok pixel code (${verdict}); use the code shown in TikTok Events Manager › Data sources.`;
};

/**
 * Why the token cannot be used with this pixel code, or undefined: not sendable as an HTTP header,
 * or the same value as the pixel code (the two swapped). Quotes neither.
 */
export const accessTokenProblem = (accessToken: string, pixelCode: string): string | undefined => {
  const verdict = credentialsVerdict(pixelCode, accessToken);
  if (verdict === undefined || credentialsVerdict(pixelCode, PLACEHOLDER_TOKEN) !== undefined)
    return undefined;
  return `TIKTOK_ACCESS_TOKEN: ${verdict}.`;
};

/**
 * Why the track endpoint URL is unusable, or undefined. It must be http(s), without credentials
 * or fragment: the token travels in a header to whatever host it names. A query is refused too,
 * as for META_GRAPH_URL (nothing of ours belongs there).
 */
export const eventsUrlProblem = (setting: {
  value: string;
  source: string;
}): string | undefined => {
  let url: URL;
  try {
    url = new URL(setting.value);
  } catch {
    return `${setting.source}: "${setting.value}" is not a URL; use e.g. ${TIKTOK_EVENTS_URL} or the TIKTOK_EVENTS_URL \`capi-kit mock\` prints.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `${setting.source}: "${setting.value}" must be an http:// or https:// URL.`;
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return `${setting.source}: give the endpoint only (no query, fragment or credentials), e.g. ${TIKTOK_EVENTS_URL}.`;
  }
  return undefined;
};

/**
 * Reads and checks TikTok's configuration. A missing or malformed pixel code, token or URL is a
 * configuration error (exit 2) whose message names the flag or variable.
 */
export const readTikTokConfig = (env: Env, flags: TikTokFlags): TikTokConfig => {
  const settings = readTikTokSettings(env, flags);
  const { pixelCode, accessToken } = settings;
  if (pixelCode.value === undefined || accessToken === undefined) {
    const missing = [
      pixelCode.value === undefined ? 'TIKTOK_PIXEL_CODE (or --tiktok-pixel-code)' : undefined,
      accessToken === undefined ? 'TIKTOK_ACCESS_TOKEN' : undefined,
    ].filter(Boolean);
    throw new CliError(
      `Missing TikTok configuration: set ${missing.join(' and ')}.`,
      EXIT_CODES.config,
    );
  }
  const problem =
    pixelCodeProblem(pixelCode) ??
    accessTokenProblem(accessToken, pixelCode.value) ??
    eventsUrlProblem(settings.eventsUrl);
  if (problem !== undefined) throw new CliError(problem, EXIT_CODES.config);
  return { pixelCode: pixelCode.value, accessToken, eventsUrl: settings.eventsUrl.value };
};

import { CliError, EXIT_CODES } from './exit-codes.js';
import { type TikTokFlags, tiktokConfigured } from './tiktok-config.js';

// Which ad platforms a command talks to. Without `--platform`, every platform the environment
// configures: an app set up with Meta and TikTok gets both, so `send-test` shows one event_id
// reaching the two; a Meta-only setup behaves exactly as before TikTok existed (and with nothing
// configured, Meta's "Missing configuration" message is the one the user sees, as it always was).

type Env = Readonly<Record<string, string | undefined>>;

/** An ad platform the CLI can talk to. */
export type Platform = 'meta' | 'tiktok';

/** `--platform`, for `parseArgs`. */
export const PLATFORM_OPTION = { platform: { type: 'string' } } as const;

/** Help line for {@link PLATFORM_OPTION} (options column 27). */
export const PLATFORM_HELP = `      --platform P         meta, tiktok or all (default: each one whose environment is set)`;

const metaConfigured = (env: Env, pixelFlag: string | undefined): boolean =>
  [pixelFlag, env.META_PIXEL_ID, env.META_ACCESS_TOKEN].some(
    (v) => v !== undefined && v.trim() !== '',
  );

/**
 * The platforms to talk to: `--platform meta|tiktok|all`, else each configured one (Meta when
 * `META_PIXEL_ID`/`META_ACCESS_TOKEN`/`--pixel-id` is set, TikTok when `TIKTOK_PIXEL_CODE`/
 * `TIKTOK_ACCESS_TOKEN`/`--tiktok-pixel-code` is), else Meta. An unknown value is a usage error.
 */
/** Each platform's own flags: given with `--platform` leaving that platform out, they conflict. */
const PLATFORM_FLAGS: Record<Platform, readonly string[]> = {
  meta: ['pixel-id', 'api-version', 'graph-url', 'test-event-code'],
  tiktok: ['tiktok-pixel-code', 'tiktok-events-url', 'tiktok-test-event-code'],
};

const NAMES: Record<Platform, string> = { meta: 'Meta', tiktok: 'TikTok' };

export const selectPlatforms = (
  flag: string | undefined,
  env: Env,
  flags: TikTokFlags & { 'pixel-id'?: string | undefined },
): Platform[] => {
  if (flag !== undefined) {
    const value = flag.trim().toLowerCase();
    const chosen: Platform[] | undefined =
      value === 'meta'
        ? ['meta']
        : value === 'tiktok'
          ? ['tiktok']
          : value === 'all'
            ? ['meta', 'tiktok']
            : undefined;
    if (chosen === undefined) {
      throw new CliError(
        `--platform: "${flag}" is not a platform; use meta, tiktok or all.`,
        EXIT_CODES.usage,
      );
    }
    // `--platform meta --tiktok-pixel-code C4…` would leave the flag unused, silently.
    for (const platform of ['meta', 'tiktok'] as const) {
      if (chosen.includes(platform)) continue;
      const given = PLATFORM_FLAGS[platform].find(
        (name) => (flags as Record<string, unknown>)[name] !== undefined,
      );
      if (given !== undefined) {
        throw new CliError(
          `--${given} is a ${NAMES[platform]} setting, and --platform ${value} leaves ${NAMES[platform]} out; drop one of them.`,
          EXIT_CODES.usage,
        );
      }
    }
    return chosen;
  }
  const meta = metaConfigured(env, flags['pixel-id']);
  const tiktok = tiktokConfigured(env, flags);
  if (meta && tiktok) return ['meta', 'tiktok'];
  if (tiktok) return ['tiktok'];
  return ['meta'];
};

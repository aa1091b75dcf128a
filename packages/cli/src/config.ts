import { DEFAULT_API_VERSION, DEFAULT_GRAPH_URL } from '@capi-kit/core';
import { API_VERSIONS } from './api-versions.js';
import { CliError, EXIT_CODES } from './exit-codes.js';
import { formatTable } from './terminal.js';

/** Where and as whom the CLI talks to Graph. The token comes from the environment only. */
export interface GraphConfig {
  /** Pixel (dataset) id: `--pixel-id` or `META_PIXEL_ID`. */
  pixelId: string;
  /** `META_ACCESS_TOKEN`; never accepted as a flag (it would land in shell history and `ps`). */
  accessToken: string;
  /** `--api-version` or `META_API_VERSION`, default the core's. */
  apiVersion: string;
  /** `--graph-url` or `META_GRAPH_URL`, default `https://graph.facebook.com`. */
  graphUrl: string;
}

/** Flags that override the environment. */
export interface GraphFlags {
  'pixel-id'?: string | undefined;
  'api-version'?: string | undefined;
  'graph-url'?: string | undefined;
}

const nonEmpty = (value: string | undefined): string | undefined => {
  const v = value?.trim();
  return v ? v : undefined;
};

/** A setting's value and the flag or variable it came from, so an error can name it. */
interface Setting {
  value: string;
  source: string;
}

const pick = (
  flagName: string,
  flag: string | undefined,
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): Setting | undefined => {
  const fromFlag = nonEmpty(flag);
  if (fromFlag !== undefined) return { value: fromFlag, source: flagName };
  const fromEnv = nonEmpty(env[variable]);
  return fromEnv === undefined ? undefined : { value: fromEnv, source: variable };
};

const configError = (message: string): CliError => new CliError(message, EXIT_CODES.config);

/**
 * Checks `--api-version` / `META_API_VERSION` against the versions this package knows
 * (api-versions.ts), so a typo (`26`, `v26`) is caught here instead of as a Graph error. A version
 * past its end is accepted: the doctor reports it, and sending fails with Meta's own message.
 */
const validateApiVersion = (setting: Setting): string => {
  const { value, source } = setting;
  if (API_VERSIONS.some((v) => v.version === value)) return value;
  const known = API_VERSIONS.map((v) => v.version);
  const digits = /^v?(\d+)(?:\.0)?$/.exec(value);
  const suggestion = digits ? `v${digits[1]}.0` : undefined;
  const hint =
    suggestion !== undefined && known.includes(suggestion) ? ` (did you mean ${suggestion}?)` : '';
  throw configError(
    `${source}: "${value}" is not a Graph API version this capi-kit knows${hint}; use one of ${known.join(', ')} (a newer version needs a newer @capi-kit/cli).`,
  );
};

const validateGraphUrl = (setting: Setting): string => {
  let url: URL;
  try {
    url = new URL(setting.value);
  } catch {
    throw configError(
      `${setting.source}: "${setting.value}" is not a URL; use e.g. ${DEFAULT_GRAPH_URL} or http://127.0.0.1:4000 (capi-kit mock).`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`${setting.source}: "${setting.value}" must be an http:// or https:// URL.`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    // The token travels in a header to whatever host this names; credentials or a query here
    // would be pasted into every request URL.
    throw configError(
      `${setting.source}: give the base URL only (no query, fragment or credentials), e.g. ${DEFAULT_GRAPH_URL}.`,
    );
  }
  return setting.value.replace(/\/+$/, '');
};

/**
 * Reads and checks the Graph configuration. A missing or malformed pixel id, token, API version
 * or Graph URL is a configuration error (exit 2) whose message names the flag or variable.
 */
export const readGraphConfig = (
  env: Readonly<Record<string, string | undefined>>,
  flags: GraphFlags,
): GraphConfig => {
  const pixel = pick('--pixel-id', flags['pixel-id'], 'META_PIXEL_ID', env);
  const accessToken = nonEmpty(env.META_ACCESS_TOKEN);
  const missing = [
    pixel ? undefined : 'META_PIXEL_ID (or --pixel-id)',
    accessToken ? undefined : 'META_ACCESS_TOKEN',
  ].filter(Boolean);
  if (!pixel || !accessToken) {
    throw configError(`Missing configuration: set ${missing.join(' and ')}.`);
  }
  // Pixel (dataset) ids are numeric. The value is not quoted back: with META_PIXEL_ID and
  // META_ACCESS_TOKEN swapped it is the token, which the output's redaction (keyed on
  // META_ACCESS_TOKEN's value) would not know to hide. Its length and shape say enough.
  if (!/^\d+$/.test(pixel.value)) {
    const swapped = /^EAA/.test(pixel.value)
      ? '; it looks like an access token: are META_PIXEL_ID and META_ACCESS_TOKEN swapped?'
      : '';
    throw configError(
      `${pixel.source} is not a pixel (dataset) id (${pixel.value.length} characters, not all digits)${swapped}; it is the number shown in Events Manager › Data sources.`,
    );
  }
  return {
    pixelId: pixel.value,
    accessToken,
    apiVersion: validateApiVersion(
      pick('--api-version', flags['api-version'], 'META_API_VERSION', env) ?? {
        value: DEFAULT_API_VERSION,
        source: 'the default API version',
      },
    ),
    graphUrl: validateGraphUrl(
      pick('--graph-url', flags['graph-url'], 'META_GRAPH_URL', env) ?? {
        value: DEFAULT_GRAPH_URL,
        source: 'the default Graph URL',
      },
    ),
  };
};

/** Graph options shared by the commands that talk to Meta, for `parseArgs`. */
export const GRAPH_OPTIONS = {
  'pixel-id': { type: 'string' },
  'api-version': { type: 'string' },
  'graph-url': { type: 'string' },
} as const;

/** Help lines for {@link GRAPH_OPTIONS} (options column aligned with every command's own, 27). */
export const GRAPH_OPTIONS_HELP = `      --pixel-id ID        pixel (dataset) id (default: META_PIXEL_ID)
      --api-version V      Graph API version, one of ${API_VERSIONS.map((v) => v.version).join(', ')}
                           (default: META_API_VERSION or ${DEFAULT_API_VERSION})
      --graph-url URL      Graph base URL (default: META_GRAPH_URL or ${DEFAULT_GRAPH_URL})
  -h, --help               show this help`;

const GRAPH_ENV: readonly (readonly [string, string])[] = [
  ['META_ACCESS_TOKEN', 'system-user access token (required; never printed, never a flag)'],
  ['META_PIXEL_ID', 'pixel (dataset) id'],
  ['META_API_VERSION', 'Graph API version'],
  ['META_GRAPH_URL', 'Graph base URL (point it at `capi-kit mock` to try things offline)'],
];

/**
 * The Graph options and the `Environment:` section, with a command's own variables aligned in
 * the same column.
 */
export const graphHelp = (extraEnv: readonly (readonly [string, string])[] = []): string =>
  `${GRAPH_OPTIONS_HELP}

Environment:
${formatTable([...GRAPH_ENV, ...extraEnv])
  .map((line) => `  ${line}`)
  .join('\n')}`;

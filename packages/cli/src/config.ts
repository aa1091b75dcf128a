import { DEFAULT_API_VERSION, DEFAULT_GRAPH_URL } from '@capi-kit/core';
import { CliError, EXIT_CODES } from './exit-codes.js';

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

/** Reads the Graph configuration; a missing pixel or token is an environment error (exit 3). */
export const readGraphConfig = (
  env: Readonly<Record<string, string | undefined>>,
  flags: GraphFlags,
): GraphConfig => {
  const pixelId = nonEmpty(flags['pixel-id']) ?? nonEmpty(env.META_PIXEL_ID);
  const accessToken = nonEmpty(env.META_ACCESS_TOKEN);
  const missing = [
    pixelId ? undefined : 'META_PIXEL_ID (or --pixel-id)',
    accessToken ? undefined : 'META_ACCESS_TOKEN',
  ].filter(Boolean);
  if (!pixelId || !accessToken) {
    throw new CliError(
      `Missing configuration: set ${missing.join(' and ')}.`,
      EXIT_CODES.environment,
    );
  }
  return {
    pixelId,
    accessToken,
    apiVersion:
      nonEmpty(flags['api-version']) ?? nonEmpty(env.META_API_VERSION) ?? DEFAULT_API_VERSION,
    graphUrl: (
      nonEmpty(flags['graph-url']) ??
      nonEmpty(env.META_GRAPH_URL) ??
      DEFAULT_GRAPH_URL
    ).replace(/\/+$/, ''),
  };
};

/** Graph options shared by the commands that talk to Meta, for `parseArgs`. */
export const GRAPH_OPTIONS = {
  'pixel-id': { type: 'string' },
  'api-version': { type: 'string' },
  'graph-url': { type: 'string' },
} as const;

/** Help lines for {@link GRAPH_OPTIONS} and the environment. */
export const GRAPH_HELP = `      --pixel-id ID        pixel (dataset) id (default: META_PIXEL_ID)
      --api-version V      Graph API version, e.g. v26.0 (default: META_API_VERSION or ${DEFAULT_API_VERSION})
      --graph-url URL      Graph base URL (default: META_GRAPH_URL or ${DEFAULT_GRAPH_URL})

Environment:
  META_ACCESS_TOKEN  system-user access token (required; never printed, never a flag)
  META_PIXEL_ID      pixel (dataset) id
  META_API_VERSION   Graph API version
  META_GRAPH_URL     Graph base URL (point it at \`capi-kit mock\` to try things offline)`;

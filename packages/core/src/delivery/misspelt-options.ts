/**
 * What to say when an option bag holds a name close to one capi-kit reads (`trustproxy`,
 * `accesToken`, `flushIntervalMS`): the option is ignored, with nothing said, and its default
 * applies (every visitor with the proxy's address, a token read from the environment instead).
 * Only near misses are named: keys far from every option are left alone, since apps spread their
 * own config objects into ours. Meta's snake_case spellings (`pixel_id`) are refused outright
 * instead (`checkSpellings` in options.ts): they are common and send live traffic wrongly.
 */

import type { RequestContextOptions } from '../context/request-context.js';
import { closestName } from '../event/spelling.js';
import type { CapiOptions } from './types.js';

/** Every option `createCapi` and the adapters' core read; the type keeps the list complete. */
const OPTION_NAMES = Object.keys({
  pixelId: true,
  accessToken: true,
  pixels: true,
  destinations: true,
  apiVersion: true,
  graphUrl: true,
  testEventCode: true,
  partnerAgent: true,
  appSecret: true,
  fetch: true,
  maxBatchEvents: true,
  maxBatchBytes: true,
  flushIntervalMs: true,
  maxQueuedEvents: true,
  maxQueuedBytes: true,
  timeoutMs: true,
  maxConcurrency: true,
  retry: true,
  logger: true,
  development: true,
  closeOnExit: true,
  onUndeliverable: true,
  buildOptions: true,
  clock: true,
  random: true,
  strict: true,
  outbox: true,
  waitUntil: true,
  flushOnEnd: true,
  env: true,
  diagnostics: true,
  remoteAddress: true,
  trustProxy: true,
  forwardedHeader: true,
  platform: true,
  cookieDomain: true,
  cookies: true,
  generateFbp: true,
  now: true,
  consent: true,
  respectGpc: true,
  ldu: true,
  client: true,
} satisfies Record<keyof CapiOptions | keyof RequestContextOptions | 'client', true>);

/**
 * The warning to log once at creation, or `undefined` when no key is a near miss. Names the keys
 * (cut to 40 characters) and what each likely meant, never a value.
 */
export const misspeltOptionsWarning = (options: object): string | undefined => {
  const named: string[] = [];
  for (const key of Object.keys(options)) {
    const meant = closestName(key, OPTION_NAMES);
    if (meant !== undefined && meant !== key)
      named.push(`'${key.slice(0, 40)}' (did you mean '${meant}'?)`);
  }
  if (named.length === 0) return undefined;
  return `capi-kit: ${named.length === 1 ? 'an option' : 'options'} capi-kit does not read, so ${named.length === 1 ? 'it is' : 'they are'} ignored and the default applies: ${named.join(', ')}. Told once, at creation.`;
};

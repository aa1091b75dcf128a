import { hmacSha256Hex } from '#platform';
import type { DateOrder } from '../user-data/types.js';
import { systemClock } from './clock.js';
import { consoleLogger } from './console-logger.js';
import { pixelIdProblem, tokenProblem } from './credential-shapes.js';
import { checkDestination, type Destination, type Envelope, streamKey } from './destination.js';
import { createRedactor, type Redactor } from './redact.js';
import { bodySuffix, type PixelEndpoint } from './transport.js';
import type { CapiOptions, Clock, FetchLike, Logger, RetryOptions } from './types.js';

/** Graph API version used when none is configured: the newest in the changelog (capi.md §1 [CHG]). */
export const DEFAULT_API_VERSION = 'v26.0';
/** Graph API base URL. */
export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com';
/** `partner_agent` sent with every request. */
export const DEFAULT_PARTNER_AGENT = 'capi-kit';
/** Meta's cap on events per request ([UA]: "up to 1,000 events in data"). */
export const MAX_EVENTS_PER_REQUEST = 1000;

/** Defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: Readonly<Required<RetryOptions>> = Object.freeze({
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxAttempts: 10,
  maxRetryAfterMs: 300_000,
  throttleBaseDelayMs: 5000,
  freeThrottles: 20,
  authProbeIntervalMs: 600_000,
});

const silent = (): void => {};
/** What `logger: false` logs with: nothing. */
export const silentLogger: Logger = { debug: silent, info: silent, warn: silent, error: silent };

/** One pixel, resolved. */
export interface ResolvedPixel {
  pixelId: string;
  endpoint: PixelEndpoint;
  /** The Test Events code this client sends for the pixel (it is in `endpoint`'s body suffix). */
  testEventCode?: string | undefined;
  /** Where that code was set (`testEventCode`, `pixels[0].testEventCode`, `META_TEST_EVENT_CODE`), to name it. */
  testEventCodeOption?: string | undefined;
}

/** A destination from `options.destinations`, checked, with its envelope computed once. */
export interface ResolvedDestination {
  destination: Destination;
  envelope: Envelope;
  /** `<name>:<id>`. */
  stream: string;
}

/** Everything `createCapi` needs, validated and with defaults applied. */
export interface ResolvedOptions {
  /** Meta's pixels; empty only when `destinations` are given and no Meta credentials at all. */
  pixels: ResolvedPixel[];
  /** The other destinations, in the order given. */
  destinations: ResolvedDestination[];
  fetch: FetchLike;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Development feedback: a warning for every event rejected, dropped or changed; name suggestions. */
  development: boolean;
  /** `NODE_ENV` says `production` (read from `env`, else `process.env`), not merely nothing. */
  production: boolean;
  redact: Redactor;
  maxBatchEvents: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  maxQueuedEvents: number;
  maxQueuedBytes: number;
  timeoutMs: number;
  maxConcurrency: number;
  retry: Required<RetryOptions>;
  strict: boolean;
  flushOnEnd: boolean;
  defaultCountry: string | undefined;
  dateOrder: DateOrder | undefined;
  onUndeliverable: CapiOptions['onUndeliverable'];
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
}

/** `process.env` where there is one; the core never imports `node:process` (edge runtimes lack it). */
const processEnv = (): Readonly<Record<string, string | undefined>> | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;

// Read once, at creation.
const readEnv = (env: CapiOptions['env']): Readonly<Record<string, string | undefined>> => {
  if (env === false) return {};
  return env ?? processEnv() ?? {};
};

/**
 * `NODE_ENV` for the development default: from `env` when it is given and says, else from
 * `process.env` (`env: false` only turns off the `META_*` fallbacks), else `production` where
 * there is no `process` at all (Cloudflare Workers without `nodejs_compat`): a runtime that cannot
 * say stays quiet rather than print development hints in production.
 */
const nodeEnv = (env: CapiOptions['env']): string | undefined => {
  if (env && typeof env.NODE_ENV === 'string') return env.NODE_ENV;
  const fromProcess = processEnv();
  return fromProcess ? fromProcess.NODE_ENV : 'production';
};

/** Whether `NODE_ENV` is set to `production`; a runtime with no `process` does not count here. */
const nodeEnvSaysProduction = (env: CapiOptions['env']): boolean =>
  (env && typeof env.NODE_ENV === 'string' ? env.NODE_ENV : processEnv()?.NODE_ENV) ===
  'production';

/**
 * What a refused number option was, for its message. A string (`timeoutMs:
 * process.env.CAPI_TIMEOUT_MS`) printed bare read `got 5000`, which looks like the number the
 * option wants: it is quoted and named, with the fix.
 */
export const describeGiven = (value: unknown): string =>
  typeof value === 'string'
    ? `got the string ${JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value)} (convert it with Number())`
    : `got ${String(value)}`;

const positive = (
  name: string,
  value: number | undefined,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    // "(0, Infinity]" read as if Infinity were allowed; it is not (a timer cannot wait forever).
    const range = Number.isFinite(max) ? `in (0, ${max}]` : '> 0 and finite';
    throw new RangeError(`createCapi: ${name} must be a number ${range}, ${describeGiven(value)}`);
  }
  return v;
};

const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(
      `createCapi: ${name} must be a number ≥ 0 and finite, ${describeGiven(value)}`,
    );
  }
  return v;
};

const nonEmpty = (v: string | undefined): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

/**
 * `appsecret_proof` = HMAC-SHA256(appSecret, accessToken) as hex ([NSDK] event-request.js), computed
 * once here. Synchronous on every runtime (`node:crypto` on Node, pure JS elsewhere), so the first
 * send never waits on Web Crypto's async `subtle.sign`.
 */
export const appsecretProof = (appSecret: string, accessToken: string): string =>
  hmacSha256Hex(appSecret, accessToken);

/** The methods every outbox has (delivery/README.md, Outbox contract), and those it may have. */
const OUTBOX_METHODS = [
  'append',
  'claim',
  'ack',
  'nack',
  'release',
  'deadLetter',
  'stats',
] as const;
const OUTBOX_OPTIONAL = ['attach', 'flush', 'close', 'takeNonDurable'] as const;

/**
 * A given outbox is checked at creation, as a token is: one missing a method would otherwise fail
 * on the first event (or, for `stats`, hold every call of a durable one while it is asked again).
 * The usual slip is the factory itself, `sqliteOutbox` for `sqliteOutbox({ path })`.
 */
const checkOutbox = (outbox: unknown): void => {
  if (outbox === undefined) return;
  // A function carrying the methods is an outbox all the same (callable objects exist); one
  // without `append` is the factory.
  if (
    typeof outbox === 'function' &&
    typeof (outbox as { append?: unknown }).append !== 'function'
  ) {
    throw new TypeError(
      'createCapi: outbox is a function, not an outbox: call the factory (`outbox: sqliteOutbox({ path })`, not `outbox: sqliteOutbox`)',
    );
  }
  if ((typeof outbox !== 'object' && typeof outbox !== 'function') || outbox === null) {
    throw new TypeError(
      `createCapi: outbox must be an object, got ${outbox === null ? 'null' : typeof outbox}`,
    );
  }
  const given = outbox as Record<string, unknown>;
  for (const name of OUTBOX_METHODS) {
    if (typeof given[name] !== 'function') {
      throw new TypeError(
        `createCapi: outbox.${name} must be a function (an outbox has ${OUTBOX_METHODS.join(', ')})`,
      );
    }
  }
  for (const name of OUTBOX_OPTIONAL) {
    if (given[name] !== undefined && typeof given[name] !== 'function') {
      throw new TypeError(`createCapi: outbox.${name} must be a function when given`);
    }
  }
};

/**
 * `graphUrl` (or `META_GRAPH_URL`) without its trailing slashes, once it is a base URL the
 * endpoint can be built on: absolute http(s), with no user name or password (`fetch` refuses to
 * send a URL that has them) and no query or fragment (the path is appended after it). Each of
 * these failed every delivery until the event ran out of attempts; now `createCapi` says so. The
 * value is not echoed: a query or userinfo may hold a secret.
 */
const checkedGraphUrl = (value: string): string => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const wrong =
    url === undefined
      ? 'is not an absolute URL (e.g. https://graph.facebook.com)'
      : url.protocol !== 'https:' && url.protocol !== 'http:'
        ? 'must be http(s)'
        : url.username !== '' || url.password !== ''
          ? 'must not carry a user name or password (fetch refuses such URLs)'
          : url.search !== '' || url.hash !== ''
            ? 'must not have a query or fragment (the version, pixel and /events are appended to it)'
            : undefined;
  if (wrong !== undefined) throw new TypeError(`createCapi: graphUrl (or META_GRAPH_URL) ${wrong}`);
  return value.replace(/\/+$/, '');
};

/**
 * `apiVersion` (or `META_API_VERSION`) as Graph spells a version, `v` + major + `.` + minor
 * (`v26.0`). A bare `26` or `v26` built `/26/{pixel}/events`, which Graph answers with error 2500
 * ("Unknown path components"), classified transient: every delivery was retried until the event
 * ran out of attempts, and the log never named the option. Quoted only when it is short and plain
 * (a value pasted into the wrong variable may be a secret).
 */
const checkedApiVersion = (value: unknown, fromEnv: boolean): string => {
  if (typeof value === 'string' && /^v\d+\.\d+$/.test(value)) return value;
  const name = fromEnv ? 'META_API_VERSION' : 'apiVersion';
  if (typeof value !== 'string') {
    throw new TypeError(
      `createCapi: ${name} must be a string such as 'v26.0'; got ${typeof value}`,
    );
  }
  const major = /^v?(\d+)(?:\.(\d+))?$/.exec(value);
  const shown = /^[\w.-]{1,16}$/.test(value) ? ` "${value}"` : '';
  throw new TypeError(
    `createCapi: ${name}${shown} is not a Graph API version; write it as Graph does, 'v' + major + '.' + minor` +
      (major
        ? ` (did you mean v${major[1]}.${major[2] ?? '0'}?)`
        : ` (e.g. '${DEFAULT_API_VERSION}')`),
  );
};

/**
 * Refuses a pixel id or token given as something else than a string. From JavaScript a number (a
 * pixel id read from JSON or YAML) was taken for none at all: `META_PIXEL_ID` won silently, or the
 * error said the id was missing. Never the value: it may be the token.
 */
const checkString = (value: unknown, name: string): void => {
  if (value === undefined || value === null || typeof value === 'string') return;
  throw new TypeError(
    `createCapi: ${name} must be a string; got ${typeof value}` +
      (typeof value === 'number' && name.endsWith('pixelId')
        ? " (quote it: '1234567890'; a number loses digits past 2^53)"
        : ''),
  );
};

/**
 * Meta's wire spellings of our options, as copied from Meta's docs or a Pixel setup. From
 * JavaScript they were ignored: `test_event_code` sent test traffic as live conversions.
 */
const WIRE_SPELLINGS: Readonly<Record<string, string>> = {
  pixel_id: 'pixelId',
  access_token: 'accessToken',
  test_event_code: 'testEventCode',
  api_version: 'apiVersion',
  graph_url: 'graphUrl',
  app_secret: 'appSecret',
  trust_proxy: 'trustProxy',
};

/**
 * `buildEvent`'s options given to `createCapi` beside its own: the client reads them from
 * `buildOptions`. The development log's fix for a national phone number names `defaultCountry`,
 * and `createCapi({ defaultCountry: 'US' })` was ignored without a word.
 */
const checkBuildOptionsPlace = (options: object): void => {
  for (const key of ['defaultCountry', 'dateOrder']) {
    if ((options as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(
        `createCapi: ${key} is an option of each event's build: write buildOptions: { ${key}: … }`,
      );
    }
  }
};

const checkSpellings = (options: object): void => {
  for (const key of Object.keys(WIRE_SPELLINGS)) {
    if (Object.hasOwn(options, key)) {
      throw new TypeError(
        `createCapi: options are camelCase: ${key} is not an option, write ${WIRE_SPELLINGS[key]}`,
      );
    }
  }
};

/** Applies env fallbacks and defaults, validates, and precomputes each pixel's endpoint. Throws on misconfiguration. */
export const resolveOptions = (options: CapiOptions): ResolvedOptions => {
  checkOutbox(options.outbox);
  const env = readEnv(options.env);
  // Development unless told otherwise: NODE_ENV is `production` in every framework's production
  // build (Next inlines it, Nest and Express read it), and a developer's own machine rarely sets it.
  const development = options.development ?? nodeEnv(options.env) !== 'production';
  const graphUrl = checkedGraphUrl(
    nonEmpty(options.graphUrl) ?? nonEmpty(env.META_GRAPH_URL) ?? DEFAULT_GRAPH_URL,
  );
  // A number (`apiVersion: 26`, from JavaScript) is reported, not taken for none.
  const givenApiVersion: unknown =
    typeof options.apiVersion === 'string' ? nonEmpty(options.apiVersion) : options.apiVersion;
  const envApiVersion = nonEmpty(env.META_API_VERSION);
  const apiVersion = checkedApiVersion(
    givenApiVersion ?? envApiVersion ?? DEFAULT_API_VERSION,
    (givenApiVersion === undefined || givenApiVersion === null) && envApiVersion !== undefined,
  );
  const testEventCode = nonEmpty(options.testEventCode) ?? nonEmpty(env.META_TEST_EVENT_CODE);
  const testEventCodeOption =
    testEventCode === undefined
      ? undefined
      : nonEmpty(options.testEventCode) !== undefined
        ? 'testEventCode'
        : 'META_TEST_EVENT_CODE';
  const partnerAgent = options.partnerAgent ?? DEFAULT_PARTNER_AGENT;
  const appSecret = nonEmpty(options.appSecret);

  const destinations: ResolvedDestination[] = [];
  const secrets: (string | undefined)[] = [appSecret];
  const seen = new Set<string>();
  if (options.destinations !== undefined && !Array.isArray(options.destinations)) {
    throw new TypeError('createCapi: destinations must be an array of destinations');
  }
  (options.destinations ?? []).forEach((given, index) => {
    const destination = checkDestination(given, index);
    const envelope = destination.envelope();
    const stream = streamKey(destination);
    if (seen.has(stream)) throw new TypeError(`createCapi: destination ${stream} is listed twice`);
    seen.add(stream);
    if (
      typeof envelope !== 'object' ||
      envelope === null ||
      typeof envelope.url !== 'string' ||
      typeof envelope.prefix !== 'string' ||
      typeof envelope.suffix !== 'string'
    ) {
      throw new TypeError(
        `createCapi: destinations[${index}].envelope() must return { url, prefix, suffix } strings`,
      );
    }
    secrets.push(...(envelope.secrets ?? []));
    destinations.push({ destination, envelope, stream });
  });
  checkSpellings(options);
  checkBuildOptionsPlace(options);
  // From an environment variable, 'false' is a string: `development: 'false'` printed development
  // notes in production, `closeOnExit: 'false'` still closed on exit, and `strict: 'true'` or
  // `flushOnEnd: 'true'` were ignored, all without a word.
  /** What a value of the wrong type was, for a message that shows at most 16 characters of it. */
  const kindOf = (value: unknown) =>
    typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 16))}` : typeof value;
  for (const name of ['development', 'strict', 'closeOnExit', 'flushOnEnd'] as const) {
    const value: unknown = options[name];
    // closeOnExit also takes `{ timeoutMs }` (its deadline at exit).
    const object = name === 'closeOnExit' && typeof value === 'object' && value !== null;
    if (value !== undefined && value !== null && typeof value !== 'boolean' && !object) {
      throw new TypeError(
        `createCapi: ${name} must be true or false${name === 'closeOnExit' ? ' (or { timeoutMs })' : ''}, got ${kindOf(value)}`,
      );
    }
  }
  // `retry: 3` (meant as maxAttempts) was read as an object with no settings, `logger: 'silent'`
  // (pino's level name) as a logger whose every call failed: both silently.
  const { retry: givenRetry, logger: givenLogger } = options as {
    retry?: unknown;
    logger?: unknown;
  };
  if (
    givenRetry !== undefined &&
    givenRetry !== null &&
    (typeof givenRetry !== 'object' || Array.isArray(givenRetry))
  ) {
    throw new TypeError(
      `createCapi: retry must be an object of settings, e.g. { maxAttempts: 3 }, got ${kindOf(givenRetry)}`,
    );
  }
  if (
    givenLogger !== undefined &&
    givenLogger !== null &&
    givenLogger !== false &&
    typeof givenLogger !== 'object'
  ) {
    throw new TypeError(
      `createCapi: logger must be an object with debug, info, warn and error (console, a pino logger) or false for none, got ${kindOf(givenLogger)}`,
    );
  }
  if (options.pixels !== undefined && !Array.isArray(options.pixels)) {
    // A string (`pixels: process.env.META_PIXEL_ID`) or one object failed with
    // "….map is not a function", naming neither the option nor its shape.
    throw new TypeError(
      `createCapi: pixels must be an array of { pixelId, accessToken }, got ${typeof options.pixels === 'string' ? 'a string (for one pixel, use pixelId and accessToken)' : options.pixels === null ? 'null' : typeof options.pixels}`,
    );
  }
  checkString(options.pixelId, 'pixelId');
  checkString(options.accessToken, 'accessToken');
  const metaPixelId = nonEmpty(options.pixelId) ?? nonEmpty(env.META_PIXEL_ID);
  const metaToken = nonEmpty(options.accessToken) ?? nonEmpty(env.META_ACCESS_TOKEN);
  // Meta stays the default: it is left out only when other destinations are given and nothing at
  // all configures Meta (a TikTok-only app); half a Meta configuration is still an error.
  const withoutMeta =
    destinations.length > 0 &&
    (options.pixels === undefined || options.pixels.length === 0) &&
    metaPixelId === undefined &&
    metaToken === undefined;
  // `pixels` replaces pixelId/accessToken: a pixel given in both places, meant as one more, got no
  // event at all. The environment's META_PIXEL_ID stays a default that `pixels` overrides.
  if (options.pixels !== undefined && options.pixels.length > 0 && nonEmpty(options.pixelId)) {
    const listed = options.pixels.some(
      (config) => nonEmpty(config?.pixelId) === nonEmpty(options.pixelId),
    );
    if (!listed) {
      throw new TypeError(
        'createCapi: pixelId is given beside pixels, which replace it, so it would receive no events: list every pixel in pixels ([{ pixelId, accessToken }, …]) and leave pixelId out',
      );
    }
  }
  const configs = withoutMeta
    ? []
    : options.pixels && options.pixels.length > 0
      ? options.pixels
      : [{ pixelId: metaPixelId ?? '', accessToken: metaToken ?? '' }];
  const pixels: ResolvedPixel[] = configs.map((config, index) => {
    checkSpellings(config);
    checkString(config.pixelId, `pixels[${index}].pixelId`);
    checkString(config.accessToken, `pixels[${index}].accessToken`);
    const pixelId = nonEmpty(config.pixelId);
    const accessToken = nonEmpty(config.accessToken);
    if (!pixelId || !accessToken) {
      // Never echo the values: one of them is a secret.
      throw new TypeError(
        `createCapi: pixel #${index} needs a pixelId and an accessToken (options.pixelId/accessToken, options.pixels, or META_PIXEL_ID/META_ACCESS_TOKEN)`,
      );
    }
    const badToken = tokenProblem(accessToken);
    if (badToken !== undefined) {
      throw new TypeError(`createCapi: pixel #${index}: accessToken ${badToken}`);
    }
    if (accessToken === appSecret) {
      // The appsecret_proof made from it, HMAC(token, token), cannot match the app's own secret.
      throw new TypeError(
        `createCapi: pixel #${index}: accessToken and appSecret are the same value: appSecret is the app secret from the app dashboard (App settings › Basic), not the access token`,
      );
    }
    const badPixelId = pixelIdProblem(pixelId);
    if (badPixelId !== undefined) {
      throw new TypeError(`createCapi: pixel #${index}: pixelId ${badPixelId}`);
    }
    if (seen.has(pixelId)) throw new TypeError(`createCapi: pixel ${pixelId} is listed twice`);
    seen.add(pixelId);
    const proof = appSecret ? appsecretProof(appSecret, accessToken) : undefined;
    secrets.push(accessToken, proof);
    const ownTestCode = nonEmpty(config.testEventCode);
    const pixelTestCode = ownTestCode ?? testEventCode;
    return {
      pixelId,
      testEventCode: pixelTestCode,
      testEventCodeOption:
        ownTestCode !== undefined ? `pixels[${index}].testEventCode` : testEventCodeOption,
      endpoint: {
        url: `${graphUrl}/${encodeURIComponent(apiVersion)}/${pixelId}/events`,
        prefix: '{"data":[',
        suffix: bodySuffix({
          partnerAgent,
          testEventCode: pixelTestCode,
          appsecretProof: proof,
          accessToken,
        }),
        secrets: [accessToken, proof],
      },
    };
  });

  const fetchFn = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchFn !== 'function') {
    throw new TypeError('createCapi: no global fetch in this runtime; pass options.fetch');
  }
  const maxBatchEvents = Math.floor(
    positive(
      'maxBatchEvents',
      options.maxBatchEvents,
      MAX_EVENTS_PER_REQUEST,
      MAX_EVENTS_PER_REQUEST,
    ),
  );
  const retry: Required<RetryOptions> = {
    baseDelayMs: nonNegative(
      'retry.baseDelayMs',
      options.retry?.baseDelayMs,
      DEFAULT_RETRY.baseDelayMs,
    ),
    maxDelayMs: nonNegative(
      'retry.maxDelayMs',
      options.retry?.maxDelayMs,
      DEFAULT_RETRY.maxDelayMs,
    ),
    maxAttempts: Math.floor(
      positive('retry.maxAttempts', options.retry?.maxAttempts, DEFAULT_RETRY.maxAttempts),
    ),
    maxRetryAfterMs: nonNegative(
      'retry.maxRetryAfterMs',
      options.retry?.maxRetryAfterMs,
      DEFAULT_RETRY.maxRetryAfterMs,
    ),
    throttleBaseDelayMs: nonNegative(
      'retry.throttleBaseDelayMs',
      options.retry?.throttleBaseDelayMs,
      DEFAULT_RETRY.throttleBaseDelayMs,
    ),
    freeThrottles: Math.floor(
      nonNegative('retry.freeThrottles', options.retry?.freeThrottles, DEFAULT_RETRY.freeThrottles),
    ),
    authProbeIntervalMs: positive(
      'retry.authProbeIntervalMs',
      options.retry?.authProbeIntervalMs,
      DEFAULT_RETRY.authProbeIntervalMs,
    ),
  };
  return {
    pixels,
    destinations,
    fetch: fetchFn,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    logger: options.logger === false ? silentLogger : (options.logger ?? consoleLogger('warn')),
    development: options.logger !== false && development,
    production: nodeEnvSaysProduction(options.env),
    redact: createRedactor(secrets),
    maxBatchEvents,
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 1024 * 1024),
    flushIntervalMs: nonNegative('flushIntervalMs', options.flushIntervalMs, 1000),
    maxQueuedEvents: Math.floor(positive('maxQueuedEvents', options.maxQueuedEvents, 10_000)),
    maxQueuedBytes: positive('maxQueuedBytes', options.maxQueuedBytes, 16 * 1024 * 1024),
    timeoutMs: positive('timeoutMs', options.timeoutMs, 1500),
    maxConcurrency: Math.floor(positive('maxConcurrency', options.maxConcurrency, 4)),
    retry,
    strict: options.strict === true,
    flushOnEnd: options.flushOnEnd === true,
    defaultCountry: options.buildOptions?.defaultCountry,
    dateOrder: options.buildOptions?.dateOrder,
    onUndeliverable: options.onUndeliverable,
    waitUntil: options.waitUntil,
  };
};

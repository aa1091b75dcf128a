import type { CapiOptions } from './types.js';
/**
 * Secret redaction. The access token (and app secret, and the proof derived from them) must never
 * reach a log line, an error message or a hook payload: Meta's own SDK leaked tokens through error
 * URLs (facebook-nodejs-business-sdk #195, #262), and Graph error messages can echo parameters.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

// Shapes a token takes in text we did not write: query strings, JSON bodies, auth headers.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /(access_token|appsecret_proof|app_secret|client_secret)=[^&\s"'<>]+/gi,
  /("(?:access_token|appsecret_proof|app_secret|client_secret)"\s*:\s*")[^"]*(")/gi,
  // 16+ chars so Meta's own "Invalid OAuth access token" survives.
  /\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/=-]{16,}/g,
];

// Meta tokens are long (EAA…, 100+ chars). Very short "secrets" (test fixtures like "x") would
// shred every message if replaced literally, so they are only caught by the patterns above.
const MIN_LITERAL_SECRET_LENGTH = 8;

/** A function that removes the given secrets (and anything shaped like a token) from text. */
export type Redactor = (text: string) => string;

/** Builds a {@link Redactor} for a fixed set of secrets (tokens, app secret, proofs). */
export const createRedactor = (secrets: Iterable<string | undefined>): Redactor => {
  const literals = [...new Set([...secrets].filter((s): s is string => typeof s === 'string'))]
    .filter((s) => s.length >= MIN_LITERAL_SECRET_LENGTH)
    // Longest first, so a secret that contains another is removed whole.
    .sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const secret of literals) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out
      .replace(TOKEN_PATTERNS[0] as RegExp, `$1=${REDACTED}`)
      .replace(TOKEN_PATTERNS[1] as RegExp, `$1${REDACTED}$2`)
      .replace(TOKEN_PATTERNS[2] as RegExp, `$1 ${REDACTED}`);
  };
};

// A name or key holding an email address or a phone-length run of digits (not an `[index]`) is
// customer information used as a name: it is hidden like any value would be.
const LOOKS_PERSONAL = /@|(?<![[\d])\d{7,}/;

// Digit groups joined the way phone numbers are written: spaces, dashes or dots (up to three
// characters, `555 - 010`), parentheses, a leading `+`. Dates and versions match too; the groups
// then tell them apart (phoneLike).
const SEPARATED_DIGITS = /(?<![[\d])\+?\(?\d+\)?(?:(?:[ .-]{1,3}|(?<=\))|(?=\())\(?\d+\)?)+/g;

/**
 * True when a run of {@link SEPARATED_DIGITS} is a phone number: seven digits or more, a leading
 * `+`, or else not a date (`2026-12-07`, `07-12-2026`, a time after it, in parentheses too) nor
 * dotted groups alone (a version `10.0.19045`, an IPv4 address) other than a North American
 * `555.010.2345`.
 */
const phoneLike = (run: string): boolean => {
  const lengths = (run.match(/\d+/g) ?? []).map((group) => group.length);
  if (lengths.reduce((sum, n) => sum + n, 0) < 7) return false;
  if (run.startsWith('+')) return true;
  const [a = 0, b = 0, c = 0] = lengths;
  const date = (a === 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && c === 4);
  if (date && lengths.slice(3).every((n) => n <= 2)) return false;
  if (run.includes('(')) return true;
  return /[ -]/.test(run) || lengths.join() === '3,3,4';
};

/** What a name or key that looks like customer information is replaced with. */
export const HIDDEN_PERSONAL = '<hidden: looks like customer information>';

/**
 * True when a name or key (an event name, a `custom_data` key) holds an email or a phone number,
 * written with separators (`+1 (555) 010-2345`) or without; a date or a version is not one.
 */
export const looksPersonal = (text: string): boolean => {
  if (LOOKS_PERSONAL.test(text)) return true;
  // Most names and keys have fewer than seven digits: counting them is cheaper than the scan.
  let digits = 0;
  for (let i = 0; i < text.length && digits < 7; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 7) return false;
  for (const [run] of text.matchAll(SEPARATED_DIGITS)) if (phoneLike(run)) return true;
  return false;
};

// Diagnostics ask for the name of every event, and an app has a handful: names found plain are
// remembered, so a name with digits in it (a date) is scanned once, not once per event. A name
// hidden is never remembered; the bounds keep an app that makes up names from growing the set.
const PLAIN_NAMES = new Set<string>();
const MAX_PLAIN_NAMES = 256;
const MAX_PLAIN_NAME_LENGTH = 100;

/**
 * An event name as hooks, log fields and diagnostics show it: hidden whole when it looks like
 * customer information (an email tracked as the event name), the way a value would be.
 */
export const reportedEventName = (name: string): string => {
  if (PLAIN_NAMES.has(name)) return name;
  if (looksPersonal(name)) return HIDDEN_PERSONAL;
  if (PLAIN_NAMES.size < MAX_PLAIN_NAMES && name.length <= MAX_PLAIN_NAME_LENGTH) {
    PLAIN_NAMES.add(name);
  }
  return name;
};

// The documented containers a path walks through before it reaches the caller's own key.
const CONTAINERS =
  /^(?:(?:user_data|custom_data|custom_properties|app_data|original_event_data|properties|contents\[\d+\])\.)*/;

/**
 * An issue path as reports show it: a key that looks like customer information (an email used as
 * a `custom_data` key) hidden whole, only the documented containers before it kept.
 * @example reportedPath('custom_data.jane@example.com') // 'custom_data.<hidden: looks like customer information>'
 */
export const reportedPath = (path: string): string =>
  looksPersonal(path) ? `${CONTAINERS.exec(path)?.[0] ?? ''}${HIDDEN_PERSONAL}` : path;

/**
 * Issues as `track()`, its hooks and its errors report them: {@link reportedPath} on each path.
 * The same array when nothing is hidden (the common case allocates nothing).
 */
export const reportedIssues = <T extends { path: string }>(issues: readonly T[]): T[] => {
  let out: T[] | undefined;
  for (let i = 0; i < issues.length; i++) {
    const issue = issues[i] as T;
    const path = typeof issue?.path === 'string' ? reportedPath(issue.path) : undefined;
    if (path === undefined || path === issue.path) {
      out?.push(issue);
      continue;
    }
    out ??= issues.slice(0, i);
    out.push({ ...issue, path });
  }
  return out ?? (issues as T[]);
};

/**
 * A {@link Redactor} for every secret a client built from `options` would hold: its tokens and app
 * secret, its destinations' (TikTok's), and the `META_ACCESS_TOKEN`/`TIKTOK_ACCESS_TOKEN` it may
 * fall back to. For an adapter's own log lines, which must hide what the client's hide.
 * @example const redact = optionsRedactor(options); logger.error(redact(error.message))
 */
export const optionsRedactor = (
  options: Pick<CapiOptions, 'accessToken' | 'appSecret' | 'pixels' | 'destinations'> | undefined,
): Redactor => {
  const env =
    typeof process === 'undefined' ? {} : (process.env as Record<string, string | undefined>);
  const pixels = Array.isArray(options?.pixels) ? options.pixels : [];
  const destinations = Array.isArray(options?.destinations) ? options.destinations : [];
  return createRedactor([
    options?.accessToken,
    options?.appSecret,
    ...pixels.map((pixel) => pixel?.accessToken),
    ...destinations.flatMap((destination) => {
      try {
        return destination.envelope().secrets ?? [];
      } catch {
        return []; // createCapi refuses such a destination, and says so.
      }
    }),
    env.META_ACCESS_TOKEN,
    env.TIKTOK_ACCESS_TOKEN,
  ]);
};

/**
 * The message of any thrown value (`Error`, string, object), with its `cause` chain, redacted.
 * Never throws: what an outbox, a `fetch` or app code threw may be a Proxy or carry a throwing
 * `message` or `cause` getter, and the caller is reporting a failure, not looking for another.
 */
export const describeError = (error: unknown, redact: Redactor): string => {
  const parts: string[] = [];
  let current: unknown = error;
  try {
    for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
      if (current instanceof Error) {
        parts.push(
          current.name && current.name !== 'Error'
            ? `${current.name}: ${current.message}`
            : current.message,
        );
        current = (current as { cause?: unknown }).cause;
      } else {
        parts.push(typeof current === 'string' ? current : safeString(current));
        break;
      }
    }
  } catch {
    parts.push('(an error whose message could not be read)');
  }
  return redact(parts.join(' <- caused by: '));
};

const safeString = (value: unknown): string => {
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
};

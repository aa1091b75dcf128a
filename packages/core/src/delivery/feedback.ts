import type { Issue } from '../event/issues.js';
import { HIDDEN_PERSONAL, looksPersonal, reportedPath } from './redact.js';
import type { Clock, DropReason } from './types.js';

/**
 * What a developer is told about each event capi-kit rejected, dropped or changed: one line per
 * event through the logger, naming the event, the field path, the rule and the fix, never a value.
 * The first line of each kind is printed in full; repeats within `windowMs` are counted and
 * summarized in one line when the window ends (or at `close()`), so a loop that tracks the same
 * broken event a million times prints two lines a minute, not a million. At most `MAX_LINES`
 * different problems are printed per window (names, keys and paths clipped, a key that looks like
 * an email or a phone number hidden), so events with ever-new names cannot flood the logs either.
 */

/**
 * The request-bound track of each adapter, named in the fixes that need the request: one name
 * (Express's `req.capi`) sent Next.js and NestJS users looking for an API their adapter lacks.
 */
/**
 * For a website event no visitor's request made (a cron job, a queue consumer): Meta needs the
 * page URL and user agent on website events only ([BP], "required combinations"), and
 * `action_source` must say truly where the conversion happened ([SE]). Appended to one of the two
 * fixes, which a request-less event usually gets together, to keep the line short.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/best-practices
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event
 */
const NO_VISIT =
  "with no visitor's request (a cron job, a queue consumer), set action_source to where the conversion happened ('system_generated', …)";

const REQUEST_TRACK =
  "your adapter's request-bound track (req.capi, @CapiContext(), Next.js withCapi…)";

/**
 * How to fix what an issue code reports, where its message says what is wrong but not what to do.
 * Appended to development warnings only; `Issue.message` itself stays a stable description.
 */
const FIXES: Readonly<Record<string, string>> = {
  missing_currency: "add custom_data.currency, an ISO 4217 code such as 'USD'",
  missing_value: 'add custom_data.value, the amount as a number',
  invalid_value:
    "pass a number; text is read only as a plain decimal such as '12.50' (no grouping, currency sign or unit)",
  invalid_number:
    "pass a number; text is read only as a plain decimal such as '12.50' (no grouping, currency sign or unit)",
  number_as_text: 'pass a number (Number(text)) so the type says what it is',
  missing_event_name: "name the event, e.g. track('Lead', { … })",
  missing_user_data: `add user_data (em, ph, external_id…), or track through ${REQUEST_TRACK} so the request adds the IP, user agent and _fbp/_fbc`,
  missing_client_user_agent: `track through ${REQUEST_TRACK} (it adds the request's User-Agent), or set user_data.client_user_agent`,
  missing_event_source_url: `track through ${REQUEST_TRACK} (it adds the page URL), or set event_source_url; ${NO_VISIT}`,
  invalid_event_source_url: "pass the page's full URL, e.g. https://shop.example/checkout",
  url_credentials_removed: 'build page and referrer URLs without user:password@',
  unknown_event_field:
    'remove it; custom parameters go in custom_data, customer information in user_data',
  event_time_in_milliseconds: 'pass Unix seconds (Math.floor(Date.now() / 1000)) or a Date',
  event_time_too_old:
    'send events as they happen; website events older than 7 days are refused by Meta',
  invalid_currency: "use the ISO 4217 code, e.g. 'EUR' rather than '€'",
  // What a form body, a query string or a JSON API hands over as text: each refuses the event.
  invalid_item_price:
    "pass a number; text is read only as a plain decimal such as '12.50' (no grouping, currency sign or unit)",
  invalid_quantity: "pass a whole number (text is read only as digits, e.g. '2')",
  invalid_event_time:
    'pass Unix seconds as a number (Math.floor(Date.now() / 1000)) or a Date (new Date(text) for an ISO 8601 string)',
  placeholder_event_id:
    'build it from a value every event has (the order number), or leave event_id out for a generated one and give the Pixel the same id (track(…).eventId)',
  invalid_action_source:
    "write it in lowercase as Meta spells it; 'website' for events from your site (not 'web')",
};

/**
 * Warnings reported in production too: the event is sent, but Meta will discard others like it
 * (every event sharing an `event_id` made of "undefined" after the first), a loss as real as a
 * rejection and one no figure of capi-kit's would show.
 */
const TOLD_IN_PRODUCTION: ReadonlySet<string> = new Set(['placeholder_event_id']);

/** Why an accepted-or-not event is reported, beyond its issues. */
const DROP_TEXT: Partial<Record<DropReason, string>> = {
  closed: 'tracked after close() began; not sent. Track before shutting the client down.',
  too_large:
    'larger than maxBatchBytes once serialized; not sent. Send less custom_data (contents, custom parameters).',
  expired: "event_time is past Meta's window for its action_source (7 days for website); not sent.",
};

/** Longest event name printed; a name is the developer's, but may be anything. */
const MAX_NAME = 64;
/** Longest field path printed: paths carry the caller's own keys (`custom_data.<key>`). */
const MAX_PATH = 120;
/** Kinds remembered for summaries; the oldest is summarized and forgotten beyond it. */
const MAX_KINDS = 256;
/**
 * Full lines (first sightings) printed per window; beyond it new kinds are only counted and told
 * in one line at the window's end, so events with ever-new names or keys cannot flood the logs.
 */
const MAX_LINES = 20;

// Control characters (C0, DEL, C1), line and paragraph separators and bidi overrides: what could
// forge a log line or reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const HIDDEN = HIDDEN_PERSONAL;

const clip = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}…` : text;

const printable = (name: string): string => {
  if (name === '') return '(unnamed event)';
  const clean = clip(name, MAX_NAME * 4).replace(UNPRINTABLE, '?');
  return looksPersonal(clean) ? `(event name ${HIDDEN})` : clip(clean, MAX_NAME);
};

/**
 * An issue path as printed: unprintable characters replaced, clipped, and a key that looks like
 * customer information hidden whole (only the documented containers before it are kept).
 */
const printablePath = (path: string): string => {
  const clean = clip(path, MAX_PATH * 4).replace(UNPRINTABLE, '?');
  return looksPersonal(clean) ? reportedPath(clean) : clip(clean, MAX_PATH);
};

/** `user_data.em[3]` and `user_data.em[0]` are one kind of problem. */
const kindPath = (path: string): string => printablePath(path).replace(/\[\d+\]/g, '[]');

const describe = (issue: Issue, withFix: boolean): string => {
  const fix = withFix ? FIXES[issue.code] : undefined;
  const text = issue.message.replace(/\.$/, '');
  return `${printablePath(issue.path)}: ${text} (${issue.code})${fix === undefined ? '' : `; fix: ${fix}`}`;
};

/** Issues described in one line; an event with thousands (a list of bad emails) names the first. */
const MAX_LISTED = 10;

const details = (issues: readonly Issue[], withFix: boolean): string => {
  const shown = issues.slice(0, MAX_LISTED).map((i) => describe(i, withFix));
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more issues` : shown.join('; ');
};

/** The kind of an event's problem: its distinct paths and codes (`em[0]` and `em[4]` are one). */
const kindOf = (issues: readonly Issue[]): string =>
  [...new Set(issues.map((i) => `${kindPath(i.path)}:${i.code}`))].slice(0, MAX_LISTED).join(',');

/** The `issues` field given to the logger: printable paths, as many as the line names. */
const listed = (issues: readonly Issue[]): string[] =>
  issues.slice(0, MAX_LISTED).map((i) => `${printablePath(i.path)}:${i.code}`);

interface Kind {
  /** Short form for the summary line. */
  label: string;
  /** Repeats not printed since the last line. */
  repeats: number;
  timer: unknown;
}

/** Options of {@link Feedback}. */
export interface FeedbackOptions {
  /** Where lines go: the client's logger at `warn` (redacted, never throwing). */
  warn: (obj: Record<string, unknown>, msg: string) => void;
  /** Also report events sent with changes (warnings) and name suggestions; errors are always reported. */
  development: boolean;
  /** Schedules the summaries (unref'd timers: a summary never holds a process open). */
  clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Rate-limit window per kind; default one minute. */
  windowMs?: number | undefined;
}

/**
 * Feedback with summaries still to print. A script that tracks and then simply ends (no
 * `close()`) would lose them, since their timers never hold the process open: Node's
 * `beforeExit` (the loop is empty, the process is about to end naturally) prints them. One
 * listener for the whole module, registered on first need; runtimes without `process.on` skip it.
 */
const unsummarized = new Set<Feedback>();
let exitListener = false;

const printBeforeExit = (feedback: Feedback): void => {
  unsummarized.add(feedback);
  if (exitListener) return;
  exitListener = true;
  // Next's Edge runtime throws when `process.on` is touched: no listener there (exit-close.ts).
  try {
    const proc = (globalThis as { process?: { on?: (event: string, fn: () => void) => unknown } })
      .process;
    if (typeof proc?.on !== 'function') return;
    proc.on('beforeExit', () => {
      for (const pending of [...unsummarized]) pending.close();
    });
  } catch {
    // Summaries then print on their timers or at close().
  }
};

/** Per-event feedback with rate limiting; see the file comment. */
export class Feedback {
  readonly #options: FeedbackOptions;
  readonly #windowMs: number;
  readonly #kinds = new Map<string, Kind>();
  /** Full lines printed in the current window, and the timer that ends it. */
  #printed = 0;
  #windowTimer: unknown;
  /** First sightings beyond the window's budget: counted, not printed. */
  #unshown = { events: 0, kinds: new Set<string>() };

  constructor(options: FeedbackOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  /** An event validation rejected: nothing was sent. Reported in production too (it is a loss). */
  rejected(eventName: string, issues: readonly Issue[]): void {
    const errors = issues.filter((i) => i.severity === 'error');
    // Warnings explain errors at times (`curency` next to a missing currency): listed after them.
    const notes = this.#options.development ? issues.filter((i) => i.severity !== 'error') : [];
    const name = printable(eventName);
    const dev = this.#options.development;
    this.#report(
      `rejected|${name}|${kindOf(errors)}`,
      `${name} not sent`,
      `capi-kit: ${name} not sent (invalid): ${details([...errors, ...notes], dev)}`,
      listed(errors),
    );
  }

  /**
   * An accepted event capi-kit changed or has a note about (warnings): development only, except
   * the warnings of a loss Meta will make ({@link TOLD_IN_PRODUCTION}).
   */
  changed(eventName: string, issues: readonly Issue[]): void {
    const development = this.#options.development;
    const told = development ? issues : issues.filter((i) => TOLD_IN_PRODUCTION.has(i.code));
    if (told.length === 0) return;
    const name = printable(eventName);
    this.#report(
      `changed|${name}|${kindOf(told)}`,
      `${name} sent with changes`,
      `capi-kit: ${name} sent with changes: ${details(told, development)}`,
      listed(told),
    );
  }

  /** An event dropped at intake for a reason other than validation (reported in production too). */
  dropped(reason: DropReason, eventName: string): void {
    const text = DROP_TEXT[reason];
    if (text === undefined) return;
    const name = printable(eventName);
    this.#report(
      `dropped|${reason}|${name}`,
      `${name} dropped (${reason})`,
      `capi-kit: ${name} ${text}`,
      [reason],
    );
  }

  /**
   * A request the first-party relay refused (reported in production too: a page's events were
   * not taken, and the browser never reads the answer). One line per reason, then a count.
   */
  relayRefused(reason: string, status: number, text: string): void {
    this.#report(
      `relay|${reason}`,
      `the relay refused a request (${reason})`,
      `capi-kit: the relay refused a request with ${status} (${reason}): ${text}`,
      [reason],
    );
  }

  /**
   * An event of an accepted relay request the relay dropped (a name not in `allowEvents`, a
   * malformed event): reported in production too, as a refused request is, unless
   * `developmentOnly`. One kind per reason, so names a page (or anyone) posts never crowd out other
   * problems; the first one is in the line.
   */
  relayEventDropped(
    reason: string,
    eventName: string | undefined,
    text: string,
    developmentOnly = false,
  ): void {
    if (developmentOnly && !this.#options.development) return;
    const name = eventName === undefined ? '' : ` (${printable(eventName)})`;
    this.#report(
      `relay-event|${reason}`,
      `the relay dropped an event (${reason})`,
      `capi-kit: the relay dropped an event${name}: ${text}`,
      [reason],
    );
  }

  /** Prints the pending summaries now and stops their timers (the client is closing). */
  close(): void {
    unsummarized.delete(this);
    for (const kind of this.#kinds.values()) this.#summarize(kind);
    this.#endWindow();
  }

  #report(key: string, label: string, line: string, issues: string[]): void {
    const known = this.#kinds.get(key);
    if (known !== undefined) {
      known.repeats++;
      if (known.timer === undefined) {
        printBeforeExit(this);
        known.timer = this.#options.clock.setTimeout(() => {
          known.timer = undefined;
          this.#summarize(known);
          this.#forgetIfDone();
        }, this.#windowMs);
      }
      return;
    }
    if (this.#printed >= MAX_LINES) {
      // Not remembered as a kind: its next sighting after this window is printed in full.
      if (this.#unshown.events++ === 0) printBeforeExit(this);
      if (this.#unshown.kinds.size < MAX_KINDS) this.#unshown.kinds.add(key);
      return;
    }
    if (this.#printed++ === 0) {
      this.#windowTimer = this.#options.clock.setTimeout(() => {
        this.#windowTimer = undefined;
        this.#endWindow();
        this.#forgetIfDone();
      }, this.#windowMs);
    }
    if (this.#kinds.size >= MAX_KINDS) {
      const [oldestKey, oldest] = this.#kinds.entries().next().value as [string, Kind];
      this.#summarize(oldest);
      this.#kinds.delete(oldestKey);
    }
    this.#kinds.set(key, { label, repeats: 0, timer: undefined });
    this.#warn({ issues }, line);
  }

  /** Tells what the line budget held back, and opens the next window. */
  #endWindow(): void {
    if (this.#windowTimer !== undefined) {
      this.#options.clock.clearTimeout(this.#windowTimer);
      this.#windowTimer = undefined;
    }
    this.#printed = 0;
    const { events, kinds } = this.#unshown;
    if (events === 0) return;
    this.#unshown = { events: 0, kinds: new Set() };
    const many = kinds.size >= MAX_KINDS ? `${MAX_KINDS}+` : String(kinds.size);
    const what = kinds.size === 1 ? 'another kind of problem' : `${many} other kinds of problems`;
    this.#warn(
      { repeats: events },
      `capi-kit: ${events} more ${events === 1 ? 'event' : 'events'} with ${what} not shown (at most ${MAX_LINES} different problems are printed per window; client.stats() counts every rejected and dropped event)`,
    );
  }

  /** Leaves the before-exit set once nothing is left to summarize (so a dropped client is freed). */
  #forgetIfDone(): void {
    if (this.#unshown.events > 0) return;
    for (const kind of this.#kinds.values()) if (kind.timer !== undefined) return;
    unsummarized.delete(this);
  }

  #summarize(kind: Kind): void {
    if (kind.timer !== undefined) {
      this.#options.clock.clearTimeout(kind.timer);
      kind.timer = undefined;
    }
    if (kind.repeats === 0) return;
    const times = kind.repeats === 1 ? 'once more' : `${kind.repeats} more times`;
    this.#warn(
      { repeats: kind.repeats },
      `capi-kit: ${kind.label} ${times}, for the same reason (reported above)`,
    );
    kind.repeats = 0;
  }

  #warn(obj: Record<string, unknown>, msg: string): void {
    this.#options.warn(obj, msg);
  }
}

import type { Issue } from '../event/issues.js';
import type { Clock, DropReason } from './types.js';

/**
 * What a developer is told about each event capi-kit rejected, dropped or changed: one line per
 * event through the logger, naming the event, the field path, the rule and the fix, never a value.
 * The first line of each kind is printed in full; repeats within `windowMs` are counted and
 * summarized in one line when the window ends (or at `close()`), so a loop that tracks the same
 * broken event a million times prints two lines a minute, not a million.
 */

/**
 * How to fix what an issue code reports, where its message says what is wrong but not what to do.
 * Appended to development warnings only; `Issue.message` itself stays a stable description.
 */
const FIXES: Readonly<Record<string, string>> = {
  missing_currency: "add custom_data.currency, an ISO 4217 code such as 'USD'",
  missing_value: 'add custom_data.value, the amount as a number',
  missing_event_name: "name the event, e.g. track('Lead', { … })",
  missing_user_data:
    'add user_data (em, ph, external_id…), or track through req.capi so the request adds the IP, user agent and _fbp/_fbc',
  missing_client_user_agent:
    "track through the adapter's req.capi (it adds the request's User-Agent), or set user_data.client_user_agent",
  missing_event_source_url:
    "track through the adapter's req.capi (it adds the page URL), or set event_source_url",
  invalid_event_source_url: "pass the page's full URL, e.g. https://shop.example/checkout",
  unknown_event_field:
    'remove it; custom parameters go in custom_data, customer information in user_data',
  event_time_in_milliseconds: 'pass Unix seconds (Math.floor(Date.now() / 1000)) or a Date',
  event_time_too_old:
    'send events as they happen; website events older than 7 days are refused by Meta',
  invalid_currency: "use the ISO 4217 code, e.g. 'EUR' rather than '€'",
};

/** Why an accepted-or-not event is reported, beyond its issues. */
const DROP_TEXT: Partial<Record<DropReason, string>> = {
  closed: 'tracked after close() began; not sent. Track before shutting the client down.',
  too_large:
    'larger than maxBatchBytes once serialized; not sent. Send less custom_data (contents, custom parameters).',
  expired: "event_time is past Meta's window for its action_source (7 days for website); not sent.",
};

/** Longest event name printed; a name is the developer's, but may be anything. */
const MAX_NAME = 64;
/** Kinds remembered for summaries; the oldest is summarized and forgotten beyond it. */
const MAX_KINDS = 256;

const printable = (name: string): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is stripped
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  if (clean === '') return '(unnamed event)';
  return clean.length > MAX_NAME ? `${clean.slice(0, MAX_NAME)}…` : clean;
};

/** `user_data.em[3]` and `user_data.em[0]` are one kind of problem. */
const kindPath = (path: string): string => path.replace(/\[\d+\]/g, '[]');

const describe = (issue: Issue, withFix: boolean): string => {
  const fix = withFix ? FIXES[issue.code] : undefined;
  const text = issue.message.replace(/\.$/, '');
  return `${issue.path}: ${text} (${issue.code})${fix === undefined ? '' : `; fix: ${fix}`}`;
};

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

/** Per-event feedback with rate limiting; see the file comment. */
export class Feedback {
  readonly #options: FeedbackOptions;
  readonly #windowMs: number;
  readonly #kinds = new Map<string, Kind>();

  constructor(options: FeedbackOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  /** Whether accepted events with warnings are worth looking at (the caller skips the work otherwise). */
  get development(): boolean {
    return this.#options.development;
  }

  /** An event validation rejected: nothing was sent. Reported in production too (it is a loss). */
  rejected(eventName: string, issues: readonly Issue[]): void {
    const errors = issues.filter((i) => i.severity === 'error');
    // Warnings explain errors at times (`curency` next to a missing currency): listed after them.
    const notes = this.#options.development ? issues.filter((i) => i.severity !== 'error') : [];
    const name = printable(eventName);
    const key = `rejected|${name}|${errors.map((i) => `${kindPath(i.path)}:${i.code}`).join(',')}`;
    const dev = this.#options.development;
    const details = [...errors, ...notes].map((i) => describe(i, dev)).join('; ');
    this.#report(
      key,
      `${name} not sent`,
      `capi-kit: ${name} not sent (invalid): ${details}`,
      errors.map((i) => `${i.path}:${i.code}`),
    );
  }

  /** An accepted event capi-kit changed or has a note about (warnings): development only. */
  changed(eventName: string, issues: readonly Issue[]): void {
    if (!this.#options.development || issues.length === 0) return;
    const name = printable(eventName);
    const key = `changed|${name}|${issues.map((i) => `${kindPath(i.path)}:${i.code}`).join(',')}`;
    this.#report(
      key,
      `${name} sent with changes`,
      `capi-kit: ${name} sent with changes: ${issues.map((i) => describe(i, true)).join('; ')}`,
      issues.map((i) => `${i.path}:${i.code}`),
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

  /** Prints the pending summaries now and stops their timers (the client is closing). */
  close(): void {
    for (const kind of this.#kinds.values()) this.#summarize(kind);
  }

  #report(key: string, label: string, line: string, issues: string[]): void {
    const known = this.#kinds.get(key);
    if (known !== undefined) {
      known.repeats++;
      known.timer ??= this.#options.clock.setTimeout(() => {
        known.timer = undefined;
        this.#summarize(known);
      }, this.#windowMs);
      return;
    }
    if (this.#kinds.size >= MAX_KINDS) {
      const [oldestKey, oldest] = this.#kinds.entries().next().value as [string, Kind];
      this.#summarize(oldest);
      this.#kinds.delete(oldestKey);
    }
    this.#kinds.set(key, { label, repeats: 0, timer: undefined });
    this.#warn({ issues }, line);
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

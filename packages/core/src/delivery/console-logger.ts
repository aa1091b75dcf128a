import type { Logger } from './types.js';

/** Levels of {@link consoleLogger}, least to most severe. */
export type ConsoleLogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Readonly<Record<ConsoleLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Arrays longer than this print as their length (a dead-lettered batch lists 1000 event IDs). */
const MAX_LISTED = 5;

const field = (value: unknown): string | undefined => {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    return value.length > MAX_LISTED
      ? `[${value.length} items]`
      : `[${value.map(String).join(', ')}]`;
  }
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return '[object]';
    }
  }
  return String(value);
};

/**
 * The `msg` with the fields after it, `key=value`: `capi-kit: batch sent (pixelId=1, count=3)`.
 * Per-event warnings carry their details in `msg` already, so their fields are left out.
 */
const format = (obj: Record<string, unknown>, msg: string): string => {
  if (obj === null || typeof obj !== 'object' || 'issues' in obj || 'repeats' in obj) return msg;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const text = field(value);
    if (text !== undefined) parts.push(`${key}=${text}`);
  }
  return parts.length === 0 ? msg : `${msg} (${parts.join(', ')})`;
};

/**
 * A {@link Logger} that prints one line per message to the console (`console.warn` for `warn`,
 * `console.error` for `error`, `console.info`/`console.debug` below), from `level` up. What
 * `createCapi` logs with when no `logger` is given, at `warn`.
 */
export function consoleLogger(level: ConsoleLogLevel = 'warn'): Logger {
  const min = RANK[level];
  const at =
    (name: ConsoleLogLevel) =>
    (obj: Record<string, unknown>, msg: string): void => {
      if (RANK[name] < min) return;
      // Looked up per call: a test (or an app) may replace console methods after creation.
      console[name](format(obj, msg));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The part of a writable stream the CLI uses (`process.stdout` / `process.stderr`). */
export interface OutputStream {
  /** Writes text. */
  write(chunk: string): unknown;
  /** True on an interactive terminal. */
  isTTY?: boolean | undefined;
  /** Terminal width, when known. */
  columns?: number | undefined;
}

/** Everything a command touches of its process, injectable for tests. */
export interface CliIo {
  /** Results. */
  stdout: OutputStream;
  /** Diagnostics, progress bar and errors. */
  stderr: OutputStream;
  /** Environment (`META_*`, `TIKTOK_*`, `NO_COLOR`, `FORCE_COLOR`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves relative paths. */
  cwd: string;
  /** `fetch` for Graph and TikTok calls; default global `fetch`. */
  fetch?: typeof fetch;
  /** Subscribes to SIGINT; returns the unsubscribe function. Default: `process.once('SIGINT')`. */
  onInterrupt?: (handler: () => void) => () => void;
}

/** ANSI styles that turn into plain text when colors are off. */
export interface Style {
  /** Whether escapes are emitted. */
  readonly enabled: boolean;
  /** Success. */
  green(text: string): string;
  /** Failure. */
  red(text: string): string;
  /** Warning. */
  yellow(text: string): string;
  /** Emphasis. */
  bold(text: string): string;
  /** De-emphasis. */
  dim(text: string): string;
}

/**
 * Colors only on a TTY, never with `NO_COLOR` set to anything non-empty (no-color.org) or
 * `TERM=dumb`; `FORCE_COLOR` (not `0`) forces them on.
 */
export const colorsEnabled = (
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): boolean => {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
};

const wrap = (enabled: boolean, open: number, close: number) => (text: string) =>
  enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;

/** Styles for one stream. */
export const createStyle = (
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): Style => {
  const enabled = colorsEnabled(stream, env);
  return {
    enabled,
    green: wrap(enabled, 32, 39),
    red: wrap(enabled, 31, 39),
    yellow: wrap(enabled, 33, 39),
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
  };
};

/** Status of a check or a line of a report. */
export type Status = 'ok' | 'warn' | 'fail' | 'skip';

/** `✔`, `⚠`, `✖`, `–`, colored by status. */
export const statusMark = (style: Style, status: Status): string => {
  switch (status) {
    case 'ok':
      return style.green('✔');
    case 'warn':
      return style.yellow('⚠');
    case 'fail':
      return style.red('✖');
    default:
      return style.dim('–');
  }
};

/** Left-aligned columns, padded to the widest cell (cells are plain text). */
export const formatTable = (rows: readonly (readonly string[])[], gap = 2): string[] => {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length + gap),
      )
      .join('')
      .trimEnd(),
  );
};

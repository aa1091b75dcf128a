/**
 * What `capi-kit` exits with. 0 ok; 1 a check failed or Meta/validation rejected something; 2 the
 * command line or the configuration is wrong (the message names the flag or variable); 3 the
 * environment is (network, unreadable file, port taken); 4 an upload stopped before the end,
 * re-run to resume; 130 interrupted (Ctrl-C).
 */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  failed: 1,
  usage: 2,
  // A missing or malformed flag or variable is the same kind of mistake as a bad command line:
  // the user fixes what they typed, so it shares 2 (1 means Meta or validation said no).
  config: 2,
  environment: 3,
  incomplete: 4,
  interrupted: 130,
} as const);

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A usage or environment problem found before any work was done; the CLI prints it and exits. */
export class CliError extends Error {
  /** Exit code to use. */
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

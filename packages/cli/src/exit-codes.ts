/**
 * What `capi-kit` exits with. 0 ok; 1 a check failed or Meta/validation rejected something; 2 the
 * command line is wrong; 3 the environment is (missing configuration, network, unreadable file);
 * 4 an upload stopped before the end (`--max-batches`), re-run to resume; 130 interrupted (Ctrl-C).
 */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  failed: 1,
  usage: 2,
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

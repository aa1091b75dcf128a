import { createRequire } from 'node:module';
import { DOCTOR_HELP, doctor } from './commands/doctor.js';
import { MOCK_HELP, mock } from './commands/mock.js';
import { SEND_TEST_HELP, sendTest } from './commands/send-test.js';
import { UPLOAD_HELP, upload } from './commands/upload.js';
import { CliError, EXIT_CODES, type ExitCode } from './exit-codes.js';
import { withRedactedOutput } from './output-redaction.js';
import { type CliIo, createStyle } from './terminal.js';

const HELP = `capi-kit: tools for Meta Conversions API setups built with capi-kit (and TikTok's Events API beside it)

Usage: capi-kit <command> [options]

Commands:
  send-test   send one realistic test event to Events Manager › Test events (Meta, TikTok: one event_id)
  doctor      check the token, pixel, API version, clock and Meta's dataset quality; TikTok's setup
  upload      upload offline conversions from a CSV file (validated, hashed locally, resumable)
  mock        run the mock Graph API and TikTok Events API locally

Run \`capi-kit <command> --help\` for a command's options.

Environment: META_ACCESS_TOKEN, META_PIXEL_ID, META_API_VERSION, META_GRAPH_URL,
META_TEST_EVENT_CODE; TIKTOK_ACCESS_TOKEN, TIKTOK_PIXEL_CODE, TIKTOK_EVENTS_URL,
TIKTOK_TEST_EVENT_CODE; NO_COLOR turns colors off (they are only used on a terminal).

Exit codes: 0 ok; 1 a check failed or Meta/validation rejected something; 2 usage or
configuration error (the message names the flag or variable); 3 file or network error;
4 upload stopped early, run again to resume; 130 interrupted.
`;

/**
 * An unexpected error's message without the internal function name our libraries prefix it with
 * (`createCapi: …`): the user never called that function and cannot look it up.
 */
const userFacing = (error: unknown): string => {
  const message = (error as Error)?.message ?? String(error);
  return message.replace(/^[a-z][A-Za-z0-9]*: /, '');
};

type Command = (argv: string[], io: CliIo) => Promise<ExitCode>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  'send-test': { run: sendTest, help: SEND_TEST_HELP },
  doctor: { run: doctor, help: DOCTOR_HELP },
  upload: { run: upload, help: UPLOAD_HELP },
  mock: { run: mock, help: MOCK_HELP },
};

/** The command named `name`: an own entry only (`constructor`, `toString` are no commands). */
const commandNamed = (name: string): { run: Command; help: string } | undefined =>
  Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;

const version = (): string => {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

/**
 * Runs `capi-kit` with `argv` (without `node` and the script) and resolves with the exit code;
 * never throws and never calls `process.exit` (except a second Ctrl-C during an upload). Whatever
 * it writes to `io.stdout` and `io.stderr` has `META_ACCESS_TOKEN` and `TIKTOK_ACCESS_TOKEN` redacted.
 * @example process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export const runCli = async (argv: readonly string[], rawIo: CliIo): Promise<ExitCode> => {
  // Every command writes through these streams only, so this is the one redaction of the output.
  const io = withRedactedOutput(rawIo);
  const [name, ...rest] = argv;
  const style = createStyle(io.stderr, io.env);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : commandNamed(topic);
    if (topic !== undefined && !command) {
      io.stderr.write(`${style.red('error')}: unknown command "${topic}"\n\n${HELP}`);
      return EXIT_CODES.usage;
    }
    (name === undefined ? io.stderr : io.stdout).write(command?.help ?? HELP);
    return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT_CODES.ok;
  }
  const command = commandNamed(name);
  if (!command) {
    io.stderr.write(`${style.red('error')}: unknown command "${name}"\n\n${HELP}`);
    return EXIT_CODES.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`${style.red('error')}: ${error.message}\n`);
      if (error.exitCode === EXIT_CODES.usage)
        io.stderr.write(`Run \`capi-kit ${name} --help\` for usage.\n`);
      return error.exitCode;
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(
        `${style.red('error')}: ${(error as Error).message}\nRun \`capi-kit ${name} --help\` for usage.\n`,
      );
      return EXIT_CODES.usage;
    }
    io.stderr.write(`${style.red('error')}: ${userFacing(error)}\n`);
    return EXIT_CODES.failed;
  }
};

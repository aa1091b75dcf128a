#!/usr/bin/env node
import { runCli } from './cli.js';
import { createOutputRedactor } from './output-redaction.js';

const redact = createOutputRedactor(process.env);

// Node prints an uncaught error's message (which may quote a header value, hence the token) to
// stderr itself; print it redacted instead, and exit 1 as Node would.
const lastResort = (error: unknown): void => {
  // Output piped into `head` and closed: nothing more to say, and nowhere to say it.
  if ((error as { code?: unknown })?.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(redact(`capi-kit: ${text}\n`));
  process.exit(1);
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli never rejects; should it ever, its message gets the same redaction as its output.
    process.stderr.write(redact(`capi-kit: ${(error as Error)?.message ?? String(error)}\n`));
    process.exitCode = 1;
  },
);

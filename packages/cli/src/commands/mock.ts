import { parseArgs } from 'node:util';
import type { MockGraph, MockRequest } from '@capi-kit/testing';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import type { CliIo } from '../terminal.js';

/** `capi-kit mock --help`. */
export const MOCK_HELP = `Usage: capi-kit mock [--port 4000] [--host 127.0.0.1] [--access-token TOKEN] [--quiet]

Starts the mock Meta Graph API from @capi-kit/testing: the events edge with Meta's validation,
GET /{version}/me, /{version}/{pixel} and /{version}/dataset_quality, and the /_mock/* control
routes. Point the other commands (or your app) at it with META_GRAPH_URL. Stops on Ctrl-C.

Options:
  -p, --port N            port (default 4000; 0 picks a free one)
  -H, --host HOST         interface (default 127.0.0.1, loopback only)
      --access-token T    require this token (else Graph error 190)
  -q, --quiet             no line per request

Example:
  capi-kit mock --port 4000 --access-token dev &
  META_GRAPH_URL=http://127.0.0.1:4000 META_ACCESS_TOKEN=dev META_PIXEL_ID=1234567890 capi-kit doctor

Exit codes: 0 stopped; 2 usage error; 3 the port is taken.
`;

const describe = (r: MockRequest): string => {
  const why = r.error
    ? ` ${r.error.code}${r.error.error_subcode ? `/${r.error.error_subcode}` : ''}: ${r.error.error_user_msg ?? r.error.message}`
    : '';
  const events =
    r.method === 'POST' ? ` ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}` : '';
  return `#${r.index} ${r.method} ${r.path} ${r.status || (r.fault ?? 'no answer')}${events} ${Math.round(r.durationMs)}ms${why}`;
};

/** `capi-kit mock`: runs until SIGINT/SIGTERM (or `signal` aborts, in tests). */
export const mock = async (argv: string[], io: CliIo, signal?: AbortSignal): Promise<ExitCode> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'H' },
      'access-token': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(MOCK_HELP);
    return EXIT_CODES.ok;
  }
  const port = Number(values.port ?? '4000');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliError(`--port must be an integer from 0 to 65535`, EXIT_CODES.usage);
  }
  let server: MockGraph;
  try {
    // Loaded only here: the other commands never need the mock.
    const { startMockGraph } = await import('@capi-kit/testing');
    server = await startMockGraph({
      port,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values['access-token'] === undefined ? {} : { accessToken: values['access-token'] }),
      ...(values.quiet
        ? {}
        : { onRequest: (r: MockRequest) => io.stdout.write(`${describe(r)}\n`) }),
    });
  } catch (error) {
    throw new CliError(
      `Cannot start the mock: ${(error as Error).message}`,
      EXIT_CODES.environment,
    );
  }
  io.stdout.write(`capi-kit mock listening on ${server.url}\n`);
  io.stdout.write(`  export META_GRAPH_URL=${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return EXIT_CODES.ok;
};

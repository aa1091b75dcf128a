import { parseGraphError } from '@capi-kit/core';
import type { MockGraph, MockRequest, MockTikTokRequest } from '@capi-kit/testing';
import { parseCommandArgs } from '../command-args.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphError } from '../graph-request.js';
import type { CliIo } from '../terminal.js';

/** `capi-kit mock --help`. */
export const MOCK_HELP = `Usage: capi-kit mock [--port 4000] [--host 127.0.0.1] [--access-token TOKEN] [--app-secret SECRET]
                     [--tiktok-access-token TOKEN] [--max-events N] [--quiet]

Starts the mock Meta Graph API from @capi-kit/testing: the events edge with Meta's validation,
GET /{version}/me, /{version}/{pixel} and /{version}/dataset_quality, and the /_mock/* control
routes; on the same port, TikTok's Events API 2.0 (POST /open_api/v1.3/event/track/ with TikTok's
validation and codes, /_mock/tiktok/* routes). Prints the environment to point the other
commands (or your app) at it, Meta's and TikTok's, then one line per request with the event
names. Stops on Ctrl-C.

Options:
  -p, --port N             port (default 4000; 0 picks a free one)
  -H, --host HOST          interface (default 127.0.0.1, loopback only)
      --access-token T     require this token (else Graph error 190); default: accept any
      --app-secret SECRET  require appsecret_proof computed with this app secret (else error 100)
      --tiktok-access-token T
                           require this TikTok Access-Token (else TikTok code 40105); default: any
      --max-events N       records of each kind kept, the oldest let go past it and counted in
                           GET /_mock/stats (default 100000)
  -q, --quiet              no line per request
  -h, --help               show this help

Example:
  capi-kit mock --port 4000 --access-token dev &
  META_GRAPH_URL=http://127.0.0.1:4000 META_ACCESS_TOKEN=dev META_PIXEL_ID=1234567890 capi-kit doctor

Exit codes: 0 stopped; 2 usage error; 3 the port is taken.
`;

/**
 * One line per request: `#3 POST /v26.0/123/events 200 2 events (Purchase, Lead) 4ms`, and the
 * Graph error the mock answered, worded as every command words Meta's (graph-request.ts).
 */
const describe = (r: MockRequest): string => {
  const error = r.error && parseGraphError({ error: r.error });
  const why = error ? ` ${describeGraphError(error, r.status)}` : '';
  const names =
    r.eventNames.length > 0
      ? ` (${r.eventNames.slice(0, 5).join(', ')}${r.eventNames.length > 5 ? ', …' : ''})`
      : '';
  const events =
    r.method === 'POST' ? ` ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}${names}` : '';
  return `#${r.index} ${r.method} ${r.path} ${r.status || (r.fault ?? 'no answer')}${events} ${Math.round(r.durationMs)}ms${why}`;
};

/**
 * One line per TikTok request: `#0 tiktok POST /open_api/v1.3/event/track/ 200 code 0 1 event
 * (Purchase) 3ms`, with TikTok's message when the code is not 0.
 */
const describeTikTok = (r: MockTikTokRequest): string => {
  const names =
    r.eventNames.length > 0
      ? ` (${r.eventNames.slice(0, 5).join(', ')}${r.eventNames.length > 5 ? ', …' : ''})`
      : '';
  const code = r.code === undefined ? '' : ` code ${r.code}`;
  const why = r.code !== undefined && r.code !== 0 && r.message ? `: ${r.message}` : '';
  const events =
    r.method === 'POST' ? ` ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}${names}` : '';
  return `#${r.index} tiktok ${r.method} ${r.path} ${r.status || (r.fault ?? 'no answer')}${code}${events} ${Math.round(r.durationMs)}ms${why}`;
};

/** `'value'` for a POSIX shell. */
const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * Lines to paste into a shell. The token is printed on purpose: it is the mock's own (given with
 * --access-token, or a placeholder the mock accepts), not a credential. Quoting the values is what
 * a shell needs, and it also keeps the token out of the output redaction's `access_token=…`
 * shape rule, which is meant for URLs and form bodies; META_ACCESS_TOKEN from the environment is
 * still redacted wherever it appears (output-redaction.ts).
 */
const envBlock = (url: string, token: string): string[] => [
  `export META_GRAPH_URL=${shellQuote(url)}`,
  `export META_ACCESS_TOKEN=${shellQuote(token)}`,
  `export META_PIXEL_ID=${shellQuote('1234567890')}`,
  // The Pixel stub the same server serves: the examples' pages load fbevents.js from here, so
  // their Pixel events reach the mock beside the server's.
  `export META_PIXEL_SCRIPT_URL=${shellQuote(`${url}/fbevents.js`)}`,
];

// The placeholders `capi-kit-mock` (@capi-kit/testing's bin) prints for TikTok. The testing package
// does not export its env block, so they are repeated here; a test holds the two commands' env
// blocks equal, line for line, so they cannot drift apart unnoticed.
const MOCK_TIKTOK_TOKEN = 'capi-kit-mock-tiktok-token';
const MOCK_TIKTOK_PIXEL_CODE = 'C4MOCKPIXEL000000000';

/**
 * TikTok's lines, the ones `capi-kit-mock` prints: the track endpoint on the same server, the
 * mock's own TikTok token (not a credential), a pixel code, and the TikTok Pixel stub's script
 * (`<TikTokPixel scriptUrl>`, as META_PIXEL_SCRIPT_URL is for `<MetaPixel/>`).
 */
const tiktokEnvBlock = (server: MockGraph, token: string): string[] => [
  `export TIKTOK_EVENTS_URL=${shellQuote(server.tiktok.url)}`,
  `export TIKTOK_ACCESS_TOKEN=${shellQuote(token)}`,
  `export TIKTOK_PIXEL_CODE=${shellQuote(MOCK_TIKTOK_PIXEL_CODE)}`,
  `export TIKTOK_PIXEL_SCRIPT_URL=${shellQuote(server.tiktok.pixelScriptUrl)}`,
];

/** `capi-kit mock`'s options, for `parseCommandArgs` (its help lists each one). */
export const MOCK_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'H' },
  'access-token': { type: 'string' },
  'app-secret': { type: 'string' },
  'tiktok-access-token': { type: 'string' },
  'max-events': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `capi-kit mock`: runs until SIGINT/SIGTERM (or `signal` aborts, in tests). */
export const mock = async (argv: string[], io: CliIo, signal?: AbortSignal): Promise<ExitCode> => {
  const args = parseCommandArgs(argv, io, { options: MOCK_OPTIONS, help: MOCK_HELP });
  if (!args) return EXIT_CODES.ok;
  const { values } = args;
  const port = Number(values.port ?? '4000');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliError(`--port must be an integer from 0 to 65535`, EXIT_CODES.usage);
  }
  const maxEvents = values['max-events'] === undefined ? undefined : Number(values['max-events']);
  if (maxEvents !== undefined && (!Number.isSafeInteger(maxEvents) || maxEvents < 1)) {
    throw new CliError(`--max-events must be a whole number ≥ 1`, EXIT_CODES.usage);
  }
  let server: MockGraph;
  try {
    // Loaded only here: the other commands never need the mock.
    const { startMockGraph } = await import('@capi-kit/testing');
    server = await startMockGraph({
      port,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values['access-token'] === undefined ? {} : { accessToken: values['access-token'] }),
      ...(values['app-secret'] === undefined ? {} : { appSecret: values['app-secret'] }),
      ...(maxEvents === undefined ? {} : { maxEvents }),
      ...(values['tiktok-access-token'] === undefined
        ? {}
        : { tiktokAccessToken: values['tiktok-access-token'] }),
      ...(values.quiet
        ? {}
        : {
            onRequest: (r: MockRequest) => io.stdout.write(`${describe(r)}\n`),
            onTikTokRequest: (r: MockTikTokRequest) => io.stdout.write(`${describeTikTok(r)}\n`),
          }),
    });
  } catch (error) {
    // The usual cause is a second `capi-kit mock` (or the app) on the port: say what to do.
    const code = (error as NodeJS.ErrnoException).code;
    const fix =
      code === 'EADDRINUSE'
        ? `; port ${port} is taken (another capi-kit mock, or your app?): stop it, or pick another with --port (--port 0 picks a free one)`
        : code === 'EACCES'
          ? `; port ${port} needs privileges: pick one above 1023 with --port`
          : '';
    throw new CliError(
      `Cannot start the mock: ${(error as Error).message}${fix}`,
      EXIT_CODES.environment,
    );
  }
  io.stdout.write(`capi-kit mock listening on ${server.url}\n`);
  io.stdout.write('Point capi-kit or your app at it (paste into a shell):\n');
  for (const line of envBlock(server.url, values['access-token'] ?? 'capi-kit-mock-token'))
    io.stdout.write(`  ${line}\n`);
  for (const line of tiktokEnvBlock(server, values['tiktok-access-token'] ?? MOCK_TIKTOK_TOKEN))
    io.stdout.write(`  ${line}\n`);
  if (values['app-secret'] !== undefined)
    io.stdout.write(
      "  (requests need appsecret_proof: set your client's appSecret to the same secret)\n",
    );
  io.stdout.write(`Events Manager (open in a browser): ${server.url}/\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return EXIT_CODES.ok;
};

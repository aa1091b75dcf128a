#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { type MockRequest, type MockTikTokRequest, startMockGraph } from './index.js';

const HELP = `capi-kit-mock: a mock Meta Graph API (Conversions API) for local development and tests

Usage: capi-kit-mock [--port 4000] [--host 127.0.0.1] [--access-token TOKEN] [--app-secret SECRET]
                     [--tiktok-access-token TOKEN] [--max-events N] [--open]

Options:
  -p, --port          port to listen on (default 4000; 0 picks a free port)
  -H, --host          interface to listen on (default 127.0.0.1, loopback only)
      --access-token  require this access token (else Graph error 190)
      --app-secret    require appsecret_proof computed with this app secret
      --tiktok-access-token  require this TikTok Access-Token header (else TikTok code 40105)
      --max-events    records of each kind kept, the oldest let go past it (default 100000)
  -q, --quiet         do not print a line per request
      --open          open the Events Manager page in the default browser
  -h, --help          show this help

Events Manager  <url>/ in a browser: every event, browser + server dedup, match keys, freshness
Pixel stub      <url>/fbevents.js: set META_PIXEL_SCRIPT_URL to it, the page's Pixel events come here
TikTok Pixel    <url>/i18n/pixel/events.js: <TikTokPixel scriptUrl> or the base code's URL; its events come here
Send events to  POST <url>/v26.0/<pixelId>/events
Inspect with    GET <url>/_mock/events, /_mock/browser-events, /_mock/events-manager, /_mock/requests,
                /_mock/stats (records kept and let go)
Forget          POST <url>/_mock/reset (everything), DELETE <url>/_mock/events (events only)
Script faults   POST <url>/_mock/faults {"fault": 503, "times": 2}, POST|DELETE <url>/_mock/outage
Refuse events   POST <url>/_mock/reject-events {"eventIdPrefix": "bad-"}, DELETE to stop
TikTok          POST <url>/open_api/v1.3/event/track/ (Events API 2.0, Access-Token header);
                GET <url>/_mock/tiktok/events, /_mock/tiktok/browser-events, /_mock/tiktok/requests;
                POST <url>/_mock/tiktok/reset;
                POST <url>/_mock/tiktok/faults {"fault": "throttle"}, POST|DELETE <url>/_mock/tiktok/outage
Stops on SIGINT / SIGTERM.
`;

// Control characters (C0, DEL, C1) and bidirectional overrides, as found in a request's event
// names and error messages. Anyone who can reach the mock sends them (a web page can, with a form
// post), and written raw they drive the terminal: escape sequences clear it, rewrite the clipboard
// (OSC 52) or forge a line that looks like the mock's own.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A log line with every control character written as `\u001b`: one line, inert in any terminal. */
const printable = (line: string): string =>
  line.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** One line per request: `#3 POST /v26.0/123/events 200 2 events (Purchase, PageView) 4ms`. */
const summarize = (r: MockRequest): string => {
  const names =
    r.eventNames.length > 0
      ? ` (${r.eventNames.slice(0, 5).join(', ')}${r.eventNames.length > 5 ? ', …' : ''})`
      : '';
  const status = r.status === 0 ? (r.fault ?? 'no answer') : String(r.status);
  const why = r.error
    ? ` ${r.error.code}${r.error.error_subcode ? `/${r.error.error_subcode}` : ''}: ${r.error.error_user_msg ?? r.error.message}`
    : '';
  const fault = r.fault && r.status !== 0 ? ` [fault ${r.fault}]` : '';
  const flags = `${r.tokenInUrl ? ' [token in URL]' : ''}${r.clientAborted ? ' [client aborted]' : ''}`;
  return `#${r.index} ${r.method} ${r.path} ${status} ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}${names} ${Math.round(r.durationMs)}ms${fault}${flags}${why}`;
};

/** One line per TikTok request: `#0 tiktok POST /open_api/v1.3/event/track/ 200 code 0 1 event (Purchase) 3ms`. */
const summarizeTikTok = (r: MockTikTokRequest): string => {
  const names =
    r.eventNames.length > 0
      ? ` (${r.eventNames.slice(0, 5).join(', ')}${r.eventNames.length > 5 ? ', …' : ''})`
      : '';
  const status = r.status === 0 ? (r.fault ?? 'no answer') : String(r.status);
  const code = r.code === undefined ? '' : ` code ${r.code}`;
  const why = r.code !== undefined && r.code !== 0 && r.message ? `: ${r.message}` : '';
  const fault = r.fault && r.status !== 0 ? ` [fault ${r.fault}]` : '';
  const flags = `${r.tokenInUrl ? ' [token in URL]' : ''}${r.tokenInBody ? ' [token in body]' : ''}${r.clientAborted ? ' [client aborted]' : ''}`;
  return `#${r.index} tiktok ${r.method} ${r.path} ${status}${code} ${r.eventCount} event${r.eventCount === 1 ? '' : 's'}${names} ${Math.round(r.durationMs)}ms${fault}${flags}${why}`;
};

const main = async (): Promise<void> => {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port ?? '4000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`Invalid --port ${values.port}\n`);
    process.exitCode = 2;
    return;
  }
  const maxEvents = values['max-events'] === undefined ? undefined : Number(values['max-events']);
  if (maxEvents !== undefined && (!Number.isSafeInteger(maxEvents) || maxEvents < 1)) {
    process.stderr.write(`Invalid --max-events ${values['max-events']}: a whole number ≥ 1\n`);
    process.exitCode = 2;
    return;
  }
  let mock: Awaited<ReturnType<typeof startMockGraph>>;
  try {
    mock = await startMockGraph({
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
            onRequest: (r: MockRequest) => process.stdout.write(`${printable(summarize(r))}\n`),
            onTikTokRequest: (r: MockTikTokRequest) =>
              process.stdout.write(`${printable(summarizeTikTok(r))}\n`),
          }),
    });
  } catch (error) {
    // The usual cause is a second mock (or the app) on the port: say what to do, not only EADDRINUSE.
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    process.stderr.write(
      `capi-kit-mock: ${(error as Error).message}; port ${port} is taken (another capi-kit-mock, or your app?): stop it, or pick another with --port (--port 0 picks a free one)\n`,
    );
    process.exitCode = 1;
    return;
  }
  // Before anything is printed: a script that starts the mock, waits for its env block and then
  // stops it must find the handlers in place, or the signal kills the process (no exit code).
  const stop = () => {
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`capi-kit-mock listening on ${mock.url}\n`);
  // The same block as `capi-kit mock`: the mock's own token (any is accepted without
  // --access-token), not a credential, quoted for a POSIX shell.
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  process.stdout.write('Point your app at it (paste into a shell):\n');
  for (const [name, value] of [
    ['META_GRAPH_URL', mock.url],
    ['META_ACCESS_TOKEN', values['access-token'] ?? 'capi-kit-mock-token'],
    ['META_PIXEL_ID', '1234567890'],
    ['META_PIXEL_SCRIPT_URL', `${mock.url}/fbevents.js`],
    // TikTok's Events API 2.0, served by the same process: TikTok's `url` option.
    ['TIKTOK_EVENTS_URL', mock.tiktok.url],
    ['TIKTOK_ACCESS_TOKEN', values['tiktok-access-token'] ?? 'capi-kit-mock-tiktok-token'],
    ['TIKTOK_PIXEL_CODE', 'C4MOCKPIXEL000000000'],
    // The TikTok Pixel stub: <TikTokPixel scriptUrl>, like META_PIXEL_SCRIPT_URL for <MetaPixel/>.
    ['TIKTOK_PIXEL_SCRIPT_URL', mock.tiktok.pixelScriptUrl],
  ])
    process.stdout.write(`  export ${name}=${quote(value ?? '')}\n`);
  process.stdout.write(`Events Manager (open in a browser): ${mock.url}/\n`);
  if (values.open) openInBrowser(`${mock.url}/`);
};

/**
 * Hands the page's URL to the desktop's opener (`open`, `xdg-open`, `start`); without one (a
 * server, a container) it says so, and the URL printed above is the way in.
 */
const openInBrowser = (url: string): void => {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const cannot = (why: string) =>
    process.stdout.write(`(--open: could not start ${command}: ${why}; open the URL yourself)\n`);
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', (error) => cannot(error.message));
    child.unref();
  } catch (error) {
    cannot((error as Error).message);
  }
};

const parse = () =>
  parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'H' },
      'access-token': { type: 'string' },
      'app-secret': { type: 'string' },
      'tiktok-access-token': { type: 'string' },
      'max-events': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      open: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });

main().catch((error: unknown) => {
  process.stderr.write(`capi-kit-mock: ${(error as Error).message ?? String(error)}\n`);
  process.exitCode = 1;
});

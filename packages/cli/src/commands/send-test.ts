import {
  type CapiDeliveryError,
  createCapi,
  type FetchLike,
  type GraphErrorInfo,
  type ServerEventInput,
} from '@capi-kit/core';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, graphHelp, readGraphConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphAnswer, describeNetworkError } from '../graph-request.js';
import { MOCK_GRAPH_HEADER } from '../mock-detection.js';
import { type CliIo, createStyle, formatTable } from '../terminal.js';

/** `capi-kit send-test --help`. */
export const SEND_TEST_HELP = `Usage: capi-kit send-test [--event Purchase] [--test-event-code CODE] [options]

Sends one realistic test event through @capi-kit/core's client to the Test Events tab of Events
Manager and prints Meta's answer (events_received, fbtrace_id, messages). The customer data is
made up (example.com, documentation IP ranges).

Against the mock Graph API (capi-kit mock), it says so: nothing reaches Meta or Events Manager.

Options:
  -e, --event NAME         event_name (default Purchase)
      --test-event-code C  Events Manager › Test events code (default: META_TEST_EVENT_CODE; required)
      --url URL            event_source_url (default https://capi-kit.test/checkout)
      --json               print the result as JSON
${graphHelp([['META_TEST_EVENT_CODE', 'Events Manager › Test events code']])}

Exit codes: 0 Meta (or the mock) accepted the event; 1 Meta or validation rejected it;
2 usage or configuration error (names the flag or variable); 3 network error.
`;

/** A made-up but complete website event, as a shop would send it. */
export const testEvent = (eventName: string, url: string, nowMs: number): ServerEventInput => {
  const id = globalThis.crypto.randomUUID();
  return {
    event_name: eventName,
    event_id: `capi-kit-test-${id}`,
    event_time: Math.floor(nowMs / 1000),
    action_source: 'website',
    event_source_url: url,
    user_data: {
      em: 'capi-kit-test@example.com',
      ph: '+1 650 555 1212',
      fn: 'Test',
      ln: 'User',
      ct: 'Menlo Park',
      st: 'CA',
      zp: '94025',
      country: 'US',
      external_id: 'capi-kit-test-user',
      client_ip_address: '2001:db8::1',
      client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-send-test',
      fbp: `fb.1.${nowMs}.${Math.floor(Math.random() * 2_147_483_647)}`,
    },
    custom_data: {
      value: 42,
      currency: 'USD',
      content_ids: ['capi-kit-test-sku'],
      content_type: 'product',
      order_id: `capi-kit-test-${id.slice(0, 8)}`,
    },
  } as ServerEventInput;
};

interface SendTestResult {
  ok: boolean;
  pixelId: string;
  eventName: string;
  eventId: string;
  testEventCode: string;
  /** True when the answer came from the mock Graph API (@capi-kit/testing), not from Meta. */
  mock: boolean;
  graphUrl: string;
  status?: number;
  eventsReceived?: number;
  fbtraceId?: string;
  messages?: unknown[];
  error?: string;
  issues?: { path: string; code: string; message: string }[];
}

/** `capi-kit send-test`'s options, for `parseCommandArgs` (its help lists each one). */
export const SEND_TEST_OPTIONS = {
  event: { type: 'string', short: 'e' },
  'test-event-code': { type: 'string' },
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...GRAPH_OPTIONS,
} as const;

/** `capi-kit send-test`. */
export const sendTest = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const args = parseCommandArgs(argv, io, { options: SEND_TEST_OPTIONS, help: SEND_TEST_HELP });
  if (!args) return EXIT_CODES.ok;
  const { values } = args;
  const config = readGraphConfig(io.env, values);
  const testEventCode = (values['test-event-code'] ?? io.env.META_TEST_EVENT_CODE ?? '').trim();
  if (!testEventCode) {
    throw new CliError(
      'Missing configuration: set META_TEST_EVENT_CODE (or --test-event-code); it is the code shown in Events Manager › Test events.',
      EXIT_CODES.config,
    );
  }
  const eventName = values.event ?? 'Purchase';
  const baseFetch = io.fetch ?? fetch;
  let answeredByMock = false;
  let lastAnswer:
    | { status: number; body: unknown; text?: string; location?: string | null }
    | undefined;
  let networkError: string | undefined;
  // Keep Meta's whole answer (`messages` is not in the `sent` hook; a proxy's page is in no hook).
  // Nothing here is redacted: everything the CLI prints is, on its way out (output-redaction.ts).
  const capturingFetch: FetchLike = async (url, init) => {
    try {
      const res = await baseFetch(url, init);
      if (res.headers.get(MOCK_GRAPH_HEADER) !== null) answeredByMock = true;
      const text = await res.clone().text();
      let body: unknown;
      let page: string | undefined;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        page = text;
      }
      lastAnswer = { status: res.status, body, location: res.headers.get('location') };
      if (page !== undefined) lastAnswer.text = page;
      return res;
    } catch (error) {
      networkError = describeNetworkError(error);
      throw error;
    }
  };
  // readGraphConfig checked every value createCapi checks, so this cannot throw on configuration.
  const client = createCapi({
    pixelId: config.pixelId,
    accessToken: config.accessToken,
    apiVersion: config.apiVersion,
    graphUrl: config.graphUrl,
    testEventCode,
    partnerAgent: 'capi-kit-cli',
    fetch: capturingFetch,
    timeoutMs: 10_000,
    retry: { maxAttempts: 1, freeThrottles: 0 },
    env: false,
    diagnostics: { enabled: false },
    // The command reports every row's issues and every delivery outcome itself, in its own format.
    logger: false,
  });
  let failure: { error: CapiDeliveryError | Error; graphError?: GraphErrorInfo } | undefined;
  client.on('deadLetter', (info) => {
    failure = info.error.graphError
      ? { error: info.error, graphError: info.error.graphError }
      : { error: info.error };
  });
  client.on('error', (info) => {
    if (info.kind === 'auth') {
      const graphError = (info.error as Partial<CapiDeliveryError>).graphError;
      failure = graphError ? { error: info.error, graphError } : { error: info.error };
    }
  });

  const tracked = client.track(
    testEvent(eventName, values.url ?? 'https://capi-kit.test/checkout', Date.now()),
  );
  const result: SendTestResult = {
    ok: false,
    pixelId: config.pixelId,
    eventName,
    eventId: tracked.event_id,
    testEventCode,
    mock: false,
    graphUrl: config.graphUrl,
  };
  let code: ExitCode = EXIT_CODES.ok;
  if (!tracked.accepted) {
    result.issues = tracked.issues.map(({ path, code: c, message }) => ({
      path,
      code: c,
      message,
    }));
    result.error = `the event failed local validation (${tracked.reason ?? 'invalid'})`;
    code = EXIT_CODES.failed;
  } else {
    await client.flush();
    if (lastAnswer) result.status = lastAnswer.status;
    const body = (lastAnswer?.body ?? {}) as {
      events_received?: unknown;
      fbtrace_id?: unknown;
      messages?: unknown;
    };
    if (!failure && lastAnswer && lastAnswer.status >= 200 && lastAnswer.status < 300) {
      result.ok = true;
      if (typeof body.events_received === 'number') result.eventsReceived = body.events_received;
      if (typeof body.fbtrace_id === 'string') result.fbtraceId = body.fbtrace_id;
      result.messages = Array.isArray(body.messages) ? body.messages : [];
    } else if (networkError !== undefined || !lastAnswer) {
      result.error = `could not reach ${config.graphUrl}: ${networkError ?? 'no answer'}`;
      code = EXIT_CODES.environment;
    } else {
      result.error = describeGraphAnswer({
        status: lastAnswer.status,
        error: failure?.graphError,
        text: lastAnswer.text,
        location: lastAnswer.location ?? undefined,
      });
      if (failure?.graphError?.fbtraceId) result.fbtraceId = failure.graphError.fbtraceId;
      code = EXIT_CODES.failed;
    }
  }
  await client.close({ timeoutMs: 1000 });
  result.mock = answeredByMock;
  print(io, result, values.json === true);
  return code;
};

const print = (io: CliIo, r: SendTestResult, json: boolean): void => {
  const out = io.stdout;
  const style = createStyle(out, io.env);
  if (json) {
    out.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const rows: string[][] = [
    ['pixel', r.pixelId],
    ['event', `${r.eventName} (event_id ${r.eventId || '—'})`],
    ['test_event_code', r.testEventCode],
  ];
  if (r.status !== undefined) rows.push(['HTTP status', String(r.status)]);
  if (r.eventsReceived !== undefined) rows.push(['events_received', String(r.eventsReceived)]);
  if (r.fbtraceId !== undefined) rows.push(['fbtrace_id', r.fbtraceId]);
  if (r.messages !== undefined)
    rows.push(['messages', r.messages.length === 0 ? '(none)' : JSON.stringify(r.messages)]);
  const who = r.mock ? 'The mock Graph API' : 'Meta';
  if (r.ok) {
    out.write(`${style.green('✔')} ${style.bold(`${who} accepted the test event`)}\n`);
  } else {
    out.write(
      `${style.red('✖')} ${style.bold('The test event was not accepted')}: ${r.error ?? ''}\n`,
    );
  }
  for (const line of formatTable(rows)) out.write(`  ${line}\n`);
  for (const issue of r.issues ?? [])
    out.write(`  ${style.red(issue.path)} ${issue.code}: ${issue.message}\n`);
  if (r.mock) {
    // The mock says so in a header; Events Manager will never show this event.
    out.write(
      style.dim(
        `  This went to the mock Graph API at ${r.graphUrl}, not to Meta: nothing appears in Events Manager.\n  See what it received: curl ${r.graphUrl}/_mock/events\n`,
      ),
    );
  } else if (r.ok) {
    out.write(
      style.dim(
        '  Look for it in Events Manager › Data sources › your pixel › Test events (it can take a few minutes).\n',
      ),
    );
  }
};

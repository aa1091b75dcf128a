import {
  type CapiDeliveryError,
  createCapi,
  type FetchLike,
  type GraphErrorInfo,
  type Issue,
  type RequestContext,
  type ServerEventInput,
  type TrackResult,
} from '@capi-kit/core';
import { TTP_COOKIE, tiktok, tiktokEventName } from '@capi-kit/tiktok';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, type GraphConfig, graphHelp, readGraphConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphAnswer, describeNetworkError } from '../graph-request.js';
import { MOCK_GRAPH_HEADER } from '../mock-detection.js';
import { PLATFORM_HELP, PLATFORM_OPTION, type Platform, selectPlatforms } from '../platforms.js';
import { type CliIo, createStyle, formatTable } from '../terminal.js';
import {
  readTikTokAnswer,
  reportTikTokAnswer,
  type TikTokAnswer,
  type TikTokVerdictReport,
  tiktokExitCode,
} from '../tiktok-answer.js';
import {
  readTikTokConfig,
  TIKTOK_ENV,
  TIKTOK_OPTIONS,
  TIKTOK_OPTIONS_HELP,
  type TikTokConfig,
} from '../tiktok-config.js';

/** `capi-kit send-test --help`. */
export const SEND_TEST_HELP = `Usage: capi-kit send-test [--event Purchase] [--test-event-code CODE] [--platform P] [options]

Sends one realistic test event through @capi-kit/core's client to the Test Events tab of Events
Manager and prints Meta's answer (events_received, fbtrace_id, messages). The customer data is
made up (example.com, documentation IP ranges).

With TikTok configured (TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN), the same track() also sends it
to TikTok's Events API with TIKTOK_TEST_EVENT_CODE, with the same event_id as Meta's copy, and
prints TikTok's answer (code, message, request_id) and what it means. --platform picks one.

Against the mock (capi-kit mock), it says so: nothing reaches Meta, TikTok or Events Manager.

Options:
  -e, --event NAME         event_name (default Purchase; TikTok gets its own name for it)
      --test-event-code C  Events Manager › Test events code (default: META_TEST_EVENT_CODE; required)
      --url URL            event_source_url (default https://capi-kit.test/checkout)
      --timeout SECONDS    how long to wait for each platform's answer (default 10)
      --json               print the result as JSON
${PLATFORM_HELP}
${TIKTOK_OPTIONS_HELP}
${graphHelp([['META_TEST_EVENT_CODE', 'Events Manager › Test events code'], ...TIKTOK_ENV])}

Exit codes: 0 every platform (or the mock) accepted the event; 1 a platform or validation
rejected it (token, pixel or event refused); 2 usage or configuration error (names the flag or
variable); 3 network error, or TikTok throttling or failing.
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

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh made-up `_ttp` (the TikTok Pixel's browser ID cookie), as the request context of a page
 * with the Pixel would capture it, the way the Meta copy carries a fresh `_fbp`.
 */
export const testTtp = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(27));
  return Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
};

/** The request context a page with the TikTok Pixel would give the event (its `_ttp` only). */
const tiktokContext = (): RequestContext => ({
  user_data: {},
  cookiesToSet: [],
  consent: 'granted',
  isNavigation: false,
  destinations: { tiktok: { [TTP_COOKIE]: testTtp() } },
});

/** Meta's part of the result. Its fields stay at the top level of `--json`, as before TikTok. */
interface MetaResult {
  ok: boolean;
  pixelId: string;
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

/** TikTok's part of the result (`tiktok` in `--json`). */
interface TikTokResult {
  ok: boolean;
  pixelCode: string;
  /** TikTok's name for the event (`Lead` → `SubmitForm`). */
  eventName: string;
  testEventCode: string;
  /** True when the answer came from the mock (@capi-kit/testing), not from TikTok. */
  mock: boolean;
  eventsUrl: string;
  /** `success`, `auth`, `invalid`, `throttled` or `transient`, as @capi-kit/tiktok classifies it. */
  class?: TikTokVerdictReport['class'];
  status?: number;
  code?: number;
  message?: string;
  requestId?: string;
  retryAfterSeconds?: number;
  error?: string;
  /** Findings of TikTok's copy: errors kept it from being sent; warnings are fields it cannot use. */
  issues?: { path: string; code: string; severity: string; message: string }[];
}

/** What `--json` prints: Meta's fields at the top level (when Meta was asked), TikTok's under `tiktok`. */
type SendTestResult = Partial<MetaResult> & {
  /** True when every platform asked accepted the event. */
  ok: boolean;
  platforms: Platform[];
  eventName: string;
  /** The one event_id every platform got. */
  eventId: string;
  tiktok?: TikTokResult;
};

/** `capi-kit send-test`'s options, for `parseCommandArgs` (its help lists each one). */
export const SEND_TEST_OPTIONS = {
  event: { type: 'string', short: 'e' },
  'test-event-code': { type: 'string' },
  url: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...PLATFORM_OPTION,
  ...TIKTOK_OPTIONS,
  ...GRAPH_OPTIONS,
} as const;

const readTimeoutMs = (value: string | undefined): number => {
  if (value === undefined) return 10_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
    throw new CliError(
      `--timeout: "${value}" is not a number of seconds between 0 and 300.`,
      EXIT_CODES.usage,
    );
  }
  return Math.round(seconds * 1000);
};

/** Every configuration problem is found before anything is sent (exit 2, naming its source). */
const readConfiguration = (
  io: CliIo,
  values: { [K in keyof typeof SEND_TEST_OPTIONS]?: string | boolean | undefined },
  platforms: readonly Platform[],
): {
  meta?: { config: GraphConfig; testEventCode: string };
  tiktok?: { config: TikTokConfig; testEventCode: string };
} => {
  const str = (key: keyof typeof SEND_TEST_OPTIONS): string | undefined => {
    const v = values[key];
    return typeof v === 'string' ? v : undefined;
  };
  const out: ReturnType<typeof readConfiguration> = {};
  if (platforms.includes('meta')) {
    const config = readGraphConfig(io.env, {
      'pixel-id': str('pixel-id'),
      'api-version': str('api-version'),
      'graph-url': str('graph-url'),
    });
    const testEventCode = (str('test-event-code') ?? io.env.META_TEST_EVENT_CODE ?? '').trim();
    if (!testEventCode) {
      throw new CliError(
        'Missing configuration: set META_TEST_EVENT_CODE (or --test-event-code); it is the code shown in Events Manager › Test events.',
        EXIT_CODES.config,
      );
    }
    out.meta = { config, testEventCode };
  }
  if (platforms.includes('tiktok')) {
    const config = readTikTokConfig(io.env, {
      'tiktok-pixel-code': str('tiktok-pixel-code'),
      'tiktok-events-url': str('tiktok-events-url'),
    });
    const testEventCode = (
      str('tiktok-test-event-code') ??
      io.env.TIKTOK_TEST_EVENT_CODE ??
      ''
    ).trim();
    if (!testEventCode) {
      // Without it the event would count as a real conversion in TikTok's reports.
      const metaOnly = platforms.includes('meta')
        ? ' (or add --platform meta to leave TikTok out)'
        : '';
      throw new CliError(
        `Missing configuration: set TIKTOK_TEST_EVENT_CODE (or --tiktok-test-event-code); it is the code shown in TikTok Events Manager › your pixel › Test events${metaOnly}.`,
        EXIT_CODES.config,
      );
    }
    out.tiktok = { config, testEventCode };
  }
  return out;
};

const issueRows = (issues: readonly Issue[]) =>
  issues.map(({ path, code, message }) => ({ path, code, message }));

/** `capi-kit send-test`. */
export const sendTest = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const args = parseCommandArgs(argv, io, { options: SEND_TEST_OPTIONS, help: SEND_TEST_HELP });
  if (!args) return EXIT_CODES.ok;
  const { values } = args;
  const platforms = selectPlatforms(values.platform, io.env, values);
  const timeoutMs = readTimeoutMs(values.timeout);
  const { meta, tiktok: tt } = readConfiguration(io, values, platforms);
  const eventName = values.event ?? 'Purchase';
  const baseFetch = io.fetch ?? fetch;

  type MetaAnswer = { status: number; body: unknown; text?: string; location?: string | null };
  let metaAnswer: MetaAnswer | undefined;
  let metaMock = false;
  let metaNetworkError: string | undefined;
  let tiktokAnswer: TikTokAnswer | undefined;
  let tiktokNetworkError: string | undefined;
  // Keep each platform's whole answer (`messages` and TikTok's envelope are in no hook; a proxy's
  // page is in none). The core sends TikTok's copy to exactly the configured endpoint, so the URL
  // tells the two apart even when one mock serves both. Nothing here is redacted: everything the
  // CLI prints is, on its way out (output-redaction.ts).
  const capturingFetch: FetchLike = async (url, init) => {
    const isTikTok = tt !== undefined && String(url) === tt.config.eventsUrl;
    try {
      const res = await baseFetch(url, init);
      if (isTikTok) {
        tiktokAnswer = await readTikTokAnswer(res.clone());
        return res;
      }
      if (res.headers.get(MOCK_GRAPH_HEADER) !== null) metaMock = true;
      const text = await res.clone().text();
      let body: unknown;
      let page: string | undefined;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        page = text;
      }
      metaAnswer = { status: res.status, body, location: res.headers.get('location') };
      if (page !== undefined) metaAnswer.text = page;
      return res;
    } catch (error) {
      // The client aborts a request at its timeout: say so rather than "operation was aborted".
      const name = (error as { name?: unknown })?.name;
      const problem =
        name === 'AbortError' || name === 'TimeoutError'
          ? `no answer within ${timeoutMs / 1000} s (timed out; see --timeout)`
          : describeNetworkError(error);
      if (isTikTok) tiktokNetworkError = problem;
      else metaNetworkError = problem;
      throw error;
    }
  };
  // readConfiguration checked every value createCapi and tiktok() check, so neither throws here.
  // One client for both platforms: one track() fixes one event_id and hands it to each.
  const client = createCapi({
    ...(meta
      ? {
          pixelId: meta.config.pixelId,
          accessToken: meta.config.accessToken,
          apiVersion: meta.config.apiVersion,
          graphUrl: meta.config.graphUrl,
          testEventCode: meta.testEventCode,
        }
      : {}),
    ...(tt
      ? {
          destinations: [
            tiktok({
              pixelCode: tt.config.pixelCode,
              accessToken: tt.config.accessToken,
              testEventCode: tt.testEventCode,
              apiUrl: tt.config.eventsUrl,
            }),
          ],
        }
      : {}),
    partnerAgent: 'capi-kit-cli',
    fetch: capturingFetch,
    timeoutMs,
    retry: { maxAttempts: 1, freeThrottles: 0 },
    env: false,
    diagnostics: { enabled: false },
    // The command reports every row's issues and every delivery outcome itself, in its own format.
    logger: false,
  });
  let failure: { error: CapiDeliveryError | Error; graphError?: GraphErrorInfo } | undefined;
  const isMeta = (pixelId: string): boolean =>
    meta !== undefined && pixelId === meta.config.pixelId;
  client.on('deadLetter', (info) => {
    if (!isMeta(info.pixelId)) return;
    failure = info.error.graphError
      ? { error: info.error, graphError: info.error.graphError }
      : { error: info.error };
  });
  client.on('error', (info) => {
    if (info.kind === 'auth' && isMeta(info.pixelId ?? '')) {
      const graphError = (info.error as Partial<CapiDeliveryError>).graphError;
      failure = graphError ? { error: info.error, graphError } : { error: info.error };
    }
  });

  const tracked = client.track(
    testEvent(eventName, values.url ?? 'https://capi-kit.test/checkout', Date.now()),
    tt ? { context: tiktokContext() } : undefined,
  );
  const outcome = (stream: string) =>
    tracked.destinations?.[stream] ?? {
      accepted: tracked.accepted,
      issues: tracked.issues,
      ...(tracked.reason === undefined ? {} : { reason: tracked.reason }),
    };
  const metaOutcome = meta ? outcome(meta.config.pixelId) : undefined;
  const tiktokOutcome = tt ? outcome(`tiktok:${tt.config.pixelCode}`) : undefined;
  if (tracked.accepted) await client.flush();
  await client.close({ timeoutMs: 1000 });

  const result: SendTestResult = {
    ok: false,
    platforms,
    eventName,
    eventId: tracked.event_id,
  };
  const codes: ExitCode[] = [];
  if (meta && metaOutcome) {
    const m = metaResult(meta, metaOutcome, {
      answer: metaAnswer,
      networkError: metaNetworkError,
      failure,
    });
    codes.push(m.code);
    Object.assign(result, m.result, { mock: metaMock });
  }
  if (tt && tiktokOutcome) {
    const t = tiktokResult(tt, eventName, tiktokOutcome, tiktokAnswer, tiktokNetworkError);
    codes.push(t.code);
    result.tiktok = t.result;
  }
  result.ok = codes.every((c) => c === EXIT_CODES.ok);
  print(io, result, values.json === true);
  // A refusal is the user's to fix and says more than an outage: it wins over 3.
  return codes.includes(EXIT_CODES.failed)
    ? EXIT_CODES.failed
    : codes.includes(EXIT_CODES.environment)
      ? EXIT_CODES.environment
      : EXIT_CODES.ok;
};

/** Meta's part: the answer Graph gave the events edge, read as before TikTok existed. */
const metaResult = (
  meta: { config: GraphConfig; testEventCode: string },
  outcome: NonNullable<TrackResult['destinations']>[string],
  seen: {
    answer: { status: number; body: unknown; text?: string; location?: string | null } | undefined;
    networkError: string | undefined;
    failure: { error: CapiDeliveryError | Error; graphError?: GraphErrorInfo } | undefined;
  },
): { result: MetaResult; code: ExitCode } => {
  const { config, testEventCode } = meta;
  const { answer, networkError, failure } = seen;
  const result: MetaResult = {
    ok: false,
    pixelId: config.pixelId,
    testEventCode,
    mock: false,
    graphUrl: config.graphUrl,
  };
  if (!outcome.accepted) {
    result.issues = issueRows(outcome.issues);
    result.error = `the event failed local validation (${outcome.reason ?? 'invalid'})`;
    return { result, code: EXIT_CODES.failed };
  }
  if (answer) result.status = answer.status;
  const body = (answer?.body ?? {}) as {
    events_received?: unknown;
    fbtrace_id?: unknown;
    messages?: unknown;
  };
  if (!failure && answer && answer.status >= 200 && answer.status < 300) {
    result.ok = true;
    if (typeof body.events_received === 'number') result.eventsReceived = body.events_received;
    if (typeof body.fbtrace_id === 'string') result.fbtraceId = body.fbtrace_id;
    result.messages = Array.isArray(body.messages) ? body.messages : [];
    return { result, code: EXIT_CODES.ok };
  }
  if (networkError !== undefined || !answer) {
    result.error = `could not reach ${config.graphUrl}: ${networkError ?? 'no answer'}`;
    return { result, code: EXIT_CODES.environment };
  }
  result.error = describeGraphAnswer({
    status: answer.status,
    error: failure?.graphError,
    text: answer.text,
    location: answer.location ?? undefined,
  });
  if (failure?.graphError?.fbtraceId) result.fbtraceId = failure.graphError.fbtraceId;
  return { result, code: EXIT_CODES.failed };
};

/** TikTok's part: its copy's local findings, then its answer, classified as the core acts on it. */
const tiktokResult = (
  tt: { config: TikTokConfig; testEventCode: string },
  eventName: string,
  outcome: NonNullable<TrackResult['destinations']>[string],
  answer: TikTokAnswer | undefined,
  networkError: string | undefined,
): { result: TikTokResult; code: ExitCode } => {
  const result: TikTokResult = {
    ok: false,
    pixelCode: tt.config.pixelCode,
    eventName: tiktokEventName(eventName),
    testEventCode: tt.testEventCode,
    mock: answer?.mock ?? false,
    eventsUrl: tt.config.eventsUrl,
  };
  if (outcome.issues.length > 0) {
    result.issues = outcome.issues.map(({ path, code, severity, message }) => ({
      path,
      code,
      severity,
      message,
    }));
  }
  if (!outcome.accepted) {
    result.error = `TikTok's copy failed local validation (${outcome.reason ?? 'invalid'})`;
    return { result, code: EXIT_CODES.failed };
  }
  if (answer === undefined) {
    result.error = `could not reach ${tt.config.eventsUrl}: ${networkError ?? 'no answer'}`;
    return { result, code: EXIT_CODES.environment };
  }
  const report = reportTikTokAnswer(answer);
  result.class = report.class;
  result.status = report.status;
  if (report.code !== undefined) result.code = report.code;
  if (report.message !== undefined) result.message = report.message;
  if (report.requestId !== undefined) result.requestId = report.requestId;
  if (report.retryAfterSeconds !== undefined) result.retryAfterSeconds = report.retryAfterSeconds;
  if (report.error !== undefined) result.error = report.error;
  result.ok = report.class === 'success';
  return { result, code: tiktokExitCode(report.class) };
};

const print = (io: CliIo, r: SendTestResult, json: boolean): void => {
  const out = io.stdout;
  if (json) {
    out.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  if (r.platforms.includes('meta')) printMeta(io, r as SendTestResult & MetaResult);
  if (r.tiktok) printTikTok(io, r.tiktok, r.eventName, r.eventId);
  if (r.platforms.length > 1) {
    const style = createStyle(out, io.env);
    out.write(
      style.dim(
        `One event_id for both platforms: ${r.eventId || '—'} (fire the Meta and TikTok Pixels with it and each deduplicates the pair).\n`,
      ),
    );
  }
};

const printMeta = (io: CliIo, r: SendTestResult & MetaResult): void => {
  const out = io.stdout;
  const style = createStyle(out, io.env);
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
  const accepted = r.error === undefined && r.status !== undefined;
  if (accepted) {
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
  } else if (accepted) {
    out.write(
      style.dim(
        '  Look for it in Events Manager › Data sources › your pixel › Test events (it can take a few minutes).\n',
      ),
    );
  }
};

const printTikTok = (io: CliIo, t: TikTokResult, metaName: string, eventId: string): void => {
  const out = io.stdout;
  const style = createStyle(out, io.env);
  const renamed = t.eventName === metaName ? '' : `TikTok's name for ${metaName}; `;
  const rows: string[][] = [
    ['TikTok pixel', t.pixelCode],
    ['event', `${t.eventName} (${renamed}event_id ${eventId || '—'})`],
    ['test_event_code', t.testEventCode],
  ];
  if (t.status !== undefined) rows.push(['HTTP status', String(t.status)]);
  if (t.code !== undefined) rows.push(['code', String(t.code)]);
  if (t.message !== undefined) rows.push(['message', t.message]);
  if (t.requestId !== undefined) rows.push(['request_id', t.requestId]);
  if (t.class !== undefined) rows.push(['class', t.class]);
  if (t.retryAfterSeconds !== undefined) rows.push(['Retry-After', `${t.retryAfterSeconds} s`]);
  const who = t.mock ? 'The mock TikTok Events API' : 'TikTok';
  if (t.ok) {
    out.write(`${style.green('✔')} ${style.bold(`${who} accepted the test event`)}\n`);
  } else {
    out.write(
      `${style.red('✖')} ${style.bold('TikTok did not accept the test event')}: ${t.error ?? ''}\n`,
    );
  }
  for (const line of formatTable(rows)) out.write(`  ${line}\n`);
  for (const issue of t.issues ?? []) {
    const mark = issue.severity === 'error' ? style.red(issue.path) : style.yellow(issue.path);
    out.write(`  ${mark} ${issue.code}: ${issue.message}\n`);
  }
  if (t.mock) {
    const base = new URL(t.eventsUrl).origin;
    out.write(
      style.dim(
        `  This went to the mock TikTok Events API at ${t.eventsUrl}, not to TikTok: nothing appears in TikTok Events Manager.\n  See what it received: curl ${base}/_mock/tiktok/events\n`,
      ),
    );
  } else if (t.ok) {
    out.write(
      style.dim(
        '  Look for it in TikTok Events Manager › your pixel › Test events (it can take a few minutes).\n',
      ),
    );
  }
};

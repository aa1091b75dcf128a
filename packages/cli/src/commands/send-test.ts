import {
  type CapiDeliveryError,
  createCapi,
  type FetchLike,
  type GraphErrorInfo,
} from '@capi-kit/core';
import { tiktok } from '@capi-kit/tiktok';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, type GraphConfig, graphHelp, readGraphConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeNetworkError, readBoundedText } from '../graph-request.js';
import { MOCK_GRAPH_HEADER } from '../mock-detection.js';
import { PLATFORM_HELP, PLATFORM_OPTION, type Platform, selectPlatforms } from '../platforms.js';
import type { CliIo } from '../terminal.js';
import { testEvent, tiktokTestContext } from '../test-event.js';
import { readTikTokAnswer, type TikTokAnswer } from '../tiktok-answer.js';
import {
  readTikTokConfig,
  TIKTOK_ENV,
  TIKTOK_OPTIONS,
  TIKTOK_OPTIONS_HELP,
  type TikTokConfig,
} from '../tiktok-config.js';
import {
  metaResult,
  printSendTest,
  type SendTestResult,
  tiktokResult,
} from './send-test-report.js';

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

  type MetaAnswer = {
    status: number;
    body: unknown;
    text?: string;
    location?: string | null;
    tooLarge?: boolean;
  };
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
      // Bounded, as the core reads its own copy: a wrong URL's endless answer must not fill memory.
      const text = await readBoundedText(res.clone());
      let body: unknown;
      let page: string | undefined;
      try {
        body = text === undefined ? undefined : JSON.parse(text);
      } catch {
        body = text;
        page = text;
      }
      metaAnswer = { status: res.status, body, location: res.headers.get('location') };
      if (page !== undefined) metaAnswer.text = page;
      if (text === undefined) metaAnswer.tooLarge = true;
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
    tt ? { context: tiktokTestContext() } : undefined,
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
  printSendTest(io, result, values.json === true);
  // A refusal is the user's to fix and says more than an outage: it wins over 3.
  return codes.includes(EXIT_CODES.failed)
    ? EXIT_CODES.failed
    : codes.includes(EXIT_CODES.environment)
      ? EXIT_CODES.environment
      : EXIT_CODES.ok;
};

import { tiktokRequest, toTikTokEvent } from '@capi-kit/tiktok';
import { describeNetworkError } from '../graph-request.js';
import type { Status } from '../terminal.js';
import { testEvent, testTtp } from '../test-event.js';
import {
  readTikTokAnswer,
  reportTikTokAnswer,
  type TikTokVerdictReport,
} from '../tiktok-answer.js';
import {
  accessTokenProblem,
  eventsUrlProblem,
  pixelCodeProblem,
  readTikTokSettings,
  type TikTokFlags,
} from '../tiktok-config.js';

// The doctor's TikTok section. Meta's doctor reads (GET /me, /{pixel}, /dataset_quality) and
// changes nothing; TikTok documents no such read for an Events API token. The token is generated
// per pixel in Events Manager › the pixel › Settings › Events API ("Generate Access Token",
// https://league.adobe.com/docs/experience-platform/tags/extensions/server/tiktok/overview.html),
// while the Business API's pixel reads (`GET /open_api/v1.3/pixel/list/`) take an `advertiser_id`
// and an advertiser-authorized Marketing API token (TikTok's own SDK,
// https://github.com/tiktok/tiktok-business-api-sdk), neither of which an Events API setup has.
// So the only live check is the one thing the token is for: sending an event, here with a
// `test_event_code`, which routes it to Events Manager › Test events and keeps it out of
// optimisation and reporting (https://seresa.io/seed/tiktok-tracking/setup-tiktok-server-side-test-tiktok-server;
// Commanders Act's TikTok destination documents the same field,
// https://doc.commandersact.com/features/destinations/destinations-catalog/tiktok/tiktok).
// It is sent only when a test event code is given, and the check's name says it sends one.

/** One line of the doctor's report (the same shape as Meta's checks). */
export interface TikTokCheck {
  name: string;
  status: Status;
  message: string;
}

/** What the TikTok section found: its checks, and the answer's timing for the shared clock check. */
export interface TikTokSection {
  checks: TikTokCheck[];
  pixelCode: string | undefined;
  eventsUrl: string;
  /** The live test event's answer, when one was sent. */
  testEvent?: TikTokVerdictReport & { eventId: string; testEventCode: string; mock: boolean };
  /** TikTok's `Date` header and the request's timing, when it answered with one. */
  clock?: { date: number; sentAt: number; receivedAt: number };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** TikTok's configuration checks, then (with a test event code) one test event. */
export const tiktokSection = async (
  env: Readonly<Record<string, string | undefined>>,
  flags: TikTokFlags & { 'tiktok-test-event-code'?: string | undefined },
  fetchImpl: typeof fetch,
  timeoutMs = 10_000,
): Promise<TikTokSection> => {
  const settings = readTikTokSettings(env, flags);
  const checks: TikTokCheck[] = [];
  const codeProblem = pixelCodeProblem(settings.pixelCode);
  const section: TikTokSection = {
    checks,
    // Only a valid code is shown: a token pasted in its place must not be printed.
    pixelCode: codeProblem === undefined ? settings.pixelCode.value : undefined,
    eventsUrl: settings.eventsUrl.value,
  };
  if (settings.pixelCode.value === undefined) {
    checks.push({
      name: 'TikTok pixel code',
      status: 'fail',
      message: 'not set: set TIKTOK_PIXEL_CODE (or --tiktok-pixel-code)',
    });
  } else if (codeProblem !== undefined) {
    checks.push({ name: 'TikTok pixel code', status: 'fail', message: codeProblem });
  } else {
    checks.push({
      name: 'TikTok pixel code',
      status: 'ok',
      message: `${settings.pixelCode.value} (from ${settings.pixelCode.source})`,
    });
  }

  const tokenProblem =
    settings.accessToken !== undefined && settings.pixelCode.value !== undefined
      ? accessTokenProblem(settings.accessToken, settings.pixelCode.value)
      : undefined;
  checks.push(
    settings.accessToken === undefined
      ? {
          name: 'TikTok access token',
          status: 'fail',
          message:
            'not set: set TIKTOK_ACCESS_TOKEN (Events Manager › your pixel › Settings › Events API › Generate Access Token)',
        }
      : tokenProblem !== undefined
        ? { name: 'TikTok access token', status: 'fail', message: tokenProblem }
        : {
            name: 'TikTok access token',
            status: 'ok',
            message:
              'set in TIKTOK_ACCESS_TOKEN (sent only in the Access-Token header, never printed)',
          },
  );

  const urlProblem = eventsUrlProblem(settings.eventsUrl);
  const urlOk = urlProblem === undefined;
  if (urlProblem !== undefined) {
    checks.push({ name: 'TikTok endpoint', status: 'fail', message: urlProblem });
  } else {
    const url = new URL(settings.eventsUrl.value);
    if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
      checks.push({
        name: 'TikTok endpoint',
        status: 'warn',
        message: `${settings.eventsUrl.value}: plain http to another host, so the access token travels unencrypted; use https`,
      });
    } else {
      checks.push({
        name: 'TikTok endpoint',
        status: 'ok',
        message: `${settings.eventsUrl.value} (from ${settings.eventsUrl.source})`,
      });
    }
  }

  const testEventCode = (
    flags['tiktok-test-event-code'] ??
    env.TIKTOK_TEST_EVENT_CODE ??
    ''
  ).trim();
  const configured =
    settings.pixelCode.value !== undefined &&
    codeProblem === undefined &&
    settings.accessToken !== undefined &&
    tokenProblem === undefined &&
    urlOk;
  if (!configured) {
    checks.push({
      name: 'TikTok test event',
      status: 'skip',
      message: 'not sent: fix the configuration above first',
    });
    return section;
  }
  if (testEventCode === '') {
    checks.push({
      name: 'TikTok test event',
      status: 'skip',
      message:
        'not sent: TikTok documents no read-only check of an Events API token; set TIKTOK_TEST_EVENT_CODE to send one test event to Test Events',
    });
    return section;
  }

  const nowMs = Date.now();
  const input = testEvent('Purchase', 'https://capi-kit.test/checkout', nowMs);
  const eventId = String(input.event_id);
  const { event } = toTikTokEvent(input, { eventId, context: { ttp: testTtp() } });
  if (event === undefined) {
    // The test event is made up to be valid; this would be a bug in @capi-kit/tiktok.
    checks.push({
      name: 'TikTok test event',
      status: 'fail',
      message: 'could not build the test event (a bug: please report it)',
    });
    return section;
  }
  const request = tiktokRequest(
    {
      pixelCode: settings.pixelCode.value as string,
      accessToken: settings.accessToken as string,
      testEventCode,
      url: settings.eventsUrl.value,
    },
    [event],
  );
  const sentAt = Date.now();
  let res: Response;
  try {
    res = await fetchImpl(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
      // The Access-Token header would travel with a redirect.
      redirect: 'manual',
    });
  } catch (error) {
    checks.push({
      name: 'TikTok test event',
      status: 'fail',
      message: `sent one test event: could not reach ${settings.eventsUrl.value}: ${describeNetworkError(error)}`,
    });
    return section;
  }
  const answer = await readTikTokAnswer(res).catch(() => undefined);
  const receivedAt = Date.now();
  if (answer === undefined) {
    checks.push({
      name: 'TikTok test event',
      status: 'fail',
      message: `sent one test event: the answer from ${settings.eventsUrl.value} broke off`,
    });
    return section;
  }
  if (answer.date !== undefined) section.clock = { date: answer.date, sentAt, receivedAt };
  const report = reportTikTokAnswer(answer);
  section.testEvent = { ...report, eventId, testEventCode, mock: answer.mock };
  const where = answer.mock ? 'the mock TikTok Events API' : 'TikTok';
  if (report.class === 'success') {
    checks.push({
      name: 'TikTok test event',
      status: 'ok',
      message: `sent one test event (test_event_code ${testEventCode}): ${where} accepted it, code ${report.code ?? '?'}${report.requestId ? `, request_id ${report.requestId}` : ''}`,
    });
  } else {
    checks.push({
      name: 'TikTok test event',
      // Throttling passes with time; everything else needs fixing or is an outage.
      status: report.class === 'throttled' ? 'warn' : 'fail',
      message: `sent one test event (test_event_code ${testEventCode}): ${report.error ?? report.class}`,
    });
  }
  return section;
};

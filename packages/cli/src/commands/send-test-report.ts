import type { CapiDeliveryError, GraphErrorInfo, Issue, TrackResult } from '@capi-kit/core';
import { tiktokEventName } from '@capi-kit/tiktok';
import type { GraphConfig } from '../config.js';
import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphAnswer } from '../graph-request.js';
import type { Platform } from '../platforms.js';
import { type CliIo, createStyle, formatTable } from '../terminal.js';
import {
  reportTikTokAnswer,
  type TikTokAnswer,
  type TikTokVerdictReport,
  tiktokExitCode,
} from '../tiktok-answer.js';
import type { TikTokConfig } from '../tiktok-config.js';

// What `capi-kit send-test` makes of each platform's answer, and how it prints it: Meta's part as
// it always was (its fields at the top level of `--json`), TikTok's beside it.

/** Meta's part of the result. Its fields stay at the top level of `--json`, as before TikTok. */
export interface MetaResult {
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
export interface TikTokResult {
  ok: boolean;
  pixelCode: string;
  /** TikTok's name for the event (`Purchase` → `CompletePayment` with an `eventNames` override). */
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
export type SendTestResult = Partial<MetaResult> & {
  /** True when every platform asked accepted the event. */
  ok: boolean;
  platforms: Platform[];
  eventName: string;
  /** The one event_id every platform got. */
  eventId: string;
  tiktok?: TikTokResult;
};

const issueRows = (issues: readonly Issue[]) =>
  issues.map(({ path, code, message }) => ({ path, code, message }));

/** Meta's part: the answer Graph gave the events edge, read as before TikTok existed. */
export const metaResult = (
  meta: { config: GraphConfig; testEventCode: string },
  outcome: NonNullable<TrackResult['destinations']>[string],
  seen: {
    answer:
      | {
          status: number;
          body: unknown;
          text?: string;
          location?: string | null;
          tooLarge?: boolean;
        }
      | undefined;
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
  // The core's warnings on an event it sent anyway, as TikTok's are shown: `--event Purchse` went
  // out as a custom event with no word of the "did you mean Purchase?" the core had for it.
  if (outcome.issues.length > 0) result.issues = issueRows(outcome.issues);
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
    tooLarge: answer.tooLarge,
  });
  if (failure?.graphError?.fbtraceId) result.fbtraceId = failure.graphError.fbtraceId;
  return { result, code: EXIT_CODES.failed };
};

/** TikTok's part: its copy's local findings, then its answer, classified as the core acts on it. */
export const tiktokResult = (
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
  return { result, code: tiktokExitCode(answer, report.class) };
};

/** Prints the result: `--json`, or each platform's block and the shared event_id. */
export const printSendTest = (io: CliIo, r: SendTestResult, json: boolean): void => {
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

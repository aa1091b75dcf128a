import { createReadStream } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  buildEvent,
  createDiagnosticsRecorder,
  DEFAULT_DIAGNOSTICS_THRESHOLDS,
  type DiagnosticsReport,
  type EventDiagnostics,
  reportedEventName,
  type ServerEventInput,
} from '@capi-kit/core';
import { checkApiVersion } from '../api-versions.js';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, type GraphConfig, graphHelp, readGraphConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphAnswer, graphGet, isGraphNode } from '../graph-request.js';
import { PLATFORM_HELP, PLATFORM_OPTION, selectPlatforms } from '../platforms.js';
import { type CliIo, createStyle, formatTable, type Status, statusMark } from '../terminal.js';
import { TIKTOK_ENV, TIKTOK_OPTIONS, TIKTOK_OPTIONS_HELP } from '../tiktok-config.js';
import { type TikTokSection, tiktokSection } from './doctor-tiktok.js';

/** `capi-kit doctor --help`. */
export const DOCTOR_HELP = `Usage: capi-kit doctor [--local-events FILE.ndjson] [--strict] [--json] [options]

Checks a Conversions API setup against Graph and prints Meta's Dataset Quality figures:
  access token   GET /{version}/me (token in an Authorization header)
  pixel          GET /{version}/{pixel}?fields=id,name,last_fired_time
  API version    end of availability (warns under 90 days, fails past it)
  clock          skew between the local clock and Graph's Date header (warns > 60 s, fails > 5 min)
  quality        GET /{version}/dataset_quality: EMQ, event coverage, dedup keys, freshness

With TikTok configured (TIKTOK_PIXEL_CODE, TIKTOK_ACCESS_TOKEN), a TikTok section too:
  TikTok pixel code, access token, endpoint   the configuration, checked locally
  TikTok test event   SENDS ONE TEST EVENT (only with TIKTOK_TEST_EVENT_CODE): TikTok documents
                      no read-only check of an Events API token, so sending to Test Events is the
                      live check; without a code it is skipped
  clock               from TikTok's Date header when Meta is not checked

Options:
      --local-events FILE  NDJSON of tracked events (one event per line, or {"event":…,"source":"relay"}):
                           adds capi-kit's local estimates next to Meta's figures
      --strict             warnings fail too (exit 1)
      --json               print the result as JSON
${PLATFORM_HELP}
${TIKTOK_OPTIONS_HELP}
${graphHelp(TIKTOK_ENV)}

Exit codes: 0 every check passed (warnings allowed); 1 a check failed; 2 usage or
configuration error (names the flag or variable); 3 network or file error.
`;

/** One line of the doctor's report. */
export interface DoctorCheck {
  /** `access token`, `pixel`, `API version`, `clock`, `dataset quality`, `local events`. */
  name: string;
  /** Outcome. */
  status: Status;
  /** One line for people; may quote Graph, so it is printed through the output redaction. */
  message: string;
}

/** The figures of one event name from the Dataset Quality API, read defensively. */
interface MetaFigures {
  eventName: string;
  emq?: number;
  coverage?: number;
  coverageGoal?: number;
  eventIdServer?: number;
  eventIdBrowser?: number;
  freshness?: string;
}

const DQ_FIELDS =
  'web{event_name,event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}}},event_coverage{percentage,goal_percentage},dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage},server_events_with_dedupe_key{percentage}},data_freshness{upload_frequency}}';

const CLOCK_WARN_MS = 60_000;
const CLOCK_FAIL_MS = 300_000;
const EMQ_TARGET = 6;
/** Above this, a numeric `event_time` is milliseconds: buildEvent's rule (1e11 s is the year 5138). */
const MILLISECONDS_THRESHOLD = 1e11;

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const readMetaFigures = (body: unknown): MetaFigures[] => {
  const web = rec(body).web;
  if (!Array.isArray(web)) return [];
  return web.map((entry) => {
    const e = rec(entry);
    // Hidden when it looks like customer information (an app that tracked user.email as the event
    // name), as the core hides it in its own diagnostics, which the local columns come from.
    const out: MetaFigures = {
      eventName: typeof e.event_name === 'string' ? reportedEventName(e.event_name) : '?',
    };
    const emq = num(rec(e.event_match_quality).composite_score);
    if (emq !== undefined) out.emq = emq;
    const coverage = rec(e.event_coverage);
    const pct = num(coverage.percentage);
    if (pct !== undefined) out.coverage = pct;
    const goal = num(coverage.goal_percentage);
    if (goal !== undefined) out.coverageGoal = goal;
    const dedupe = Array.isArray(e.dedupe_key_feedback) ? e.dedupe_key_feedback.map(rec) : [];
    const eventId = dedupe.find((d) => d.dedupe_key === 'event_id');
    if (eventId) {
      const server = num(rec(eventId.server_events_with_dedupe_key).percentage);
      if (server !== undefined) out.eventIdServer = server;
      const browser = num(rec(eventId.browser_events_with_dedupe_key).percentage);
      if (browser !== undefined) out.eventIdBrowser = browser;
    }
    const frequency = rec(e.data_freshness).upload_frequency;
    if (typeof frequency === 'string') out.freshness = frequency;
    return out;
  });
};

/** When a platform's answer was sent and received, and the `Date` header it carried. */
interface AnswerTiming {
  date?: number | undefined;
  sentAt: number;
  receivedAt: number;
}

/**
 * The local clock against a platform's `Date` header: Graph's `/me` answer when Meta is checked,
 * else the TikTok test event's answer. `whose` is `Graph` or `TikTok`.
 */
const clockCheck = (answer: AnswerTiming, whose: string): DoctorCheck => {
  if (answer.date === undefined) {
    return { name: 'clock', status: 'skip', message: `${whose} sent no Date header` };
  }
  // The Date header has 1 s resolution: compare the middle of the request with the middle of that second.
  const skew = Math.round((answer.sentAt + answer.receivedAt) / 2 - (answer.date + 500));
  const seconds = Math.round(Math.abs(skew) / 1000);
  const side = skew > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skew) <= 1500) {
    return { name: 'clock', status: 'ok', message: `in sync with ${whose}'s clock (±1 s)` };
  }
  const message = `local clock is ${seconds} s ${side} ${whose}'s`;
  if (Math.abs(skew) > CLOCK_FAIL_MS) {
    return {
      name: 'clock',
      status: 'fail',
      message: `${message}: event_time values will be off (events > 5 min in the future are refused); sync it (NTP)`,
    };
  }
  if (Math.abs(skew) > CLOCK_WARN_MS)
    return { name: 'clock', status: 'warn', message: `${message}; sync it (NTP)` };
  return { name: 'clock', status: 'ok', message };
};

// The ranges core's match-quality estimate leaves out (diagnostics/internal-client-ip.ts):
// loopback, private and link-local addresses, a proxy's or the server's own, never a visitor's.
const INTERNAL_IPS = new BlockList();
INTERNAL_IPS.addSubnet('127.0.0.0', 8, 'ipv4');
INTERNAL_IPS.addSubnet('10.0.0.0', 8, 'ipv4');
INTERNAL_IPS.addSubnet('172.16.0.0', 12, 'ipv4');
INTERNAL_IPS.addSubnet('192.168.0.0', 16, 'ipv4');
INTERNAL_IPS.addSubnet('169.254.0.0', 16, 'ipv4');
INTERNAL_IPS.addAddress('::1', 'ipv6');
INTERNAL_IPS.addSubnet('fc00::', 7, 'ipv6');
INTERNAL_IPS.addSubnet('fe80::', 10, 'ipv6');

/** True for a loopback, private or link-local `client_ip_address`. */
const isInternalIp = (value: unknown): boolean => {
  if (typeof value !== 'string') return false;
  const version = isIP(value);
  return version !== 0 && INTERNAL_IPS.check(value, version === 4 ? 'ipv4' : 'ipv6');
};

/** Local estimates from a file of tracked events. */
const readLocalEvents = async (
  path: string,
): Promise<{
  report: DiagnosticsReport;
  events: number;
  invalidLines: number[];
  /** Events whose client_ip_address is internal: the estimate leaves that key out. */
  internalIps: number;
}> => {
  const recorder = createDiagnosticsRecorder();
  // The file may hold relay events after the server events they pair with: remember every id.
  recorder.attachRelay();
  const at = Date.now();
  let events = 0;
  let internalIps = 0;
  const invalidLines: number[] = [];
  let stream: ReturnType<typeof createReadStream>;
  try {
    stream = createReadStream(path, { encoding: 'utf8' });
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', fail);
    });
  } catch (error) {
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`, EXIT_CODES.environment);
  }
  let lineNumber = 0;
  for await (const line of createInterface({
    input: stream,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    lineNumber++;
    if (line.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = rec(JSON.parse(line));
    } catch {
      invalidLines.push(lineNumber);
      continue;
    }
    const envelope = typeof value.event === 'object' && value.event !== null;
    const input = rec(envelope ? value.event : value) as unknown as ServerEventInput;
    const source = envelope && value.source === 'relay' ? 'relay' : 'server';
    const eventTime = (input as { event_time?: unknown }).event_time;
    // Judge each event at its own time, so an old sample is not refused as too old. A time in
    // milliseconds (buildEvent converts it, with a warning, as track() does) is already one:
    // multiplied again it put "now" 50 000 years ahead, and every such line read as too old.
    const now =
      typeof eventTime === 'number'
        ? eventTime > MILLISECONDS_THRESHOLD
          ? eventTime
          : eventTime * 1000
        : at;
    const { event, issues } = buildEvent(input, { now: () => now });
    if (!event) {
      invalidLines.push(lineNumber);
      continue;
    }
    const given = (input as { event_id?: unknown }).event_id;
    const hasId = given !== undefined && given !== null && given !== '';
    recorder.recordEvent(
      {
        pixelIds: ['local'],
        eventName: event.event_name,
        eventId: event.event_id,
        userData: event.user_data,
        actionSource: event.action_source,
        callerEventId: hasId,
        source,
        // buildEvent made this id up just now: no page can have fired its Pixel with it. A
        // placeholder (`order-undefined`) is every such event's id: not a key, as track() counts it.
        eventIdNeverShared: !hasId || issues.some((i) => i.code === 'placeholder_event_id'),
      },
      at,
    );
    events++;
    if (isInternalIp((event.user_data as { client_ip_address?: unknown }).client_ip_address)) {
      internalIps++;
    }
  }
  return { report: recorder.report(at), events, invalidLines, internalIps };
};

const fmt = (v: number | null | undefined, suffix = ''): string =>
  v === undefined || v === null ? '—' : `${v}${suffix}`;

/** `capi-kit doctor`'s options, for `parseCommandArgs` (its help lists each one). */
export const DOCTOR_OPTIONS = {
  'local-events': { type: 'string' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...PLATFORM_OPTION,
  ...TIKTOK_OPTIONS,
  ...GRAPH_OPTIONS,
} as const;

/** Meta's checks: token, pixel, API version, clock (Graph's Date header), dataset quality. */
const metaChecks = async (
  config: GraphConfig,
  fetchImpl: typeof fetch,
): Promise<{ checks: DoctorCheck[]; figures: MetaFigures[] | undefined }> => {
  const checks: DoctorCheck[] = [];

  const me = await graphGet(config, 'me', { fields: 'id,name' }, fetchImpl);
  const tokenOk = isGraphNode(me);
  if (tokenOk) {
    const body = rec(me.body);
    checks.push({
      name: 'access token',
      status: 'ok',
      message: `valid: ${String(body.name ?? 'unnamed')} (id ${String(body.id ?? '?')})`,
    });
  } else {
    const expired = me.error?.code === 190;
    const verdict = expired ? 'invalid or expired' : me.status === 200 ? 'not checked' : 'refused';
    checks.push({
      name: 'access token',
      status: 'fail',
      message: `${verdict}: ${describeGraphAnswer(me)}`,
    });
  }

  let meta: MetaFigures[] | undefined;
  let quality: DoctorCheck;
  if (tokenOk) {
    checks.push(await pixelCheck(config, fetchImpl));
    const dq = await graphGet(
      config,
      'dataset_quality',
      { dataset_id: config.pixelId, fields: DQ_FIELDS },
      fetchImpl,
    );
    if (dq.status === 200 && !dq.error) {
      meta = readMetaFigures(dq.body);
      quality = qualityCheck(meta);
    } else {
      quality = {
        name: 'dataset quality',
        status: 'warn',
        message: `Dataset Quality API unavailable (needs ads_read and ads_management or business_management): ${describeGraphAnswer(dq)}`,
      };
    }
  } else {
    checks.push({ name: 'pixel', status: 'skip', message: 'skipped: the token was refused' });
    quality = {
      name: 'dataset quality',
      status: 'skip',
      message: 'skipped: the token was refused',
    };
  }
  const version = checkApiVersion(config.apiVersion, Date.now());
  checks.push({ name: 'API version', status: version.status, message: version.message });
  checks.push(clockCheck(me, 'Graph'));
  checks.push(quality);
  return { checks, figures: meta };
};

/** `capi-kit doctor`. */
export const doctor = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const args = parseCommandArgs(argv, io, { options: DOCTOR_OPTIONS, help: DOCTOR_HELP });
  if (!args) return EXIT_CODES.ok;
  const { values } = args;
  const platforms = selectPlatforms(values.platform, io.env, values);
  const config = platforms.includes('meta') ? readGraphConfig(io.env, values) : undefined;
  const fetchImpl = io.fetch ?? fetch;
  const checks: DoctorCheck[] = [];

  let meta: MetaFigures[] | undefined;
  if (config) {
    const found = await metaChecks(config, fetchImpl);
    checks.push(...found.checks);
    meta = found.figures;
  }
  let tiktok: TikTokSection | undefined;
  if (platforms.includes('tiktok')) {
    tiktok = await tiktokSection(io.env, values, fetchImpl);
    checks.push(...tiktok.checks);
    // One clock check: Meta's when Meta was checked, else from TikTok's answer, if it gave one.
    if (!config) {
      checks.push(
        tiktok.clock
          ? clockCheck(tiktok.clock, 'TikTok')
          : {
              name: 'clock',
              status: 'skip',
              message: 'no TikTok answer to compare with (no test event was sent)',
            },
      );
    }
  }

  let local: Awaited<ReturnType<typeof readLocalEvents>> | undefined;
  const localPath = values['local-events'];
  if (localPath !== undefined) {
    local = await readLocalEvents(resolve(io.cwd, localPath));
    const figures = Object.entries(local.report.pixels.local?.events ?? {});
    const t = DEFAULT_DIAGNOSTICS_THRESHOLDS;
    const notes = figures.flatMap(([name, f]) => [
      ...(f.matchQuality !== null && f.matchQuality < t.matchQuality
        ? [`${name} estimate ${f.matchQuality} < ${t.matchQuality}`]
        : []),
      ...(f.dedupKeyCoverage !== null && f.dedupKeyCoverage < t.dedupKeyCoverage
        ? [`${name} event_id coverage ${f.dedupKeyCoverage}% < ${t.dedupKeyCoverage}%`]
        : []),
      ...(f.overlap !== null && f.overlap < t.overlap
        ? [`${name} overlap ${f.overlap}% < ${t.overlap}%`]
        : []),
    ]);
    const skipped =
      local.invalidLines.length > 0
        ? `; ${local.invalidLines.length} line(s) skipped (not a valid event): ${local.invalidLines.slice(0, 10).join(', ')}${local.invalidLines.length > 10 ? ', …' : ''}`
        : '';
    // Counted, never shown: an address is customer information.
    if (local.internalIps > 0) {
      notes.push(
        `${local.internalIps} event(s) carried an internal client_ip_address (loopback, private or link-local: a proxy's or the server's own), left out of the estimate; behind a proxy set trustProxy (or platform) so the visitor's address is read`,
      );
    }
    checks.push({
      name: 'local events',
      status: notes.length > 0 || local.invalidLines.length > 0 ? 'warn' : 'ok',
      message: `${local.events} event(s) from ${localPath}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}${skipped}`,
    });
  }

  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const code: ExitCode =
    failed > 0 || (values.strict && warned > 0) ? EXIT_CODES.failed : EXIT_CODES.ok;

  if (values.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          ok: code === EXIT_CODES.ok,
          platforms,
          ...(config
            ? { pixelId: config.pixelId, apiVersion: config.apiVersion, graphUrl: config.graphUrl }
            : {}),
          ...(tiktok
            ? {
                tiktok: {
                  pixelCode: tiktok.pixelCode ?? null,
                  eventsUrl: tiktok.eventsUrl,
                  testEvent: tiktok.testEvent ?? null,
                },
              }
            : {}),
          checks,
          datasetQuality: meta ?? null,
          local: local
            ? {
                events: local.events,
                invalidLines: local.invalidLines,
                figures: local.report.pixels.local ?? null,
              }
            : null,
        },
        null,
        2,
      )}\n`,
    );
    return code;
  }

  const style = createStyle(io.stdout, io.env);
  const out = (line = '') => io.stdout.write(`${line}\n`);
  if (config) {
    out(
      style.bold(
        `capi-kit doctor: pixel ${config.pixelId}, Graph ${config.apiVersion} at ${config.graphUrl}`,
      ),
    );
  }
  if (tiktok) {
    out(
      style.bold(
        `capi-kit doctor: TikTok pixel ${tiktok.pixelCode ?? '(not set or invalid)'}, Events API at ${tiktok.eventsUrl}`,
      ),
    );
  }
  out();
  formatTable(checks.map((c) => [c.name, c.message])).forEach((line, i) => {
    out(`${statusMark(style, checks[i]?.status ?? 'skip')} ${line}`);
  });
  const table = qualityTable(meta, local?.report.pixels.local?.events);
  if (table.length > 1) {
    out();
    const lines = formatTable(table);
    out(style.bold(lines[0] ?? ''));
    for (const line of lines.slice(1)) out(line);
    out(
      style.dim(
        "EMQ est. and the (local) columns are capi-kit's estimates from --local-events (docs/diagnostics.md), not Meta's figures; event_id (Meta) is the share of server events carrying one.",
      ),
    );
  }
  out();
  const passed = checks.filter((c) => c.status === 'ok').length;
  const summary = `${passed} passed, ${warned} warning${warned === 1 ? '' : 's'}, ${failed} failed`;
  out(failed > 0 ? style.red(summary) : warned > 0 ? style.yellow(summary) : style.green(summary));
  return code;
};

const qualityCheck = (meta: readonly MetaFigures[]): DoctorCheck => {
  if (meta.length === 0) {
    return {
      name: 'dataset quality',
      status: 'warn',
      message: 'Meta has no web event figures for this dataset yet',
    };
  }
  const notes = [
    ...meta
      .filter((m) => m.emq !== undefined && m.emq < EMQ_TARGET)
      .map((m) => `${m.eventName} EMQ ${m.emq} < ${EMQ_TARGET}`),
    ...meta
      .filter((m) => m.coverage !== undefined && m.coverage < (m.coverageGoal ?? 75))
      .map((m) => `${m.eventName} event coverage ${m.coverage}% < ${m.coverageGoal ?? 75}%`),
  ];
  const count = `${meta.length} event name${meta.length === 1 ? '' : 's'}`;
  return {
    name: 'dataset quality',
    status: notes.length > 0 ? 'warn' : 'ok',
    message: notes.length > 0 ? `${count}: ${notes.join('; ')}` : count,
  };
};

const pixelCheck = async (config: GraphConfig, fetchImpl: typeof fetch): Promise<DoctorCheck> => {
  const pixel = await graphGet(
    config,
    encodeURIComponent(config.pixelId),
    { fields: 'id,name,last_fired_time' },
    fetchImpl,
  );
  if (!isGraphNode(pixel)) {
    return {
      name: 'pixel',
      status: 'fail',
      message: `not accessible with this token: ${describeGraphAnswer(pixel)}`,
    };
  }
  const body = rec(pixel.body);
  const name = `${String(body.name ?? 'unnamed')} (id ${String(body.id ?? config.pixelId)})`;
  if (typeof body.last_fired_time !== 'string') {
    return { name: 'pixel', status: 'warn', message: `${name}: no event received yet` };
  }
  return { name: 'pixel', status: 'ok', message: `${name}, last event ${body.last_fired_time}` };
};

const qualityTable = (
  meta: MetaFigures[] | undefined,
  local: Record<string, EventDiagnostics> | undefined,
): string[][] => {
  const names = [
    ...new Set([...(meta ?? []).map((m) => m.eventName), ...Object.keys(local ?? {})]),
  ].sort();
  const header = [
    'event',
    'EMQ (Meta)',
    'EMQ est.',
    'event_id (Meta)',
    'event_id (local)',
    'overlap (local)',
    'coverage (Meta)',
    'freshness (Meta)',
  ];
  const rows = names.map((name) => {
    const m = meta?.find((x) => x.eventName === name);
    const l = local?.[name];
    return [
      name,
      fmt(m?.emq),
      fmt(l?.matchQuality),
      fmt(m?.eventIdServer, '%'),
      fmt(l?.dedupKeyCoverage, '%'),
      fmt(l?.overlap, '%'),
      m?.coverage === undefined ? '—' : `${m.coverage}% (goal ${m.coverageGoal ?? 75}%)`,
      m?.freshness ?? '—',
    ];
  });
  return [header, ...rows];
};

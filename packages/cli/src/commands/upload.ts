import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type ActionSource, type CapiClient, createCapi, isActionSource } from '@capi-kit/core';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, graphHelp, readGraphConfig } from '../config.js';
import { readCsvRecords } from '../csv.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { describeGraphError } from '../graph-request.js';
import { ProgressBar } from '../progress-bar.js';
import { type CliIo, createStyle, type Style } from '../terminal.js';
import {
  type Checkpoint,
  eventKey,
  readCheckpoint,
  writeCheckpoint,
} from '../upload/checkpoint.js';
import {
  type ColumnMapping,
  mapColumns,
  parseMapOption,
  USER_DATA_FIELDS,
} from '../upload/columns.js';
import { type RowDefaults, type RowProblem, rowToEvent, rowToInput } from '../upload/rows.js';

/** `capi-kit upload --help`. */
export const UPLOAD_HELP = `Usage: capi-kit upload <file.csv> [--action-source physical_store] [--dry-run] [options]

Uploads offline conversions from a CSV file (RFC 4180: quoted fields, embedded commas and line
breaks, UTF-8 with or without BOM). Customer information is normalized and SHA-256 hashed locally
by @capi-kit/core before anything is sent. Every row is validated first; bad rows are reported by
line number and rule, never with their values. Good rows go in batches of up to 1000 events.

Columns are matched by header name: email, phone, first_name, last_name, city, state, zip,
country, date_of_birth, gender, external_id (customer data); event_name, event_time (ISO 8601 or
Unix seconds), event_id, action_source, value, currency, order_id, content_ids ("a|b"). Other
columns are ignored. Rename with --map.

Resumable: acknowledged batches are recorded in <file>.capi-checkpoint.json; running the same
command again skips what Meta acknowledged. Each row's event_id is its event_id column, else its
order_id, else a hash of its content, so a row sent twice is deduplicated by Meta anyway.

Options:
      --action-source S    physical_store (default), phone_call, system_generated, email, chat, other…
      --event-name NAME    event_name for rows without one (default Purchase)
      --currency CODE      currency for rows without one (e.g. USD)
      --default-country C  country for phone numbers without a country code (e.g. US)
      --date-order O       dmy or mdy: how to read birth dates like 05/06/1990 (unset: reported)
  -m, --map col=field,…    map columns by name, e.g. --map "Mail=email,Total=value"
      --dry-run            validate and report; send nothing
      --batch-size N       events per batch, 1–1000 (default 1000)
      --checkpoint FILE    checkpoint path (default <file>.capi-checkpoint.json)
      --test-event-code C  send to Events Manager's Test events (default: META_TEST_EVENT_CODE)
      --max-batches N      stop after N acknowledged batches (exit 4; run again to resume)
      --json               print the report as JSON
${graphHelp([['META_TEST_EVENT_CODE', 'Events Manager › Test events code (optional)']])}

Exit codes: 0 every row delivered; 1 rows were invalid or rejected by Meta, or the token was
refused; 2 usage or configuration error (names the flag or variable); 3 file or network error
(Graph unreachable or down: the rows not sent are kept, run again to resume); 4 stopped early
(--max-batches), run again to resume; 130 interrupted (Ctrl-C after the current batch).
`;

const MAX_DETAILED_ROWS = 1000;
const SHOWN_ROWS = 20;

/** A row that will not be sent, with why. */
interface BadRow {
  line: number;
  problems: RowProblem[];
}

interface UploadReport {
  file: string;
  dryRun: boolean;
  pixelId?: string;
  testEventCode?: string;
  columns: { column: string; field: string }[];
  ignoredColumns: string[];
  rows: number;
  valid: number;
  invalid: number;
  invalidByRule: Record<string, number>;
  invalidRows: BadRow[];
  duplicates: { line: number; firstLine: number }[];
  /** Rows sent anyway with something the core changed or doubts, by rule (first lines only). */
  warnings: Record<string, { field: string; message: string; rows: number; lines: number[] }>;
  alreadyAcknowledged: number;
  sent: number;
  rejected: { line: number; reason: string }[];
  notSent: number;
  batches: number;
  /** Batches Meta acknowledged (in the checkpoint); `batches` counts the attempted ones too. */
  acknowledgedBatches: number;
  checkpoint?: string;
  /** The command that resumes this upload, when rows were kept for the next run. */
  resumeCommand?: string;
  stoppedEarly?: 'max-batches' | 'interrupted' | 'auth' | 'network';
  error?: string;
}

const openCsv = (path: string) =>
  readCsvRecords(createReadStream(path, { highWaterMark: 256 * 1024 }));

const readHeader = async (path: string): Promise<string[]> => {
  for await (const record of openCsv(path)) return record.fields;
  throw new CliError(`${path} is empty`, EXIT_CODES.usage);
};

/** `capi-kit upload`'s options, for `parseCommandArgs` (its help lists each one). */
export const UPLOAD_OPTIONS = {
  'action-source': { type: 'string' },
  'event-name': { type: 'string' },
  currency: { type: 'string' },
  'default-country': { type: 'string' },
  'date-order': { type: 'string' },
  map: { type: 'string', short: 'm', multiple: true },
  'dry-run': { type: 'boolean' },
  'batch-size': { type: 'string' },
  checkpoint: { type: 'string' },
  'test-event-code': { type: 'string' },
  'max-batches': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...GRAPH_OPTIONS,
} as const;

/** `capi-kit upload`. */
export const upload = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const args = parseCommandArgs(argv, io, {
    options: UPLOAD_OPTIONS,
    help: UPLOAD_HELP,
    allowPositionals: true,
  });
  if (!args) return EXIT_CODES.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) {
    throw new CliError('upload takes exactly one CSV file', EXIT_CODES.usage);
  }
  const actionSource = values['action-source'] ?? 'physical_store';
  if (!isActionSource(actionSource)) {
    throw new CliError(
      `--action-source: "${actionSource}" is not one of Meta's action_source values`,
      EXIT_CODES.usage,
    );
  }
  const dateOrder = values['date-order'];
  if (
    dateOrder !== undefined &&
    dateOrder !== 'dmy' &&
    dateOrder !== 'mdy' &&
    dateOrder !== 'ymd'
  ) {
    throw new CliError(`--date-order: "${dateOrder}" is not dmy, mdy or ymd`, EXIT_CODES.usage);
  }
  const batchSize = integerOption('--batch-size', values['batch-size'], 1000, 1, 1000);
  const maxBatches = integerOption(
    '--max-batches',
    values['max-batches'],
    Number.POSITIVE_INFINITY,
    1,
  );
  const path = resolve(io.cwd, positionals[0] as string);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch (error) {
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`, EXIT_CODES.environment);
  }
  const dryRun = values['dry-run'] === true;
  const config = dryRun ? undefined : readGraphConfig(io.env, values);
  const defaults: RowDefaults = {
    eventName: values['event-name'] ?? 'Purchase',
    actionSource: actionSource as ActionSource,
    currency: values.currency,
    defaultCountry: values['default-country'],
    dateOrder,
  };

  const header = await readHeader(path);
  const mapping = mapColumns(header, parseMapOption(values.map ?? []));
  checkMapping(mapping);
  const checkpointPath = resolve(io.cwd, values.checkpoint ?? `${path}.capi-checkpoint.json`);
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await readCheckpoint(checkpointPath);
  } catch (error) {
    throw new CliError(
      `Cannot use the checkpoint: ${(error as Error).message}`,
      EXIT_CODES.environment,
    );
  }
  if (checkpoint && config && checkpoint.pixelId !== config.pixelId) {
    throw new CliError(
      `${checkpointPath} records an upload to pixel ${checkpoint.pixelId}, not ${config.pixelId}; pass --checkpoint to use another file`,
      EXIT_CODES.usage,
    );
  }
  const acknowledged = new Set(checkpoint?.batches.flatMap((b) => b.events) ?? []);

  const report: UploadReport = {
    file: path,
    dryRun,
    columns: mapping.mapped,
    ignoredColumns: mapping.ignored,
    rows: 0,
    valid: 0,
    invalid: 0,
    invalidByRule: {},
    invalidRows: [],
    duplicates: [],
    warnings: {},
    alreadyAcknowledged: 0,
    sent: 0,
    rejected: [],
    notSent: 0,
    batches: 0,
    acknowledgedBatches: 0,
  };
  if (config) report.pixelId = config.pixelId;
  const testEventCode = (values['test-event-code'] ?? io.env.META_TEST_EVENT_CODE ?? '').trim();
  if (config && testEventCode) report.testEventCode = testEventCode;

  // Pass 1: validate every row as track() will, before anything is sent.
  const now = Date.now();
  const skipLines = new Set<number>();
  const firstLineOf = new Map<string, number>();
  let isHeader = true;
  for await (const record of openCsv(path)) {
    if (isHeader) {
      isHeader = false;
      continue;
    }
    report.rows++;
    const row = rowToEvent(record, mapping.columns, defaults, now);
    if (!row.ok) {
      report.invalid++;
      skipLines.add(record.line);
      for (const p of row.problems)
        report.invalidByRule[p.rule] = (report.invalidByRule[p.rule] ?? 0) + 1;
      if (report.invalidRows.length < MAX_DETAILED_ROWS)
        report.invalidRows.push({ line: record.line, problems: row.problems });
      continue;
    }
    const key = eventKey(row.eventName, row.eventId);
    const first = firstLineOf.get(key);
    if (first !== undefined) {
      skipLines.add(record.line);
      report.duplicates.push({ line: record.line, firstLine: first });
      continue;
    }
    firstLineOf.set(key, record.line);
    report.valid++;
    for (const w of row.warnings ?? []) {
      const entry = report.warnings[w.rule] ?? {
        field: w.field,
        message: w.message,
        rows: 0,
        lines: [],
      };
      report.warnings[w.rule] = entry;
      entry.rows++;
      if (entry.lines.length < SHOWN_ROWS) entry.lines.push(record.line);
    }
    if (acknowledged.has(key)) report.alreadyAcknowledged++;
  }
  firstLineOf.clear();

  const style = createStyle(io.stdout, io.env);
  const toSend = report.valid - report.alreadyAcknowledged;
  if (dryRun || !config || toSend === 0) {
    report.notSent = dryRun ? toSend : 0;
    return finish(io, style, report, values.json === true);
  }
  if (!values.json) printValidation(io, style, report);

  // Pass 2: send the valid rows in batches, checkpointing each acknowledged batch.
  if (checkpoint && checkpoint.file.size !== size && !values.json) {
    io.stderr.write(
      `${style.yellow('⚠')} ${basename(path)} changed since the checkpoint was written; rows are matched by event_id, so nothing acknowledged is sent again\n`,
    );
  }
  checkpoint ??= {
    version: 1,
    file: { name: basename(path), size },
    pixelId: config.pixelId,
    batches: [],
  };
  report.checkpoint = checkpointPath;
  const client = createCapi({
    pixelId: config.pixelId,
    accessToken: config.accessToken,
    apiVersion: config.apiVersion,
    graphUrl: config.graphUrl,
    ...(testEventCode ? { testEventCode } : {}),
    partnerAgent: 'capi-kit-cli',
    maxBatchEvents: batchSize,
    maxQueuedEvents: batchSize * 2,
    maxConcurrency: 1,
    flushIntervalMs: 60_000,
    timeoutMs: 30_000,
    retry: { maxAttempts: 5, maxDelayMs: 30_000 },
    buildOptions: {
      ...(defaults.defaultCountry ? { defaultCountry: defaults.defaultCountry } : {}),
      ...(defaults.dateOrder ? { dateOrder: defaults.dateOrder } : {}),
    },
    env: false,
    diagnostics: { enabled: false },
    // The command reports every row's issues and every delivery outcome itself, in its own format.
    logger: false,
  });
  const batch = new Batch(client);
  const progress = new ProgressBar(io.stderr, createStyle(io.stderr, io.env), toSend);
  let interrupted = false;
  const stopListening = (io.onInterrupt ?? defaultOnInterrupt)(() => {
    if (interrupted) process.exit(EXIT_CODES.interrupted);
    interrupted = true;
    io.stderr.write('\nFinishing the current batch, then stopping (Ctrl-C again to abort now)…\n');
  });

  const sendBatch = async (): Promise<boolean> => {
    const outcome = await batch.settle();
    report.sent += outcome.acknowledged.length;
    report.rejected.push(...outcome.rejected);
    if (outcome.acknowledged.length > 0) {
      report.acknowledgedBatches++;
      checkpoint.batches.push({
        fromLine: outcome.fromLine,
        toLine: outcome.toLine,
        events: outcome.acknowledged,
        acknowledgedAt: new Date().toISOString(),
      });
      await writeCheckpoint(checkpointPath, checkpoint);
    }
    report.batches++;
    progress.update(
      report.sent + report.rejected.length,
      `${report.batches} batch${report.batches === 1 ? '' : 'es'}`,
      true,
    );
    if (outcome.stop) {
      report.stoppedEarly = outcome.stop.kind;
      report.error = outcome.stop.message;
      return false;
    }
    if (interrupted) {
      report.stoppedEarly = 'interrupted';
      return false;
    }
    if (report.batches >= maxBatches) {
      report.stoppedEarly = 'max-batches';
      return false;
    }
    return true;
  };

  try {
    let going = true;
    isHeader = true;
    for await (const record of openCsv(path)) {
      if (isHeader) {
        isHeader = false;
        continue;
      }
      if (skipLines.has(record.line)) continue;
      const row = rowToInput(record, mapping.columns, defaults);
      if (!row.ok) continue; // cannot happen: pass 1 rejected it
      if (acknowledged.has(eventKey(row.eventName, row.eventId))) continue;
      const tracked = client.track(row.input);
      if (!tracked.accepted) {
        report.rejected.push({
          line: record.line,
          reason:
            tracked.issues.map((i) => `${i.path}: ${i.code}`).join(', ') ||
            (tracked.reason ?? 'not accepted'),
        });
        continue;
      }
      batch.add(tracked.event_id, row.eventName, record.line);
      if (batch.size >= batchSize) {
        going = await sendBatch();
        if (!going) break;
      }
    }
    if (going && batch.size > 0) await sendBatch();
  } finally {
    stopListening();
    progress.finish();
    await client.close({ timeoutMs: 2000 });
  }
  report.notSent = Math.max(0, toSend - report.sent - report.rejected.length);
  if (report.notSent > 0 || report.rejected.length > 0) report.resumeCommand = resumeCommand(argv);
  return finish(io, style, report, values.json === true);
};

/**
 * `capi-kit upload <the same arguments>`, quoted for a POSIX shell. Safe to print: the token is
 * never a flag, and the arguments are file names and options, not customer data.
 */
const resumeCommand = (argv: readonly string[]): string =>
  ['capi-kit', 'upload', ...argv]
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`))
    .join(' ');

const defaultOnInterrupt = (handler: () => void): (() => void) => {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
};

const integerOption = (
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(
      `${name} must be an integer${max === Number.POSITIVE_INFINITY ? ` ≥ ${min}` : ` from ${min} to ${max}`}`,
      EXIT_CODES.usage,
    );
  }
  return n;
};

const checkMapping = (mapping: ColumnMapping): void => {
  const fields = new Set(mapping.mapped.map((m) => m.field));
  if (!fields.has('event_time')) {
    throw new CliError(
      'No event_time column: name one event_time (ISO 8601 or Unix seconds) or map it with --map "YourColumn=event_time"',
      EXIT_CODES.usage,
    );
  }
  if (![...USER_DATA_FIELDS].some((f) => fields.has(f))) {
    throw new CliError(
      'No customer information column (email, phone, name, address, external_id…): Meta cannot match the events; map one with --map',
      EXIT_CODES.usage,
    );
  }
};

interface BatchOutcome {
  fromLine: number;
  toLine: number;
  acknowledged: string[];
  rejected: { line: number; reason: string }[];
  stop?: { kind: 'auth' | 'network'; message: string };
}

/** The rows of the batch being sent, matched back from the client's hooks. */
class Batch {
  private pending = new Map<string, { eventName: string; line: number }[]>();
  private count = 0;
  private fromLine = 0;
  private toLine = 0;
  private acknowledged: string[] = [];
  private rejected: { line: number; reason: string }[] = [];
  private stop: BatchOutcome['stop'];
  private wake: (() => void) | undefined;

  constructor(private readonly client: CapiClient) {
    client.on('sent', (info) => {
      for (const id of info.eventIds) {
        const row = this.take(id);
        if (row) this.acknowledged.push(eventKey(row.eventName, id));
      }
      this.wake?.();
    });
    client.on('deadLetter', (info) => {
      const graph = info.error.graphError;
      if (info.reason === 'max_attempts') {
        // Meta never answered usefully (network down, 5xx): the rows stay unsent for the next run.
        for (const ref of info.events) this.take(ref.eventId);
        this.stop ??= {
          kind: 'network',
          message: `gave up after retries: ${graph ? describeGraphError(graph, info.error.status) : info.error.message}`,
        };
      } else {
        const reason = `rejected by Meta: ${describeGraphError(graph, info.error.status)}`;
        for (const ref of info.events) {
          const row = this.take(ref.eventId);
          if (row) this.rejected.push({ line: row.line, reason });
        }
      }
      this.wake?.();
    });
    client.on('dropped', (info) => {
      for (const ref of info.events) {
        const row = this.take(ref.eventId);
        if (row) this.rejected.push({ line: row.line, reason: `dropped: ${info.reason}` });
      }
      this.wake?.();
    });
    client.on('error', (info) => {
      if (info.kind !== 'auth') return;
      const graph = (info.error as { graphError?: Parameters<typeof describeGraphError>[0] })
        .graphError;
      this.stop ??= {
        kind: 'auth',
        message: `Meta refused the token: ${describeGraphError(graph, (info.error as { status?: number }).status ?? 0)}`,
      };
      this.wake?.();
    });
  }

  get size(): number {
    return this.count;
  }

  add(eventId: string, eventName: string, line: number): void {
    if (this.count === 0) this.fromLine = line;
    this.toLine = line;
    this.count++;
    const list = this.pending.get(eventId);
    if (list) list.push({ eventName, line });
    else this.pending.set(eventId, [{ eventName, line }]);
  }

  /** Sends what was added and waits until every row is acknowledged, rejected or stuck (auth). */
  async settle(): Promise<BatchOutcome> {
    await this.client.flush();
    while (this.pending.size > 0 && !this.stop) {
      // Retries and throttle pauses resume on the client's own timers; poll as a safety net.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.pending.size > 0 && !this.stop) await this.client.flush();
    }
    const outcome: BatchOutcome = {
      fromLine: this.fromLine,
      toLine: this.toLine,
      acknowledged: this.acknowledged,
      rejected: this.rejected,
    };
    if (this.stop) outcome.stop = this.stop;
    this.pending.clear();
    this.count = 0;
    this.acknowledged = [];
    this.rejected = [];
    return outcome;
  }

  private take(eventId: string): { eventName: string; line: number } | undefined {
    const list = this.pending.get(eventId);
    const row = list?.shift();
    if (list && list.length === 0) this.pending.delete(eventId);
    return row;
  }
}

const describeProblems = (problems: readonly RowProblem[]): string =>
  problems.map((p) => `${p.field}: ${p.rule} (${p.message.replace(/\.$/, '')})`).join('; ');

const printValidation = (io: CliIo, style: Style, r: UploadReport): void => {
  const out = (line = '') => io.stdout.write(`${line}\n`);
  out(style.bold(`capi-kit upload: ${r.file}${r.dryRun ? ' (dry run: nothing is sent)' : ''}`));
  out(`  columns: ${r.columns.map((c) => `${c.column} → ${c.field}`).join(', ')}`);
  if (r.ignoredColumns.length > 0) out(`  ignored columns: ${r.ignoredColumns.join(', ')}`);
  if (r.testEventCode)
    out(`  test_event_code: ${r.testEventCode} (events go to Events Manager › Test events)`);
  out(
    `  ${r.rows} rows: ${style.green(`${r.valid} valid`)}, ${r.invalid > 0 ? style.red(`${r.invalid} invalid`) : '0 invalid'}, ${r.duplicates.length} duplicate${r.duplicates.length === 1 ? '' : 's'}${r.alreadyAcknowledged > 0 ? `, ${r.alreadyAcknowledged} already acknowledged (checkpoint)` : ''}`,
  );
  if (r.invalid > 0) {
    out(`  ${style.red('invalid rows')} (line: field: rule):`);
    for (const bad of r.invalidRows.slice(0, SHOWN_ROWS))
      out(`    line ${bad.line}: ${describeProblems(bad.problems)}`);
    if (r.invalid > SHOWN_ROWS)
      out(
        `    … and ${r.invalid - SHOWN_ROWS} more (--json lists ${Math.min(r.invalid, MAX_DETAILED_ROWS)})`,
      );
    out(
      `  by rule: ${Object.entries(r.invalidByRule)
        .map(([rule, n]) => `${rule} ${n}`)
        .join(', ')}`,
    );
  }
  for (const [rule, w] of Object.entries(r.warnings)) {
    // Sent anyway, but the user should fix the file: e.g. event_time in milliseconds, which the
    // docs define in seconds, is converted rather than refused.
    out(
      `  ${style.yellow('⚠')} ${w.field}: ${rule} in ${w.rows} row${w.rows === 1 ? '' : 's'} (line${w.rows === 1 ? '' : 's'} ${w.lines.join(', ')}${w.rows > w.lines.length ? ', …' : ''}): ${w.message.replace(/\.$/, '')}${rule === 'event_time_in_milliseconds' ? '; write Unix seconds or ISO 8601 to be sure' : ''}`,
    );
  }
  if (r.duplicates.length > 0) {
    const shown = r.duplicates
      .slice(0, SHOWN_ROWS)
      .map((d) => `line ${d.line} (= line ${d.firstLine})`);
    out(
      `  duplicates skipped (same event_name + event_id): ${shown.join(', ')}${r.duplicates.length > SHOWN_ROWS ? ', …' : ''}`,
    );
  }
};

const finish = (io: CliIo, style: Style, r: UploadReport, json: boolean): ExitCode => {
  let code: ExitCode = EXIT_CODES.ok;
  if (r.stoppedEarly === 'auth') code = EXIT_CODES.failed;
  else if (r.stoppedEarly === 'network') code = EXIT_CODES.environment;
  else if (r.stoppedEarly === 'interrupted') code = EXIT_CODES.interrupted;
  else if (r.stoppedEarly === 'max-batches' && r.notSent > 0) code = EXIT_CODES.incomplete;
  else if (r.invalid > 0 || r.rejected.length > 0) code = EXIT_CODES.failed;
  else if (r.valid === 0) code = EXIT_CODES.failed;
  if (json) {
    io.stdout.write(`${JSON.stringify({ ...r, exitCode: code }, null, 2)}\n`);
    return code;
  }
  if (r.dryRun || r.batches === 0) printValidation(io, style, r);
  const out = (line = '') => io.stdout.write(`${line}\n`);
  out();
  if (r.dryRun) {
    out(`${r.valid - r.alreadyAcknowledged} row(s) would be sent. Nothing was sent (--dry-run).`);
    return code;
  }
  const mark =
    code === EXIT_CODES.ok
      ? style.green('✔')
      : code === EXIT_CODES.incomplete
        ? style.yellow('⚠')
        : style.red('✖');
  out(`${mark} ${style.bold('Summary')}`);
  out(
    `  sent and acknowledged by Meta: ${r.sent} row${r.sent === 1 ? '' : 's'} in ${r.acknowledgedBatches} batch${r.acknowledgedBatches === 1 ? '' : 'es'}${r.batches > r.acknowledgedBatches ? ` (${r.batches} attempted)` : ''}`,
  );
  out(`  already acknowledged by an earlier run (skipped): ${r.alreadyAcknowledged}`);
  out(`  duplicates skipped: ${r.duplicates.length}`);
  out(`  invalid (not sent): ${r.invalid}`);
  out(`  rejected by Meta: ${r.rejected.length}`);
  const byReason = new Map<string, number[]>();
  for (const { line, reason } of r.rejected)
    byReason.set(reason, [...(byReason.get(reason) ?? []), line]);
  for (const [reason, lines] of byReason) {
    const shown = lines.slice(0, SHOWN_ROWS).join(', ');
    out(
      `    ${reason}: line${lines.length === 1 ? '' : 's'} ${shown}${lines.length > SHOWN_ROWS ? `, … (${lines.length})` : ''}`,
    );
  }
  out(`  kept for the next run (not sent yet): ${r.notSent}`);
  if (r.error) out(`  ${style.red(r.error)}`);
  if (r.checkpoint) out(`  checkpoint: ${r.checkpoint} (the acknowledged rows; never sent again)`);
  const why: Record<NonNullable<UploadReport['stoppedEarly']>, string> = {
    network: 'Graph could not be reached or kept failing, so the upload stopped',
    auth: 'Set a valid META_ACCESS_TOKEN first',
    interrupted: 'Interrupted after the current batch',
    'max-batches': 'Stopped after --max-batches',
  };
  if (r.notSent > 0) {
    out(
      `  ${r.stoppedEarly ? `${why[r.stoppedEarly]}; ` : ''}${r.notSent} row${r.notSent === 1 ? ' is' : 's are'} kept for the next run. To resume, run the same command again:`,
    );
    if (r.resumeCommand) out(`    ${r.resumeCommand}`);
  } else if (r.rejected.length > 0) {
    out(
      '  Rejected rows are not in the checkpoint: fix them in the file and run the same command again (acknowledged rows are skipped).',
    );
    if (r.resumeCommand) out(`    ${r.resumeCommand}`);
  }
  return code;
};

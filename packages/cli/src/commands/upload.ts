import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  type ActionSource,
  createCapi,
  isActionSource,
  normalizeCountry,
  normalizeCurrency,
} from '@capi-kit/core';
import { parseCommandArgs } from '../command-args.js';
import { GRAPH_OPTIONS, graphHelp, readGraphConfig } from '../config.js';
import { type CsvOptions, readCsvRecords } from '../csv.js';
import { CliError, EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { ProgressBar } from '../progress-bar.js';
import { type CliIo, createStyle } from '../terminal.js';
import { Batch } from '../upload/batch.js';
import {
  type Checkpoint,
  CheckpointWriter,
  eventKey,
  readCheckpoint,
  type StoredCheckpoint,
} from '../upload/checkpoint.js';
import {
  type ColumnMapping,
  mapColumns,
  parseMapOption,
  USER_DATA_FIELDS,
} from '../upload/columns.js';
import {
  addRejected,
  emptyReport,
  finish,
  MAX_DETAILED_ROWS,
  printValidation,
  SHOWN_ROWS,
  type UploadReport,
} from '../upload/report.js';
import { type RowDefaults, rowToEvent, rowToInput } from '../upload/rows.js';
import { SkippedRows } from '../upload/skipped-rows.js';

/** `capi-kit upload --help`. */
export const UPLOAD_HELP = `Usage: capi-kit upload <file.csv> [--action-source physical_store] [--dry-run] [options]

Uploads offline conversions from a CSV file (RFC 4180: quoted fields, embedded commas and line
breaks, UTF-8 with or without BOM; also ";" or tab as the delimiter, found from the header, and
UTF-16 with a BOM). Customer information is normalized and SHA-256 hashed locally
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
      --date-order O       dmy or mdy: how to read dates like 05/06/1990 (birth dates, and
                           event times as a spreadsheet writes them; unset: reported)
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

type Delimiter = NonNullable<CsvOptions['delimiter']>;

const openCsv = (path: string, delimiter: Delimiter) =>
  readCsvRecords(createReadStream(path, { highWaterMark: 256 * 1024 }), { delimiter });

// Excel's `sep=;` first line (files written for Excel carry one, so it splits them right): it
// names the delimiter, and the header is the line after it. Saved again by a spreadsheet, the line
// is a quoted cell and its row's empty cells (`"sep=;";;;`), which reads as `sep=;;;;`.
const SEP_LINE = /^sep=([,;\t])\1*$/i;

/**
 * The header and its delimiter: the one a first `sep=` line names, else the one of `,`, `;` and
 * tab that splits the header into the most columns (a comma on a tie). Excel writes `;` where the
 * decimal mark is a comma, and its "Unicode Text" uses tabs; read with commas, such a header is one
 * column and nothing maps. `before`: the records ahead of the header (1 after a `sep=` line).
 */
const readHeader = async (
  path: string,
): Promise<{ header: string[]; delimiter: Delimiter; before: number }> => {
  for await (const record of openCsv(path, ',')) {
    const named = SEP_LINE.exec(record.fields.join(','))?.[1] as Delimiter | undefined;
    if (named === undefined) break;
    let index = 0;
    for await (const next of openCsv(path, named)) {
      if (index++ === 0) continue;
      return { header: next.fields, delimiter: named, before: 1 };
    }
    throw new CliError(`${path} has no header after its sep= line`, EXIT_CODES.usage);
  }
  let best: { header: string[]; delimiter: Delimiter } | undefined;
  for (const delimiter of [',', ';', '\t'] as const) {
    for await (const record of openCsv(path, delimiter)) {
      if (!best || record.fields.length > best.header.length)
        best = { header: record.fields, delimiter };
      break;
    }
    if (!best) break;
  }
  if (!best) throw new CliError(`${path} is empty`, EXIT_CODES.usage);
  return { ...best, before: 0 };
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
  // Checked here, by the core's own rules, so that the flag is named: read per row, a mistyped one
  // made every row invalid (invalid_currency) or was ignored with a warning on every row.
  const currency = values.currency;
  if (currency !== undefined && normalizeCurrency(currency) === undefined) {
    throw new CliError(
      `--currency: "${currency}" is not an ISO 4217 currency code (e.g. USD, EUR)`,
      EXIT_CODES.usage,
    );
  }
  const defaultCountry = values['default-country'];
  if (defaultCountry !== undefined && normalizeCountry(defaultCountry) === undefined) {
    throw new CliError(
      `--default-country: "${defaultCountry}" is not an ISO 3166-1 country code or a known country name (e.g. US, GB)`,
      EXIT_CODES.usage,
    );
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
    currency,
    defaultCountry,
    dateOrder,
  };

  const { header, delimiter, before } = await readHeader(path);
  defaults.delimiter = delimiter;
  const mapping = mapColumns(header, parseMapOption(values.map ?? []));
  checkMapping(mapping);
  const checkpointPath = resolve(io.cwd, values.checkpoint ?? `${path}.capi-checkpoint.json`);
  let stored: StoredCheckpoint | undefined;
  try {
    stored = await readCheckpoint(checkpointPath);
  } catch (error) {
    throw new CliError(
      `Cannot use the checkpoint: ${(error as Error).message}`,
      EXIT_CODES.environment,
    );
  }
  let checkpoint: Checkpoint | undefined = stored?.checkpoint;
  if (checkpoint && config && checkpoint.pixelId !== config.pixelId) {
    throw new CliError(
      `${checkpointPath} records an upload to pixel ${checkpoint.pixelId}, not ${config.pixelId}; pass --checkpoint to use another file`,
      EXIT_CODES.usage,
    );
  }
  const columnFields = mapping.columns.map((field) => field ?? null);
  if (
    checkpoint?.mapping !== undefined &&
    checkpoint.batches.length > 0 &&
    JSON.stringify(checkpoint.mapping) !== JSON.stringify(columnFields)
  ) {
    // Rows without event_id/order_id are known by a hash of their mapped values: read another way,
    // each acknowledged one would get a new id, be sent again and counted twice by Meta.
    throw new CliError(
      `${checkpointPath} records an upload that read the columns differently (header or --map changed); rows without event_id or order_id would get new ids and be sent again. Run with the same --map, or pass --checkpoint <new file> to start over`,
      EXIT_CODES.usage,
    );
  }
  const testEventCode = (values['test-event-code'] ?? io.env.META_TEST_EVENT_CODE ?? '').trim();
  const recordedTest = checkpoint?.testEventCode;
  if (
    recordedTest !== undefined &&
    checkpoint !== undefined &&
    checkpoint.batches.length > 0 &&
    (recordedTest !== null) !== (testEventCode !== '')
  ) {
    // Test events appear only in Events Manager › Test events and count nowhere else: a real run
    // that skipped what a test run delivered would never send those rows for real.
    throw new CliError(
      recordedTest === null
        ? `${checkpointPath} records real events, and this run sends test events (--test-event-code / META_TEST_EVENT_CODE); pass --checkpoint <new file> for a test run`
        : `${checkpointPath} records test events (test_event_code ${recordedTest}), and this run sends real events; its rows were never delivered for real: pass --checkpoint <new file> (or delete it) to send them`,
      EXIT_CODES.usage,
    );
  }
  // The checkpoint's index: what an earlier run delivered, about 100 bytes a row as a Set. The
  // batches' own lists go once it is built (they held every key a second time); the writer reads
  // them back from the file if it has to rewrite it.
  const resuming = (checkpoint?.batches.length ?? 0) > 0;
  const acknowledged = new Set<string>();
  for (const batch of checkpoint?.batches ?? [])
    for (const key of batch.events) acknowledged.add(key);
  if (checkpoint) checkpoint.batches = [];

  const report: UploadReport = {
    ...emptyReport(path, dryRun),
    columns: mapping.mapped,
    ignoredColumns: mapping.ignored,
  };
  if (config) report.pixelId = config.pixelId;
  if (config && testEventCode) report.testEventCode = testEventCode;

  // Pass 1: validate every row as track() will, before anything is sent. What it keeps is counts,
  // the first rows of each list, a bit a record (skipped), and the key of each valid row, to find
  // duplicates: about 90 bytes a valid row (90 MB for a million), let go before pass 2.
  const now = Date.now();
  const skipped = new SkippedRows();
  const firstLineOf = new Map<string, number>();
  let index = -1 - before; // the record's position under the header
  for await (const record of openCsv(path, delimiter)) {
    if (index++ < 0) continue; // the header
    // A row of empty fields (`,,,`: cells a spreadsheet once formatted, exported below the data)
    // is a blank line, skipped as one, not an invalid row that fails the run.
    if (!record.error && record.fields.every((field) => field.trim() === '')) {
      skipped.add(index);
      continue;
    }
    report.rows++;
    const row = rowToEvent(record, mapping.columns, defaults, now);
    if (!row.ok) {
      report.invalid++;
      skipped.add(index);
      for (const p of row.problems)
        report.invalidByRule[p.rule] = (report.invalidByRule[p.rule] ?? 0) + 1;
      if (report.invalidRows.length < MAX_DETAILED_ROWS)
        report.invalidRows.push({ line: record.line, problems: row.problems });
      continue;
    }
    const key = eventKey(row.eventName, row.eventId);
    const first = firstLineOf.get(key);
    if (first !== undefined) {
      skipped.add(index);
      report.duplicateCount++;
      if (report.duplicates.length < MAX_DETAILED_ROWS)
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
    version: 2,
    file: { name: basename(path), size },
    pixelId: config.pixelId,
    batches: [],
  };
  // Recorded once nothing acknowledged depends on another one (a checkpoint of an earlier version
  // with batches has none, and is left so: which mapping made its ids is unknown).
  if (!resuming) {
    checkpoint.mapping = columnFields;
    checkpoint.testEventCode = testEventCode === '' ? null : testEventCode;
  }
  report.checkpoint = checkpointPath;
  const checkpointFile = new CheckpointWriter(checkpointPath, checkpoint, stored);
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
    for (const { line, reason } of outcome.rejected) addRejected(report, line, reason);
    if (outcome.acknowledged.length > 0) {
      report.acknowledgedBatches++;
      await checkpointFile.record({
        fromLine: outcome.fromLine,
        toLine: outcome.toLine,
        events: outcome.acknowledged,
        acknowledgedAt: new Date().toISOString(),
      });
    }
    report.batches++;
    progress.update(
      report.sent + report.rejectedCount,
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
    index = -1 - before;
    for await (const record of openCsv(path, delimiter)) {
      if (index++ < 0 || skipped.has(index)) continue;
      const row = rowToInput(record, mapping.columns, defaults);
      if (!row.ok) continue; // cannot happen: pass 1 rejected it
      if (acknowledged.has(eventKey(row.eventName, row.eventId))) continue;
      const tracked = client.track(row.input);
      if (!tracked.accepted) {
        addRejected(
          report,
          record.line,
          tracked.issues.map((i) => `${i.path}: ${i.code}`).join(', ') ||
            (tracked.reason ?? 'not accepted'),
        );
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
  report.notSent = Math.max(0, toSend - report.sent - report.rejectedCount);
  if (report.notSent > 0 || report.rejectedCount > 0) report.resumeCommand = resumeCommand(argv);
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

import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import type { CliIo, Style } from '../terminal.js';
import type { RowProblem } from './rows.js';

/** Invalid, duplicate and rejected rows listed one by one in the report (the rest are counted). */
export const MAX_DETAILED_ROWS = 1000;
/** Rows, lines or duplicates printed per list before `…`. */
export const SHOWN_ROWS = 20;

/** A row that will not be sent, with why. */
interface BadRow {
  line: number;
  problems: RowProblem[];
}

/** What `capi-kit upload` found and did: printed as text or, with `--json`, as is. */
export interface UploadReport {
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
  /** Rows repeating an earlier row's `event_name` + `event_id`, skipped. */
  duplicateCount: number;
  /** The first {@link MAX_DETAILED_ROWS} of them, with the line of the row they repeat. */
  duplicates: { line: number; firstLine: number }[];
  /** Rows sent anyway with something the core changed or doubts, by rule (first lines only). */
  warnings: Record<string, { field: string; message: string; rows: number; lines: number[] }>;
  alreadyAcknowledged: number;
  sent: number;
  /** Rows Meta (or the client) refused. */
  rejectedCount: number;
  /** The first {@link MAX_DETAILED_ROWS} of them. */
  rejected: { line: number; reason: string }[];
  /** Rejected rows by reason: how many, and the first lines. */
  rejectedByReason: Record<string, { rows: number; lines: number[] }>;
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

/** A report of `file` before any row is read: every count 0, every list empty. */
export const emptyReport = (file: string, dryRun: boolean): UploadReport => ({
  file,
  dryRun,
  columns: [],
  ignoredColumns: [],
  rows: 0,
  valid: 0,
  invalid: 0,
  invalidByRule: {},
  invalidRows: [],
  duplicateCount: 0,
  duplicates: [],
  warnings: {},
  alreadyAcknowledged: 0,
  sent: 0,
  rejectedCount: 0,
  rejected: [],
  rejectedByReason: {},
  notSent: 0,
  batches: 0,
  acknowledgedBatches: 0,
});

/**
 * Counts a row that was not delivered, by reason. Only the first rows are kept with their line:
 * a list of every one held a million entries when Meta refused a whole file.
 */
export const addRejected = (r: UploadReport, line: number, reason: string): void => {
  r.rejectedCount++;
  if (r.rejected.length < MAX_DETAILED_ROWS) r.rejected.push({ line, reason });
  const entry = Object.hasOwn(r.rejectedByReason, reason)
    ? (r.rejectedByReason[reason] as { rows: number; lines: number[] })
    : { rows: 0, lines: [] };
  r.rejectedByReason[reason] = entry;
  entry.rows++;
  if (entry.lines.length < SHOWN_ROWS) entry.lines.push(line);
};

const describeProblems = (problems: readonly RowProblem[]): string =>
  problems.map((p) => `${p.field}: ${p.rule} (${p.message.replace(/\.$/, '')})`).join('; ');

/** Prints pass 1's findings: columns, row counts, invalid rows by line and rule, warnings, duplicates. */
export const printValidation = (io: CliIo, style: Style, r: UploadReport): void => {
  const out = (line = '') => io.stdout.write(`${line}\n`);
  out(style.bold(`capi-kit upload: ${r.file}${r.dryRun ? ' (dry run: nothing is sent)' : ''}`));
  out(`  columns: ${r.columns.map((c) => `${c.column} → ${c.field}`).join(', ')}`);
  if (r.ignoredColumns.length > 0) out(`  ignored columns: ${r.ignoredColumns.join(', ')}`);
  if (r.testEventCode)
    out(`  test_event_code: ${r.testEventCode} (events go to Events Manager › Test events)`);
  out(
    `  ${r.rows} row${r.rows === 1 ? '' : 's'}: ${style.green(`${r.valid} valid`)}, ${r.invalid > 0 ? style.red(`${r.invalid} invalid`) : '0 invalid'}, ${r.duplicateCount} duplicate${r.duplicateCount === 1 ? '' : 's'}${r.alreadyAcknowledged > 0 ? `, ${r.alreadyAcknowledged} already acknowledged (checkpoint)` : ''}`,
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
      `  duplicates skipped (same event_name + event_id): ${shown.join(', ')}${r.duplicateCount > shown.length ? ', …' : ''}`,
    );
  }
};

/** Prints the report (text or JSON) and returns the exit code it calls for. */
export const finish = (io: CliIo, style: Style, r: UploadReport, json: boolean): ExitCode => {
  let code: ExitCode = EXIT_CODES.ok;
  if (r.stoppedEarly === 'auth') code = EXIT_CODES.failed;
  else if (r.stoppedEarly === 'network') code = EXIT_CODES.environment;
  else if (r.stoppedEarly === 'interrupted') code = EXIT_CODES.interrupted;
  else if (r.stoppedEarly === 'max-batches' && r.notSent > 0) code = EXIT_CODES.incomplete;
  else if (r.invalid > 0 || r.rejectedCount > 0) code = EXIT_CODES.failed;
  else if (r.valid === 0) code = EXIT_CODES.failed;
  if (json) {
    io.stdout.write(`${JSON.stringify({ ...r, exitCode: code }, null, 2)}\n`);
    return code;
  }
  if (r.dryRun || r.batches === 0) printValidation(io, style, r);
  const out = (line = '') => io.stdout.write(`${line}\n`);
  // Exit 1 like a file whose every row is invalid: an export that came out empty is a failure for
  // a scheduled job to notice. Said, since every count of the summary is 0 and gives no reason.
  if (r.rows === 0) {
    out(
      `  ${style.red('No rows under the header')} (blank lines and empty rows are skipped): nothing to send. Check the export that wrote the file.`,
    );
  }
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
  out(`  duplicates skipped: ${r.duplicateCount}`);
  out(`  invalid (not sent): ${r.invalid}`);
  out(`  rejected by Meta: ${r.rejectedCount}`);
  for (const [reason, { rows, lines }] of Object.entries(r.rejectedByReason)) {
    out(
      `    ${reason}: line${rows === 1 ? '' : 's'} ${lines.join(', ')}${rows > lines.length ? `, … (${rows})` : ''}`,
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
  } else if (r.rejectedCount > 0) {
    out(
      '  Rejected rows are not in the checkpoint: fix them in the file and run the same command again (acknowledged rows are skipped).',
    );
    if (r.resumeCommand) out(`    ${r.resumeCommand}`);
  }
  return code;
};

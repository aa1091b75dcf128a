import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';

/** One batch Meta acknowledged. */
export interface CheckpointBatch {
  /** First line of the batch's first row (1-based, the header is line 1). */
  fromLine: number;
  /** First line of the batch's last row. */
  toLine: number;
  /** `event_name` + `event_id` of every acknowledged row, as `name\tid`. */
  events: string[];
  /** When Meta acknowledged it (ISO). */
  acknowledgedAt: string;
}

/** `<file>.capi-checkpoint.json`: what an upload already delivered, so a re-run skips it. */
export interface Checkpoint {
  /** Format version: 1 was one JSON object, 2 is JSON Lines (this header, then a line per batch). */
  version: 1 | 2;
  /** The uploaded file's name and size when the checkpoint was started (a changed file only warns). */
  file: { name: string; size: number };
  /** Pixel the events went to. */
  pixelId: string;
  /**
   * The field each column was read as (`null`: ignored), from the header and `--map`. A row without
   * `event_id` or `order_id` gets its id from its mapped values, so a resume with another mapping
   * would send every such row again under a new id. Absent in checkpoints of earlier versions.
   */
  mapping?: (string | null)[];
  /**
   * The `test_event_code` the events went with (`null`: real events). Meta keeps test events out of
   * reporting and optimisation, so a real run must not skip what a test run delivered. Absent in
   * checkpoints of earlier versions.
   */
  testEventCode?: string | null;
  /** Acknowledged batches, in order. */
  batches: CheckpointBatch[];
}

/** The key a row is remembered by: Meta deduplicates on `event_name` + `event_id`. */
export const eventKey = (eventName: string, eventId: string): string => `${eventName}\t${eventId}`;

/** A checkpoint read from disk, and whether a batch can be appended to the file as it stands. */
export interface StoredCheckpoint {
  /** What the file records. */
  checkpoint: Checkpoint;
  /**
   * True when the file is in the line format and ends with a whole line. Otherwise (version 1, or
   * a last line cut short by a kill or a full disk) the next batch rewrites the file once.
   */
  appendable: boolean;
}

const isBatch = (value: unknown): value is CheckpointBatch =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as CheckpointBatch).events) &&
  typeof (value as CheckpointBatch).fromLine === 'number';

/**
 * Reads a checkpoint; undefined when there is none. Throws on a file that is not one. A last line
 * cut short (the process killed while appending) is left out: its batch was acknowledged by Meta
 * but not recorded, so a resume sends it again and Meta deduplicates it by `event_id`.
 */
export const readCheckpoint = async (path: string): Promise<StoredCheckpoint | undefined> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const notOne = (): Error => new Error(`${path} is not a capi-kit checkpoint`);
  const lines = text.split('\n');
  let header: Partial<Checkpoint>;
  try {
    header = JSON.parse(lines[0] ?? '') as Partial<Checkpoint>;
  } catch {
    throw notOne();
  }
  if (typeof header.pixelId !== 'string') throw notOne();
  if (header.version === 1 && Array.isArray(header.batches)) {
    return { checkpoint: header as Checkpoint, appendable: false };
  }
  if (header.version !== 2) throw notOne();
  const batches: CheckpointBatch[] = [];
  // `split` leaves '' after the final newline; anything else there is a line cut short.
  const last = lines.length - 1;
  const appendable = lines[last] === '';
  for (let i = 1; i < last; i++) {
    let batch: unknown;
    try {
      batch = JSON.parse(lines[i] as string);
    } catch {
      throw notOne();
    }
    if (!isBatch(batch)) throw notOne();
    batches.push(batch);
  }
  if (!appendable) {
    // A line cut short is kept only if it happens to be whole; the next batch rewrites the file.
    try {
      const batch: unknown = JSON.parse(lines[last] as string);
      if (isBatch(batch)) batches.push(batch);
    } catch {}
  }
  return { checkpoint: { ...header, batches } as Checkpoint, appendable };
};

const headerLine = ({ batches: _, ...header }: Checkpoint): string =>
  JSON.stringify({ ...header, version: 2 });

/**
 * Records each acknowledged batch. The first one writes the whole file atomically (temporary file
 * + rename, so a kill never leaves half a file); later ones append one line. Rewriting the file for
 * every batch made an upload quadratic: a million rows meant a thousand rewrites of a file growing
 * to 40 MB (about 20 GB written in all).
 *
 * What is on disk is not kept in memory: a rewrite reads the batches back from the file. Keeping
 * every recorded batch (`checkpoint.batches`) held each acknowledged row's key for the whole run,
 * about 60 bytes a row: 60 MB for a year of store sales (a million rows) on top of the upload.
 */
export class CheckpointWriter {
  private appendable: boolean;
  /** Batches given to `record` that are not known to be on disk (an append failed). */
  private unwritten: CheckpointBatch[] = [];

  /**
   * `stored` is what `readCheckpoint` found, if anything; `checkpoint` gives the header (its
   * `batches` are neither read nor updated).
   */
  constructor(
    private readonly path: string,
    readonly checkpoint: Checkpoint,
    stored?: StoredCheckpoint,
  ) {
    this.appendable = stored?.appendable ?? false;
  }

  /** Adds `batch` to the checkpoint's file. */
  async record(batch: CheckpointBatch): Promise<void> {
    if (this.appendable) {
      try {
        await appendFile(this.path, `${JSON.stringify(batch)}\n`);
      } catch (error) {
        // Part of the line may be on disk (a full disk): the next batch rewrites the file whole.
        this.appendable = false;
        this.unwritten.push(batch);
        throw error;
      }
      return;
    }
    // The whole lines on disk (a line cut short is left out), then what never reached it.
    const onDisk = (await readCheckpoint(this.path))?.checkpoint.batches ?? [];
    const rest = [...this.unwritten, batch].map((each) => JSON.stringify(each));
    const lines = [headerLine(this.checkpoint)];
    // A failed append may have got its whole line out but for the newline.
    for (const each of onDisk) {
      const line = JSON.stringify(each);
      if (!rest.includes(line)) lines.push(line);
    }
    lines.push(...rest);
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${lines.join('\n')}\n`);
    await rename(temporary, this.path);
    this.checkpoint.version = 2;
    this.unwritten = [];
    this.appendable = true;
  }
}

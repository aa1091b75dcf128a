import { readFile, rename, writeFile } from 'node:fs/promises';

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
  /** Format version. */
  version: 1;
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
  /** Acknowledged batches, in order. */
  batches: CheckpointBatch[];
}

/** The key a row is remembered by: Meta deduplicates on `event_name` + `event_id`. */
export const eventKey = (eventName: string, eventId: string): string => `${eventName}\t${eventId}`;

/** Reads a checkpoint; undefined when there is none. Throws on a file that is not one. */
export const readCheckpoint = async (path: string): Promise<Checkpoint | undefined> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = JSON.parse(text) as Partial<Checkpoint>;
  if (value.version !== 1 || !Array.isArray(value.batches) || typeof value.pixelId !== 'string') {
    throw new Error(`${path} is not a capi-kit checkpoint`);
  }
  return value as Checkpoint;
};

/** Writes the checkpoint atomically (temporary file + rename), so a kill never leaves half a file. */
export const writeCheckpoint = async (path: string, checkpoint: Checkpoint): Promise<void> => {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint)}\n`);
  await rename(temporary, path);
};

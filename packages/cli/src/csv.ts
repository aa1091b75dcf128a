// RFC 4180 CSV, read as a stream: fields separated by commas, records by CRLF (LF and lone CR are
// accepted too); a field in double quotes may hold commas, line breaks and doubled quotes (""). A
// UTF-8 byte order mark at the start is dropped. https://www.rfc-editor.org/rfc/rfc4180
// Beyond RFC 4180, for spreadsheets' exports: another delimiter (`;` where the decimal mark is a
// comma, tab in Excel's "Unicode Text"), UTF-16 text announced by its byte order mark, and a UTF-8
// byte order mark at the start of any record (one after a `sep=` line) dropped.

/** One record and where it starts in the file. */
export interface CsvRecord {
  /** The fields, unquoted. */
  fields: string[];
  /** 1-based line number where the record starts (a quoted line break makes a record span lines). */
  line: number;
  /** Set when the quoting is broken; the fields are a best-effort reading. */
  error?: string;
  /**
   * The line the record ends on, when a quoted line break made it span lines (a stray quote makes
   * a record swallow the lines up to the next quote).
   */
  endLine?: number;
}

/** How {@link readCsvRecords} reads a file. */
export interface CsvOptions {
  /** The field delimiter: `,` (default), `;` or a tab. */
  delimiter?: ',' | ';' | '\t';
}

/**
 * The most text a record keeps, in UTF-16 units (2 MiB of memory). Past it the record's text is
 * dropped and the record is an error: a stray quote joins every line up to the next quote into one
 * field, and without a bound that field was the rest of the file (a million rows behind one quote
 * ran a 24 MB heap out of memory; a file past 512 MiB passes V8's longest string).
 */
export const MAX_RECORD_LENGTH = 1 << 20;

const QUOTE = 34;
const CR = 13;
const LF = 10;
const BOM = 0xfeff;

/**
 * Reads CSV records from text or UTF-8 byte chunks (a file stream), one at a time, holding only
 * the current record in memory, and at most {@link MAX_RECORD_LENGTH} of its text. Blank lines are
 * skipped.
 * @example
 * for await (const { fields, line } of readCsvRecords(createReadStream('orders.csv'))) { … }
 */
export async function* readCsvRecords(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: CsvOptions = {},
): AsyncGenerator<CsvRecord> {
  const DELIMITER = (options.delimiter ?? ',').charCodeAt(0);
  // Chosen by the first two bytes: UTF-16 only when its byte order mark says so.
  let decoder: TextDecoder | undefined;
  let head: Uint8Array | undefined;
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let afterQuote = false;
  let quoted = false;
  let pendingCR = false;
  let crInQuotes = false;
  let line = 1;
  let recordLine = 1;
  let error: string | undefined;
  let length = 0; // of the record's text so far, delimiters included
  let fieldLength = 0; // of the field's text so far, kept or not
  let first = true;
  const ready: CsvRecord[] = [];

  // The record's text is kept while it is short enough; the reading goes on the same either way.
  const append = (part: string) => {
    length += part.length;
    fieldLength += part.length;
    if (length <= MAX_RECORD_LENGTH) field += part;
  };
  const endField = () => {
    if (length <= MAX_RECORD_LENGTH) fields.push(field);
    length++;
    field = '';
    fieldLength = 0;
  };

  const endRecord = () => {
    const clipped = length > MAX_RECORD_LENGTH;
    if (clipped)
      error ??= `the record is longer than ${MAX_RECORD_LENGTH} characters (its text is not kept)`;
    endField();
    const blank = !clipped && fields.length === 1 && fields[0] === '' && !quoted;
    if (!blank) {
      const record: CsvRecord = { fields, line: recordLine };
      if (error) record.error = error;
      if (line > recordLine) record.endLine = line;
      ready.push(record);
    }
    fields = [];
    quoted = false;
    afterQuote = false;
    error = undefined;
    length = 0;
  };

  const feed = (text: string) => {
    let start = 0; // start of the pending plain run in `text`
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (pendingCR) {
        pendingCR = false;
        if (c === LF) {
          start = i + 1;
          continue;
        }
      }
      if (inQuotes) {
        if (c === QUOTE) {
          append(text.slice(start, i));
          inQuotes = false;
          afterQuote = true;
          start = i + 1;
        } else if (c === CR || (c === LF && !crInQuotes)) {
          line++;
        }
        crInQuotes = c === CR;
        continue;
      }
      if (afterQuote) {
        afterQuote = false;
        if (c === QUOTE) {
          // "" inside a quoted field: a literal quote, and the field goes on.
          append('"');
          inQuotes = true;
          start = i + 1;
          continue;
        }
        if (c !== DELIMITER && c !== CR && c !== LF) {
          error ??= 'text after a closing quote';
        }
      }
      if (c === BOM && i === start && length === 0 && fields.length === 0 && !quoted) {
        // A byte order mark where a record starts: the file's own after a line put before it
        // (`sep=;`, a title), or the second file's of two joined. Not text: kept, it made a quoted
        // first field ("Order ID") unquoted text with its quotes.
        start = i + 1;
        continue;
      }
      if (c === DELIMITER) {
        append(text.slice(start, i));
        endField();
        quoted = false;
        start = i + 1;
      } else if (c === CR || c === LF) {
        append(text.slice(start, i));
        endRecord();
        line++;
        recordLine = line;
        pendingCR = c === CR;
        start = i + 1;
      } else if (c === QUOTE) {
        if (fieldLength === 0 && i === start && !quoted) {
          inQuotes = true;
          quoted = true;
          start = i + 1;
        } else {
          error ??= 'a quote inside an unquoted field';
        }
      }
    }
    if (start < text.length) append(text.slice(start));
  };

  const decode = (chunk: Uint8Array): string => {
    let bytes = chunk;
    if (!decoder) {
      bytes = head ? concat(head, chunk) : chunk;
      head = undefined;
      if (bytes.length < 2) {
        head = bytes;
        return '';
      }
      const bom = (bytes[0] as number) * 256 + (bytes[1] as number);
      decoder = new TextDecoder(
        bom === 0xfffe ? 'utf-16le' : bom === 0xfeff ? 'utf-16be' : 'utf-8',
      );
    }
    return decoder.decode(bytes, { stream: true });
  };

  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decode(chunk);
    if (first && text.length > 0) {
      first = false;
      // TextDecoder drops a UTF-8 BOM itself; string input may still carry U+FEFF.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    feed(text);
    while (ready.length > 0) yield ready.shift() as CsvRecord;
  }
  if (head) decoder = new TextDecoder('utf-8');
  if (decoder) feed(decoder.decode(head ?? new Uint8Array(0)));
  if (inQuotes) {
    error ??= 'a quoted field is not closed before the end of the file';
    inQuotes = false;
  }
  if (length > 0 || quoted) endRecord(); // text or a delimiter after the last line break
  while (ready.length > 0) yield ready.shift() as CsvRecord;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

import { describe, expect, it } from 'vitest';
import { MAX_RECORD_LENGTH } from '../src/csv.js';
import { type CsvRecord, readCsvRecords } from '../src/index.js';

const read = async (chunks: (string | Uint8Array)[]): Promise<CsvRecord[]> => {
  const out: CsvRecord[] = [];
  for await (const record of readCsvRecords(chunks)) out.push(record);
  return out;
};

const readAll = async (records: AsyncIterable<CsvRecord>): Promise<CsvRecord[]> => {
  const out: CsvRecord[] = [];
  for await (const record of records) out.push(record);
  return out;
};

/** Every way to cut `text` into two chunks, plus one chunk per character. */
const splits = (text: string): string[][] => [
  [text],
  [...text],
  ...Array.from({ length: text.length - 1 }, (_, i) => [text.slice(0, i + 1), text.slice(i + 1)]),
];

describe('readCsvRecords', () => {
  // A BOM where a record starts (a file whose BOM follows a line put before it, or two exports
  // joined) is not text of the record: kept, it made a quoted first field unquoted text.
  it('drops a byte order mark at the start of a record', async () => {
    const text = 'sep=,\r\n\uFEFF"a b",c\r\n\uFEFF1,2\r\nx,\uFEFFy\r\n';
    for (const chunks of splits(text))
      expect(await read(chunks), JSON.stringify(chunks)).toEqual([
        { fields: ['sep=', ''], line: 1 },
        { fields: ['a b', 'c'], line: 2 },
        { fields: ['1', '2'], line: 3 },
        { fields: ['x', '\uFEFFy'], line: 4 },
      ]);
  });

  it('reads plain records with their line numbers', async () => {
    expect(await read(['a,b,c\n1,2,3\n'])).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', '2', '3'], line: 2 },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks (RFC 4180)', async () => {
    const text =
      'id,note\r\n1,"Hello, ""world"""\r\n2,"two\r\nlines"\r\n3,"three\nmore\nlines",\r\n4,end';
    const expected = [
      { fields: ['id', 'note'], line: 1 },
      { fields: ['1', 'Hello, "world"'], line: 2 },
      { fields: ['2', 'two\r\nlines'], line: 3, endLine: 4 },
      { fields: ['3', 'three\nmore\nlines', ''], line: 5, endLine: 7 },
      { fields: ['4', 'end'], line: 8 },
    ];
    for (const chunks of splits(text)) expect(await read(chunks)).toEqual(expected);
  });

  it('accepts LF, CRLF and lone CR line ends and skips blank lines', async () => {
    expect(await read(['a\r\rb\n\nc\r\n'])).toEqual([
      { fields: ['a'], line: 1 },
      { fields: ['b'], line: 3 },
      { fields: ['c'], line: 5 },
    ]);
  });

  it('keeps empty fields and a quoted empty record', async () => {
    expect(await read([',,\n""\n'])).toEqual([
      { fields: ['', '', ''], line: 1 },
      { fields: [''], line: 2 },
    ]);
  });

  it('drops a UTF-8 byte order mark, also when the bytes are split', async () => {
    const bytes = new TextEncoder().encode('\uFEFFemail,é\n1,ü\n');
    expect(await read([bytes])).toEqual([
      { fields: ['email', 'é'], line: 1 },
      { fields: ['1', 'ü'], line: 2 },
    ]);
    const pieces = [...bytes].map((b) => Uint8Array.of(b));
    expect((await read(pieces))[0]?.fields).toEqual(['email', 'é']);
    expect((await read(['\uFEFFa,b']))[0]?.fields).toEqual(['a', 'b']);
  });

  it('reads another delimiter when told, commas then being text', async () => {
    const text = 'a;"b;c";d,e\r\n1;"2\n3";4,5\r\n';
    const expected = [
      { fields: ['a', 'b;c', 'd,e'], line: 1 },
      { fields: ['1', '2\n3', '4,5'], line: 2, endLine: 3 },
    ];
    for (const chunks of splits(text))
      expect(await readAll(readCsvRecords(chunks, { delimiter: ';' }))).toEqual(expected);
    expect(await readAll(readCsvRecords(['x\ty,z\n'], { delimiter: '\t' }))).toEqual([
      { fields: ['x', 'y,z'], line: 1 },
    ]);
  });

  it('decodes UTF-16 (little and big endian) announced by its byte order mark', async () => {
    const text = 'email\tfirst_name\r\na@example.com\tJürgen 정\r\n';
    const le = Buffer.from(`\uFEFF${text}`, 'utf16le');
    const be = Buffer.from(le).swap16();
    const expected = [
      { fields: ['email', 'first_name'], line: 1 },
      { fields: ['a@example.com', 'Jürgen 정'], line: 2 },
    ];
    for (const bytes of [le, be]) {
      const whole = [new Uint8Array(bytes)];
      const pieces = [...bytes].map((b) => Uint8Array.of(b));
      for (const chunks of [whole, pieces])
        expect(await readAll(readCsvRecords(chunks, { delimiter: '\t' }))).toEqual(expected);
    }
    // One byte alone is still read (as UTF-8).
    expect(await read([Uint8Array.of(0x61)])).toEqual([{ fields: ['a'], line: 1 }]);
  });

  it('reports broken quoting instead of guessing silently', async () => {
    expect(await read(['a,b"c\n'])).toEqual([
      { fields: ['a', 'b"c'], line: 1, error: 'a quote inside an unquoted field' },
    ]);
    expect(await read(['"a"x,b\n'])).toEqual([
      { fields: ['ax', 'b'], line: 1, error: 'text after a closing quote' },
    ]);
    expect(await read(['ok\n"never closed,\nstill\n'])).toEqual([
      { fields: ['ok'], line: 1 },
      {
        fields: ['never closed,\nstill\n'],
        line: 2,
        endLine: 4,
        error: 'a quoted field is not closed before the end of the file',
      },
    ]);
  });

  it('keeps no more than MAX_RECORD_LENGTH of a record a stray quote made of the lines after it', async () => {
    // A quote opens at line 3 and closes 50 000 lines on: one record, too long to keep, and the
    // records after it read where they are.
    const rows = Array.from({ length: 50_000 }, (_, i) => `r${i}@example.com,${i},x`);
    const text = `a,b,c\n1,2,3\n"stray,4,5\n${rows.join('\n')}"\n6,"7",8\n`;
    expect(text.length).toBeGreaterThan(MAX_RECORD_LENGTH);
    for (const chunks of [[text], text.match(/[\s\S]{1,65536}/g) as string[]]) {
      const records = await read(chunks);
      expect(records).toHaveLength(4);
      expect(records[2]).toEqual({
        fields: [],
        line: 3,
        endLine: 50_003,
        error: `the record is longer than ${MAX_RECORD_LENGTH} characters (its text is not kept)`,
      });
      expect(records[3]).toEqual({ fields: ['6', '7', '8'], line: 50_004 });
    }
    // Under the bound, the same record is read whole.
    const short = `"stray,4,5\n${rows.slice(0, 10).join('\n')}"\n6,7,8\n`;
    const [whole] = await read([short]);
    expect(whole?.fields[0]).toHaveLength(short.indexOf('"\n6') - 1);
  });

  it('streams a large input without holding it', async () => {
    const rows = 20_000;
    async function* generate() {
      yield 'n,text\n';
      for (let i = 0; i < rows; i++) yield `${i},"line ${i}, with a comma"\n`;
    }
    let count = 0;
    let last: CsvRecord | undefined;
    for await (const record of readCsvRecords(generate())) {
      count++;
      last = record;
    }
    expect(count).toBe(rows + 1);
    expect(last).toEqual({
      fields: [String(rows - 1), `line ${rows - 1}, with a comma`],
      line: rows + 1,
    });
  });
});

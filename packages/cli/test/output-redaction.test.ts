import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDACTED } from '@capi-kit/core';
import { describe, expect, it } from 'vitest';
import { textSnippet } from '../src/graph-request.js';
import { createOutputRedactor, withRedactedOutput } from '../src/output-redaction.js';
import type { OutputStream } from '../src/terminal.js';

const TOKEN = String.raw`EAAB.+*?^$(a)[b]{2}|\/~!'"&<c>=%41#zz`;

describe('createOutputRedactor', () => {
  const redact = createOutputRedactor({ META_ACCESS_TOKEN: `  ${TOKEN}\n` });

  it.each([
    ['raw', TOKEN],
    ['URL-encoded', encodeURIComponent(TOKEN)],
    ['form-encoded', new URLSearchParams({ t: TOKEN }).toString().slice(2)],
    ['JSON-escaped', JSON.stringify(TOKEN).slice(1, -1)],
    [
      'HTML-escaped',
      TOKEN.replaceAll('&', '&amp;')
        .replaceAll('<', '&lt;')
        .replaceAll('>', '&gt;')
        .replaceAll('"', '&quot;')
        .replaceAll("'", '&#39;'),
    ],
  ])(
    'replaces the %s spelling of the (trimmed) token and keeps the text around it',
    (_, spelling) => {
      expect(redact(`Malformed access token ${spelling} (#190)`)).toBe(
        `Malformed access token ${REDACTED} (#190)`,
      );
    },
  );

  it('redacts TIKTOK_ACCESS_TOKEN in every spelling too, beside META_ACCESS_TOKEN', () => {
    const tiktok = String.raw`tt.+*?^$(x)[y]|\/&<z>="%41'`;
    const both = createOutputRedactor({
      META_ACCESS_TOKEN: TOKEN,
      TIKTOK_ACCESS_TOKEN: `${tiktok}\n`,
    });
    for (const spelling of [
      tiktok,
      encodeURIComponent(tiktok),
      new URLSearchParams({ t: tiktok }).toString().slice(2),
      JSON.stringify(tiktok).slice(1, -1),
      tiktok
        .replaceAll('&', '&amp;')
        .replaceAll('<', '&lt;')
        .replaceAll('>', '&gt;')
        .replaceAll('"', '&quot;')
        .replaceAll("'", '&#39;'),
    ]) {
      expect(both(`code 40105: token ${spelling} refused; meta ${TOKEN}`)).toBe(
        `code 40105: token ${REDACTED} refused; meta ${REDACTED}`,
      );
    }
  });

  it('keeps JSON valid when it redacts a JSON document', () => {
    const json = JSON.stringify({ message: `Malformed access token ${TOKEN}`, code: 190 });
    expect(JSON.parse(redact(json))).toEqual({
      message: `Malformed access token ${REDACTED}`,
      code: 190,
    });
  });

  it('catches token-shaped text even when META_ACCESS_TOKEN is another one or unset', () => {
    const none = createOutputRedactor({});
    expect(none('GET /me?access_token=EAABother123&fields=id')).toBe(
      `GET /me?access_token=${REDACTED}&fields=id`,
    );
    expect(none('Authorization: Bearer EAABotherOther0123456789')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
  });

  it('leaves a very short token to the shapes, so "dev" does not shred "devices"', () => {
    const short = createOutputRedactor({ META_ACCESS_TOKEN: 'dev' });
    expect(short('2 devices; access_token=dev')).toBe(`2 devices; access_token=${REDACTED}`);
  });
});

describe('withRedactedOutput', () => {
  it('redacts every write and passes the terminal’s isTTY and width through', () => {
    const written: string[] = [];
    const tty: OutputStream = { write: (c: string) => written.push(c), isTTY: true, columns: 80 };
    const io = withRedactedOutput({
      stdout: tty,
      stderr: tty,
      env: { META_ACCESS_TOKEN: TOKEN },
      cwd: '/',
    });
    io.stdout.write(`a ${TOKEN}\n`);
    io.stderr.write(`\r${encodeURIComponent(TOKEN)}\u001b[K`);
    expect(written).toEqual([`a ${REDACTED}\n`, `\r${REDACTED}\u001b[K`]);
    expect(io.stderr.isTTY).toBe(true);
    tty.columns = 120;
    expect(io.stderr.columns).toBe(120);
  });
});

describe('textSnippet', () => {
  it('puts a page on one line and cuts it between words', () => {
    const page = `<html>\n  <title>502 Bad Gateway</title>\n${'word '.repeat(100)}</html>`;
    const snippet = textSnippet(page);
    expect(snippet.startsWith('<html> <title>502 Bad Gateway</title> word word')).toBe(true);
    expect(snippet.endsWith(' …')).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(202);
    expect(
      snippet
        .split(' ')
        .slice(4, -1)
        .every((w) => w === 'word'),
    ).toBe(true);
  });

  it('never cuts a token in half, so the output redaction still sees it whole', () => {
    expect(textSnippet(`${'x '.repeat(60)}${TOKEN} ${'y '.repeat(50)}`)).toContain(TOKEN);
    // Where the token would cross the limit it is left out whole, not cut after "EAAB.+".
    expect(textSnippet(`${'x '.repeat(90)}${TOKEN} ${'y '.repeat(50)}`)).not.toContain('EAAB');
  });
});

describe('the one path', () => {
  const SRC = fileURLToPath(new URL('../src/', import.meta.url));
  const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: f.replaceAll('\\', '/'), text: readFileSync(join(SRC, f), 'utf8') }));

  it('is the only use of a redactor, and commands never write to the process streams directly', () => {
    expect(sources.length).toBeGreaterThan(10);
    const redactors = sources.filter((s) => /createRedactor|createOutputRedactor/.test(s.text));
    expect(redactors.map((s) => s.file).sort()).toEqual(['bin.ts', 'output-redaction.ts']);
    // bin.ts hands the process streams to runCli (which wraps them) and redacts its last resort.
    const direct = sources.filter(
      (s) => s.file !== 'bin.ts' && /process\.std(out|err)\.write|console\./.test(s.text),
    );
    expect(direct.map((s) => s.file)).toEqual([]);
  });

  it('words every Graph error the CLI prints in one module', () => {
    // Meta's fields read anywhere else would be a second wording, as doctor once had.
    const wording = sources.filter((s) =>
      /error_user_(msg|title)|error_subcode|\.userMessage|\.userTitle/.test(s.text),
    );
    expect(wording.map((s) => s.file)).toEqual(['graph-request.ts']);
  });
});

import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../src/progress-bar.js';
import { colorsEnabled, createStyle } from '../src/terminal.js';

const tty = { write: () => true, isTTY: true };
const pipe = { write: () => true, isTTY: false };

describe('colors', () => {
  it('are used on a TTY only, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(colorsEnabled(tty, {})).toBe(true);
    expect(colorsEnabled(pipe, {})).toBe(false);
    expect(colorsEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorsEnabled(tty, { NO_COLOR: '' })).toBe(true); // no-color.org: only when non-empty
    expect(colorsEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorsEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorsEnabled(tty, { FORCE_COLOR: '0', NO_COLOR: '1' })).toBe(false);
    expect(createStyle(tty, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(createStyle(pipe, {}).red('x')).toBe('x');
  });
});

describe('ProgressBar', () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { stream: { write: (c: string) => chunks.push(c), isTTY, columns: 100 }, chunks };
  };

  it('draws in place on a TTY, at most every 100 ms unless forced', () => {
    const { stream, chunks } = capture(true);
    let t = 0;
    const bar = new ProgressBar(stream, createStyle(stream, { NO_COLOR: '1' }), 200, () => t);
    bar.update(50, '1 batch');
    bar.update(60); // too soon
    t = 150;
    bar.update(100, '2 batches');
    bar.update(200, 'done', true);
    bar.finish();
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toBe(`\r${'█'.repeat(10)}${'░'.repeat(30)}  25% 50/200  1 batch\u001b[K`);
    expect(chunks[2]).toContain('100% 200/200');
    expect(chunks[3]).toBe('\r\u001b[K');
  });

  it('prints nothing when the stream is not a terminal', () => {
    const { stream, chunks } = capture(false);
    const bar = new ProgressBar(stream, createStyle(stream, {}), 10);
    bar.update(5, '', true);
    bar.finish();
    expect(chunks).toEqual([]);
  });
});

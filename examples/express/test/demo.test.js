// @ts-check
// `npm run demo` as a user runs it, without credentials: the scripted visit on the embedded mock,
// which plays Meta and TikTok, and a report that shows each event's copies on both platforms with
// one event_id. `--keep` leaves the Events Manager page up until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cwd = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts the demo with no META_* or TIKTOK_* variables (only PATH), as from a fresh clone, or with
 * the ones given.
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 */
function startDemo(args = [], env = {}) {
  const child = spawn(process.execPath, ['src/demo.js', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  exited.finally(() => clearTimeout(timer));
  return { child, exited, output: () => output };
}

/**
 * The report's blocks: an event's name and event_id, then one line per platform's copy.
 * @param {string} report
 */
function blocksOf(report) {
  const section = report.split('What Meta and TikTok received, by event_id')[1] ?? '';
  /** @type {{ event: string, id: string, copies: Record<string, string> }[]} */
  const blocks = [];
  for (const line of section.split('\n').slice(1)) {
    const head = /^ {2}(\w+) {2}(\S+)/.exec(line);
    const copy = /^ {4}(Meta|TikTok) +(\S+) +(.*)$/.exec(line);
    if (head) blocks.push({ event: head[1] ?? '', id: head[2] ?? '', copies: {} });
    else if (copy && blocks.length > 0) {
      const block = blocks[blocks.length - 1];
      if (block) block.copies[copy[1] ?? ''] = `${copy[2]} ${copy[3]}`;
    } else if (!line.startsWith('    ')) break;
  }
  return blocks;
}

describe('npm run demo', () => {
  it("reports each event's Meta and TikTok copies with one event_id, TikTok's names mapped", async () => {
    const demo = startDemo();
    expect(await demo.exited).toBe(0);
    const report = demo.output();
    expect(report).toContain('→ Meta and TikTok, both played by the mock at http://127.0.0.1:');
    expect(report).toMatch(/GET {2}\/\?fbclid=…&ttclid=… 200 {2}cookies set: _fbp, _fbc, ttclid;/);

    const blocks = blocksOf(report);
    expect(blocks.map((b) => b.event)).toEqual(['PageView', 'Lead', 'Purchase']);
    const [pageView, lead, purchase] = blocks;
    // The page's and the server's PageView: one id, on both platforms, each with its Pixel's copy.
    expect(report).toContain(`fire PageView with eventID ${pageView?.id}`);
    expect(pageView?.copies).toEqual({
      Meta: expect.stringMatching(/^PageView server \+ Pixel +keys: /),
      TikTok: expect.stringMatching(/^PageView server \+ Pixel +keys: ttclid /),
    });
    expect(lead?.copies).toEqual({
      Meta: expect.stringMatching(/^Lead server \+ relay \+ Pixel +keys: em ph /),
      // Meta's Lead is TikTok's Lead too: the app's, the relay's copy and the TikTok Pixel's.
      TikTok: expect.stringMatching(
        /^Lead server \+ relay \+ Pixel +keys: email phone ttclid ttp /,
      ),
    });
    expect(purchase?.id).toBe('purchase-ORD-1001');
    expect(purchase?.copies).toEqual({
      Meta: expect.stringMatching(/^Purchase server ×2 \+ Pixel .* value 49\.9 GBP$/),
      TikTok: expect.stringMatching(/^Purchase server ×2 \+ Pixel .* value 49\.9 GBP$/),
    });
    expect(report).toContain(
      'client stats: Meta sent 5, queued 0, dead-lettered 0; TikTok sent 5, queued 0, dead-lettered 0',
    );
    expect(report).not.toContain('demo-tiktok-access-token');
    expect(report).not.toContain('demo-access-token');
  });

  it('with credentials capi-kit refuses: one line naming the variable, exit 2, no stack trace', async () => {
    // The token pasted into META_PIXEL_ID: never echoed, and nothing is sent anywhere.
    const demo = startDemo([], {
      META_PIXEL_ID: 'EAAB-not-a-pixel-id',
      META_ACCESS_TOKEN: 'a-token',
    });
    const code = await demo.exited;
    const lines = demo
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect({ code, lines }).toEqual({
      code: 2,
      lines: [expect.stringContaining('pixelId must be the numeric pixel (dataset) id')],
    });
    expect(lines[0]).toContain('META_PIXEL_ID');
    expect(lines[0]).toContain('npm run demo');
    expect(demo.output()).not.toContain('EAAB-not-a-pixel-id');
  });

  it('--keep keeps the Events Manager page up until SIGINT, then exits 0', async () => {
    const demo = startDemo(['--keep']);
    await expect
      .poll(() => /Still running \(--keep\)/.test(demo.output()), { timeout: 20_000 })
      .toBe(true);
    const page = /Events Manager: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.output())?.[1] ?? '';
    const res = await fetch(page, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<html/i);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});

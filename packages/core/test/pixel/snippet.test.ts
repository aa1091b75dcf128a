import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { pixelSnippet, toInlineJson } from '../../src/pixel/index.js';

/** Runs the snippet's script in a fake browser and returns the fbq calls and loaded script URLs. */
function execute(html: string, preexisting?: (...args: unknown[]) => void) {
  const script = /<script[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error('no script element');
  const loaded: string[] = [];
  const calls: unknown[][] = [];
  const window: Record<string, unknown> = {};
  if (preexisting) window.fbq = preexisting;
  const document = {
    createElement: () => ({}) as { src?: string },
    getElementsByTagName: () => [],
    head: { appendChild: (el: { src: string }) => loaded.push(el.src) },
  };
  runInNewContext(script, { window, document });
  const fbq = window.fbq as { queue?: IArguments[] };
  for (const args of fbq.queue ?? []) calls.push(Array.from(args));
  return { calls, loaded, window };
}

describe('pixelSnippet', () => {
  it('fires each event with the server event_id as eventID', () => {
    const html = pixelSnippet({
      pixelId: '1234567890',
      scriptUrl: 'http://127.0.0.1:4000/fbevents.js',
      events: [
        { event_name: 'PageView', event_id: 'pv-1' },
        {
          event_name: 'Purchase',
          event_id: 'order-9',
          custom_data: { value: 10, currency: 'EUR' },
        },
        { event_name: 'NewsletterOpen', event_id: 'c-1' },
      ],
    });
    const { calls, loaded } = execute(html);
    expect(loaded).toEqual(['http://127.0.0.1:4000/fbevents.js']);
    expect(calls).toEqual([
      ['init', '1234567890'],
      ['track', 'PageView', {}, { eventID: 'pv-1' }],
      ['track', 'Purchase', { value: 10, currency: 'EUR' }, { eventID: 'order-9' }],
      ['trackCustom', 'NewsletterOpen', {}, { eventID: 'c-1' }],
    ]);
    expect(html).toContain('eid=pv-1');
  });

  it('reuses an fbq already on the page instead of loading the library twice', () => {
    const seen: unknown[][] = [];
    const { loaded } = execute(
      pixelSnippet({ pixelId: '1', events: [{ event_name: 'Lead', event_id: 'x' }] }),
      (...args) => seen.push(args),
    );
    expect(loaded).toEqual([]);
    expect(seen).toEqual([
      ['init', '1'],
      ['track', 'Lead', {}, { eventID: 'x' }],
    ]);
  });

  it('cannot be broken out of by event data', () => {
    const evil = '</script><script>alert(1)</script><!--';
    const html = pixelSnippet({
      pixelId: '1',
      events: [{ event_name: evil, event_id: evil, custom_data: { content_name: evil } }],
      noscript: false,
    });
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).not.toContain('<!--');
    const { calls } = execute(html);
    expect(calls[1]).toEqual(['trackCustom', evil, { content_name: evil }, { eventID: evil }]);
  });

  it('adds a CSP nonce and rejects values that could break the attribute', () => {
    expect(pixelSnippet({ pixelId: '1', nonce: 'abc123+/=' })).toMatch(
      /^<script nonce="abc123\+\/=">/,
    );
    expect(() => pixelSnippet({ pixelId: '1', nonce: '"><img>' })).toThrow(/nonce/);
    expect(() => pixelSnippet({ pixelId: '12a' })).toThrow(/pixelId/);
  });

  it("refuses an event without event_name or event_id (the Pixel's spellings from JavaScript), naming the fix", () => {
    // Rendered fbq('trackCustom', null, {}, {}) before: no eventID, so the Pixel's copy was never
    // deduplicated with the server's and the conversion counted twice, silently.
    const pixel = (events: unknown) => () =>
      pixelSnippet({ pixelId: '1234567890', events } as Parameters<typeof pixelSnippet>[0]);
    expect(pixel([{ eventName: 'PageView', eventID: 'pv-1' }])).toThrow(
      "pixelSnippet: events[0].event_name must be a non-empty string (the snippet takes the server event's names, event_name and event_id, not the Pixel's eventName/eventID)",
    );
    expect(
      pixel([
        { event_name: 'Lead', event_id: 'l-1' },
        { event_name: 'PageView', eventID: 'pv-1' },
      ]),
    ).toThrow(
      /^pixelSnippet: events\[1\]\.event_id must be the server event's event_id, a string, .* not the Pixel's eventName\/eventID\)$/,
    );
    expect(pixel([{ event_name: 'PageView' }])).toThrow(/events\[0\]\.event_id must be/);
    expect(pixel(['PageView'])).toThrow(
      'pixelSnippet: events[0] must be an object { event_name, event_id }',
    );
    expect(pixel({ event_name: 'PageView', event_id: 'x' })).toThrow(/events must be an array/);
    // What rendered before still does: an empty ID (what a reported strict-mode rejection answers) and a number.
    expect(execute(pixel([{ event_name: 'PageView', event_id: '' }])()).calls[1]).toEqual([
      'track',
      'PageView',
      {},
      { eventID: '' },
    ]);
    expect(pixel([{ event_name: 'Purchase', event_id: 42 }])).not.toThrow();
  });

  it('escapes line separators and angle brackets in inline JSON', () => {
    expect(toInlineJson('a\u2028b<c>&')).toBe('"a\\u2028b\\u003cc\\u003e\\u0026"');
    expect(JSON.parse(toInlineJson({ x: '</script>' }))).toEqual({ x: '</script>' });
  });
});

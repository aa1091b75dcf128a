// @ts-check
// The TIKTOK_* variables read once for every example, and the TikTok Pixel base code the landing
// page renders, run here in a bare script context (the Chromium tests run it in a browser).
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIKTOK_PIXEL_SCRIPT_URL,
  destinationsFromEnv,
  landingPage,
  missingEnvMessage,
  missingTikTokVariable,
  tiktokPixelFromEnv,
  tiktokPixelSnippet,
} from '../src/index.js';

const META = { META_PIXEL_ID: '1', META_ACCESS_TOKEN: 'meta-token' };
const TIKTOK = { TIKTOK_PIXEL_CODE: 'C4ABCDEF', TIKTOK_ACCESS_TOKEN: 'tiktok-token' };

describe('destinationsFromEnv', () => {
  it('is empty without TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN, whatever else is set', () => {
    expect(destinationsFromEnv(META)).toEqual([]);
    expect(
      destinationsFromEnv({
        ...META,
        TIKTOK_PIXEL_CODE: ' ',
        TIKTOK_ACCESS_TOKEN: '',
        TIKTOK_EVENTS_URL: 'http://127.0.0.1:4000/open_api/v1.3/event/track/',
        TIKTOK_TEST_EVENT_CODE: 'TEST1',
        TIKTOK_PIXEL_SCRIPT_URL: 'http://127.0.0.1:4000/i18n/pixel/events.js',
      }),
    ).toEqual([]);
  });

  it('is one tiktok() destination with both, sending to TIKTOK_EVENTS_URL with the test code', () => {
    const [destination, ...more] = destinationsFromEnv({
      ...TIKTOK,
      TIKTOK_EVENTS_URL: 'http://127.0.0.1:4000/open_api/v1.3/event/track/',
      TIKTOK_TEST_EVENT_CODE: 'TEST1',
    });
    expect(more).toEqual([]);
    expect(destination).toMatchObject({ name: 'tiktok', id: 'C4ABCDEF' });
    const envelope = destination?.envelope();
    expect(envelope?.url).toBe('http://127.0.0.1:4000/open_api/v1.3/event/track/');
    expect(envelope?.headers).toMatchObject({ 'access-token': 'tiktok-token' });
    expect(envelope?.prefix).toContain('"test_event_code":"TEST1"');
    // Without TIKTOK_EVENTS_URL, TikTok's own endpoint.
    expect(destinationsFromEnv(TIKTOK)[0]?.envelope().url).toBe(
      'https://business-api.tiktok.com/open_api/v1.3/event/track/',
    );
  });

  it('refuses half a TikTok configuration, naming the missing variable and never the token', () => {
    expect(missingTikTokVariable({ TIKTOK_PIXEL_CODE: 'C4ABCDEF' })).toBe('TIKTOK_ACCESS_TOKEN');
    expect(missingTikTokVariable({ TIKTOK_ACCESS_TOKEN: 'tiktok-token' })).toBe(
      'TIKTOK_PIXEL_CODE',
    );
    expect(missingTikTokVariable({})).toBe(undefined);
    expect(() => destinationsFromEnv({ TIKTOK_PIXEL_CODE: 'C4ABCDEF' })).toThrow(
      'TIKTOK_ACCESS_TOKEN is not set',
    );
    const error = catchError(() => destinationsFromEnv({ TIKTOK_ACCESS_TOKEN: 'tiktok-token' }));
    expect(String(error)).toContain('TIKTOK_PIXEL_CODE is not set');
    expect(String(error)).not.toContain('tiktok-token');
  });
});

describe('missingEnvMessage with TikTok', () => {
  it("keeps Meta's line first, then names the missing half of TikTok's pair in one line", () => {
    expect(missingEnvMessage({ ...META, ...TIKTOK }, 'Express')).toBe(undefined);
    expect(missingEnvMessage({ TIKTOK_PIXEL_CODE: 'C4ABCDEF' }, 'Express')).toMatch(
      /^capi-kit Express example: META_PIXEL_ID and META_ACCESS_TOKEN are not set\. /,
    );
    const message =
      missingEnvMessage({ ...META, TIKTOK_ACCESS_TOKEN: 'tiktok-token' }, 'Fastify') ?? '';
    expect(message).toMatch(
      /^capi-kit Fastify example: TIKTOK_ACCESS_TOKEN is set but TIKTOK_PIXEL_CODE is not\. /,
    );
    expect(message).toContain('npx capi-kit-mock');
    expect(message).not.toContain('tiktok-token');
    expect(message).not.toContain('\n');
  });
});

describe('tiktokPixelFromEnv', () => {
  it('is the pixel code and TIKTOK_PIXEL_SCRIPT_URL when TikTok is configured, else undefined', () => {
    expect(tiktokPixelFromEnv(META)).toBe(undefined);
    expect(tiktokPixelFromEnv({ TIKTOK_PIXEL_CODE: 'C4ABCDEF' })).toBe(undefined);
    expect(tiktokPixelFromEnv(TIKTOK)).toEqual({ pixelCode: 'C4ABCDEF' });
    expect(
      tiktokPixelFromEnv({ ...TIKTOK, TIKTOK_PIXEL_SCRIPT_URL: 'http://127.0.0.1:4000/x.js' }),
    ).toEqual({ pixelCode: 'C4ABCDEF', scriptUrl: 'http://127.0.0.1:4000/x.js' });
  });
});

/**
 * Runs the inline scripts of `html` against a bare window and document: what the page queued on
 * `ttq` (for events.js to replay), and the scripts it added.
 * @param {string} html
 * @param {Record<string, unknown>} [globals] what the page already had (a tag manager's ttq)
 */
function runPage(html, globals = {}) {
  /** @type {string[]} */
  const added = [];
  const element = () => ({ src: '', async: false });
  const document = {
    createElement: element,
    head: { appendChild: (/** @type {{ src: string }} */ s) => added.push(s.src) },
    getElementsByTagName: () => [],
    getElementById: () => ({ addEventListener() {} }),
  };
  /** @type {Record<string, unknown>} */
  const window = { ...globals };
  window.window = window;
  window.document = document;
  for (const [, script] of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
    runInNewContext(script ?? '', window);
  }
  const ttq = /** @type {unknown[] & { _i?: Record<string, unknown> }} */ (window.ttq);
  return { window, added, calls: JSON.parse(JSON.stringify([...(ttq ?? [])])) };
}

describe('the TikTok Pixel on the landing page', () => {
  it('is not there when TikTok is not configured', () => {
    const { window, added } = runPage(
      landingPage({ pixelId: '1', eventId: 'e-1', framework: 'X' }),
    );
    expect(window.ttq).toBe(undefined);
    expect(added).toEqual(['https://connect.facebook.net/en_US/fbevents.js']);
  });

  it("loads events.js for the pixel code, then queues TikTok's page event and PageView with the server's event ID", () => {
    const html = landingPage({
      pixelId: '1',
      eventId: 'e-1',
      framework: 'X',
      tiktok: { pixelCode: 'C4ABCDEF', scriptUrl: 'http://127.0.0.1:4000/i18n/pixel/events.js' },
    });
    const { window, added, calls } = runPage(html);
    expect(window.TiktokAnalyticsObject).toBe('ttq');
    expect(added).toContain('http://127.0.0.1:4000/i18n/pixel/events.js?sdkid=C4ABCDEF&lib=ttq');
    expect(calls).toEqual([['page'], ['track', 'PageView', {}, { event_id: 'e-1' }]]);
  });

  it("loads TikTok's events.js by default, once per pixel code, and keeps a ttq the page already has", () => {
    const snippet = tiktokPixelSnippet({
      pixelCode: 'C4ABCDEF',
      events: [{ event: 'SubmitForm', properties: {}, event_id: 'lead-1' }],
    });
    const twice = runPage(`${snippet}${snippet}`);
    expect(twice.added).toEqual([`${DEFAULT_TIKTOK_PIXEL_SCRIPT_URL}?sdkid=C4ABCDEF&lib=ttq`]);
    expect(twice.calls.filter((/** @type {unknown[]} */ c) => c[0] === 'page')).toHaveLength(1);

    // A tag manager's base code loaded this pixel already: nothing is loaded again.
    const own = Object.assign([], {
      _i: { C4ABCDEF: [] },
      track: (/** @type {unknown[]} */ ...args) => tracked.push(args),
    });
    /** @type {unknown[][]} */
    const tracked = [];
    const kept = runPage(snippet, { ttq: own });
    expect(kept.window.ttq).toBe(own);
    expect(kept.added).toEqual([]);
    expect(tracked).toEqual([['SubmitForm', {}, { event_id: 'lead-1' }]]);
  });

  it('keeps hostile text inside its script', () => {
    const html = tiktokPixelSnippet({
      pixelCode: 'C4ABCDEF',
      events: [{ event: '</script><script>alert(1)</script>', properties: {}, event_id: 'x' }],
    });
    expect(html.match(/<\/script>/g)).toHaveLength(1);
  });
});

/** @param {() => unknown} run */
function catchError(run) {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

import { STANDARD_EVENTS } from '../event/standard-events.js';

/** Meta's hosted Pixel library, loaded by the snippet unless `scriptUrl` overrides it. */
export const DEFAULT_PIXEL_SCRIPT_URL = 'https://connect.facebook.net/en_US/fbevents.js';

/** One browser Pixel event; `event_id` must equal the server event's so Meta counts the pair once. */
export interface PixelEvent {
  /** Meta event name, identical to the server event's `event_name` (Meta dedups on name + id). */
  event_name: string;
  /** The server event's `event_id`, passed to the Pixel as `eventID`. */
  event_id: string;
  /** Parameters for the Pixel call (`value`, `currency`, `content_ids`…). */
  custom_data?: Record<string, unknown> | undefined;
}

/** Options of {@link pixelSnippet}. */
export interface PixelSnippetOptions {
  /** The Pixel (dataset) ID: digits only. */
  pixelId: string;
  /** Events to fire on load, each with the server's `event_id`. */
  events?: readonly PixelEvent[];
  /** CSP nonce for the inline `<script>`. */
  nonce?: string;
  /** Overrides the fbevents.js URL, e.g. a local stub in offline tests. */
  scriptUrl?: string;
  /** Adds the `<noscript>` image fallback for the first PageView (default true). */
  noscript?: boolean;
}

// Standard events go through fbq('track'); anything else must use fbq('trackCustom') or the
// Pixel logs a warning and Meta files it as custom anyway. https://developers.facebook.com/docs/meta-pixel/reference
const STANDARD_PIXEL_EVENTS: ReadonlySet<string> = new Set(STANDARD_EVENTS);

const UNSAFE_IN_SCRIPT = /[<>&\u2028\u2029]/g;

/**
 * JSON that is safe inside an inline `<script>`: `<`, `>` and `&` are escaped so a value can never
 * close the script element or open a comment, and U+2028/2029 so old parsers don't break.
 */
export const toInlineJson = (value: unknown): string =>
  (JSON.stringify(value) ?? 'null').replace(
    UNSAFE_IN_SCRIPT,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const escapeAttribute = (value: string): string =>
  value.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * From JavaScript, an event spelled as the Pixel spells it (`{ eventName, eventID }`, copied from an
 * `fbq('track', …, { eventID })` call) or missing its `event_id` rendered `fbq('trackCustom', null)`
 * or a call without `eventID`: the Pixel's copy was never deduplicated with the server's, so the
 * conversion counted twice, silently. Refused, naming the fix (never the values).
 */
const checkPixelEvent = (event: PixelEvent, index: number): void => {
  const given = event as unknown as Record<string, unknown> | null;
  const at = `pixelSnippet: events[${index}]`;
  if (typeof given !== 'object' || given === null) {
    throw new TypeError(`${at} must be an object { event_name, event_id }`);
  }
  const spelling =
    'eventName' in given || 'eventID' in given || 'eventId' in given
      ? " (the snippet takes the server event's names, event_name and event_id, not the Pixel's eventName/eventID)"
      : '';
  if (typeof given.event_name !== 'string' || given.event_name === '') {
    throw new TypeError(`${at}.event_name must be a non-empty string${spelling}`);
  }
  // '' is let through (an adapter's track() answers it when a strict-mode rejection was reported):
  // the page still renders. A number (an order number) renders as before.
  if (typeof given.event_id !== 'string' && typeof given.event_id !== 'number') {
    throw new TypeError(
      `${at}.event_id must be the server event's event_id, a string, so Meta counts the Pixel and server copies once${spelling}`,
    );
  }
};

/**
 * The Meta Pixel base code for a server-rendered page, firing each event with `eventID` equal to
 * the server's `event_id` so Meta deduplicates the browser and server copies.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 * @example res.send(`<head>${pixelSnippet({ pixelId, events: [{ event_name: 'PageView', event_id }] })}</head>`)
 */
export function pixelSnippet(options: PixelSnippetOptions): string {
  const { pixelId, events = [], nonce, scriptUrl = DEFAULT_PIXEL_SCRIPT_URL } = options;
  if (!/^\d{1,32}$/.test(pixelId)) throw new TypeError('pixelSnippet: pixelId must be digits only');
  if (nonce !== undefined && !/^[A-Za-z0-9+/=_-]+$/.test(nonce)) {
    throw new TypeError('pixelSnippet: nonce must be a base64 value');
  }
  if (!Array.isArray(events)) {
    throw new TypeError('pixelSnippet: events must be an array of { event_name, event_id }');
  }
  events.forEach(checkPixelEvent);
  const calls = events.map((e) => {
    const method = STANDARD_PIXEL_EVENTS.has(e.event_name) ? 'track' : 'trackCustom';
    return `f(${toInlineJson(method)},${toInlineJson(e.event_name)},${toInlineJson(
      e.custom_data ?? {},
    )},${toInlineJson({ eventID: e.event_id })});`;
  });
  // The queue stub mirrors what fbevents.js expects: calls made before the library loads are kept
  // in `fbq.queue` and replayed by it. Loading is async so the page never waits for Meta.
  const body =
    `!function(w,d,u){if(w.fbq)return;var n=w.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};` +
    `if(!w._fbq)w._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];` +
    `var s=d.createElement('script');s.async=!0;s.src=u;var f=d.getElementsByTagName('script')[0];` +
    `f&&f.parentNode?f.parentNode.insertBefore(s,f):d.head.appendChild(s)}(window,document,${toInlineJson(scriptUrl)});` +
    `(function(f){f('init',${toInlineJson(pixelId)});${calls.join('')}})(window.fbq);`;
  const nonceAttr = nonce === undefined ? '' : ` nonce="${escapeAttribute(nonce)}"`;
  const pageView = events.find((e) => e.event_name === 'PageView');
  const noscript =
    options.noscript !== false && pageView
      ? `<noscript><img height="1" width="1" style="display:none" alt="" src="https://www.facebook.com/tr?id=${encodeURIComponent(
          pixelId,
        )}&amp;ev=PageView&amp;eid=${encodeURIComponent(pageView.event_id)}&amp;noscript=1"/></noscript>`
      : '';
  return `<script${nonceAttr}>${body}</script>${noscript}`;
}

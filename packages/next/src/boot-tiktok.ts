/** What {@link bootTikTok} needs, short keys because it is inlined into every page. */
export interface TikTokBootConfig {
  /** TikTok pixel code. */
  code: string;
  /** events.js URL, without its query. */
  src: string;
  /** Meta → TikTok event-name overrides, kept for `trackPixel`'s TikTok copies. */
  names?: Readonly<Record<string, string>> | undefined;
  /** Events to fire once each, already in TikTok's names and properties, with their event ID. */
  ev: { name: string; data: Record<string, unknown>; id: string }[];
}

/** Per-page state shared by the inline script, the client component and `trackPixel`. */
export interface TikTokRegistry {
  /** Pixel codes set up on this page. */
  codes: string[];
  /** Event IDs already fired on the TikTok Pixel. */
  fired: Record<string, 1>;
  /** Event-name overrides of the last `<TikTokPixel/>`. */
  names?: Readonly<Record<string, string>> | undefined;
}

/** TikTok's `ttq`: the base code's array queue until events.js loads and takes it over. */
interface Ttq extends Array<unknown> {
  [method: string]: unknown;
  methods: string[];
  setAndDefer: (target: Ttq, method: string) => void;
  instance: (code: string) => Ttq;
  load: (code: string, options?: Record<string, unknown>) => void;
  page: (...args: unknown[]) => void;
  track: (...args: unknown[]) => void;
  _i?: Record<string, Ttq & { _u?: string }>;
  _t?: Record<string, number>;
  _o?: Record<string, Record<string, unknown>>;
}

/** The page globals the TikTok Pixel uses. */
export interface TikTokWindow {
  ttq?: Ttq;
  TiktokAnalyticsObject?: string;
  __capiKitTikTok?: TikTokRegistry;
}

/**
 * Installs TikTok's Pixel base code once per page, loads each pixel code once (with the base
 * code's `ttq.page()`), and fires each event once per event ID as
 * `ttq.track(event, properties, { event_id })`, the call TikTok deduplicates against the Events API
 * copy with the same `event` and `event_id` (https://ads.tiktok.com/help/article/event-deduplication).
 * The base code's shape is what events.js expects to take over: `window.TiktokAnalyticsObject`
 * naming the global, `ttq` an array queue whose methods push `[method, ...args]`, `ttq.instance`,
 * and `ttq.load(code)` recording the code in `ttq._i`/`_t`/`_o` and adding
 * `events.js?sdkid=<code>&lib=ttq` (TikTok's GTM template, https://github.com/tiktok/gtm-template-pixel,
 * and the base code TikTok's Events Manager hands out). Serialised with
 * `Function.prototype.toString` like `bootPixel`: nothing outside its own body.
 */
export function bootTikTok(c: TikTokBootConfig): void {
  const w = window as unknown as TikTokWindow;
  w.__capiKitTikTok ??= { codes: [], fired: {} };
  const registry = w.__capiKitTikTok;
  let ttq = w.ttq;
  if (!ttq) {
    w.TiktokAnalyticsObject = 'ttq';
    const queue = [] as unknown as Ttq;
    queue.methods = [
      'page',
      'track',
      'identify',
      'instances',
      'debug',
      'on',
      'off',
      'once',
      'ready',
      'alias',
      'group',
      'enableCookie',
      'disableCookie',
      'holdConsent',
      'revokeConsent',
      'grantConsent',
    ];
    queue.setAndDefer = (target, method) => {
      target[method] = (...args: unknown[]) => {
        target.push([method, ...args]);
      };
    };
    for (const method of queue.methods) queue.setAndDefer(queue, method);
    queue.instance = (code) => {
      const instance = queue._i?.[code] ?? ([] as unknown as Ttq);
      for (const method of queue.methods) queue.setAndDefer(instance, method);
      return instance;
    };
    queue.load = (code, options) => {
      queue._i ??= {};
      queue._i[code] = Object.assign([] as unknown as Ttq, { _u: c.src });
      queue._t ??= {};
      queue._t[code] = Date.now();
      queue._o ??= {};
      queue._o[code] = options ?? {};
      const script = document.createElement('script');
      script.type = 'text/javascript';
      script.async = true;
      script.src = `${c.src}?sdkid=${encodeURIComponent(code)}&lib=ttq`;
      (document.head || document.documentElement).appendChild(script);
    };
    w.ttq = queue;
    ttq = queue;
  }
  if (!registry.codes.includes(c.code)) {
    registry.codes.push(c.code);
    // A page whose own base code already loaded this pixel keeps it: loading twice double-counts.
    if (!ttq._i?.[c.code]) {
      ttq.load(c.code);
      ttq.page();
    }
  }
  if (c.names) registry.names = c.names;
  for (const e of c.ev) {
    if (registry.fired[e.id]) continue;
    registry.fired[e.id] = 1;
    ttq.track(e.name, e.data, { event_id: e.id });
  }
}

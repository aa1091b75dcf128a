import { createHash } from 'node:crypto';

// The Events Manager page the mock serves at `/` to a browser: plain HTML, one inline style and
// one inline script, no framework, no build step, nothing fetched from another origin. It reads
// `GET /_mock/events-manager` (events-manager-view.ts) and refetches whenever
// `GET /_mock/stream` (Server-Sent Events) says something changed. Every recorded value is
// attacker-controlled (event names, custom_data, ids), so the script only ever sets textContent
// and attributes, never HTML, and the CSP allows nothing but these two hashed inline blocks.

const STYLE = `
:root{font:15px/1.4 system-ui,sans-serif;color:#1c1e21;background:#f4f5f7}
body{margin:0}header,main{padding:0 1.25rem}header{background:#fff;border-bottom:1px solid #c9ccd1;display:flex;flex-wrap:wrap;align-items:baseline;gap:0 1rem}
h1{font-size:1.3rem;margin:.8rem 0}h1 small{font-weight:400;color:#4b4f56}h2{font-size:1.1rem;margin:1.2rem 0 .5rem}h3{font-size:1rem;margin:0 0 .2rem;overflow-wrap:anywhere}
#status{margin:0;color:#4b4f56}form{display:flex;flex-wrap:wrap;gap:.75rem;align-items:end;margin-top:1rem}
label{display:flex;flex-direction:column;font-size:.85rem;color:#1c1e21;gap:.15rem}
select,button{font:inherit;padding:.3rem .5rem;border:1px solid #8a8d91;border-radius:4px;background:#fff;color:#1c1e21}
button{cursor:pointer;background:#1b4fb3;border-color:#1b4fb3;color:#fff}
button:disabled{cursor:default;opacity:.5}nav{margin:0 0 .5rem}
:focus-visible{outline:3px solid #f0a400;outline-offset:2px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:.75rem}
.card{background:#fff;border:1px solid #c9ccd1;border-radius:6px;padding:.6rem .8rem}
.card dl{margin:.3rem 0 0}.card dt{font-size:.8rem;color:#4b4f56;margin-top:.35rem}.card dd{margin:0}
.meta{font-size:.8rem;color:#4b4f56;margin:0}
svg.chart{display:block}.track{fill:#e4e6eb}.good{fill:#1e7d3a}.low{fill:#b35c00}.mark{stroke:#1c1e21;stroke-width:2}
.tick{font-size:9px;fill:#4b4f56}
.scroll{overflow-x:auto;background:#fff;border:1px solid #c9ccd1;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid #e4e6eb}
th{background:#f0f2f5;position:sticky;top:0}tr.copy+tr.copy td{border-top:1px dashed #e4e6eb}
code{font:12px ui-monospace,monospace;overflow-wrap:anywhere}.keys code{white-space:nowrap;overflow-wrap:normal}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-weight:600;font-size:.8rem}
.deduplicated{background:#e3f5e8;color:#0a5a25}.server-only,.browser-only{background:#fff4d6;color:#6b4300}.rejected{background:#fde8e8;color:#9b1414}
tbody.attention{background:#fffaf0}tbody.row{border-top:2px solid #c9ccd1}
.flag,.bad{color:#9b1414}.warn{color:#6b4300}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
#empty{background:#fff;border:1px solid #c9ccd1;border-radius:6px;padding:.8rem}
`;

const SCRIPT = `
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var NS = 'http://www.w3.org/2000/svg';
  // One page of rows at a time, filtered by the mock: a load test records far more than a page
  // should draw. OFFSET moves by LIMIT with the Newer / Older buttons.
  var LIMIT = 500, offset = 0, view = null, loading = false, again = false;
  // The newest version the stream announced: an older view (the mock paces its rebuilds) is
  // asked for again.
  var latest = 0;
  var SOURCE = { server: 'server (CAPI)', browser: 'browser (Pixel)' };
  // TikTok's copies (mock.tiktok: the Events API and the TikTok Pixel stub) are marked platform: 'tiktok'.
  var TIKTOK_SOURCE = { server: 'server (TikTok Events API)', browser: 'browser (TikTok Pixel)' };
  function pixelLabel(x) { return (x.platform === 'tiktok' ? 'TikTok pixel ' : 'pixel ') + x.pixelId; }
  // The time alone for today's events, in the browser's time zone; the date too for another
  // day's (the mock keeps running, and Meta pairs copies over 48 h).
  function received(ms) {
    var d = new Date(ms);
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }
  function nameOf(x) { return x.eventName || '(no event_name)'; }
  var DEDUP = { deduplicated: 'deduplicated', 'server-only': 'server only', 'browser-only': 'browser only', rejected: 'rejected' };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text != null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i] != null) parent.appendChild(arguments[i]);
    return parent;
  }
  function span(s) {
    var a = Math.abs(s);
    return a < 60 ? a + ' s' : a < 3600 ? Math.round(a / 60) + ' min' : a < 86400 ? Math.round(a / 3600) + ' h' : Math.round(a / 86400) + ' d';
  }
  function freshness(s) {
    if (s == null) return 'no valid event_time';
    return s < 0 ? 'event_time ' + span(s) + ' ahead' : span(s) + ' after event_time';
  }
  function setOptions(select, values, all) {
    var want = [''].concat(values), current = select.value;
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (JSON.stringify(have) === JSON.stringify(want)) return;
    select.replaceChildren();
    want.forEach(function (v) { var o = el('option', null, v || all); o.value = v; select.appendChild(o); });
    select.value = want.indexOf(current) >= 0 ? current : '';
  }
  function bar(value, max, goal, unit, label) {
    var w = 200, h = 16;
    var s = svg('svg', { width: w, height: h + 13, viewBox: '0 0 ' + w + ' ' + (h + 13), role: 'img', 'aria-label': label, 'class': 'chart' });
    add(s, svg('title', {}, label), svg('rect', { x: 0, y: 0, width: w, height: h, rx: 3, 'class': 'track' }));
    if (value != null) add(s, svg('rect', { x: 0, y: 0, width: Math.max(0, Math.min(1, value / max)) * w, height: h, rx: 3, 'class': value >= goal ? 'good' : 'low' }));
    var x = goal / max * w;
    add(s, svg('line', { x1: x, x2: x, y1: 0, y2: h + 3, 'class': 'mark' }),
      svg('text', { x: Math.min(x, w - 30), y: h + 12, 'text-anchor': 'middle', 'class': 'tick' }, 'goal ' + goal + unit));
    return s;
  }
  function short(s) {
    return s == null ? 'more' : s < 60 ? s + 's' : s < 3600 ? s / 60 + 'm' : s < 86400 ? s / 3600 + 'h' : s / 86400 + 'd';
  }
  function histogram(buckets, label) {
    var w = 200, h = 50, bw = w / buckets.length;
    var max = Math.max.apply(null, buckets.map(function (b) { return b.count; }).concat([1]));
    var s = svg('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'img', 'aria-label': label, 'class': 'chart' });
    add(s, svg('title', {}, label));
    buckets.forEach(function (b, i) {
      var bh = b.count / max * (h - 14);
      add(s, add(svg('rect', { x: i * bw + 2, y: h - 12 - bh, width: bw - 4, height: Math.max(bh, 0.5), 'class': b.maxSeconds !== null && b.maxSeconds <= 60 ? 'good' : 'low' }), svg('title', {}, b.label + ': ' + b.count)),
        svg('text', { x: i * bw + bw / 2, y: h - 2, 'text-anchor': 'middle', 'class': 'tick' }, short(b.maxSeconds)));
    });
    return s;
  }
  function card(s) {
    var mq = s.matchQuality, cov = s.dedupCoverage, p50 = s.freshness.p50Seconds;
    var dl = add(el('dl'),
      el('dt', null, 'Match quality (local estimate, as client.diagnostics())'),
      add(el('dd', null, s.platform === 'tiktok' ? 'not estimated for TikTok' : mq == null ? 'no web (website) server events' : mq + ' / 10'),
        bar(mq, 10, view.matchQualityTarget, '', 'Match quality ' + (mq == null ? 'unknown' : mq + ' of 10') + ', target ' + view.matchQualityTarget)),
      el('dt', null, 'Dedup coverage (browser events with a server copy)'),
      add(el('dd', null, cov == null ? 'no browser events' : cov + ' % (' + s.deduplicated + ' deduplicated)'),
        bar(cov, 100, view.coverageGoal, ' %', 'Dedup coverage ' + (cov == null ? 'unknown' : cov + ' percent') + ', goal ' + view.coverageGoal + ' percent')),
      el('dt', null, 'Freshness (server: event_time to arrival)'),
      add(el('dd', null, p50 == null ? 'no server events' : 'median ' + span(p50)),
        histogram(s.freshness.buckets, 'Freshness: ' + s.freshness.buckets.map(function (b) { return b.label + ' ' + b.count; }).join(', '))));
    return add(el('article', 'card'), el('h3', null, nameOf(s)),
      el('p', 'meta', pixelLabel(s) + ' · server ' + s.server + (s.retriesDeduplicated ? ' (+' + s.retriesDeduplicated + ' retried, deduplicated)' : '') + ' · browser ' + s.browser + (s.rejected ? ' · rejected ' + s.rejected : '')), dl);
  }
  function keys(copy) {
    var d = el('div', 'keys');
    if (copy.matchKeys.length === 0) d.textContent = 'none';
    copy.matchKeys.forEach(function (k, i) {
      if (i) d.appendChild(document.createTextNode(' '));
      var c = el('code', k.notHashed ? 'bad' : null, k.key + (k.hashPrefix ? ':' + k.hashPrefix + '…' : k.notHashed ? ' (not hashed)' : ''));
      d.appendChild(c);
    });
    d.appendChild(el('span', 'meta', ' ~' + copy.matchQuality + '/10'));
    return d;
  }
  function validation(copy) {
    var v = copy.validation, d = el('div');
    if (v.ok) {
      d.appendChild(el('span', null, 'valid'));
      v.warnings.forEach(function (w) { d.appendChild(el('div', 'warn', '⚠ ' + w)); });
    } else {
      d.appendChild(el('strong', 'bad', v.isInvalidOne ? 'rejected: ' + v.field + ' ' + v.reason : 'refused with its batch (' + v.field + ' ' + v.reason + ' in another event)'));
      d.appendChild(el('div', 'meta', v.message));
    }
    return d;
  }
  function rowOf(row) {
    // One tbody per row: its first line holds what the copies share, one line per copy beside it.
    var body = el('tbody', 'row' + (row.flag || row.dedup === 'rejected' ? ' attention' : ''));
    body.setAttribute('data-row', row.id);
    body.setAttribute('data-dedup', row.dedup);
    var n = row.copies.length;
    var dedup = add(el('td'), el('span', 'badge ' + row.dedup, DEDUP[row.dedup]));
    if (row.flag) dedup.appendChild(el('div', 'flag', '⚠ ' + row.flag));
    var servers = row.copies.filter(function (c) { return c.source === 'server' && c.validation.ok; }).length;
    if (servers > 1) dedup.appendChild(el('div', 'meta', 'server sent it ' + servers + '×, counted once'));
    var shared = [
      el('td', null, received(row.receivedAt)),
      add(el('td'), el('strong', null, nameOf(row)), el('div', 'meta', pixelLabel(row))),
      add(el('td'), row.eventId == null ? el('span', 'meta', 'none') : el('code', null, row.eventId)),
      dedup];
    shared.forEach(function (td) { td.rowSpan = n; });
    row.copies.forEach(function (c, i) {
      var tr = el('tr', 'copy ' + c.source);
      if (i === 0) add.apply(null, [tr].concat(shared));
      add(tr,
        el('td', null, (c.platform === 'tiktok' ? TIKTOK_SOURCE : SOURCE)[c.source] + (c.testEventCode ? ' · test ' + c.testEventCode : '')),
        el('td', null, c.actionSource == null ? '—' : c.actionSource),
        el('td', null, freshness(c.delaySeconds)),
        add(el('td'), keys(c)),
        el('td', null, c.customData || '—'),
        add(el('td'), validation(c)));
      body.appendChild(tr);
    });
    return body;
  }
  function render() {
    if (!view) return;
    setOptions($('f-pixel'), view.pixels, 'All pixels');
    setOptions($('f-event'), view.eventNames, 'All events');
    var pixel = $('f-pixel').value, name = $('f-event').value, source = $('f-source').value;
    var keep = function (x) { return (!pixel || x.pixelId === pixel) && (!name || x.eventName === name); };
    // The mock filters the page it sends; the same filter here answers a change at once, before
    // the page filtered by the mock arrives.
    var rows = view.rows.filter(function (r) {
      return keep(r) && (!source || r.copies.some(function (c) { return c.source === source; }));
    });
    $('summaries').replaceChildren.apply($('summaries'), view.summaries.filter(keep).map(card));
    $('more-names').textContent = (view.totalSummaries > view.summaries.length
      ? 'The ' + view.summaries.length + ' event names received last, of ' + view.totalSummaries + ': choose a name above to see its card.' : '') +
      (view.totalEventNames > view.eventNames.length
        ? ' The filter lists the ' + view.eventNames.length + ' names received last, of ' + view.totalEventNames + '.' : '');
    var table = $('events');
    Array.prototype.slice.call(table.tBodies).forEach(function (b) { b.remove(); });
    rows.forEach(function (r) { table.appendChild(rowOf(r)); });
    var first = view.rows.length > 0 ? offset + 1 : 0;
    $('count').textContent = '(' + (view.totalRows > view.rows.length ? first + '–' + (offset + view.rows.length) + ' of ' : '') + view.totalRows + ')';
    $('newer').disabled = offset === 0;
    $('older').disabled = offset + view.rows.length >= view.totalRows;
    $('empty').hidden = view.pixels.length > 0;
  }
  function query() {
    var q = '?limit=' + LIMIT + '&offset=' + offset;
    [['pixelId', 'f-pixel'], ['event_name', 'f-event'], ['source', 'f-source']].forEach(function (p) {
      if ($(p[1]).value) q += '&' + p[0] + '=' + encodeURIComponent($(p[1]).value);
    });
    return q;
  }
  function load() {
    if (loading) { again = true; return; }
    loading = true;
    var started = Date.now();
    var asked = query();
    fetch('/_mock/events-manager' + asked, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (v) {
      // Asked for a filter (or page) since changed: shown, it replaced the rows the change had
      // just filtered with another filter's (a Purchase row without a browser copy vanished when
      // the answer for "browser only" came in after the source was set back). Asked again instead.
      if (asked !== query()) { again = true; return; }
      view = v;
      if (v.version < latest) again = true;
      if (offset > 0 && v.rows.length === 0 && v.totalRows > 0) { offset = Math.max(0, v.totalRows - LIMIT); again = true; }
      render();
      $('status').textContent = 'Live · ' + v.totalRows + ' rows · updated ' + new Date(v.generatedAt).toLocaleTimeString() +
        (v.evicted > 0 ? ' · ' + v.evicted + ' older events let go (the mock keeps the newest ' + v.maxEvents + ' of each kind: maxEvents, --max-events)' : '');
    }, function () { $('status').textContent = 'Cannot reach the mock'; }).then(function () {
      // The next refresh waits a few times what this one took: under a load test the page takes a
      // small share of the mock's time, never all of it (the mock answers the app meanwhile).
      setTimeout(function () {
        loading = false;
        if (again) { again = false; load(); }
      }, Math.max(250, 4 * (Date.now() - started)));
    });
  }
  function go(to) { offset = Math.max(0, to); load(); }
  ['f-pixel', 'f-event', 'f-source'].forEach(function (id) { $(id).addEventListener('change', function () { render(); go(0); }); });
  $('newer').addEventListener('click', function () { go(offset - LIMIT); });
  $('older').addEventListener('click', function () { go(offset + LIMIT); });
  $('clear').addEventListener('click', function () {
    fetch('/_mock/events', { method: 'DELETE' }).then(load, load);
  });
  var origin = location.origin;
  $('env').textContent = "export META_GRAPH_URL='" + origin + "'\\nexport META_ACCESS_TOKEN='capi-kit-mock-token'\\nexport META_PIXEL_ID='1234567890'\\nexport META_PIXEL_SCRIPT_URL='" + origin + "/fbevents.js'\\nexport TIKTOK_PIXEL_SCRIPT_URL='" + origin + "/i18n/pixel/events.js'";
  // One tab of this origin holds the stream and tells the others: a browser opens at most six
  // HTTP/1.1 connections to a host, and a stream in every tab took them all past five tabs, so
  // no tab could refetch, and the app's page could not load the Pixel stub from the mock.
  var channel = window.BroadcastChannel ? new BroadcastChannel('capi-kit-mock-stream') : null;
  function down() { $('status').textContent = 'Reconnecting to the mock…'; }
  function changed(version) { latest = Math.max(latest, Number(version) || 0); load(); }
  if (channel) channel.onmessage = function (m) { if (m.data === 'down') down(); else changed(m.data); };
  function listen() {
    var stream = new EventSource('/_mock/stream');
    stream.onmessage = function (m) { if (channel) channel.postMessage(m.data); changed(m.data); };
    stream.onerror = function () { if (channel) channel.postMessage('down'); down(); };
  }
  if (window.EventSource && channel && navigator.locks) {
    // Held until the tab closes; then another tab takes it, and the stream's first message (the
    // current version) refreshes them all.
    navigator.locks.request('capi-kit-mock-stream', function () { listen(); return new Promise(function () {}); });
  } else if (window.EventSource) {
    listen();
  } else {
    setInterval(load, 2000);
  }
  load();
})();
`;

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's Content-Security-Policy: only its own hashed style and script, fetches to itself. */
export const EVENTS_MANAGER_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The Events Manager page (static: every figure is loaded by its script). */
export const EVENTS_MANAGER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Events Manager · capi-kit mock</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Events Manager <small>capi-kit mock Graph API</small></h1>
<p id="status" role="status">Connecting…</p>
</header>
<main>
<form id="filters" aria-label="Filters">
<label for="f-pixel">Pixel<select id="f-pixel"><option value="">All pixels</option></select></label>
<label for="f-event">Event name<select id="f-event"><option value="">All events</option></select></label>
<label for="f-source">Source<select id="f-source"><option value="">All sources</option><option value="server">Server (CAPI)</option><option value="browser">Browser (Pixel)</option></select></label>
<button type="button" id="clear">Clear events</button>
</form>
<section aria-labelledby="h-names">
<h2 id="h-names">Event names</h2>
<p id="more-names" class="meta"></p>
<div id="summaries" class="cards"></div>
</section>
<section aria-labelledby="h-events">
<h2 id="h-events">Events <span id="count"></span></h2>
<nav aria-label="Pages of events"><button type="button" id="newer" disabled>Newer</button> <button type="button" id="older" disabled>Older</button></nav>
<div id="empty"><p>No events yet. Start your app with these variables; its server events arrive through the Conversions API, its page's Pixel events through the stubs at <code>/fbevents.js</code> (Meta) and <code>/i18n/pixel/events.js</code> (TikTok):</p><pre><code id="env"></code></pre></div>
<div class="scroll" tabindex="0" role="region" aria-labelledby="h-events">
<table id="events">
<caption class="sr">Every received event, newest first. Browser and server copies with the same event name and event_id share one row.</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Event</th><th scope="col">event_id</th><th scope="col">Dedup</th><th scope="col">Source</th><th scope="col">Action source</th><th scope="col">Freshness</th><th scope="col">Match keys</th><th scope="col">custom_data</th><th scope="col">Validation</th></tr></thead>
</table>
</div>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

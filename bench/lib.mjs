// Shared bits of the benches: loading the built packages, the event used, stats and the table.
import { spawn } from 'node:child_process';

/**
 * The built @capi-kit/core. `CAPI_CORE=/path/to/index.mjs` points at another build (to compare two
 * builds, or while src/index.ts does not export the delivery client yet).
 */
export const loadCore = async () => {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: benches run with plain node, not through turbo.
  const core = await import(process.env.CAPI_CORE ?? '@capi-kit/core');
  if (typeof core.createCapi !== 'function') {
    throw new Error(
      '@capi-kit/core (dist) does not export createCapi: run `npm run build` after src/index.ts re-exports ./delivery/index.js, or set CAPI_CORE to a build that does.',
    );
  }
  return core;
};

/** A fully populated Purchase: every user_data key the engine hashes, plus IP, UA, fbp, fbc and contents. */
export const fullEvent = (i, nowMs) => ({
  event_name: 'Purchase',
  event_id: `order-${i}`,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website',
  event_source_url: 'https://shop.example.com/checkout/complete?step=3',
  user_data: {
    em: `Customer.${i}@Example.com`,
    ph: '+1 (650) 555-1212',
    fn: 'Mary',
    ln: 'Smith',
    ct: 'New York',
    st: 'NY',
    zp: '10001',
    country: 'US',
    external_id: `user-${i}`,
    client_ip_address: '2001:db8::1',
    client_user_agent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    fbp: 'fb.1.1700000000000.1234567890',
    fbc: 'fb.1.1700000000000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk',
  },
  custom_data: {
    currency: 'USD',
    value: 142.5,
    content_type: 'product',
    content_ids: ['SKU-1', 'SKU-2'],
    contents: [
      { id: 'SKU-1', quantity: 2, item_price: 50 },
      { id: 'SKU-2', quantity: 1, item_price: 42.5 },
    ],
    num_items: 3,
    order_id: `order-${i}`,
  },
});

/** Sorted-sample percentile. */
export const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/** Prints rows (arrays of cells) as an aligned Markdown table. */
export const printTable = (title, header, rows) => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) =>
    `| ${cells.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
};

export const fmt = (n, digits = 2) =>
  n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);

/**
 * Starts the mock Graph API in its own process (its bin), so its JSON parsing and validation do not
 * share the event loop with the client under test. Resolves with its URL and a stop function.
 */
export const startMockProcess = (args = []) =>
  startServerProcess(new URL('../packages/testing/dist/bin.mjs', import.meta.url).pathname, [
    '--port',
    '0',
    '--quiet',
    ...args,
  ]);

/** Starts the null sink (bench/sink.mjs) in its own process. */
export const startSinkProcess = () =>
  startServerProcess(new URL('./sink.mjs', import.meta.url).pathname, []);

const startServerProcess = async (script, args) => {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`mock exited with ${code}`)));
  });
  return {
    url,
    reset: () => fetch(`${url}/_mock/reset`, { method: 'POST' }).then((r) => r.arrayBuffer()),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
};

// @ts-check
// Graceful shutdown, the part of the contract that only a real process can show: the example runs
// as `node …` the way it ships, receives SIGTERM while requests are still uploading, and must
// answer every one of them, deliver every event they tracked (or count it), and then exit.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { startMockGraph } from '@capi-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN, PIXEL_ID } from './index.js';

/**
 * How an example is started and how it ends after SIGTERM.
 * @typedef {object} ShutdownTarget
 * @property {string[]} args `node` arguments, e.g. `['src/server.js']`.
 * @property {string} cwd The example's folder.
 * @property {Record<string, string>} [env] Extra environment.
 * @property {{ code: number | null, signal: NodeJS.Signals | null }} exit What `exit` reports:
 *   `{ code: 0, signal: null }` for `process.exit(0)`, `{ code: null, signal: 'SIGTERM' }` when the
 *   app re-raises the signal (a shell shows 143).
 */

/** The line every example prints once its client is closed, followed by its counters as JSON. */
export const SHUTDOWN_STATS_LINE = 'capi-kit: shut down, delivery counters ';

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One POST whose JSON body is written in `chunks` pieces with a pause between them, like a slow
 * mobile upload. Resolves with the status and body, or with the transport error (ECONNRESET…).
 * `started` resolves once the request's headers and first piece are written to the connection.
 * @param {string} url
 * @param {unknown} body
 * @param {{ chunks: number, pauseMs: number }} pacing
 */
function slowPost(url, body, { chunks, pauseMs }) {
  const bytes = Buffer.from(JSON.stringify(body));
  const size = Math.ceil(bytes.length / chunks);
  /** @type {(value?: unknown) => void} */
  let markStarted = () => {};
  const started = new Promise((resolve) => {
    markStarted = resolve;
  });
  /** @type {Promise<{ status: number, body: string } | { error: string }>} */
  const done = new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        // A fresh connection per upload, as separate visitors would have.
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(bytes.length),
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-shutdown/1.0',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (error) =>
          resolve({ error: /** @type {any} */ (error).code ?? error.message }),
        );
      },
    );
    req.on('error', (error) =>
      resolve({ error: /** @type {any} */ (error).code ?? error.message }),
    );
    void (async () => {
      for (let i = 0; i < chunks; i++) {
        if (req.destroyed) return;
        // The first piece's callback runs once it is handed to the socket, so connected.
        req.write(bytes.subarray(i * size, (i + 1) * size), i === 0 ? markStarted : undefined);
        if (i < chunks - 1) await sleep(pauseMs);
      }
      req.end();
    })();
  });
  return { started, done };
}

/**
 * Registers the graceful-shutdown suite for one example started as a real process.
 * @param {string} name
 * @param {ShutdownTarget} target
 */
export function describeGracefulShutdown(name, target) {
  describe(`graceful shutdown: ${name}`, () => {
    /** @type {(() => Promise<void>)[]} */
    const cleanups = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('SIGTERM during slow uploads: every request is answered, every event delivered, then a clean exit', async () => {
      const mock = await startMockGraph();
      cleanups.push(() => mock.close());
      // Graph is briefly unavailable when the shutdown's delivery starts: close() must wait out
      // Retry-After (1 s, within its deadline) and deliver, not give up after one attempt.
      mock.failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });

      const child = spawn(process.execPath, target.args, {
        cwd: target.cwd,
        // Only PATH from the runner: no META_* or NODE_* of the test's own leaks into the example,
        // which runs as deployed (NODE_ENV=production).
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          ...target.env,
          PORT: '0',
          META_PIXEL_ID: PIXEL_ID,
          META_ACCESS_TOKEN: ACCESS_TOKEN,
          META_GRAPH_URL: mock.url,
          TRUST_PROXY: 'loopback',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
      const exited = new Promise((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      });

      // Every example prints "… listening on http://…" once it accepts connections.
      const deadline = Date.now() + 30_000;
      let url = '';
      while (!url) {
        url = /listening on (http:\/\/\S+)/.exec(output)?.[1] ?? '';
        if (url) break;
        if (child.exitCode !== null) throw new Error(`the example exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the example did not start:\n${output}`);
        await sleep(50);
      }

      const pacing = { chunks: 6, pauseMs: 400 };
      const leads = [1, 2, 3, 4].map((n) =>
        slowPost(`${url}/lead`, { email: `shutdown-${n}@example.com`, first_name: 'Ada' }, pacing),
      );
      const purchase = slowPost(
        `${url}/purchase`,
        { email: 'buyer@example.com', value: 42.5, currency: 'EUR', order_id: 'ORD-SIGTERM-1' },
        pacing,
      );
      const uploads = [...leads, purchase];
      await Promise.all(uploads.map((upload) => upload.started));
      // Mid-upload, once the server has had time to accept the connections and read the headers
      // (a connection still in the listen backlog would be refused, and one whose headers the
      // server has not read yet is idle and closed: neither is what this tests): each body has
      // half of itself still to come. 300 ms was too short on a machine at a load of 12 (the
      // Fastify example saw ECONNRESET on one upload).
      await sleep(1000);
      const signalledAt = Date.now();
      child.kill('SIGTERM');

      const answers = await Promise.all(uploads.map((upload) => upload.done));
      for (const answer of answers) {
        expect(answer, output).toMatchObject({ status: 200 });
      }
      const eventIds = answers.map(
        (answer) =>
          /** @type {{ event_id: string }} */ (JSON.parse('body' in answer ? answer.body : '{}'))
            .event_id,
      );
      expect(new Set(eventIds).size).toBe(uploads.length);

      const exit = await exited;
      const exitMs = Date.now() - signalledAt;
      expect(exit, output).toEqual(target.exit);

      // Every tracked event reached Meta: the first attempt got the 503, the retry delivered.
      const received = mock.events({ pixelId: PIXEL_ID });
      expect(received.map((e) => e.event.event_id).sort(), output).toEqual([...eventIds].sort());
      expect(mock.requests().some((r) => r.status === 503)).toBe(true);

      // And the process's own books balance: tracked = sent + queued + inFlight + deadLettered + dropped.
      const statsLine = output.split('\n').find((line) => line.startsWith(SHUTDOWN_STATS_LINE));
      expect(statsLine, output).toBeDefined();
      const stats = JSON.parse(String(statsLine).slice(SHUTDOWN_STATS_LINE.length));
      const dropped = Object.values(/** @type {Record<string, number>} */ (stats.dropped)).reduce(
        (a, b) => a + b,
        0,
      );
      expect(stats.sent + stats.queued + stats.inFlight + stats.deadLettered + dropped).toBe(
        uploads.length,
      );
      expect(stats.sent).toBe(uploads.length);
      console.log(
        `${name}: SIGTERM mid-upload → ${answers.length}/${uploads.length} answered 200, ${received.length} events at the mock (after a 503), exit ${exit.code ?? exit.signal} ${exitMs} ms after the signal`,
      );
      // A real process, a 1 s Retry-After and slow uploads: generous, whatever the runner's default.
    }, 60_000);
  });
}

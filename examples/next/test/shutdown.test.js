// @ts-check
// `next start` receives SIGTERM while an event's delivery is still pending (Graph answered 503
// with Retry-After: 1). src/instrumentation.ts installs registerShutdown(capi, { timeoutMs: 5000 }):
// the event must reach Meta before the process ends, or, when Graph stays down, be counted and
// reported; and the process must end the way Next.js (or the signal) ends it.
import { startMockGraph } from '@capi-kit/testing';
import { ACCESS_TOKEN, PIXEL_ID } from 'capi-kit-example-contract';
import { afterEach, describe, expect, it } from 'vitest';
import { startNext } from './next-server.js';

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @type {(() => Promise<void>)[]} */
const cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Starts the mock and `next start`, tracks one Lead through the `withCapi` route handler and sends
 * SIGTERM 300 ms after its response.
 * @param {{ manual: boolean, graph: 'recovers' | 'down' }} scenario
 */
async function leadThenSigterm({ manual, graph }) {
  const mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
  cleanups.push(() => mock.close());
  const retryLater = /** @type {const} */ ({ kind: 'http', status: 503, retryAfterSeconds: 1 });
  const app = await startNext({
    META_PIXEL_ID: PIXEL_ID,
    META_ACCESS_TOKEN: ACCESS_TOKEN,
    META_GRAPH_URL: mock.url,
    TRUST_PROXY: 'loopback',
    ...(manual && { NEXT_MANUAL_SIG_HANDLE: 'true' }),
  });
  cleanups.push(() => app.close());
  if (graph === 'recovers') mock.failNext(retryLater);
  else mock.outage(retryLater);

  const res = await fetch(`${app.url}/lead`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'capi-kit-shutdown/1.0' },
    body: JSON.stringify({ email: 'shutdown@example.com' }),
  });
  expect(res.status).toBe(200);
  const { event_id } = /** @type {{ event_id: string }} */ (await res.json());
  await sleep(300);
  const signalledAt = Date.now();
  app.kill('SIGTERM');
  const exit = await app.exited;
  console.log(
    `next start (${manual ? 'NEXT_MANUAL_SIG_HANDLE=true' : 'Next.js handles the signal'}, Graph ${graph}): exit ${exit.code ?? exit.signal} ${Date.now() - signalledAt} ms after SIGTERM, ${mock.events().length} event(s) at the mock`,
  );
  return { mock, app, event_id, exit };
}

/** The registerShutdown report line, if the process printed one. */
const reportOf = (/** @type {string} */ output) =>
  /capi-kit\/next: shutdown left (\d+) event\(s\) undelivered \(dropped at shutdown (\d+), queued (\d+), in flight (\d+); delivered (\d+)\)/
    .exec(output)
    ?.slice(1)
    .map(Number);

describe.each([
  // Next.js owns the signals: it waits for the request's after() (the event's delivery), exits 143.
  { mode: 'Next.js handles the signal', manual: false, exit: { code: 143, signal: null } },
  // NEXT_MANUAL_SIG_HANDLE=true: registerShutdown closes the client, then re-raises the signal.
  { mode: 'NEXT_MANUAL_SIG_HANDLE=true', manual: true, exit: { code: null, signal: 'SIGTERM' } },
])('next start, SIGTERM with a delivery pending ($mode)', ({ manual, exit }) => {
  it('delivers the event once Graph recovers, then ends the way Next.js (or the signal) does', async () => {
    const {
      mock,
      app,
      event_id,
      exit: ended,
    } = await leadThenSigterm({ manual, graph: 'recovers' });
    expect(ended, app.output()).toEqual(exit);
    expect(mock.requests().some((r) => r.status === 503)).toBe(true);
    expect(mock.events({ event_name: 'Lead' }).map((e) => e.event.event_id)).toEqual([event_id]);
    expect(reportOf(app.output()), app.output()).toBeUndefined();
  });

  it('counts and reports the event when Graph stays down past the deadline', async () => {
    const { mock, app, exit: ended } = await leadThenSigterm({ manual, graph: 'down' });
    expect(ended, app.output()).toEqual(exit);
    expect(mock.events()).toHaveLength(0);
    // One event tracked = 0 delivered + 1 dropped at shutdown, nothing left queued or in flight.
    expect(reportOf(app.output()), app.output()).toEqual([1, 1, 0, 0, 0]);
  });
});

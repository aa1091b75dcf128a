import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import express from 'express';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { capi } from '../src/index.js';
import { capiOptions, listen, postJson } from './fixtures.js';

// Issue 18: an app written from the README, making the common mistakes, is told about each one on
// the console (the default logger) during development, through a real server and the mock Graph API.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());
afterEach(() => {
  vi.restoreAllMocks();
});

it('prints one line per mistake: missing currency, a misspelled key, a misspelled event', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const middleware = capi(capiOptions(mock, { env: { NODE_ENV: 'development' } }));
  const app = express();
  app.use(express.json(), middleware);
  app.post('/checkout', (req, res) => {
    // What the types now refuse, as a JavaScript app would still write it.
    const sale = req.capi.track('Purchase', {
      custom_data: { value: 59.9, curency: 'EUR' },
    } as never);
    const signup = req.capi.track('CompleteRegistation', { user_data: { em: req.body.email } });
    res.json({ sale: sale.accepted, signup: signup.accepted });
  });
  const running = await listen(app);
  try {
    const answer = await postJson(running, '/checkout', { email: 'buyer@example.com' });
    expect(await answer.json()).toEqual({ sale: false, signup: true });
  } finally {
    await running.close();
    await middleware.close();
  }
  const printed = warn.mock.calls.map((call) => String(call[0]));
  expect(printed).toEqual([
    expect.stringContaining('capi-kit: Purchase not sent (invalid): custom_data.currency'),
    expect.stringContaining(
      'capi-kit: CompleteRegistation sent with changes: event_name: Not a standard event; did you mean CompleteRegistration?',
    ),
  ]);
  expect(printed[0]).toContain('custom_data.curency');
  expect(printed[0]).toContain('did you mean currency?');
  expect(printed.join('\n')).not.toContain('buyer@example.com');
  expect(mock.events().map((e) => e.event.event_name)).toEqual(['CompleteRegistation']);
});

import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import express from 'express';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { type CapiExpressOptions, capi } from '../src/index.js';
import { capiOptions, listen, PIXEL_ID, postJson } from './fixtures.js';

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

it("names Meta's key for user_data written with long names (email, phone, firstName, zip_code)", async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const middleware = capi(capiOptions(mock, { env: { NODE_ENV: 'development' } }));
  const app = express();
  app.use(express.json(), middleware);
  app.post('/signup', (req, res) => {
    // What a JavaScript app writes before it learns Meta's short names.
    const { accepted, issues } = req.capi.track('Lead', {
      user_data: {
        email: req.body.email,
        phone: req.body.phone,
        firstName: req.body.name,
        zip_code: req.body.zip,
        client_ip_adress: '203.0.113.9',
        loyalty_tier: 'gold',
      },
    } as never);
    res.json({ accepted, issues });
  });
  const running = await listen(app);
  let answer: { accepted: boolean; issues: { path: string; message: string }[] };
  try {
    const response = await postJson(running, '/signup', {
      email: 'new.buyer@example.com',
      phone: '+14155550123',
      name: 'Ada',
      zip: '94107',
    });
    answer = await response.json();
  } finally {
    await running.close();
    await middleware.close();
  }
  // The event still goes out (with the request's context), and each dropped key names the fix.
  expect(answer.accepted).toBe(true);
  const told = Object.fromEntries(answer.issues.map((issue) => [issue.path, issue.message]));
  expect(told['user_data.email']).toContain('write user_data.em');
  expect(told['user_data.phone']).toContain('write user_data.ph');
  expect(told['user_data.firstName']).toContain('write user_data.fn');
  expect(told['user_data.zip_code']).toContain('write user_data.zp');
  expect(told['user_data.client_ip_adress']).toContain('write user_data.client_ip_address');
  expect(told['user_data.loyalty_tier']).not.toContain("Meta's name");
  const printed = warn.mock.calls.map((call) => String(call[0]));
  expect(printed).toHaveLength(1);
  expect(printed[0]).toContain('capi-kit: Lead sent with changes: user_data.email:');
  expect(printed[0]).toContain("Meta's name for it is em: write user_data.em");
  for (const value of ['new.buyer@example.com', '4155550123', 'Ada', '94107', '203.0.113.9']) {
    expect(printed[0]).not.toContain(value);
  }
  expect(mock.events().at(-1)?.event.user_data).not.toHaveProperty('email');
});

it('refuses at start-up a token pasted with "Bearer " or "access_token=", kept in its .env quotes or broken by a line break, naming the fix and not the token', async () => {
  const token = 'EAAGm0PX4ZCpsBAKZAtestTOKEN123';
  const fromEnv = (vars: Record<string, string>) => ({
    pixelId: undefined,
    accessToken: undefined,
    env: { META_PIXEL_ID: '1234567890', META_ACCESS_TOKEN: token, ...vars },
  });
  const cases: [string, CapiExpressOptions, RegExp][] = [
    [
      'Bearer prefix',
      { accessToken: `Bearer ${token}` },
      /accessToken starts with "Bearer ": pass the token alone/,
    ],
    [
      // Copied from a Graph API Explorer URL or a curl command's -F field.
      'access_token= prefix',
      { accessToken: `access_token=${token}` },
      /accessToken starts with "access_token=": pass the token alone/,
    ],
    [
      // A whole .env line pasted into a secrets manager's value.
      'env line',
      fromEnv({ META_ACCESS_TOKEN: `META_ACCESS_TOKEN=${token}` }),
      /accessToken starts with "META_ACCESS_TOKEN=": pass the token alone/,
    ],
    [
      '.env quotes',
      fromEnv({ META_ACCESS_TOKEN: `"${token}"` }),
      /accessToken is wrapped in quotes/,
    ],
    [
      'line break',
      { accessToken: `${token.slice(0, 12)}\n${token.slice(12)}` },
      /accessToken contains whitespace/,
    ],
    [
      'quoted pixel id',
      fromEnv({ META_PIXEL_ID: "'1234567890'" }),
      /pixelId .* digits in quotes.*without them/,
    ],
    [
      // Copied as Events Manager or a spreadsheet displays it.
      'grouped digits',
      fromEnv({ META_PIXEL_ID: '1234 5678 90' }),
      /pixelId .* digits with spaces or dashes between them: pass the digits alone/,
    ],
    [
      'ad account id',
      fromEnv({ META_PIXEL_ID: 'act_1234567890' }),
      /pixelId .*act_… is an ad account id; the pixel \(dataset\) id is in Events Manager/,
    ],
  ];
  for (const [label, given, fix] of cases) {
    const options = capiOptions(mock, given);
    let thrown: unknown;
    try {
      capi(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, label).toBeInstanceOf(TypeError);
    expect((thrown as Error).message, label).toMatch(fix);
    expect((thrown as Error).message, label).not.toContain(token.slice(3));
  }

  // The same token, given alone, delivers through a real server.
  const middleware = capi(capiOptions(mock, { accessToken: token }));
  const app = express();
  app.use(express.json(), middleware);
  app.post('/lead', (req, res) => res.json(req.capi.track('Lead')));
  const running = await listen(app);
  try {
    expect((await (await postJson(running, '/lead', {})).json()).accepted).toBe(true);
  } finally {
    await running.close();
    await middleware.close();
  }
  expect(middleware.client.stats().sent).toBe(1);
});

it("names Meta's field for cart items written with a shop's names (qty, price, sku)", async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const middleware = capi(capiOptions(mock, { env: { NODE_ENV: 'development' } }));
  const app = express();
  app.use(express.json(), middleware);
  app.post('/cart', (req, res) => {
    // The cart's own line items, passed as contents.
    const { accepted, issues } = req.capi.track('AddToCart', {
      custom_data: {
        value: 25,
        currency: 'EUR',
        contents: req.body.items,
      },
    });
    res.json({ accepted, issues });
  });
  const running = await listen(app);
  let answer: { accepted: boolean; issues: { path: string; message: string }[] };
  try {
    const response = await postJson(running, '/cart', {
      items: [
        { id: 'shirt-1', qty: 2, price: 10 },
        { sku: 'socks-2', quantity: 1, item_price: 5 },
        { id: 'cap-3', quantity: 1, itemPrice: 5 },
      ],
    });
    answer = await response.json();
  } finally {
    await running.close();
    await middleware.close();
  }
  const told = Object.fromEntries(answer.issues.map((issue) => [issue.path, issue.message]));
  expect(told['custom_data.contents[0].qty']).toContain("Meta's name for it is quantity");
  expect(told['custom_data.contents[0].price']).toContain("Meta's name for it is item_price");
  expect(told['custom_data.contents[2].itemPrice']).toContain("Meta's name for it is item_price");
  // An item without an id is refused, and so is the event: the message says where its id went.
  expect(answer.accepted).toBe(false);
  expect(told['custom_data.contents[1].id']).toContain(
    "Meta's name for the product's sku or product_id is id",
  );
  // The same, on the development console, once for the event.
  const printed = warn.mock.calls.map((call) => String(call[0]));
  expect(printed).toHaveLength(1);
  expect(printed[0]).toContain(
    "custom_data.contents[0].qty: Not a documented contents field; dropped. Meta's name for it is quantity",
  );
  expect(printed[0]).not.toContain('socks-2');
});

it('says to check the pixel id when Meta answers 100/33 (an app or ad account id in its place)', async () => {
  const logged: string[] = [];
  const keep = (...args: unknown[]) => {
    logged.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
  };
  const logger = { debug: () => {}, info: () => {}, warn: keep, error: keep };
  const middleware = capi(capiOptions(mock, { logger }));
  const hooked: string[] = [];
  middleware.client.on('error', (event) => {
    if (event.kind === 'auth') hooked.push(event.error.message);
  });
  // What Graph answers for an id the token cannot post events to.
  mock.failNext({
    kind: 'graph',
    code: 100,
    subcode: 33,
    message:
      "Unsupported post request. Object with ID '1234567890' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
  });
  const app = express();
  app.use(express.json(), middleware);
  app.post('/lead', (req, res) => res.json(req.capi.track('Lead')));
  const running = await listen(app);
  try {
    expect((await (await postJson(running, '/lead', {})).json()).accepted).toBe(true);
    await middleware.client.flush();
  } finally {
    await running.close();
    await middleware.close({ timeoutMs: 200 });
  }
  const told = logged.find((line) => line.includes('refused the credentials'));
  expect(told).toContain('check that pixelId is the dataset (pixel) id shown in Events Manager');
  expect(hooked).toEqual([expect.stringContaining('not an app, ad account or Business id')]);
  // Held, not lost without a word: counted as undelivered at close.
  expect(middleware.client.stats().dropped.shutdown).toBe(1);
  expect(logged.join('\n')).not.toContain('express-test-token');
});

it('refuses pixelId given beside pixels, where it would receive no events', async () => {
  const second = { pixelId: '2234567890', accessToken: 'express-test-token' };
  // A second pixel added to an app that had one: pixels replaces pixelId.
  expect(() => capi(capiOptions(mock, { pixels: [second] }))).toThrow(
    /pixelId is given beside pixels, which replace it, so it would receive no events: list every pixel in pixels/,
  );

  // Listed in pixels, every event reaches both, through a real server.
  const middleware = capi(
    capiOptions(mock, {
      pixels: [{ pixelId: PIXEL_ID, accessToken: 'express-test-token' }, second],
    }),
  );
  const app = express();
  app.use(express.json(), middleware);
  app.post('/lead', (req, res) => res.json(req.capi.track('Lead')));
  const running = await listen(app);
  try {
    expect((await (await postJson(running, '/lead', {})).json()).accepted).toBe(true);
    await middleware.client.flush();
  } finally {
    await running.close();
    await middleware.close();
  }
  expect(Object.keys(middleware.client.stats().pixels).sort()).toEqual([PIXEL_ID, second.pixelId]);
  expect(middleware.client.stats().sent).toBe(2);
});

it('names the fix when text from a form or an API refuses the event (event_time, quantity, item_price, action_source), and sends a plain decimal written as text', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const middleware = capi(capiOptions(mock, { env: { NODE_ENV: 'development' } }));
  const app = express();
  app.use(express.json(), middleware);
  // An order as a JSON API returns it: a date as ISO 8601 text, amounts as text, a hand-typed source.
  app.post('/order', (req, res) => {
    const { order } = req.body;
    const results = [
      req.capi.track('Purchase', {
        event_time: order.created_at,
        custom_data: { value: 20, currency: 'EUR' },
      }),
      req.capi.track('AddToCart', {
        custom_data: { contents: [{ id: 'a', quantity: order.qty, item_price: 10 }] },
      }),
      req.capi.track('AddToCart', {
        custom_data: { contents: [{ id: 'b', quantity: 1, item_price: order.price }] },
      }),
      req.capi.track('Lead', { action_source: order.source }),
      // A plain decimal as text is the number it spells: sent, with a warning.
      req.capi.track('Purchase', { custom_data: { value: order.total, currency: 'EUR' } }),
    ];
    res.json(results.map((result) => result.accepted));
  });
  const running = await listen(app);
  try {
    const order = {
      created_at: new Date().toISOString(),
      qty: '2 pcs',
      price: '10,00',
      source: 'web',
      total: '19.90',
    };
    expect(await (await postJson(running, '/order', { order })).json()).toEqual([
      false,
      false,
      false,
      false,
      true,
    ]);
    await middleware.client.flush();
    expect(mock.events().at(-1)?.event.custom_data).toMatchObject({ value: 19.9 });
  } finally {
    await running.close();
    await middleware.close();
  }
  const printed = warn.mock.calls.map((call) => String(call[0]));
  expect(printed).toEqual([
    expect.stringMatching(
      /Purchase not sent \(invalid\): event_time: .*fix: pass Unix seconds as a number .* or a Date \(new Date\(text\)/,
    ),
    expect.stringMatching(
      /AddToCart not sent \(invalid\): custom_data\.contents\[0\]\.quantity: .*fix: pass a whole number \(text is read only as digits/,
    ),
    expect.stringMatching(
      /AddToCart not sent \(invalid\): custom_data\.contents\[0\]\.item_price: .*fix: pass a number; text is read only as a plain decimal such as '12\.50'/,
    ),
    expect.stringMatching(
      /Lead not sent \(invalid\): action_source: .*fix: .*'website' for events from your site/,
    ),
    expect.stringMatching(
      /Purchase sent with changes: custom_data\.value: Written as text; sent as the number it spells \(number_as_text\); fix: pass a number/,
    ),
  ]);
});

import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi } from '../src/index.js';
import {
  capiOptions,
  KNOWN_FBP,
  listen,
  MAJORS,
  PIXEL_ID,
  postJson,
  type Running,
} from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

/** What `@capi-kit/browser` posts when the page fires `pixel.track('Lead', {}, { eventID })`. */
const beaconLead = (running: Running, eventId: string) =>
  running.request('/capi/events', {
    method: 'POST',
    headers: {
      'content-type': 'text/plain;charset=UTF-8',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      cookie: `_fbp=${KNOWN_FBP}`,
    },
    body: JSON.stringify({
      v: 1,
      pixel_id: PIXEL_ID,
      events: [
        {
          event_name: 'Lead',
          event_id: eventId,
          event_time: Math.floor(Date.now() / 1000),
          event_source_url: `${running.url}/signup`,
        },
      ],
    }),
  });

describe.each(MAJORS)("$name: the README's Lead pattern in the diagnostics", ({ express }) => {
  it('counts a generated Lead id the page sends back through the relay as confirmed', async () => {
    const tracking = capi(capiOptions(mock, { relay: true, flushIntervalMs: 20 }));
    const app = express();
    app.use(express.json());
    app.use(tracking);
    // The README's Lead: the generated event_id goes back to the page for its Pixel Lead.
    app.post('/lead', (req, res) => {
      const { event_id } = req.capi.track('Lead', { user_data: { em: req.body.email } });
      res.json({ event_id });
    });
    const running = await listen(app);
    try {
      const first = await postJson(running, '/lead', { email: 'ada@example.com' });
      const { event_id } = (await first.json()) as { event_id: string };
      const lead = () => tracking.client.diagnostics().pixels[PIXEL_ID]?.events.Lead;
      // Returned to the page, not seen again yet: unknown, not a miss.
      expect(lead()).toMatchObject({
        generatedEventIds: 1,
        unconfirmedEventIds: 1,
        dedupKeyCoverage: null,
      });

      expect((await beaconLead(running, event_id)).status).toBe(204);
      // A second lead whose page never fires its Pixel: stays unknown, lowers nothing.
      await postJson(running, '/lead', { email: 'grace@example.com' });
      expect(lead()).toMatchObject({
        events: 3,
        sources: { server: 2, relay: 1 },
        withEventId: 1, // the relay's copy carries the browser's eventID
        generatedEventIds: 2,
        confirmedEventIds: 1,
        unconfirmedEventIds: 1,
        dedupKeyCoverage: 100,
        overlapping: 1,
      });

      // Meta got the server's Lead and the relay's copy under one event_id.
      const received = await mock.waitForEvents(3);
      expect(received.filter((r) => r.event.event_id === event_id)).toHaveLength(2);
    } finally {
      await running.close();
      await tracking.close();
    }
  });
});

// dateOrder through createCapi: client-wide (`buildOptions.dateOrder`) and per call
// (`TrackOptions.dateOrder`), checked on what the mock Graph API from @capi-kit/testing received
// over loopback HTTP (build it first: `cd packages/testing && npx tsdown`).
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '#platform';
import { createCapi } from '../../src/delivery/client.js';
import type { CapiOptions } from '../../src/delivery/types.js';
import { PIXEL, purchase, TOKEN } from '../delivery/helpers.js';

const mocks: MockGraph[] = [];
const clients: { close(o?: { timeoutMs?: number }): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 5000 })));
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

const start = async (buildOptions?: CapiOptions['buildOptions']) => {
  const mock = await startMockGraph({ accessToken: TOKEN });
  mocks.push(mock);
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    ...(buildOptions ? { buildOptions } : {}),
  });
  clients.push(client);
  return { mock, client };
};

const AMBIGUOUS = '05/06/1990';
const withDb = (i: number, db: string) => {
  const event = purchase(i, Date.now());
  return { ...event, user_data: { ...event.user_data, db } };
};
/** track() calls = sent + queued + inFlight + deadLettered + Σ dropped. */
const accounted = (client: ReturnType<typeof createCapi>) => {
  const s = client.stats();
  let dropped = 0;
  for (const n of Object.values(s.dropped)) dropped += n;
  return s.sent + s.queued + s.inFlight + s.deadLettered + dropped;
};
const receivedDb = (mock: MockGraph, eventId: string) =>
  mock.events().find((e) => e.event.event_id === eventId)?.event.user_data?.db;

describe('dateOrder on the client and per track() call', () => {
  it('without any dateOrder an ambiguous date is reported, not sent; the event still is', async () => {
    const { mock, client } = await start();
    const result = client.track(withDb(1, AMBIGUOUS));
    expect(result.accepted).toBe(true);
    expect(result.issues.map((i) => [i.path, i.code])).toEqual([
      ['user_data.db', 'ambiguous_date_of_birth'],
    ]);
    await client.flush();
    expect(mock.events()).toHaveLength(1);
    expect(receivedDb(mock, 'evt-1')).toBeUndefined();
    expect(accounted(client)).toBe(1);
  });

  it('reads by the client-wide dateOrder, and a per-call dateOrder overrides it', async () => {
    const { mock, client } = await start({ dateOrder: 'dmy' });
    const byClient = client.track(withDb(1, AMBIGUOUS));
    const byCall = client.track(withDb(2, AMBIGUOUS), { dateOrder: 'mdy' });
    const unambiguous = client.track(withDb(3, '5/20/1990'), { dateOrder: 'dmy' });
    for (const result of [byClient, byCall, unambiguous]) {
      expect(result).toMatchObject({ accepted: true, issues: [] });
    }
    await client.flush();
    expect(receivedDb(mock, 'evt-1')).toEqual([sha256Hex('19900605')]);
    expect(receivedDb(mock, 'evt-2')).toEqual([sha256Hex('19900506')]);
    expect(receivedDb(mock, 'evt-3')).toEqual([sha256Hex('19900520')]);
    expect(client.stats().sent).toBe(3);
    expect(accounted(client)).toBe(3);
  });

  it('a per-call dateOrder works on a client that has none', async () => {
    const { mock, client } = await start();
    expect(client.track(withDb(1, '05.06.1990'), { dateOrder: 'dmy' }).issues).toEqual([]);
    await client.flush();
    expect(receivedDb(mock, 'evt-1')).toEqual([sha256Hex('19900605')]);
  });
});

/** Checks: shutdown delivers what is queued; a shared client is used and left open. */
import { describe, expect, it } from 'vitest';
import { type Kit, resultOf, send } from './kit.js';

export function describeLifecycle(kit: Kit): void {
  describe('the client lifecycle', () => {
    it("closing the app sends what is queued and closes the adapter's client", async () => {
      const app = await kit.start({ flushIntervalMs: 60_000 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await send(app, '/kit/call', {
          headers: { 'x-forwarded-for': '203.0.113.1' },
          call: { track: ['ViewContent'] },
        });
        ids.push((await resultOf(res)).event_id);
      }
      // Batched (flushIntervalMs 60 s): nothing sent yet, close() sends it.
      if (kit.driver.deliversPerRequest !== true) expect(kit.mock.requests()).toEqual([]);
      await app.close();
      const sent = kit.mock.events({ event_name: 'ViewContent' }).map((e) => e.event.event_id);
      expect(sent).toEqual(ids);
      expect(app.client.closed).toBe(true);
    });

    it.skipIf(kit.driver.createClient === undefined)(
      'shares a client passed as `client` and leaves it open on close',
      async () => {
        const { pixelId, accessToken, graphUrl, env } = kit.options();
        const shared = kit.driver.createClient?.({ pixelId, accessToken, graphUrl, env });
        if (shared === undefined) return;
        // Not kit.options(): an app given `client` takes only the request-context options.
        const first = await kit.startWith({ client: shared, trustProxy: 'loopback' });
        const second = await kit.startWith({ client: shared });
        try {
          expect(first.client).toBe(shared);
          expect(second.client).toBe(shared);
          const view = (app: typeof first) =>
            send(app, '/kit/call', {
              headers: { 'x-forwarded-for': '203.0.113.9' },
              call: { track: ['ViewContent'] },
            });
          await view(first);
          await view(second);
          await first.close();
          expect(shared.closed).toBe(false);
          expect(await resultOf(await view(second))).toMatchObject({ accepted: true });
          await second.close();
          expect(shared.closed).toBe(false);
          await shared.flush();
          const ips = kit.mock.events().map((e) => e.event.user_data?.client_ip_address);
          // Each app keeps its own context options: only the first trusts the loopback proxy, the
          // second ignores a forwarded address it has no reason to believe.
          if (kit.driver.socketPeer !== false)
            expect(ips).toEqual(['203.0.113.9', '127.0.0.1', '127.0.0.1']);
          else expect(ips).toHaveLength(3);
        } finally {
          await first.close();
          await second.close();
          await shared.close();
        }
      },
    );
  });
}

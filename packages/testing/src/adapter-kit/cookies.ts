/** Checks: `_fbp`/`_fbc` are written by the core's rule, next to the app's own `Set-Cookie`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KitApp } from './driver.js';
import { cookieNames, type Kit, KNOWN_FBP, NAVIGATION, send } from './kit.js';

export function describeCookies(kit: Kit): void {
  describe('_fbp/_fbc cookies', () => {
    let app: KitApp;
    beforeAll(async () => {
      app = await kit.start();
    });
    afterAll(() => app?.close());
    const appCookies = () => kit.driver.cookieOrder.filter((n) => n !== '_fbp' && n !== '_fbc');

    it('sets _fbp and _fbc on a landing from an ad click (?fbclid=)', async () => {
      const res = await send(app, '/kit/call?fbclid=IwAR0abc_DEF-123', { headers: NAVIGATION });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      // Host-only (an IP host has no registrable domain), so subdomain index 0, and readable by the Pixel.
      expect(cookies.filter((c) => c.startsWith('_fbp='))).toEqual([
        expect.stringMatching(/^_fbp=fb\.0\.\d{13}\.\d+; Max-Age=7776000; Path=\/; SameSite=Lax$/),
      ]);
      expect(cookies.filter((c) => c.startsWith('_fbc='))).toEqual([
        expect.stringMatching(
          /^_fbc=fb\.0\.\d{13}\.IwAR0abc_DEF-123; Max-Age=7776000; Path=\/; SameSite=Lax$/,
        ),
      ]);
    });

    it("keeps the app's own cookies, set before and after the adapter runs", async () => {
      const landing = await send(app, '/kit/cookies?fbclid=IwAR0abc', { headers: NAVIGATION });
      expect(landing.status).toBe(200);
      expect(cookieNames(landing)).toEqual(kit.driver.cookieOrder);
      const cookies = landing.headers.getSetCookie();
      expect(cookies).toContain('csrf=1; Path=/');
      expect(cookies).toContain('session=abc; Path=/; HttpOnly');
      expect(cookies).toContain('theme=dark; Path=/');
      // Without fbclid no _fbc, and the next response does not carry the previous one's cookies.
      const next = await send(app, '/kit/cookies', { headers: NAVIGATION });
      expect(cookieNames(next)).toEqual(kit.driver.cookieOrder.filter((n) => n !== '_fbc'));
    });

    it('re-sets a valid _fbp on a page load, keeping its value', async () => {
      const res = await send(app, '/kit/cookies', {
        headers: { ...NAVIGATION, cookie: `_fbp=${KNOWN_FBP}` },
      });
      expect(res.headers.getSetCookie().filter((c) => c.startsWith('_fbp='))).toEqual([
        `_fbp=${KNOWN_FBP}; Max-Age=7776000; Path=/; SameSite=Lax`,
      ]);
    });

    it("sets nothing but the app's cookies on a sub-request of a returning visitor", async () => {
      const res = await send(app, '/kit/cookies', { headers: { cookie: `_fbp=${KNOWN_FBP}` } });
      expect(cookieNames(res)).toEqual(appCookies());
      const bare = await send(app, '/kit/call', {
        method: 'POST',
        headers: { cookie: `_fbp=${KNOWN_FBP}` },
      });
      expect(bare.headers.getSetCookie()).toEqual([]);
    });

    it('mints _fbp on any request of a new visitor, a fetch included', async () => {
      const res = await send(app, '/kit/call', { method: 'POST' });
      expect(cookieNames(res)).toEqual(['_fbp']);
    });

    it('writes no cookies with cookies: false', async () => {
      const off = await kit.start({ cookies: false });
      try {
        const res = await send(off, '/kit/call?fbclid=IwAR0abc', { headers: NAVIGATION });
        expect(res.status).toBe(200);
        expect(res.headers.getSetCookie()).toEqual([]);
      } finally {
        await off.close();
      }
    });
  });
}

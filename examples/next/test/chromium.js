// @ts-check
// Debian's Chromium driven by playwright-core, for the tests that need a real browser (the signup
// Server Action is called the way React encodes it, not with a hand-made request).
import { existsSync } from 'node:fs';

/** Where Chromium is: `/usr/bin/chromium` (Debian's package) unless `CHROMIUM_PATH` says otherwise. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium is installed. Without it browser tests are skipped locally and fail in CI (`CI` set). */
export const haveChromium = existsSync(CHROMIUM);

/** Why the browser tests are skipped (`meta.skipReason`, printed by `npm test`); `undefined` with Chromium. */
export const noChromium = haveChromium
  ? undefined
  : `no Chromium at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: apt-get install -y chromium, or set CHROMIUM_PATH`;

/** Launches headless Chromium with nothing of its own on the network (updates, sync, QUIC). */
export async function launchChromium() {
  if (!haveChromium)
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. CI must run this test.`,
    );
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

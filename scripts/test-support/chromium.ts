/**
 * Debian's Chromium for the packages' real-browser suites, through playwright-core (imported by
 * relative path; nothing here ships). No browser is downloaded: `CHROMIUM_PATH` or /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** The Chromium binary the suites drive. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Whether it is installed. */
export const haveChromium = existsSync(CHROMIUM);
/** What a suite says when it is not. */
export const noChromium = `no Chromium at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: apt-get install -y chromium, or set CHROMIUM_PATH`;

/** Headless Chromium without the background traffic that would reach the network; `args` added. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
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
      ...args,
    ],
  });
}

// Headless Chromium for the console's tests: Debian's `chromium` (or PORTICO_CHROMIUM), driven by puppeteer-core,
// with a fresh profile in a temporary folder and nothing that talks to the network on its own. A missing browser is
// an error, not a skip: the console is only tested in a real browser.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser } from 'puppeteer-core';

const CANDIDATES = [process.env.PORTICO_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = CANDIDATES.find((p) => p !== undefined && existsSync(p));
  if (executablePath === undefined)
    throw new Error('no Chromium found: apt-get install -y chromium (or set PORTICO_CHROMIUM to its path)');
  const profile = mkdtempSync(join(tmpdir(), 'portico-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

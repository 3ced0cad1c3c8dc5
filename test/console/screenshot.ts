// Saves a screenshot of a running console (the README's): node test/console/screenshot.ts [url] [file].
// Used with `npm start` and some traffic: see README, "The console".

import { launchBrowser } from './chromium.ts';

const url = process.argv[2] ?? 'http://127.0.0.1:9902/console/';
const file = process.argv[3] ?? 'test/console/_artifacts/console.png';
const chromium = await launchBrowser();
try {
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('li.card');
  // Let a few seconds of traffic reach the charts.
  await new Promise((r) => setTimeout(r, Number(process.env.WAIT_MS ?? 8000)));
  await page.screenshot({ path: file, fullPage: true });
  console.log(`saved ${file}`);
} finally {
  await chromium.close();
}

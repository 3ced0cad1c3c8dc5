// The console in a real browser (headless Chromium) against a real standalone Portico — operator, data plane,
// Unix socket, an echo backend — on the folder test/console/fixture: the map shows each object's state (an
// accepted route, a refused one with its reason, a Gateway with a listener that cannot be bound), a file edit shows
// within 2 s, traffic moves the route's chart, axe-core finds no serious violation, the strict CSP holds (no
// violation reported, no request leaves the admin endpoint), and no Secret data reaches the page. Screenshots go to
// test/console/_artifacts (gitignored).

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { launchBrowser } from './chromium.ts';
import type { TestBrowser } from './chromium.ts';

const FIXTURE = new URL('./fixture/', import.meta.url).pathname;
const ARTIFACTS = new URL('./_artifacts/', import.meta.url).pathname;
const SECRET_VALUE = 'console-secret-value';
const SECRET_BASE64 = Buffer.from(SECRET_VALUE).toString('base64');

const card = (id: string) => `li.card[data-id="${id}"]`;

describe('the console, in a browser', function () {
  this.timeout(90_000);
  const address = testAddress();
  let dir: string;
  let echo: EchoServer;
  let blocker: Server;
  let dataPlane: DataPlane;
  let operator: Standalone;
  let chromium: TestBrowser;
  let page: Page;
  let origin: string;
  const cspViolations: string[] = [];
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-console-'));
    echo = await startEchoServer('echo');
    // The `blocked` listener's port, held on the Gateway's own address: the data plane cannot bind it.
    blocker = createServer();
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen({ host: address, port: 18381 }, () => resolve());
    });
    for (const file of readdirSync(FIXTURE))
      writeFileSync(
        join(dir, file),
        readFileSync(join(FIXTURE, file), 'utf8')
          .replaceAll('@ADDRESS@', address)
          .replaceAll('@ECHO_PORT@', String(echo.port)),
      );
    ({ dataPlane, operator } = await startStandalonePortico(dir, {
      dataPlane: { drainMs: 1000 },
      operator: { instance: 'console-test' },
    }));
    origin = `http://127.0.0.1:${operator.adminPort}`;

    chromium = await launchBrowser();
    page = await chromium.browser.newPage();
    await page.setViewport({ width: 1440, height: 1000 });
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url().startsWith(`${origin}/`) || request.url().startsWith('data:')) return void request.continue();
      foreignRequests.push(request.url());
      void request.abort();
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    // Page-side code is given as strings: the tests are typed without the DOM library.
    await page.evaluateOnNewDocument(`document.addEventListener('securitypolicyviolation', (e) =>
      console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))`);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await chromium?.close();
    await operator?.stop();
    await dataPlane?.stop();
    await echo?.close();
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page with a strict Content-Security-Policy and loads it with no violation', async () => {
    const response = await page.goto(`${origin}/console/`, { waitUntil: 'domcontentloaded' });
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).to.include("default-src 'none'").and.to.include("script-src 'self' 'sha256-");
    expect(csp).not.to.include('unsafe-inline');
    await page.waitForSelector(card('HTTPRoute/default/web'), { timeout: 10_000 });
    expect(pageErrors).to.deep.equal([]);
    expect(cspViolations).to.deep.equal([]);
  });

  it('shows an accepted route, a refused one with its reason, and a Gateway with an unbindable listener', async () => {
    await page.waitForSelector(`${card('HTTPRoute/default/web')}[data-state="ok"]`, { timeout: 10_000 });
    const intruder = await page.waitForSelector(`${card('HTTPRoute/team-b/intruder')}[data-state="error"]`, {
      timeout: 10_000,
    });
    const refusal = await intruder!.$eval('li[data-parent="Gateway/default/demo"]', (el) => ({
      reason: el.getAttribute('data-reason'),
      text: el.textContent,
    }));
    expect(refusal.reason).to.equal('NotAllowedByListeners');
    expect(refusal.text).to.include('refused by').and.to.include('NotAllowedByListeners');

    // Accepted, but its backend is in a namespace that grants nothing: a warning, with the reason.
    const cross = await page.waitForSelector(`${card('HTTPRoute/default/cross')}[data-state="warning"]`, {
      timeout: 10_000,
    });
    expect(
      await cross!.$eval('li[data-parent="Gateway/default/demo"]', (el) => el.getAttribute('data-reason')),
    ).to.equal('RefNotPermitted');

    const gateway = await page.waitForSelector(`${card('Gateway/default/demo')}[data-state="warning"]`, {
      timeout: 10_000,
    });
    const listeners = await gateway!.$$eval('li[data-listener]', (els) =>
      els.map((el) => ({
        name: el.getAttribute('data-listener'),
        state: el.getAttribute('data-state'),
        text: el.textContent,
      })),
    );
    expect(listeners.find((l) => l.name === 'http')?.state).to.equal('ok');
    const blocked = listeners.find((l) => l.name === 'blocked');
    expect(blocked?.state).to.not.equal('ok');
    expect(blocked?.text).to.match(/18381/);
    // A ListenerSet on the Gateway, its listener, and a route attached to it.
    const set = await page.waitForSelector(`${card('ListenerSet/default/team')}[data-state="ok"]`, { timeout: 10_000 });
    expect(await set!.$eval('li[data-listener="team-http"]', (el) => el.getAttribute('data-state'))).to.equal('ok');
    expect(await set!.$eval('p.sub', (el) => el.textContent)).to.include('on default/demo');
    const team = await page.waitForSelector(`${card('HTTPRoute/default/team')}[data-state="ok"]`, { timeout: 10_000 });
    expect(await team!.$eval('li[data-parent]', (el) => el.getAttribute('data-parent'))).to.equal(
      'ListenerSet/default/team',
    );
    const classState = await page.$eval(card('GatewayClass//portico'), (el) => el.getAttribute('data-state'));
    expect(classState).to.equal('ok');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'map.png'), fullPage: true });
  });

  it('opens an object with the keyboard: its spec, its full status and its state history', async () => {
    await page.focus(`${card('HTTPRoute/team-b/intruder')} button.title`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('aside[data-details="HTTPRoute/team-b/intruder"]');
    // Focus moves to the panel's title once it has rendered (an effect after the render): wait for it, bounded.
    await page
      .waitForFunction("document.activeElement?.id === 'details-title'", { timeout: 5000 })
      .catch(() => undefined);
    const focused = await page.evaluate('document.activeElement?.id');
    expect(focused).to.equal('details-title');
    const text = await page.$eval('aside', (el) => el.textContent ?? '');
    expect(text).to.include('State history').and.to.include('NotAllowedByListeners');
    expect(text).to.include('"parentRefs"').and.to.include('"parents"');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'details.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await page.waitForSelector('aside', { hidden: true });
    const back = await page.evaluate('document.activeElement?.closest("li.card")?.getAttribute("data-id")');
    expect(back, 'focus returns to the card').to.equal('HTTPRoute/team-b/intruder');
  });

  it('filters by namespace and kind', async () => {
    await page.select('header select', 'team-b');
    await page.waitForSelector(card('HTTPRoute/default/web'), { hidden: true });
    expect(await page.$(card('HTTPRoute/team-b/intruder'))).to.not.equal(null);
    await page.select('header select', '');
    const gatewayBox = await page.$$('fieldset.filters label');
    for (const label of gatewayBox)
      if ((await label.evaluate((el) => el.textContent?.trim())) === 'Gateway') await label.click();
    await page.waitForSelector(card('Gateway/default/demo'), { hidden: true });
    for (const label of gatewayBox)
      if ((await label.evaluate((el) => el.textContent?.trim())) === 'Gateway') await label.click();
    await page.waitForSelector(card('Gateway/default/demo'));
  });

  it('shows a file edit within 2 s, without a reload', async () => {
    const marker = await page.evaluate('window.marker = Math.random()');
    const started = Date.now();
    writeFileSync(
      join(dir, 'more.yaml'),
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: added, namespace: default }
spec:
  parentRefs: [{ name: demo, sectionName: http }]
  hostnames: [added.example.com]
  rules: [{ backendRefs: [{ name: echo, port: 80 }] }]
`,
    );
    await page.waitForSelector(`${card('HTTPRoute/default/added')}[data-state="ok"]`, { timeout: 5_000 });
    const elapsed = Date.now() - started;
    expect(elapsed, `the edit showed after ${elapsed} ms`).to.be.below(2000);
    expect(await page.evaluate('window.marker'), 'the page was not reloaded').to.equal(marker);
    // A file that does not parse shows as a file error, and in the generations.
    writeFileSync(join(dir, 'broken.yaml'), 'kind: HTTPRoute\nmetadata: [unclosed\n');
    await page.waitForSelector('.file-errors', { timeout: 5_000 });
    await page.waitForSelector('tr[data-outcome="file errors"]', { timeout: 5_000 });
    rmSync(join(dir, 'broken.yaml'));
    await page.waitForSelector('.file-errors', { hidden: true, timeout: 5_000 });
    const applied = await page.$$('tr[data-outcome="applied"]');
    expect(applied.length).to.be.greaterThan(1);
  });

  it("moves the route's chart when traffic flows", async () => {
    const traffic = 'div[data-traffic="route:default/web"]';
    const deadline = Date.now() + 15_000;
    let last = 0;
    while (Date.now() < deadline) {
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => get(`http://${address}:18380/`, { headers: { host: 'web.example.com' } })),
      );
      expect(replies.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
      last = await page
        .$eval(`${traffic} figure.chart`, (el) => Number(el.getAttribute('data-last') || 0))
        .catch(() => 0);
      if (last > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(last, 'requests/s on the chart of default/web').to.be.greaterThan(0);
    const figures = await page.$$eval(`${traffic} figure.chart`, (els) =>
      els.map((el) => ({
        points: Number(el.getAttribute('data-points')),
        canvas: el.querySelector('canvas') !== null,
      })),
    );
    expect(figures).to.have.length(3);
    expect(figures.every((f) => f.canvas && f.points > 0)).to.equal(true);
    const backend = await page.waitForSelector('div[data-traffic="backend:default/echo:80"]', { timeout: 5_000 });
    expect(backend).to.not.equal(null);
    // A few more seconds of traffic, so that the screenshot shows lines rather than points.
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      await Promise.all(
        Array.from({ length: 10 }, () => get(`http://${address}:18380/`, { headers: { host: 'web.example.com' } })),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.waitForFunction(
      `Number(document.querySelector('${traffic} figure.chart')?.getAttribute('data-points')) >= 4`,
      { timeout: 5_000 },
    );
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'traffic.png'), fullPage: true });
  });

  it("explains a request with portico explain's answer: the listener, the winning rule, the losers and why", async () => {
    await page.select('form.explain select[name="gateway"]', 'default/demo');
    const fill = async (name: string, value: string) => {
      await page.$eval(`form.explain [name="${name}"]`, (el) => ((el as unknown as { value: string }).value = ''));
      await page.type(`form.explain [name="${name}"]`, value);
    };
    await fill('port', '18380');
    await fill('host', 'web.example.com');
    await fill('path', '/anything');
    await page.click('form.explain button[type="submit"]');
    const won = await page.waitForSelector('.explain-answer tr[data-verdict="won"]', { timeout: 5_000 });
    expect(await won!.evaluate((el) => el.getAttribute('data-route'))).to.equal('default/web');
    const answer = await page.$eval('.explain-answer', (el) => el.textContent ?? '');
    expect(answer).to.include('default/demo/http').and.to.include('echo');
    // A host no listener route takes: the answer says so.
    await fill('host', 'nobody.example.com');
    await page.click('form.explain button[type="submit"]');
    await page.waitForSelector('.explain-answer[data-status="404"]', { timeout: 5_000 });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'explain.png'), fullPage: true });
  });

  it('passes axe-core with no serious or critical violation', async () => {
    const require = createRequire(import.meta.url);
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> tag would be blocked).
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(
      'axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))',
    )) as Array<{ id: string; impact: string; nodes: number }>;
    writeFileSync(join(ARTIFACTS, 'axe.json'), JSON.stringify(violations, null, 2));
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, JSON.stringify(serious)).to.deep.equal([]);
  });

  it('answers only requests addressed to an IP address or localhost (no DNS rebinding)', async () => {
    const port = operator.adminPort;
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () =>
          socket.write(`GET /console/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
        );
        let head = '';
        socket.on('data', (chunk) => (head += chunk.toString('latin1')));
        socket.on('end', () => resolve(Number(head.split(' ')[1])));
        socket.on('error', reject);
      });
    expect(await status(`evil.example:${port}`)).to.equal(403);
    expect(await status(`localhost:${port}`)).to.equal(200);
    expect(await status(`[::1]:${port}`)).to.equal(200);
  });

  it('sends nothing secret and asks nothing of any other origin', async () => {
    const html = await page.content();
    expect(html).not.to.include(SECRET_VALUE).and.not.to.include(SECRET_BASE64).and.not.to.include('do-not-show');
    // The event stream itself, read for a moment.
    const controller = new AbortController();
    const response = await fetch(`${origin}/console/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: trafficHistory')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).to.include('HTTPRoute/default/web');
    // Nor do an object's details, asked for by name.
    const secret = await fetch(`${origin}/console/object?id=${encodeURIComponent('Secret/default/do-not-show')}`);
    expect(secret.status).to.equal(404);
    expect(await secret.text()).not.to.include(SECRET_BASE64);
    expect(text).not.to.include(SECRET_BASE64).and.not.to.include('do-not-show');
    expect(foreignRequests).to.deep.equal([]);
    expect(cspViolations).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});

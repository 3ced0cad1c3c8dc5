// The console in Kubernetes mode, in headless Chromium: a real kube-apiserver and etcd (the test bed of test/cluster),
// one operator replica with its data plane (test/kubernetes/support), the console of that replica. The map shows
// the objects of the API server with their states, an object created on the API server shows within 2 s without a
// reload, and traffic moves the route's chart.

import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { adminClient, apply, gatewayAddress, loadFixture, nonLoopbackIPv4 } from '../kubernetes/support/kube.ts';
import { startReplica } from '../kubernetes/support/replica.ts';
import type { Replica } from '../kubernetes/support/replica.ts';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { launchBrowser } from './chromium.ts';
import type { TestBrowser } from './chromium.ts';

const PORT = 18_391;
const card = (id: string) => `li.card[data-id="${id}"]`;

describe('the console in Kubernetes mode, in a browser', function () {
  this.timeout(180_000);
  const address = gatewayAddress();
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let replica: Replica | undefined;
  let chromium: TestBrowser | undefined;
  let page: Page;

  before(async () => {
    const backendIp = nonLoopbackIPv4();
    if (backendIp === undefined)
      throw new Error('no non-loopback IPv4 address: the API server refuses loopback addresses in EndpointSlices');
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    echo = await startEchoServer('echo', backendIp);
    for (const object of loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo.port,
    }))
      await apply(client, object);
    replica = await startReplica({ name: 'console', kubeconfigPath: cluster.kubeconfigPath });
    await replica.operator.elector.whenLeading();
    chromium = await launchBrowser();
    page = await chromium.browser.newPage();
    await page.setViewport({ width: 1440, height: 900 });
  });

  after(async () => {
    await chromium?.close();
    await replica?.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
  });

  it('shows the objects of the API server with their states', async () => {
    await page.goto(`http://127.0.0.1:${replica!.operator.adminPort}/console/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(`${card('HTTPRoute/default/echo')}[data-state="ok"]`, { timeout: 30_000 });
    await page.waitForSelector(`${card('Gateway/default/gw')}[data-state="ok"]`, { timeout: 30_000 });
    await page.waitForSelector(`${card('GatewayClass//portico')}[data-state="ok"]`, { timeout: 30_000 });
  });

  it('shows an object created on the API server within 2 s, without a reload', async () => {
    await page.evaluate('window.marker = 42');
    const started = Date.now();
    await apply(client, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'refused', namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw', sectionName: 'no-such-listener' }], rules: [{}] },
    });
    await page.waitForSelector(`${card('HTTPRoute/default/refused')}[data-state="error"]`, { timeout: 5_000 });
    const elapsed = Date.now() - started;
    expect(elapsed, `shown after ${elapsed} ms`).to.be.below(2000);
    const reason = await page.$eval(`${card('HTTPRoute/default/refused')} li[data-parent]`, (el) =>
      el.getAttribute('data-reason'),
    );
    expect(reason).to.equal('NoMatchingParent');
    expect(await page.evaluate('window.marker'), 'the page was not reloaded').to.equal(42);
  });

  it("moves the route's chart when traffic flows", async () => {
    const deadline = Date.now() + 15_000;
    let last = 0;
    while (Date.now() < deadline && last === 0) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => get(`http://${address}:${PORT}/echo`)));
      expect(replies.map((r) => r.status)).to.deep.equal(Array(10).fill(200));
      last = await page
        .$eval('div[data-traffic="route:default/echo"] figure.chart', (el) => Number(el.getAttribute('data-last') || 0))
        .catch(() => 0);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(last, 'requests/s on the chart of default/echo').to.be.greaterThan(0);
  });
});

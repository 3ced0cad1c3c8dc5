// Standalone mode end to end: a folder of YAML → file provider → operator → Unix socket → data plane → real HTTP
// requests. Covers a file edited while traffic flows (no failed request on the routes that did not change), a file
// that stops parsing (its objects stay, the file error is reported), and a malformed object (its status says why,
// the others keep working), and a ListenerSet whose listener is bound on its Gateway's address.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { expect } from 'chai';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';

const gatewayYaml = (address: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: portico }
spec: { controllerName: portico.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${address} }]
  listeners: [{ name: http, protocol: HTTP, port: 18180 }]
`;

const serviceYaml = (name: string, port: number) => `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { ports: [{ name: http, port: 80, targetPort: ${port} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;

const routeYaml = (name: string, prefix: string, service: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${prefix} } }], backendRefs: [{ name: ${service}, port: 80 }] }]
`;

describe('standalone mode end to end', function () {
  this.timeout(60_000);
  const address = testAddress();
  const base = `http://${address}:18180`;
  let dir: string;
  let dataPlane: DataPlane;
  let operator: Standalone;
  let a: EchoServer;
  let b: EchoServer;

  async function settled(): Promise<void> {
    // Wait until the reconciler has published what the store holds now. File events settle first: at least 150 ms,
    // then until the provider has read what changed and the store stops moving (under load an event can arrive late).
    await new Promise((r) => setTimeout(r, 150));
    for (let stable = 0, last = -1, deadline = Date.now() + 5000; stable < 3 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 30));
      const revision = operator.store.revision;
      stable = operator.files.busy || revision !== last ? 0 : stable + 1;
      last = revision;
    }
    await operator.reconciler.whenPublished(operator.store.revision);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-e2e-'));
    a = await startEchoServer('a');
    b = await startEchoServer('b');
    writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml(address));
    writeFileSync(join(dir, 'services.yaml'), `${serviceYaml('svc-a', a.port)}---${serviceYaml('svc-b', b.port)}`);
    writeFileSync(join(dir, 'stable.yaml'), routeYaml('stable', '/stable', 'svc-a'));
    writeFileSync(join(dir, 'moving.yaml'), routeYaml('moving', '/moving', 'svc-a'));
    ({ dataPlane, operator } = await startStandalonePortico(dir, { operator: { instance: 'e2e' } }));
  });
  after(async () => {
    await operator?.stop();
    await dataPlane?.stop();
    await Promise.all([a?.close(), b?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the routes of the folder and reports the Gateway Programmed after the data plane applied it', async () => {
    expect((await get(`${base}/stable/x`, { headers: { host: 'x' } })).echo?.backend).to.equal('a');
    const gateway = operator.statuses.all().find((s) => s.kind === 'Gateway');
    const conditions = (gateway!.status as { conditions: Array<{ type: string; status: string }> }).conditions;
    expect(conditions.find((c) => c.type === 'Programmed')?.status).to.equal('True');
    const admin = await get(`http://127.0.0.1:${operator.adminPort}/status`);
    expect(admin.text).to.include('kind: HTTPRoute').and.to.include('name: stable');
  });

  it('applies a file edit while traffic flows, with no failed request on the unchanged route', async () => {
    let running = true;
    const failures: string[] = [];
    let ok = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          const reply = await get(`${base}/stable/y`, { headers: { host: 'x' } }).catch((e: Error) => ({
            status: 0,
            text: e.message,
          }));
          if (reply.status === 200) ok++;
          else failures.push(`${reply.status} ${reply.text}`);
        }
      }),
    );
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(dir, 'moving.yaml'), routeYaml('moving', '/moving', i % 2 === 0 ? 'svc-b' : 'svc-a'));
      await settled();
    }
    running = false;
    await load;
    expect(failures).to.deep.equal([]);
    expect(ok).to.be.greaterThan(50);
    // The last edit reaches the store when the file watcher reports it, which under load can come after settled()'s
    // pause: wait for it (bounded) rather than for a fixed time.
    let backend: string | undefined;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
      backend = (await get(`${base}/moving/z`, { headers: { host: 'x' } })).echo?.backend;
      if (backend === 'a') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(backend).to.equal('a');
  });

  it('keeps the last good objects of a file that stops parsing, and reports the file', async () => {
    writeFileSync(
      join(dir, 'moving.yaml'),
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: moving\n  spec: [',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(operator.files.errors().map((e) => e.file)).to.deep.equal(['moving.yaml']);
    expect((await get(`http://127.0.0.1:${operator.adminPort}/status`)).text)
      .to.include('fileErrors')
      .and.to.include('moving.yaml');
    expect((await get(`${base}/moving/z`, { headers: { host: 'x' } })).status).to.equal(200);
    writeFileSync(join(dir, 'moving.yaml'), routeYaml('moving', '/moving', 'svc-b'));
    await settled();
    expect(operator.files.errors()).to.deep.equal([]);
    expect((await get(`${base}/moving/z`, { headers: { host: 'x' } })).echo?.backend).to.equal('b');
  });

  it('gives a malformed object a status that says why, and keeps everything else working', async () => {
    writeFileSync(
      join(dir, 'broken.yaml'),
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ matches: [{ path: { type: RegularExpression, value: "((a{100}){100}){100}" } }], backendRefs: [{ name: svc-a, port: 80 }] }]
`,
    );
    await settled();
    const broken = operator.statuses.all().find((s) => s.name === 'broken');
    const text = JSON.stringify(broken?.status);
    expect(text).to.match(/"status":"False"/);
    expect(text).to.match(/path/i);
    expect((await get(`${base}/stable/still`, { headers: { host: 'x' } })).status).to.equal(200);
  });

  it('reports a YAML alias bomb as a file error instead of failing', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      );
    writeFileSync(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\n`);
    await new Promise((r) => setTimeout(r, 300));
    expect(operator.files.errors().map((e) => e.file)).to.include('bomb.yaml');
    expect((await get(`${base}/stable/after-bomb`, { headers: { host: 'x' } })).status).to.equal(200);
    rmSync(join(dir, 'bomb.yaml'));
  });

  it('binds a listener whose port was taken once it is free again, and its status follows', async () => {
    const other = testAddress();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(18181, other, r));
    writeFileSync(
      join(dir, 'blocked.yaml'),
      `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: blocked, namespace: default }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${other} }]
  listeners: [{ name: http, protocol: HTTP, port: 18181 }]
---
${routeYaml('blocked-route', '/', 'svc-a').replace('name: gw', 'name: blocked')}`,
    );
    await settled();
    const programmed = () => {
      const gw = operator.statuses.all().find((s) => s.kind === 'Gateway' && s.name === 'blocked');
      const listener = (
        gw?.status as { listeners?: Array<{ conditions: Array<{ type: string; status: string; message: string }> }> }
      )?.listeners?.[0];
      return listener?.conditions.find((c) => c.type === 'Programmed');
    };
    for (const until = Date.now() + 10_000; programmed()?.status !== 'False' && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 100));
    expect(programmed()?.status).to.equal('False');
    expect(programmed()?.message).to.match(/EADDRINUSE/);
    await new Promise<void>((r) => blocker.close(() => r()));
    const deadline = Date.now() + 10_000;
    while (programmed()?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(programmed()?.status).to.equal('True');
    expect((await get(`http://${other}:18181/x`, { headers: { host: 'x' } })).echo?.backend).to.equal('a');
    rmSync(join(dir, 'blocked.yaml'));
    await settled();
  });

  it('binds the listener of a ListenerSet on the address of its Gateway and serves the routes attached to the set there', async () => {
    const own = testAddress();
    writeFileSync(
      join(dir, 'listenerset.yaml'),
      `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: shared, namespace: default }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${own} }]
  allowedListeners: { namespaces: { from: Same } }
  listeners: [{ name: http, protocol: HTTP, port: 18182, hostname: gateway.example }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: team, namespace: default }
spec:
  parentRef: { name: shared }
  listeners: [{ name: team-http, protocol: HTTP, port: 18183, hostname: team.example }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: team-route, namespace: default }
spec:
  parentRefs: [{ kind: ListenerSet, name: team }]
  rules: [{ backendRefs: [{ name: svc-b, port: 80 }] }]`,
    );
    await settled();
    expect((await get(`http://${own}:18183/x`, { headers: { host: 'team.example' } })).echo?.backend).to.equal('b');
    // A route attached to the set is not on the Gateway's own listener.
    expect((await get(`http://${own}:18182/x`, { headers: { host: 'gateway.example' } })).status).to.equal(404);
    const set = operator.statuses.all().find((s) => s.kind === 'ListenerSet' && s.name === 'team');
    const conditions = (set!.status as { conditions: Array<{ type: string; status: string }> }).conditions;
    expect(conditions.map((c) => `${c.type}=${c.status}`)).to.deep.equal(['Accepted=True', 'Programmed=True']);
    const gateway = operator.statuses.all().find((s) => s.kind === 'Gateway' && s.name === 'shared');
    expect((gateway!.status as { attachedListenerSets?: number }).attachedListenerSets).to.equal(1);
    rmSync(join(dir, 'listenerset.yaml'));
    await settled();
  });

  it('removes the objects of a deleted file', async () => {
    rmSync(join(dir, 'moving.yaml'));
    await settled();
    expect((await get(`${base}/moving/z`, { headers: { host: 'x' } })).status).to.equal(404);
    expect(operator.statuses.all().some((s) => s.name === 'moving')).to.equal(false);
  });
});

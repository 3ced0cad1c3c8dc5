// XBackendTrafficPolicy in Kubernetes mode, on the test bed's real kube-apiserver with the v1.7.0 experimental CRDs:
// the operator watches the kind, writes each policy's `status.ancestors` (Accepted, Conflicted, Invalid for a retry
// budget, TargetNotFound), and the accepted policy's session persistence reaches the data plane: a real HTTP client
// through the gateway gets the cookie and stays on one of the Service's two endpoints. The same fixture once more in
// standalone mode (the policies are files in the folder), where the same statuses and stickiness must come out.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { freePorts } from '../observability/support/ports.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
} from './support/kube.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import type { StandalonePortico } from '../support/standalone-portico.ts';
import { startReplica } from './support/replica.ts';
import type { Replica } from './support/replica.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubernetes: XBackendTrafficPolicy status and session persistence (v1.7.0 experimental CRDs)', function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let replica: Replica | undefined;
  const servers: Server[] = [];
  const address = gatewayAddress();
  let port: number;

  before(async function () {
    const backendAddress = backendAddressOrSkip(this); // EndpointSlices refuse loopback addresses
    const ports: number[] = [];
    for (const name of ['endpoint-a', 'endpoint-b']) {
      const server = createServer((_req, res) => res.writeHead(200).end(name));
      await new Promise<void>((resolve) => server.listen(0, backendAddress, resolve));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
    [port] = await freePorts(1);
    cluster = await startCluster();
    client = adminClient(cluster.kubeconfigPath);
    const vars = {
      GATEWAY_ADDRESS: address,
      PORT: port,
      BACKEND_ADDRESS: backendAddress,
      PORT_A: ports[0],
      PORT_B: ports[1],
    };
    for (const object of loadFixture('backend-traffic-policy.yaml', vars)) await apply(client, object);
    // Created later (creationTimestamp has one-second steps) and first by name: only its age makes it lose.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await apply(client, {
      apiVersion: 'gateway.networking.x-k8s.io/v1alpha1',
      kind: 'XBackendTrafficPolicy',
      metadata: { name: 'a-newer', namespace: 'default' },
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'app' }],
        sessionPersistence: { type: 'Header', header: { name: 'x-newer' } },
      },
    });
    replica = await startReplica({ name: 'traffic', kubeconfigPath: cluster.kubeconfigPath });
    await replica.operator.elector.whenLeading();
  });

  after(async () => {
    try {
      await replica?.stop();
      await client?.close();
    } finally {
      for (const server of servers) server.close();
      await cluster?.stop();
    }
  });

  const accepted = async (name: string) => {
    const policy = await getObject(client, 'XBackendTrafficPolicy', 'default', name);
    const ancestors = (
      policy?.status as { ancestors?: Array<{ ancestorRef: { name: string }; conditions: unknown[] }> }
    )?.ancestors;
    const ancestor = ancestors?.[0];
    if (ancestor === undefined) return undefined;
    expect(ancestor.ancestorRef.name).to.equal('sticky');
    return conditionOf(ancestor, 'Accepted');
  };

  it('writes Accepted, Conflicted, Invalid (retry budget) and TargetNotFound on the policies', async () => {
    const sticky = await eventually('the older policy to be Accepted', () => accepted('sticky'));
    expect(sticky).to.include({ status: 'True', reason: 'Accepted' });
    const newer = await eventually('the newer policy to have a status', () => accepted('a-newer'));
    expect(newer).to.include({ status: 'False', reason: 'Conflicted' });
    expect(newer.message).to.contain('XBackendTrafficPolicy default/sticky');
    const budget = await eventually('the budget policy to have a status', () => accepted('budget'));
    expect(budget).to.include({ status: 'False', reason: 'Invalid' });
    expect(budget.message).to.contain('spec.retryConstraint');
    const lost = await eventually('the policy on a missing Service to have a status', () => accepted('lost'));
    expect(lost).to.include({ status: 'False', reason: 'TargetNotFound' });
  });

  it("applies the accepted policy's cookie session persistence in the data plane", async () => {
    const first = await eventually('the route to answer 200', async () => {
      const answer = await get(address, port, '/app');
      return answer.status === 200 ? answer : undefined;
    });
    const cookie = (first.headers['set-cookie'] ?? []).find((c) => c.startsWith('app-session='));
    expect(cookie, 'the policy cookie').to.match(/^app-session=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Strict$/);
    const token = (cookie as string).split(';')[0];
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await get(address, port, '/app', { cookie: token })).body);
    expect([...seen]).to.deep.equal([first.body]);
    const spread = new Set<string>();
    for (let i = 0; i < 6; i++) spread.add((await get(address, port, '/app')).body);
    expect([...spread].sort()).to.deep.equal(['endpoint-a', 'endpoint-b']);
  });
});

describe('standalone: XBackendTrafficPolicy files get statuses and their session persistence applies', () => {
  let dir: string;
  let portico: StandalonePortico | undefined;
  const servers: Server[] = [];
  const address = gatewayAddress();
  let port: number;

  before(async () => {
    const ports: number[] = [];
    for (const name of ['endpoint-a', 'endpoint-b']) {
      const server = createServer((_req, res) => res.writeHead(200).end(name));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
    [port] = await freePorts(1);
    dir = mkdtempSync(join(tmpdir(), 'portico-traffic-policy-'));
    const vars = {
      GATEWAY_ADDRESS: address,
      PORT: port,
      BACKEND_ADDRESS: '127.0.0.1',
      PORT_A: ports[0],
      PORT_B: ports[1],
    };
    const objects = loadFixture('backend-traffic-policy.yaml', vars);
    writeFileSync(join(dir, 'sticky.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    portico = await startStandalonePortico(dir);
  });

  after(async () => {
    await portico?.operator.stop();
    await portico?.dataPlane.stop();
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each policy its status, and pins a client with the accepted policy’s cookie', async () => {
    const reasons = new Map<string, string>();
    for (const status of portico!.operator.statuses.all())
      if (status.kind === 'XBackendTrafficPolicy')
        reasons.set(
          status.name,
          conditionOf((status.status as { ancestors: unknown[] }).ancestors[0], 'Accepted')?.reason ?? '',
        );
    expect(Object.fromEntries(reasons)).to.deep.equal({
      budget: 'Invalid',
      lost: 'TargetNotFound',
      sticky: 'Accepted',
    });
    const first = await eventually('the route to answer 200', async () => {
      const answer = await get(address, port, '/app');
      return answer.status === 200 ? answer : undefined;
    });
    const cookie = (first.headers['set-cookie'] ?? []).find((c) => c.startsWith('app-session='));
    const token = (cookie as string).split(';')[0];
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(address, port, '/app', { cookie: token })).body);
    expect([...seen]).to.deep.equal([first.body]);
  });
});

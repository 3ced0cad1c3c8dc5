// XTelemetryPolicy (GEP-4768) pointing the real data plane at a real Jaeger, with no tracing flag on the command line:
// the policy's provider backendRef (a Service with an EndpointSlice at Jaeger's OTLP receiver) is the only way the
// data plane learns where to send spans. Once in standalone mode (the policy is a file in the folder), once in
// Kubernetes mode on the test bed's real kube-apiserver with the v1.7.0 experimental CRDs, where a second, newer
// policy on the same Gateway gets Accepted=False Conflicted and the older one's settings are the ones applied.
// Kept beside jaeger.test.ts (same Jaeger support) rather than in it: that file is at the size STYLE.md allows.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import type { StandalonePortico } from '../support/standalone-portico.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
  nonLoopbackIPv4,
} from '../kubernetes/support/kube.ts';
import { startReplica } from '../kubernetes/support/replica.ts';
import type { Replica } from '../kubernetes/support/replica.ts';
import { Jaeger, buildJaeger, tagsOf } from './support/jaeger.ts';
import type { JaegerTrace } from './support/jaeger.ts';
import { freePorts } from './support/ports.ts';

function get(host: string, port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends a request with a sampled traceparent of a fresh trace id until the gateway answers 200; returns the id. */
async function tracedRequest(host: string, port: number): Promise<string> {
  const traceId = randomBytes(16).toString('hex');
  const headers = { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'x-user-id': 'u-42' };
  await eventually('the route to answer 200', async () => (await get(host, port, '/shop/cart', headers)) === 200);
  return traceId;
}

/** The gateway's spans of `trace` (server and upstream), by the service name they were exported under. */
function gatewaySpans(trace: JaegerTrace, service: string) {
  return trace.spans.filter((s) => trace.processes[s.processID].serviceName === service);
}

describe('observability: XTelemetryPolicy points the data plane at a real Jaeger (no --otlp-endpoint)', function () {
  this.timeout(600_000); // the first run builds Jaeger; later runs take seconds
  // Jaeger listens where an EndpointSlice may point: the API server refuses loopback addresses in them.
  const hostAddress = nonLoopbackIPv4() ?? '127.0.0.1';
  let jaeger: Jaeger;
  let backend: Server;

  before(async () => {
    jaeger = await Jaeger.start(buildJaeger(), hostAddress);
    backend = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((resolve) => backend.listen(0, hostAddress, resolve));
  });

  after(async () => {
    await new Promise((resolve) => backend?.close(resolve));
    await jaeger?.stop();
  });

  const fixture = (gatewayAddressValue: string, port: number, serviceName: string) =>
    loadFixture('telemetry-policy.yaml', {
      GATEWAY_ADDRESS: gatewayAddressValue,
      PORT: port,
      BACKEND_ADDRESS: hostAddress,
      BACKEND_PORT: (backend.address() as AddressInfo).port,
      OTLP_ADDRESS: jaeger.otlpHost,
      OTLP_PORT: jaeger.otlpPort,
      SERVICE_NAME: serviceName,
    });

  describe('standalone mode: the policy is a file in the folder', () => {
    let dir: string;
    let portico: StandalonePortico | undefined;
    const address = gatewayAddress();
    let port: number;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'portico-policy-'));
      [port] = await freePorts(1);
      const objects = fixture(address, port, 'portico-standalone');
      writeFileSync(join(dir, 'traced.yaml'), objects.map((o) => stringify(o)).join('---\n'));
      portico = await startStandalonePortico(dir); // the data plane has no tracing settings at all
    });

    after(async () => {
      await portico?.operator.stop();
      await portico?.dataPlane.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sends the Gateway’s spans to the collector the policy names, with its service name and attributes', async () => {
      const status = portico!.operator.statuses.all().find((s) => s.kind === 'XTelemetryPolicy');
      expect(status?.status).to.have.nested.property('ancestors[0].conditions[0].status', 'True');
      const traceId = await tracedRequest(address, port);
      const trace = await jaeger.waitForTrace(traceId, 2);
      const spans = gatewaySpans(trace, 'portico-standalone');
      expect(spans.map((s) => tagsOf(s)['span.kind']).sort()).to.deep.equal(['client', 'server']);
      const server = tagsOf(spans.find((s) => tagsOf(s)['span.kind'] === 'server')!);
      expect(server['deployment.environment']).to.equal('policy-test');
      expect(server['app.user']).to.equal('u-42');
      expect(server['http.route']).to.equal('/shop/*');
    });
  });

  describe('Kubernetes mode: real API server, v1.7.0 experimental CRDs, two policies on one Gateway', () => {
    let cluster: Cluster | undefined;
    let client: KubeClient;
    let replica: Replica | undefined;
    const address = gatewayAddress();
    let port: number;

    before(async function () {
      backendAddressOrSkip(this); // EndpointSlices need a non-loopback address
      cluster = await startCluster(); // the v1.7.0 experimental CRDs, XTelemetryPolicy among them
      client = adminClient(cluster.kubeconfigPath);
      [port] = await freePorts(1);
      for (const object of fixture(address, port, 'portico-older')) await apply(client, object);
      // Created later (creationTimestamp has one-second steps) and first by name: only its age makes it lose.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await apply(client, {
        apiVersion: 'gateway.networking.x-k8s.io/v1alpha1',
        kind: 'XTelemetryPolicy',
        metadata: { name: 'a-newer', namespace: 'default' },
        spec: {
          targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'traced' }],
          tracing: {
            mode: 'Enabled',
            provider: { backendRef: { name: 'otel-collector', port: 4318 } },
            samplingRate: { numerator: 100, denominator: 100 },
            serviceName: 'portico-newer',
          },
        },
      });
      replica = await startReplica({ name: 'telemetry', kubeconfigPath: cluster.kubeconfigPath });
      await replica.operator.elector.whenLeading();
    });

    after(async () => {
      try {
        await replica?.stop();
        await client?.close();
      } finally {
        await cluster?.stop();
      }
    });

    it('writes Accepted on the older policy and Conflicted on the newer one', async () => {
      const accepted = async (name: string) => {
        const policy = await getObject(client, 'XTelemetryPolicy', 'default', name);
        const ancestor = (policy?.status as { ancestors?: Array<{ conditions: unknown[] }> })?.ancestors?.[0];
        return ancestor === undefined ? undefined : conditionOf(ancestor, 'Accepted');
      };
      const older = await eventually('the older policy to be Accepted', async () => await accepted('tracing'));
      expect(older).to.include({ status: 'True', reason: 'Accepted' });
      const newer = await eventually('the newer policy to have a status', async () => await accepted('a-newer'));
      expect(newer).to.include({ status: 'False', reason: 'Conflicted' });
      expect(newer.message).to.contain('XTelemetryPolicy default/tracing');
    });

    it('exports to Jaeger as the older policy says (its service name), none as the newer one', async () => {
      const traceId = await tracedRequest(address, port);
      const trace = await jaeger.waitForTrace(traceId, 2);
      expect(gatewaySpans(trace, 'portico-older')).to.have.length(2);
      expect(gatewaySpans(trace, 'portico-newer')).to.deep.equal([]);
    });
  });
});

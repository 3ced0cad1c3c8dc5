// The operator's reconcile passes as traces in a real Jaeger: a standalone operator (file mode, in this process) with
// --traces-endpoint pointing at Jaeger publishes to a real data plane; each pass is a `reconcile` trace with
// `translate`, `publish` and the data plane's `apply` below it, found through Jaeger's query API.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { Jaeger, buildJaeger, tagsOf } from './support/jaeger.ts';
import type { JaegerTrace } from './support/jaeger.ts';
import { freePorts, waitFor } from './support/ports.ts';

describe('observability: operator reconcile passes as traces in a real Jaeger', function () {
  this.timeout(600_000); // the first run builds Jaeger

  let jaeger: Jaeger;
  let dir: string;
  let dataPlane: DataPlane;
  let operator: Standalone;

  before(async () => {
    jaeger = await Jaeger.start(buildJaeger());
    dir = mkdtempSync(join(tmpdir(), 'portico-optrace-'));
    const [port] = await freePorts(1);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: portico }
spec: { controllerName: portico.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${testAddress()} }]
  listeners: [{ name: http, protocol: HTTP, port: ${port} }]
`,
    );
    ({ dataPlane, operator } = await startStandalonePortico(dir, {
      dataPlane: { shards: 1, drainMs: 1000 },
      operator: { instance: 'trace-test', tracesEndpoint: jaeger.otlpEndpoint },
    }));
  });

  after(async () => {
    try {
      await operator?.stop(); // flushes the operator's spans
      await dataPlane?.stop();
    } finally {
      await jaeger?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pass is a reconcile span with translate, publish and the data plane apply under it', async () => {
    // Stopping the operator flushes its exporter; until then spans leave every second. Wait for Jaeger to list them.
    const traces = await waitFor(
      'a reconcile trace of service portico-operator',
      async () => {
        const res = await fetch(`${jaeger.queryUrl}/api/traces?service=portico-operator&limit=20`);
        if (!res.ok) return undefined;
        const body = (await res.json()) as { data: JaegerTrace[] };
        return body.data.some((t) => t.spans.length >= 4) ? body.data : undefined;
      },
      20_000,
    );
    const trace = traces.find((t) => t.spans.length >= 4) as JaegerTrace;
    const byName = new Map(trace.spans.map((s) => [s.operationName, s]));
    const root = byName.get('reconcile');
    const translate = byName.get('translate');
    const publish = byName.get('publish');
    const apply = byName.get('dataplane apply');
    expect(root && translate && publish && apply, [...byName.keys()].join(',')).to.not.equal(undefined);
    if (!root || !translate || !publish || !apply) return;
    const parent = (s: typeof root) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
    expect(parent(root)).to.equal(undefined);
    expect(parent(translate)).to.equal(root.spanID);
    expect(parent(publish)).to.equal(root.spanID);
    expect(parent(apply)).to.equal(publish.spanID);
    expect(tagsOf(root)).to.include({ 'portico.publish.outcome': 'ack' });
    expect(tagsOf(root)['portico.config.generation']).to.be.a('number').and.greaterThan(0);
    expect(trace.processes[root.processID].serviceName).to.equal('portico-operator');
  });
});

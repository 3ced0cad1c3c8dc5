// A real Prometheus scrapes a running standalone Portico (the data plane with 2 shards and the operator in file mode,
// in this process as test/standalone does) under load; every query of the Grafana dashboard and every expression of
// the PrometheusRule is evaluated through Prometheus's HTTP API, and the alerts whose condition the test produces on
// purpose fire: 5xx ratio (a backend that answers 503), refused configuration (a config the data plane nacks, sent on
// its socket), a certificate expiring within 14 days (a listener certificate valid for 5 days). A rule behind a real
// HTTP authorizer (allowed and denied requests) feeds the external-authorization panels.
// Not produced here, and said so in the assertions: no ready shards (the supervisor respawns a shard that dies; the
// expression is evaluated and its metric checked present) and leader lost (Kubernetes mode only: its metric does not
// exist in standalone mode, nor do the other Kubernetes-mode panels listed in KUBERNETES_ONLY; both are covered by
// prometheus-kubernetes.test.ts).
// The rules are loaded with `for` set to 0s so that firing needs no waiting; the expressions are the manifest's.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import { encodeFrame } from '../../shared/protocol/frames.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import { startHttpAuthorizer } from '../support/authorizers.ts';
import type { Authorizer } from '../support/authorizers.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { Prometheus, promtoolCheckRules } from './support/prometheus.ts';
import { freePorts, waitFor } from './support/ports.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Dashboard queries over metrics only Kubernetes mode exports: empty here, on purpose (checked to stay empty). */
const KUBERNETES_ONLY = [
  'portico_operator_status_write_seconds',
  'portico_operator_status_queue_depth',
  'portico_operator_leader',
  'portico_operator_watch',
];

const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Ports {
  http: number;
  https: number;
  tcp: number;
  ok: number;
  failing: number;
  /** A port nothing listens on: the upstream-errors panel's connection failures. */
  closed: number;
  /** An HTTP external authorizer (the external-authorization panels). */
  authz: number;
}

function folder(address: string, ports: Ports, pem: { cert: string; key: string }) {
  const service = (name: string, port: number) => `
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
  const route = (name: string, prefix: string, backend: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${prefix} } }], backendRefs: [{ name: ${backend}, port: 80 }] }]
`;
  // A rule behind an HTTP authorizer: "Bearer good" is allowed, anything else denied (test/support/authorizers.ts).
  const guarded = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: guarded, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /guarded } }]
      filters:
        - type: ExternalAuth
          externalAuth: { protocol: HTTP, http: {}, backendRef: { name: authz, port: 80 } }
      backendRefs: [{ name: ok, port: 80 }]
`;
  return {
    'gateway.yaml': `
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
  listeners:
    - { name: http, protocol: HTTP, port: ${ports.http} }
    - { name: tcp, protocol: TCP, port: ${ports.tcp} }
    - name: https
      protocol: HTTPS
      port: ${ports.https}
      hostname: site.test
      tls: { mode: Terminate, certificateRefs: [{ name: site-cert }] }
---
apiVersion: v1
kind: Secret
metadata: { name: site-cert, namespace: default }
type: kubernetes.io/tls
data: { tls.crt: ${b64(pem.cert)}, tls.key: ${b64(pem.key)} }
`,
    'services.yaml': [
      service('ok', ports.ok),
      service('failing', ports.failing),
      service('down', ports.closed),
      service('authz', ports.authz),
    ].join('---'),
    'routes.yaml': [
      route('ok', '/ok', 'ok'),
      route('failing', '/fail', 'failing'),
      route('down', '/down', 'down'),
      guarded,
    ].join('---'),
    'tcproute.yaml': `
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: { name: tcp, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: ok, port: 80 }] }]
`,
  };
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}

describe('observability: Prometheus scrapes a running Portico; dashboard and alerts return data', function () {
  this.timeout(120_000);
  const address = testAddress();
  let dir: string;
  let dataPlane: DataPlane;
  let operator: Standalone;
  let ok: EchoServer;
  let authz: Authorizer;
  let failing: ReturnType<typeof createServer>;
  let prometheus: Prometheus;
  let rules: Rule[];
  let ports: Ports;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-prom-'));
    ok = await startEchoServer('ok');
    authz = await startHttpAuthorizer('prometheus-user');
    // A backend that answers 503 to everything: the 5xx ratio alert's condition.
    failing = createServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const [http, https, tcp, closed] = await freePorts(4);
    ports = {
      http,
      https,
      tcp,
      closed,
      ok: ok.port,
      failing: (failing.address() as AddressInfo).port,
      authz: authz.port,
    };
    const files = folder(address, ports, makeLeaf(makeCa(), ['site.test'], { days: 5 }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    ({ dataPlane, operator } = await startStandalonePortico(dir, { operator: { instance: 'prometheus-test' } }));

    const manifest = parse(readFileSync(join(ROOT, 'manifests/observability/prometheusrule.yaml'), 'utf8'));
    const groups = manifest.spec.groups as Array<{ name: string; rules: Rule[] }>;
    rules = groups.flatMap((g) => g.rules);
    prometheus = await Prometheus.start(
      {
        'portico-dataplane': [`127.0.0.1:${dataPlane.adminPort}`],
        'portico-operator': [`127.0.0.1:${operator.adminPort}`],
      },
      groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, for: '0s' })) })),
    );
  });

  after(async () => {
    await prometheus?.stop();
    try {
      await operator?.stop();
      await dataPlane?.stop();
      await ok?.close();
      await authz?.close();
      await new Promise((resolve) => failing?.close(resolve));
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool accepts the PrometheusRule group', () => {
    const file = join(prometheus.dir, 'rules.yml');
    expect(promtoolCheckRules(file)).to.match(/SUCCESS: 5 rules found/);
  });

  it('scrapes both admin endpoints', async () => {
    const targets = await waitFor('both targets up', async () => {
      const list = await prometheus.targetsUp();
      return list.length === 2 && list.every((t) => t.health === 'up') ? list : undefined;
    });
    expect(targets.map((t) => t.job).sort()).to.deep.equal(['portico-dataplane', 'portico-operator']);
  });

  it('under load, with a refused configuration, every dashboard query returns data and the alerts fire', async () => {
    // Load: /ok and /fail through the gateway for a few seconds, a few requests in flight.
    const base = `http://${address}:${ports.http}`;
    const deadline = Date.now() + 6000;
    const counts = { ok: 0, fail: 0, other: 0 };
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        while (Date.now() < deadline) {
          const path = worker % 2 === 0 ? '/ok/x' : '/fail/x';
          const res = await fetch(`${base}${path}`, { headers: { host: 'x' } });
          await res.arrayBuffer();
          if (res.status === 200) counts.ok++;
          else if (res.status === 503) counts.fail++;
          else counts.other++;
        }
      }),
    );
    expect(counts.ok).to.be.greaterThan(20);
    expect(counts.fail).to.be.greaterThan(20);
    expect(counts.other).to.equal(0);
    // Through the authorizer: allowed and denied (the external-authorization panels).
    const allowed = await fetch(`${base}/guarded/x`, { headers: { host: 'x', authorization: 'Bearer good' } });
    expect(allowed.status).to.equal(200);
    await allowed.arrayBuffer();
    const denied = await fetch(`${base}/guarded/x`, { headers: { host: 'x' } });
    expect(denied.status).to.equal(401);
    await denied.arrayBuffer();
    // A backend with no listener (upstream errors) and a TCP connection through the TCP listener (L4 panel).
    expect((await fetch(`${base}/down`, { headers: { host: 'x' } })).status).to.be.within(502, 503);
    const tcp = connect(ports.tcp, address);
    await new Promise((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
    tcp.end('GET / HTTP/1.0\r\n\r\n');
    await new Promise((resolve) => tcp.once('close', resolve).on('data', () => {}));

    // A refused configuration: a config of an unknown IR version on the data plane's socket (it nacks it; the
    // operator's connection is replaced, it reconnects and publishes again).
    const socket = connect(join(dir, 'dp.sock'));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(encodeFrame({ type: 'hello', role: 'operator', protocol: 1, instance: 'refused-on-purpose' }));
    const empty = { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
    socket.write(
      encodeFrame({
        type: 'config',
        delta: {
          irVersion: 999,
          generation: dataPlane.generation() + 1,
          baseGeneration: 0,
          upsert: empty,
          remove: empty,
        },
      }),
    );
    await waitFor('the nack to be counted', async () =>
      (await (await fetch(`http://127.0.0.1:${dataPlane.adminPort}/metrics`)).text()).includes(
        'portico_dataplane_config_total{outcome="Invalid"}',
      )
        ? true
        : undefined,
    );
    socket.destroy();

    // The dashboard: every query returns data, except the Kubernetes-mode ones (empty here, by design).
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'manifests/observability/grafana-dashboard.json'), 'utf8'));
    const queries: Array<{ title: string; expr: string }> = dashboard.panels.flatMap(
      (p: { title: string; targets: Array<{ expr: string }> }) =>
        p.targets.map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(queries.length).to.be.greaterThan(15);
    const empty_: string[] = [];
    await waitFor(
      'every dashboard query to return data',
      async () => {
        empty_.length = 0;
        for (const q of queries) {
          const kubernetesOnly = KUBERNETES_ONLY.some((m) => q.expr.includes(m));
          const result = await prometheus.query(q.expr);
          if (kubernetesOnly) expect(result, `${q.title} is Kubernetes-only but returned data`).to.deep.equal([]);
          else if (result.length === 0) empty_.push(`${q.title}: ${q.expr}`);
        }
        return empty_.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\nempty: ${empty_.join('\n')}`);
    });
    const kubernetesOnlyPanels = queries.filter((q) => KUBERNETES_ONLY.some((m) => q.expr.includes(m)));
    expect(kubernetesOnlyPanels.length).to.equal(4);

    // The alerts: the three produced on purpose fire; the two not produced do not.
    let states = '';
    const firing = await waitFor(
      'the produced alerts to fire',
      async () => {
        states = JSON.stringify((await prometheus.alerts()).map((a) => [a.labels.alertname, a.state]));
        const names = new Set(
          (await prometheus.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname),
        );
        return ['PorticoHigh5xxRatio', 'PorticoConfigurationRefused', 'PorticoCertificateExpiringSoon'].every((n) =>
          names.has(n),
        )
          ? names
          : undefined;
      },
      30_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; alerts: ${states}`);
    });
    expect([...firing].sort()).to.deep.equal([
      'PorticoCertificateExpiringSoon',
      'PorticoConfigurationRefused',
      'PorticoHigh5xxRatio',
    ]);
    const fiveXx = (await prometheus.alerts()).find((a) => a.labels.alertname === 'PorticoHigh5xxRatio');
    expect(fiveXx?.labels.route).to.match(/failing/);

    // Each alert expression evaluates; the ones produced return series.
    for (const rule of rules) {
      const result = await prometheus.query(rule.expr);
      if (['PorticoNoReadyShards', 'PorticoLeaderLost'].includes(rule.alert))
        expect(result, rule.alert).to.deep.equal([]);
      else expect(result.length, rule.alert).to.be.greaterThan(0);
    }
    // No ready shards: not produced; its metric is there (2 shards ready), so the expression is not vacuous.
    const shards = await prometheus.query('portico_dataplane_shards_ready');
    expect(shards.map((s) => s.value[1])).to.deep.equal(['2']);
    // Leader lost: Kubernetes mode only; in standalone mode the metric does not exist (prometheus-kubernetes.test.ts
    // takes the Lease away and sees it fire).
    expect(await prometheus.query('portico_operator_leader')).to.deep.equal([]);
    // Certificate expiry: days left is about 5.
    const days = await prometheus.query('(portico_listener_certificate_expiry_timestamp_seconds - time()) / 86400');
    expect(Number(days[0].value[1])).to.be.within(4.9, 5.1);
  });
});

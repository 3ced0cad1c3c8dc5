// The chart with real Helm, no cluster: Helm 4's and Helm 3's strict lint, the schema refusing bad values, the
// rendered objects holding what the README promises (least privilege, non-root, probes), every value reaching the
// objects it names, and the derived files (manifests/base, manifests/namespaced, crds/) equal to what the chart and
// the test bed give today. Installing it on a real API server is install.test.ts.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import {
  CHART,
  COMPONENT,
  ROOT,
  VARIANTS,
  actualCrds,
  expectedCrds,
  helm,
  helmBinDir,
  helmPresent,
  previousChart,
  renderComponent,
  renderVariant,
} from './chart.ts';

// Rendered Kubernetes objects, inspected field by field.
type Obj = any;

async function template(...args: string[]): Promise<Obj[]> {
  const result = await helm(['template', 'portico', CHART, '--namespace', 'portico-system', ...args]);
  expect(result.code, result.stderr).to.equal(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS())
    .filter(Boolean);
}
const find = (objects: Obj[], kind: string, name?: string) =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const container = (objects: Obj[], name: string) =>
  find(objects, 'Deployment').spec.template.spec.containers.find((c: Obj) => c.name === name);

describe('the Helm chart (helm lint and helm template, Helm 4 and Helm 3)', function () {
  this.timeout(60_000);

  before(() => {
    if (!helmPresent()) throw new Error(`no Helm in ${helmBinDir()}: run \`npm run helm:build\` (needs Go)`);
  });

  for (const binary of ['helm', 'helm3'] as const) {
    it(`passes ${binary === 'helm' ? 'Helm 4' : 'Helm 3'}'s strict lint with the default and the namespaced values`, async () => {
      const version = await helm(['version', '--short'], { binary });
      expect(version.stdout).to.match(binary === 'helm' ? /^v4\./ : /^v3\./);
      for (const values of [
        [],
        ['-f', VARIANTS.namespaced.values[0], '--set', 'metrics.serviceMonitor.enabled=true'],
      ]) {
        const lint = await helm(['lint', '--strict', CHART, ...values], { binary });
        expect(lint.code, lint.stdout + lint.stderr).to.equal(0);
        expect(lint.stdout).to.include('1 chart(s) linted, 0 chart(s) failed');
      }
    });
  }

  it('refuses bad values at install through values.schema.json (both Helm versions)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'replicas=-1'], /\/replicas/],
      [['--set', 'replica=3'], /additional properties 'replica' not allowed/],
      [['--set', 'logLevel=loud'], /\/logLevel/],
      [['--set', 'addressMode=host'], /\/addressMode/],
      [['--set', 'service.type=External'], /\/service\/type/],
      [['--set', 'service.internalPorts=80'], /\/service\/internalPorts/],
      [['--set', 'watchNamespaces[0]=Team_A'], /\/watchNamespaces\/0/],
      [['--set', 'operator.resources.requests.memory=lots'], /memory/],
      [['--set', 'controllerName=no-slash'], /\/controllerName/],
      [['--set', 'tracing.endpoint=jaeger:4318'], /\/tracing\/endpoint/],
    ];
    for (const binary of ['helm', 'helm3'] as const)
      for (const [args, message] of cases) {
        const result = await helm(['template', 'x', CHART, ...args], { binary });
        expect(result.code, `${binary} ${args.join(' ')}`).to.not.equal(0);
        expect(result.stderr, `${binary} ${args.join(' ')}`).to.match(message);
      }
  });

  it('renders the default install: least privilege, non-root, read-only, probes, the measured resources', async () => {
    const objects = await template();
    expect(objects.map((o) => o.kind).sort()).to.deep.equal(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
        'GatewayClass',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'ServiceAccount',
      ].sort(),
    );
    for (const rule of find(objects, 'ClusterRole').rules) {
      const writes = rule.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v));
      if (writes.length > 0)
        expect(
          rule.resources.every((r: string) => r.endsWith('/status') || r === 'events'),
          JSON.stringify(rule),
        ).to.be.true;
    }
    const pod = find(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).to.equal(true);
    for (const c of pod.containers) {
      expect(c.securityContext).to.deep.equal({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.readinessProbe.httpGet.path).to.equal('/readyz');
      expect(c.livenessProbe.httpGet.path).to.equal('/healthz');
      expect(c.image).to.equal('portico:0.1.0');
    }
    expect(container(objects, 'dataplane').resources).to.deep.equal({
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { memory: '640Mi' },
    });
    expect(container(objects, 'operator').resources).to.deep.equal({
      requests: { cpu: '100m', memory: '192Mi' },
      limits: { memory: '768Mi' },
    });
    expect(container(objects, 'operator').args).to.include.members([
      '--mode=kubernetes',
      '--address-mode=service',
      '--service-selector=app.kubernetes.io/name=portico',
      '--lease-name=portico-operator',
    ]);
    expect(find(objects, 'Role').rules[1].resourceNames).to.deep.equal(['portico-operator']);
    expect(find(objects, 'GatewayClass').spec).to.deep.equal({
      controllerName: 'portico.dev/gateway-controller',
      description: 'Gateways served by Portico.',
    });
  });

  it('passes every value to the object it names', async () => {
    const valuesFile = join(mkdtempSync(join(tmpdir(), 'portico-chart-')), 'values.json');
    writeFileSync(
      valuesFile,
      JSON.stringify({
        image: { repository: 'registry.example/portico', digest: `sha256:${'a'.repeat(64)}` },
        replicas: 3,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'edge', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
        service: { type: 'ClusterIP', internalPorts: '20000-20999', bindAddress: '::' },
        controllerName: 'example.com/edge',
        gatewayClass: { name: 'edge' },
        logLevel: 'debug',
        accessLog: true,
        tracing: { endpoint: 'http://jaeger:4318' },
        metrics: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } } },
        operator: { extraArgs: ['--translator-threads=0'], extraEnv: [{ name: 'A', value: 'b' }] },
        dataplane: { sessionKeySecret: { name: 'portico-session' } },
        dataplaneContainer: {
          extraArgs: ['--shards=4'],
          extraEnv: [{ name: 'C', value: 'd' }],
          readinessProbe: null,
        },
      }),
    );
    const objects = await template('-f', valuesFile);
    rmSync(dirname(valuesFile), { recursive: true });
    const deployment = find(objects, 'Deployment');
    expect(deployment.spec.replicas).to.equal(3);
    expect(deployment.spec.strategy.rollingUpdate).to.deep.equal({ maxUnavailable: 1, maxSurge: 0 });
    const pod = deployment.spec.template.spec;
    expect(pod.nodeSelector).to.deep.equal({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations[0].key).to.equal('edge');
    expect(pod.affinity).to.deep.equal({ nodeAffinity: {} });
    expect(pod.topologySpreadConstraints[0].topologyKey).to.equal('zone');
    const operator = container(objects, 'operator');
    expect(operator.image).to.equal(`registry.example/portico@sha256:${'a'.repeat(64)}`);
    expect(operator.args).to.include.members([
      '--controller-name=example.com/edge',
      '--internal-ports=20000-20999',
      '--bind-address=::',
      '--log-level=debug',
      '--translator-threads=0',
      '--traces-endpoint=http://jaeger:4318',
    ]);
    expect(operator.env.at(-1)).to.deep.equal({ name: 'A', value: 'b' });
    const dataplane = container(objects, 'dataplane');
    expect(dataplane.args).to.include.members(['--access-log', '--log-level=debug', '--shards=4']);
    expect(dataplane.readinessProbe).to.equal(undefined);
    expect(dataplane.env).to.deep.equal([
      {
        name: 'PORTICO_SESSION_KEY',
        valueFrom: { secretKeyRef: { name: 'portico-session', key: 'session-key' } },
      },
      { name: 'C', value: 'd' },
    ]);
    expect(find(objects, 'PodDisruptionBudget').spec)
      .to.include({ maxUnavailable: 1 })
      .and.not.have.key('minAvailable');
    const gatewayClass = find(objects, 'GatewayClass');
    expect(gatewayClass.metadata.name).to.equal('edge');
    expect(gatewayClass.spec.controllerName).to.equal('example.com/edge');
    expect(gatewayClass.spec.parametersRef).to.deep.equal({
      group: '',
      kind: 'ConfigMap',
      name: 'portico-edge',
      namespace: 'portico-system',
    });
    expect(find(objects, 'ConfigMap', 'portico-edge').data).to.deep.equal({ serviceType: 'ClusterIP' });
    const monitor = find(objects, 'ServiceMonitor');
    expect(monitor.metadata.labels.release).to.equal('prom');
    expect(monitor.spec.endpoints.map((e: Obj) => `${e.port} ${e.interval}`)).to.deep.equal([
      'dataplane-admin 15s',
      'operator-admin 15s',
    ]);
    expect(find(objects, 'Service', 'portico-metrics').metadata.labels).to.include(monitor.spec.selector.matchLabels);
    // Pool mode: no Service flags, the pool instead; one replica: no PodDisruptionBudget that would block drains.
    const pool = await template('--set', 'addressMode=pool', '--set', 'addressPool=10.0.0.0/24', '--set', 'replicas=1');
    expect(container(pool, 'operator').args.filter((a: string) => /service|internal|pool/.test(a))).to.deep.equal([
      '--address-mode=pool',
      '--address-pool=10.0.0.0/24',
    ]);
    expect(find(pool, 'PodDisruptionBudget')).to.equal(undefined);
  });

  it('renders the namespace-scoped install: Roles in each watched namespace and nothing else cluster-wide', async () => {
    const objects = await template('--set', 'watchNamespaces={team-a,team-b}');
    expect(container(objects, 'operator').args).to.include('--namespaces=team-a,team-b');
    expect(find(objects, 'ClusterRole', 'portico-operator')).to.equal(undefined);
    const classes = find(objects, 'ClusterRole', 'portico-operator-classes');
    expect(classes.rules.flatMap((r: Obj) => r.resources).sort()).to.deep.equal(
      [
        'clustertrustbundles',
        'customresourcedefinitions',
        'gatewayclasses',
        'gatewayclasses/status',
        'namespaces',
      ].sort(),
    );
    expect(classes.rules.find((r: Obj) => r.resources.includes('namespaces')).resourceNames).to.deep.equal([
      'team-a',
      'team-b',
    ]);
    const watched = objects.filter((o) => o.kind === 'Role' && o.metadata.name === 'portico-operator-watched');
    expect(watched.map((r) => r.metadata.namespace)).to.deep.equal(['team-a', 'team-b']);
    // The per-namespace Role grants what the ClusterRole grants, minus the cluster-scoped kinds.
    const cluster = find(await template(), 'ClusterRole', 'portico-operator');
    const scoped = (rules: Obj[]) =>
      rules
        .flatMap((r: Obj) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${res} ${v}`)))
        .filter((p: string) => !/^(gatewayclasses|namespaces|customresourcedefinitions|clustertrustbundles)/.test(p))
        .sort();
    expect(scoped(watched[0].rules)).to.deep.equal(scoped(cluster.rules));
  });

  it('grants the GatewayInfrastructure rights, and turns the mode on, only with gatewayInfrastructure.enabled', async () => {
    const name = 'portico-gateway-infrastructure';
    const off = await template();
    expect(find(off, 'ClusterRole', name)).to.equal(undefined);
    expect(find(off, 'ClusterRoleBinding', name)).to.equal(undefined);
    expect(find(off, 'GatewayClass').spec.parametersRef).to.equal(undefined);
    // The default install writes Services in its own namespace only (role.yaml), never cluster-wide.
    expect(off.filter((o) => o.kind === 'ClusterRole').flatMap((r) => r.rules)).to.not.deep.include.members([
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'patch', 'delete'] },
    ]);

    const on = await template('--set', 'gatewayInfrastructure.enabled=true', '--set', 'service.type=ClusterIP');
    const role = find(on, 'ClusterRole', name);
    expect(role.rules).to.deep.equal([
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'create', 'patch', 'delete'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'create', 'patch', 'delete'] },
    ]);
    const binding = find(on, 'ClusterRoleBinding', name);
    expect(binding.roleRef.name).to.equal(name);
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'portico', namespace: 'portico-system' }]);
    const ref = find(on, 'GatewayClass').spec.parametersRef;
    const parameters = find(on, 'ConfigMap', ref.name);
    expect(ref.namespace).to.equal(parameters.metadata.namespace);
    expect(parameters.data).to.deep.equal({ serviceType: 'ClusterIP', infrastructure: 'GatewayNamespace' });

    // Namespace-scoped: the same ClusterRole, bound in each watched namespace only.
    const scoped = await template(
      '--set',
      'gatewayInfrastructure.enabled=true',
      '--set',
      'watchNamespaces={team-a,team-b}',
    );
    expect(find(scoped, 'ClusterRoleBinding', name)).to.equal(undefined);
    const bindings = scoped.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === name);
    expect(bindings.map((b) => [b.metadata.namespace, b.roleRef.kind, b.roleRef.name])).to.deep.equal([
      ['team-a', 'ClusterRole', name],
      ['team-b', 'ClusterRole', name],
    ]);
  });

  it('keeps manifests/components/gateway-infrastructure equal to the chart rendered (npm run chart:sync)', async () => {
    const rendered = await renderComponent();
    for (const [file, text] of rendered)
      expect(
        readFileSync(join(ROOT, COMPONENT.dir, file), 'utf8'),
        `${COMPONENT.dir}/${file}: run npm run chart:sync`,
      ).to.equal(text);
    const kustomization = parse(readFileSync(join(ROOT, COMPONENT.dir, 'kustomization.yaml'), 'utf8'));
    expect(kustomization.kind).to.equal('Component');
    expect(
      [...kustomization.resources, ...kustomization.patches.map((p: Obj) => p.path), 'kustomization.yaml'].sort(),
    ).to.deep.equal([...rendered.keys()].sort());
  });

  it('keeps manifests/base and manifests/namespaced equal to the chart rendered (npm run chart:sync)', async () => {
    for (const [variant, { dir }] of Object.entries(VARIANTS)) {
      const rendered = await renderVariant(variant);
      expect(rendered.size).to.be.greaterThan(5);
      for (const [file, text] of rendered)
        expect(readFileSync(join(ROOT, dir, file), 'utf8'), `${dir}/${file}: run npm run chart:sync`).to.equal(text);
      const listed = parse(readFileSync(join(ROOT, dir, 'kustomization.yaml'), 'utf8')).resources;
      expect([...listed, 'kustomization.yaml'].sort()).to.deep.equal([...rendered.keys()].sort());
    }
  });

  it('has a newer version than the previous release whenever it renders differently (test/helm/previous)', async () => {
    const version = async (chart: string) => parse((await helm(['show', 'chart', chart])).stdout).version as string;
    const render = async (chart: string) => {
      const result = await helm(['template', 'portico', chart, '--namespace', 'portico-system']);
      expect(result.code, result.stderr).to.equal(0);
      return result.stdout.replace(/portico:[0-9][^\s"]*/g, 'portico:APP'); // the image tag follows appVersion
    };
    const [current, previous] = [await version(CHART), await version(previousChart())];
    const newer = (a: string, b: string) => {
      const [x, y] = [a, b].map((v) => v.split('.').map(Number));
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
      return false;
    };
    expect(current === previous || newer(current, previous), `${current} is older than ${previous}`).to.equal(true);
    if (current === previous)
      expect(await render(CHART), `the chart changed since ${previous}: raise its version`).to.equal(
        await render(previousChart()),
      );
  });

  it('ships the Gateway API CRDs of the test bed, of the version in Chart.yaml (npm run chart:sync)', () => {
    const expected = expectedCrds();
    const actual = actualCrds();
    expect([...actual.keys()], 'run npm run chart:sync').to.deep.equal([...expected.keys()].sort());
    for (const [file, text] of expected) expect(actual.get(file) === text, `crds/${file} differs`).to.equal(true);
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    for (const text of actual.values())
      expect(parse(text).metadata.annotations['gateway.networking.k8s.io/bundle-version']).to.equal(
        chart.annotations['gateway-api-version'],
      );
    const httproute = [...actual.values()].map((t) => parse(t)).find((c) => c.spec.names.kind === 'HTTPRoute');
    expect(httproute.kind).to.equal('CustomResourceDefinition');
  });
});

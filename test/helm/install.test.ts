// The chart on a real API server (the test bed), with real Helm 4: the rendered objects pass the API server's OpenAPI
// validation (server-side dry run, strict field validation), `helm install` of the default values installs the
// Gateway API CRDs from crds/ and everything else, the operator runs from the installed Deployment's args as the
// chart's ServiceAccount and programs a Gateway that serves traffic, `helm upgrade` keeps it serving, and the
// namespaced values install an operator that serves its watched namespaces with its Roles alone.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../operator/framework/kube-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import { serviceNameOf } from '../../operator/gateway/gateways/gateway-service.ts';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl } from '../kubernetes/support/kubectl.ts';
import {
  adminClient,
  apply,
  backendAddressOrSkip,
  conditionOf,
  eventually,
  getObject,
} from '../kubernetes/support/kube.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { CHART, helm, helmBinDir, helmPresent, previousChart } from './chart.ts';
import { startPod } from './pod.ts';
import type { Pod } from './pod.ts';

/**
 * Internal ports of this run: below the ephemeral range (32768+, where clients' ports would collide with them) and
 * apart from other test files' ranges (services 20000-29999, rbac 30000-30999).
 */
const FIRST_PORT = 31_000 + (process.pid % 40) * 40;

function fixture(vars: Record<string, string | number>): ApiObject[] {
  const text = readFileSync(new URL('./fixtures/app.yaml', import.meta.url), 'utf8').replace(
    /\$\{([A-Z_]+)\}/g,
    (_m, name: string) => String(vars[name]),
  );
  return parseAllDocuments(text)
    .map((d) => d.toJS() as ApiObject)
    .filter(Boolean);
}

/** Lines of the pod's log where the API server refused a request. */
const forbidden = (pod: Pod) => pod.log.filter((l) => /forbidden|\b403\b/i.test(l));

describe('the Helm chart installed on a real API server (Helm 4)', function () {
  // Generous: the two cores are shared with other suites, and a loaded machine starts Node processes slowly.
  this.timeout(400_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let echo: EchoServer | undefined;
  let backendIp: string;
  let dir: string;
  const pods: Pod[] = [];
  const kube = () => ['--kubeconfig', cluster!.kubeconfigPath];

  before(async function () {
    backendIp = backendAddressOrSkip(this);
    if (!helmPresent()) throw new Error(`no Helm in ${helmBinDir()}: run \`npm run helm:build\` (needs Go)`);
    // No CRDs from the test bed: the chart's crds/ installs them.
    cluster = await startCluster({ crds: false });
    client = adminClient(cluster.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), 'portico-helm-'));
    echo = await startEchoServer('echo', backendIp);
    // The watched namespaces of the namespaced values, and the dry runs' namespace (early: the API server's
    // admission finds a namespace through its informer, which lags a create by a moment).
    for (const ns of ['team-a', 'team-b', 'portico-dry'])
      expect((await kubectl(cluster, ['create', 'namespace', ns])).code).to.equal(0);
  });

  after(async () => {
    for (const pod of pods) await pod.stop();
    await echo?.close();
    await client?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    // A failed test shows what the operator and the data plane said.
    if (this.currentTest?.state === 'failed')
      for (const pod of pods) console.log(`${pod.log.length} log lines, the last:\n${pod.log.slice(-40).join('\n')}`);
  });

  /**
   * `helm template` with these args, applied as a server-side dry run; returns kubectl's result. Release `dry` in
   * namespace `portico-dry`, so that nothing collides with the fields the installed release's manager owns.
   */
  async function dryRun(name: string, args: string[]) {
    const rendered = await helm(['template', 'dry', CHART, '--namespace', 'portico-dry', ...args]);
    expect(rendered.code, rendered.stderr).to.equal(0);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, rendered.stdout);
    return kubectl(cluster!, ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', file]);
  }

  it('installs the previous release with default values: the CRDs from crds/, then every object', async () => {
    // The previous release (test/helm/previous): the upgrade below goes from it to the working tree's chart.
    const install = await helm([
      'install',
      'portico',
      previousChart(),
      ...kube(),
      '--namespace',
      'portico-system',
      '--create-namespace',
      // No load balancer on the test bed: Gateways get ClusterIP Services, so they can be Programmed.
      '--set',
      'service.type=ClusterIP',
      // Every request in the log, so that a forbidden one shows whatever part of the operator made it.
      '--set',
      'logLevel=debug',
    ]);
    expect(install.code, install.stderr).to.equal(0);
    expect(install.stdout).to.match(/STATUS: deployed/);
    const crds = await kubectl(cluster!, ['get', 'crd', '-o', 'name']);
    expect(crds.stdout).to.include(
      'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io',
    );
    const objects = await kubectl(cluster!, [
      'get',
      'deployment,serviceaccount,role,rolebinding,configmap,poddisruptionbudget',
      '-n',
      'portico-system',
      '-l',
      'app.kubernetes.io/name=portico',
      '-o',
      'name',
    ]);
    expect(objects.stdout.trim().split('\n').sort()).to.deep.equal(
      [
        'configmap/portico-portico',
        'deployment.apps/portico',
        'poddisruptionbudget.policy/portico',
        'role.rbac.authorization.k8s.io/portico-operator',
        'rolebinding.rbac.authorization.k8s.io/portico-operator',
        'serviceaccount/portico',
      ].sort(),
    );
    expect((await getObject(client, 'ClusterRole', undefined, 'portico-operator'))?.metadata?.name).to.equal(
      'portico-operator',
    );
    expect((await getObject(client, 'GatewayClass', undefined, 'portico'))?.spec).to.deep.include({
      controllerName: 'portico.dev/gateway-controller',
    });
  });

  it('renders objects the API server accepts under strict validation (namespaced and every option), and not a broken one', async () => {
    const namespaced = await dryRun('namespaced', [
      '--set',
      'watchNamespaces={team-a,team-b}',
      '--set',
      'gatewayClass.name=dry',
    ]);
    expect(namespaced.code, namespaced.stderr).to.equal(0);
    expect(namespaced.stdout).to.match(
      /role.rbac.authorization.k8s.io\/dry-portico-operator-watched serverside-applied \(server dry run\)/,
    );
    const options = join(dir, 'options.yaml');
    writeFileSync(
      options,
      JSON.stringify({
        replicas: 3,
        gatewayClass: { name: 'dry-options' },
        podDisruptionBudget: { maxUnavailable: 1 },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'edge', operator: 'Exists', effect: 'NoSchedule' }],
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'portico' } },
          },
        ],
        priorityClassName: '',
        service: { bindAddress: '::' },
        accessLog: true,
        gatewayInfrastructure: { enabled: true },
        operator: { extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=400' }] },
      }),
    );
    const everything = await dryRun('options', ['-f', options]);
    expect(everything.code, everything.stderr).to.equal(0);
    // The chart's schema lets an env entry through; the API server's OpenAPI refuses a misspelt field in it.
    const broken = await dryRun('broken', [
      '--set-json',
      'operator.extraEnv=[{"name":"A","valueFromm":{}}]',
      '--set',
      'gatewayClass.create=false',
    ]);
    expect(broken.code).to.not.equal(0);
    expect(broken.stderr).to.match(/valueFromm/);
  });

  it('runs the operator from the installed Deployment as the chart’s ServiceAccount: a Gateway programmed and serving', async () => {
    for (const object of fixture({
      NAMESPACE: 'default',
      CLASS: 'portico',
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo!.port,
    }))
      await apply(client, object);
    const pod = await startPod(cluster!, {
      namespace: 'portico-system',
      deployment: 'portico',
      serviceAccount: 'portico',
      internalPorts: `${FIRST_PORT}-${FIRST_PORT + 19}`,
    });
    pods.push(pod);
    expect(pod.args.operator).to.include.members(['operator', '--mode=kubernetes', '--address-mode=service']);
    const gateway = await eventually(
      'Gateway default/web Programmed=True',
      async () => {
        const gw = await getObject(client, 'Gateway', 'default', 'web');
        return conditionOf(gw?.status, 'Programmed')?.status === 'True' && gw;
      },
      150_000,
    );
    const addresses = (gateway.status as { addresses?: Array<{ value: string }> }).addresses ?? [];
    expect(addresses[0]?.value, 'the ClusterIP of its Service').to.match(/^10\.96\./);
    const service = await getObject(client, 'Service', 'portico-system', serviceNameOf('default', 'web'));
    const spec = service!.spec as { type: string; ports: Array<{ port: number; targetPort: number }> };
    expect(spec.type).to.equal('ClusterIP');
    const reply = await eventually(
      'a 200 from the echo backend on the internal port',
      async () => {
        const r = await get(`http://127.0.0.1:${spec.ports[0].targetPort}/echo/helm`).catch(() => undefined);
        return r?.status === 200 && r;
      },
      60_000,
    );
    expect(reply.echo?.path).to.equal('/echo/helm');
    // The previous release may grant less than this operator reads (0.1.0 has no right on CRDs, which the operator
    // reads since Gateway API v1.7.0 support, nor on XBackendTrafficPolicies, read since session persistence; it
    // tolerates both): anything else refused is a fault of the chart.
    const refused = forbidden(pod).filter(
      (l) => !l.includes('customresourcedefinitions') && !l.includes('xbackendtrafficpolicies'),
    );
    expect(refused, refused.join('\n')).to.deep.equal([]);
  });

  it('keeps serving through `helm upgrade` from the previous release to this chart, with changed values', async () => {
    const pod = pods[0];
    const service = await getObject(client, 'Service', 'portico-system', serviceNameOf('default', 'web'));
    const port = (service!.spec as { ports: Array<{ targetPort: number }> }).ports[0].targetPort;
    const statuses: number[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        statuses.push((await get(`http://127.0.0.1:${port}/echo/upgrade`).catch(() => ({ status: 0 }))).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const upgrade = await helm([
      'upgrade',
      'portico',
      CHART,
      ...kube(),
      '--namespace',
      'portico-system',
      '--reset-then-reuse-values', // the new chart's defaults, with the values given at install
      '--set',
      'replicas=3',
      '--set',
      'dataplane.drainMs=20000',
      '--set',
      'image.tag=0.1.1',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    running = false;
    await load;
    expect(upgrade.code, upgrade.stderr).to.equal(0);
    expect(upgrade.stdout).to.match(/REVISION: 2/);
    const releases = JSON.parse((await helm(['list', ...kube(), '-n', 'portico-system', '-o', 'json'])).stdout);
    const chartYaml = readFileSync(join(CHART, 'Chart.yaml'), 'utf8');
    expect(releases[0].chart).to.equal(`portico-${/^version: (\S+)$/m.exec(chartYaml)![1]}`);
    expect(statuses.length).to.be.greaterThan(10);
    expect(
      statuses.filter((s) => s !== 200),
      'requests that failed during the upgrade',
    ).to.deep.equal([]);
    const deployment = await kubectl(cluster!, ['get', 'deployment', 'portico', '-n', 'portico-system', '-o', 'json']);
    const spec = JSON.parse(deployment.stdout).spec;
    expect(spec.replicas).to.equal(3);
    expect(spec.template.spec.containers[0].image).to.equal('portico:0.1.1');
    // Helm left the operator's own objects alone: the Gateway's Service and its Programmed condition.
    expect(await getObject(client, 'Service', 'portico-system', serviceNameOf('default', 'web'))).to.not.equal(
      undefined,
    );
    expect(conditionOf((await getObject(client, 'Gateway', 'default', 'web'))?.status, 'Programmed')?.status).to.equal(
      'True',
    );
    // Then the rolling update's new pod, from the upgraded Deployment: on the same Service and internal port, with the
    // new chart's rights, and not one request refused.
    await pod.stop();
    const next = await startPod(cluster!, {
      namespace: 'portico-system',
      deployment: 'portico',
      serviceAccount: 'portico',
      internalPorts: `${FIRST_PORT}-${FIRST_PORT + 19}`,
    });
    pods.push(next);
    expect(next.args.dataplane).to.include('--drain-ms=20000');
    expect(next.args.operator).to.include('--log-level=debug'); // kept by --reset-then-reuse-values
    await eventually(
      'a 200 from the new pod',
      async () => (await get(`http://127.0.0.1:${port}/echo/next`).catch(() => undefined))?.status === 200,
      150_000,
    );
    expect(forbidden(next), forbidden(next).join('\n')).to.deep.equal([]);
    await next.stop();
  });

  it('installs the namespaced values: an operator that serves its watched namespaces with its Roles alone', async () => {
    const install = await helm([
      'install',
      'portico-ns',
      CHART,
      ...kube(),
      '--namespace',
      'portico-ns',
      '--create-namespace',
      '--set',
      'watchNamespaces={team-a,team-b}',
      '--set',
      'gatewayClass.name=portico-ns',
      '--set',
      'controllerName=portico.dev/namespaced',
      '--set',
      'service.type=ClusterIP',
      '--set',
      'logLevel=debug',
    ]);
    expect(install.code, install.stderr).to.equal(0);
    expect(await getObject(client, 'ClusterRole', undefined, 'portico-ns-operator')).to.equal(undefined);
    for (const object of fixture({
      NAMESPACE: 'team-a',
      CLASS: 'portico-ns',
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo!.port,
    }))
      await apply(client, object);
    const pod = await startPod(cluster!, {
      namespace: 'portico-ns',
      deployment: 'portico-ns',
      serviceAccount: 'portico-ns',
      internalPorts: `${FIRST_PORT + 20}-${FIRST_PORT + 39}`,
    });
    pods.push(pod);
    expect(pod.args.operator).to.include('--namespaces=team-a,team-b');
    await eventually(
      'Gateway team-a/web Programmed=True',
      async () =>
        conditionOf((await getObject(client, 'Gateway', 'team-a', 'web'))?.status, 'Programmed')?.status === 'True',
      150_000,
    );
    const service = await getObject(client, 'Service', 'portico-ns', serviceNameOf('team-a', 'web'));
    const port = (service!.spec as { ports: Array<{ targetPort: number }> }).ports[0].targetPort;
    await eventually(
      'a 200 through the namespaced operator',
      async () => (await get(`http://127.0.0.1:${port}/echo/ns`).catch(() => undefined))?.status === 200,
      60_000,
    );
    expect(forbidden(pod), forbidden(pod).join('\n')).to.deep.equal([]);
    // Its class is accepted; the other release's class is not its business (another controllerName).
    expect(
      conditionOf((await getObject(client, 'GatewayClass', undefined, 'portico-ns'))?.status, 'Accepted')?.status,
    ).to.equal('True');
  });
});

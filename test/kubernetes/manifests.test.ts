// The install manifests against a real API server, as the README tells a platform team to use them: a server-side
// dry run of both install variants, then a real apply; and the app-team role: an app team manages routes in its own
// namespace and cannot change a Gateway, nor touch another namespace.

import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl } from './support/kubectl.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const AS_TEAM_A = ['--as', 'alice', '--as-group', 'team-a'];

describe('install manifests on a real API server', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let dir: string;

  before(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes a server-side dry run of the cluster-wide and the namespaced install, then applies for real', async () => {
    // A dry run cannot place objects in a namespace that does not exist yet: the namespace goes in first.
    const namespace = await kubectl(cluster, [
      'apply',
      '--server-side',
      '-f',
      join(ROOT, 'manifests/base/namespace.yaml'),
    ]);
    expect(namespace.code, namespace.stderr).to.equal(0);
    const dry = await kubectl(cluster, [
      'apply',
      '--server-side',
      '--dry-run=server',
      '-k',
      join(ROOT, 'manifests/base'),
    ]);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(/deployment.apps\/portico serverside-applied \(server dry run\)/);
    for (const ns of ['team-a', 'team-b'])
      expect((await kubectl(cluster, ['create', 'namespace', ns])).code).to.equal(0);
    const dryNamespaced = await kubectl(cluster, [
      'apply',
      '--server-side',
      '--dry-run=server',
      '-k',
      join(ROOT, 'manifests/namespaced'),
    ]);
    expect(dryNamespaced.code, dryNamespaced.stderr).to.equal(0);
    // The namespaced variant grants nothing cluster-wide beyond GatewayClasses and the watched Namespaces.
    expect(dryNamespaced.stdout).to.not.match(/clusterrole.rbac.authorization.k8s.io\/portico-operator /);
    expect(dryNamespaced.stdout).to.match(/clusterrole.rbac.authorization.k8s.io\/portico-operator-classes/);
    expect(dryNamespaced.stdout).to.match(/role.rbac.authorization.k8s.io\/portico-operator .*\(server dry run\)/);
    const real = await kubectl(cluster, ['apply', '--server-side', '-k', join(ROOT, 'manifests/base')]);
    expect(real.code, real.stderr).to.equal(0);
    const deployment = await kubectl(cluster, [
      'get',
      'deployment',
      'portico',
      '-n',
      'portico-system',
      '-o',
      'jsonpath={.spec.template.spec.containers[*].name}',
    ]);
    expect(deployment.stdout).to.equal('operator dataplane');
    const gatewayClass = await kubectl(cluster, [
      'get',
      'gatewayclass',
      'portico',
      '-o',
      'jsonpath={.spec.controllerName}',
    ]);
    expect(gatewayClass.stdout).to.equal('portico.dev/gateway-controller');
  });

  it('adds the GatewayInfrastructure rights and class parameter only through its overlay (applied for real)', async () => {
    // Before: base alone (applied above) grants no write of Services outside portico-system.
    const can = async () =>
      (
        await kubectl(cluster, [
          'auth',
          'can-i',
          'create',
          'services',
          '-n',
          'default',
          '--as',
          'system:serviceaccount:portico-system:portico',
        ])
      ).stdout.trim();
    expect(await can()).to.equal('no');
    const overlay = await kubectl(cluster, [
      'apply',
      '--server-side',
      '-k',
      join(ROOT, 'manifests/with-gateway-infrastructure'),
    ]);
    expect(overlay.code, overlay.stderr).to.equal(0);
    expect(overlay.stdout).to.match(
      /clusterrole.rbac.authorization.k8s.io\/portico-gateway-infrastructure serverside-applied/,
    );
    expect(await can()).to.equal('yes');
    const parameters = await kubectl(cluster, [
      'get',
      'gatewayclass',
      'portico',
      '-o',
      'jsonpath={.spec.parametersRef.namespace}/{.spec.parametersRef.name}',
    ]);
    const [ns, name] = parameters.stdout.split('/');
    const mode = await kubectl(cluster, ['get', 'configmap', name, '-n', ns, '-o', 'jsonpath={.data.infrastructure}']);
    expect(mode.stdout).to.equal('GatewayNamespace');
  });

  it('refuses what a broken manifest would do (the dry run can fail)', async () => {
    writeFileSync(
      join(dir, 'broken.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: broken, namespace: portico-system }\nspec: { replicas: -1 }\n',
    );
    expect(
      (await kubectl(cluster, ['apply', '--server-side', '--dry-run=server', '-f', join(dir, 'broken.yaml')])).code,
    ).to.not.equal(0);
  });

  it('lets an app team manage routes in its namespace, but not change a Gateway or another namespace', async () => {
    const team = await kubectl(cluster, ['apply', '--server-side', '-f', join(ROOT, 'manifests/app-team/team-a.yaml')]);
    expect(team.code, team.stderr).to.equal(0);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: shared, namespace: team-a }\nspec:\n  gatewayClassName: portico\n  listeners: [{ name: http, protocol: HTTP, port: 80 }]\n',
    );
    expect((await kubectl(cluster, ['apply', '--server-side', '-f', join(dir, 'gateway.yaml')])).code).to.equal(0);
    const route = (ns: string) =>
      `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: app, namespace: ${ns} }\nspec:\n  parentRefs: [{ name: shared, namespace: team-a }]\n  rules: [{ backendRefs: [{ name: app, port: 80 }] }]\n`;
    writeFileSync(join(dir, 'route-a.yaml'), route('team-a'));
    writeFileSync(join(dir, 'route-default.yaml'), route('default'));

    const own = await kubectl(cluster, [...AS_TEAM_A, 'apply', '-f', join(dir, 'route-a.yaml')]);
    expect(own.code, own.stderr).to.equal(0);
    const read = await kubectl(cluster, [...AS_TEAM_A, 'get', 'gateway', 'shared', '-n', 'team-a', '-o', 'name']);
    expect(read.stdout.trim()).to.equal('gateway.gateway.networking.k8s.io/shared');

    const patchGateway = await kubectl(cluster, [
      ...AS_TEAM_A,
      'patch',
      'gateway',
      'shared',
      '-n',
      'team-a',
      '--type',
      'merge',
      '-p',
      '{"spec":{"listeners":[{"name":"http","protocol":"HTTP","port":8080}]}}',
    ]);
    expect(patchGateway.code).to.not.equal(0);
    expect(patchGateway.stderr).to.match(/forbidden/i);
    const other = await kubectl(cluster, [...AS_TEAM_A, 'apply', '-f', join(dir, 'route-default.yaml')]);
    expect(other.code).to.not.equal(0);
    expect(other.stderr).to.match(/forbidden/i);
    const status = await kubectl(cluster, [
      ...AS_TEAM_A,
      'patch',
      'httproute',
      'app',
      '-n',
      'team-a',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"status":{"parents":[]}}',
    ]);
    expect(status.stderr, 'an app team cannot forge the route status').to.match(/forbidden/i);
  });
});

// Checks of the install files that need no cluster: skaffold.yaml against skaffold's own JSON Schema, the Dockerfile
// through a Dockerfile linter, and the manifests for the invariants the README promises (least privilege, probes,
// a socket shared through an emptyDir, non-root). Applying them to a real API server is in test/kubernetes/.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Ajv } from 'ajv';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const docs = (path: string) =>
  parseAllDocuments(read(path))
    .map((d) => d.toJS())
    .filter(Boolean);

describe('install files (offline checks)', () => {
  it('skaffold.yaml is valid against the skaffold/v4beta14 JSON Schema', () => {
    const schema = JSON.parse(read('test/manifests/schemas/skaffold-v4beta14.json'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    const check = ajv.compile(schema);
    const config = parse(read('skaffold.yaml'));
    expect(config.apiVersion).to.equal('skaffold/v4beta14');
    expect(check(config), JSON.stringify(check.errors, null, 1)).to.equal(true);
  });

  it('skaffold.yaml has a helm profile installing charts/portico in place of the kustomize manifests', () => {
    const config = parse(read('skaffold.yaml'));
    const profile = config.profiles.find((p: { name: string }) => p.name === 'helm');
    expect(profile, 'profile helm').to.be.an('object');
    // Skaffold applies a profile's JSON patches to the main config: each removed path must exist there.
    for (const patch of profile.patches) {
      expect(patch.op).to.equal('remove');
      const [section, field] = patch.path.split('/').slice(1);
      expect(config[section], patch.path).to.have.property(field);
    }
    expect(profile.patches.map((p: { path: string }) => p.path)).to.have.members([
      '/manifests/kustomize',
      '/deploy/kubectl',
    ]);
    const [release] = profile.deploy.helm.releases;
    expect(release.chartPath).to.equal('charts/portico');
    expect(parse(read(`${release.chartPath}/Chart.yaml`)).name).to.equal('portico');
    // The values it sets exist in the chart (its schema refuses unknown keys, so a stale name would fail the deploy).
    const schema = JSON.parse(read(`${release.chartPath}/values.schema.json`));
    for (const key of Object.keys(release.setValueTemplates)) {
      const [top, sub] = key.split('.');
      expect(schema.properties[top]?.properties?.[sub], key).to.be.an('object');
    }
    expect(release.setValueTemplates['image.repository']).to.equal('{{.IMAGE_REPO_portico}}');
    const check = new Ajv({ strict: false }).compile(JSON.parse(read('test/manifests/schemas/skaffold-v4beta14.json')));
    release.chartPth = release.chartPath; // a misspelt release field is refused by the schema
    expect(check(config)).to.equal(false);
  });

  it('the schema check can fail (a misspelt field is refused)', () => {
    const schema = JSON.parse(read('test/manifests/schemas/skaffold-v4beta14.json'));
    const check = new Ajv({ strict: false }).compile(schema);
    const config = parse(read('skaffold.yaml'));
    config.build.artifacts[0].dockerfile = 'Dockerfile';
    expect(check(config)).to.equal(false);
  });

  it('the Dockerfile passes the linter and runs as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    const problems = lintDockerfile(dockerfile);
    expect(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`)).to.deep.equal([]);
    expect(lintDockerfile('FROM node:24\nMAINTAINER me\nEXPOSE -1\n').length).to.equal(2); // the linter can fail
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).to.match(/\nUSER node\n/);
    expect(dockerfile).to.not.match(/:latest\b/);
  });

  it('every manifest is a Kubernetes object with apiVersion, kind and name', () => {
    for (const dir of [
      'manifests/base',
      'manifests/namespaced',
      'manifests/app-team',
      'manifests/components/gateway-infrastructure',
    ]) {
      for (const file of readdirSync(join(ROOT, dir)).filter(
        (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
      )) {
        for (const object of docs(`${dir}/${file}`)) {
          expect(object, `${dir}/${file}`).to.include.keys('apiVersion', 'kind', 'metadata');
          expect(object.metadata.name, `${dir}/${file}`).to.be.a('string');
        }
      }
    }
  });

  it('the operator may write nothing cluster-wide but Gateway API status and events', () => {
    const role = docs('manifests/base/clusterrole.yaml').find((o) => o.kind === 'ClusterRole');
    for (const rule of role.rules) {
      const writes = rule.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v));
      if (writes.length === 0) continue;
      const allStatusOrEvents = rule.resources.every((r: string) => r.endsWith('/status') || r === 'events');
      expect(allStatusOrEvents, JSON.stringify(rule)).to.equal(true);
    }
  });

  it('the GatewayInfrastructure component adds writes of Services and EndpointSlices only, in a role of its own', () => {
    const dir = 'manifests/components/gateway-infrastructure';
    const role = docs(`${dir}/gateway-infrastructure.yaml`).find((o) => o.kind === 'ClusterRole');
    expect(role.metadata.name).to.equal('portico-gateway-infrastructure');
    const resources = role.rules.flatMap((r: { resources: string[] }) => r.resources).sort();
    expect(resources).to.deep.equal(['endpointslices', 'services']);
    for (const rule of role.rules) expect(rule.verbs).to.have.members(['get', 'create', 'patch', 'delete']);
    const binding = docs(`${dir}/gateway-infrastructure.yaml`).find((o) => o.kind === 'ClusterRoleBinding');
    expect(binding.roleRef.name).to.equal(role.metadata.name);
    expect(docs(`${dir}/gatewayclass-parameters.yaml`)[0].data).to.deep.equal({ infrastructure: 'GatewayNamespace' });
    // base itself does not grant them.
    expect(read('manifests/base/clusterrole.yaml')).to.not.include('gateway-infrastructure');
  });

  it('the Grafana dashboard only queries metrics Portico exports', () => {
    const dashboard = JSON.parse(read('manifests/observability/grafana-dashboard.json'));
    const exported = new Set([
      'portico_http_requests_total',
      'portico_upstream_response_seconds_bucket',
      'portico_upstream_errors_total',
      'portico_stream_connections_total',
      'portico_dataplane_config_total',
      'portico_dataplane_shards_ready',
      'portico_operator_reconcile_seconds_bucket',
      'portico_operator_reconcile_total',
      'portico_operator_config_refused',
      'portico_operator_status_write_seconds_bucket',
      'portico_operator_status_queue_depth',
      'portico_operator_leader',
      'portico_operator_watch',
      'portico_listener_certificate_expiry_timestamp_seconds',
      'portico_ext_authz_requests_total',
      'portico_ext_authz_duration_seconds_bucket',
    ]);
    const sources = [
      read('dataplane/shard/metrics.ts'),
      read('dataplane/supervisor/exposition.ts'),
      read('operator/runtime/metrics.ts'),
      read('operator/kubernetes/metrics.ts'),
    ].join('\n');
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const metric of target.expr.match(/portico_[a-z_]+/g) ?? []) {
          expect(exported.has(metric), `${panel.title}: ${metric}`).to.equal(true);
          expect(sources.includes(metric.replace(/_bucket$/, '')), `${metric} is not defined in the sources`).to.equal(
            true,
          );
        }
      }
    }
  });

  it('the pod shares the socket through an emptyDir, probes both containers, and runs without root', () => {
    const deployment = docs('manifests/base/deployment.yaml').find((o) => o.kind === 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).to.equal(true);
    expect(pod.volumes.find((v: { name: string }) => v.name === 'socket').emptyDir).to.be.an('object');
    for (const container of pod.containers) {
      expect(container.readinessProbe, container.name).to.be.an('object');
      expect(container.livenessProbe, container.name).to.be.an('object');
      expect(
        container.volumeMounts.some((m: { name: string }) => m.name === 'socket'),
        container.name,
      ).to.equal(true);
      expect(container.securityContext.allowPrivilegeEscalation).to.equal(false);
      expect(container.args.join(' ')).to.include('/var/run/portico/dataplane.sock');
    }
  });
});

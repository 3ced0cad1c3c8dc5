// The chart's derived files, computed in one place for the script that writes them (sync.ts) and the test that
// checks them (chart.test.ts): the Gateway API CRDs in charts/portico/crds (copied from the test bed's vendored
// CRDs, so the chart installs the version Portico is built and tested against), and manifests/base and
// manifests/namespaced, rendered from the chart so the kustomize install and the Helm install never drift apart.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CHART = join(ROOT, 'charts/portico');
const CLUSTER_CRDS = join(ROOT, 'test/cluster/crds/experimental');
const HELM_DIR = new URL('./', import.meta.url).pathname;

/** The values files the kustomize variants are rendered with (release `portico` in `portico-system`). */
export const VARIANTS: Record<string, { dir: string; values: string[] }> = {
  base: { dir: 'manifests/base', values: [join(HELM_DIR, 'values/base.yaml')] },
  namespaced: { dir: 'manifests/namespaced', values: [join(HELM_DIR, 'values/namespaced.yaml')] },
};

/** Where build.sh puts Helm 4 and Helm 3 (whether or not they are built). */
export function helmBinDir(): string {
  const env = readFileSync(join(HELM_DIR, 'versions.env'), 'utf8');
  const version = (name: string) => new RegExp(`^${name}=(\\S+)$`, 'm').exec(env)![1];
  const cache = process.env.PORTICO_CACHE ?? join(process.env.HOME ?? '/root', '.cache/portico');
  return join(cache, `helm-${version('HELM_VERSION')}-${version('HELM3_VERSION')}`, 'bin');
}

/** The packaged previous release of the chart (test/helm/previous/README.md). */
export function previousChart(): string {
  const dir = join(HELM_DIR, 'previous');
  const packages = readdirSync(dir).filter((f) => /^portico-.*\.tgz$/.test(f));
  if (packages.length !== 1)
    throw new Error(`test/helm/previous must hold one chart package, found ${packages.join(', ')}`);
  return join(dir, packages[0]);
}

export function helmPresent(): boolean {
  return existsSync(join(helmBinDir(), 'helm')) && existsSync(join(helmBinDir(), 'helm3'));
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Helm 4 (or `helm3`) with its config, cache and data kept out of the user's home. */
export async function helm(args: string[], opts: { binary?: 'helm' | 'helm3'; env?: NodeJS.ProcessEnv } = {}) {
  const home = join(ROOT, 'test/helm/_home');
  try {
    const { stdout, stderr } = await run(join(helmBinDir(), opts.binary ?? 'helm'), args, {
      maxBuffer: 64 << 20,
      env: {
        PATH: process.env.PATH,
        HOME: home, // the API discovery cache goes to $HOME/.kube/cache
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_DATA_HOME: join(home, 'data'),
        ...opts.env,
      },
    });
    return { code: 0, stdout, stderr } satisfies HelmResult;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(error),
    } satisfies HelmResult;
  }
}

/** The CRD files of the test bed (those upstream's kustomization installs, CustomResourceDefinitions only). */
export function expectedCrds(): Map<string, string> {
  const listed = readFileSync(join(CLUSTER_CRDS, 'kustomization.yaml'), 'utf8')
    .split('\n')
    .map((l) => /^- (\S+\.yaml)$/.exec(l.trim())?.[1])
    .filter((f): f is string => f !== undefined);
  const files = new Map<string, string>();
  for (const file of listed) {
    const text = readFileSync(join(CLUSTER_CRDS, file), 'utf8');
    // Helm's crds/ holds CRDs only (it creates them before the templates and waits for them); upstream's
    // ValidatingAdmissionPolicy against downgrades is left to the upstream install.
    const kinds = parseAllDocuments(text).map((d) => (d.toJS() as { kind?: string } | null)?.kind);
    if (kinds.every((k) => k === 'CustomResourceDefinition')) files.set(file, text);
  }
  return files;
}

export function actualCrds(): Map<string, string> {
  const dir = join(CHART, 'crds');
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  for (const file of readdirSync(dir).sort()) files.set(file, readFileSync(join(dir, file), 'utf8'));
  return files;
}

const HEADER = (variant: string) =>
  `# Rendered from charts/portico with test/helm/values/${variant}.yaml by \`npm run chart:sync\`: edit the chart, not\n` +
  '# this file (test/helm/chart.test.ts fails when they differ).\n';

/**
 * The files of one kustomize variant: `helm template` split by the template each object came from, one file per
 * template in the chart's order, and a kustomization.yaml listing them.
 */
export async function renderVariant(variant: string): Promise<Map<string, string>> {
  const { values } = VARIANTS[variant];
  const args = ['template', 'portico', CHART, '--namespace', 'portico-system', ...values.flatMap((v) => ['-f', v])];
  const result = await helm(args);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const bySource = new Map<string, string[]>();
  for (const doc of result.stdout.split(/^---\n/m)) {
    const source = /^# Source: portico\/templates\/(\S+)\n/.exec(doc);
    if (source === null) {
      if (doc.trim() !== '') throw new Error(`a rendered document without a # Source line: ${doc.slice(0, 200)}`);
      continue;
    }
    const body = doc.slice(source[0].length).trimEnd();
    if (!/^kind: /m.test(body)) continue; // a template that rendered only comments
    bySource.set(source[1], [...(bySource.get(source[1]) ?? []), `${body}\n`]);
  }
  const files = new Map<string, string>();
  for (const [file, docs] of bySource) files.set(file, HEADER(variant) + docs.join('---\n'));
  files.set(
    'kustomization.yaml',
    `${HEADER(variant)}# ${
      variant === 'base'
        ? 'The cluster-wide install: `kubectl apply -k manifests/base` (after the Gateway API CRDs).'
        : 'The namespace-scoped install (team-a and team-b): `kubectl apply -k manifests/namespaced`.'
    }\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${[...bySource.keys()]
      .map((f) => `  - ${f}\n`)
      .join('')}`,
  );
  return files;
}

/** The kustomize component of the GatewayInfrastructure mode, rendered with these values (over base's). */
export const COMPONENT = {
  dir: 'manifests/components/gateway-infrastructure',
  values: [join(HELM_DIR, 'values/base.yaml'), join(HELM_DIR, 'values/gateway-infrastructure.yaml')],
};

/**
 * The files of the GatewayInfrastructure component (`components: [../components/gateway-infrastructure]` in an
 * overlay of manifests/base): the mode's ClusterRole and binding, the class's parameters ConfigMap, and the
 * GatewayClass as a patch that adds the parametersRef to base's (a component may not add an object base has).
 */
export async function renderComponent(): Promise<Map<string, string>> {
  const args = ['template', 'portico', CHART, '--namespace', 'portico-system'];
  const result = await helm([...args, ...COMPONENT.values.flatMap((v) => ['-f', v])]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const header =
    '# Rendered from charts/portico with test/helm/values/gateway-infrastructure.yaml by `npm run chart:sync`: edit\n' +
    '# the chart, not this file (test/helm/chart.test.ts fails when they differ).\n';
  const rbac: string[] = [];
  const parameters: string[] = [];
  const patch: string[] = [];
  for (const doc of result.stdout.split(/^---\n/m)) {
    const source = /^# Source: portico\/templates\/(\S+)\n/.exec(doc)?.[1];
    const body = doc.replace(/^# Source: .*\n/, '').trimEnd();
    if (!/^kind: /m.test(body)) continue;
    if (source === 'gateway-infrastructure.yaml') rbac.push(`${body}\n`);
    else if (source === 'gatewayclass.yaml' && /^kind: ConfigMap$/m.test(body)) parameters.push(`${body}\n`);
    else if (source === 'gatewayclass.yaml') patch.push(`${body.replace(/^#.*\n/gm, '')}\n`);
  }
  return new Map([
    ['gateway-infrastructure.yaml', header + rbac.join('---\n')],
    ['gatewayclass-parameters.yaml', header + parameters.join('---\n')],
    ['gatewayclass-patch.yaml', header + patch.join('---\n')],
    [
      'kustomization.yaml',
      `${header}# The GatewayInfrastructure mode, opt-in: an overlay with \`resources: [../../base]\` (or your copy) and\n` +
        '# `components: [../components/gateway-infrastructure]` (README "GatewayInfrastructure").\n' +
        'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n' +
        '  - gateway-infrastructure.yaml\n  - gatewayclass-parameters.yaml\npatches:\n  - path: gatewayclass-patch.yaml\n',
    ],
  ]);
}

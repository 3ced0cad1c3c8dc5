// Mocha's configuration. The suites on the Kubernetes test bed and on Helm need binaries built from Go modules into
// ~/.cache/portico (`npm run cluster:build`, `npm run helm:build`; `npm test` builds them first). On a machine that
// cannot build them (no Go), outside CI, those suites are left out and named with the reason; with CI=true nothing is
// left out, so a missing prerequisite fails the run instead of shrinking it.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const cache = process.env.PORTICO_CACHE || join(process.env.HOME || '/root', '.cache/portico');
const versions = (file) =>
  Object.fromEntries(
    readFileSync(join(__dirname, file), 'utf8')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(\S+)$/.exec(line))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
const kube = versions('test/cluster/kube/versions.env');
const helm = versions('test/helm/versions.env');
const kubeBin = join(cache, `k8s-${kube.KUBE_VERSION}`, 'bin');
const helmBin = join(cache, `helm-${helm.HELM_VERSION}-${helm.HELM3_VERSION}`, 'bin');

const prerequisites = [
  {
    what: 'the Kubernetes test bed (kube-apiserver, etcd, kubectl)',
    present: ['kube-apiserver', 'etcd', 'kubectl'].every((b) => existsSync(join(kubeBin, b))),
    where: kubeBin,
    build: 'npm run cluster:build',
    suites: ['test/cluster/**/*.test.ts', 'test/kubernetes/**/*.test.ts', 'test/helm/install.test.ts'],
  },
  {
    what: 'Helm 4 and Helm 3',
    present: ['helm', 'helm3'].every((b) => existsSync(join(helmBin, b))),
    where: helmBin,
    build: 'npm run helm:build',
    suites: ['test/helm/**/*.test.ts'],
  },
];

// test/observability runs on its own (`npm run test:observability`: it builds Jaeger and Prometheus first).
const ignore = ['test/observability/**'];
const skipped = [];
if (process.env.CI !== 'true') {
  for (const p of prerequisites) {
    if (p.present) continue;
    ignore.push(...p.suites);
    skipped.push(
      `  SKIPPED ${p.suites.join(', ')}: ${p.what} not built in ${p.where} (\`${p.build}\` needs Go; CI=true fails instead)`,
    );
  }
}
if (skipped.length > 0) {
  console.warn(skipped.join('\n'));
  process.env.PORTICO_SKIPPED_SUITES = skipped.join('\n');
}

module.exports = {
  extension: ['ts'],
  spec: ['shared/**/*.test.ts', 'operator/**/*.test.ts', 'dataplane/**/*.test.ts', 'test/**/*.test.ts'],
  ignore,
  require: [
    join(__dirname, 'test/support/leak-report.cjs'),
    ...(skipped.length > 0 ? [join(__dirname, 'test/skipped.cjs')] : []),
  ],
  timeout: 20000,
  exit: false,
};

// Writes the chart's derived files (chart.ts says which): `npm run chart:sync` after editing the chart's templates or
// after the test bed's CRDs change version. Needs Helm in the cache (`npm run helm:build`).

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHART,
  COMPONENT,
  ROOT,
  VARIANTS,
  expectedCrds,
  helmBinDir,
  helmPresent,
  renderComponent,
  renderVariant,
} from './chart.ts';

const crdDir = join(CHART, 'crds');
rmSync(crdDir, { recursive: true, force: true });
mkdirSync(crdDir);
for (const [file, text] of expectedCrds()) writeFileSync(join(crdDir, file), text);
const versions = new Set(
  [...expectedCrds().values()].map((text) => /gateway\.networking\.k8s\.io\/bundle-version: (\S+)/.exec(text)?.[1]),
);
if (versions.size !== 1) throw new Error(`the CRDs carry several bundle versions: ${[...versions].join(', ')}`);
const [version] = versions;
const chartFile = join(CHART, 'Chart.yaml');
writeFileSync(chartFile, readFileSync(chartFile, 'utf8').replace(/^( {2}gateway-api-version: ).*$/m, `$1${version}`));
console.log(`chart: ${readdirSync(crdDir).length} CRDs of Gateway API ${version} copied into charts/portico/crds`);

if (!helmPresent()) {
  console.error(`chart: no Helm in ${helmBinDir()}: run \`npm run helm:build\` first`);
  process.exit(1);
}
for (const [variant, { dir }] of Object.entries(VARIANTS)) {
  const files = await renderVariant(variant);
  const target = join(ROOT, dir);
  for (const old of readdirSync(target).filter((f) => f.endsWith('.yaml'))) rmSync(join(target, old));
  for (const [file, text] of files) writeFileSync(join(target, file), text);
  console.log(`chart: ${dir} rendered (${[...files.keys()].join(', ')})`);
}
{
  const files = await renderComponent();
  const target = join(ROOT, COMPONENT.dir);
  mkdirSync(target, { recursive: true });
  for (const old of readdirSync(target).filter((f) => f.endsWith('.yaml'))) rmSync(join(target, old));
  for (const [file, text] of files) writeFileSync(join(target, file), text);
  console.log(`chart: ${COMPONENT.dir} rendered (${[...files.keys()].join(', ')})`);
}

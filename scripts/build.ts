// `npm run build`: the sources as plain JavaScript in `dist/` (same layout: bin, operator, dataplane, shared), for the
// container image. Node strips types itself, but each isolate that loads a `.ts` file also loads the stripper (a
// WebAssembly build of swc): ~15 MiB of resident memory per isolate, three isolates in the data plane and two in the
// operator (bench/RESULTS.md). Types are removed by the same function Node runs at load time
// (`module.stripTypeScriptTypes`, mode `strip`: erasable syntax only, positions kept), so the program is the one the
// tests run; the only other change is the `.ts` of relative module paths (imports, worker URLs), which become `.js`.
// Tests are left out; other files (the console's page) are copied as they are.

import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
// `--out DIR` (inside the repository, so that node_modules resolves; tests build into a scratch folder).
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag === -1 ? join(ROOT, 'dist') : join(ROOT, process.argv[outFlag + 1]);
const FOLDERS = ['bin', 'operator', 'dataplane', 'shared'];
/** A relative module path ending in `.ts`, in quotes: `'./x.ts'`, `"../a/b.ts"`. */
const RELATIVE_TS = /(['"])(\.{1,2}\/[^'"\n]*?)\.ts\1/g;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

rmSync(OUT, { recursive: true, force: true });
let compiled = 0;
let copied = 0;
for (const folder of FOLDERS) {
  for (const path of files(join(ROOT, folder))) {
    const target = join(OUT, relative(ROOT, path));
    if (path.endsWith('.test.ts') || path.includes('/testing/')) continue;
    mkdirSync(dirname(target), { recursive: true });
    if (!path.endsWith('.ts')) {
      copyFileSync(path, target);
      copied++;
      continue;
    }
    const javascript = stripTypeScriptTypes(readFileSync(path, 'utf8'), { mode: 'strip' }).replace(
      RELATIVE_TS,
      '$1$2.js$1',
    );
    writeFileSync(target.replace(/\.ts$/, '.js'), javascript, {
      mode: path.startsWith(join(ROOT, 'bin')) ? 0o755 : 0o644,
    });
    compiled++;
  }
}
console.log(`${relative(ROOT, OUT)}/: ${compiled} modules stripped of their types, ${copied} files copied`);

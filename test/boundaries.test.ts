// The direction of imports between the three trees (STYLE.md "one-way flow"): `shared/` (IR, protocol, validation)
// imports nothing of the operator or the data plane, and no package but re2js (chai in its tests); `operator/` and
// `dataplane/` import `shared/` and never each other. Unit tests beside the code may also use the harnesses of `test/`
// (golden cases, fixtures). Inside the operator, operator/framework/imports.test.ts and
// operator/gateway/boundaries.test.ts guard their own edges.

import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { importsOfFile, sourceFiles } from '../shared/testing/imports.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TREES = ['shared', 'operator', 'dataplane'] as const;
type Tree = (typeof TREES)[number] | 'test';

/** The tree a path is in, or undefined outside the three. */
function treeOf(path: string): Tree | undefined {
  const top = relative(ROOT, path).split(sep)[0];
  return [...TREES, 'test'].includes(top) ? (top as Tree) : undefined;
}

/** What each tree may import of the others. */
const MAY_IMPORT: Record<(typeof TREES)[number], readonly Tree[]> = {
  shared: ['shared'],
  operator: ['operator', 'shared'],
  dataplane: ['dataplane', 'shared'],
};

/** Packages `shared/` may use: it runs in both processes and in the browser-free tests. */
const SHARED_PACKAGES = new Set(['re2js', 'chai']);

describe('imports between shared/, operator/ and dataplane/', () => {
  const files = TREES.flatMap((tree) => sourceFiles(join(ROOT, tree)));

  it('finds the files of all three trees, and their imports (the checks below are not vacuous)', () => {
    for (const tree of TREES) expect(files.filter((f) => treeOf(f) === tree).length, tree).to.be.greaterThan(10);
    const session = importsOfFile(join(ROOT, 'operator/gateway/session.ts'));
    expect(session.map((i) => i.specifier)).to.include('../../shared/validation/problem.ts');
  });

  for (const tree of TREES) {
    it(`${tree}/ imports only ${MAY_IMPORT[tree].join(' and ')}`, () => {
      for (const file of files.filter((f) => treeOf(f) === tree)) {
        for (const { specifier, path } of importsOfFile(file)) {
          if (path === undefined) continue;
          const target = treeOf(path);
          const harness = target === 'test' && file.endsWith('.test.ts');
          expect(
            harness || (target !== undefined && MAY_IMPORT[tree].includes(target)),
            `${relative(ROOT, file)} imports ${specifier}`,
          ).to.equal(true);
        }
      }
    });
  }

  // One exception, by name: the OTLP sender both processes export spans with (shared/telemetry/otlp-http.ts) posts
  // over node:http(s); span and trace ids come from node:crypto. Tests may read files.
  const SHARED_IO: Record<string, readonly string[]> = {
    [join('shared', 'telemetry', 'otlp-http.ts')]: ['node:http', 'node:https'],
    [join('shared', 'telemetry', 'ids.ts')]: ['node:crypto'],
  };
  it('shared/ uses no package but re2js (and chai in tests), and only node:net of the built-ins (and the OTLP sender)', () => {
    for (const file of files.filter((f) => treeOf(f) === 'shared')) {
      for (const { specifier, path } of importsOfFile(file)) {
        if (path !== undefined) continue;
        const ok =
          SHARED_PACKAGES.has(specifier) ||
          specifier === 'node:net' ||
          (SHARED_IO[relative(ROOT, file)]?.includes(specifier) ?? false) ||
          (file.endsWith('.test.ts') && specifier.startsWith('node:')) ||
          (file.includes(`${sep}testing${sep}`) && specifier.startsWith('node:'));
        expect(ok, `${relative(ROOT, file)} imports ${specifier}`).to.equal(true);
      }
    }
  });
});

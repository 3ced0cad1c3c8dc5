// The translator's edges (STYLE.md "one-way flow"). operator/gateway imports only its own files, shared/ and a few
// node: built-ins — no data plane, no Kubernetes client, no threads, no I/O. Inside, the rooms import downwards only,
// in the order of the passes' needs:
//   core leaves (this folder: context, conditions, read, resources, keys, options, status, …)
//   < policies/ (BackendTLSPolicy checks) < backends/ (backend references, which read the checked policies)
//   < gateways/ (classes, Gateways, listeners, ListenerSets, addresses) < routes/ (rules, attachment to listeners)
//   < session/ (what a session remembers per pass) < the entry points (session.ts, the pass list; translate.ts).

import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { importsOfFile, sourceFiles } from '../../shared/testing/imports.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHARED = join(HERE, '../../shared');
const ALLOWED_NODE = new Set(['node:crypto', 'node:net']);
const ENTRY_POINTS = new Set(['session.ts', 'translate.ts']);
const ROOMS = ['policies', 'backends', 'gateways', 'routes', 'session'];

/** A file's place in the order: 0 for the core leaves, then the rooms, then the entry points. */
function rankOf(path: string): number | undefined {
  const parts = relative(HERE, path).split(sep);
  if (parts[0] === '..') return undefined;
  if (parts.length === 1) return ENTRY_POINTS.has(parts[0]) ? ROOMS.length + 1 : 0;
  const room = ROOMS.indexOf(parts[0]);
  return room === -1 ? undefined : room + 1;
}

describe('operator/gateway boundaries', () => {
  const files = sourceFiles(HERE).filter((f) => !f.endsWith('.test.ts'));

  it('knows every folder of operator/gateway (a new room needs a place in the order)', () => {
    for (const file of files) expect(rankOf(file), relative(HERE, file)).to.not.equal(undefined);
    expect(files.map((f) => rankOf(f))).to.include.members([0, 1, 2, 3, 4, 5, 6]);
  });

  for (const file of files) {
    const name = relative(HERE, file);
    it(`${name} imports only shared/, allowed built-ins and files of its rank or below`, () => {
      const rank = rankOf(file) as number;
      for (const { specifier, path } of importsOfFile(file)) {
        const ok =
          path === undefined
            ? ALLOWED_NODE.has(specifier)
            : path.startsWith(`${SHARED}${sep}`) || (rankOf(path) !== undefined && (rankOf(path) as number) <= rank);
        expect(ok, `${name} imports ${specifier}`).to.equal(true);
      }
    });
  }
});

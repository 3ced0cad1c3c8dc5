// The translator's edges (STYLE.md "one-way flow"): operator/gateway imports only its own files, shared/ and
// node: built-ins — no data plane, no Kubernetes client, no I/O libraries — except pool.ts, which may import piscina.

import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';

const DIR = new URL('./', import.meta.url);
const ALLOWED_NODE = new Set(['node:crypto', 'node:net']);

describe('operator/gateway boundaries', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    it(`${file} imports only what the translator may use`, () => {
      const text = readFileSync(new URL(file, DIR), 'utf8');
      const imports = [...text.matchAll(/^(?:import|export)[^'"]*from '([^']+)';$/gm)].map((m) => m[1]);
      for (const spec of imports) {
        const ok =
          (spec.startsWith('./') && !spec.includes('/', 2)) ||
          spec.startsWith('../../shared/') ||
          ALLOWED_NODE.has(spec) ||
          (file === 'pool.ts' && spec === 'piscina');
        expect(ok, `${file} imports ${spec}`).to.equal(true);
      }
    });
  }
});

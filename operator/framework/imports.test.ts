// The framework is generic: it must not reach into the Gateway API domain or any other part of the operator, so
// that it can be read, tested and reused on its own. This reads every import of every file here.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const here = dirname(fileURLToPath(import.meta.url));
const ALLOWED_PACKAGES = new Set(['undici', '@kubernetes/client-node', 'chai']);

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g))
    specifiers.push(match[1]);
  for (const match of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]);
  for (const match of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]);
  return specifiers;
}

describe('framework/imports', () => {
  const files = readdirSync(here).filter((f) => f.endsWith('.ts'));

  it('finds the framework files and their imports (the check below is not vacuous)', () => {
    expect(files).to.include.members(['reflector.ts', 'workqueue.ts', 'leader-election.ts', 'status-writer.ts']);
    expect(importsOf(readFileSync(join(here, 'reflector.ts'), 'utf8'))).to.include('./backoff.ts');
  });

  for (const file of files) {
    it(`${file} imports only node:, ${[...ALLOWED_PACKAGES].join(', ')} and files of the framework`, () => {
      for (const specifier of importsOf(readFileSync(join(here, file), 'utf8'))) {
        const ok =
          specifier.startsWith('node:') || ALLOWED_PACKAGES.has(specifier) || /^\.\/[^/]+\.ts$/.test(specifier);
        expect(ok, `${file} imports ${specifier}`).to.equal(true);
      }
    });
  }

  it('names no Gateway API kind or group in its code (comments aside)', () => {
    for (const file of files.filter((f) => f !== 'imports.test.ts')) {
      const code = readFileSync(join(here, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(code, file).not.to.match(/gateway\.networking|HTTPRoute|GatewayClass|\bGateway\b/);
    }
  });
});

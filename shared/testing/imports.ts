// What a source file imports, for the tests that guard the direction of imports (test/boundaries.test.ts,
// operator/gateway/boundaries.test.ts). Reads files only; knows nothing of which edges are allowed.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The module specifiers of every static import, re-export, dynamic import and side-effect import. */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g))
    specifiers.push(match[1]);
  for (const match of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]);
  for (const match of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]);
  return specifiers;
}

/** Every `.ts` file under `dir` (absolute paths, sorted). */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/** A file's imports: each specifier with, for a relative one, the absolute path it names. */
export function importsOfFile(file: string): Array<{ specifier: string; path?: string }> {
  return importsOf(readFileSync(file, 'utf8')).map((specifier) =>
    specifier.startsWith('.') ? { specifier, path: resolve(dirname(file), specifier) } : { specifier },
  );
}

// The translator's golden cases: `test/translate/<area>/<behaviour>.yaml` holds input manifests, then a `---` line
// and a `# Output` line, then the expected statuses and IR (keys sorted, timestamps from a fixed clock). Each area's
// `_defaults.yaml` (GatewayClass, Gateways, Services, …) is merged into every case of the area; a case object with
// the same kind, namespace and name replaces the default one. An optional first document `kind: TestCase` carries a
// description and translator options. Runner-agnostic: golden.test.ts drives it with mocha.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { objectKey } from '../../operator/gateway/keys.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import type { KubeObject } from '../../operator/gateway/resources.ts';
import { TranslationSession } from '../../operator/gateway/session.ts';
import type { TranslateOptions } from '../../operator/gateway/options.ts';
import { translate } from '../../operator/gateway/translate.ts';
import type { TranslateResult } from '../../operator/gateway/translate.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('./', import.meta.url));
/** The clock of every golden case. */
export const FIXED_NOW = '2026-01-01T00:00:00Z';
const OUTPUT_MARK = '\n---\n# Output\n';
/** An object carrying this annotation is meant to break the CRD schema (malformed-input cases); the harness checks it does. */
export const SCHEMA_INVALID_ANNOTATION = 'test.portico.dev/schema-invalid';

export interface GoldenCase {
  area: string;
  name: string;
  file: string;
  /** The file up to (not including) the output mark. */
  inputText: string;
  /** The expected output text, or undefined when the file has none yet. */
  expectedText: string | undefined;
  options: TranslateOptions;
  /** Defaults merged with the case's own objects. */
  objects: any[];
}

function parseObjects(text: string, file: string): { objects: any[]; options: TranslateOptions } {
  const objects: any[] = [];
  let options: TranslateOptions = {};
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (value.kind === 'TestCase') options = value.options ?? {};
    else objects.push(value);
  }
  return { objects, options };
}

function identity(object: any): string {
  return `${object?.kind}/${object?.metadata?.namespace ?? ''}/${object?.metadata?.name}`;
}

export function mergeObjects(defaults: readonly any[], own: readonly any[]): any[] {
  const replaced = new Set(own.map(identity));
  return [...defaults.filter((d) => !replaced.has(identity(d))), ...own];
}

export function loadCases(filter = process.env.GOLDEN_CASE): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const area of readdirSync(GOLDEN_DIR).sort()) {
    const dir = join(GOLDEN_DIR, area);
    if (!statSync(dir).isDirectory()) continue;
    const defaultsFile = join(dir, '_defaults.yaml');
    const defaults = readdirSync(dir).includes('_defaults.yaml')
      ? parseObjects(readFileSync(defaultsFile, 'utf8'), defaultsFile).objects
      : [];
    for (const entry of readdirSync(dir).sort()) {
      if (!entry.endsWith('.yaml') || entry.startsWith('_')) continue;
      const name = entry.slice(0, -'.yaml'.length);
      if (filter && !`${area}/${name}`.includes(filter)) continue;
      const file = join(dir, entry);
      const text = readFileSync(file, 'utf8');
      const mark = text.indexOf(OUTPUT_MARK);
      const inputText = mark === -1 ? text.replace(/\s*$/, '\n') : text.slice(0, mark + 1);
      const { objects, options } = parseObjects(inputText, file);
      cases.push({
        area,
        name,
        file,
        inputText,
        expectedText: mark === -1 ? undefined : text.slice(mark + OUTPUT_MARK.length),
        options,
        objects: mergeObjects(defaults, objects),
      });
    }
  }
  return cases;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function runCase(testCase: GoldenCase): TranslateResult {
  const snapshot = buildResourceSnapshot(deepFreeze(structuredClone(testCase.objects)));
  return translate(deepFreeze(snapshot), { now: FIXED_NOW, ...testCase.options });
}

/**
 * The case replayed through one session, change by change: its objects applied one at a time (a run after each),
 * then each removed and added back (a run after each). The result must be the fresh run's (`runCase`).
 */
export function replayCase(testCase: GoldenCase): TranslateResult {
  const options = { now: FIXED_NOW, ...testCase.options };
  const objects: KubeObject[] = deepFreeze(structuredClone(testCase.objects));
  const session = new TranslationSession();
  for (const object of objects) {
    session.apply([object], []);
    session.run(options);
  }
  for (const object of objects) {
    session.apply([], [objectKey(object)]);
    session.run(options);
    session.apply([object], []);
    session.run(options);
  }
  return session.result();
}

/**
 * The output part of a case. The GatewayClass status (the same long feature list in every case) is shown only in the
 * `gatewayclass` area.
 */
export function renderOutput(result: TranslateResult, area: string): string {
  const statuses = area === 'gatewayclass' ? result.statuses : result.statuses.filter((s) => s.kind !== 'GatewayClass');
  const output: Record<string, unknown> = { statuses, ir: result.ir, addresses: result.addresses };
  // Service mode only (pool-mode cases have neither).
  if (Object.keys(result.ports).length > 0) output.ports = result.ports;
  if (result.services.length > 0) output.services = result.services;
  // Classes in the GatewayInfrastructure mode only.
  if (result.infrastructure.length > 0) output.infrastructure = result.infrastructure;
  if (result.dropped.length > 0) output.dropped = result.dropped;
  return stringify(output, { sortMapEntries: true, lineWidth: 0 });
}

export function writeOutput(testCase: GoldenCase, output: string): void {
  writeFileSync(testCase.file, `${testCase.inputText.replace(/\n*$/, '\n')}${OUTPUT_MARK.slice(1)}${output}`);
}

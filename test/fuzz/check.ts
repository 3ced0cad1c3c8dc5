// What must hold for any resource set (generate.ts), checked without a test runner so that the long run
// (run.ts) and the short one in `npm test` (fuzz.test.ts) share it:
//   1. `translate` throws nothing and never falls back to its catch-all guard ("could not be translated");
//   2. its IR passes the data plane's validator with nothing dropped;
//   3. every object of ours gets a status: GatewayClasses with our controllerName, Gateways of those classes, routes
//      with a parentRef naming one of those Gateways;
//   4. the incremental session, fed the set and then a few edits, throws nothing, agrees with `translate`, and every
//      change it hands out is admitted by the data plane's own ConfigState (the supervisor's admission step).
// Returns the failures as text; an empty list is a pass.

import { ConfigState } from '../../dataplane/supervisor/config-state.ts';
import { buildResourceSnapshot, nameOf, namespaceOf } from '../../operator/gateway/resources.ts';
import type { KubeObject, ResourceSnapshot } from '../../operator/gateway/resources.ts';
import { objectKey, statusKey } from '../../operator/gateway/keys.ts';
import { TranslationSession } from '../../operator/gateway/session.ts';
import { translate } from '../../operator/gateway/translate.ts';
import type { TranslateResult } from '../../operator/gateway/translate.ts';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import { IR_VERSION, RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import { mutate } from '../translate/mutations.ts';
import { seeded } from '../../shared/testing/random-ir.ts';
import { CONTROLLER } from './generate.ts';

const NOW = '2026-01-01T00:00:00Z';
const GROUP = 'gateway.networking.k8s.io';
const ROUTE_LISTS = ['httpRoutes', 'grpcRoutes', 'tlsRoutes', 'tcpRoutes', 'udpRoutes'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.message}\n${error.stack?.split('\n').slice(1, 4).join('\n')}`
    : String(error);
}

/**
 * Of objects with one identity (a missing namespace is `default`), the one the translator keeps: the last in
 * precedence order replaces the others (operator/gateway/keys.ts `objectKey`).
 */
function lastOfEachIdentity(objects: readonly KubeObject[]): KubeObject[] {
  return [...new Map(objects.map((o) => [`${namespaceOf(o)}/${nameOf(o)}`, o])).values()];
}

/** The status keys the translator owes: our classes, their Gateways, and the routes that name those Gateways. */
export function expectedStatusKeys(snapshot: ResourceSnapshot): Set<string> {
  const classes = new Map<string, boolean>();
  for (const c of snapshot.gatewayClasses) {
    const spec = (c as { spec?: unknown }).spec;
    classes.set(nameOf(c), isObject(spec) && spec.controllerName === CONTROLLER);
  }
  const keys = new Set<string>();
  for (const [name, ours] of classes) if (ours) keys.add(`GatewayClass//${name}`);
  const gateways = new Set<string>();
  for (const g of lastOfEachIdentity(snapshot.gateways)) {
    const spec = (g as { spec?: unknown }).spec;
    if (!isObject(spec) || typeof spec.gatewayClassName !== 'string' || !classes.get(spec.gatewayClassName)) continue;
    gateways.add(`${namespaceOf(g)}/${nameOf(g)}`);
    keys.add(`Gateway/${namespaceOf(g)}/${nameOf(g)}`);
  }
  for (const list of ROUTE_LISTS) {
    for (const route of lastOfEachIdentity(snapshot[list] as readonly KubeObject[])) {
      const spec = (route as { spec?: unknown }).spec;
      const refs = isObject(spec) && Array.isArray(spec.parentRefs) ? spec.parentRefs : [];
      const names = refs.some((ref) => {
        if (!isObject(ref) || typeof ref.name !== 'string') return false;
        // Null is absent (the API server prunes nulls); any other value must be a non-empty string, or the entry
        // names no Gateway (there is no namespace 1.5) and the translator rightly leaves it alone.
        if ((ref.group ?? GROUP) !== GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') return false;
        if (ref.namespace != null && (typeof ref.namespace !== 'string' || ref.namespace === '')) return false;
        const namespace = typeof ref.namespace === 'string' ? ref.namespace : namespaceOf(route);
        return gateways.has(`${namespace}/${ref.name}`);
      });
      if (names) keys.add(`${String(route.kind)}/${namespaceOf(route)}/${nameOf(route)}`);
    }
  }
  return keys;
}

function checkResult(result: TranslateResult, snapshot: ResourceSnapshot, out: string[], where: string): void {
  const problems = validateIndex(indexSnapshot(result.ir), IR_VERSION);
  if (problems.length > 0) out.push(`${where}: the IR fails validation: ${JSON.stringify(problems.slice(0, 3))}`);
  if (result.dropped.length > 0) out.push(`${where}: records dropped: ${JSON.stringify(result.dropped.slice(0, 3))}`);
  const given = new Set(result.statuses.map(statusKey));
  for (const key of expectedStatusKeys(snapshot)) {
    if (given.has(key)) continue;
    out.push(`${where}: no status for ${key}`);
    if (process.env.FUZZ_DEBUG)
      for (const list of Object.values(snapshot))
        for (const o of list as KubeObject[])
          if (`${o.kind}/${namespaceOf(o)}/${nameOf(o)}` === key) console.log(JSON.stringify(o));
  }
  for (const status of result.statuses) {
    const text = JSON.stringify(status.status);
    if (text.includes('could not be translated'))
      out.push(`${where}: catch-all guard on ${statusKey(status)}: ${text.slice(0, 300)}`);
  }
}

/** The session's key of an object (operator/gateway/keys.ts), for any value the generators leave in its fields. */
function storeKey(object: any): string {
  try {
    return objectKey(object);
  } catch {
    return JSON.stringify([object?.kind, object?.metadata?.namespace, object?.metadata?.name]) ?? '?';
  }
}

function sameIr(a: TranslateResult, b: TranslateResult): boolean {
  return RECORD_KINDS.every((kind) => {
    const left = new Map((a.ir[kind] as Array<{ key: string }>).map((r) => [r.key, r]));
    const right = new Map((b.ir[kind] as Array<{ key: string }>).map((r) => [r.key, r]));
    return JSON.stringify([...left].sort()) === JSON.stringify([...right].sort());
  });
}

/** Feeds the set to a session, then `edits` random edits one run each, every output through the data plane's admission. */
function checkSession(objects: readonly unknown[], seed: number, edits: number, out: string[]): void {
  const next = seeded(seed ^ 0x5eed);
  const session = new TranslationSession();
  const state = new ConfigState();
  const model = new Map<string, KubeObject>();
  let generation = 0;
  for (const object of objects) model.set(storeKey(object), object as KubeObject);
  session.apply(model.values(), []);
  for (let step = 0; step <= edits; step++) {
    const where = `session step ${step}`;
    if (step > 0) {
      const keys = [...model.keys()];
      if (keys.length === 0) break;
      const key = keys[Math.floor(next() * keys.length)];
      if (next() < 0.25) {
        model.delete(key);
        session.apply([], [key]);
      } else {
        const copy = structuredClone(model.get(key)) as any;
        mutate([copy], next);
        const newKey = storeKey(copy);
        if (newKey !== key) {
          model.delete(key);
          session.apply([], [key]);
        }
        model.set(newKey, copy);
        session.apply([copy], []);
      }
    }
    let output: ReturnType<TranslationSession['run']>;
    try {
      output = session.run({ now: NOW });
    } catch (error) {
      out.push(`${where}: session.run threw: ${errorText(error)}`);
      return;
    }
    const delta = {
      irVersion: IR_VERSION,
      generation: generation + 1,
      baseGeneration: generation,
      upsert: output.ir.upsert,
      remove: output.ir.remove,
    };
    const admission = state.admit(delta);
    if (!admission.ok) {
      out.push(
        `${where}: the data plane refused the session's change: ${JSON.stringify(admission.problems.slice(0, 3))}`,
      );
      return;
    }
    state.commit(admission);
    generation += 1;
    const snapshot = buildResourceSnapshot(model.values());
    const fresh = translate(snapshot, { now: NOW });
    if (!sameIr(session.result(), fresh)) out.push(`${where}: the session's IR differs from translate's`);
    // Keyed as a consumer holds them: two objects with one identity (a namespaced object without a namespace next
    // to the same one in `default`) give `translate` two statuses under one key, the session the last (session.test.ts).
    const timeless = (r: TranslateResult) =>
      JSON.stringify([...new Map(r.statuses.map((s) => [statusKey(s), s]))].sort(), (key, value) =>
        key === 'lastTransitionTime' ? undefined : value,
      );
    if (timeless(session.result()) !== timeless(fresh))
      out.push(`${where}: the session's statuses differ from translate's`);
    if (process.env.FUZZ_DEBUG && out.length > 0) {
      const mine = new Map(session.result().statuses.map((s) => [statusKey(s), JSON.stringify(s.status)]));
      const theirs = new Map(fresh.statuses.map((s) => [statusKey(s), JSON.stringify(s.status)]));
      for (const [k, v] of theirs)
        if (mine.get(k) !== v) console.log('translate', k, v.slice(0, 800), '\n session ', mine.get(k)?.slice(0, 800));
      for (const k of mine.keys()) if (!theirs.has(k)) console.log('session only', k);
    }
    checkResult(session.result(), snapshot, out, where);
    if (out.length > 0) return;
  }
}

export interface CheckOptions {
  /** Random edits run through the session after the set itself; 0 skips the session. */
  sessionEdits: number;
}

export function checkSet(objects: readonly unknown[], seed: number, options: CheckOptions): string[] {
  const out: string[] = [];
  let snapshot: ResourceSnapshot;
  let result: TranslateResult;
  try {
    snapshot = buildResourceSnapshot(objects);
    result = translate(snapshot, { now: NOW });
  } catch (error) {
    return [`translate threw: ${errorText(error)}`];
  }
  checkResult(result, snapshot, out, 'translate');
  if (out.length > 0 || options.sessionEdits === 0) return out;
  try {
    checkSession(structuredClone(objects), seed, options.sessionEdits, out);
  } catch (error) {
    out.push(`session check threw: ${errorText(error)}`);
  }
  return out;
}

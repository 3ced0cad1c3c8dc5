// Small builders for IR records in tests: defaults for every required field, overrides for what a test is about.

import type { Backend } from '../ir/backend.ts';
import type { Listener } from '../ir/listener.ts';
import type { HttpMatch, HttpRoute, HttpRule } from '../ir/route.ts';
import { IR_VERSION, emptyRecords } from '../ir/snapshot.ts';
import type { ConfigSnapshot, SnapshotRecords } from '../ir/snapshot.ts';

export function httpListener(key: string, port: number, extra: Partial<Listener> = {}): Listener {
  return {
    key,
    source: { kind: 'Gateway', namespace: 'test', name: key },
    address: '127.0.0.1',
    port,
    protocol: 'HTTP',
    ...extra,
  };
}

export function backend(key: string, endpoints: Array<[string, number]>, extra: Partial<Backend> = {}): Backend {
  return {
    key,
    source: { kind: 'Service', namespace: 'test', name: key, port: 80 },
    protocol: 'http1',
    endpoints: endpoints.map(([address, port]) => ({ address, port })),
    ...extra,
  };
}

export function prefix(value: string, extra: Partial<HttpMatch> = {}): HttpMatch {
  return { path: { type: 'PathPrefix', value }, headers: [], queryParams: [], ...extra };
}

export function rule(matches: HttpMatch[], backendKeys: string[], extra: Partial<HttpRule> = {}): HttpRule {
  return {
    index: 0,
    matches,
    filters: [],
    backends: backendKeys.map((k) => ({ backendKey: k, weight: 1, filters: [] })),
    ...extra,
  };
}

export function httpRoute(
  key: string,
  listenerKeys: string[],
  rules: HttpRule[],
  extra: Partial<HttpRoute> = {},
): HttpRoute {
  return {
    key,
    source: { kind: 'HTTPRoute', namespace: 'test', name: key },
    rank: 0,
    parents: listenerKeys.map((listenerKey) => ({ listenerKey, hostnames: [] })),
    rules: rules.map((r, index) => ({ ...r, index })),
    ...extra,
  };
}

export function snapshot(generation: number, records: Partial<SnapshotRecords>): ConfigSnapshot {
  return { irVersion: IR_VERSION, generation, ...emptyRecords(), ...records };
}

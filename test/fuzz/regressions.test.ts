// Defects the configuration fuzzer found, each pinned by the smallest input that showed it (the fuzzer's own
// message is in each test's name). Translator defects that show in a status or the IR are golden cases instead
// (test/translate/malformed/parentref-null-fields.yaml).

import { expect } from 'chai';
import { compileHttpTables } from '../../dataplane/http/tables.ts';
import { ConfigState } from '../../dataplane/supervisor/config-state.ts';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import { TranslationSession } from '../../operator/gateway/session.ts';
import { translate } from '../../operator/gateway/translate.ts';
import { indexSnapshot } from '../../shared/ir/delta.ts';
import type { ConfigDelta } from '../../shared/ir/delta.ts';
import { IR_VERSION, emptyRecords } from '../../shared/ir/snapshot.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { validateIndex } from '../../shared/validation/snapshot.ts';
import { manyListeners } from './generate.ts';

const NOW = '2026-01-01T00:00:00Z';

/** A valid IR with one listener of each kind, a route of each kind, a backend and a certificate. */
function baseRecords(): SnapshotRecords {
  const records = emptyRecords();
  records.listeners.push(
    {
      key: 'ns/gw/http',
      source: { kind: 'Gateway', namespace: 'ns', name: 'gw' },
      address: '127.0.0.1',
      port: 8080,
      protocol: 'HTTP',
    },
    {
      key: 'ns/gw/tcp',
      source: { kind: 'Gateway', namespace: 'ns', name: 'gw' },
      address: '127.0.0.1',
      port: 9000,
      protocol: 'TCP',
    },
  );
  records.backends.push({
    key: 'ns/b:80',
    source: { kind: 'Service', namespace: 'ns', name: 'b', port: 80 },
    protocol: 'http1',
    endpoints: [{ address: '10.0.0.1', port: 80 }],
  });
  records.httpRoutes.push({
    key: 'httproute/ns/r',
    source: { kind: 'HTTPRoute', namespace: 'ns', name: 'r' },
    rank: 0,
    parents: [{ listenerKey: 'ns/gw/http', hostnames: [] }],
    rules: [
      {
        index: 0,
        matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }],
        filters: [],
        backends: [{ backendKey: 'ns/b:80', weight: 1, filters: [] }],
      },
    ],
  });
  records.streamRoutes.push({
    key: 'tcproute/ns/s',
    source: { kind: 'TCPRoute', namespace: 'ns', name: 's' },
    rank: 0,
    parents: [{ listenerKey: 'ns/gw/tcp', hostnames: [] }],
    backends: [{ backendKey: 'ns/b:80', weight: 1, filters: [] }],
  });
  return records;
}

/** The data plane's admission of `base`, then of `change(base)` as a delta: problems, or [] when admitted. */
function admitChange(change: (records: any) => void): string[] {
  const state = new ConfigState();
  const noRemovals = { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
  const first = state.admit({
    irVersion: IR_VERSION,
    generation: 1,
    baseGeneration: 0,
    upsert: baseRecords(),
    remove: noRemovals,
  });
  if (!first.ok) throw new Error(JSON.stringify(first.problems));
  state.commit(first);
  const upsert = baseRecords();
  change(upsert);
  const delta: ConfigDelta = { irVersion: IR_VERSION, generation: 2, baseGeneration: 1, upsert, remove: noRemovals };
  const admission = state.admit(delta);
  const full = validateIndex(indexSnapshot(upsert), IR_VERSION).map((p) => p.path);
  const paths = admission.ok ? [] : admission.problems.map((p) => p.path);
  expect(paths, 'the incremental check and the full one agree').to.deep.equal(full);
  if (admission.ok) compileHttpTables(admission.index);
  return paths;
}

describe('defects found by the configuration fuzzer', () => {
  it('validator: a stream route backend whose filters are not a list is refused, not thrown on ("filters.forEach is not a function")', () => {
    expect(admitChange((r) => (r.streamRoutes[0].backends[0].filters = 65536))).to.deep.equal([
      'streamRoutes[tcproute/ns/s].backends[0].filters',
    ]);
  });

  it('validator: a route without a source is refused (the shards name routes by it: "Cannot read properties of undefined")', () => {
    expect(
      admitChange((r) => {
        delete r.httpRoutes[0].source;
        r.streamRoutes[0].source = 'x';
      }),
    ).to.deep.equal(['httpRoutes[httproute/ns/r].source', 'streamRoutes[tcproute/ns/s].source']);
  });

  it('validator: keys that are objects are refused, not thrown on ("Cannot convert object to primitive value")', () => {
    const hostile = { constructor: 'x', toString: 5 };
    expect(admitChange((r) => (r.httpRoutes[0].parents[0].listenerKey = hostile))).to.deep.equal([
      'httpRoutes[httproute/ns/r].parents[0].listenerKey',
    ]);
    expect(
      admitChange((r) => {
        r.listeners[0].protocol = 'HTTPS';
        r.listeners[0].tls = { mode: 'Terminate', certificateKeys: [hostile] };
      }),
    ).to.deep.equal(['listeners[ns/gw/http].tls.certificateKeys[0]']);
    expect(admitChange((r) => (r.listeners[0].backendClientCertificateKey = hostile))).to.deep.equal([
      'listeners[ns/gw/http].backendClientCertificateKey',
    ]);
  });

  it('session: an HTTPRoute and a GRPCRoute of one namespace/name and creation second get the ranks translate gives them', () => {
    const [gatewayClass, gateway, , service] = manyListeners(1) as any[];
    const route = (kind: string) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind,
      metadata: { name: 'a', namespace: 'default', creationTimestamp: '2025-04-01T00:00:00Z' },
      spec: { parentRefs: [{ name: 'big' }], rules: [{ backendRefs: [{ name: 'echo', port: 80 }] }] },
    });
    // The GRPCRoute first: the session meets them in the order of its input, translate in the order of its lists.
    const objects = [gatewayClass, gateway, service, route('GRPCRoute'), route('HTTPRoute')];
    const session = new TranslationSession();
    session.apply(objects, []);
    session.run({ now: NOW });
    const expected = translate(buildResourceSnapshot(objects), { now: NOW }).ir.httpRoutes;
    expect(expected.map((r) => [r.key, r.rank])).to.deep.equal([
      ['grpcroute/default/a', 1743465600.5],
      ['httproute/default/a', 1743465600],
    ]);
    expect(session.result().ir.httpRoutes).to.deep.equal(expected);
  });
});

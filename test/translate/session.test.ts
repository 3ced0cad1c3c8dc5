// The translation session (operator/gateway/session.ts) run incrementally against a fresh run (`translate`): start
// from a golden case, make random edits (damage an object, delete one, bring one back, copy one under a new name or
// into another namespace, move a creation time, bring in objects from another case), and after every batch check
// that what the session remembers equals `translate` of the same objects from scratch, and that the changes it handed
// out, applied to a copy of its previous output, give the same. Deterministic: SESSION_RUNS, SESSION_SEED.

import { expect } from 'chai';
import { buildResourceSnapshot } from '../../operator/gateway/resources.ts';
import type { KubeObject } from '../../operator/gateway/resources.ts';
import { objectKey as keyOf, statusKey } from '../../operator/gateway/keys.ts';
import { TranslationSession } from '../../operator/gateway/session.ts';
import type { SessionOutput } from '../../operator/gateway/session.ts';
import type { ObjectStatus } from '../../operator/gateway/status.ts';
import { translate } from '../../operator/gateway/translate.ts';
import type { TranslateResult } from '../../operator/gateway/translate.ts';
import { RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import { FIXED_NOW, deepFreeze, loadCases } from './golden.ts';
import { mutate, random } from './mutations.ts';

const RUNS = Number(process.env.SESSION_RUNS ?? 300);
const SEED = Number(process.env.SESSION_SEED ?? 20261126);

/** What a consumer of the session's changes holds: its outputs applied one after the other. */
class Mirror {
  readonly ir = new Map<string, Map<string, unknown>>(RECORD_KINDS.map((k) => [k, new Map()]));
  readonly statuses = new Map<string, ObjectStatus>();

  apply(output: SessionOutput): void {
    for (const kind of RECORD_KINDS) {
      for (const key of output.ir.remove[kind]) this.ir.get(kind)!.delete(key);
      for (const record of output.ir.upsert[kind] as Array<{ key: string }>) this.ir.get(kind)!.set(record.key, record);
    }
    for (const key of output.statuses.remove) this.statuses.delete(key);
    for (const status of output.statuses.upsert) this.statuses.set(statusKey(status), status);
  }

  matches(result: TranslateResult): void {
    for (const kind of RECORD_KINDS) {
      const sorted = [...this.ir.get(kind)!.values()].sort((a: any, b: any) => (a.key < b.key ? -1 : 1));
      expect(sorted, `mirror ${kind}`).to.deep.equal(result.ir[kind]);
    }
    expect(new Map([...this.statuses].sort()), 'mirror statuses').to.deep.equal(
      new Map(result.statuses.map((s) => [statusKey(s), s] as const).sort()),
    );
  }
}

/** Statuses without their times (for runs with a moving clock). */
function timeless(result: TranslateResult): unknown {
  return JSON.parse(JSON.stringify(result, (key, value) => (key === 'lastTransitionTime' ? undefined : value)));
}

describe('translation session: the same as translate, at the cost of the change', () => {
  const cases = loadCases('');

  it(`agrees with translate over ${RUNS} random edit sequences (seed ${SEED})`, function () {
    this.timeout(300_000);
    const next = random(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
    const modes = new Map<string, number>();
    for (let run = 0; run < RUNS; run++) {
      const base = pick(cases);
      const options = { now: FIXED_NOW, ...base.options };
      const model = new Map<string, KubeObject>();
      const graveyard: KubeObject[] = [];
      const session = new TranslationSession();
      const mirror = new Mirror();
      const put = (object: any) => {
        const frozen = deepFreeze(object);
        model.set(keyOf(frozen), frozen);
        session.apply([frozen], []);
      };
      const drop = (key: string) => {
        if (!model.has(key)) return;
        graveyard.push(model.get(key)!);
        model.delete(key);
        session.apply([], [key]);
      };
      for (const object of structuredClone(base.objects)) put(object);
      const steps: string[] = [];
      for (let step = 0; step < 12; step++) {
        if (step > 0) {
          for (let edit = 0, edits = 1 + Math.floor(next() * 3); edit < edits; edit++) steps.push(editOnce());
        }
        const output = session.run(options);
        modes.set(output.mode, (modes.get(output.mode) ?? 0) + 1);
        mirror.apply(output);
        const expected = translate(buildResourceSnapshot(model.values()), options);
        const context = `run ${run} on ${base.area}/${base.name}, step ${step}: ${steps.join('; ')}`;
        const actual = session.result();
        expect(actual.ir, context).to.deep.equal(expected.ir);
        expect(actual.statuses, context).to.deep.equal(expected.statuses);
        expect(actual.addresses, context).to.deep.equal(expected.addresses);
        expect(actual.ports, context).to.deep.equal(expected.ports);
        expect(actual.services, context).to.deep.equal(expected.services);
        expect(actual.dropped, context).to.deep.equal(expected.dropped);
        mirror.matches(actual);
      }

      function editOnce(): string {
        const keys = [...model.keys()];
        const choice = next();
        if (choice < 0.4 && keys.length > 0) {
          const key = pick(keys);
          const copy = structuredClone(model.get(key)) as any;
          const what = mutate([copy], next);
          if (keyOf(copy) !== key) drop(key);
          put(copy);
          return what;
        }
        if (choice < 0.55 && keys.length > 0) {
          const key = pick(keys);
          drop(key);
          return `delete ${key}`;
        }
        if (choice < 0.65 && graveyard.length > 0) {
          const object = graveyard.splice(Math.floor(next() * graveyard.length), 1)[0];
          put(structuredClone(object));
          return `restore ${keyOf(object)}`;
        }
        if (choice < 0.75 && keys.length > 0) {
          const copy = structuredClone(model.get(pick(keys))) as any;
          if (typeof copy?.metadata !== 'object' || copy.metadata === null) return 'nothing';
          if (next() < 0.5)
            copy.metadata.name = `${typeof copy.metadata.name === 'string' ? copy.metadata.name : 'x'}-copy${Math.floor(next() * 3)}`;
          else copy.metadata.namespace = pick(['default', 'other', 'apps', undefined]);
          put(copy);
          return `copy as ${keyOf(copy)}`;
        }
        if (choice < 0.85 && keys.length > 0) {
          const key = pick(keys);
          const copy = structuredClone(model.get(key)) as any;
          if (typeof copy?.metadata !== 'object' || copy.metadata === null) return 'nothing';
          copy.metadata.creationTimestamp = pick([
            '2025-01-01T00:00:00Z',
            '2025-01-01T00:00:00.500Z',
            '2024-06-01T12:00:00Z',
            undefined,
          ]);
          put(copy);
          return `move ${key} in time`;
        }
        if (choice < 0.95) {
          const object = structuredClone(pick(pick(cases).objects));
          put(object);
          return `bring in ${keyOf(object)}`;
        }
        // Same object, new identity (a relist, or a file read again).
        if (keys.length > 0) {
          const key = pick(keys);
          put(structuredClone(model.get(key)));
          return `touch ${key}`;
        }
        return 'nothing';
      }
    }
    if (process.env.SESSION_DEBUG) console.log(modes);
    // Each way of running was exercised.
    expect([...modes.keys()].sort()).to.deep.equal(['incremental', 'rebuilt']);
    expect(modes.get('incremental')).to.be.greaterThan(modes.get('rebuilt')!);
  });

  it('with a moving clock, differs from translate only in the times of statuses that did not change', () => {
    for (const base of cases.slice(0, 40)) {
      const session = new TranslationSession();
      const objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
      session.apply(objects, []);
      session.run({ ...base.options, now: '2026-01-01T00:00:00Z' });
      const later = { ...base.options, now: '2026-01-01T00:05:00Z' };
      const output = session.run(later);
      expect(
        output.statuses.upsert.filter((s) => s.kind !== 'Gateway' && s.kind !== 'GatewayClass'),
        base.name,
      ).to.deep.equal([]);
      expect(timeless(session.result()), base.name).to.deep.equal(
        timeless(translate(buildResourceSnapshot(objects), later)),
      );
    }
  });

  it('translates one route again when one route changes, and no route when an EndpointSlice does', () => {
    const base = cases.find((c) => c.area === 'backend' && c.objects.some((o: any) => o.kind === 'EndpointSlice'))!;
    const session = new TranslationSession();
    const objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
    session.apply(objects, []);
    const routes = objects.filter((o: any) => o.kind === 'HTTPRoute').length;
    expect(session.run({ now: FIXED_NOW, ...base.options }).translatedRoutes).to.equal(routes);

    const slice = structuredClone(objects.find((o: any) => o.kind === 'EndpointSlice'));
    slice.endpoints = [...(slice.endpoints ?? []), { addresses: ['10.9.9.9'], conditions: { ready: true } }];
    session.apply([deepFreeze(slice)], []);
    const endpoints = session.run({ now: FIXED_NOW, ...base.options });
    expect(endpoints.translatedRoutes).to.equal(0);
    expect(endpoints.ir.upsert.httpRoutes).to.deep.equal([]);
    expect(endpoints.ir.upsert.backends.some((b) => b.endpoints.some((e) => e.address === '10.9.9.9'))).to.equal(true);

    const route = structuredClone(objects.find((o: any) => o.kind === 'HTTPRoute'));
    route.metadata.labels = { touched: 'yes' };
    session.apply([deepFreeze(route)], []);
    const edited = session.run({ now: FIXED_NOW, ...base.options });
    expect(edited.translatedRoutes).to.equal(1);
    expect(edited.mode).to.equal('incremental');
  });

  it("follows a listener authorizer's EndpointSlice incrementally, and drops its backend with the filter", () => {
    const base = cases.find((c) => c.area === 'listener' && c.name === 'filter-external-auth')!;
    const session = new TranslationSession();
    const mirror = new Mirror();
    const objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
    session.apply(objects, []);
    mirror.apply(session.run({ now: FIXED_NOW, ...base.options }));
    const authorizers = ['infra/echo:8080', 'infra/echo:8080/h2c'];
    expect(mirror.ir.get('backends')!.has(authorizers[1])).to.equal(true);

    const slice = structuredClone(
      objects.find((o: any) => o.kind === 'EndpointSlice' && o.metadata.name === 'echo-abc12'),
    );
    slice.endpoints = [...slice.endpoints, { addresses: ['10.9.9.9'], conditions: { ready: true } }];
    session.apply([deepFreeze(slice)], []);
    const endpoints = session.run({ now: FIXED_NOW, ...base.options });
    mirror.apply(endpoints);
    expect(endpoints.mode).to.equal('incremental');
    expect(endpoints.ir.upsert.listeners).to.deep.equal([]);
    expect(endpoints.ir.upsert.backends.map((b) => b.key).sort()).to.deep.equal(authorizers);
    for (const b of endpoints.ir.upsert.backends) expect(b.endpoints.map((e) => e.address)).to.include('10.9.9.9');

    const gateway = structuredClone(objects.find((o: any) => o.kind === 'Gateway'));
    delete gateway.spec.listeners[0].filters;
    session.apply([deepFreeze(gateway)], []);
    const unfiltered = session.run({ now: FIXED_NOW, ...base.options });
    mirror.apply(unfiltered);
    expect(unfiltered.ir.remove.backends.sort()).to.deep.equal(authorizers);
    expect(unfiltered.ir.upsert.listeners[0].externalAuth).to.equal(undefined);
    // The changes applied one by one equal a fresh translation of the objects as they are now.
    const now = [
      ...objects.filter((o: any) => o.kind !== 'Gateway' && o.metadata?.name !== 'echo-abc12'),
      slice,
      gateway,
    ];
    mirror.matches(translate(buildResourceSnapshot(now), { now: FIXED_NOW, ...base.options }));
  });

  it('service mode: follows a class parameters ConfigMap and a Service status incrementally', () => {
    const base = cases.find((c) => c.area === 'service' && c.name === 'service-types')!;
    const session = new TranslationSession();
    const objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
    session.apply(objects, []);
    const options = { now: FIXED_NOW, ...base.options };
    session.run(options);
    const typeOf = (gateway: string) => session.result().services.find((s) => s.gateway === gateway)?.desired?.type;
    expect(typeOf('infra/internal')).to.equal('ClusterIP');

    const configMap = structuredClone(
      objects.find((o: any) => o.kind === 'ConfigMap' && o.metadata.name === 'internal'),
    );
    configMap.data.serviceType = 'NodePort';
    session.apply([deepFreeze(configMap)], []);
    const changed = session.run(options);
    expect(changed.mode).to.equal('incremental');
    expect(typeOf('infra/internal')).to.equal('NodePort');

    const service = structuredClone(
      objects.find((o: any) => o.kind === 'Service' && o.metadata.name.startsWith('gw-infra-lb-')),
    );
    service.status = { loadBalancer: { ingress: [{ ip: '203.0.113.99' }] } };
    session.apply([deepFreeze(service)], []);
    const addressed = session.run(options);
    const lb = addressed.statuses.upsert.find((s) => s.kind === 'Gateway' && s.name === 'lb') as any;
    expect(lb.status.addresses).to.deep.equal([{ type: 'IPAddress', value: '203.0.113.99', routability: '' }]);
    expect(session.result()).to.deep.equal(
      translate(
        buildResourceSnapshot([
          ...objects.filter((o: any) => keyOf(o) !== keyOf(configMap) && keyOf(o) !== keyOf(service)),
          configMap,
          service,
        ]),
        options,
      ),
    );
  });
  it('a CA ConfigMap edit re-checks its BackendTLSPolicy, and the routes and statuses that read the check follow', () => {
    const base = cases.find((c) => c.area === 'backendtlspolicy' && c.name === 'accepted')!;
    const options = { now: FIXED_NOW, ...base.options };
    const session = new TranslationSession();
    const objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
    session.apply(objects, []);
    session.run(options);
    const accepted = (s: any) =>
      s.kind === 'BackendTLSPolicy' && s.name === 'normative'
        ? s.status.ancestors[0].conditions.find((c: any) => c.type === 'Accepted').status
        : undefined;
    expect(session.result().statuses.map(accepted).filter(Boolean)).to.deep.equal(['True']);
    expect(session.result().ir.backends.some((b) => b.tls?.caCertificates !== undefined)).to.equal(true);

    const configMap = structuredClone(objects.find((o: any) => o.kind === 'ConfigMap' && o.metadata.name === 'tls-ca'));
    configMap.data = { 'ca.crt': 'not a certificate' };
    session.apply([deepFreeze(configMap)], []);
    const output = session.run(options);
    expect(output.mode).to.equal('incremental');
    expect(output.translatedRoutes, 'the routes that reach the policy are built again').to.be.greaterThan(0);
    expect(output.statuses.upsert.map(accepted).filter(Boolean)).to.deep.equal(['False']);
    expect(session.result().ir.backends.some((b) => b.tls?.caCertificates !== undefined)).to.equal(false);
    const fresh = translate(
      buildResourceSnapshot([...objects.filter((o: any) => keyOf(o) !== keyOf(configMap)), configMap]),
      options,
    );
    expect(session.result()).to.deep.equal(fresh);
  });

  it("a Gateway's backend client certificate, rotated or replaced, changes its listener and certificate records only", () => {
    const base = cases.find(
      (c) => c.area === 'backendtlspolicy' && c.name === 'gateway-client-certificate-two-gateways',
    )!;
    const options = { now: FIXED_NOW, ...base.options };
    const session = new TranslationSession();
    let objects = structuredClone(base.objects).map((o: any) => deepFreeze(o));
    session.apply(objects, []);
    session.run(options);
    const changed = (output: SessionOutput) =>
      Object.fromEntries(
        RECORD_KINDS.map((kind) => [
          kind,
          [...(output.ir.upsert[kind] as Array<{ key: string }>).map((r) => r.key), ...output.ir.remove[kind]].sort(),
        ]),
      );
    const edit = (object: any) => {
      objects = [...objects.filter((o: any) => keyOf(o) !== keyOf(object)), deepFreeze(object)];
      session.apply([object], []);
      const output = session.run(options);
      expect(output.mode).to.equal('incremental');
      expect(output.translatedRoutes).to.equal(0);
      expect(session.result()).to.deep.equal(translate(buildResourceSnapshot(objects), options));
      return output;
    };
    const secret = (name: string) => objects.find((o: any) => o.kind === 'Secret' && o.metadata.name === name);

    // The Secret rotated (client-1 now holds client-2's key pair): the certificate record, nothing else.
    const rotated = structuredClone(secret('client-1'));
    rotated.data = structuredClone(secret('client-2').data);
    expect(changed(edit(rotated))).to.deep.equal({
      listeners: [],
      httpRoutes: [],
      streamRoutes: [],
      backends: [],
      certificates: ['infra/client-1'],
    });

    // Gateway `one` presents client-2 instead: its listener record; client-1 is no longer used.
    const gateway = structuredClone(objects.find((o: any) => o.kind === 'Gateway' && o.metadata.name === 'one'));
    gateway.spec.tls.backend.clientCertificateRef.name = 'client-2';
    const replaced = edit(gateway);
    expect(changed(replaced)).to.deep.equal({
      listeners: ['infra/one/http'],
      httpRoutes: [],
      streamRoutes: [],
      backends: [],
      certificates: ['infra/client-1'],
    });
    expect(replaced.ir.upsert.listeners[0].backendClientCertificateKey).to.equal('infra/client-2');
    expect(replaced.ir.remove.certificates).to.deep.equal(['infra/client-1']);
  });
});

import { expect } from 'chai';
import { backend } from '../../shared/testing/ir-builders.ts';
import { UpstreamRegistry } from './registry.ts';

describe('UpstreamRegistry', () => {
  const registry = new UpstreamRegistry({
    connectionsPerEndpoint: 1,
    connectTimeoutMs: 1000,
    keepAliveTimeoutMs: 1000,
  });
  after(() => registry.close());

  it('stages changed backends over the ones in force until the commit, keeping origins and unchanged runtimes', () => {
    const a = backend('a', [['10.0.0.1', 80]]);
    const b = backend('b', [['10.0.0.2', 80]]);
    const c = backend('c', [['10.0.0.3', 80]]);
    registry.prepare([a, b, c], new Map())();
    const before = { a: registry.backend('a')!, b: registry.backend('b')!, c: registry.backend('c')! };

    const a2 = backend('a', [['10.0.0.9', 80]]);
    const d = backend('d', [['10.0.0.4', 80]]);
    const commit = registry.prepareChanges([a2, d], ['b'], new Map());
    // Staged: the new runtimes first; what the next generation drops is still there for requests in flight.
    expect(registry.backend('a')!.record).to.equal(a2);
    expect(registry.byOrigin(before.a.origin)!.record).to.equal(a2);
    expect(registry.backend('b')).to.equal(before.b);
    expect(registry.backend('d')!.record).to.equal(d);
    commit();
    expect(registry.backend('a')!.origin).to.equal(before.a.origin);
    expect(registry.backend('b')).to.equal(undefined);
    expect(registry.byOrigin(before.b.origin)).to.equal(undefined);
    expect(registry.backend('c')).to.equal(before.c);
    expect(registry.byOrigin(registry.backend('d')!.origin)!.record).to.equal(d);

    // A full prepare of the same records keeps every runtime.
    const kept = { a: registry.backend('a'), c: registry.backend('c'), d: registry.backend('d') };
    registry.prepare([a2, c, d], new Map())();
    expect({ a: registry.backend('a'), c: registry.backend('c'), d: registry.backend('d') }).to.deep.equal(kept);
  });

  it("makes one runtime per (TLS backend, listener's client certificate) on first use, anew once the certificate rotates", () => {
    const tls = backend('t', [['10.0.1.1', 443]], { tls: { hostname: 't.example.com' } });
    const plain = backend('p', [['10.0.1.2', 80]]);
    const certificate = (pem: string) => ({ key: 'ns/c', certificatePem: pem, privateKeyPem: pem });
    const c1 = certificate('one');
    registry.prepare([tls, plain], new Map([['ns/c', c1]]))();
    const base = registry.backend('t')!;
    expect(base.client).to.equal(undefined);
    const paired = registry.backend('t', 'ns/c')!;
    expect(paired).to.not.equal(base);
    expect(paired.key).to.equal('t');
    expect(paired.client).to.equal(c1);
    expect(paired.origin).to.not.equal(base.origin);
    expect(paired.pools[0]).to.not.equal(base.pools[0]);
    expect(registry.backend('t', 'ns/c')).to.equal(paired);
    expect(registry.byOrigin(paired.origin)).to.equal(paired);
    // Without TLS the certificate does not matter.
    expect(registry.backend('p', 'ns/c')).to.equal(registry.backend('p'));

    // The certificate rotates, the backend record does not: the pair's runtime goes at the commit.
    const c2 = certificate('two');
    registry.prepareChanges([], [], new Map([['ns/c', c2]]))();
    expect(registry.backend('t')).to.equal(base);
    expect(registry.byOrigin(paired.origin)).to.equal(undefined);
    const rotated = registry.backend('t', 'ns/c')!;
    expect(rotated).to.not.equal(paired);
    expect(rotated.client).to.equal(c2);

    // The backend goes: so does its pair's runtime.
    registry.prepareChanges([], ['t'], new Map([['ns/c', c2]]))();
    expect(registry.backend('t', 'ns/c')).to.equal(undefined);
    expect(registry.byOrigin(rotated.origin)).to.equal(undefined);
  });
});

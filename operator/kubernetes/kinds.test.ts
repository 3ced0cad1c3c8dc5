import { expect } from 'chai';
import { CLUSTER_SCOPED_KINDS } from '../gateway/keys.ts';
import { WATCHED_KINDS } from './kinds.ts';

describe('operator/kubernetes/kinds', () => {
  it('watches as cluster-scoped exactly the kinds the store keys without a namespace (gateway/keys.ts)', () => {
    const clusterScoped = WATCHED_KINDS.filter((k) => !k.namespaced).map((k) => k.kind);
    expect(clusterScoped.sort()).to.deep.equal([...CLUSTER_SCOPED_KINDS].sort());
  });
});

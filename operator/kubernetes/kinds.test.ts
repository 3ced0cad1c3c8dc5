import { expect } from 'chai';
import { CLUSTER_SCOPED_KINDS } from '../gateway/keys.ts';
import { FEATURES_NEEDING_KIND, WATCHED_KINDS, servedFeatures } from './kinds.ts';

describe('operator/kubernetes/kinds', () => {
  it('watches as cluster-scoped exactly the kinds the store keys without a namespace (gateway/keys.ts)', () => {
    const clusterScoped = WATCHED_KINDS.filter((k) => !k.namespaced).map((k) => k.kind);
    expect(clusterScoped.sort()).to.deep.equal([...CLUSTER_SCOPED_KINDS].sort());
  });

  it('claims a feature that needs a kind only while the API server serves that kind (GEP-5075)', () => {
    const features = ['BackendTLSPolicy', 'ClusterTrustBundle', 'Gateway'];
    expect(servedFeatures(features, [])).to.deep.equal(features);
    expect(servedFeatures(features, ['ClusterTrustBundle'])).to.deep.equal(['BackendTLSPolicy', 'Gateway']);
    expect(servedFeatures(features, ['TCPRoute'])).to.deep.equal(features);
    for (const kind of Object.values(FEATURES_NEEDING_KIND))
      expect(
        WATCHED_KINDS.map((k) => k.kind),
        `${kind} is watched`,
      ).to.include(kind);
  });
});

import { expect } from 'chai';
import { SUPPORTED_FEATURES, bundleMinor, featuresForBundle } from './features.ts';

// Names v1.7.0 removed from pkg/features (1.7-CHANGELOG.md); the conformance run checks the rest against the suite.
const removedInV17 = ['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout', 'HTTPRouteBackendRequestRedirect'];

describe('shared/features', () => {
  it('spells every feature as v1.7.0 does: no name v1.7.0 removed, sorted, no duplicates', () => {
    for (const name of removedInV17) expect(SUPPORTED_FEATURES, `${name} is gone in v1.7.0`).to.not.include(name);
    expect(SUPPORTED_FEATURES).to.include('HTTPRouteRetryCodes');
    expect(SUPPORTED_FEATURES).to.not.include('GatewayInfrastructurePropagation');
    expect([...SUPPORTED_FEATURES].sort()).to.deep.equal([...new Set(SUPPORTED_FEATURES)].sort());
  });

  it('names the same capabilities the v1.6 way for a v1.6.x bundle, and the v1.7 way otherwise', () => {
    const v16 = featuresForBundle('v1.6.1');
    expect(v16).to.include.members(['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout']);
    expect(v16).to.not.include('HTTPRouteRetryCodes');
    expect(v16).to.include('GatewayInfrastructurePropagation');
    expect(v16).to.not.include('GatewayInfrastructure');
    expect(v16).to.not.include.members(['GatewayListenerFilters', 'GatewayAddressRoutability', 'ClusterTrustBundle']);
    // One v1.7 name is two v1.6 names, one is renamed, four have no v1.6 name.
    expect(v16.length).to.equal(SUPPORTED_FEATURES.length + 1 - 4);
    expect(featuresForBundle('v1.7.0')).to.deep.equal(SUPPORTED_FEATURES);
    expect(featuresForBundle('v1.8.2')).to.deep.equal(SUPPORTED_FEATURES);
    expect(featuresForBundle(undefined)).to.deep.equal(SUPPORTED_FEATURES);
    expect(bundleMinor('v1.6.3')).to.equal(6);
    expect(bundleMinor('v0.0.0-dev')).to.equal(undefined);
  });
});

import assert from 'node:assert/strict';
import { SUPPORTED_FEATURES, bundleMinor, featuresForBundle } from './features.ts';

// Names v1.7.0 removed from pkg/features (1.7-CHANGELOG.md); the conformance run checks the rest against the suite.
const removedInV17 = ['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout', 'HTTPRouteBackendRequestRedirect'];

describe('shared/features', () => {
  it('spells every feature as v1.7.0 does: no name v1.7.0 removed, sorted, no duplicates', () => {
    for (const name of removedInV17) assert.ok(!SUPPORTED_FEATURES.includes(name), `${name} is gone in v1.7.0`);
    assert.ok(SUPPORTED_FEATURES.includes('HTTPRouteRetryCodes'));
    assert.ok(!SUPPORTED_FEATURES.includes('GatewayInfrastructurePropagation'));
    assert.deepEqual([...SUPPORTED_FEATURES].sort(), [...new Set(SUPPORTED_FEATURES)].sort());
  });

  it('names the same capabilities the v1.6 way for a v1.6.x bundle, and the v1.7 way otherwise', () => {
    const v16 = featuresForBundle('v1.6.1');
    assert.ok(v16.includes('HTTPRouteRetry') && v16.includes('HTTPRouteRetryBackendTimeout'));
    assert.ok(!v16.includes('HTTPRouteRetryCodes'));
    assert.equal(v16.length, SUPPORTED_FEATURES.length + 1);
    assert.deepEqual(featuresForBundle('v1.7.0'), SUPPORTED_FEATURES);
    assert.deepEqual(featuresForBundle('v1.8.2'), SUPPORTED_FEATURES);
    assert.deepEqual(featuresForBundle(undefined), SUPPORTED_FEATURES);
    assert.equal(bundleMinor('v1.6.3'), 6);
    assert.equal(bundleMinor('v0.0.0-dev'), undefined);
  });
});

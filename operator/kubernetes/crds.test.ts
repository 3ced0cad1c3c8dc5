import { expect } from 'chai';
import { versionOptions } from './crds.ts';

describe('operator/kubernetes/crds versionOptions', () => {
  it('claims GEP-5093 routability only on experimental CRDs (standard ones do not declare the status field)', () => {
    const experimental = versionOptions('v1.7.0', 'experimental').supportedFeatures;
    expect(experimental).to.include.members(['GatewayAddressRoutability', 'GatewayAddressRoutabilityCluster']);
    for (const channel of ['standard', undefined]) {
      const features = versionOptions('v1.7.0', channel).supportedFeatures;
      expect(features, String(channel)).to.not.include('GatewayAddressRoutability');
      expect(features, String(channel)).to.not.include('GatewayAddressRoutabilityCluster');
      expect(features, String(channel)).to.include('ClusterTrustBundle');
    }
  });
});

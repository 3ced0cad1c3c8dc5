// The Kubernetes-mode flags added to operator/config.ts.
import { expect } from 'chai';
import { parseDuration, readOperatorConfig } from '../config.ts';

describe('kubernetes mode settings', () => {
  it('reads the flags, with environment fallbacks', () => {
    const config = readOperatorConfig(
      [
        '--mode',
        'kubernetes',
        '--namespaces',
        'a, b,,c',
        '--lease-duration',
        '20s',
        '--renew-deadline',
        '12s',
        '--retry-period',
        '500ms',
        '--lease-name',
        'lease',
      ],
      { KUBECONFIG: '/k/config', POD_NAMESPACE: 'portico-system' },
    );
    expect(config).to.include({
      mode: 'kubernetes',
      kubeconfig: '/k/config',
      leaseNamespace: 'portico-system',
      leaseName: 'lease',
      leaseDurationMs: 20_000,
      renewDeadlineMs: 12_000,
      retryPeriodMs: 500,
    });
    expect(config.namespaces).to.deep.equal(['a', 'b', 'c']);
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('leaves unset settings out (their defaults live where they are used)', () => {
    const config = readOperatorConfig([], {});
    for (const key of ['kubeconfig', 'namespaces', 'leaseNamespace', 'leaseName', 'leaseDurationMs'])
      expect(config, key).not.to.have.property(key);
  });

  it('reads the service-mode flags, and refuses service mode outside Kubernetes mode', () => {
    const config = readOperatorConfig(
      [
        '--mode',
        'kubernetes',
        '--address-mode',
        'service',
        '--service-selector',
        'app=portico, tier=edge',
        '--internal-ports',
        '20000-20099',
        '--bind-address',
        '::',
      ],
      { POD_NAMESPACE: 'portico-system' },
    );
    expect(config).to.include({
      addressMode: 'service',
      serviceNamespace: 'portico-system',
      internalPorts: '20000-20099',
      bindAddress: '::',
    });
    expect(config.serviceSelector).to.deep.equal({ app: 'portico', tier: 'edge' });
    expect(readOperatorConfig(['--mode', 'kubernetes'], {})).not.to.have.property('addressMode');
    expect(() => readOperatorConfig(['--address-mode', 'service'], {})).to.throw(/needs --mode kubernetes/);
    expect(() =>
      readOperatorConfig(['--mode', 'kubernetes', '--address-mode', 'service', '--internal-ports', '80-90'], {}),
    ).to.throw(/--internal-ports/);
    expect(() => readOperatorConfig(['--mode', 'kubernetes', '--address-mode', 'elsewhere'], {})).to.throw(
      /pool or service/,
    );
  });

  it('parses durations and refuses nonsense', () => {
    expect([
      parseDuration('15s', 'x'),
      parseDuration('500ms', 'x'),
      parseDuration('2m', 'x'),
      parseDuration('250', 'x'),
      parseDuration('1.5s', 'x'),
    ]).to.deep.equal([15_000, 500, 120_000, 250, 1500]);
    expect(() => parseDuration('soon', '--lease-duration')).to.throw(/--lease-duration must be a duration/);
  });
});

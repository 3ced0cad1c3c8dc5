import { expect } from 'chai';
import { makeCa, makeLeaf } from '../../test/support/certs.ts';
import { ResourceStore } from '../store/resource-store.ts';
import { ListenerCertificates } from './certificates.ts';
import { OperatorMetrics } from './metrics.ts';

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { namespace: 'infra', name: 'gw' },
  spec: {
    gatewayClassName: 'portico',
    listeners: [
      { name: 'http', protocol: 'HTTP', port: 80 },
      { name: 'https', protocol: 'HTTPS', port: 443, tls: { certificateRefs: [{ name: 'site' }] } },
      { name: 'other', protocol: 'HTTPS', port: 8443, tls: { certificateRefs: [{ name: 'gone', namespace: 'x' }] } },
    ],
  },
};

const secret = (cert: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/tls',
  metadata: { namespace: 'infra', name: 'site' },
  data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': '' },
});

describe('runtime/certificates', () => {
  const ca = makeCa();
  const soon = makeLeaf(ca, ['site.test'], { days: 5 });
  const later = makeLeaf(ca, ['site.test'], { days: 90 });

  it("lists each listener certificate with its notAfter (NaN when the Secret is missing) and follows the Secret's changes", () => {
    const store = new ResourceStore();
    const certificates = new ListenerCertificates(store);
    store.upsert(gateway);
    store.upsert(secret(soon.cert));
    const first = certificates.list();
    expect(first.map((c) => [c.gateway, c.listener, c.secret])).to.deep.equal([
      ['infra/gw', 'https', 'infra/site'],
      ['infra/gw', 'other', 'x/gone'],
    ]);
    const days = (first[0].notAfter - Date.now() / 1000) / 86400;
    expect(days).to.be.within(4.9, 5.1);
    expect(first[1].notAfter).to.be.NaN;

    store.upsert(secret(later.cert));
    const second = certificates.list();
    expect((second[0].notAfter - Date.now() / 1000) / 86400).to.be.within(89.9, 90.1);
    store.delete('Gateway/infra/gw');
    expect(certificates.list()).to.deep.equal([]);
  });

  it('exports them as portico_listener_certificate_expiry_timestamp_seconds', async () => {
    const store = new ResourceStore();
    const certificates = new ListenerCertificates(store);
    const metrics = new OperatorMetrics();
    metrics.certificates(() => certificates.list());
    store.upsert(gateway);
    store.upsert(secret(soon.cert));
    const text = await metrics.registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('portico_listener_certificate_expiry_timestamp_seconds{') && l.includes('"https"'));
    expect(line).to.match(/gateway="infra\/gw",listener="https",secret="infra\/site"} \d{10}$/);
  });

  it('lists the certificates of ListenerSet listeners under their parent Gateway, with their IR listener key', () => {
    const store = new ResourceStore();
    const certificates = new ListenerCertificates(store);
    store.upsert({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'ListenerSet',
      metadata: { namespace: 'team', name: 'shop' },
      spec: {
        parentRef: { name: 'gw', namespace: 'infra' },
        listeners: [
          { name: 'plain', protocol: 'HTTP', port: 8080 },
          { name: 'tls', protocol: 'HTTPS', port: 8443, tls: { certificateRefs: [{ name: 'site' }] } },
        ],
      },
    });
    store.upsert({ ...secret(soon.cert), metadata: { namespace: 'team', name: 'site' } });
    const listed = certificates.list();
    expect(listed.map((c) => [c.gateway, c.listener, c.secret])).to.deep.equal([
      ['infra/gw', 'listenerset/team/shop/tls', 'team/site'],
    ]);
    expect((listed[0].notAfter - Date.now() / 1000) / 86400).to.be.within(4.9, 5.1);
    store.delete('ListenerSet/team/shop');
    expect(certificates.list()).to.deep.equal([]);
  });
});

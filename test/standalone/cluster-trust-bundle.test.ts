// GEP-5075 in standalone mode, over real sockets and real TLS: ClusterTrustBundle objects are read from the folder
// like any other object. A BackendTLSPolicy whose CA is the bundle backend-ca verifies a real TLS backend with it; the
// Gateway's HTTPS listener checks client certificates against the bundle client-ca. Editing the bundle's file changes
// the CA in force (another CA: the backend is refused, 5xx; back: 200), and a bundle whose trustBundle is not PEM is
// an invalid reference that fails closed.

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { httpsGet } from '../support/https-get.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';

const PORT = 18_443;

const indent = (pem: string) =>
  pem
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

const bundleYaml = (name: string, pem: string) => `apiVersion: certificates.k8s.io/v1beta1
kind: ClusterTrustBundle
metadata: { name: ${name} }
spec:
  trustBundle: |
${indent(pem)}
`;

const configYaml = (address: string, backendPort: number, cert: { cert: string; key: string }) => `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: portico }
spec: { controllerName: portico.dev/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  addresses: [{ type: IPAddress, value: ${address} }]
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{ group: certificates.k8s.io, kind: ClusterTrustBundle, name: client-ca }]
  listeners:
  - name: https
    protocol: HTTPS
    port: ${PORT}
    hostname: gw.example.com
    tls: { certificateRefs: [{ name: gw-cert }] }
---
apiVersion: v1
kind: Secret
metadata: { name: gw-cert, namespace: default }
type: kubernetes.io/tls
stringData:
  tls.crt: |
${indent(cert.cert)}
  tls.key: |
${indent(cert.key)}
---
apiVersion: v1
kind: Service
metadata: { name: tls-backend, namespace: default }
spec: { ports: [{ name: https, port: 443, targetPort: ${backendPort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: tls-backend, namespace: default, labels: { kubernetes.io/service-name: tls-backend } }
addressType: IPv4
ports: [{ name: https, port: ${backendPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: tls-backend, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: tls-backend }]
  validation:
    hostname: backend.example.com
    caCertificateRefs: [{ group: certificates.k8s.io, kind: ClusterTrustBundle, name: backend-ca }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: tls-backend, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ backendRefs: [{ name: tls-backend, port: 443 }] }]
`;

describe('standalone mode: ClusterTrustBundle CAs from the folder (real TLS both sides)', function () {
  this.timeout(60_000);
  const address = testAddress();
  const backendCa = makeCa('Backend CA');
  const otherCa = makeCa('Other CA');
  const clientCa = makeCa('Client CA');
  const gatewayCa = makeCa('Gateway CA');
  const client = makeLeaf(clientCa, ['client.example.com']);
  let dir: string;
  let backend: Server;
  let dataPlane: DataPlane | undefined;
  let operator: Standalone | undefined;

  const get = (withClient: typeof client | null = client) =>
    httpsGet({
      host: address,
      port: PORT,
      path: '/hello',
      servername: 'gw.example.com',
      ca: gatewayCa.cert,
      client: withClient ?? undefined,
    });
  /** The BackendTLSPolicy's ResolvedRefs condition as the operator reports it. */
  const policyResolvedRefs = () => {
    const policy = operator!.statuses.all().find((s) => s.kind === 'BackendTLSPolicy' && s.name === 'tls-backend') as
      | { status: { ancestors: Array<{ conditions: Array<{ type: string; reason: string; message: string }> }> } }
      | undefined;
    return policy?.status.ancestors[0]?.conditions.find((c) => c.type === 'ResolvedRefs');
  };
  /** Polls until `get()` answers `wanted(status)` (the folder is watched: a file change takes a moment). */
  async function until(what: string, wanted: (status: number) => boolean): Promise<number> {
    let last: unknown;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      last = await get().catch((error: Error) => error.message);
      if (typeof last === 'number' && wanted(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-trust-bundles-'));
    const leaf = makeLeaf(backendCa, ['backend.example.com']);
    backend = createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end('tls backend'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const gatewayLeaf = makeLeaf(gatewayCa, ['gw.example.com']);
    writeFileSync(join(dir, 'config.yaml'), configYaml(address, (backend.address() as AddressInfo).port, gatewayLeaf));
    writeFileSync(join(dir, 'client-ca.yaml'), bundleYaml('client-ca', clientCa.cert));
    writeFileSync(join(dir, 'backend-ca.yaml'), bundleYaml('backend-ca', backendCa.cert));
    ({ dataPlane, operator } = await startStandalonePortico(dir, { operator: { instance: 'trust-bundles' } }));
  });

  after(async () => {
    await operator?.stop();
    await dataPlane?.stop();
    await new Promise((resolve) => backend?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a client signed by the client-ca bundle through to a backend verified with the backend-ca bundle', async () => {
    expect(await until('200', (s) => s === 200)).to.equal(200);
    const without = await get(null).then(
      (s) => `answered ${s}`,
      (error: Error) => error,
    );
    expect(without, 'no client certificate: refused in the handshake').to.be.instanceOf(Error);
  });

  it('follows the bundle file: another CA fails closed (5xx), a broken bundle too, the right one serves again', async () => {
    writeFileSync(join(dir, 'backend-ca.yaml'), bundleYaml('backend-ca', otherCa.cert));
    await until('5xx with a CA that did not sign the backend', (s) => s >= 500 && s <= 599);
    writeFileSync(
      join(dir, 'backend-ca.yaml'),
      'apiVersion: certificates.k8s.io/v1beta1\nkind: ClusterTrustBundle\nmetadata: { name: backend-ca }\nspec: { trustBundle: "not PEM" }\n',
    );
    // The status says when the broken bundle is in force (the answers were 5xx already).
    let resolved: { reason: string; message: string } | undefined;
    for (const deadline = Date.now() + 15_000; resolved?.reason !== 'InvalidCACertificateRef'; ) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for InvalidCACertificateRef (last: ${resolved?.reason})`);
      await new Promise((r) => setTimeout(r, 100));
      resolved = policyResolvedRefs();
    }
    expect(resolved.message).to.match(/spec.trustBundle of ClusterTrustBundle backend-ca holds no PEM certificate/);
    const status = await get();
    expect(status, 'a broken bundle fails closed').to.be.within(500, 599);
    writeFileSync(join(dir, 'backend-ca.yaml'), bundleYaml('backend-ca', backendCa.cert));
    await until('200 with the backend’s CA again', (s) => s === 200);
  });
});

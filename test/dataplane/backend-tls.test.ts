// TLS to backends (BackendTLSPolicy): the data plane verifies the backend's certificate against the policy's CA and
// hostname (or its subjectAltNames), sends SNI, and refuses a backend that does not prove who it is (502). A backend
// that asks for a client certificate gets the one of the listener the request came in on
// (`Listener.backendClientCertificateKey`, from the Gateway's `spec.tls.backend`): one backend record, one pool per
// (backend, certificate); the rotated certificate once its record changes, another once the listener names another.

import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Backend, BackendTls } from '../../shared/ir/backend.ts';
import type { CertificateRecord } from '../../shared/ir/listener.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

for (const [run, protocol] of CLIENT_PROTOCOLS.entries()) {
  const get = getWith(protocol);
  describe(`data plane: TLS to backends (${protocol})`, () => {
    const address = testAddress();
    const port = 18092 + 100 * run;
    let h: Harness;
    let server: Server;
    let mtls: Server;
    /** What the client-certificate backend received: `<path> <client CN>`. */
    const mtlsSeen: string[] = [];
    let publish: (client: CertificateRecord, listenerCertificate?: string) => Promise<string>;
    const ca = makeCa();
    const otherCa = makeCa('Someone Else');
    const leaf = makeLeaf(ca, ['backend.internal', 'spiffe://cluster.local/ns/app/sa/api']);
    const clientCa = makeCa('Gateway Clients');
    const client1 = makeLeaf(clientCa, ['client-1']);
    const client2 = makeLeaf(clientCa, ['client-2']);
    const client3 = makeLeaf(clientCa, ['client-3']);

    before(async () => {
      server = createServer({ cert: leaf.cert, key: leaf.key }, (req, res) =>
        res.end(`tls backend saw sni ${(req.socket as unknown as { servername: string }).servername}`),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const backendPort = (server.address() as AddressInfo).port;
      // A backend that requires a client certificate from clientCa and says whose it got.
      mtls = createServer(
        { cert: leaf.cert, key: leaf.key, requestCert: true, rejectUnauthorized: true, ca: clientCa.cert },
        (req, res) => {
          const cn = (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
          mtlsSeen.push(`${req.url} ${cn}`);
          res.end(`client ${cn}`);
        },
      );
      await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', r));
      const mtlsPort = (mtls.address() as AddressInfo).port;
      h = await startHarness();
      // One port, two listeners: `plain.test` presents no client certificate, `mtls.test` its Gateway's.
      const l = httpListener('ns/gw/http', port, { address, hostname: 'plain.test' });
      const withClient = (key: string) =>
        httpListener('ns/gw-mtls/http', port, { address, hostname: 'mtls.test', backendClientCertificateKey: key });
      const tlsBackend = (key: string, tls: BackendTls) => backend(key, [['127.0.0.1', backendPort]], { tls });
      const backends = [
        tlsBackend('ns/good:443', { hostname: 'backend.internal', caCertificates: [ca.cert] }),
        tlsBackend('ns/wrong-name:443', { hostname: 'other.internal', caCertificates: [ca.cert] }),
        tlsBackend('ns/wrong-ca:443', { hostname: 'backend.internal', caCertificates: [otherCa.cert] }),
        tlsBackend('ns/san:443', {
          hostname: 'backend.internal',
          caCertificates: [ca.cert],
          subjectAltNames: [{ type: 'URI', value: 'spiffe://cluster.local/ns/app/sa/api' }],
        }),
        tlsBackend('ns/bad-san:443', {
          hostname: 'backend.internal',
          caCertificates: [ca.cert],
          subjectAltNames: [{ type: 'URI', value: 'spiffe://cluster.local/ns/app/sa/other' }],
        }),
      ];
      const mtlsBackends: Backend[] = [
        backend('ns/mtls:443', [['127.0.0.1', mtlsPort]], {
          tls: { hostname: 'backend.internal', caCertificates: [ca.cert] },
        }),
      ];
      const r = (path: string, key: string) => rule([prefix(path)], [key]);
      const routes = [
        httpRoute(
          'httproute/ns/tls',
          [l.key, 'ns/gw-mtls/http'],
          [
            r('/good', 'ns/good:443'),
            r('/wrong-name', 'ns/wrong-name:443'),
            r('/wrong-ca', 'ns/wrong-ca:443'),
            r('/san', 'ns/san:443'),
            r('/bad-san', 'ns/bad-san:443'),
            r('/mtls', 'ns/mtls:443'),
            rule([prefix('/mirror')], ['ns/good:443'], {
              filters: [{ type: 'RequestMirror', backendKey: 'ns/mtls:443', percent: 100 }],
            }),
          ],
        ),
      ];
      const other = { key: 'ns/other-client', certificatePem: client3.cert, privateKeyPem: client3.key };
      publish = async (client, listenerCertificate = 'ns/client') =>
        (
          await h.publish({
            listeners: [l, withClient(listenerCertificate)],
            backends: [...backends, ...mtlsBackends],
            httpRoutes: routes,
            certificates: [client, other],
          })
        ).outcome;
      expect(await publish({ key: 'ns/client', certificatePem: client1.cert, privateKeyPem: client1.key })).to.equal(
        'ack',
      );
    });
    after(async () => {
      await h?.stop();
      server?.close();
      mtls?.close();
    });

    it('verifies the backend against the policy CA and hostname, sending the hostname as SNI', async () => {
      const reply = await get(`http://${address}:${port}/good`, { headers: { host: 'plain.test' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('tls backend saw sni backend.internal');
    });

    it('refuses a backend whose certificate names another host, or comes from another CA', async () => {
      expect((await get(`http://${address}:${port}/wrong-name`, { headers: { host: 'plain.test' } })).status).to.equal(
        502,
      );
      expect((await get(`http://${address}:${port}/wrong-ca`, { headers: { host: 'plain.test' } })).status).to.equal(
        502,
      );
    });

    it('checks subjectAltNames instead of the hostname when the policy lists them', async () => {
      expect((await get(`http://${address}:${port}/san`, { headers: { host: 'plain.test' } })).status).to.equal(200);
      expect((await get(`http://${address}:${port}/bad-san`, { headers: { host: 'plain.test' } })).status).to.equal(
        502,
      );
    });

    it("presents the listener's client certificate to a backend that requires one, and none from a listener without (502)", async () => {
      const reply = await get(`http://${address}:${port}/mtls`, { headers: { host: 'mtls.test' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('client client-1');
      // The same backend record, reached from the listener that names no certificate.
      expect((await get(`http://${address}:${port}/mtls`, { headers: { host: 'plain.test' } })).status).to.equal(502);
      // And the certificate's pool is still the certificate's.
      expect((await get(`http://${address}:${port}/mtls`, { headers: { host: 'mtls.test' } })).text).to.equal(
        'client client-1',
      );
    });

    it("presents the listener's client certificate on a mirrored request", async () => {
      const reply = await get(`http://${address}:${port}/mirror`, { headers: { host: 'mtls.test' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('tls backend saw sni backend.internal');
      for (let i = 0; i < 100 && !mtlsSeen.includes('/mirror client-1'); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(mtlsSeen).to.include('/mirror client-1');
    });

    it('presents a rotated client certificate once its record changes, the backend record unchanged', async () => {
      expect(await publish({ key: 'ns/client', certificatePem: client2.cert, privateKeyPem: client2.key })).to.equal(
        'ack',
      );
      const reply = await get(`http://${address}:${port}/mtls`, { headers: { host: 'mtls.test' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('client client-2');
    });

    it('presents another certificate once the listener record names it', async () => {
      const current = { key: 'ns/client', certificatePem: client2.cert, privateKeyPem: client2.key };
      expect(await publish(current, 'ns/other-client')).to.equal('ack');
      const reply = await get(`http://${address}:${port}/mtls`, { headers: { host: 'mtls.test' } });
      expect(reply.status).to.equal(200);
      expect(reply.text).to.equal('client client-3');
      expect((await get(`http://${address}:${port}/mtls`, { headers: { host: 'plain.test' } })).status).to.equal(502);
    });
  });
}

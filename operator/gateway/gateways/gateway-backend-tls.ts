// Gateway `spec.tls.backend.clientCertificateRef` → the certificate the data plane presents when it opens TLS to a
// backend (a backend a BackendTLSPolicy targets) for a request that came in on one of that Gateway's listeners.
// Gateway API scopes it to the Gateway: the same Service reached from two Gateways is reached with each one's
// certificate (or none). So the certificate goes on the Gateway's listener records
// (`Listener.backendClientCertificateKey`, session/records.ts), and the data plane picks a backend's connection pool
// by (backend, the listener's certificate): backend and route records stay one per backend and route, and a rotated
// certificate changes the listener and certificate records only.
// A reference that cannot be used leaves the Gateway Accepted, with ResolvedRefs=False (InvalidClientCertificateRef or
// RefNotPermitted), and its backends are reached without a client certificate.

import type { CertificateRecord } from '../../../shared/ir/listener.ts';
import { resolveCertificateRef } from '../certificate.ts';
import type { TranslateContext } from '../context.ts';
import { isObject, objectAt, show } from '../read.ts';

export type BackendTlsOutcome =
  | { ok: true; certificate: CertificateRecord }
  | { ok: false; reason: 'InvalidClientCertificateRef' | 'RefNotPermitted'; message: string };

const FIELD = 'spec.tls.backend.clientCertificateRef';

/** The Gateway's backend client certificate; undefined when `spec.tls.backend.clientCertificateRef` is not set. */
export function resolveBackendClientCertificate(
  context: TranslateContext,
  gateway: { namespace: string },
  spec: Record<string, unknown>,
): BackendTlsOutcome | undefined {
  const ref = objectAt(objectAt(spec.tls).backend).clientCertificateRef;
  if (ref === undefined || ref === null) return undefined;
  if (!context.options.supportedFeatures.has('GatewayBackendClientCertificate')) {
    return {
      ok: false,
      reason: 'InvalidClientCertificateRef',
      message: `${FIELD}: presenting a client certificate to backends is not supported by this installation`,
    };
  }
  if (!isObject(ref))
    return {
      ok: false,
      reason: 'InvalidClientCertificateRef',
      message: `${FIELD} must be an object; it is ${show(ref)}`,
    };
  const resolved = resolveCertificateRef(context, ref, FIELD, gateway);
  if (resolved.ok) return { ok: true, certificate: resolved.record };
  return {
    ok: false,
    reason: resolved.reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidClientCertificateRef',
    message: resolved.message,
  };
}

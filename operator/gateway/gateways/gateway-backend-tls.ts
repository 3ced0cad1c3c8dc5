// Gateway `spec.tls.backend.clientCertificateRef` → the certificate the data plane presents when it opens TLS to a
// backend (a backend a BackendTLSPolicy targets) for a request that came in on one of that Gateway's listeners.
// Gateway API scopes it to the Gateway: the same Service reached from two Gateways is reached with each one's
// certificate (or none). Backend records are shared between routes and Gateways, so the certificate becomes part of
// the backend: a client-certificate variant of the backend (its own key, `BackendTls.clientCertificateKey` set), and
// a route record that Gateways with different certificates serve is split into one record per certificate, each
// attached to that certificate's listeners and naming its variants (`withClientCertificates`).
// A reference that cannot be used leaves the Gateway Accepted, with ResolvedRefs=False (InvalidClientCertificateRef or
// RefNotPermitted), and its backends are reached without a client certificate.

import type { CertificateRecord } from '../../../shared/ir/listener.ts';
import { clientCertificateBackendKey, clientCertificateRouteKey } from '../../../shared/ir/keys.ts';
import type { HttpFilter, HttpRoute, StreamRoute, WeightedBackend } from '../../../shared/ir/route.ts';
import type { BackendSpec } from '../backends/backend.ts';
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

/** The variant of a TLS backend that presents `certificateKey`. */
export function withClientCertificate(spec: BackendSpec, certificateKey: string): BackendSpec {
  return {
    ...spec,
    key: clientCertificateBackendKey(spec.key, certificateKey),
    tls: { ...spec.tls!, clientCertificateKey: certificateKey },
  };
}

function mapFilters(filters: HttpFilter[], keyOf: (key: string) => string): HttpFilter[] {
  return filters.map((f) => (f.type === 'RequestMirror' ? { ...f, backendKey: keyOf(f.backendKey) } : f));
}

function mapBackends(backends: WeightedBackend[], keyOf: (key: string) => string): WeightedBackend[] {
  return backends.map((b) => ({
    ...b,
    backendKey: b.backendKey === null ? null : keyOf(b.backendKey),
    filters: mapFilters(b.filters, keyOf),
  }));
}

export interface ClientCertificateRecords<R> {
  /** The route's records: the one given, or one per client certificate of the Gateways serving it. */
  records: R[];
  /** Backend variants the records name, by key. */
  variants: Map<string, BackendSpec>;
}

/**
 * A route record as the Gateways that serve it need it: unchanged when none of its backends is reached with TLS, or
 * no Gateway serving it has a backend client certificate. Otherwise one record per certificate (by listener, in the
 * order of the record's parents): the listeners without one keep the record's key and backends; a certificate's
 * listeners get a record that names that certificate's variants of the TLS backends, under the record's own key when
 * it is the only group, `<key>|client=<certificate>` otherwise.
 */
export function withClientCertificates<R extends HttpRoute | StreamRoute>(
  record: R,
  specOf: (key: string) => BackendSpec | undefined,
  certificateOf: ReadonlyMap<string, string>,
  backendKeys: ReadonlySet<string>,
): ClientCertificateRecords<R> {
  const none: ClientCertificateRecords<R> = { records: [record], variants: new Map() };
  if (certificateOf.size === 0 || !('rules' in record)) return none;
  const tlsKeys = [...backendKeys].filter((key) => specOf(key)?.tls !== undefined);
  if (tlsKeys.length === 0) return none;
  const groups = new Map<string, HttpRoute['parents']>();
  for (const parent of record.parents) {
    const certificate = certificateOf.get(parent.listenerKey) ?? '';
    groups.set(certificate, [...(groups.get(certificate) ?? []), parent]);
  }
  if (groups.size === 1 && groups.has('')) return none;
  const out: ClientCertificateRecords<R> = { records: [], variants: new Map() };
  for (const [certificate, parents] of groups) {
    const key =
      certificate === '' || groups.size === 1 ? record.key : clientCertificateRouteKey(record.key, certificate);
    if (certificate === '') {
      out.records.push({ ...record, key, parents });
      continue;
    }
    const renamed = new Map<string, string>();
    for (const base of tlsKeys) {
      const variant = withClientCertificate(specOf(base)!, certificate);
      renamed.set(base, variant.key);
      out.variants.set(variant.key, variant);
    }
    const keyOf = (k: string) => renamed.get(k) ?? k;
    const rules = record.rules.map((rule) => ({
      ...rule,
      backends: mapBackends(rule.backends, keyOf),
      filters: mapFilters(rule.filters, keyOf),
    }));
    out.records.push({ ...record, key, parents, rules } as R);
  }
  return out;
}

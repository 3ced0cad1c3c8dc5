// Listener `tls.certificateRefs` → IR CertificateRecords. A reference must name a core Secret (type
// kubernetes.io/tls, or any Secret carrying `tls.crt` and `tls.key`), cross-namespace only with a ReferenceGrant, and
// hold a PEM certificate chain whose first certificate matches the private key (checked with node:crypto, the same
// library the data plane loads them with). Anything else is reported, never thrown.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { CertificateRecord } from '../../shared/ir/listener.ts';
import { certificateKey } from '../../shared/ir/keys.ts';
import { namespacedKey } from './keys.ts';
import type { TranslateContext } from './context.ts';
import { isObject, nonEmptyString, objectAt, show, stringAt } from './read.ts';
import { GATEWAY_GROUP, isReferenceAllowed } from './referencegrant.ts';
import type { Secret } from './resources.ts';

export type CertificateResolution =
  | { ok: true; record: CertificateRecord }
  | { ok: false; reason: 'InvalidCertificateRef' | 'RefNotPermitted'; message: string };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A Secret data value: base64 in `data`, plain text in `stringData` (files written by hand in standalone mode). */
function secretValue(secret: Secret, key: string): string | undefined {
  const plain = isObject(secret.stringData) ? stringAt(secret.stringData[key]) : undefined;
  if (plain !== undefined) return plain;
  const encoded = isObject(secret.data) ? stringAt(secret.data[key]) : undefined;
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** Why a certificate/key pair cannot be served, or null when it can. */
export function checkKeyPair(certificatePem: string, privateKeyPem: string): string | null {
  const blocks = certificatePem.match(PEM_CERTIFICATE);
  if (blocks === null) return 'tls.crt holds no PEM certificate';
  let leaf: X509Certificate | undefined;
  for (const [i, block] of blocks.entries()) {
    try {
      const certificate = new X509Certificate(block);
      leaf ??= certificate;
    } catch (error) {
      return `certificate ${i + 1} in tls.crt does not parse: ${(error as Error).message}`;
    }
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    return `tls.key holds no usable private key: ${(error as Error).message}`;
  }
  if (leaf === undefined || !leaf.checkPrivateKey(key))
    return 'the private key in tls.key does not match the certificate in tls.crt';
  return null;
}

export function resolveCertificateRef(
  context: TranslateContext,
  ref: unknown,
  field: string,
  gateway: { namespace: string; kind?: 'Gateway' | 'ListenerSet' },
): CertificateResolution {
  const r = objectAt(ref);
  const group = r.group === undefined ? '' : stringAt(r.group);
  const kind = r.kind === undefined ? 'Secret' : stringAt(r.kind);
  const name = nonEmptyString(r.name);
  if (group !== '' || kind !== 'Secret') {
    return {
      ok: false,
      reason: 'InvalidCertificateRef',
      message: `${field} refers to ${show(group)}/${show(kind)}; only core Secrets are supported`,
    };
  }
  const namespace = r.namespace === undefined ? gateway.namespace : nonEmptyString(r.namespace);
  if (name === undefined || namespace === undefined) {
    return {
      ok: false,
      reason: 'InvalidCertificateRef',
      message: `${field} must name a Secret; it names ${show(r.namespace ?? gateway.namespace)}/${show(r.name)}`,
    };
  }
  // A ListenerSet's listeners refer with the ListenerSet's own rights (grants to its parent Gateway do not count).
  const referrer = gateway.kind ?? 'Gateway';
  const from = { group: GATEWAY_GROUP, kind: referrer, namespace: gateway.namespace };
  if (!isReferenceAllowed(context.grants, from, { group: '', kind: 'Secret', namespace, name })) {
    return {
      ok: false,
      reason: 'RefNotPermitted',
      message: `${field} refers to Secret ${namespace}/${name}, and no ReferenceGrant in ${namespace} allows ${referrer}s from ${gateway.namespace} to refer to it`,
    };
  }
  const secret = context.secrets.get(namespacedKey(namespace, name));
  if (secret === undefined)
    return {
      ok: false,
      reason: 'InvalidCertificateRef',
      message: `${field} refers to Secret ${namespace}/${name}, which does not exist`,
    };
  const certificatePem = secretValue(secret, 'tls.crt');
  const privateKeyPem = secretValue(secret, 'tls.key');
  if (certificatePem === undefined || privateKeyPem === undefined) {
    return {
      ok: false,
      reason: 'InvalidCertificateRef',
      message: `${field}: Secret ${namespace}/${name} has no tls.crt and tls.key`,
    };
  }
  const problem = checkKeyPair(certificatePem, privateKeyPem);
  if (problem !== null)
    return { ok: false, reason: 'InvalidCertificateRef', message: `${field}: Secret ${namespace}/${name}: ${problem}` };
  return { ok: true, record: { key: certificateKey(namespace, name), certificatePem, privateKeyPem } };
}

export type CaResolution =
  | { ok: true; pem: string }
  | { ok: false; reason: 'InvalidCACertificateRef' | 'InvalidCACertificateKind' | 'RefNotPermitted'; message: string };

export const CERTIFICATES_GROUP = 'certificates.k8s.io';

/** Why a PEM CA bundle cannot be used (no certificate, or one that does not parse), or null when it can. */
function checkCaBundle(pem: string | undefined, where: string): string | null {
  const blocks = pem?.match(PEM_CERTIFICATE) ?? [];
  if (pem === undefined || blocks.length === 0) return `${where} holds no PEM certificate`;
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `certificate ${i + 1} in ${where} does not parse: ${(error as Error).message}`;
    }
  }
  return null;
}

/**
 * GEP-5075: a cluster-scoped certificates.k8s.io ClusterTrustBundle, by name, without a namespace and without a
 * ReferenceGrant (bundles are readable by every authenticated user by design). Where the API is not served (or the
 * feature is not claimed) the kind cannot be resolved: the kind reason, as for any unsupported kind.
 */
function resolveClusterTrustBundle(context: TranslateContext, r: Record<string, unknown>, field: string): CaResolution {
  if (!context.options.supportedFeatures.has('ClusterTrustBundle'))
    return {
      ok: false,
      reason: 'InvalidCACertificateKind',
      message: `${field} refers to a ClusterTrustBundle, which is not supported here: the cluster does not serve the certificates.k8s.io ClusterTrustBundle API, or its Gateway API CRDs predate v1.7`,
    };
  const name = nonEmptyString(r.name);
  if (name === undefined)
    return { ok: false, reason: 'InvalidCACertificateRef', message: `${field} must name a ClusterTrustBundle` };
  if (r.namespace !== undefined && r.namespace !== '')
    return {
      ok: false,
      reason: 'InvalidCACertificateRef',
      message: `${field}: a ClusterTrustBundle is cluster-scoped; namespace ${show(r.namespace)} must be unset`,
    };
  const bundle = context.clusterTrustBundles.get(name);
  if (bundle === undefined)
    return {
      ok: false,
      reason: 'InvalidCACertificateRef',
      message: `${field} refers to ClusterTrustBundle ${name}, which does not exist`,
    };
  const pem = stringAt(objectAt(bundle.spec).trustBundle);
  const problem = checkCaBundle(pem, `spec.trustBundle of ClusterTrustBundle ${name}`);
  if (problem !== null) return { ok: false, reason: 'InvalidCACertificateRef', message: `${field}: ${problem}` };
  return { ok: true, pem: pem as string };
}

/**
 * A `caCertificateRefs[]` entry (frontend client certificate validation, BackendTLSPolicy): a core ConfigMap with PEM
 * certificates under `ca.crt`, cross-namespace only with a ReferenceGrant, or a ClusterTrustBundle (GEP-5075).
 */
export function resolveCaCertificateRef(
  context: TranslateContext,
  ref: unknown,
  field: string,
  gateway: { namespace: string },
): CaResolution {
  const r = objectAt(ref);
  const group = r.group === undefined ? '' : stringAt(r.group);
  const kind = stringAt(r.kind);
  const name = nonEmptyString(r.name);
  if (group === CERTIFICATES_GROUP && kind === 'ClusterTrustBundle')
    return resolveClusterTrustBundle(context, r, field);
  if (group !== '' || kind !== 'ConfigMap') {
    return {
      ok: false,
      reason: 'InvalidCACertificateKind',
      message: `${field} refers to ${show(group)}/${show(kind)}; only core ConfigMaps and certificates.k8s.io ClusterTrustBundles are supported`,
    };
  }
  const namespace = r.namespace === undefined ? gateway.namespace : nonEmptyString(r.namespace);
  if (name === undefined || namespace === undefined) {
    return {
      ok: false,
      reason: 'InvalidCACertificateRef',
      message: `${field} must name a ConfigMap; it names ${show(r.namespace ?? gateway.namespace)}/${show(r.name)}`,
    };
  }
  const from = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.namespace };
  if (!isReferenceAllowed(context.grants, from, { group: '', kind: 'ConfigMap', namespace, name })) {
    return {
      ok: false,
      reason: 'RefNotPermitted',
      message: `${field} refers to ConfigMap ${namespace}/${name}, and no ReferenceGrant in ${namespace} allows Gateways from ${gateway.namespace} to refer to it`,
    };
  }
  const configMap = context.configMaps.get(namespacedKey(namespace, name));
  if (configMap === undefined)
    return {
      ok: false,
      reason: 'InvalidCACertificateRef',
      message: `${field} refers to ConfigMap ${namespace}/${name}, which does not exist`,
    };
  const pem = isObject(configMap.data) ? stringAt(configMap.data['ca.crt']) : undefined;
  const problem = checkCaBundle(pem, `ca.crt of ConfigMap ${namespace}/${name}`);
  if (problem !== null) return { ok: false, reason: 'InvalidCACertificateRef', message: `${field}: ${problem}` };
  return { ok: true, pem: pem as string };
}

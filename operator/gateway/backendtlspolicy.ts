// BackendTLSPolicy → IR BackendTls: the data plane originates TLS to a Service port that a policy targets, with the
// policy's hostname (SNI and verification) and CA certificates (or the system roots). A policy that targets the
// port but cannot be applied makes the backend unusable (500), never plaintext: the Service asked for TLS. Without
// the BackendTLSPolicy feature, a targeted backend is refused for the same reason.
// Policy status (`status.ancestors`) is not written yet.

import type { BackendTls } from '../../shared/ir/backend.ts';
import { checkHostname } from '../../shared/validation/fields.ts';
import { resolveCaCertificateRef } from './certificate.ts';
import type { TranslateContext } from './context.ts';
import { at, isObject, listAt, nonEmptyString, objectAt, show, stringAt } from './read.ts';
import { nameOf, namespaceOf } from './resources.ts';
import type { BackendTLSPolicy } from './resources.ts';

export type BackendTlsResolution = { tls: BackendTls | undefined } | { problem: string };

/** Policies of the Service's namespace that target it: by sectionName (the port name) first, then whole-Service ones. */
function findPolicy(context: TranslateContext, namespace: string, service: string, portName: string): BackendTLSPolicy | undefined {
  let whole: BackendTLSPolicy | undefined;
  for (const policy of context.backendTlsPolicies.get(namespace) ?? []) {
    for (const ref of listAt(objectAt(policy.spec).targetRefs)) {
      const r = objectAt(ref);
      if (r.group !== '' || r.kind !== 'Service' || r.name !== service) continue;
      const sectionName = nonEmptyString(r.sectionName);
      if (sectionName === undefined) whole ??= policy;
      else if (sectionName === portName) return policy; // precedence order: the oldest specific policy wins
    }
  }
  return whole;
}

function buildTls(context: TranslateContext, policy: BackendTLSPolicy): BackendTlsResolution {
  const where = `BackendTLSPolicy ${namespaceOf(policy)}/${nameOf(policy)}`;
  const validation = objectAt(objectAt(policy.spec).validation);
  const hostnameProblem = checkHostname(validation.hostname, false);
  if (hostnameProblem !== null) return { problem: `${where}: spec.validation.hostname ${show(validation.hostname)} ${hostnameProblem}` };
  const tls: BackendTls = { hostname: validation.hostname as string };
  const refs = listAt(validation.caCertificateRefs);
  const wellKnown = validation.wellKnownCACertificates;
  if ((refs.length > 0) === (wellKnown !== undefined && wellKnown !== '')) {
    return { problem: `${where}: spec.validation needs exactly one of caCertificateRefs and wellKnownCACertificates` };
  }
  if (wellKnown !== undefined && wellKnown !== '' && wellKnown !== 'System') {
    return { problem: `${where}: spec.validation.wellKnownCACertificates ${show(wellKnown)} is not supported (System)` };
  }
  if (refs.length > 0) {
    const pems: string[] = [];
    const problems: string[] = [];
    for (const [i, ref] of refs.entries()) {
      // LocalObjectReference: always in the policy's namespace.
      const local = { ...objectAt(ref), namespace: undefined };
      const resolved = resolveCaCertificateRef(context, local, at('spec.validation.caCertificateRefs', i), { namespace: namespaceOf(policy) });
      if (resolved.ok) pems.push(resolved.pem);
      else problems.push(resolved.message);
    }
    if (pems.length === 0) return { problem: `${where}: no usable CA certificate (${problems.join('; ')})` };
    tls.caCertificates = pems;
  }
  const sans: NonNullable<BackendTls['subjectAltNames']> = [];
  for (const [i, entry] of listAt(validation.subjectAltNames).entries()) {
    const e = objectAt(entry);
    const value = e.type === 'Hostname' ? stringAt(e.hostname) : e.type === 'URI' ? stringAt(e.uri) : undefined;
    if (value === undefined || (e.type === 'Hostname' && checkHostname(value) !== null)) {
      return { problem: `${where}: ${at('spec.validation.subjectAltNames', i)} ${show(entry)} is not a Hostname or URI entry` };
    }
    sans.push({ type: e.type as 'Hostname' | 'URI', value });
  }
  if (sans.length > 0) tls.subjectAltNames = sans;
  return { tls };
}

/** The TLS a backend needs: undefined when no policy targets the port, a problem when one does and cannot be met. */
export function resolveBackendTls(context: TranslateContext, namespace: string, service: string, portName: string): BackendTlsResolution {
  const policy = findPolicy(context, namespace, service, portName);
  if (policy === undefined) return { tls: undefined };
  if (!context.options.supportedFeatures.has('BackendTLSPolicy')) {
    return { problem: `BackendTLSPolicy ${namespaceOf(policy)}/${nameOf(policy)} asks for TLS to this backend, which this installation does not support` };
  }
  return isObject(policy.spec) ? buildTls(context, policy) : { problem: `BackendTLSPolicy ${namespaceOf(policy)}/${nameOf(policy)} has no spec` };
}

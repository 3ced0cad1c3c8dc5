// BackendTLSPolicy → IR BackendTls: the data plane originates TLS to a Service port that a policy targets, with the
// policy's hostname (SNI and verification) and CA certificates (or the system roots). A policy that targets the
// port but cannot be applied makes the backend unusable (500), never plaintext: the Service asked for TLS. Without
// the BackendTLSPolicy feature, a targeted backend is refused for the same reason.
// Each policy is checked once per translation of its namespace (`checkPolicies`, the policies pass, before the
// routes): the routes' backends read the checked policies, and backendtlspolicy-status.ts turns the same checks into
// `status.ancestors`.

import type { BackendTls } from '../../../shared/ir/backend.ts';
import { checkHostname } from '../../../shared/validation/fields.ts';
import { resolveCaCertificateRef } from '../certificate.ts';
import type { CheckedPolicy, PolicyCheck, TranslateContext } from '../context.ts';
import { at, isObject, listAt, nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { nameOf, namespaceOf } from '../resources.ts';
import type { BackendTLSPolicy } from '../resources.ts';

export type BackendTlsResolution = { tls: BackendTls | undefined } | { problem: string };

/** Checks the policies of one namespace (in precedence order: conflicts need all of them). */
export function checkPolicies(context: TranslateContext, policies: readonly BackendTLSPolicy[]): CheckedPolicy[] {
  const conflicts = findConflicts(policies);
  return policies.map((policy) => {
    const checked: CheckedPolicy = { policy, check: checkPolicy(context, policy) };
    const conflict = conflicts.get(policy);
    if (conflict !== undefined) checked.conflict = conflict;
    return checked;
  });
}

/** A policy's `targetRefs[]` entries that name a core Service: `{ service, sectionName }` (sectionName = port name). */
export function serviceTargets(policy: BackendTLSPolicy): Array<{ service: string; sectionName: string | undefined }> {
  const out: Array<{ service: string; sectionName: string | undefined }> = [];
  for (const ref of listAt(objectAt(policy.spec).targetRefs)) {
    const r = objectAt(ref);
    const service = nonEmptyString(r.name);
    if (r.group !== '' || r.kind !== 'Service' || service === undefined) continue;
    out.push({ service, sectionName: nonEmptyString(r.sectionName) });
  }
  return out;
}

/** Policies of the Service's namespace that target it: by sectionName (the port name) first, then whole-Service ones. */
function findPolicy(
  context: TranslateContext,
  namespace: string,
  service: string,
  portName: string,
): CheckedPolicy | undefined {
  let whole: CheckedPolicy | undefined;
  for (const checked of context.backendTlsPolicies.get(namespace) ?? []) {
    for (const target of serviceTargets(checked.policy)) {
      if (target.service !== service) continue;
      if (target.sectionName === undefined) whole ??= checked;
      else if (target.sectionName === portName) return checked; // precedence order: the oldest specific policy wins
    }
  }
  return whole;
}

/**
 * The policies of one namespace (in precedence order) that lose a target to an older one: the same Service and
 * sectionName (or both without one) named by a policy that takes precedence (Gateway API: Accepted=False,
 * Conflicted). The winner of each target is the one `findPolicy` applies.
 */
function findConflicts(policies: readonly BackendTLSPolicy[]): Map<BackendTLSPolicy, string> {
  const owners = new Map<string, BackendTLSPolicy>();
  const conflicts = new Map<BackendTLSPolicy, string>();
  for (const policy of policies) {
    for (const { service, sectionName } of serviceTargets(policy)) {
      const target = `${service}\u0000${sectionName ?? ''}`;
      const owner = owners.get(target);
      if (owner === undefined) owners.set(target, policy);
      else if (owner !== policy && !conflicts.has(policy)) {
        const what = sectionName === undefined ? `Service ${service}` : `port ${sectionName} of Service ${service}`;
        conflicts.set(
          policy,
          `BackendTLSPolicy ${namespaceOf(owner)}/${nameOf(owner)} targets ${what} too and takes precedence (older, or first by namespace/name)`,
        );
      }
    }
  }
  return conflicts;
}

function resolveCaRefs(
  context: TranslateContext,
  policy: BackendTLSPolicy,
  refs: unknown[],
  check: PolicyCheck,
): string[] | undefined {
  const pems: string[] = [];
  for (const [i, ref] of refs.entries()) {
    // LocalObjectReference: always in the policy's namespace.
    const local = { ...objectAt(ref), namespace: undefined };
    const resolved = resolveCaCertificateRef(context, local, at('spec.validation.caCertificateRefs', i), {
      namespace: namespaceOf(policy),
    });
    if (resolved.ok) pems.push(resolved.pem);
    else
      check.refProblems.push({
        reason: resolved.reason === 'InvalidCACertificateKind' ? 'InvalidKind' : 'InvalidCACertificateRef',
        message: resolved.message,
      });
  }
  return pems.length === 0 ? undefined : pems;
}

/** Checks a policy's `spec.validation`; `check.tls` is set when the policy can be applied. */
function checkPolicy(context: TranslateContext, policy: BackendTLSPolicy): PolicyCheck {
  const check: PolicyCheck = { refProblems: [] };
  const reject = (reason: 'Invalid' | 'NoValidCACertificate', message: string): PolicyCheck => ({
    ...check,
    rejection: { reason, message },
  });
  if (!isObject(policy.spec)) return reject('Invalid', 'The policy has no spec');
  const validation = objectAt(policy.spec.validation);
  // The references first, so that ResolvedRefs tells about them even when the policy is invalid for another reason.
  const refs = listAt(validation.caCertificateRefs);
  const pems = refs.length > 0 ? resolveCaRefs(context, policy, refs, check) : undefined;
  const hostnameProblem = checkHostname(validation.hostname, false);
  if (hostnameProblem !== null)
    return reject('Invalid', `spec.validation.hostname ${show(validation.hostname)} ${hostnameProblem}`);
  const tls: BackendTls = { hostname: validation.hostname as string };
  const wellKnown = validation.wellKnownCACertificates;
  const wantsWellKnown = wellKnown !== undefined && wellKnown !== '';
  if (refs.length > 0 === wantsWellKnown)
    return reject('Invalid', 'spec.validation needs exactly one of caCertificateRefs and wellKnownCACertificates');
  if (wantsWellKnown && wellKnown !== 'System')
    return reject('Invalid', `spec.validation.wellKnownCACertificates ${show(wellKnown)} is not supported (System)`);
  const sans: NonNullable<BackendTls['subjectAltNames']> = [];
  for (const [i, entry] of listAt(validation.subjectAltNames).entries()) {
    if (!context.options.supportedFeatures.has('BackendTLSPolicySANValidation')) {
      return reject('Invalid', 'spec.validation.subjectAltNames is not supported by this installation');
    }
    const e = objectAt(entry);
    const value = e.type === 'Hostname' ? stringAt(e.hostname) : e.type === 'URI' ? stringAt(e.uri) : undefined;
    if (value === undefined || (e.type === 'Hostname' && checkHostname(value) !== null)) {
      return reject(
        'Invalid',
        `${at('spec.validation.subjectAltNames', i)} ${show(entry)} is not a Hostname or URI entry`,
      );
    }
    sans.push({ type: e.type as 'Hostname' | 'URI', value });
  }
  if (sans.length > 0) tls.subjectAltNames = sans;
  // `spec.options` (implementation-specific): Portico defines none for backends. A minimum version or a cipher list
  // dropped without a word would weaken the connection, so the policy is refused instead (its backends answer 500).
  const options = Object.keys(objectAt(policy.spec.options));
  if (options.length > 0)
    return reject('Invalid', `spec.options ${options.join(', ')}: no BackendTLSPolicy options are supported`);
  if (refs.length > 0) {
    if (pems === undefined)
      return reject(
        'NoValidCACertificate',
        `No usable CA certificate: ${check.refProblems.map((p) => p.message).join('; ')}`,
      );
    tls.caCertificates = pems;
  }
  return { ...check, tls };
}

/** The TLS a backend needs: undefined when no policy targets the port, a problem when one does and cannot be met. */
export function resolveBackendTls(
  context: TranslateContext,
  namespace: string,
  service: string,
  portName: string,
): BackendTlsResolution {
  const found = findPolicy(context, namespace, service, portName);
  if (found === undefined) return { tls: undefined };
  const { policy, check } = found;
  const where = `BackendTLSPolicy ${namespaceOf(policy)}/${nameOf(policy)}`;
  if (!context.options.supportedFeatures.has('BackendTLSPolicy')) {
    return { problem: `${where} asks for TLS to this backend, which this installation does not support` };
  }
  if (check.tls !== undefined) return { tls: check.tls };
  return { problem: `${where}: ${check.rejection?.message ?? 'cannot be applied'}` };
}

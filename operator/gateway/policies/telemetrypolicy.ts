// XTelemetryPolicy (GEP-4768, gateway.networking.x-k8s.io/v1alpha1) → the tracing record of every listener of the
// Gateways it targets (shared/ir/tracing.ts). This module checks one policy's spec on its own (`checkTelemetryPolicy`):
// what the CRD's CEL rules say (the translator tolerates what they would refuse: standalone files skip them), the
// sampling fractions, the provider's backendRef resolved to an endpoint, the attributes. Which policy takes which
// Gateway, and the statuses, are in telemetrypolicy-status.ts. Reads the lookups only; never throws.

import type { Endpoint } from '../../../shared/ir/backend.ts';
import type { ListenerTracing, TracingAttribute } from '../../../shared/ir/tracing.ts';
import { isFilledAttributeKey } from '../../../shared/telemetry/attributes.ts';
import type { ConditionDraft } from '../conditions.ts';
import { policyBackendNotFound, policyInvalidKind, policyRefNotPermitted } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { at, integerAt, isObject, listAt, nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { isReferenceAllowed } from '../referencegrant.ts';
import { nameOf, namespaceOf } from '../resources.ts';
import { findServicePort, resolveEndpoints } from '../service-endpoints.ts';
import type { KubeObject } from '../resources.ts';

export const TELEMETRY_GROUP = 'gateway.networking.x-k8s.io';
export const TELEMETRY_KIND = 'XTelemetryPolicy';

/** What one policy says, checked. */
export interface TelemetryCheck {
  /** The record to put on the targets' listeners; null: mode ImplementationDefault (the command-line default). */
  tracing: ListenerTracing | null;
  /** Accepted=False Invalid: the policy cannot be applied (and takes no Gateway). */
  invalid?: string;
  /** ResolvedRefs: True, or False with the provider backendRef's problem (then the policy is not applied either). */
  resolvedRefs: ConditionDraft | null;
  /** `Attribute` sources Portico does not fill: omitted, said in the Accepted message (GEP-5253 lifecycle). */
  omitted: string[];
}

/** A fraction `{numerator, denominator}` (denominator defaults to 100) as a ratio, or a problem. */
function ratioOf(value: unknown, field: string): number | string {
  const f = objectAt(value);
  const numerator = integerAt(f.numerator);
  const denominator = f.denominator === undefined ? 100 : integerAt(f.denominator);
  if (numerator === undefined || numerator < 0)
    return `${field}.numerator ${show(f.numerator)} must be an integer >= 0`;
  if (denominator === undefined || denominator < 1)
    return `${field}.denominator ${show(f.denominator)} must be an integer >= 1`;
  if (numerator > denominator) return `${field}: numerator ${numerator} is greater than denominator ${denominator}`;
  return numerator / denominator;
}

/** `tracing.provider.backendRef` → `http://address:port` (first ready endpoint), or the ResolvedRefs problem. */
function resolveProvider(
  context: TranslateContext,
  policy: KubeObject,
  ref: unknown,
): { endpoint: string | undefined } | { problem: ConditionDraft } {
  const field = 'spec.tracing.provider.backendRef';
  const r = objectAt(ref);
  const group = r.group === undefined ? '' : stringAt(r.group);
  const kind = r.kind === undefined ? 'Service' : stringAt(r.kind);
  if (group !== '' || kind !== 'Service')
    return {
      problem: policyInvalidKind(`${field} refers to ${show(group)}/${show(kind)}; only core Services are supported`),
    };
  const name = nonEmptyString(r.name);
  const namespace = r.namespace === undefined ? namespaceOf(policy) : nonEmptyString(r.namespace);
  if (name === undefined || namespace === undefined)
    return { problem: policyBackendNotFound(`${field} must name a Service; it is ${show(ref)}`) };
  const from = { group: TELEMETRY_GROUP, kind: TELEMETRY_KIND, namespace: namespaceOf(policy) };
  if (!isReferenceAllowed(context.grants, from, { group: '', kind: 'Service', namespace, name }))
    return {
      problem: policyRefNotPermitted(
        `${field} refers to Service ${namespace}/${name}, and no ReferenceGrant in ${namespace} allows ${TELEMETRY_KIND} objects from ${namespaceOf(policy)} to refer to it`,
      ),
    };
  const service = context.services.get(namespacedKey(namespace, name));
  if (service === undefined)
    return { problem: policyBackendNotFound(`${field} refers to Service ${namespace}/${name}, which does not exist`) };
  if (stringAt(objectAt(service.spec).type) === 'ExternalName')
    return {
      problem: policyInvalidKind(
        `${field} refers to Service ${namespace}/${name} of type ExternalName (not supported)`,
      ),
    };
  const port = integerAt(r.port);
  const servicePort = port === undefined ? undefined : findServicePort(service, port, 'TCP');
  if (servicePort === undefined || servicePort.protocol !== 'TCP')
    return {
      problem: policyBackendNotFound(`${field}.port ${show(r.port)} is not a TCP port of Service ${namespace}/${name}`),
    };
  const first: Endpoint | undefined = resolveEndpoints(context, namespace, name, servicePort)[0];
  if (first === undefined) return { endpoint: undefined };
  const host = first.address.includes(':') ? `[${first.address}]` : first.address;
  return { endpoint: `http://${host}:${first.port}` };
}

/** `tracing.provider.headers`: name → value, the first of equivalent (case-insensitive) names kept. */
function headersOf(value: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const entry of listAt(value)) {
    const h = objectAt(entry);
    const name = nonEmptyString(h.name)?.toLowerCase();
    const v = stringAt(h.value);
    if (name !== undefined && v !== undefined && !(name in out)) out[name] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** `tracing.attributes[]`, or the first problem; `omitted` gets the Attribute sources Portico does not fill. */
function attributesOf(value: unknown, omitted: string[]): TracingAttribute[] | string {
  const out: TracingAttribute[] = [];
  for (const [i, entry] of listAt(value).entries()) {
    const field = at('spec.tracing.attributes', i);
    const e = objectAt(entry);
    const name = nonEmptyString(e.name);
    if (name === undefined) return `${field}.name must be set`;
    const sources = [e.literalValue, e.headerName, e.attributeKey].filter((v) => v !== undefined).length;
    if (sources !== 1) return `${field} needs exactly the one value its sourceType ${show(e.sourceType)} names`;
    const literal = nonEmptyString(e.literalValue);
    const header = nonEmptyString(e.headerName);
    const attribute = nonEmptyString(e.attributeKey);
    if (e.sourceType === 'Literal' && literal !== undefined) out.push({ name, literal });
    else if (e.sourceType === 'Header' && header !== undefined) out.push({ name, header: header.toLowerCase() });
    else if (e.sourceType === 'Attribute' && attribute !== undefined) {
      if (isFilledAttributeKey(attribute)) out.push({ name, attribute });
      else omitted.push(`${field}.attributeKey ${attribute}`);
    } else return `${field}: sourceType ${show(e.sourceType)} does not match the value it sets`;
  }
  return out;
}

/** Fields that only mean something with mode Enabled (the CRD's CEL rules refuse them otherwise). */
const ENABLED_ONLY = ['provider', 'samplingRate', 'parentBasedSampling', 'serviceName', 'spanName', 'attributes'];

/** Checks one policy's spec (its targets are judged with the others', in telemetrypolicy-status.ts). */
export function checkTelemetryPolicy(context: TranslateContext, policy: KubeObject): TelemetryCheck {
  const check: TelemetryCheck = { tracing: null, resolvedRefs: null, omitted: [] };
  const invalid = (message: string): TelemetryCheck => ({ ...check, invalid: message });
  if (!isObject(policy.spec) || !isObject(policy.spec.tracing)) return invalid('spec.tracing must be set');
  const tracing = policy.spec.tracing;
  const mode = tracing.mode ?? 'ImplementationDefault';
  if (mode !== 'Enabled') {
    const extra = ENABLED_ONLY.filter((f) => tracing[f] !== undefined);
    if (mode !== 'Disabled' && mode !== 'ImplementationDefault')
      return invalid(`spec.tracing.mode ${show(mode)} is not Enabled, Disabled or ImplementationDefault`);
    if (extra.length > 0) return invalid(`spec.tracing.${extra.join(', ')} can only be set when mode is Enabled`);
    if (mode === 'ImplementationDefault') return check;
    return { ...check, tracing: { source: sourceOf(policy), mode: 'Disabled', attributes: [] } };
  }
  // The reference first, so that ResolvedRefs tells about it even when the policy is invalid for another reason.
  if (!isObject(tracing.provider)) return invalid('spec.tracing.provider is required when mode is Enabled');
  const provider = resolveProvider(context, policy, tracing.provider.backendRef);
  if ('problem' in provider) return { ...check, resolvedRefs: provider.problem };
  const record: ListenerTracing = { source: sourceOf(policy), mode: 'Enabled', attributes: [] };
  if (provider.endpoint !== undefined) record.endpoint = provider.endpoint;
  const headers = headersOf(tracing.provider.headers);
  if (headers !== undefined) record.headers = headers;
  const serviceName = nonEmptyString(tracing.serviceName);
  if (serviceName !== undefined) record.serviceName = serviceName;
  const spanName = nonEmptyString(tracing.spanName);
  if (spanName !== undefined) record.spanName = spanName;
  if (tracing.samplingRate !== undefined) {
    const ratio = ratioOf(tracing.samplingRate, 'spec.tracing.samplingRate');
    if (typeof ratio === 'string') return invalid(ratio);
    record.ratio = ratio;
  }
  const parent = objectAt(tracing.parentBasedSampling);
  const parentMode = parent.mode ?? 'ImplementationDefault';
  if (parentMode === 'Enabled' || parentMode === 'Disabled') record.parentBased = parentMode === 'Enabled';
  else if (parentMode !== 'ImplementationDefault')
    return invalid(
      `spec.tracing.parentBasedSampling.mode ${show(parentMode)} is not Enabled, Disabled or ImplementationDefault`,
    );
  if (parent.samplingRate !== undefined) {
    if (parentMode !== 'Enabled')
      return invalid('spec.tracing.parentBasedSampling.samplingRate can only be set when its mode is Enabled');
    const ratio = ratioOf(parent.samplingRate, 'spec.tracing.parentBasedSampling.samplingRate');
    if (typeof ratio === 'string') return invalid(ratio);
    record.parentRatio = ratio;
  }
  const attributes = attributesOf(tracing.attributes, check.omitted);
  if (typeof attributes === 'string') return invalid(attributes);
  record.attributes = attributes;
  return { ...check, tracing: record };
}

function sourceOf(policy: KubeObject): ListenerTracing['source'] {
  return { kind: TELEMETRY_KIND, namespace: namespaceOf(policy), name: nameOf(policy) };
}

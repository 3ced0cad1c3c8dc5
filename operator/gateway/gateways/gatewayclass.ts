// GatewayClass: only classes whose `spec.controllerName` is ours are looked at; others get no status from us.
// A class is accepted unless its `parametersRef` is not a valid ConfigMap of parameters (Gateway API: a reference that
// cannot be found, of an unsupported kind, or to malformed data → Accepted=False InvalidParameters). The parameters
// (class-parameters.ts) are the same in both address modes; only service mode uses them. SupportedVersion compares
// the installed CRD bundle version, when the operator knows it, with the versions this translator was written against.

import {
  gatewayClassAccepted,
  gatewayClassInvalidParameters,
  gatewayClassSupportedVersion,
  gatewayClassUnsupportedVersion,
  stampConditions,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { DEFAULT_CLASS_PARAMETERS, resolveClassParameters } from './class-parameters.ts';
import type { ClassParameters } from './class-parameters.ts';
import type { TranslateContext } from '../context.ts';
import type { CompleteOptions } from '../options.ts';
import { objectAt, stringAt } from '../read.ts';
import { generationOf, nameOf } from '../resources.ts';
import type { GatewayClass } from '../resources.ts';
import type { ObjectStatus } from '../status.ts';

/**
 * Claimed only on a class whose parameters turn the mode on (`infrastructure: GatewayNamespace`): its conformance
 * tests look for generated objects in the Gateway's namespace, which only that mode writes. Both releases' names.
 */
const INFRASTRUCTURE_FEATURES: ReadonlySet<string> = new Set([
  'GatewayInfrastructure',
  'GatewayInfrastructurePropagation',
]);

/** CRD bundle versions this translator understands: v1.6 and later v1 minors (fields it does not know are ignored). */
const SUPPORTED_BUNDLE = /^v1\.(\d+)\.\d+/;
const OLDEST_MINOR = 6;

export interface GatewayClassNode {
  source: GatewayClass;
  name: string;
  accepted: boolean;
  /** From `spec.parametersRef`; the defaults when there is none (or it is invalid: the class is then not accepted). */
  parameters: ClassParameters;
  conditions: ConditionDraft[];
}

export function isOurs(gatewayClass: GatewayClass, options: CompleteOptions): boolean {
  return stringAt(objectAt(gatewayClass.spec).controllerName) === options.controllerName;
}

function versionCondition(options: CompleteOptions): ConditionDraft {
  const version = options.crdBundleVersion;
  if (version === undefined) return gatewayClassSupportedVersion('The installed Gateway API version was not checked');
  const match = SUPPORTED_BUNDLE.exec(version);
  if (match !== null && Number(match[1]) >= OLDEST_MINOR) {
    return gatewayClassSupportedVersion(`Gateway API ${version} is supported`);
  }
  return gatewayClassUnsupportedVersion(
    `Gateway API ${version} is installed; this controller supports v1.${OLDEST_MINOR}.0 and later v1 releases`,
  );
}

export function buildGatewayClassNode(gatewayClass: GatewayClass, context: TranslateContext): GatewayClassNode {
  const parametersRef = objectAt(gatewayClass.spec).parametersRef;
  const read =
    parametersRef === undefined || parametersRef === null
      ? { ok: true as const, parameters: DEFAULT_CLASS_PARAMETERS }
      : resolveClassParameters(context, parametersRef);
  const accepted = read.ok ? gatewayClassAccepted() : gatewayClassInvalidParameters(read.message);
  return {
    source: gatewayClass,
    name: nameOf(gatewayClass),
    accepted: read.ok,
    parameters: read.ok ? read.parameters : DEFAULT_CLASS_PARAMETERS,
    conditions: [accepted, versionCondition(context.options)],
  };
}

export function gatewayClassStatus(node: GatewayClassNode, options: CompleteOptions): ObjectStatus {
  return {
    kind: 'GatewayClass',
    apiVersion: stringAt(node.source.apiVersion) ?? 'gateway.networking.k8s.io/v1',
    name: node.name,
    generation: generationOf(node.source),
    status: {
      conditions: stampConditions(node.conditions, generationOf(node.source), options.now),
      supportedFeatures: options.supportedFeatureList
        .filter((name) => node.parameters.infrastructure === 'GatewayNamespace' || !INFRASTRUCTURE_FEATURES.has(name))
        .map((name) => ({ name })),
    },
  };
}

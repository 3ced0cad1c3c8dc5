// GatewayClass: only classes whose `spec.controllerName` is ours are looked at; others get no status from us.
// A class is accepted unless it carries `parametersRef` (Portico takes no parameters, so any reference is to an
// unsupported kind: InvalidParameters). SupportedVersion compares the installed CRD bundle version, when the operator
// knows it, with the versions this translator was written against.

import {
  gatewayClassAccepted,
  gatewayClassInvalidParameters,
  gatewayClassSupportedVersion,
  gatewayClassUnsupportedVersion,
  stampConditions,
} from './conditions.ts';
import type { ConditionDraft } from './conditions.ts';
import type { ResolvedOptions } from './options.ts';
import { objectAt, show, stringAt } from './read.ts';
import { generationOf, nameOf } from './resources.ts';
import type { GatewayClass } from './resources.ts';
import type { ObjectStatus } from './status.ts';

/** CRD bundle versions this translator understands: v1.6 and later v1 minors (fields it does not know are ignored). */
const SUPPORTED_BUNDLE = /^v1\.(\d+)\.\d+/;
const OLDEST_MINOR = 6;

export interface GatewayClassNode {
  source: GatewayClass;
  name: string;
  accepted: boolean;
  conditions: ConditionDraft[];
}

export function isOurs(gatewayClass: GatewayClass, options: ResolvedOptions): boolean {
  return stringAt(objectAt(gatewayClass.spec).controllerName) === options.controllerName;
}

function versionCondition(options: ResolvedOptions): ConditionDraft {
  const version = options.crdBundleVersion;
  if (version === undefined) return gatewayClassSupportedVersion('The installed Gateway API version was not checked');
  const match = SUPPORTED_BUNDLE.exec(version);
  if (match !== null && Number(match[1]) >= OLDEST_MINOR) {
    return gatewayClassSupportedVersion(`Gateway API ${version} is supported`);
  }
  return gatewayClassUnsupportedVersion(`Gateway API ${version} is installed; this controller supports v1.${OLDEST_MINOR}.0 and later v1 releases`);
}

export function buildGatewayClassNode(gatewayClass: GatewayClass, options: ResolvedOptions): GatewayClassNode {
  const parametersRef = objectAt(gatewayClass.spec).parametersRef;
  const accepted =
    parametersRef === undefined || parametersRef === null
      ? gatewayClassAccepted()
      : gatewayClassInvalidParameters(`spec.parametersRef ${show(parametersRef)} is not supported: this controller takes no parameters`);
  return {
    source: gatewayClass,
    name: nameOf(gatewayClass),
    accepted: accepted.status === 'True',
    conditions: [accepted, versionCondition(options)],
  };
}

export function gatewayClassStatus(node: GatewayClassNode, options: ResolvedOptions): ObjectStatus {
  return {
    kind: 'GatewayClass',
    apiVersion: stringAt(node.source.apiVersion) ?? 'gateway.networking.k8s.io/v1',
    name: node.name,
    generation: generationOf(node.source),
    status: {
      conditions: stampConditions(node.conditions, generationOf(node.source), options.now),
      supportedFeatures: options.supportedFeatureList.map((name) => ({ name })),
    },
  };
}

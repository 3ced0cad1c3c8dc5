// GatewayClass parameters: `spec.parametersRef` may name a ConfigMap (group "", kind ConfigMap, with a namespace)
// whose data configures the Gateways of the class. Two keys:
//   serviceType: LoadBalancer (default) | ClusterIP | NodePort — the type of each Gateway's Service (service mode);
//   infrastructure: GatewayNamespace — the opt-in GatewayInfrastructure mode (gateway-infrastructure.ts): each
//     Gateway also gets a selector-less Service and an EndpointSlice in its own namespace. Absent: none (the default,
//     which needs no rights in the Gateways' namespaces).
// Anything else is refused as Gateway API asks (a referent that cannot be found, of an unsupported kind, or with
// malformed data: InvalidParameters), unknown keys included, so that a misspelt key is an error rather than ignored.

import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { objectAt, show, stringAt } from '../read.ts';

export type ServiceType = 'LoadBalancer' | 'ClusterIP' | 'NodePort';

/** Where a Gateway's generated infrastructure goes besides its address: nowhere else, or its own namespace. */
export type InfrastructureMode = 'None' | 'GatewayNamespace';

export interface ClassParameters {
  serviceType: ServiceType;
  infrastructure: InfrastructureMode;
}

export const DEFAULT_CLASS_PARAMETERS: Readonly<ClassParameters> = Object.freeze({
  serviceType: 'LoadBalancer',
  infrastructure: 'None',
});

const SERVICE_TYPES: readonly string[] = ['LoadBalancer', 'ClusterIP', 'NodePort'];
const INFRASTRUCTURE_MODES: readonly string[] = ['None', 'GatewayNamespace'];
const KEYS: readonly string[] = ['serviceType', 'infrastructure'];

export type ClassParametersResolution = { ok: true; parameters: ClassParameters } | { ok: false; message: string };

function refused(message: string): ClassParametersResolution {
  return { ok: false, message: `spec.parametersRef: ${message}` };
}

/** The parameters a class's `spec.parametersRef` points at (the ConfigMap is looked up in the context). */
export function resolveClassParameters(context: TranslateContext, parametersRef: unknown): ClassParametersResolution {
  const ref = objectAt(parametersRef);
  const group = stringAt(ref.group);
  const kind = stringAt(ref.kind);
  const name = stringAt(ref.name);
  const namespace = stringAt(ref.namespace);
  if (group !== '' || kind !== 'ConfigMap')
    return refused(
      `group ${show(group)} kind ${show(kind)} is not supported: parameters are a ConfigMap (group "", kind ConfigMap)`,
    );
  if (!name) return refused(`name ${show(ref.name)} must name a ConfigMap`);
  if (!namespace) return refused('namespace is required: a ConfigMap is namespaced');
  const configMap = context.configMaps.get(namespacedKey(namespace, name));
  if (configMap === undefined) return refused(`ConfigMap ${namespace}/${name} not found`);
  const data = objectAt(configMap.data);
  const unknown = Object.keys(data).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0)
    return refused(
      `ConfigMap ${namespace}/${name} has unknown keys ${unknown.map((k) => show(k)).join(', ')} (known: ${KEYS.join(', ')})`,
    );
  const serviceType = data.serviceType === undefined ? DEFAULT_CLASS_PARAMETERS.serviceType : data.serviceType;
  if (typeof serviceType !== 'string' || !SERVICE_TYPES.includes(serviceType)) {
    return refused(
      `ConfigMap ${namespace}/${name}: serviceType ${show(serviceType)} must be one of ${SERVICE_TYPES.join(', ')}`,
    );
  }
  const infrastructure =
    data.infrastructure === undefined ? DEFAULT_CLASS_PARAMETERS.infrastructure : data.infrastructure;
  if (typeof infrastructure !== 'string' || !INFRASTRUCTURE_MODES.includes(infrastructure)) {
    return refused(
      `ConfigMap ${namespace}/${name}: infrastructure ${show(infrastructure)} must be one of ${INFRASTRUCTURE_MODES.join(', ')}`,
    );
  }
  return {
    ok: true,
    parameters: { serviceType: serviceType as ServiceType, infrastructure: infrastructure as InfrastructureMode },
  };
}

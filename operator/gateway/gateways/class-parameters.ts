// GatewayClass parameters: `spec.parametersRef` may name a ConfigMap (group "", kind ConfigMap, with a namespace)
// whose data configures the Gateways of the class. One key today:
//   serviceType: LoadBalancer (default) | ClusterIP | NodePort — the type of each Gateway's Service (service mode).
// Anything else is refused as Gateway API asks (a referent that cannot be found, of an unsupported kind, or with
// malformed data: InvalidParameters), unknown keys included, so that a misspelt key is an error rather than ignored.

import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { objectAt, show, stringAt } from '../read.ts';

export type ServiceType = 'LoadBalancer' | 'ClusterIP' | 'NodePort';

export interface ClassParameters {
  serviceType: ServiceType;
}

export const DEFAULT_CLASS_PARAMETERS: Readonly<ClassParameters> = Object.freeze({ serviceType: 'LoadBalancer' });

const SERVICE_TYPES: readonly string[] = ['LoadBalancer', 'ClusterIP', 'NodePort'];
const KEYS: readonly string[] = ['serviceType'];

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
  return { ok: true, parameters: { serviceType: serviceType as ServiceType } };
}

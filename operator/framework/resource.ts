// Resource types and objects as the framework sees them: a group/version/plural with its kind and scope, and plain
// JSON objects with the metadata a controller runtime needs. Paths are built here and nowhere else.

export interface ResourceType {
  /** API group; '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** Lower-case plural used in paths, e.g. `httproutes`. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** Any Kubernetes object, as JSON. */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectRef {
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** `group/version/plural` (or `version/plural` for the core group): a name for logs and maps. */
export function resourceId(resource: ResourceType): string {
  return `${apiVersionOf(resource)}/${resource.plural}`;
}

function groupVersionPath(resource: ResourceType): string {
  return resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
}

/** The collection: all namespaces when `namespace` is absent (or the kind is cluster-scoped). */
export function collectionPath(resource: ResourceType, namespace?: string): string {
  const base = groupVersionPath(resource);
  if (resource.namespaced && namespace !== undefined)
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
  return `${base}/${resource.plural}`;
}

export function objectPath(resource: ResourceType, ref: ObjectRef, subresource?: string): string {
  if (resource.namespaced && ref.namespace === undefined)
    throw new Error(`${resource.kind} ${ref.name}: a namespaced object needs a namespace`);
  const path = `${collectionPath(resource, resource.namespaced ? ref.namespace : undefined)}/${encodeURIComponent(ref.name)}`;
  return subresource === undefined ? path : `${path}/${subresource}`;
}

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects (as client-go's). */
export function keyOf(object: ApiObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOfRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

/** The reference a cache key (`keyOf`, `keyOfRef`) stands for. */
export function refOfKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash === -1 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function refOf(object: ApiObject): ObjectRef {
  const namespace = object.metadata?.namespace;
  return namespace ? { namespace, name: object.metadata?.name ?? '' } : { name: object.metadata?.name ?? '' };
}

// The operator's keys, built and taken apart here and nowhere else: an object's key (the store's, the session's, a
// status's), a namespaced name (the lookups' and the Gateways' maps), a Service port, and the dependency keys the
// session records what a translation read with. IR record keys are `shared/ir/keys.ts`'s.
// Must not import anything but the object readers: every other module builds its keys through this one.

import { nameOf, namespaceOf } from './resources.ts';
import type { KubeObject } from './resources.ts';

/** Kinds without a namespace: their key has an empty namespace, whatever `metadata.namespace` says. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['GatewayClass', 'Namespace', 'ClusterTrustBundle']);

/** `<namespace>/<name>`: a namespaced object in a lookup (Service, Secret, ConfigMap), a Gateway, a ListenerSet. */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The parts of a `namespacedKey` (a namespace has no `/`; a name may, for an EndpointSlice's Service label). */
export function parseNamespacedKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash === -1 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * `<kind>/<namespace>/<name>`: the key of an object in the store, in the translation session and of its status.
 * The namespace is the one the translator reads (`default` when absent) and empty for cluster-scoped kinds, so that
 * two objects the translator cannot tell apart (a missing namespace and `default`) have one key: the later replaces
 * the earlier wherever objects are kept by key.
 */
export function objectKey(object: KubeObject): string {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  return statusKey({
    kind,
    namespace: CLUSTER_SCOPED_KINDS.has(kind) ? '' : namespaceOf(object),
    name: nameOf(object),
  });
}

/** The key of a status (or of any object by its parts): `<kind>/<namespace>/<name>`, no namespace for a class. */
export function statusKey(status: { kind: string; namespace?: string; name: string }): string {
  return `${status.kind}/${status.namespace ?? ''}/${status.name}`;
}

/** The parts of an `objectKey` or a `statusKey`. */
export function parseObjectKey(key: string): { kind: string; namespace: string; name: string } {
  const first = key.indexOf('/');
  const second = key.indexOf('/', first + 1);
  return { kind: key.slice(0, first), namespace: key.slice(first + 1, second), name: key.slice(second + 1) };
}

/** A Service port as BackendTLSPolicies target it: `<namespace>/<service>/<port name>` (empty: every port). */
export function servicePortKey(namespace: string, service: string, portName: string): string {
  return `${namespace}/${service}/${portName}`;
}

/** The parts of a `servicePortKey`: the Service's `namespacedKey` and the port name. */
export function parseServicePortKey(key: string): { service: string; portName: string } {
  const at = key.lastIndexOf('/');
  return { service: key.slice(0, at), portName: key.slice(at + 1) };
}

/**
 * What a translation can read, each a lookup of the translate context (context.ts) or of the session's nodes:
 * Services, Secrets, ConfigMaps, EndpointSlices by Service, Namespace labels, ReferenceGrants and BackendTLSPolicies
 * by namespace, ClusterTrustBundles by name, our Gateways and ListenerSets by namespaced name.
 */
export type Lookup = 'svc' | 'secret' | 'cm' | 'eps' | 'ns' | 'grants' | 'btp' | 'ctb' | 'gw' | 'ls';

/** A dependency key: `<lookup>|<key>`, one entry of a lookup a translation read. */
export function dependencyKey(lookup: Lookup, key: string): string {
  return `${lookup}|${key}`;
}

/** The dependency key of a walk over a whole lookup (its size, its entries): `<lookup>|*`. */
export function wholeLookupKey(lookup: Lookup): string {
  return `${lookup}|*`;
}

/** The entry a dependency key names, when it is one of `lookup` and not a walk over it; undefined otherwise. */
export function dependencyEntry(dependency: string, lookup: Lookup): string | undefined {
  // Called for every changed key of a run: no string is made unless it is an entry of `lookup`.
  const at = lookup.length;
  if (!dependency.startsWith(lookup) || dependency.charCodeAt(at) !== BAR) return undefined;
  if (dependency.length === at + 2 && dependency.charCodeAt(at + 1) === STAR) return undefined;
  return dependency.slice(at + 1);
}

const BAR = '|'.charCodeAt(0);
const STAR = '*'.charCodeAt(0);

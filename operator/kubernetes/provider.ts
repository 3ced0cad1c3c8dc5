// The Kubernetes provider: one reflector per watched kind (per namespace in namespaced mode) feeding the same
// ResourceStore the file provider feeds, so the same reconciler and translator run. It is the only part of the
// operator's Kubernetes mode that reads from the API server.
//  - start() resolves once every served kind has been listed: the first translation must see the whole cluster, or
//    it would publish a configuration with routes missing.
//  - A kind whose CRD is not installed is logged once and skipped; discovery is retried every `rediscoverMs` and
//    the kind is watched from the moment it appears.
//  - Changes to an object of a kind we write status for that touch nothing but its status (our own writes, mostly)
//    do not reach the store, so a status write does not cause another translation. They are still reported through
//    `onLiveChange`, so the status writer sees the live object change.
//  - The reflector caches hold the live objects (status included) the status writer compares against.

import type { Logger } from 'pino';
import type { KubeObject } from '../gateway/resources.ts';
import { Reflector } from '../framework/reflector.ts';
import type { ReflectorOptions } from '../framework/reflector.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import { keyOfRef } from '../framework/resource.ts';
import type { ApiObject, ResourceType } from '../framework/resource.ts';
import { objectKey } from '../gateway/keys.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { STATUS_KINDS, WATCHED_KINDS, discoverKinds } from './kinds.ts';
import type { WatchedKind } from './kinds.ts';

/** Reflector settings a test may shorten. */
export type ReflectorTuning = Pick<
  ReflectorOptions<ApiObject>,
  'watchdogMs' | 'minWatchTimeoutSeconds' | 'backoff' | 'pageSize'
>;

export interface KubernetesProviderOptions {
  client: KubeClient;
  store: ResourceStore;
  log: Logger;
  /** Watch only these namespaces (namespaced kinds, and the Namespace objects themselves); default all. */
  namespaces?: readonly string[];
  /**
   * With `namespaces`: the operator's own namespace, whose Services and ConfigMaps are watched too (service mode: the
   * Gateways' Services live there, and usually the GatewayClass parameters).
   */
  ownNamespace?: string;
  /** Called after any change of a live object (status-only changes included), with its kind and cache key. */
  onLiveChange?(kind: string, key: string): void;
  /** Default 60 s. */
  rediscoverMs?: number;
  reflector?: ReflectorTuning;
  kinds?: readonly WatchedKind[];
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Kinds also watched in the operator's own namespace in namespaced mode (see `ownNamespace`). */
const OWN_NAMESPACE_KINDS: ReadonlySet<string> = new Set(['Service', 'ConfigMap']);

/** What we keep of an object: everything but managedFields and kubectl's copy of the last applied manifest. */
export function trimObject(object: ApiObject): ApiObject {
  const metadata = object.metadata;
  if (
    metadata === undefined ||
    (metadata.managedFields === undefined && metadata.annotations?.[LAST_APPLIED] === undefined)
  )
    return object;
  const { managedFields: _dropped, ...rest } = metadata;
  if (rest.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _applied, ...annotations } = rest.annotations;
    rest.annotations = annotations;
  }
  return { ...object, metadata: rest };
}

/** True when two versions of an object differ in nothing but status and resourceVersion. */
export function onlyStatusChanged(previous: ApiObject, current: ApiObject): boolean {
  const strip = (o: ApiObject) =>
    JSON.stringify({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(previous) === strip(current);
}

export class KubernetesProvider {
  readonly #options: KubernetesProviderOptions;
  readonly #resources = new Map<string, ResourceType>();
  /** kind → namespace ('' for all) → reflector */
  readonly #reflectors = new Map<string, Map<string, Reflector>>();
  #missing: WatchedKind[] = [];
  #rediscover: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: KubernetesProviderOptions) {
    this.#options = options;
  }

  /** Discovers the kinds, starts their reflectors and resolves when all have listed. */
  async start(): Promise<void> {
    const { client, log } = this.#options;
    const discovered = await this.#discoverUntilOk();
    this.#missing = discovered.missing;
    for (const kind of discovered.missing)
      log.warn(
        { kind: kind.kind, group: kind.group, versions: kind.versions },
        'kind not served by the API server (CRD not installed?); carrying on without it',
      );
    for (const resource of discovered.resources.values()) this.#watch(resource);
    await Promise.all(this.reflectors().map((r) => r.synced));
    log.info(
      { kinds: [...this.#resources.keys()], namespaces: this.#options.namespaces ?? 'all', server: client.server },
      'kubernetes provider synced',
    );
    this.#scheduleRediscovery();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#rediscover !== null) clearTimeout(this.#rediscover);
    await Promise.all(this.reflectors().map((r) => r.stop()));
  }

  /** The resource (version) a kind is read and written at; undefined when not served. */
  resourceOf(kind: string): ResourceType | undefined {
    return this.#resources.get(kind);
  }

  /** The live object (status included) as last seen by the reflectors. */
  get(kind: string, namespace: string | undefined, name: string): ApiObject | undefined {
    const byNamespace = this.#reflectors.get(kind);
    if (byNamespace === undefined) return undefined;
    const resource = this.#resources.get(kind)!;
    const reflector =
      byNamespace.get('') ??
      (resource.namespaced ? byNamespace.get(namespace ?? '') : undefined) ??
      byNamespace.get(name);
    return reflector?.cache.get(keyOfRef(resource.namespaced ? { namespace, name } : { name }));
  }

  /** The live objects of a kind in one namespace, as last seen by the reflectors. */
  list(kind: string, namespace: string): ApiObject[] {
    const byNamespace = this.#reflectors.get(kind);
    const reflector = byNamespace?.get('') ?? byNamespace?.get(namespace);
    return (reflector?.cache.list() ?? []).filter((o) => o.metadata?.namespace === namespace);
  }

  reflectors(): Reflector[] {
    return [...this.#reflectors.values()].flatMap((m) => [...m.values()]);
  }

  get synced(): boolean {
    return this.reflectors().every((r) => r.hasSynced);
  }

  /** Kinds not served at the last discovery. */
  missingKinds(): string[] {
    return this.#missing.map((k) => k.kind);
  }

  async #discoverUntilOk() {
    const { client, log, kinds } = this.#options;
    for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await discoverKinds(client, kinds ?? WATCHED_KINDS);
      } catch (error) {
        if (this.#stopped) throw error;
        log.warn({ err: (error as Error).message, retryInMs: delay }, 'API discovery failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #scheduleRediscovery(): void {
    if (this.#stopped || this.#missing.length === 0) return;
    this.#rediscover = setTimeout(async () => {
      this.#rediscover = null;
      try {
        const discovered = await discoverKinds(this.#options.client, this.#missing);
        for (const resource of discovered.resources.values()) {
          if (this.#stopped) return;
          this.#options.log.info({ kind: resource.kind, version: resource.version }, 'kind now served; watching it');
          this.#watch(resource);
        }
        this.#missing = discovered.missing;
      } catch (error) {
        this.#options.log.debug({ err: (error as Error).message }, 'rediscovery failed');
      }
      this.#scheduleRediscovery();
    }, this.#options.rediscoverMs ?? 60_000);
    this.#rediscover.unref();
  }

  /** Starts the reflector(s) of one kind: one for all namespaces, or one per namespace in namespaced mode. */
  #watch(resource: ResourceType): void {
    this.#resources.set(resource.kind, resource);
    const byNamespace = new Map<string, Reflector>();
    this.#reflectors.set(resource.kind, byNamespace);
    const namespaces = this.#options.namespaces;
    if (namespaces === undefined) {
      byNamespace.set('', this.#reflector(resource, {}));
    } else if (resource.namespaced) {
      const own = this.#options.ownNamespace;
      const watched =
        own !== undefined && OWN_NAMESPACE_KINDS.has(resource.kind) && !namespaces.includes(own)
          ? [...namespaces, own]
          : namespaces;
      for (const namespace of watched) byNamespace.set(namespace, this.#reflector(resource, { namespace }));
    } else if (resource.kind === 'Namespace') {
      // Only the watched Namespaces (allowedRoutes selectors read their labels): a field selector per name, which a
      // Role-scoped install can grant with resourceNames.
      for (const namespace of namespaces)
        byNamespace.set(namespace, this.#reflector(resource, { fieldSelector: `metadata.name=${namespace}` }));
    } else {
      byNamespace.set('', this.#reflector(resource, {}));
    }
  }

  #reflector(resource: ResourceType, scope: { namespace?: string; fieldSelector?: string }): Reflector {
    const { client, store, log, onLiveChange } = this.#options;
    // Store keys of this reflector's objects, so that a relist replaces exactly its own objects.
    const keys = new Set<string>();
    const statusKind = STATUS_KINDS.has(resource.kind);
    const live = (object: ApiObject) => {
      try {
        onLiveChange?.(
          resource.kind,
          keyOfRef({ namespace: object.metadata?.namespace, name: object.metadata?.name ?? '' }),
        );
      } catch (error) {
        log.error({ err: (error as Error).message }, 'live-change listener failed');
      }
    };
    const reflector: Reflector = new Reflector({
      client,
      resource,
      ...scope,
      log,
      ...this.#options.reflector,
      transform: trimObject,
      handler: {
        replaced: (objects) => {
          const next = store.replace(keys, objects as KubeObject[]);
          keys.clear();
          for (const key of next) keys.add(key);
          for (const object of objects) live(object);
        },
        upserted: (object, previous) => {
          if (!(statusKind && previous !== undefined && onlyStatusChanged(previous, object))) {
            store.upsert(object as KubeObject);
            keys.add(objectKey(object as KubeObject));
          }
          live(object);
        },
        deleted: (object) => {
          const key = objectKey(object as KubeObject);
          keys.delete(key);
          store.delete(key);
          live(object);
        },
      },
    });
    return reflector.start();
  }
}

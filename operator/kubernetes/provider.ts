// The Kubernetes provider: one reflector per watched kind (per namespace in namespaced mode) feeding the same
// ResourceStore the file provider feeds, so the same reconciler and translator run. It is the only part of the
// operator's Kubernetes mode that reads from the API server.
//  - start() resolves once every served kind has been listed: the first translation must see the whole cluster, or
//    it would publish a configuration with routes missing.
//  - A kind whose CRD is not installed is logged once and skipped; discovery is retried every `rediscoverMs` and
//    the kind is watched from the moment it appears. A kind whose CRD is deleted while we run (the CRD watch says so,
//    or a list answers 404) is "not served": logged once, its reflectors stopped and its objects dropped, and it is
//    watched again when the CRD returns (at once when the CRD watch sees it, else at the next rediscovery).
//  - Namespaced mode degrades, it does not stop: a namespace whose list answers 403 (its Role not granted, or
//    revoked) is reported once (log, `portico_operator_namespace_readable` 0, a Warning Event on the operator's pod),
//    its objects are dropped so that nothing stale is served from it, the other namespaces are served, and readiness
//    does not wait for it. Its reflectors keep retrying (with backoff, quietly): the grant is picked up when it comes.
//  - Changes to an object of a kind we write status for that touch nothing but its status (our own writes, mostly)
//    do not reach the store, so a status write does not cause another translation. They are still reported through
//    `onLiveChange`, so the status writer sees the live object change.
//  - The reflector caches hold the live objects (status included) the status writer compares against.

import type { Logger } from 'pino';
import type { EventRecorder } from '../framework/events.ts';
import { isApiError } from '../framework/kube-client.ts';
import type { KubeObject } from '../gateway/resources.ts';
import { Reflector } from '../framework/reflector.ts';
import type { ReflectorOptions } from '../framework/reflector.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import { keyOfRef } from '../framework/resource.ts';
import type { ApiObject, ResourceType } from '../framework/resource.ts';
import { objectKey } from '../gateway/keys.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { CrdWatch, gatewayCrdNames } from './crds.ts';
import type { CrdSummary } from './crds.ts';
import { STATUS_KINDS, WATCHED_KINDS, discoverKinds } from './kinds.ts';
import { onlyStatusChanged, trimObject } from './trim.ts';
import { Unreadable } from './unreadable.ts';
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
  /** Called after a kind became served (rediscovery) or stopped being served; `missingKinds()` says which are not. */
  onKindsChange?(): void;
  /** Called when what the Gateway API CRDs say changes (bundle version; a CRD added or deleted), and once at start. */
  onCrdChange?(summary: CrdSummary): void;
  /** Warning Events about namespaces that cannot be read go on this object (the operator's pod). */
  events?: EventRecorder;
  eventsAbout?: { apiVersion: string; kind: string; namespace: string; name: string };
}

/** Kinds also watched in the operator's own namespace in namespaced mode (see `ownNamespace`). */
const OWN_NAMESPACE_KINDS: ReadonlySet<string> = new Set(['Service', 'ConfigMap']);

export class KubernetesProvider {
  readonly #options: KubernetesProviderOptions;
  readonly #resources = new Map<string, ResourceType>();
  /** kind → namespace ('' for all) → reflector */
  readonly #reflectors = new Map<string, Map<string, Reflector>>();
  #missing: WatchedKind[] = [];
  #rediscover: NodeJS.Timeout | null = null;
  #stopped = false;
  readonly #crds: CrdWatch;
  /** Namespaces and optional kinds whose lists answer 403 (unreadable.ts). */
  readonly #unreadable: Unreadable;
  /** Reflectors that have settled (listed, or failed with 403) since they started: what readiness waits for. */
  readonly #settled = new WeakMap<Reflector, Promise<void>>();
  /** Store keys of each reflector's objects, so that a relist replaces exactly its own objects. */
  readonly #keys = new Map<Reflector, Set<string>>();

  constructor(options: KubernetesProviderOptions) {
    this.#options = options;
    this.#unreadable = new Unreadable({
      log: options.log,
      events: options.events,
      eventsAbout: options.eventsAbout,
      onKindsChange: () => options.onKindsChange?.(),
      dropObjects: (reflector) => this.#dropReflectorObjects(reflector),
    });
    this.#crds = new CrdWatch({
      client: options.client,
      log: options.log,
      names: gatewayCrdNames(options.kinds ?? WATCHED_KINDS),
      reflector: options.reflector,
      onChange: (summary, change) => this.#crdChanged(summary, change),
    });
  }

  /** Discovers the kinds, starts their reflectors and resolves when all have listed (or cannot be read: 403). */
  async start(): Promise<void> {
    const { client, log } = this.#options;
    const crdsRead = this.#crds.start();
    const discovered = await this.#discoverUntilOk();
    this.#missing = discovered.missing;
    for (const kind of discovered.missing)
      log.warn(
        { kind: kind.kind, group: kind.group, versions: kind.versions },
        'kind not served by the API server (CRD not installed?); carrying on without it',
      );
    for (const resource of discovered.resources.values()) this.#watch(resource);
    await Promise.all([crdsRead, ...this.reflectors().map((r) => this.#settled.get(r) ?? r.synced)]);
    log.info(
      {
        kinds: [...this.#resources.keys()],
        namespaces: this.#options.namespaces ?? 'all',
        unreadableNamespaces: this.#unreadable.namespaces(),
        server: client.server,
      },
      'kubernetes provider synced',
    );
    this.#scheduleRediscovery();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#rediscover !== null) clearTimeout(this.#rediscover);
    await Promise.all([this.#crds.stop(), ...this.reflectors().map((r) => r.stop())]);
  }

  /** What the installed Gateway API CRDs say (bundle version), as last seen. */
  crdSummary(): CrdSummary {
    return this.#crds.summary();
  }

  /** Namespaces whose objects cannot be read (403), as last seen. */
  unreadableNamespaces(): string[] {
    return this.#unreadable.namespaces();
  }

  /** Every kind this provider would watch, served or not. */
  watchedKinds(): string[] {
    return (this.#options.kinds ?? WATCHED_KINDS).map((k) => k.kind);
  }

  /** The namespaces watched (namespaced mode), or undefined for all. */
  watchedNamespaces(): readonly string[] | undefined {
    return this.#options.namespaces;
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

  /** Every reflector has listed, except those of namespaces that cannot be read (they do not hold readiness). */
  get synced(): boolean {
    return this.reflectors().every((r) => r.hasSynced || this.#unreadable.holds(r));
  }

  /** Kinds not served at the last discovery. */
  missingKinds(): string[] {
    return [...this.#missing.map((k) => k.kind), ...this.#unreadable.kinds()];
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

  #scheduleRediscovery(delayMs = this.#options.rediscoverMs ?? 60_000): void {
    if (this.#stopped || this.#missing.length === 0) return;
    if (this.#rediscover !== null) clearTimeout(this.#rediscover);
    this.#rediscover = setTimeout(async () => {
      this.#rediscover = null;
      try {
        const discovered = await discoverKinds(this.#options.client, this.#missing);
        for (const resource of discovered.resources.values()) {
          if (this.#stopped) return;
          this.#options.log.info({ kind: resource.kind, version: resource.version }, 'kind now served; watching it');
          this.#watch(resource);
        }
        const changed = discovered.missing.length !== this.#missing.length;
        this.#missing = discovered.missing;
        if (changed) this.#options.onKindsChange?.();
      } catch (error) {
        this.#options.log.debug({ err: (error as Error).message }, 'rediscovery failed');
      }
      this.#scheduleRediscovery();
    }, delayMs);
    this.#rediscover.unref();
  }

  /** A CRD added, deleted or re-annotated (CrdWatch). */
  #crdChanged(summary: CrdSummary, change: { name: string; present: boolean } | undefined): void {
    if (change !== undefined && !this.#stopped) {
      const kind = (this.#options.kinds ?? WATCHED_KINDS).find((k) => `${k.plural}.${k.group}` === change.name);
      if (kind !== undefined && !change.present) void this.#kindGone(kind.kind, 'its CRD was deleted');
      // Discovery lags a new CRD by a moment (until it is Established): look now, and again shortly.
      if (kind !== undefined && change.present && this.#missing.some((k) => k.kind === kind.kind))
        this.#scheduleRediscovery(1000);
    }
    try {
      this.#options.onCrdChange?.(summary);
    } catch (error) {
      this.#options.log.error({ err: (error as Error).message }, 'CRD change listener failed');
    }
  }

  /**
   * A kind no longer served: stop its reflectors, drop its objects (the API server deleted them with the CRD), and
   * look for it again at rediscovery. Logged once per disappearance.
   */
  async #kindGone(kind: string, why: string): Promise<void> {
    const resource = this.#resources.get(kind);
    const byNamespace = this.#reflectors.get(kind);
    if (resource === undefined || byNamespace === undefined || this.#stopped) return;
    this.#resources.delete(kind);
    this.#reflectors.delete(kind);
    const watched = (this.#options.kinds ?? WATCHED_KINDS).find((k) => k.kind === kind);
    if (watched !== undefined && !this.#missing.includes(watched)) this.#missing.push(watched);
    this.#options.log.warn(
      { kind, group: resource.group, version: resource.version },
      `kind no longer served (${why}); stopped watching it, and will watch it again when it is served`,
    );
    await Promise.all([...byNamespace.values()].map((r) => r.stop()));
    for (const reflector of byNamespace.values()) this.#unreadable.forget(reflector);
    for (const reflector of byNamespace.values()) this.#dropReflectorObjects(reflector);
    this.#options.onKindsChange?.();
    this.#scheduleRediscovery();
  }

  #isOptional(kind: string): boolean {
    return (this.#options.kinds ?? WATCHED_KINDS).some((k) => k.kind === kind && k.optional === true);
  }

  /** Removes from the store every object this reflector put there; returns how many. */
  #dropReflectorObjects(reflector: Reflector): number {
    const keys = this.#keys.get(reflector);
    if (keys === undefined) return 0;
    const count = keys.size;
    for (const key of keys) this.#options.store.delete(key);
    keys.clear();
    return count;
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
        byNamespace.set(
          namespace,
          this.#reflector(resource, { fieldSelector: `metadata.name=${namespace}` }, namespace),
        );
    } else {
      byNamespace.set('', this.#reflector(resource, {}));
    }
  }

  /** `servedNamespace`: the namespace a 403 on this reflector means cannot be read (default `scope.namespace`). */
  #reflector(
    resource: ResourceType,
    scope: { namespace?: string; fieldSelector?: string },
    servedNamespace = scope.namespace,
  ): Reflector {
    const { client, store, log, onLiveChange } = this.#options;
    const keys = new Set<string>();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
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
      onFailure: (error) => {
        if (isApiError(error, 404)) {
          void this.#kindGone(resource.kind, 'the API server answers 404 for it');
          return true;
        }
        if (isApiError(error, 403) && servedNamespace !== undefined) {
          this.#unreadable.namespaceForbidden(reflector, servedNamespace, resource.kind, error);
          settle();
          return true;
        }
        if (isApiError(error, 403) && this.#isOptional(resource.kind)) {
          this.#unreadable.kindForbidden(reflector, resource.kind, error);
          settle();
          return true;
        }
        return false;
      },
      onRecovered: () => this.#unreadable.readable(reflector),
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
    this.#keys.set(reflector, keys);
    void reflector.synced.then(settle);
    this.#settled.set(reflector, settled);
    return reflector.start();
  }
}

// The GatewayInfrastructure mode's objects in Kubernetes: for every Gateway of a class in the mode, a Service without a
// selector and its EndpointSlice in the Gateway's namespace (gateway/gateways/gateway-infrastructure.ts says what they
// must be). Like the Service sink (services.ts), only the leader writes:
//  - both are applied (server-side apply, force, our field manager) when the live one differs; a hash of the apply in
//    an annotation makes an unchanged object cost no request, after a restart too;
//  - both carry an owner reference to their Gateway (same namespace), so the API server's garbage collector removes
//    them with it, also while the operator is down;
//  - what is ours (managed-by portico and the mode's label) and no Gateway lists any more (the class left the mode, the
//    Gateway changed class or went) is deleted, uid as a precondition; at the first complete list and on becoming
//    leader, the live objects of ours are listed from the API server (all namespaces, or the watched ones) so that
//    stale objects are found after a restart too. Nothing is deleted before the first complete list;
//  - an object of the same name that is not ours (an app's Service) is never touched: a Warning Event says so.
// The rights: create, patch and delete of Services and EndpointSlices in the Gateways' namespaces, which the default
// install does not grant (manifests/components/gateway-infrastructure, Helm `gatewayInfrastructure.enabled`). Without
// them a write fails with 403: a Warning Event on the Gateway names the missing grant, the work queue retries with
// backoff (up to 5 minutes apart), and nothing else is affected.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventRecorder, EventType } from '../framework/events.ts';
import { CONTENT_TYPE, isApiError } from '../framework/kube-client.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import { refOfKey } from '../framework/resource.ts';
import type { ApiObject } from '../framework/resource.ts';
import { WorkQueue } from '../framework/workqueue.ts';
import { INFRASTRUCTURE_LABEL, INFRASTRUCTURE_VALUE } from '../gateway/gateways/gateway-infrastructure.ts';
import type { GatewayNamespaceObjects } from '../gateway/gateways/gateway-infrastructure.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../gateway/gateways/gateway-service.ts';
import { namespacedKey, parseNamespacedKey } from '../gateway/keys.ts';
import { APPLIED_ANNOTATION } from './services.ts';

/** What the EndpointSlice controllers look at to leave a slice alone (a label value: no `/`). */
export const ENDPOINTSLICE_MANAGER = 'gateway-controller.portico.dev';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Selects the objects of this mode (ours); the Service sink's objects do not carry INFRASTRUCTURE_LABEL. */
export const INFRASTRUCTURE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY},${INFRASTRUCTURE_LABEL}=${INFRASTRUCTURE_VALUE}`;

const KINDS = {
  Service: { path: (ns: string) => `/api/v1/namespaces/${ns}/services`, all: '/api/v1/services' },
  EndpointSlice: {
    path: (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    all: '/apis/discovery.k8s.io/v1/endpointslices',
  },
} as const;
type Kind = keyof typeof KINDS;

export interface LiveObjects {
  get(kind: string, namespace: string | undefined, name: string): ApiObject | undefined;
}

export interface KubernetesInfrastructureSinkOptions {
  client: KubeClient;
  live: LiveObjects;
  fieldManager: string;
  log: Logger;
  /** Namespaced install: the watched namespaces (the garbage collector lists these only); default all. */
  namespaces?: readonly string[];
  /** Objects written at once. Default 2. */
  concurrency?: number;
  events?: EventRecorder;
  /** Work queue backoff (tests shorten it). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}
type Meta = NonNullable<ApiObject['metadata']> & { ownerReferences?: OwnerReference[] };
type Body = ApiObject & { metadata: Meta & { annotations: Record<string, string> } };

function withHash(body: Body): Body {
  body.metadata.annotations[APPLIED_ANNOTATION] = createHash('sha256')
    .update(JSON.stringify(body))
    .digest('hex')
    .slice(0, 16);
  return body;
}

function metadataOf(objects: GatewayNamespaceObjects, extraLabels: Record<string, string> = {}): Body['metadata'] {
  const desired = objects.desired!;
  return {
    name: objects.name,
    namespace: objects.namespace,
    labels: { ...desired.labels, ...extraLabels },
    annotations: { ...desired.annotations },
    ownerReferences: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        name: desired.owner.name,
        uid: desired.owner.uid ?? '',
        controller: true,
      },
    ],
  } as Body['metadata'];
}

/** The Service's apply body: no selector (the EndpointSlice below is its endpoints), ClusterIP, the listener ports. */
export function infrastructureServiceBody(objects: GatewayNamespaceObjects): Body | undefined {
  const desired = objects.desired;
  if (desired?.owner.uid === undefined) return undefined;
  return withHash({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(objects),
    spec: {
      type: 'ClusterIP',
      ports: desired.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.targetPort })),
    },
  } as Body);
}

/** The EndpointSlice's apply body: one ready endpoint per data-plane address, the ports where it serves. */
export function infrastructureSliceBody(objects: GatewayNamespaceObjects): Body | undefined {
  const desired = objects.desired;
  if (desired?.owner.uid === undefined) return undefined;
  return withHash({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: metadataOf(objects, {
      [SERVICE_NAME_LABEL]: objects.name,
      [SLICE_MANAGED_BY_LABEL]: ENDPOINTSLICE_MANAGER,
    }),
    addressType: desired.addressType,
    endpoints: desired.addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
    ports: desired.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.targetPort })),
  } as Body);
}

/** The live object is what `body` makes it: applied from it (the hash), our labels and owner still on it. */
export function infrastructureMatches(live: ApiObject, body: Body): boolean {
  const meta: Meta = live.metadata ?? {};
  if (meta.annotations?.[APPLIED_ANNOTATION] !== body.metadata.annotations[APPLIED_ANNOTATION]) return false;
  const uid = body.metadata.ownerReferences?.[0]?.uid;
  if (!(meta.ownerReferences ?? []).some((o) => o.uid === uid)) return false;
  if (body.kind === 'EndpointSlice') {
    const addresses = (e: unknown) =>
      JSON.stringify(((e ?? []) as Array<{ addresses?: string[] }>).map((x) => x.addresses));
    if (
      addresses((live as { endpoints?: unknown }).endpoints) !== addresses((body as { endpoints?: unknown }).endpoints)
    )
      return false;
  }
  return Object.entries(body.metadata.labels ?? {}).every(([k, v]) => meta.labels?.[k] === v);
}

function isOurs(live: ApiObject): boolean {
  const labels = live.metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY && labels[INFRASTRUCTURE_LABEL] === INFRASTRUCTURE_VALUE;
}

export class KubernetesInfrastructureSink {
  readonly #options: KubernetesInfrastructureSinkOptions;
  readonly #queue: WorkQueue<string>;
  /** By `<namespace>/<name>` of the objects. */
  #desired = new Map<string, GatewayNamespaceObjects>();
  #complete = false;
  #leader = false;
  /** Keys whose name an object not ours holds, warned about once. */
  readonly #foreign = new Set<string>();
  readonly stats = { applies: 0, deletes: 0, unchanged: 0, failures: 0 };

  constructor(options: KubernetesInfrastructureSinkOptions) {
    this.#options = options;
    this.#queue = new WorkQueue<string>({
      concurrency: options.concurrency ?? 2,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      process: (key) => this.#sync(key),
      onError: (key, error, failures) => this.#failed(key, error, failures),
    });
  }

  /** Every Gateway's objects, after a translation (the complete list each time). */
  update(list: readonly GatewayNamespaceObjects[]): void {
    const previous = this.#desired;
    this.#desired = new Map(list.map((o) => [namespacedKey(o.namespace, o.name), o]));
    for (const [key, objects] of this.#desired) {
      const was = previous.get(key);
      if (was === undefined || JSON.stringify(was) !== JSON.stringify(objects)) this.#enqueue(key);
    }
    for (const key of previous.keys()) if (!this.#desired.has(key)) this.#enqueue(key);
    if (!this.#complete) {
      this.#complete = true;
      void this.#collectOrphans();
    }
  }

  /** A live Service or EndpointSlice changed: if it is one of ours (or has the name of one), look again. */
  liveChanged(kind: string, cacheKey: string): void {
    if (kind !== 'Service' && kind !== 'EndpointSlice') return;
    const ref = refOfKey(cacheKey);
    const key = namespacedKey(ref.namespace ?? '', ref.name);
    if (this.#desired.has(key)) this.#enqueue(key);
  }

  setLeader(leader: boolean): void {
    this.#leader = leader;
    if (!leader) return;
    for (const key of this.#desired.keys()) this.#enqueue(key);
    void this.#collectOrphans();
  }

  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  async stop(drainMs = 2000): Promise<void> {
    await this.#queue.shutDown(this.#leader ? drainMs : 0);
  }

  #enqueue(key: string): void {
    if (this.#leader) this.#queue.add(key);
  }

  /** Lists our live objects from the API server (not the cache: it must see them all) and queues the stale ones. */
  async #collectOrphans(): Promise<void> {
    if (!this.#complete || !this.#leader) return;
    const { client, namespaces, log } = this.#options;
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const paths = namespaces === undefined ? [KINDS[kind].all] : namespaces.map((ns) => KINDS[kind].path(ns));
      for (const path of paths) {
        try {
          const list = await client.request<{ items?: ApiObject[] }>('GET', path, {
            query: { labelSelector: INFRASTRUCTURE_SELECTOR },
          });
          for (const item of list.items ?? []) {
            const key = namespacedKey(item.metadata?.namespace ?? '', item.metadata?.name ?? '');
            if (!this.#desired.has(key)) this.#enqueue(key);
          }
        } catch (error) {
          log.warn({ path, err: (error as Error)?.message }, 'could not list GatewayInfrastructure objects to collect');
        }
      }
    }
  }

  async #sync(key: string): Promise<void> {
    if (!this.#leader) return;
    const { namespace, name } = parseNamespacedKey(key);
    const objects = this.#desired.get(key);
    const live = {
      Service: this.#options.live.get('Service', namespace, name),
      EndpointSlice: this.#options.live.get('EndpointSlice', namespace, name),
    };
    const foreign = (Object.keys(live) as Kind[]).filter((k) => live[k] !== undefined && !isOurs(live[k]!));
    if (objects !== undefined && foreign.length > 0) {
      if (!this.#foreign.has(key)) {
        this.#foreign.add(key);
        this.#recordOnGateway(
          objects.gateway,
          'Warning',
          'InfrastructureNameTaken',
          `${foreign.join(' and ')} ${key} exists and is not Portico's: left alone, so this Gateway has no Service in its namespace`,
        );
      }
      return;
    }
    this.#foreign.delete(key);
    if (objects === undefined) {
      if (!this.#complete) return;
      for (const kind of Object.keys(live) as Kind[]) {
        const object = live[kind] ?? (await this.#read(kind, namespace, name));
        if (object !== undefined && isOurs(object)) await this.#delete(kind, object);
      }
      return;
    }
    const service = infrastructureServiceBody(objects);
    const slice = infrastructureSliceBody(objects);
    if (service === undefined || slice === undefined) return;
    const written: Kind[] = [];
    for (const [kind, body] of [
      ['Service', service],
      ['EndpointSlice', slice],
    ] as const) {
      const current = live[kind];
      if (current !== undefined && infrastructureMatches(current, body)) {
        this.stats.unchanged++;
        continue;
      }
      await this.#apply(kind, body);
      written.push(kind);
    }
    if (written.length === 0) return;
    if (objects.desired?.unusable !== undefined)
      this.#recordOnGateway(objects.gateway, 'Warning', 'InfrastructureAddressUnusable', objects.desired.unusable);
    const creating = live.Service === undefined;
    this.#options.log.info(
      { gateway: objects.gateway, objects: key, written },
      'GatewayInfrastructure objects written',
    );
    this.#recordOnGateway(
      objects.gateway,
      'Normal',
      creating ? 'InfrastructureCreated' : 'InfrastructureUpdated',
      `${written.join(' and ')} ${key} ${creating ? 'created' : 'updated'} for this Gateway (${objects.desired?.addresses.length ?? 0} data-plane endpoints)`,
    );
  }

  /** A live object the cache does not hold (a namespaced install not watching its namespace); undefined if none. */
  async #read(kind: Kind, namespace: string, name: string): Promise<ApiObject | undefined> {
    try {
      return await this.#options.client.request<ApiObject>('GET', `${KINDS[kind].path(namespace)}/${name}`);
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  async #apply(kind: Kind, body: Body): Promise<void> {
    const { client, fieldManager } = this.#options;
    this.stats.applies++;
    await client.request<ApiObject>('PATCH', `${KINDS[kind].path(body.metadata.namespace!)}/${body.metadata.name}`, {
      query: { fieldManager, force: true },
      body,
      contentType: CONTENT_TYPE.apply,
    });
  }

  async #delete(kind: Kind, live: ApiObject): Promise<void> {
    const { client, log, events } = this.#options;
    const namespace = live.metadata?.namespace ?? '';
    const name = live.metadata?.name ?? '';
    this.stats.deletes++;
    try {
      await client.request('DELETE', `${KINDS[kind].path(namespace)}/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: live.metadata?.uid } },
      });
    } catch (error) {
      // Gone already (the owner's garbage collection, most often), or replaced: its own events bring it back here.
      if (isApiError(error, 404) || isApiError(error, 409)) return;
      throw error;
    }
    log.info({ kind, object: `${namespace}/${name}` }, 'GatewayInfrastructure object no Gateway needs deleted');
    events?.record(
      { apiVersion: live.apiVersion ?? 'v1', kind, namespace, name, uid: live.metadata?.uid },
      'Normal',
      'InfrastructureDeleted',
      'DeleteInfrastructure',
      `deleted: no Gateway of a class in the GatewayInfrastructure mode needs it (it was for ${live.metadata?.annotations?.['portico.dev/gateway'] ?? 'an unknown Gateway'})`,
    );
  }

  #failed(key: string, error: unknown, failures: number): void {
    this.stats.failures++;
    const message = (error as Error)?.message ?? String(error);
    const forbidden = isApiError(error, 403);
    this.#options.log.warn({ objects: key, failures, err: message }, 'GatewayInfrastructure write failed; will retry');
    const gateway = this.#desired.get(key)?.gateway;
    if (gateway === undefined) return;
    const why = forbidden
      ? `the operator may not write Services and EndpointSlices in namespace ${parseNamespacedKey(key).namespace}: ` +
        'grant the GatewayInfrastructure rights (Helm: gatewayInfrastructure.enabled=true; kustomize: the ' +
        'components/gateway-infrastructure component)'
      : message;
    this.#recordOnGateway(
      gateway,
      'Warning',
      'InfrastructureWriteFailed',
      `Service and EndpointSlice ${key} could not be written (will retry): ${why}`,
    );
  }

  #recordOnGateway(gateway: string, type: EventType, reason: string, note: string): void {
    const events = this.#options.events;
    const { namespace, name } = parseNamespacedKey(gateway);
    if (events === undefined || namespace === '') return;
    const uid = this.#options.live.get('Gateway', namespace, name)?.metadata?.uid;
    events.record(
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', namespace, name, uid },
      type,
      reason,
      'ApplyInfrastructure',
      note,
    );
  }
}

// The Gateways' Services in Kubernetes mode (service mode, DESIGN.md decision 9). The translator says what every
// Gateway's Service must be (gateway/gateway-service.ts); this sink makes the cluster so, in the operator's namespace,
// and only the leader writes:
//  - a Service with a desired state is applied (server-side apply, force, under our field manager) when the live one
//    differs from it; the apply carries a hash of itself in an annotation, so that an unchanged Service costs no
//    request, after a restart too;
//  - a Service listed without a desired state (its Gateway cannot be served now) is left as it is;
//  - a Service of ours (label app.kubernetes.io/managed-by=portico) that no Gateway lists any more is deleted, with
//    the uid as a precondition. Owner references cannot do this: a namespaced owner must be in the dependent's own
//    namespace, and Gateways are not in ours. Nothing is deleted before the first complete list of Services arrived
//    from a translation;
//  - a Service that has our name but is not ours (no label, no annotation naming its Gateway) is never touched.
// When the API server refuses a requested cluster IP (outside the service CIDR, or in use) the Service is created
// without it; the translator then reports the address it got instead (Programmed=False AddressNotUsable).
// Like the status sink, it keeps a work queue of keys (Service names) and reads live objects from the provider.
// What it does is recorded as Events on the Gateway (created, updated, cluster IP refused, write failed), where the
// app team that owns the Gateway looks (`kubectl describe gateway`), and on the Service when it deletes one.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventRecorder, EventType } from '../framework/events.ts';
import { CONTENT_TYPE, isApiError } from '../framework/kube-client.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import { WorkQueue } from '../framework/workqueue.ts';
import { refOfKey } from '../framework/resource.ts';
import type { ApiObject } from '../framework/resource.ts';
import { INFRASTRUCTURE_LABEL } from '../gateway/gateways/gateway-infrastructure.ts';
import { GATEWAY_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL } from '../gateway/gateways/gateway-service.ts';
import type { GatewayService } from '../gateway/gateways/gateway-service.ts';
import { parseNamespacedKey } from '../gateway/keys.ts';

/** The hash of the last apply, on the Service. */
export const APPLIED_ANNOTATION = 'portico.dev/applied';

export interface LiveServices {
  get(kind: string, namespace: string | undefined, name: string): ApiObject | undefined;
  list(kind: string, namespace: string): ApiObject[];
}

export interface KubernetesServiceSinkOptions {
  client: KubeClient;
  live: LiveServices;
  /** The operator's namespace: where the Services go (the translator was told the same). */
  namespace: string;
  /** Labels of the data-plane pods. */
  selector: Readonly<Record<string, string>>;
  fieldManager: string;
  log: Logger;
  /** Services written at once. Default 2. */
  concurrency?: number;
  /** Where Events about Service writes go; none when absent. */
  events?: EventRecorder;
}

interface ServiceBody {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    type: string;
    selector: Record<string, string>;
    ports: Array<{ name: string; protocol: string; port: number; targetPort: number }>;
    loadBalancerIP?: string;
    clusterIP?: string;
  };
}

/** The apply body of a desired Service, with the hash of everything else in APPLIED_ANNOTATION. */
export function serviceBody(
  service: GatewayService,
  selector: Readonly<Record<string, string>>,
): ServiceBody | undefined {
  const desired = service.desired;
  if (desired === undefined) return undefined;
  const body: ServiceBody = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service.name,
      namespace: service.namespace,
      labels: { ...desired.labels },
      annotations: { ...desired.annotations },
    },
    spec: {
      type: desired.type,
      selector: { ...selector },
      ports: desired.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.targetPort })),
    },
  };
  if (desired.loadBalancerIP !== undefined) body.spec.loadBalancerIP = desired.loadBalancerIP;
  if (desired.clusterIP !== undefined) body.spec.clusterIP = desired.clusterIP;
  body.metadata.annotations[APPLIED_ANNOTATION] = createHash('sha256')
    .update(JSON.stringify(body))
    .digest('hex')
    .slice(0, 16);
  return body;
}

function sameRecord(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const left = a ?? {};
  return Object.keys(left).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => left[k] === v);
}

/**
 * True when the live Service is what `body` would make it: applied from this very body (the hash), and with the
 * fields others could have changed since (type, selector, ports, labels) still as applied.
 */
export function serviceMatches(live: ApiObject, body: ServiceBody): boolean {
  const meta = live.metadata ?? {};
  if (meta.annotations?.[APPLIED_ANNOTATION] !== body.metadata.annotations[APPLIED_ANNOTATION]) return false;
  const spec = (live.spec ?? {}) as {
    type?: string;
    selector?: Record<string, string>;
    ports?: Array<Record<string, unknown>>;
    loadBalancerIP?: string;
  };
  if ((spec.type ?? 'ClusterIP') !== body.spec.type || !sameRecord(spec.selector, body.spec.selector)) return false;
  if ((spec.ports ?? []).length !== body.spec.ports.length) return false;
  const portsMatch = body.spec.ports.every((want) =>
    (spec.ports ?? []).some(
      (p) =>
        p.port === want.port &&
        (p.protocol ?? 'TCP') === want.protocol &&
        p.targetPort === want.targetPort &&
        p.name === want.name,
    ),
  );
  if (!portsMatch || (body.spec.loadBalancerIP !== undefined && spec.loadBalancerIP !== body.spec.loadBalancerIP))
    return false;
  return Object.entries(body.metadata.labels).every(([k, v]) => meta.labels?.[k] === v);
}

/**
 * Ours: carries our managed-by label, or the annotation naming its Gateway — and is not a GatewayInfrastructure
 * Service (gateway-infrastructure.ts), which a Gateway in this very namespace may have and another sink owns.
 */
function isOurs(live: ApiObject): boolean {
  const meta = live.metadata ?? {};
  if (meta.labels?.[INFRASTRUCTURE_LABEL] !== undefined) return false;
  return meta.labels?.[MANAGED_BY_LABEL] === MANAGED_BY || meta.annotations?.[GATEWAY_ANNOTATION] !== undefined;
}

export class KubernetesServiceSink {
  readonly #options: KubernetesServiceSinkOptions;
  readonly #queue: WorkQueue<string>;
  #desired = new Map<string, GatewayService>();
  /** A complete list has arrived (the first translation): garbage collection may start. */
  #complete = false;
  #leader = false;
  /** Names of Services of the same name that are not ours, warned about once. */
  readonly #foreign = new Set<string>();
  readonly stats = { applies: 0, deletes: 0, unchanged: 0, failures: 0 };

  constructor(options: KubernetesServiceSinkOptions) {
    this.#options = options;
    this.#queue = new WorkQueue<string>({
      concurrency: options.concurrency ?? 2,
      process: (name) => this.#sync(name),
      onError: (name, error, failures) => {
        this.stats.failures++;
        const message = (error as Error)?.message ?? String(error);
        options.log.warn(
          { service: `${options.namespace}/${name}`, failures, err: message },
          'Service write failed; will retry',
        );
        const gateway = this.#desired.get(name)?.gateway;
        if (gateway !== undefined)
          this.#recordOnGateway(
            gateway,
            'Warning',
            'ServiceWriteFailed',
            `Service ${options.namespace}/${name} could not be written (will retry): ${message}`,
          );
      },
    });
  }

  /** Every Gateway's Service, after a translation (the complete list each time). */
  update(services: readonly GatewayService[]): void {
    const previous = this.#desired;
    // In force before anything is queued: the queue may start a key at once, and it reads the desired state.
    this.#desired = new Map(services.map((s) => [s.name, s]));
    for (const [name, service] of this.#desired) {
      const was = previous.get(name);
      if (was === undefined || JSON.stringify(was) !== JSON.stringify(service)) this.#enqueue(name);
    }
    for (const name of previous.keys()) if (!this.#desired.has(name)) this.#enqueue(name);
    if (!this.#complete) {
      this.#complete = true;
      this.#enqueueOrphans();
    }
  }

  /** The provider saw a live object change: a Service of our namespace is looked at again. */
  liveChanged(kind: string, cacheKey: string): void {
    const ref = refOfKey(cacheKey);
    if (kind === 'Service' && ref.namespace === this.#options.namespace) this.#enqueue(ref.name);
  }

  setLeader(leader: boolean): void {
    this.#leader = leader;
    if (!leader) return;
    for (const name of this.#desired.keys()) this.#enqueue(name);
    this.#enqueueOrphans();
  }

  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  async stop(drainMs = 2000): Promise<void> {
    await this.#queue.shutDown(this.#leader ? drainMs : 0);
  }

  #enqueue(name: string): void {
    if (this.#leader) this.#queue.add(name);
  }

  #enqueueOrphans(): void {
    if (!this.#complete) return;
    for (const live of this.#options.live.list('Service', this.#options.namespace)) {
      const name = live.metadata?.name;
      if (name !== undefined && !this.#desired.has(name) && isOurs(live)) this.#enqueue(name);
    }
  }

  async #sync(name: string): Promise<void> {
    if (!this.#leader) return;
    const { live: cache, namespace, selector, log } = this.#options;
    const service = this.#desired.get(name);
    const live = cache.get('Service', namespace, name);
    if (live !== undefined && !isOurs(live)) {
      if (service !== undefined && !this.#foreign.has(name)) {
        log.warn(
          { service: `${namespace}/${name}`, gateway: service.gateway },
          "a Service that is not ours has this Gateway's Service name; leaving it alone",
        );
        this.#foreign.add(name);
      }
      return;
    }
    this.#foreign.delete(name);
    if (service === undefined) {
      if (this.#complete && live !== undefined) await this.#delete(name, live);
      return;
    }
    const body = serviceBody(service, selector);
    if (body === undefined) return;
    if (live !== undefined && serviceMatches(live, body)) {
      this.stats.unchanged++;
      return;
    }
    await this.#apply(body, live === undefined);
  }

  async #apply(body: ServiceBody, creating: boolean): Promise<void> {
    const { client, namespace, fieldManager, log } = this.#options;
    const path = `/api/v1/namespaces/${namespace}/services/${body.metadata.name}`;
    const send = (b: ServiceBody) =>
      client.request<ApiObject>('PATCH', path, {
        query: { fieldManager, force: true },
        body: b,
        contentType: CONTENT_TYPE.apply,
      });
    const gateway = body.metadata.annotations[GATEWAY_ANNOTATION];
    this.stats.applies++;
    try {
      await send(body);
    } catch (error) {
      if (!(creating && body.spec.clusterIP !== undefined && isApiError(error, 422))) throw error;
      // The requested cluster IP was refused: create the Service without it; the Gateway's status says what it got.
      log.warn(
        { service: `${namespace}/${body.metadata.name}`, clusterIP: body.spec.clusterIP, err: error.message },
        'the requested cluster IP was refused; creating the Service without it',
      );
      this.#recordOnGateway(
        gateway,
        'Warning',
        'ClusterIPRefused',
        `the requested address ${body.spec.clusterIP} was refused as the cluster IP of Service ${namespace}/${body.metadata.name} (${error.message}); it was created without it`,
      );
      const { clusterIP: _refused, ...spec } = body.spec;
      this.stats.applies++;
      await send({ ...body, spec });
    }
    log.info(
      { service: `${namespace}/${body.metadata.name}`, gateway, type: body.spec.type },
      creating ? 'Service created' : 'Service updated',
    );
    this.#recordOnGateway(
      gateway,
      'Normal',
      creating ? 'ServiceCreated' : 'ServiceUpdated',
      `Service ${namespace}/${body.metadata.name} (${body.spec.type}) ${creating ? 'created' : 'updated'} for this Gateway`,
    );
  }

  async #delete(name: string, live: ApiObject): Promise<void> {
    const { client, namespace, log } = this.#options;
    this.stats.deletes++;
    try {
      await client.request('DELETE', `/api/v1/namespaces/${namespace}/services/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: live.metadata?.uid } },
      });
      const gateway = live.metadata?.annotations?.[GATEWAY_ANNOTATION];
      log.info({ service: `${namespace}/${name}`, gateway }, 'Service of a Gateway that is gone deleted');
      this.#options.events?.record(
        { apiVersion: 'v1', kind: 'Service', namespace, name, uid: live.metadata?.uid },
        'Normal',
        'ServiceDeleted',
        'DeleteService',
        `deleted: its Gateway ${gateway ?? '(unknown)'} is gone`,
      );
    } catch (error) {
      // Gone already, or replaced (another uid): its own events bring it back here.
      if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
    }
  }

  /** An Event on the Gateway `namespace/name` (with its uid when the cache has it). */
  #recordOnGateway(gateway: string, type: EventType, reason: string, note: string): void {
    const events = this.#options.events;
    const { namespace, name } = parseNamespacedKey(gateway);
    if (events === undefined || namespace === '') return;
    const uid = this.#options.live.get('Gateway', namespace, name)?.metadata?.uid;
    events.record(
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', namespace, name, uid },
      type,
      reason,
      'ApplyService',
      note,
    );
  }
}

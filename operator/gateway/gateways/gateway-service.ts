// Service mode (DESIGN.md decision 9; options.addressMode 'service'): each Gateway of ours gets a Service in the
// operator's namespace (a Service selects pods of its own namespace only) that maps every listener port to an internal
// port the data plane binds on 0.0.0.0 (or ::). This is the address pass of that mode, in three steps:
//   1. internal ports, one per (Gateway, listener port) — TCP and UDP listeners on one port share it — stable as the
//      pool's addresses are: the port the Gateway's live Service already targets (the cluster's record: every replica
//      reads it, and it outlives an operator restart), else the previous run's, else the lowest free one of the range;
//      each step for all Gateways, oldest first, before the next;
//   2. the Service each Gateway needs: type from its class's parameters, one port per (listener port, transport),
//      labels and annotations (spec.infrastructure's, then ours, which win), the address spec.addresses asks for;
//   3. what the live Service says: status.addresses (load balancer ingress for type LoadBalancer, the clusterIPs
//      otherwise), or why there is none yet (Programmed=False AddressNotAssigned), or why an address spec.addresses
//      asked for is not the one the Service got (Programmed=False AddressNotUsable).
// Pure like the rest of the translator: the live Service comes from the snapshot, and `TranslateResult.services` is
// what the Kubernetes side applies (operator/kubernetes/services.ts). Nothing here writes.

import { createHash } from 'node:crypto';
import type { StatusAddress } from './address.ts';
import type { InfrastructureMode, ServiceType } from './class-parameters.ts';
import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { isGatewayAccepted } from './gateway.ts';
import { boundListeners } from './listenerset.ts';
import type { GatewayNode } from './gateway.ts';
import type { PortAllocations } from '../options.ts';
import { integerAt, listAt, objectAt, stringAt } from '../read.ts';
import type { Service } from '../resources.ts';

/** Our Services carry this label (the garbage collector's selector) … */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'portico';
/** … and name their Gateway in full here (label values cannot hold `/` nor more than 63 characters). */
export const GATEWAY_ANNOTATION = 'portico.dev/gateway';
/** GEP-1762 labels of generated resources (set when the name fits in a label value), and the Gateway's namespace. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
export const GATEWAY_NAMESPACE_LABEL = 'portico.dev/gateway-namespace';

export interface ServicePort {
  /** `<tcp|udp>-<port>`. */
  name: string;
  protocol: 'TCP' | 'UDP';
  /** The listener port. */
  port: number;
  /** The internal port the data plane binds. */
  targetPort: number;
}

export interface ServiceSpecDraft {
  type: ServiceType;
  ports: ServicePort[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** LoadBalancer: the IPAddress spec.addresses asks for (`spec.loadBalancerIP`). */
  loadBalancerIP?: string;
  /** ClusterIP and NodePort: the IPAddress spec.addresses asks for, while the Service does not exist or has it. */
  clusterIP?: string;
}

/** The Service of one Gateway of ours. */
export interface GatewayService {
  /** The Gateway, `<namespace>/<name>`. */
  gateway: string;
  namespace: string;
  name: string;
  /**
   * What the Service must be. Absent while the Gateway cannot be served (not accepted, no valid listener, no internal
   * port left): a Service it has is then kept as it is rather than deleted, so that its address is not given up.
   */
  desired?: ServiceSpecDraft;
}

/** The Gateway's own part of its Service (read when the Gateway node is built). */
export interface GatewayInfrastructure {
  className: string;
  serviceType: ServiceType;
  /** The class's `infrastructure` parameter: GatewayNamespace adds a Service in the Gateway's own namespace. */
  mode: InfrastructureMode;
  /** `spec.infrastructure.labels` and `annotations`. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function labelValue(text: string): string | undefined {
  return text.length <= 63 && LABEL_VALUE.test(text) ? text : undefined;
}

/**
 * The Service's name: `gw-<namespace>-<name>` cut to fit a DNS-1035 label, then a hash of the Gateway's
 * namespace/name, so that two Gateways never share a name however they are spelt or cut.
 */
export function serviceNameOf(namespace: string, name: string): string {
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 8);
  const base = `gw-${namespace}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63 - 9)
    .replace(/-+$/, '');
  return `${base}-${hash}`;
}

/** The key of an internal port allocation. */
export function portKey(gateway: string, port: number): string {
  return `${gateway}:${port}`;
}

interface Candidate {
  node: GatewayNode;
  live: Service | undefined;
  /** Listener ports (ascending), with the transports they need. */
  ports: Map<number, Set<'TCP' | 'UDP'>>;
}

/** The listener ports of a Gateway's valid listeners (its ListenerSets' included), ascending, with their transports. */
export function listenerTransports(node: GatewayNode): Map<number, Set<'TCP' | 'UDP'>> {
  const ports = new Map<number, Set<'TCP' | 'UDP'>>();
  for (const listener of boundListeners(node).sort((a, b) => a.port - b.port)) {
    if (listener.rejection !== undefined) continue;
    const transports = ports.get(listener.port) ?? new Set();
    transports.add(listener.protocol === 'UDP' ? 'UDP' : 'TCP');
    ports.set(listener.port, transports);
  }
  return ports;
}

function candidateOf(node: GatewayNode, live: Service | undefined): Candidate | undefined {
  if (node.infrastructure === undefined || !isGatewayAccepted(node)) return undefined;
  const ports = listenerTransports(node);
  return ports.size === 0 ? undefined : { node, live, ports };
}

/** Listener port → the numeric targetPort the live Service sends it to. */
function targetPortsOf(live: Service | undefined): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of listAt(objectAt(live?.spec).ports)) {
    const port = integerAt(objectAt(entry).port);
    const target = integerAt(objectAt(entry).targetPort);
    if (port !== undefined && target !== undefined && !out.has(port)) out.set(port, target);
  }
  return out;
}

/** Step 1: internal ports for every candidate; the Gateways for which the range ran out. */
function allocatePorts(
  candidates: readonly Candidate[],
  context: TranslateContext,
): { ports: PortAllocations; exhausted: Set<string> } {
  const { internalPorts: range, previousPorts } = context.options;
  const ports: PortAllocations = {};
  const taken = new Set<number>();
  const keys = candidates.flatMap((c) =>
    [...c.ports.keys()].map((port) => ({ key: portKey(c.node.key, port), gateway: c.node.key, port, live: c.live })),
  );
  const usable = (p: number | undefined): p is number =>
    range !== undefined && p !== undefined && p >= range.first && p <= range.last && !taken.has(p);
  const take = (key: string, p: number) => {
    ports[key] = p;
    taken.add(p);
  };
  const adopted = new Map(candidates.map((c) => [c.node.key, targetPortsOf(c.live)]));
  for (const k of keys) {
    const p = adopted.get(k.gateway)?.get(k.port);
    if (usable(p)) take(k.key, p);
  }
  for (const k of keys) {
    if (ports[k.key] === undefined && usable(previousPorts[k.key])) take(k.key, previousPorts[k.key]);
  }
  const exhausted = new Set<string>();
  let next = range?.first ?? 0;
  for (const k of keys) {
    if (ports[k.key] !== undefined) continue;
    while (range !== undefined && next <= range.last && taken.has(next)) next++;
    if (range === undefined || next > range.last) exhausted.add(k.gateway);
    else take(k.key, next);
  }
  return { ports, exhausted };
}

/** The labels of a Gateway's generated objects: spec.infrastructure's, then ours (which win). */
export function serviceLabels(node: GatewayNode, infrastructure: GatewayInfrastructure): Record<string, string> {
  const labels: Record<string, string> = { ...infrastructure.labels, [MANAGED_BY_LABEL]: MANAGED_BY };
  const name = labelValue(node.name);
  const className = labelValue(infrastructure.className);
  if (name !== undefined) labels[GATEWAY_NAME_LABEL] = name;
  else delete labels[GATEWAY_NAME_LABEL];
  if (className !== undefined) labels[GATEWAY_CLASS_LABEL] = className;
  else delete labels[GATEWAY_CLASS_LABEL];
  labels[GATEWAY_NAMESPACE_LABEL] = node.namespace;
  return labels;
}

/** Step 2: the Service a candidate needs. */
function buildDesired(candidate: Candidate, ports: PortAllocations): ServiceSpecDraft {
  const { node, live } = candidate;
  const infrastructure = node.infrastructure as GatewayInfrastructure;
  const servicePorts: ServicePort[] = [];
  for (const [port, transports] of candidate.ports) {
    for (const protocol of ['TCP', 'UDP'] as const) {
      if (transports.has(protocol))
        servicePorts.push({
          name: `${protocol.toLowerCase()}-${port}`,
          protocol,
          port,
          targetPort: ports[portKey(node.key, port)],
        });
    }
  }
  const desired: ServiceSpecDraft = {
    type: infrastructure.serviceType,
    ports: servicePorts,
    labels: serviceLabels(node, infrastructure),
    annotations: { ...infrastructure.annotations, [GATEWAY_ANNOTATION]: node.key },
  };
  const requested = node.requestedAddresses[0];
  if (requested !== undefined && infrastructure.serviceType === 'LoadBalancer') desired.loadBalancerIP = requested;
  const liveClusterIp = stringAt(objectAt(live?.spec).clusterIP);
  if (
    requested !== undefined &&
    infrastructure.serviceType !== 'LoadBalancer' &&
    (live === undefined || liveClusterIp === requested)
  )
    desired.clusterIP = requested;
  return desired;
}

/** What the live Service offers as the Gateway's addresses, or why it offers none yet. */
export function liveAddresses(
  live: Service | undefined,
  type: ServiceType,
  where: string,
): { published: StatusAddress[]; pending?: string } {
  if (live === undefined) return { published: [], pending: `Waiting for the Service ${where} to be created` };
  const liveType = stringAt(objectAt(live.spec).type) ?? 'ClusterIP';
  if (liveType !== type)
    return { published: [], pending: `Waiting for the Service ${where} to change from type ${liveType} to ${type}` };
  const published: StatusAddress[] = [];
  if (type === 'LoadBalancer') {
    for (const entry of listAt(objectAt(objectAt((live as { status?: unknown }).status).loadBalancer).ingress)) {
      const ip = stringAt(objectAt(entry).ip);
      const hostname = stringAt(objectAt(entry).hostname);
      if (ip) published.push({ type: 'IPAddress', value: ip });
      else if (hostname) published.push({ type: 'Hostname', value: hostname });
    }
    if (published.length === 0)
      return {
        published,
        pending: `Waiting for a load balancer to give the Service ${where} an address (its status.loadBalancer.ingress is empty)`,
      };
  } else {
    const spec = objectAt(live.spec);
    const ips = listAt(spec.clusterIPs).length > 0 ? listAt(spec.clusterIPs) : [spec.clusterIP];
    for (const ip of ips)
      if (typeof ip === 'string' && ip !== '' && ip !== 'None') published.push({ type: 'IPAddress', value: ip });
    if (published.length === 0) return { published, pending: `The Service ${where} has no cluster IP yet` };
  }
  return { published: published.slice(0, 16) };
}

/** Step 3's check of spec.addresses: one IPAddress can be asked for, and it must be among what the Service got. */
function requestProblem(
  node: GatewayNode,
  type: ServiceType,
  published: readonly StatusAddress[],
  where: string,
): string | undefined {
  const [wanted, ...extra] = node.requestedAddresses;
  const problems = extra.map(
    (a) => `${a} is not used: a Service of type ${type} takes one requested address, and it has ${wanted}`,
  );
  if (wanted !== undefined && published.length > 0 && !published.some((a) => a.value === wanted)) {
    const got = published.map((a) => a.value).join(', ');
    const why =
      type === 'LoadBalancer'
        ? 'the load balancer did not honour spec.loadBalancerIP'
        : 'a cluster IP is chosen when the Service is created and cannot change; it may also be outside the service CIDR or in use. Delete the Service to have it created again with the requested address';
    problems.unshift(`${wanted} was not assigned: the Service ${where} got ${got} (${why})`);
  }
  return problems.length === 0 ? undefined : `spec.addresses: ${problems.join('; ')}`;
}

/**
 * The service-mode address pass: every Gateway (in precedence order) gets its address outcome (bind address, bind
 * ports, published addresses) and its `service`; returns the internal port allocations.
 */
export function assignServiceAddresses(gateways: readonly GatewayNode[], context: TranslateContext): PortAllocations {
  const { serviceNamespace, bindAddress, internalPorts } = context.options;
  const candidates: Candidate[] = [];
  const lives = new Map<string, Service | undefined>();
  for (const node of gateways) {
    const live = context.services.get(namespacedKey(serviceNamespace, serviceNameOf(node.namespace, node.name)));
    lives.set(node.key, live);
    const candidate = candidateOf(node, live);
    if (candidate !== undefined) candidates.push(candidate);
  }
  const { ports, exhausted } = allocatePorts(candidates, context);
  for (const node of gateways) {
    const name = serviceNameOf(node.namespace, node.name);
    node.service = { gateway: node.key, namespace: serviceNamespace, name };
    node.address = { address: undefined, published: [] };
  }
  const range =
    internalPorts === undefined
      ? 'the internal port range is not valid'
      : `no internal port is left in ${internalPorts.first}-${internalPorts.last}`;
  for (const candidate of candidates) {
    const { node } = candidate;
    if (exhausted.has(node.key)) {
      node.address = {
        address: undefined,
        published: [],
        problem: { reason: 'AddressNotAssigned', message: `No address could be assigned: ${range}` },
      };
      continue;
    }
    const desired = buildDesired(candidate, ports);
    (node.service as GatewayService).desired = desired;
    const where = `${serviceNamespace}/${(node.service as GatewayService).name}`;
    const { published, pending } = liveAddresses(lives.get(node.key), desired.type, where);
    const bindPorts = new Map(
      [...candidate.ports.keys()].map((port) => [port, ports[portKey(node.key, port)]] as const),
    );
    const outcome: GatewayNode['address'] = { address: bindAddress, published, bindPorts };
    if (pending !== undefined) outcome.pending = pending;
    const problem = requestProblem(node, desired.type, published, where);
    if (problem !== undefined) outcome.problem = { reason: 'AddressNotUsable', message: problem };
    node.address = outcome;
  }
  return ports;
}

/** `TranslateResult.services`: the Service of every Gateway of ours, in Gateway precedence order. */
export function gatewayServices(gateways: readonly GatewayNode[]): GatewayService[] {
  return gateways.flatMap((node) => (node.service === undefined ? [] : [node.service]));
}

// The GatewayInfrastructure mode (GEP-1762, GEP-1867; opt-in per class: parameters `infrastructure: GatewayNamespace`):
// each Gateway of such a class also gets, in its own namespace, a Service without a selector and the EndpointSlice
// that Portico writes for it, both labelled as GEP-1762 asks (gateway-name, gateway-class-name, spec.infrastructure's
// labels and annotations) and owned by the Gateway, so that they go with it. They point at where the shared data
// plane serves that Gateway:
//   - pool mode: the Gateway's own bound address, on its listener ports;
//   - service mode: the ready data-plane pods behind the Gateway's Service in the operator's namespace (that Service's
//     EndpointSlices, written by Kubernetes' EndpointSlice controller), on the Gateway's internal ports.
// Why a selector-less Service and not a data-plane Deployment per Gateway: the data plane is shared by design (one
// process set serving every Gateway), so a second copy per Gateway would cost a Node process set each (README,
// "GatewayInfrastructure") for nothing the Service does not already give: a name in the Gateway's namespace, and the
// object its owners label and annotate. The Gateway's address (status.addresses) is unchanged by this mode.
// Pure: reads the address pass's outcome and the snapshot's EndpointSlices; the Kubernetes side applies the result
// (operator/kubernetes/gateway-infrastructure.ts). Nothing here writes.

import { createHash } from 'node:crypto';
import type { TranslateContext } from '../context.ts';
import { namespacedKey } from '../keys.ts';
import { isGatewayAccepted } from './gateway.ts';
import type { GatewayNode } from './gateway.ts';
import { GATEWAY_ANNOTATION, listenerTransports, serviceLabels } from './gateway-service.ts';
import type { GatewayInfrastructure } from './gateway-service.ts';
import { listAt, objectAt, stringAt } from '../read.ts';

/** On every object of this mode: what its garbage collector selects (with managed-by), apart from service mode's. */
export const INFRASTRUCTURE_LABEL = 'portico.dev/infrastructure';
export const INFRASTRUCTURE_VALUE = 'gateway-namespace';

export interface InfrastructurePort {
  /** `<tcp|udp>-<port>`: the Service port and the EndpointSlice port share it. */
  name: string;
  protocol: 'TCP' | 'UDP';
  /** The listener port (the Service's port). */
  port: number;
  /** Where the data plane serves it (the EndpointSlice's port): the listener port (pool) or the internal port. */
  targetPort: number;
}

export interface InfrastructureDraft {
  /** The owner reference's target (apiVersion gateway.networking.k8s.io/v1, kind Gateway). */
  owner: { name: string; uid?: string };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ports: InfrastructurePort[];
  addressType: 'IPv4' | 'IPv6';
  /** The EndpointSlice's endpoints, one address each; empty while the data plane has none ready. */
  addresses: string[];
  /** Why an address of the Gateway is not among them (the API server refuses it in an EndpointSlice). */
  unusable?: string;
}

/** The Service and EndpointSlice (one name) of one Gateway in its namespace. */
export interface GatewayNamespaceObjects {
  /** The Gateway, `<namespace>/<name>`. */
  gateway: string;
  namespace: string;
  name: string;
  /** Absent while the Gateway cannot be served: what it has is kept as it is, as service mode keeps its Service. */
  desired?: InfrastructureDraft;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `<gateway>-<class>` (GEP-1762's naming) when that is a DNS-1035 label (a Service name); otherwise cut and cleaned,
 * with a hash of the pair, so that two Gateways of one namespace never share a name however they are spelt or cut.
 * `hashed` forces the second form (for the rare pair whose plain name another pair already has: `a-b` of class `c`
 * and `a` of class `b-c`).
 */
export function infrastructureNameOf(gateway: string, className: string, hashed = false): string {
  const plain = `${gateway}-${className}`;
  if (!hashed && plain.length <= 63 && DNS_LABEL.test(plain)) return plain;
  const hash = createHash('sha256').update(`${gateway}/${className}`).digest('hex').slice(0, 8);
  const base = `gw-${plain}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63 - 9)
    .replace(/-+$/, '');
  return `${base}-${hash}`;
}

/**
 * Why the API server would refuse `address` as an endpoint (it refuses the unspecified, loopback, link-local and
 * link-local multicast ranges), or undefined. A pool of loopback addresses (standalone-like set-ups, the conformance
 * harness) thus leaves the Service without endpoints, and says so.
 */
export function endpointAddressProblem(address: string): string | undefined {
  const a = address.toLowerCase();
  if (a === '0.0.0.0' || a === '::') return 'unspecified';
  if (a.startsWith('127.') || a === '::1') return 'a loopback address';
  if (a.startsWith('169.254.') || /^fe[89ab][0-9a-f]?:/.test(a)) return 'a link-local address';
  if (a.startsWith('224.0.0.') || a.startsWith('ff02:')) return 'a link-local multicast address';
  return undefined;
}

/** Service mode: the ready addresses of the data-plane pods behind the Gateway's Service (its EndpointSlices). */
function dataPlaneAddresses(node: GatewayNode, context: TranslateContext, addressType: string): string[] {
  const service = node.service;
  if (service === undefined) return [];
  const out = new Set<string>();
  for (const slice of context.endpointSlices.get(namespacedKey(service.namespace, service.name)) ?? []) {
    if (stringAt(slice.addressType) !== addressType) continue;
    for (const endpoint of listAt(slice.endpoints)) {
      const e = objectAt(endpoint);
      // Kubernetes: a missing `ready` means ready.
      if (objectAt(e.conditions).ready === false) continue;
      for (const address of listAt(e.addresses)) if (typeof address === 'string') out.add(address);
    }
  }
  return [...out].sort();
}

function buildDraft(node: GatewayNode, context: TranslateContext): InfrastructureDraft | undefined {
  const infrastructure = node.infrastructure as GatewayInfrastructure;
  const address = node.address;
  if (!isGatewayAccepted(node) || address?.address === undefined) return undefined;
  const transports = listenerTransports(node);
  if (transports.size === 0) return undefined;
  const serviceMode = context.options.addressMode === 'service';
  const ports: InfrastructurePort[] = [];
  for (const [port, set] of transports) {
    const targetPort = serviceMode ? address.bindPorts?.get(port) : port;
    if (targetPort === undefined) continue;
    for (const protocol of ['TCP', 'UDP'] as const)
      if (set.has(protocol)) ports.push({ name: `${protocol.toLowerCase()}-${port}`, protocol, port, targetPort });
  }
  const addressType = address.address.includes(':') ? 'IPv6' : 'IPv4';
  const candidates = serviceMode ? dataPlaneAddresses(node, context, addressType) : [address.address];
  const addresses = candidates.filter((a) => endpointAddressProblem(a) === undefined);
  const refused = candidates.filter((a) => endpointAddressProblem(a) !== undefined);
  const uid = stringAt(objectAt(node.source.metadata).uid);
  const draft: InfrastructureDraft = {
    owner: uid === undefined ? { name: node.name } : { name: node.name, uid },
    labels: { ...serviceLabels(node, infrastructure), [INFRASTRUCTURE_LABEL]: INFRASTRUCTURE_VALUE },
    annotations: { ...infrastructure.annotations, [GATEWAY_ANNOTATION]: node.key },
    ports,
    addressType,
    addresses,
  };
  if (refused.length > 0)
    draft.unusable = `${refused.map((a) => `${a} is ${endpointAddressProblem(a)}`).join('; ')}, which an EndpointSlice cannot hold: the Service has no endpoint there`;
  return draft;
}

/** `TranslateResult.infrastructure`: the objects of every Gateway of a class in the mode, in precedence order. */
export function gatewayNamespaceObjects(
  gateways: readonly GatewayNode[],
  context: TranslateContext,
): GatewayNamespaceObjects[] {
  const out: GatewayNamespaceObjects[] = [];
  const taken = new Set<string>();
  for (const node of gateways) {
    const infrastructure = node.infrastructure;
    if (infrastructure === undefined || infrastructure.mode !== 'GatewayNamespace') continue;
    // In precedence order: the older Gateway keeps the plain name when two would share it.
    let name = infrastructureNameOf(node.name, infrastructure.className);
    if (taken.has(namespacedKey(node.namespace, name)))
      name = infrastructureNameOf(node.name, infrastructure.className, true);
    taken.add(namespacedKey(node.namespace, name));
    const objects: GatewayNamespaceObjects = { gateway: node.key, namespace: node.namespace, name };
    const desired = buildDraft(node, context);
    if (desired !== undefined) objects.desired = desired;
    out.push(objects);
  }
  return out;
}

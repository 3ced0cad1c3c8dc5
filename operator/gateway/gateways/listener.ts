// Gateway `spec.listeners[]` → listener nodes: each field checked (protocol, port, hostname, tls and its
// certificates, allowedRoutes), the route kinds it supports, which namespaces may attach. Conflicts between the
// listeners of a Gateway are found afterwards, in `detectListenerConflicts` (listener-conflicts.ts), because they need
// every listener.

import type { ExternalAuth } from '../../../shared/ir/auth.ts';
import type { CertificateRecord, ListenerProtocol, ListenerTlsOptions } from '../../../shared/ir/listener.ts';
import type { BackendSpec } from '../backends/backend.ts';
import { listenerKey, listenerSetListenerKey } from '../../../shared/ir/keys.ts';
import { checkHostname, checkPort } from '../../../shared/validation/fields.ts';
import { parseTlsOptions } from '../../../shared/validation/tls-options.ts';
import { resolveCertificateRef } from '../certificate.ts';
import type { TranslateContext } from '../context.ts';
import { labelsOfNamespace } from '../context.ts';
import { applyListenerFilters } from './listener-filters.ts';
import { at, listAt, objectAt, show, stringAt } from '../read.ts';
import { GATEWAY_GROUP } from '../referencegrant.ts';
import { matchesLabels, parseLabelSelector } from '../selector.ts';
import type { LabelSelector } from '../selector.ts';
import type { RouteGroupKind } from '../status.ts';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
export type ListenerRejection =
  | 'PortUnavailable'
  | 'UnsupportedProtocol'
  | 'UnsupportedValue'
  | 'NoValidCACertificate'
  | 'InvalidListenerFilter';
export type ConflictReason = 'HostnameConflict' | 'ProtocolConflict';
export type ListenerRefProblem =
  | 'InvalidCertificateRef'
  | 'RefNotPermitted'
  | 'InvalidRouteKinds'
  | 'InvalidCACertificateRef'
  | 'InvalidCACertificateKind'
  | 'InvalidListenerFilterRef';

/** Route kinds each protocol can carry, in the order they are listed in `supportedKinds` by default. */
const KINDS_OF_PROTOCOL: Record<ListenerProtocol, readonly RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

/** The feature a protocol needs beyond core Gateway support. */
const FEATURE_OF_PROTOCOL: Record<ListenerProtocol, string | undefined> = {
  HTTP: undefined,
  HTTPS: undefined,
  TLS: 'TLSRoute',
  TCP: 'TCPRoute',
  UDP: 'UDPRoute',
};

export interface ListenerNode {
  /** IR key: `<namespace>/<gateway>/<listener name>` (a ListenerSet's: `listenerset/<namespace>/<set>/<listener>`). */
  key: string;
  gatewayNamespace: string;
  gatewayName: string;
  /** Set for a listener of a ListenerSet: the set it belongs to (its namespace is the one `Same` means). */
  owner?: { namespace: string; name: string };
  name: string;
  /** `spec.listeners[index]`, for messages. */
  field: string;
  port: number;
  protocol: ListenerProtocol;
  hostname: string | undefined;
  tlsMode: 'Terminate' | 'Passthrough' | undefined;
  /** `tls.options`, when it sets any (the TLS defaults otherwise). */
  tlsOptions?: ListenerTlsOptions;
  certificates: CertificateRecord[];
  supportedKinds: RouteGroupKind[];
  allowedFrom: 'Same' | 'All' | 'Selector';
  allowedSelector: LabelSelector;
  /** Set when the listener is not accepted (Accepted=False with this reason). */
  rejection?: { reason: ListenerRejection; message: string };
  conflict?: { reason: ConflictReason; message: string };
  /** ResolvedRefs=False problems (certificate references, route kinds), first reason wins. */
  refProblems: Array<{ reason: ListenerRefProblem; message: string }>;
  /** `spec.tls.frontend` validation that applies to this (HTTPS) listener; see frontendtls.ts. */
  clientValidation?: { caCertificates: string[]; mode: 'AllowValidOnly' | 'AllowInsecureFallback' };
  /** Other listeners of the Gateway whose TLS hostnames overlap this one's (OverlappingTLSConfig). */
  overlapsWith: string[];
  /** Routes attached (Accepted=True for a parentRef selecting this listener); filled by the route passes. */
  attachedRoutes: number;
  /** `filters.requests[]` ExternalAuth entries, in order (listener-filters.ts); absent: none. */
  externalAuth?: ExternalAuth[];
  /** The authorizer backends those entries resolved to, by key: their records go into the IR with the listener. */
  authBackends: Map<string, BackendSpec>;
}

const PROTOCOLS = new Set<string>(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP']);

/** Accepted=False for this reason (the first one given wins); a refused listener admits no route kind. */
export function rejectListener(node: ListenerNode, reason: ListenerRejection, message: string): ListenerNode {
  node.rejection ??= { reason, message };
  node.supportedKinds = [];
  return node;
}

function buildSupportedKinds(
  node: ListenerNode,
  allowedRoutes: Record<string, unknown>,
  context: TranslateContext,
): void {
  const possible = KINDS_OF_PROTOCOL[node.protocol].filter((k) => context.options.supportedFeatures.has(k));
  const requested = allowedRoutes.kinds;
  if (requested === undefined || (Array.isArray(requested) && requested.length === 0)) {
    node.supportedKinds = possible.map((kind) => ({ group: GATEWAY_GROUP, kind }));
    return;
  }
  const kinds: RouteGroupKind[] = [];
  const invalid: string[] = [];
  for (const entry of listAt(requested)) {
    const e = objectAt(entry);
    const group = e.group === undefined ? GATEWAY_GROUP : stringAt(e.group);
    const kind = stringAt(e.kind);
    if (group === GATEWAY_GROUP && kind !== undefined && (possible as readonly string[]).includes(kind)) {
      if (!kinds.some((k) => k.kind === kind)) kinds.push({ group, kind });
    } else invalid.push(`${show(group)}/${show(kind)}`);
  }
  if (!Array.isArray(requested)) invalid.push(show(requested));
  node.supportedKinds = kinds;
  if (invalid.length > 0) {
    node.refProblems.push({
      reason: 'InvalidRouteKinds',
      message: `${node.field}.allowedRoutes.kinds: ${invalid.join(', ')} cannot attach to ${node.protocol} listeners (supported: ${possible.join(', ') || 'none'})`,
    });
  }
}

function applyAllowedNamespaces(node: ListenerNode, allowedRoutes: Record<string, unknown>): void {
  const namespaces = objectAt(allowedRoutes.namespaces);
  const from = namespaces.from === undefined ? 'Same' : namespaces.from;
  const field = `${node.field}.allowedRoutes.namespaces`;
  if (from === 'Same' || from === 'All') node.allowedFrom = from;
  else if (from === 'Selector') {
    const parsed = parseLabelSelector(namespaces.selector, `${field}.selector`);
    if (parsed.ok) {
      node.allowedFrom = 'Selector';
      node.allowedSelector = parsed.selector;
    } else rejectListener(node, 'UnsupportedValue', parsed.message);
  } else rejectListener(node, 'UnsupportedValue', `${field}.from must be Same, All or Selector; it is ${show(from)}`);
}

function applyTls(node: ListenerNode, raw: Record<string, unknown>, context: TranslateContext): void {
  const tls = raw.tls;
  const field = `${node.field}.tls`;
  if (node.protocol === 'HTTP' || node.protocol === 'TCP' || node.protocol === 'UDP') {
    if (tls !== undefined)
      rejectListener(node, 'UnsupportedValue', `${field} must not be set for protocol ${node.protocol}`);
    return;
  }
  if (tls === undefined)
    return void rejectListener(node, 'UnsupportedValue', `${field} is required for protocol ${node.protocol}`);
  const t = objectAt(tls);
  const mode = t.mode === undefined ? 'Terminate' : t.mode;
  if (mode !== 'Terminate' && mode !== 'Passthrough') {
    return void rejectListener(
      node,
      'UnsupportedValue',
      `${field}.mode must be Terminate or Passthrough; it is ${show(mode)}`,
    );
  }
  node.tlsMode = mode;
  if (node.protocol === 'HTTPS' && mode === 'Passthrough') {
    return void rejectListener(node, 'UnsupportedValue', `${field}.mode Passthrough is only allowed with protocol TLS`);
  }
  if (
    node.protocol === 'TLS' &&
    mode === 'Terminate' &&
    !context.options.supportedFeatures.has('TLSRouteModeTerminate')
  ) {
    return void rejectListener(node, 'UnsupportedValue', `${field}.mode Terminate is not supported for TLS listeners`);
  }
  // TLS overrides (shared/validation/tls-options.ts): a policy that cannot be applied as written is not served.
  const options = parseTlsOptions(t.options, `${field}.options`);
  if (!options.ok) return void rejectListener(node, 'UnsupportedValue', options.message);
  if (options.options !== undefined && mode === 'Passthrough')
    return void rejectListener(
      node,
      'UnsupportedValue',
      `${field}.options apply only where TLS terminates, not to Passthrough`,
    );
  node.tlsOptions = options.options;
  if (mode === 'Passthrough') return; // certificateRefs are ignored (Gateway API ListenerTLSConfig)
  const refs = listAt(t.certificateRefs);
  if (refs.length === 0) {
    node.refProblems.push({
      reason: 'InvalidCertificateRef',
      message: `${field}.certificateRefs needs at least one certificate to terminate TLS`,
    });
  }
  for (const [i, ref] of refs.entries()) {
    const referrer =
      node.owner === undefined
        ? { namespace: node.gatewayNamespace }
        : { namespace: node.owner.namespace, kind: 'ListenerSet' as const };
    const resolved = resolveCertificateRef(context, ref, at(field, 'certificateRefs', i), referrer);
    if (resolved.ok) {
      if (!node.certificates.some((c) => c.key === resolved.record.key)) node.certificates.push(resolved.record);
    } else node.refProblems.push({ reason: resolved.reason, message: resolved.message });
  }
}

/**
 * Builds one listener node; `raw` is `spec.listeners[index]` (of the Gateway, or of `owner`, a ListenerSet attached to
 * it), already known to carry a name.
 */
export function buildListenerNode(
  context: TranslateContext,
  gateway: { namespace: string; name: string },
  raw: Record<string, unknown>,
  name: string,
  index: number,
  owner?: { namespace: string; name: string },
): ListenerNode {
  const field = `spec.listeners[${index}]`;
  const node: ListenerNode = {
    key:
      owner === undefined
        ? listenerKey(gateway.namespace, gateway.name, name)
        : listenerSetListenerKey(owner.namespace, owner.name, name),
    gatewayNamespace: gateway.namespace,
    gatewayName: gateway.name,
    name,
    field,
    port: 0,
    protocol: 'HTTP',
    hostname: undefined,
    tlsMode: undefined,
    certificates: [],
    supportedKinds: [],
    allowedFrom: 'Same',
    allowedSelector: [],
    refProblems: [],
    overlapsWith: [],
    attachedRoutes: 0,
    authBackends: new Map(),
  };
  if (owner !== undefined) node.owner = owner;
  const protocol = stringAt(raw.protocol);
  if (protocol === undefined || !PROTOCOLS.has(protocol)) {
    return rejectListener(
      node,
      'UnsupportedProtocol',
      `${field}.protocol ${show(raw.protocol)} is not supported (supported: HTTP, HTTPS, TLS, TCP, UDP)`,
    );
  }
  node.protocol = protocol as ListenerProtocol;
  const feature = FEATURE_OF_PROTOCOL[node.protocol];
  if (feature !== undefined && !context.options.supportedFeatures.has(feature)) {
    return rejectListener(
      node,
      'UnsupportedProtocol',
      `${field}.protocol ${protocol} is not supported by this installation`,
    );
  }
  const portProblem = checkPort(raw.port);
  if (portProblem !== null)
    return rejectListener(node, 'PortUnavailable', `${field}.port ${show(raw.port)} ${portProblem}`);
  node.port = raw.port as number;
  if (raw.hostname !== undefined && node.protocol !== 'TCP' && node.protocol !== 'UDP') {
    const problem = checkHostname(raw.hostname);
    if (problem !== null)
      return rejectListener(node, 'UnsupportedValue', `${field}.hostname ${show(raw.hostname)} ${problem}`);
    node.hostname = raw.hostname as string;
  }
  const allowedRoutes = objectAt(raw.allowedRoutes);
  buildSupportedKinds(node, allowedRoutes, context);
  applyAllowedNamespaces(node, allowedRoutes);
  if (node.rejection === undefined) applyTls(node, raw, context);
  applyListenerFilters(node, raw, context);
  return node;
}

/** Does this listener let a route of `kind` from `namespace` attach (allowedRoutes kinds and namespaces)? */
export function allowsRoute(
  context: TranslateContext,
  listener: ListenerNode,
  kind: RouteKind,
  namespace: string,
): boolean {
  if (!listener.supportedKinds.some((k) => k.kind === kind)) return false;
  switch (listener.allowedFrom) {
    case 'All':
      return true;
    case 'Same':
      return namespace === (listener.owner?.namespace ?? listener.gatewayNamespace);
    case 'Selector':
      return matchesLabels(listener.allowedSelector, labelsOfNamespace(context, namespace));
    default: {
      const never: never = listener.allowedFrom;
      return never;
    }
  }
}

/** Can this listener go into the IR (as far as the listener itself is concerned)? */
export function isListenerServable(listener: ListenerNode): boolean {
  if (listener.rejection !== undefined || listener.conflict !== undefined) return false;
  return listener.tlsMode !== 'Terminate' || listener.certificates.length > 0;
}

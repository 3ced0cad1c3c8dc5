// Gateway and ListenerSet `spec.listeners[].filters.requests[]` (GEP-5224, GatewayListenerFilters) → the listener's
// pre-routing external authorization (IR `Listener.externalAuth`, in list order), its refusal, or its reference
// problems:
//   - ExternalAuth with a usable backendRef: Accepted, programmed; the data plane asks the authorizer before it
//     matches a route.
//   - ExternalAuth whose backendRef does not resolve: ResolvedRefs=False InvalidListenerFilterRef (RefNotPermitted
//     across namespaces without a grant); the listener stays programmed and answers every request 500 (fail closed).
//     It is kept rather than dropped so that it keeps its hostname: dropped, its requests would fall through to a
//     wider listener on the same port (a `*` listener without the filter) and be served unauthorized.
//   - ExtensionRef (no extension filter exists), or an installation without GatewayListenerFilters: Accepted=False
//     UnsupportedValue, not programmed (GEP-5224 "unsupported-filter rejection": never skipped).
//   - An ExternalAuth whose settings cannot be honoured, or filters on a listener that is not HTTP or HTTPS:
//     Accepted=False InvalidListenerFilter, not programmed.
// Must not: resolve anything but the filters' backendRefs.

import type { ExternalAuth } from '../../../shared/ir/auth.ts';
import type { BackendSpec } from '../backends/backend.ts';
import type { TranslateContext } from '../context.ts';
import { readExternalAuth, resolveAuthBackend } from '../backends/external-auth.ts';
import { at, listAt, objectAt, show } from '../read.ts';
import type { ListenerNode } from './listener.ts';

const FEATURE = 'GatewayListenerFilters';

/** One `filters.requests[]` ExternalAuth entry → its IR record (backendKey null when the reference fails). */
function buildAuthFilter(
  context: TranslateContext,
  node: ListenerNode,
  raw: unknown,
  where: string,
): ExternalAuth | undefined {
  const field = `${where}.externalAuth`;
  const config = readExternalAuth(raw, field);
  if (config.problem !== undefined) {
    node.rejection ??= { reason: 'InvalidListenerFilter', message: config.problem };
    return undefined;
  }
  const referrer = {
    kind: node.owner === undefined ? 'Gateway' : 'ListenerSet',
    namespace: node.owner?.namespace ?? node.gatewayNamespace,
  };
  const resolved = resolveAuthBackend(context, raw, field, referrer, config.auth.protocol);
  if (resolved.key === null) {
    const reason = resolved.problem.reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidListenerFilterRef';
    node.refProblems.push({ reason, message: resolved.problem.message });
    return { ...config.auth, backendKey: null };
  }
  node.authBackends.set(resolved.key, resolved.spec);
  return { ...config.auth, backendKey: resolved.key };
}

/** Reads the listener's request filters into `node` (its externalAuth list, refusal, reference problems). */
export function applyListenerFilters(
  node: ListenerNode,
  raw: Record<string, unknown>,
  context: TranslateContext,
): void {
  if (raw.filters === undefined) return;
  const field = `${node.field}.filters.requests`;
  const requests = listAt(objectAt(raw.filters).requests);
  if (requests.length === 0) return;
  if (!context.options.supportedFeatures.has(FEATURE)) {
    node.rejection ??= {
      reason: 'UnsupportedValue',
      message: `${field}: listener request filters are not supported by this installation (feature ${FEATURE}), so the listener is not served (its requests would go unfiltered)`,
    };
    node.supportedKinds = [];
    return;
  }
  if (node.protocol !== 'HTTP' && node.protocol !== 'HTTPS') {
    node.rejection ??= {
      reason: 'InvalidListenerFilter',
      message: `${node.field}.filters may only be set when protocol is HTTP or HTTPS; it is ${node.protocol}`,
    };
    node.supportedKinds = [];
    return;
  }
  const auth: ExternalAuth[] = [];
  for (const [i, entry] of requests.entries()) {
    const filter = objectAt(entry);
    const where = at(field, i);
    if (filter.type === 'ExternalAuth') {
      const record = buildAuthFilter(context, node, filter.externalAuth, where);
      if (record !== undefined) auth.push(record);
    } else if (filter.type === 'ExtensionRef') {
      const ref = objectAt(filter.extensionRef);
      const what = `${show(ref.group)}/${show(ref.kind)} ${show(ref.name)}`;
      node.refProblems.push({
        reason: 'InvalidListenerFilterRef',
        message: `${where}.extensionRef ${what} cannot be resolved: no extension filters are supported`,
      });
      node.rejection ??= {
        reason: 'UnsupportedValue',
        message: `${where} ExtensionRef ${what}: extension filters are not supported, so the listener is not served (GEP-5224: a filter is never skipped)`,
      };
    } else {
      node.rejection ??= {
        reason: 'UnsupportedValue',
        message: `${where}.type ${show(filter.type)} is not a supported listener filter (ExternalAuth, ExtensionRef)`,
      };
    }
  }
  if (node.rejection !== undefined) {
    node.supportedKinds = [];
    node.authBackends.clear();
    return;
  }
  node.externalAuth = auth;
}

/** The authorizer backends of listeners that go into the IR (their records must go in too). */
export function authBackendSpecs(listener: ListenerNode, into: Map<string, BackendSpec>): void {
  for (const [key, spec] of listener.authBackends) into.set(key, spec);
}

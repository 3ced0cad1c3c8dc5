// Route backendRefs → IR Backend records: a Service port with its ready endpoints, reached with one protocol.
// A reference that cannot be used resolves to a ResolvedRefs=False condition (the reasons Gateway API defines:
// InvalidKind, RefNotPermitted, BackendNotFound, UnsupportedProtocol) and no record; the caller puts `backendKey:
// null` in its place so that its share of requests gets 500. A Service without EndpointSlices is a valid backend with
// no endpoints (503 at run time). Resolving a reference decides the backend (key, protocol, TLS: `BackendSpec`);
// its endpoints are added when the IR is assembled (`buildBackendRecord`), so route translation never reads them.

import type { Backend, BackendProtocol, BackendTls } from '../../../shared/ir/backend.ts';
import { serviceBackendKey } from '../../../shared/ir/keys.ts';
import type { SessionPersistence } from '../../../shared/ir/route.ts';
import { checkPort } from '../../../shared/validation/fields.ts';
import {
  routeBackendNotFound,
  routeInvalidKind,
  routeRefNotPermitted,
  routeUnsupportedProtocol,
} from '../conditions.ts';
import type { ConditionDraft } from '../conditions.ts';
import { resolveBackendTls } from '../policies/backendtlspolicy.ts';
import { namespacedKey } from '../keys.ts';
import { servicePortKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import { integerAt, nonEmptyString, objectAt, show, stringAt } from '../read.ts';
import { GATEWAY_GROUP, isReferenceAllowed } from '../referencegrant.ts';
import { findServicePort, resolveEndpoints } from '../service-endpoints.ts';
import type { ServicePort } from '../service-endpoints.ts';

export type { ServicePort };

/**
 * How the route kind talks to its backends: HTTPRoute over HTTP (version from appProtocol), GRPCRoute over h2c,
 * TLSRoute and TCPRoute over a byte stream (a TLSRoute's may be TLS: a Terminate listener re-encrypts to a backend
 * under a BackendTLSPolicy), UDPRoute over datagrams.
 */
export type BackendFamily = 'http' | 'grpc' | 'tls' | 'tcp' | 'udp';

/**
 * What a reference resolved to: the backend's key and spec, or the problem. `tlsPort`: the Service port it reaches
 * (HTTP, gRPC and TLSRoute references) when a BackendTLSPolicy targets it, whether or not the policy can be met —
 * the policy's ancestors are the Gateways of the routes that reach it.
 */
export type BackendResolution =
  | { key: string; spec: BackendSpec; problem?: undefined; tlsPort?: string }
  | { key: null; problem: ConditionDraft; tlsPort?: string };

export interface ReferringRoute {
  kind: string;
  namespace: string;
}

/** appProtocol values (KEP-3726 and common IANA names) and what each means per family; absent = not supported. */
const HTTP_APP_PROTOCOLS: Record<string, BackendProtocol> = {
  http: 'http1',
  'kubernetes.io/h2c': 'h2c',
  h2c: 'h2c',
  grpc: 'h2c',
  'kubernetes.io/ws': 'ws',
};
const GRPC_APP_PROTOCOLS: Record<string, BackendProtocol> = { 'kubernetes.io/h2c': 'h2c', h2c: 'h2c', grpc: 'h2c' };
/** appProtocols that mean TLS to the backend: usable only when a BackendTLSPolicy gives the TLS settings. */
const TLS_APP_PROTOCOLS: Record<string, BackendProtocol> = {
  https: 'http1',
  HTTPS: 'http1',
  'kubernetes.io/wss': 'ws',
};

function protocolFor(family: BackendFamily, appProtocol: string | undefined): BackendProtocol | undefined {
  switch (family) {
    case 'http':
      return appProtocol === undefined
        ? 'http1'
        : Object.hasOwn(HTTP_APP_PROTOCOLS, appProtocol)
          ? HTTP_APP_PROTOCOLS[appProtocol]
          : undefined;
    case 'grpc':
      return appProtocol === undefined
        ? 'h2c'
        : Object.hasOwn(GRPC_APP_PROTOCOLS, appProtocol)
          ? GRPC_APP_PROTOCOLS[appProtocol]
          : undefined;
    case 'tls':
    case 'tcp':
      return 'tcp';
    case 'udp':
      return 'udp';
    default: {
      const never: never = family;
      return never;
    }
  }
}

/**
 * A Service port as routes reach it (one protocol), without its endpoints: what route translation decides. The
 * endpoints come from EndpointSlices, which change far more often than routes; they are resolved once per backend
 * that goes into the IR (`buildBackendRecord`), so that endpoint churn never needs a route translated again.
 */
export interface BackendSpec {
  key: string;
  namespace: string;
  name: string;
  port: number;
  protocol: BackendProtocol;
  servicePort: ServicePort;
  tls?: BackendTls;
}

/**
 * Resolves one `backendRefs[]` entry (or a RequestMirror `backendRef`) of a route. `field` names the entry in
 * messages, e.g. `spec.rules[0].backendRefs[1]`.
 */
export function resolveBackendRef(
  context: TranslateContext,
  ref: unknown,
  field: string,
  route: ReferringRoute,
  family: BackendFamily,
): BackendResolution {
  const r = objectAt(ref);
  const group = r.group === undefined ? '' : stringAt(r.group);
  const kind = r.kind === undefined ? 'Service' : stringAt(r.kind);
  const name = nonEmptyString(r.name);
  if (group !== '' || kind !== 'Service') {
    return {
      key: null,
      problem: routeInvalidKind(`${field} refers to ${show(group)}/${show(kind)}; only core Services are supported`),
    };
  }
  if (name === undefined)
    return { key: null, problem: routeBackendNotFound(`${field}.name must name a Service; it is ${show(r.name)}`) };
  const namespace = r.namespace === undefined ? route.namespace : nonEmptyString(r.namespace);
  if (namespace === undefined)
    return { key: null, problem: routeBackendNotFound(`${field}.namespace ${show(r.namespace)} is not a namespace`) };
  const from = { group: GATEWAY_GROUP, kind: route.kind, namespace: route.namespace };
  if (!isReferenceAllowed(context.grants, from, { group: '', kind: 'Service', namespace, name })) {
    return {
      key: null,
      problem: routeRefNotPermitted(
        `${field} refers to Service ${namespace}/${name}, and no ReferenceGrant in ${namespace} allows ${route.kind}s from ${route.namespace} to refer to it`,
      ),
    };
  }
  const port = integerAt(r.port);
  if (port === undefined || checkPort(port) !== null) {
    return {
      key: null,
      problem: routeBackendNotFound(
        `${field}.port must be a port number (1-65535) of Service ${namespace}/${name}; it is ${show(r.port)}`,
      ),
    };
  }
  const service = context.services.get(namespacedKey(namespace, name));
  if (service === undefined)
    return {
      key: null,
      problem: routeBackendNotFound(`${field} refers to Service ${namespace}/${name}, which does not exist`),
    };
  if (stringAt(objectAt(service.spec).type) === 'ExternalName') {
    return {
      key: null,
      problem: routeInvalidKind(
        `${field} refers to Service ${namespace}/${name} of type ExternalName, which is not supported`,
      ),
    };
  }
  const wantedTransport = family === 'udp' ? 'UDP' : 'TCP';
  const servicePort = findServicePort(service, port, wantedTransport);
  if (servicePort === undefined)
    return { key: null, problem: routeBackendNotFound(`${field}: Service ${namespace}/${name} has no port ${port}`) };
  if (servicePort.protocol !== wantedTransport) {
    return {
      key: null,
      problem: routeUnsupportedProtocol(
        `${field}: port ${port} of Service ${namespace}/${name} is ${servicePort.protocol}; ${route.kind}s need ${wantedTransport}`,
      ),
    };
  }
  const tls = resolveBackendTls(context, namespace, name, servicePort.name);
  const tlsPort =
    family !== 'tcp' && family !== 'udp' && ('problem' in tls || tls.tls !== undefined)
      ? servicePortKey(namespace, name, servicePort.name)
      : undefined;
  if ('problem' in tls) return { key: null, problem: routeUnsupportedProtocol(`${field}: ${tls.problem}`), tlsPort };
  if (tls.tls !== undefined && (family === 'tcp' || family === 'udp')) {
    return {
      key: null,
      problem: routeUnsupportedProtocol(
        `${field}: Service ${namespace}/${name} port ${port} needs TLS (BackendTLSPolicy), which ${route.kind}s cannot originate`,
      ),
    };
  }
  const tlsProtocol =
    tls.tls !== undefined &&
    family === 'http' &&
    servicePort.appProtocol !== undefined &&
    Object.hasOwn(TLS_APP_PROTOCOLS, servicePort.appProtocol);
  const protocol = tlsProtocol
    ? TLS_APP_PROTOCOLS[servicePort.appProtocol as string]
    : protocolFor(family, servicePort.appProtocol);
  if (protocol === undefined) {
    return {
      key: null,
      problem: routeUnsupportedProtocol(
        `${field}: port ${port} of Service ${namespace}/${name} has appProtocol ${show(servicePort.appProtocol)}, which ${route.kind}s cannot speak`,
      ),
      tlsPort,
    };
  }
  const key = serviceBackendKey(namespace, name, port, protocol);
  const spec: BackendSpec = { key, namespace, name, port, protocol, servicePort };
  if (tls.tls !== undefined) spec.tls = tls.tls;
  return { key, spec, tlsPort };
}

/** The IR record of a backend: the spec and the ready endpoints of its Service port. */
export function buildBackendRecord(
  context: TranslateContext,
  spec: BackendSpec,
  session: SessionPersistence | undefined,
): Backend {
  const record: Backend = {
    key: spec.key,
    source: { kind: 'Service', namespace: spec.namespace, name: spec.name, port: spec.port },
    protocol: spec.protocol,
    endpoints: resolveEndpoints(context, spec.namespace, spec.name, spec.servicePort),
  };
  if (spec.tls !== undefined) record.tls = spec.tls;
  if (session !== undefined) record.sessionPersistence = session;
  return record;
}

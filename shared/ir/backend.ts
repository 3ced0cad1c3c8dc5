import type { SessionPersistence } from './route.ts';

// Backend records of the IR: a Service port (or another backend kind) with its ready endpoints. Routes refer to
// backends by key, so an endpoint change is one small record and no route is re-sent.

/** How the data plane talks to the backend; from the Service port's `appProtocol` or the route kind. */
export type BackendProtocol =
  | 'http1' // plain HTTP/1.1 (default for HTTPRoute)
  | 'h2c' // HTTP/2 prior knowledge without TLS (`appProtocol: kubernetes.io/h2c`, and GRPCRoute)
  | 'ws' // HTTP/1.1 with WebSocket upgrades expected (`appProtocol: kubernetes.io/ws`)
  | 'tcp' // raw stream (TCPRoute, TLSRoute passthrough)
  | 'udp'; // datagrams (UDPRoute)

export interface Endpoint {
  /** An IP address from an EndpointSlice (`endpoints[].addresses[0]`) whose `conditions.ready` is not false. */
  address: string;
  /** The resolved target port (`EndpointSlice.ports[].port` for the Service port's name). */
  port: number;
  /** Relative weight in the endpoint choice; 1 when absent. */
  weight?: number;
}

/** BackendTLSPolicy: the data plane originates TLS to the backend and verifies it. */
export interface BackendTls {
  /** `validation.hostname`: SNI and the name the certificate must carry. */
  hostname: string;
  /** PEM CA bundles from `validation.caCertificateRefs`; absent when `wellKnownCACertificates: System` is used. */
  caCertificates?: string[];
  /** `validation.subjectAltNames`: when present they replace the hostname check. */
  subjectAltNames?: Array<{ type: 'Hostname' | 'URI'; value: string }>;
  // The client certificate presented is not the backend's: it is the Gateway's, on the listener the request came in
  // on (`Listener.backendClientCertificateKey`), so one backend record serves every Gateway.
}

export interface Backend {
  /** Built by `backendKey()`: `<namespace>/<service>:<port>` for a Service port. */
  key: string;
  source: { kind: string; namespace: string; name: string; port: number };
  protocol: BackendProtocol;
  /** Ready endpoints. Empty means "no healthy upstream": requests get 503. */
  endpoints: Endpoint[];
  tls?: BackendTls;
  /**
   * The `sessionPersistence` of the XBackendTrafficPolicy that took the backend's Service. A rule's own
   * `sessionPersistence` takes precedence over it (the more specific setting, as GEP-1619 had it before it left the
   * intersection to implementations).
   */
  sessionPersistence?: SessionPersistence;
}

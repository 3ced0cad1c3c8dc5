// External authorization records of the IR (GEP-1494 `ExternalAuth`): one per HTTPRoute rule filter and one per
// `filters.requests[]` entry of a listener (GEP-5224, run before route matching). The authorizer is a backend record
// like any other (by key), so its endpoints follow its EndpointSlices without the route or listener being re-sent.
// Plain data only: this module has no I/O and imports nothing from operator/ or dataplane/.

/** `externalAuth.protocol`: Envoy's ext_authz v3 gRPC `Authorization/Check`, or a plain HTTP request. */
export type ExternalAuthProtocol = 'HTTP' | 'GRPC';

export interface ExternalAuth {
  protocol: ExternalAuthProtocol;
  /**
   * `externalAuth.backendRef`, resolved: the key of the authorizer's backend record (h2c for GRPC, http1 for HTTP).
   * null: the reference does not resolve (a listener filter keeps its listener, whose every request then answers
   * 500; a route rule with one answers 500 by itself and carries no filter).
   */
  backendKey: string | null;
  /** `http.path`: prefixed to the client's path in the request to an HTTP authorizer; '' for none. */
  pathPrefix: string;
  /**
   * `http.allowedHeaders` / `grpc.allowedHeaders`, lower case. HTTP: sent besides the ones always sent (Host, the
   * method and path, Content-Length, Authorization). GRPC: empty means every header.
   */
  allowedRequestHeaders: string[];
  /** `http.allowedResponseHeaders`, lower case: copied from an allowing answer to the upstream request; empty: all. */
  allowedResponseHeaders: string[];
  /** `forwardBody.maxSize`: bytes of the request body sent to the authorizer; 0: none. */
  forwardBodyMaxBytes: number;
  /** How long the authorizer has to answer; past it the request is refused (fail closed). Portico's own default. */
  timeoutMs: number;
}

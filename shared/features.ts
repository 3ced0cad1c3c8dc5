// Gateway API features (names from pkg/features of kubernetes-sigs/gateway-api v1.7.0) that Portico supports: the
// translator expresses them in the IR and the data plane serves them. The operator publishes this list on the
// GatewayClass (`status.supportedFeatures`) and the translator refuses, with a condition, what is outside it. Add a
// feature here only with golden cases for the translator, a test over real sockets that shows the data plane doing it,
// and its conformance tests passing in the committed report.
//
// A cluster whose CRDs are still v1.6.x gets the same capabilities under v1.6's names (`featuresForBundle`): its
// conformance suite (v1.6.1) knows only those, and the translator keeps v1.6's semantics for them.

export const SUPPORTED_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'ClusterTrustBundle',
  'Gateway',
  'GatewayAddressEmpty',
  'GatewayAddressRoutability',
  'GatewayAddressRoutabilityCluster',
  'GatewayBackendClientCertificate',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  // Listed only on classes in the opt-in GatewayInfrastructure mode (gatewayclass.ts): only those write its objects.
  'GatewayInfrastructure',
  'GatewayListenerFilters',
  'GatewayPort8080',
  'GatewayRouteHostnameIntersectionPrecedence',
  'GatewayStaticAddresses',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'GRPCRouteRequestHeaderModifier',
  'HTTPRoute',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendTimeout',
  'HTTPRouteBackendURLRewrite',
  'HTTPRouteCORS',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteRetryCodes',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteSchemeRedirect',
  'ListenerSet',
  'ReferenceGrant',
  'TCPRoute',
  'TLSRoute',
  'TLSRouteModeMixed',
  'TLSRouteModeTerminate',
  'UDPRoute',
];

/**
 * v1.7.0 renamed or removed these; a v1.6.x install names the same capability the old way. `HTTPRouteRetryCodes`
 * (v1.7: retry on the listed codes and on connection errors, never on a backend timeout, which may have been
 * processed) was v1.6's `HTTPRouteRetry`, and Portico's v1.6 retry on a backend timeout was `HTTPRouteRetryBackendTimeout`.
 * `GatewayInfrastructure` was `GatewayInfrastructurePropagation` (the same test of the same labels and annotations).
 */
const V1_6_NAMES: Readonly<Record<string, readonly string[]>> = {
  GatewayInfrastructure: ['GatewayInfrastructurePropagation'],
  HTTPRouteRetryCodes: ['HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout'],
  // New in v1.7 (GEP-5224): v1.6's CRDs have no listener filters, and its suite no such name.
  GatewayListenerFilters: [],
  // New in v1.7 with their fields (GEP-5093 `routability`, GEP-5075): v1.6 CRDs have neither, nothing to claim.
  GatewayAddressRoutability: [],
  GatewayAddressRoutabilityCluster: [],
  ClusterTrustBundle: [],
};

/** The bundle version's minor (`v1.6.1` → 6); undefined when it is not a v1 release. */
export function bundleMinor(bundleVersion: string | undefined): number | undefined {
  const match = /^v1\.(\d+)\./.exec(bundleVersion ?? '');
  return match === null ? undefined : Number(match[1]);
}

/**
 * The supported features under the names the installed CRDs' release uses: v1.6's names for a v1.6.x (or older)
 * bundle, v1.7's otherwise (unknown or newer bundles included).
 */
export function featuresForBundle(bundleVersion: string | undefined): readonly string[] {
  const minor = bundleMinor(bundleVersion);
  if (minor === undefined || minor >= 7) return SUPPORTED_FEATURES;
  return SUPPORTED_FEATURES.flatMap((name) => V1_6_NAMES[name] ?? [name]).sort();
}

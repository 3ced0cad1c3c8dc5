// Translator options: everything outside the resources that changes the output (controller identity, the clock, the
// address pool, the features the whole system supports). Plain, structured-cloneable data, so that the same options
// travel to a piscina worker unchanged.

/** Gateway API feature names (pkg/features in kubernetes-sigs/gateway-api v1.6.1) the translator can express in the IR. */
export const TRANSLATABLE_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'Gateway',
  'GatewayAddressEmpty',
  'GatewayBackendClientCertificate',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayPort8080',
  'GatewayStaticAddresses',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'HTTPRoute',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendTimeout',
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
  'HTTPRouteRetry',
  'HTTPRouteRetryBackendTimeout',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteSchemeRedirect',
  'ReferenceGrant',
  'TCPRoute',
  'TLSRoute',
  'TLSRouteModeMixed',
  'TLSRouteModeTerminate',
  'UDPRoute',
];

export const DEFAULT_CONTROLLER_NAME = 'portico.dev/gateway-controller';
export const DEFAULT_ADDRESS_POOL = '127.10.0.0/16';

/** Addresses handed out by the pool, by Gateway (`<namespace>/<name>`): the result of one run, the input of the next. */
export type AddressAllocations = Record<string, string>;

export interface TranslateOptions {
  /** GatewayClasses whose `spec.controllerName` equals this are ours; route status entries carry it. */
  controllerName?: string;
  /** The clock, read once: every condition written in this run gets it as `lastTransitionTime`. */
  now?: Date | string;
  /** IPv4 CIDR the standalone address pool hands Gateway addresses out of (and that `spec.addresses` must lie in). */
  addressPool?: string;
  /** What the previous run handed out, so that a Gateway keeps its address. */
  previousAddresses?: AddressAllocations;
  /**
   * Features the whole system (translator and data plane) supports; published on the GatewayClass and used to
   * refuse what is not supported (an unsupported listener protocol, route kind or filter gets a condition).
   */
  supportedFeatures?: readonly string[];
  /** `gateway.networking.k8s.io/bundle-version` of the installed CRDs, when the operator knows it. */
  crdBundleVersion?: string;
}

export interface ResolvedOptions {
  controllerName: string;
  /** RFC 3339, seconds precision (`metav1.Time`). */
  now: string;
  addressPool: string;
  previousAddresses: AddressAllocations;
  supportedFeatures: ReadonlySet<string>;
  /** Sorted, for the GatewayClass status. */
  supportedFeatureList: readonly string[];
  crdBundleVersion: string | undefined;
}

/** A clock value as conditions carry it (RFC 3339, seconds); the epoch when absent or invalid. */
export function timestamp(now: Date | string | undefined): string {
  const date = now === undefined ? new Date(0) : new Date(now);
  const ms = date.getTime();
  return (Number.isFinite(ms) ? date : new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Fills in defaults. Without `now` the clock is the epoch rather than the wall clock: the translator must not read
 * ambient state, so a caller that forgets the clock gets an obviously wrong time rather than a nondeterministic one.
 */
export function resolveOptions(options: TranslateOptions = {}): ResolvedOptions {
  const features = [...new Set(options.supportedFeatures ?? TRANSLATABLE_FEATURES)].filter((f) => typeof f === 'string').sort();
  const previous: AddressAllocations = {};
  for (const [gateway, address] of Object.entries(options.previousAddresses ?? {})) {
    if (typeof address === 'string') previous[gateway] = address;
  }
  return {
    controllerName: options.controllerName ?? DEFAULT_CONTROLLER_NAME,
    now: timestamp(options.now),
    addressPool: options.addressPool ?? DEFAULT_ADDRESS_POOL,
    previousAddresses: previous,
    supportedFeatures: new Set(features),
    supportedFeatureList: features,
    crdBundleVersion: options.crdBundleVersion,
  };
}

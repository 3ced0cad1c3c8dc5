// The lists schema-walk.test.ts judges the CRD fields against; each entry says why. Review a change here as you would
// a change of behaviour: an entry moved out of KNOWN_GAPS is a field now implemented or refused.

/** Gateway API kinds Portico does not watch: it writes no status for them (documented, not silently half-read). */
export const NOT_READ: Record<string, string> = {
  XBackend: 'experimental backend kind (gateway.networking.x-k8s.io); a backendRef to it is refused as InvalidKind',
  XMesh: 'mesh (GAMMA) is out of scope: Portico is a gateway',
};

/** Fields that change nothing observable in the translation, on purpose. Covers the fields below each entry. */
export const ALLOWED: Record<string, string> = {
  'GatewayClass spec.description': 'free text for humans; nothing reads it',
  'TCPRoute spec.rules[].name': 'names the rule for status and policies; no Portico policy targets one, no L4 IR field',
  'TLSRoute spec.rules[].name': 'names the rule for status and policies; no Portico policy targets one, no L4 IR field',
  'UDPRoute spec.rules[].name': 'names the rule for status and policies; no Portico policy targets one, no L4 IR field',
};

/** Fields refused with the condition their GEP or API doc names; a golden case shows it. Covers their fields. */
export const REFUSED: Record<string, { reason: string; why: string }> = {
  'Gateway spec.infrastructure.parametersRef': {
    reason: 'InvalidParameters',
    why: 'a Gateway takes no parameters (its GatewayClass may name a ConfigMap)',
  },
  'HTTPRoute spec.rules[].backendRefs[].filters[].externalAuth': {
    reason: 'UnsupportedValue',
    why: 'GEP-1494 on a backendRef (authorization that depends on the weighted pick): the rule is dropped',
  },
  'Gateway spec.listeners[].filters.requests[].extensionRef': {
    reason: 'UnsupportedValue',
    why: 'GEP-5224: no extension filter exists, and a filter is never skipped: the listener is refused',
  },
  'ListenerSet spec.listeners[].filters.requests[].extensionRef': {
    reason: 'UnsupportedValue',
    why: 'GEP-5224, on a ListenerSet listener: refused and not programmed',
  },
  'XBackendTrafficPolicy spec.retryConstraint': {
    reason: 'Invalid',
    why: 'retry budgets are not enforced: the policy is refused rather than accepted with its limit dropped',
  },
  'BackendTLSPolicy spec.options': {
    reason: 'Invalid',
    why: 'implementation-specific options, none defined for backends: the policy is refused, its backends answer 500',
  },
  'GRPCRoute spec.rules[].filters[].extensionRef': {
    reason: 'InvalidKind',
    why: 'no extension filter exists: ResolvedRefs=False, and the requests it would handle answer 500',
  },
  'GRPCRoute spec.rules[].backendRefs[].filters[].extensionRef': {
    reason: 'InvalidKind',
    why: 'no extension filter exists: that backend share answers 500',
  },
  'HTTPRoute spec.rules[].filters[].extensionRef': {
    reason: 'InvalidKind',
    why: 'no extension filter exists: ResolvedRefs=False, and the requests it would handle answer 500',
  },
  'HTTPRoute spec.rules[].backendRefs[].filters[].extensionRef': {
    reason: 'InvalidKind',
    why: 'no extension filter exists: that backend share answers 500',
  },
};

/** What the walk finds neither implemented nor refused nor allowed, as `Kind path (verdict)`: the work left. */
export const KNOWN_GAPS: Record<string, string> = {};

/**
 * Fields no case shows applied: changing them only makes a refusal come or go, or a record appear or disappear
 * (references that resolve or not, attachment, selectors that admit or not). They are read and checked; a field
 * validated and then dropped would look the same, so this list is exact too: review what enters it.
 */
export const CHECKED_ONLY: string[] = [
  'GRPCRoute spec.parentRefs[].group',
  'GRPCRoute spec.parentRefs[].kind',
  'GRPCRoute spec.parentRefs[].name',
  'GRPCRoute spec.parentRefs[].namespace',
  'GRPCRoute spec.parentRefs[].port',
  // Switching a GRPCRoute case between Cookie and Header leaves the other type's block behind, which is refused;
  // HTTPRoute's cases show the same code applying it.
  'GRPCRoute spec.rules[].sessionPersistence.type',
  'GRPCRoute spec.useDefaultGateways',
  'Gateway spec.allowedListeners.namespaces.selector',
  'Gateway spec.allowedListeners.namespaces.selector.matchExpressions',
  'Gateway spec.allowedListeners.namespaces.selector.matchExpressions[].key',
  'Gateway spec.allowedListeners.namespaces.selector.matchExpressions[].operator',
  'Gateway spec.allowedListeners.namespaces.selector.matchExpressions[].values',
  'Gateway spec.allowedListeners.namespaces.selector.matchLabels',
  'Gateway spec.infrastructure',
  'Gateway spec.infrastructure.annotations',
  'Gateway spec.infrastructure.labels',
  'Gateway spec.listeners[].allowedRoutes.kinds',
  'Gateway spec.listeners[].allowedRoutes.kinds[].group',
  'Gateway spec.listeners[].allowedRoutes.kinds[].kind',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].key',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].operator',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].values',
  'Gateway spec.listeners[].allowedRoutes.namespaces.selector.matchLabels',
  'Gateway spec.listeners[].filters.requests[].externalAuth.protocol',
  'Gateway spec.listeners[].filters.requests[].type',
  'Gateway spec.listeners[].tls.certificateRefs',
  'Gateway spec.listeners[].tls.certificateRefs[].group',
  'Gateway spec.listeners[].tls.certificateRefs[].kind',
  'Gateway spec.listeners[].tls.certificateRefs[].name',
  'Gateway spec.listeners[].tls.certificateRefs[].namespace',
  'Gateway spec.tls.backend.clientCertificateRef.namespace',
  'Gateway spec.tls.frontend.default.validation.caCertificateRefs',
  'Gateway spec.tls.frontend.default.validation.caCertificateRefs[].group',
  'Gateway spec.tls.frontend.default.validation.caCertificateRefs[].kind',
  'Gateway spec.tls.frontend.default.validation.caCertificateRefs[].name',
  'Gateway spec.tls.frontend.default.validation.caCertificateRefs[].namespace',
  'Gateway spec.tls.frontend.perPort[].tls.validation.caCertificateRefs',
  'Gateway spec.tls.frontend.perPort[].tls.validation.caCertificateRefs[].group',
  'Gateway spec.tls.frontend.perPort[].tls.validation.caCertificateRefs[].kind',
  'Gateway spec.tls.frontend.perPort[].tls.validation.caCertificateRefs[].name',
  'Gateway spec.tls.frontend.perPort[].tls.validation.caCertificateRefs[].namespace',
  'GatewayClass spec.controllerName',
  'GatewayClass spec.parametersRef',
  'GatewayClass spec.parametersRef.group',
  'GatewayClass spec.parametersRef.kind',
  'GatewayClass spec.parametersRef.name',
  'GatewayClass spec.parametersRef.namespace',
  'HTTPRoute spec.useDefaultGateways',
  'ListenerSet spec.listeners[].allowedRoutes.kinds',
  'ListenerSet spec.listeners[].allowedRoutes.kinds[].group',
  'ListenerSet spec.listeners[].allowedRoutes.kinds[].kind',
  'ListenerSet spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions',
  'ListenerSet spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].key',
  'ListenerSet spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].operator',
  'ListenerSet spec.listeners[].allowedRoutes.namespaces.selector.matchExpressions[].values',
  'ListenerSet spec.listeners[].filters.requests[].externalAuth.protocol',
  'ListenerSet spec.listeners[].filters.requests[].type',
  'ListenerSet spec.listeners[].tls.certificateRefs',
  'ListenerSet spec.listeners[].tls.certificateRefs[].group',
  'ListenerSet spec.listeners[].tls.certificateRefs[].kind',
  'ListenerSet spec.listeners[].tls.certificateRefs[].name',
  'ListenerSet spec.listeners[].tls.certificateRefs[].namespace',
  'ListenerSet spec.listeners[].tls.mode',
  'TCPRoute spec.parentRefs',
  'TCPRoute spec.parentRefs[].group',
  'TCPRoute spec.parentRefs[].kind',
  'TCPRoute spec.parentRefs[].name',
  'TCPRoute spec.parentRefs[].namespace',
  'TCPRoute spec.parentRefs[].port',
  'TCPRoute spec.parentRefs[].sectionName',
  'TCPRoute spec.useDefaultGateways',
  'TLSRoute spec.parentRefs',
  'TLSRoute spec.parentRefs[].group',
  'TLSRoute spec.parentRefs[].kind',
  'TLSRoute spec.parentRefs[].name',
  'TLSRoute spec.parentRefs[].namespace',
  'TLSRoute spec.parentRefs[].port',
  'TLSRoute spec.parentRefs[].sectionName',
  'TLSRoute spec.useDefaultGateways',
  'UDPRoute spec.parentRefs',
  'UDPRoute spec.parentRefs[].group',
  'UDPRoute spec.parentRefs[].kind',
  'UDPRoute spec.parentRefs[].name',
  'UDPRoute spec.parentRefs[].namespace',
  'UDPRoute spec.parentRefs[].port',
  'UDPRoute spec.parentRefs[].sectionName',
  'UDPRoute spec.rules[].backendRefs[].namespace',
  'UDPRoute spec.useDefaultGateways',
  'XTelemetryPolicy spec.tracing.provider.backendRef.namespace',
];

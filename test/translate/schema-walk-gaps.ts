// The lists schema-walk.test.ts judges the CRD fields against; each entry says why. Review a change here as you would
// a change of behaviour: an entry moved out of KNOWN_GAPS is a field now implemented or refused.

/** Gateway API kinds Portico does not watch: it writes no status for them (documented, not silently half-read). */
export const NOT_READ: Record<string, string> = {
  XBackend: 'experimental backend kind (gateway.networking.x-k8s.io); a backendRef to it is refused as InvalidKind',
  XBackendTrafficPolicy: 'experimental policy (retry budgets, session persistence); not watched, so it gets no status',
  XMesh: 'mesh (GAMMA) is out of scope: Portico is a gateway',
  XTelemetryPolicy: 'experimental telemetry policy; not watched, so it gets no status (Portico has its own tracing)',
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
  'Gateway spec.listeners[].filters': {
    reason: 'UnsupportedValue',
    why: 'GEP-5224: no listener request filter runs yet; the listener is refused and not programmed',
  },
  'ListenerSet spec.listeners[].filters': {
    reason: 'UnsupportedValue',
    why: 'GEP-5224, on a ListenerSet listener: refused and not programmed',
  },
  'Gateway spec.infrastructure.parametersRef': {
    reason: 'InvalidParameters',
    why: 'a Gateway takes no parameters (its GatewayClass may name a ConfigMap)',
  },
  'HTTPRoute spec.rules[].sessionPersistence': {
    reason: 'UnsupportedValue',
    why: 'GEP-1619 not implemented: the rule is dropped rather than served without stickiness',
  },
  'GRPCRoute spec.rules[].sessionPersistence': {
    reason: 'UnsupportedValue',
    why: 'GEP-1619 not implemented: the rule is dropped',
  },
  'HTTPRoute spec.rules[].filters[].externalAuth': {
    reason: 'UnsupportedValue',
    why: 'GEP-1494 not implemented yet: the rule is dropped, never served unauthorized',
  },
  'HTTPRoute spec.rules[].backendRefs[].filters[].externalAuth': {
    reason: 'UnsupportedValue',
    why: 'GEP-1494 on a backendRef: the rule is dropped',
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
export const KNOWN_GAPS: Record<string, string> = {
  'GRPCRoute spec.useDefaultGateways (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
  'Gateway spec.addresses[].routability (unprobed)': 'GEP-5093: not read; to implement or refuse (issue 11 item 2)',
  'Gateway spec.defaultScope (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
  'HTTPRoute spec.useDefaultGateways (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
  'TCPRoute spec.useDefaultGateways (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
  'TLSRoute spec.useDefaultGateways (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
  'UDPRoute spec.useDefaultGateways (unprobed)':
    'GEP-3793 default Gateways: not read and not refused (fails closed: the route attaches nowhere, no word)',
};

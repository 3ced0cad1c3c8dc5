// The one catalogue of status conditions the translator writes: one constructor per (type, reason), reasons as
// string-literal unions taken from the Gateway API v1.6.1 types (apis/v1/*_types.go). Constructors return drafts
// without generation or time; `stampConditions` adds `observedGeneration` and `lastTransitionTime` once per object.
// Messages name the field and the value at fault; callers pass them in.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionDraft {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** `metav1.Condition`. */
export interface Condition extends ConditionDraft {
  observedGeneration: number;
  lastTransitionTime: string;
}

export type GatewayClassReason = 'Accepted' | 'InvalidParameters' | 'SupportedVersion' | 'UnsupportedVersion';
export type GatewayReason =
  | 'Accepted'
  | 'ListenersNotValid'
  | 'Invalid'
  | 'InvalidParameters'
  | 'UnsupportedAddress'
  | 'Programmed'
  | 'Pending'
  | 'AddressNotAssigned'
  | 'AddressNotUsable'
  | 'ResolvedRefs'
  | 'ListenersNotResolved'
  | 'InvalidClientCertificateRef'
  | 'RefNotPermitted'
  | 'ConfigurationChanged'
  | 'Assigned'
  | 'PartiallyAssigned'
  | 'NotAssigned'
  | 'DefaultGateway';
export type ListenerReason =
  | 'Accepted'
  | 'PortUnavailable'
  | 'UnsupportedProtocol'
  | 'UnsupportedValue'
  | 'HostnameConflict'
  | 'ProtocolConflict'
  | 'NoConflicts'
  | 'ResolvedRefs'
  | 'InvalidCertificateRef'
  | 'InvalidRouteKinds'
  | 'RefNotPermitted'
  | 'Programmed'
  | 'Invalid'
  | 'Pending'
  | 'OverlappingHostnames'
  | 'NoValidCACertificate'
  | 'InvalidCACertificateRef'
  | 'InvalidCACertificateKind'
  | 'InvalidListenerFilterRef'
  | 'InvalidListenerFilter';
export type RouteReason =
  | 'Accepted'
  | 'NotAllowedByListeners'
  | 'NoMatchingListenerHostname'
  | 'NoMatchingParent'
  | 'UnsupportedValue'
  | 'IncompatibleFilters'
  | 'ResolvedRefs'
  | 'RefNotPermitted'
  | 'InvalidKind'
  | 'BackendNotFound'
  | 'UnsupportedProtocol';
export type ListenerSetReason =
  | 'Accepted'
  | 'NotAllowed'
  | 'ParentNotAccepted'
  | 'ListenersNotValid'
  | 'Programmed'
  | 'ParentNotProgrammed'
  | 'Pending';
/** Policy conditions (apis/v1/policy_types.go) with BackendTLSPolicy's own reasons (backendtlspolicy_types.go). */
export type PolicyReason =
  | 'Accepted'
  | 'Conflicted'
  | 'Invalid'
  | 'NoValidCACertificate'
  | 'ResolvedRefs'
  | 'InvalidCACertificateRef'
  | 'InvalidKind'
  // XTelemetryPolicy (GEP-4768): a target that does not exist; a provider backendRef that cannot be used.
  | 'TargetNotFound'
  | 'BackendNotFound'
  | 'RefNotPermitted';

function draft<R extends string>(type: string, status: ConditionStatus, reason: R, message: string): ConditionDraft {
  return { type, status, reason, message };
}

// GatewayClass ------------------------------------------------------------------------------------------------------

export const gatewayClassAccepted = (): ConditionDraft =>
  draft<GatewayClassReason>('Accepted', 'True', 'Accepted', 'The GatewayClass is handled by this controller');
export const gatewayClassInvalidParameters = (message: string): ConditionDraft =>
  draft<GatewayClassReason>('Accepted', 'False', 'InvalidParameters', message);
export const gatewayClassSupportedVersion = (message: string): ConditionDraft =>
  draft<GatewayClassReason>('SupportedVersion', 'True', 'SupportedVersion', message);
export const gatewayClassUnsupportedVersion = (message: string): ConditionDraft =>
  draft<GatewayClassReason>('SupportedVersion', 'False', 'UnsupportedVersion', message);

// Gateway -----------------------------------------------------------------------------------------------------------

export const gatewayAccepted = (): ConditionDraft =>
  draft<GatewayReason>('Accepted', 'True', 'Accepted', 'The Gateway is accepted');
/** Some listeners are not valid: still accepted when at least one is (`accepted`), refused otherwise. */
export const gatewayListenersNotValid = (accepted: boolean, message: string): ConditionDraft =>
  draft<GatewayReason>('Accepted', accepted ? 'True' : 'False', 'ListenersNotValid', message);
export const gatewayInvalid = (message: string): ConditionDraft =>
  draft<GatewayReason>('Accepted', 'False', 'Invalid', message);
export const gatewayInvalidParameters = (message: string): ConditionDraft =>
  draft<GatewayReason>('Accepted', 'False', 'InvalidParameters', message);
export const gatewayUnsupportedAddress = (message: string): ConditionDraft =>
  draft<GatewayReason>('Accepted', 'False', 'UnsupportedAddress', message);
export const gatewayProgrammed = (message: string): ConditionDraft =>
  draft<GatewayReason>('Programmed', 'True', 'Programmed', message);
export const gatewayNotProgrammedInvalid = (message: string): ConditionDraft =>
  draft<GatewayReason>('Programmed', 'False', 'Invalid', message);
export const gatewayProgrammedPending = (message: string): ConditionDraft =>
  draft<GatewayReason>('Programmed', 'False', 'Pending', message);
export const gatewayAddressNotAssigned = (message: string): ConditionDraft =>
  draft<GatewayReason>('Programmed', 'False', 'AddressNotAssigned', message);
export const gatewayAddressNotUsable = (message: string): ConditionDraft =>
  draft<GatewayReason>('Programmed', 'False', 'AddressNotUsable', message);
export const gatewayResolvedRefs = (): ConditionDraft =>
  draft<GatewayReason>('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
export const gatewayListenersNotResolved = (message: string): ConditionDraft =>
  draft<GatewayReason>('ResolvedRefs', 'False', 'ListenersNotResolved', message);
/** `spec.tls.backend.clientCertificateRef` names nothing usable (missing, wrong kind, no tls.crt/tls.key). */
export const gatewayInvalidClientCertificateRef = (message: string): ConditionDraft =>
  draft<GatewayReason>('ResolvedRefs', 'False', 'InvalidClientCertificateRef', message);
/** `spec.tls.backend.clientCertificateRef` names a Secret in another namespace that no ReferenceGrant opens. */
export const gatewayRefNotPermitted = (message: string): ConditionDraft =>
  draft<GatewayReason>('ResolvedRefs', 'False', 'RefNotPermitted', message);

/** GEP-5093 AddressesAssigned: every spec.addresses entry satisfied, or default selection done. */
export const gatewayAddressesAssigned = (message: string): ConditionDraft =>
  draft<GatewayReason>('AddressesAssigned', 'True', 'Assigned', message);
/** Some entries satisfied (the Gateway is programmed on those), the others listed in the message. */
export const gatewayAddressesPartiallyAssigned = (message: string): ConditionDraft =>
  draft<GatewayReason>('AddressesAssigned', 'False', 'PartiallyAssigned', message);
export const gatewayAddressesNotAssigned = (message: string): ConditionDraft =>
  draft<GatewayReason>('AddressesAssigned', 'False', 'NotAssigned', message);

/** GEP-3793: the Gateway claims the routes that ask for a default Gateway of its scope (`spec.defaultScope`). */
export const gatewayDefaultGateway = (message: string): ConditionDraft =>
  draft<GatewayReason>('DefaultGateway', 'True', 'DefaultGateway', message);

/** Only ever True: client certificates are asked for but not required on some listener. */
export const gatewayInsecureFrontendValidationMode = (message: string): ConditionDraft =>
  draft<GatewayReason>('InsecureFrontendValidationMode', 'True', 'ConfigurationChanged', message);

// Listener ----------------------------------------------------------------------------------------------------------

export const listenerAccepted = (): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'True', 'Accepted', 'The listener is accepted');
export const listenerPortUnavailable = (message: string): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'False', 'PortUnavailable', message);
export const listenerUnsupportedProtocol = (message: string): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'False', 'UnsupportedProtocol', message);
export const listenerUnsupportedValue = (message: string): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'False', 'UnsupportedValue', message);
/** A conflicted listener is neither accepted nor programmed, with the conflict as the reason of both. */
export const listenerNotAcceptedForConflict = (
  reason: 'HostnameConflict' | 'ProtocolConflict',
  message: string,
): ConditionDraft => draft<ListenerReason>('Accepted', 'False', reason, message);
export const listenerNotProgrammedForConflict = (
  reason: 'HostnameConflict' | 'ProtocolConflict',
  message: string,
): ConditionDraft => draft<ListenerReason>('Programmed', 'False', reason, message);
export const listenerConflicted = (reason: 'HostnameConflict' | 'ProtocolConflict', message: string): ConditionDraft =>
  draft<ListenerReason>('Conflicted', 'True', reason, message);
export const listenerNoConflicts = (): ConditionDraft =>
  draft<ListenerReason>('Conflicted', 'False', 'NoConflicts', 'No conflicts with other listeners');
/** Every CA certificate for client validation is unusable: the listener would accept no client, so it is refused. */
export const listenerNoValidCACertificate = (message: string): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'False', 'NoValidCACertificate', message);
export const listenerInvalidCACertificateRef = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'InvalidCACertificateRef', message);
export const listenerInvalidCACertificateKind = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'InvalidCACertificateKind', message);
/** GEP-5224: a `filters.requests[]` entry that cannot be honoured as written (settings, or a non-HTTP listener). */
export const listenerInvalidListenerFilter = (message: string): ConditionDraft =>
  draft<ListenerReason>('Accepted', 'False', 'InvalidListenerFilter', message);
/** GEP-5224: a `filters.requests[]` ExternalAuth backendRef or ExtensionRef that names nothing usable. */
export const listenerInvalidListenerFilterRef = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'InvalidListenerFilterRef', message);
export const listenerResolvedRefs = (): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
export const listenerInvalidCertificateRef = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'InvalidCertificateRef', message);
export const listenerInvalidRouteKinds = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'InvalidRouteKinds', message);
export const listenerRefNotPermitted = (message: string): ConditionDraft =>
  draft<ListenerReason>('ResolvedRefs', 'False', 'RefNotPermitted', message);
export const listenerProgrammed = (): ConditionDraft =>
  draft<ListenerReason>('Programmed', 'True', 'Programmed', 'The listener is programmed');
export const listenerNotProgrammedInvalid = (message: string): ConditionDraft =>
  draft<ListenerReason>('Programmed', 'False', 'Invalid', message);
export const listenerProgrammedPending = (message: string): ConditionDraft =>
  draft<ListenerReason>('Programmed', 'False', 'Pending', message);
/** Negative polarity: only ever written as True (Gateway API: "MUST NOT be set when it is False"). */
export const listenerOverlappingHostnames = (message: string): ConditionDraft =>
  draft<ListenerReason>('OverlappingTLSConfig', 'True', 'OverlappingHostnames', message);

// Routes (one entry per parentRef) ------------------------------------------------------------------------------------

export const routeAccepted = (): ConditionDraft =>
  draft<RouteReason>('Accepted', 'True', 'Accepted', 'The route is accepted');
export const routeNotAllowedByListeners = (message: string): ConditionDraft =>
  draft<RouteReason>('Accepted', 'False', 'NotAllowedByListeners', message);
export const routeNoMatchingListenerHostname = (message: string): ConditionDraft =>
  draft<RouteReason>('Accepted', 'False', 'NoMatchingListenerHostname', message);
export const routeNoMatchingParent = (message: string): ConditionDraft =>
  draft<RouteReason>('Accepted', 'False', 'NoMatchingParent', message);
export const routeUnsupportedValue = (message: string): ConditionDraft =>
  draft<RouteReason>('Accepted', 'False', 'UnsupportedValue', message);
export const routeIncompatibleFilters = (message: string): ConditionDraft =>
  draft<RouteReason>('Accepted', 'False', 'IncompatibleFilters', message);
export const routeResolvedRefs = (): ConditionDraft =>
  draft<RouteReason>('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
export const routeRefNotPermitted = (message: string): ConditionDraft =>
  draft<RouteReason>('ResolvedRefs', 'False', 'RefNotPermitted', message);
export const routeInvalidKind = (message: string): ConditionDraft =>
  draft<RouteReason>('ResolvedRefs', 'False', 'InvalidKind', message);
export const routeBackendNotFound = (message: string): ConditionDraft =>
  draft<RouteReason>('ResolvedRefs', 'False', 'BackendNotFound', message);
export const routeUnsupportedProtocol = (message: string): ConditionDraft =>
  draft<RouteReason>('ResolvedRefs', 'False', 'UnsupportedProtocol', message);
/** Only ever True; the message must start with "Dropped Rule" (Gateway API, RouteConditionPartiallyInvalid). */
export const routePartiallyInvalid = (message: string): ConditionDraft =>
  draft<RouteReason>('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${message}`);

// ListenerSet (its listeners use the listener constructors above) ----------------------------------------------------

export const listenerSetAccepted = (): ConditionDraft =>
  draft<ListenerSetReason>('Accepted', 'True', 'Accepted', 'The ListenerSet is accepted');
/** The parent Gateway's `spec.allowedListeners` does not admit the ListenerSet's namespace. */
export const listenerSetNotAllowed = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Accepted', 'False', 'NotAllowed', message);
export const listenerSetNotProgrammedNotAllowed = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Programmed', 'False', 'NotAllowed', message);
export const listenerSetParentNotAccepted = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Accepted', 'False', 'ParentNotAccepted', message);
export const listenerSetParentNotProgrammed = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Programmed', 'False', 'ParentNotProgrammed', message);
/** Some listeners are not valid: still accepted when at least one is (`accepted`), refused otherwise. */
export const listenerSetListenersNotValid = (accepted: boolean, message: string): ConditionDraft =>
  draft<ListenerSetReason>('Accepted', accepted ? 'True' : 'False', 'ListenersNotValid', message);
export const listenerSetNotProgrammedListenersNotValid = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Programmed', 'False', 'ListenersNotValid', message);
export const listenerSetProgrammed = (): ConditionDraft =>
  draft<ListenerSetReason>('Programmed', 'True', 'Programmed', 'The ListenerSet is programmed');
export const listenerSetProgrammedPending = (message: string): ConditionDraft =>
  draft<ListenerSetReason>('Programmed', 'False', 'Pending', message);

// BackendTLSPolicy (one entry per ancestor Gateway) ------------------------------------------------------------------

export const policyAccepted = (): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'True', 'Accepted', 'The policy is accepted');
/** An older policy (or one first in namespace/name order) targets the same Service port. */
export const policyConflicted = (message: string): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'False', 'Conflicted', message);
export const policyInvalid = (message: string): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'False', 'Invalid', message);
/** Every CA certificate reference is unusable: connections to the targeted backends fail (500). */
export const policyNoValidCACertificate = (message: string): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'False', 'NoValidCACertificate', message);
export const policyResolvedRefs = (): ConditionDraft =>
  draft<PolicyReason>('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
export const policyInvalidCACertificateRef = (message: string): ConditionDraft =>
  draft<PolicyReason>('ResolvedRefs', 'False', 'InvalidCACertificateRef', message);
export const policyInvalidKind = (message: string): ConditionDraft =>
  draft<PolicyReason>('ResolvedRefs', 'False', 'InvalidKind', message);

// XTelemetryPolicy (one entry per target Gateway; Accepted, Conflicted, Invalid and InvalidKind above apply too) ----

/** Accepted, with what was left out (an `Attribute` source Portico does not fill, GEP-5253: omit and say so). */
export const policyAcceptedWithNote = (message: string): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'True', 'Accepted', message);
export const policyTargetNotFound = (message: string): ConditionDraft =>
  draft<PolicyReason>('Accepted', 'False', 'TargetNotFound', message);
export const policyBackendNotFound = (message: string): ConditionDraft =>
  draft<PolicyReason>('ResolvedRefs', 'False', 'BackendNotFound', message);
export const policyRefNotPermitted = (message: string): ConditionDraft =>
  draft<PolicyReason>('ResolvedRefs', 'False', 'RefNotPermitted', message);

// -------------------------------------------------------------------------------------------------------------------

/**
 * Final conditions of one object: one per type (the last draft of a type wins, as in NGF's dedupe, keeping the
 * position of the first), each with the object's generation and the run's clock.
 */
export function stampConditions(drafts: readonly ConditionDraft[], generation: number, now: string): Condition[] {
  const byType = new Map<string, ConditionDraft>();
  for (const d of drafts) byType.set(d.type, d);
  return [...byType.values()].map((d) => ({
    type: d.type,
    status: d.status,
    reason: d.reason,
    message: d.message,
    observedGeneration: generation,
    lastTransitionTime: now,
  }));
}

/**
 * @module operator/gateway
 *
 * The Gateway API domain of the operator: a pure translator from Gateway API resources (a `ResourceSnapshot` of
 * plain objects) to the data plane's IR (`shared/ir`) and to the statuses of those resources, plus the pure helpers
 * the status writer needs (`mergeStatus`, `mergeConditions`, `statusEquals`, `applyDataPlaneState`) and a piscina
 * pool to run the translator off the main thread.
 *
 * What it must not do: talk to the API server or the socket, read the clock or the environment, keep module state,
 * change its input, or throw on any input. The one stateful piece is the translation session (`session.ts`): state
 * its caller owns (one per operator; in the piscina worker it lives in that thread between tasks), which remembers
 * what each object's translation read so that a run costs what changed, and must agree with `translate`. Every field it uses is checked with `shared/validation/fields.ts`, the same
 * checks the data plane runs; a bad value becomes a condition naming the field and the value.
 *
 * Files are named after what they translate: `gatewayclass.ts`, `gateway.ts`, `listener.ts`, `listenerset.ts`,
 * `gateway-backend-tls.ts`, `address.ts`,
 * `httproute.ts` (+ `httpmatch.ts`, `httpfilter.ts`, `grpcroute.ts`), `streamroute.ts`, `attach.ts` (route ↔
 * listener), `backend.ts`, `backendtlspolicy.ts` (+ `backendtlspolicy-status.ts`), `certificate.ts`,
 * `referencegrant.ts`; `translate.ts` lists the passes in order; `session.ts` (+ `session-routes.ts`,
 * `session-backends.ts`, `session-policies.ts`, `context-index.ts`, `rank-groups.ts`, `session-ir.ts`,
 * `dependents.ts`, `session-task.ts`) runs them incrementally.
 * Golden cases live in `test/translate/`.
 */

export { translate } from './translate.ts';
export type { TranslateResult } from './translate.ts';
export { buildResourceSnapshot, comparePrecedence, emptyResourceSnapshot } from './resources.ts';
export type { KubeObject, ResourceSnapshot } from './resources.ts';
export { DEFAULT_ADDRESS_POOL, DEFAULT_CONTROLLER_NAME } from './options.ts';
export type { AddressAllocations, TranslateOptions } from './options.ts';
export { mergeConditions, mergeStatus, statusEquals } from './status.ts';
export type {
  GatewayClassStatus,
  GatewayStatus,
  ListenerStatus,
  ObjectStatus,
  RouteParentStatus,
  RouteStatus,
} from './status.ts';
export type { Condition } from './conditions.ts';
export { applyDataPlaneState } from './dataplane-state.ts';
export type { DataPlaneState } from './dataplane-state.ts';
export { TranslationSession, statusKey } from './session.ts';
export type { RecordChanges, SessionOutput, StatusChanges } from './session.ts';
export { TranslatorPool } from './pool.ts';
export type { TranslatorPoolOptions } from './pool.ts';

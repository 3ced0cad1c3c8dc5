// What the HTTP path reports. The shard implements it with prom-client children cached per label set, so a call is
// a map lookup and an increment.

export interface HttpMetrics {
  /** Every response the gateway sent, by listener, route (`namespace/name`, '' when none matched) and status. */
  response(listenerKey: string, route: string, status: number): void;
  /** Time from the first upstream attempt to the upstream's response headers. */
  upstreamResponse(backendKey: string, status: number, seconds: number): void;
  upstreamError(backendKey: string, code: string): void;
  mirror(backendKey: string, outcome: 'sent' | 'failed' | 'skipped'): void;
  /**
   * One external-authorization call (core/authorize.ts): the listener, the route ('' for a listener's filter, which
   * runs before matching), the authorizer's backend key, the outcome, and the seconds the authorizer took.
   */
  extAuthz(listenerKey: string, route: string, authorizer: string, outcome: AuthOutcome, seconds: number): void;
}

/** How an authorizer call ended: it allowed, it denied, or no decision came (fail closed). */
export type AuthOutcome = 'allowed' | 'denied' | 'error';

// What the HTTP path reports. The shard implements it with prom-client children cached per label set, so a call is
// a map lookup and an increment.

export interface HttpMetrics {
  /** Every response the gateway sent, by listener, route (`namespace/name`, '' when none matched) and status. */
  response(listenerKey: string, route: string, status: number): void;
  /** Time from the first upstream attempt to the upstream's response headers. */
  upstreamResponse(backendKey: string, status: number, seconds: number): void;
  upstreamError(backendKey: string, code: string): void;
  mirror(backendKey: string, outcome: 'sent' | 'failed' | 'skipped'): void;
}

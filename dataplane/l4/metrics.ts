// What the stream (L4) path reports; implemented by the shard's metrics next to the HTTP ones.

export interface StreamMetrics {
  /** A client connection (TCP, TLS) or datagram session (UDP): forwarded, refused (no route or no endpoint), failed. */
  streamConnection(listenerKey: string, route: string, outcome: 'forwarded' | 'refused' | 'failed'): void;
  upstreamError(backendKey: string, code: string): void;
}

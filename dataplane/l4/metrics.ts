// What the stream (L4) path reports; implemented by the shard's metrics next to the HTTP ones.

export interface StreamMetrics {
  /**
   * A client connection (TCP, TLS) or datagram session (UDP): forwarded, refused (no route or no endpoint), failed;
   * `idle`: a forwarded stream closed later by the idle timeout (no byte either way).
   */
  streamConnection(listenerKey: string, route: string, outcome: 'forwarded' | 'refused' | 'failed' | 'idle'): void;
  /** A UDP session evicted to make room for a new one (the table of the listener was full). */
  udpSessionEvicted(listenerKey: string): void;
  upstreamError(backendKey: string, code: string): void;
}

// Connection limits of one shard, so that one tenant's listener cannot take every socket a shard can hold: at most
// `perShard` client connections on all listening sockets together, and at most `perListener` on one listening socket
// (address:port; listeners that share a port share its count, since which listener a connection belongs to is known
// only from its Host or SNI). A connection past either limit is closed as soon as it is accepted, before any byte is
// read or a TLS handshake starts, and counted (`portico_connections_refused_total{listener,reason}`); the other
// listeners keep serving. The count covers every stream socket the shard accepts: HTTP/1.1 (the engine), h2c handed
// off by it, HTTPS (HTTP/1.1 and h2), TLS passthrough and terminate, TCP.

import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** 0: no limit. */
  perShard: number;
  /** 0: no limit. */
  perListener: number;
}

/** What the limiter reports; ShardMetrics implements it. */
export interface ConnectionMetrics {
  connectionRefused(socketKey: string, reason: 'shard' | 'listener'): void;
  /** The number of open client connections of a listening socket changed. */
  activeConnections(socketKey: string, count: number): void;
}

/** Marks a socket already counted (a TLS socket handed from the SNI reader to the HTTPS server is counted once). */
const kCounted = Symbol('portico.counted');

export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #metrics: ConnectionMetrics;
  #total = 0;
  readonly #bySocket = new Map<string, number>();

  constructor(limits: ConnectionLimits, metrics: ConnectionMetrics) {
    this.#limits = limits;
    this.#metrics = metrics;
  }

  get total(): number {
    return this.#total;
  }

  /** Counts `socket` for `socketKey` until it closes; false (the socket destroyed) when a limit is reached. */
  admit(socketKey: string, socket: Socket): boolean {
    const marked = socket as Socket & { [kCounted]?: true };
    if (marked[kCounted]) return true;
    const limits = this.#limits;
    const current = this.#bySocket.get(socketKey) ?? 0;
    let reason: 'shard' | 'listener' | null = null;
    if (limits.perListener > 0 && current >= limits.perListener) reason = 'listener';
    else if (limits.perShard > 0 && this.#total >= limits.perShard) reason = 'shard';
    if (reason !== null) {
      this.#metrics.connectionRefused(socketKey, reason);
      socket.on('error', () => undefined);
      socket.destroy();
      return false;
    }
    marked[kCounted] = true;
    this.#total++;
    this.#bySocket.set(socketKey, current + 1);
    this.#metrics.activeConnections(socketKey, current + 1);
    socket.once('close', () => {
      this.#total--;
      const left = (this.#bySocket.get(socketKey) ?? 1) - 1;
      if (left === 0) this.#bySocket.delete(socketKey);
      else this.#bySocket.set(socketKey, left);
      this.#metrics.activeConnections(socketKey, left);
    });
    return true;
  }
}

// The listening sockets of one shard. Each shard binds its own socket per (transport, address, port) with
// SO_REUSEPORT, so the kernel spreads connections over shards and a shard can stop without taking a socket away from
// the others. A generation is applied in three steps, so that no request is refused: open the sockets that are new,
// point every socket at its new table, then drain the sockets that are gone (stop accepting, answer in-flight
// requests with `Connection: close`, close idle connections, force-close after the drain timeout).

import type { Server, Socket } from 'node:net';
import type { Socket as DatagramSocket } from 'node:dgram';
import type { SocketBinding } from '../http/binding.ts';
import type { SocketTable } from '../http/tables.ts';
import type { ConnectionLimiter } from './connection-limits.ts';

export interface ListeningServer {
  /** A stream server (bound with listen), or a datagram socket (bound with bind). */
  server: Server | DatagramSocket;
  /** Called after the binding's table was replaced by a new generation's (e.g. to update a default certificate). */
  refresh?(): void;
  /** Stop accepting; resolve when every connection is gone or after `drainMs` (then connections are destroyed). */
  drain(drainMs: number): Promise<void>;
}

/** Creates (but does not bind) the server for a socket; the protocol decides which kind. */
export type ServerFactory = (table: SocketTable, binding: SocketBinding) => ListeningServer;

interface OpenSocket {
  binding: SocketBinding;
  listening: ListeningServer;
}

export interface BindError {
  listenerKey: string;
  message: string;
}

function listen(server: Server | DatagramSocket, table: SocketTable): Promise<Error | null> {
  if ('bind' in server) {
    return new Promise((resolve) => {
      const onError = (error: Error) => resolve(error);
      server.once('error', onError);
      server.bind({ address: table.address, port: table.port, exclusive: false }, () => {
        server.off('error', onError);
        resolve(null);
      });
    });
  }
  return new Promise((resolve) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      resolve(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(null);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: table.address, port: table.port, reusePort: true, backlog: 4096 });
  });
}

/**
 * Puts `limiter` in front of a stream server's own `connection` handlers (a net server's, or a TLS server's, which
 * starts the handshake): a connection past a limit is closed before any of them sees it.
 */
function limitConnections(server: Server, key: string, limiter: ConnectionLimiter): void {
  const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!limiter.admit(key, socket)) return;
    for (const handler of handlers) handler.call(server, socket);
  });
}

function bindErrors(table: SocketTable, error: Error): BindError[] {
  return table.listenerList.map((l) => ({
    listenerKey: l.key,
    message: `cannot listen on ${table.address}:${table.port}: ${error.message}`,
  }));
}

export class ShardSockets {
  readonly #open = new Map<string, OpenSocket>();
  /** Sockets of the generation in force that could not be bound (address in use, not local): retried. */
  readonly #unbound = new Map<string, { table: SocketTable; errors: BindError[] }>();
  readonly #factory: ServerFactory;
  readonly #drainMs: number;
  /** Sockets being drained, so that shutdown can wait for them. */
  readonly #draining = new Set<Promise<void>>();
  readonly #limiter: ConnectionLimiter | null;

  constructor(factory: ServerFactory, drainMs: number, limiter: ConnectionLimiter | null = null) {
    this.#factory = factory;
    this.#drainMs = drainMs;
    this.#limiter = limiter;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Listeners whose socket is not bound now. */
  get bindErrors(): BindError[] {
    return [...this.#unbound.values()].flatMap((u) => u.errors);
  }

  async #open1(key: string, table: SocketTable): Promise<Error | null> {
    const binding: SocketBinding = { key, table, draining: false };
    const listening = this.#factory(table, binding);
    if (this.#limiter !== null && !('bind' in listening.server)) limitConnections(listening.server, key, this.#limiter);
    const error = await listen(listening.server, table);
    if (error === null) this.#open.set(key, { binding, listening });
    return error;
  }

  /** Applies the socket tables of a generation; returns the listeners whose socket could not be bound. */
  async apply(tables: Map<string, SocketTable>): Promise<BindError[]> {
    this.#unbound.clear();
    const opening: Array<Promise<void>> = [];
    for (const [key, table] of tables) {
      if (this.#open.has(key)) continue;
      opening.push(
        this.#open1(key, table).then((error) => {
          if (error !== null) this.#unbound.set(key, { table, errors: bindErrors(table, error) });
        }),
      );
    }
    await Promise.all(opening);
    for (const [key, socket] of this.#open) {
      const table = tables.get(key);
      if (table !== undefined) {
        socket.binding.table = table;
        socket.listening.refresh?.();
      } else this.#retire(key, socket);
    }
    return this.bindErrors;
  }

  /**
   * Tries again to bind the sockets that failed (the port may have been freed since); true when that changed which
   * listeners are unbound. Called between generations, never during one.
   */
  async retryUnbound(): Promise<boolean> {
    let changed = false;
    for (const [key, { table }] of [...this.#unbound]) {
      const error = await this.#open1(key, table);
      if (error === null) {
        this.#unbound.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  #retire(key: string, socket: OpenSocket): void {
    this.#open.delete(key);
    socket.binding.draining = true;
    const done = socket.listening.drain(this.#drainMs).finally(() => this.#draining.delete(done));
    this.#draining.add(done);
  }

  /** Drains every socket (shard shutdown). */
  async close(): Promise<void> {
    for (const [key, socket] of [...this.#open]) this.#retire(key, socket);
    await Promise.all(this.#draining);
  }
}

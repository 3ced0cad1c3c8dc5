// UDP listener sockets (UDPRoute): datagrams from one client address form a session with its own upstream socket,
// connected to one endpoint, so that replies find their way back and one client's flow sticks to one endpoint.
// Sessions end after an idle time. The table is bounded (`udpMaxSessions` per listener and shard): a datagram from a
// new client when it is full evicts the least recently active session (counted in
// `portico_udp_sessions_evicted_total`), so a client spraying source ports cannot grow it, or the shard's sockets,
// without bound. The map is kept in order of last activity (a session is moved to the end on each datagram), so the
// one to evict is the first. Each shard binds the port with SO_REUSEPORT; the kernel keeps a client's
// datagrams on one shard (it hashes the addresses), so a session lives in one shard.

import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket as DatagramSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { SocketBinding } from '../http/binding.ts';
import type { ListeningServer } from '../shard/sockets.ts';
import { pickStreamBackend } from './stream-tables.ts';
import type { StreamContext } from './tcp-proxy.ts';

interface Session {
  upstream: DatagramSocket;
  lastSeen: number;
  /** Datagrams that arrived before the upstream socket finished connecting. */
  pending: Buffer[] | null;
}

export function createUdpListener(
  binding: SocketBinding,
  context: Omit<StreamContext, 'listenerKey'>,
  idleMs: number,
): ListeningServer {
  const type = isIPv6(binding.table.address) ? 'udp6' : 'udp4';
  const socket = createSocket({ type, reusePort: true });
  const sessions = new Map<string, Session>();
  const maxSessions = Math.max(1, context.udpMaxSessions ?? 10_000);

  function open(client: RemoteInfo): Session | null {
    const listener = binding.table.listenerList[0];
    const route = listener?.stream?.lookup('');
    const backendKey = route === undefined ? null : pickStreamBackend(route);
    const endpoint = backendKey === null ? undefined : context.registry.backend(backendKey)?.endpoints.pick();
    if (endpoint === undefined) {
      context.metrics.streamConnection(listener?.key ?? '', route?.routeName ?? '', 'refused');
      return null;
    }
    const upstream = createSocket({ type: isIPv6(endpoint.host) ? 'udp6' : 'udp4' });
    upstream.on('message', (reply) => {
      session.lastSeen = Date.now();
      const key = `${client.address}|${client.port}`;
      if (sessions.get(key) === session) {
        sessions.delete(key);
        sessions.set(key, session);
      }
      socket.send(reply, client.port, client.address);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) =>
      context.metrics.upstreamError(backendKey as string, error.code ?? 'UNKNOWN'),
    );
    const session: Session = { upstream, lastSeen: Date.now(), pending: [] };
    upstream.connect(endpoint.port, endpoint.host, () => {
      const queued = session.pending ?? [];
      session.pending = null;
      for (const datagram of queued) upstream.send(datagram);
    });
    context.metrics.streamConnection(listener.key, route?.routeName ?? '', 'forwarded');
    return session;
  }

  socket.on('message', (message, client) => {
    const key = `${client.address}|${client.port}`;
    let session = sessions.get(key);
    if (session === undefined) {
      const opened = open(client);
      if (opened === null) return;
      while (sessions.size >= maxSessions) {
        const [oldestKey, oldest] = sessions.entries().next().value as [string, Session];
        oldest.upstream.close();
        sessions.delete(oldestKey);
        context.metrics.udpSessionEvicted(binding.table.listenerList[0]?.key ?? '');
      }
      sessions.set(key, (session = opened));
    } else {
      // Most recently active last: the first entry is the one to evict.
      sessions.delete(key);
      sessions.set(key, session);
    }
    session.lastSeen = Date.now();
    if (session.pending !== null) {
      if (session.pending.length < 64) session.pending.push(message);
      return;
    }
    session.upstream.send(message);
  });
  socket.on('error', () => undefined);

  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - idleMs;
      for (const [key, session] of sessions) {
        if (session.lastSeen < cutoff) {
          session.upstream.close();
          sessions.delete(key);
        }
      }
    },
    Math.max(1000, Math.floor(idleMs / 4)),
  );
  sweep.unref();

  return {
    server: socket,
    drain: async () => {
      clearInterval(sweep);
      for (const session of sessions.values()) session.upstream.close();
      sessions.clear();
      socket.close();
    },
  };
}

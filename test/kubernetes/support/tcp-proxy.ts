// A TCP proxy between the operator and the API server, so a test can break the link the way networks break:
//   cut()     destroys every connection and refuses new ones (a partition the operator notices at once);
//   freeze()  black-holes every connection, open or new: they stay open and carry nothing, ever (a dead link that
//             nobody reports — only a watchdog or a timeout notices);
//   restore() lets new connections through again (black-holed ones stay dead, as they would).
// TLS passes through untouched (the API server's certificate names 127.0.0.1).

import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far (reconnects show up here). */
  readonly accepted: number;
  cut(): void;
  freeze(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let state: 'open' | 'cut' | 'frozen' = 'open';
  let accepted = 0;
  const pairs = new Set<Pair>();
  const destroy = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };
  const server: Server = createServer((client) => {
    if (state === 'cut') return void client.destroy();
    accepted++;
    const pair: Pair = {
      client,
      upstream: connect({ host: targetHost, port: targetPort }),
      blackholed: state === 'frozen',
    };
    pairs.add(pair);
    pair.client.on('data', (chunk: Buffer) => void (pair.blackholed || pair.upstream.write(chunk)));
    pair.upstream.on('data', (chunk: Buffer) => void (pair.blackholed || pair.client.write(chunk)));
    for (const socket of [pair.client, pair.upstream])
      socket.on('close', () => destroy(pair)).on('error', () => destroy(pair));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    cut() {
      state = 'cut';
      for (const pair of [...pairs]) destroy(pair);
    },
    freeze() {
      state = 'frozen';
      for (const pair of pairs) pair.blackholed = true;
    },
    restore() {
      state = 'open';
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// TCP forwarding for TCPRoute, TLSRoute passthrough and terminated TLSRoute: one upstream connection per client
// connection, bytes copied both ways with backpressure (pipe), either side's close or error closing the other.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { StreamMetrics } from './metrics.ts';
import { pickStreamBackend } from './stream-tables.ts';
import type { CompiledStreamRoute } from './stream-tables.ts';

export interface StreamContext {
  listenerKey: string;
  registry: UpstreamRegistry;
  metrics: StreamMetrics;
  connectTimeoutMs: number;
}

/**
 * Forwards `client` along `route` (none: the connection is refused by closing it). `head` holds bytes already read
 * from the client (a peeked ClientHello) that must reach the upstream first.
 */
export function forwardStream(
  client: Duplex,
  route: CompiledStreamRoute | undefined,
  ctx: StreamContext,
  head: Buffer | null,
): void {
  const routeName = route?.routeName ?? '';
  const backendKey = route === undefined ? null : pickStreamBackend(route);
  const endpoint = backendKey === null ? undefined : ctx.registry.backend(backendKey)?.endpoints.pick();
  if (endpoint === undefined) {
    ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'refused');
    client.destroy();
    return;
  }
  const upstream: Socket = connect({
    host: endpoint.host,
    port: endpoint.port,
    noDelay: true,
    timeout: ctx.connectTimeoutMs,
  });
  upstream.once('connect', () => {
    upstream.setTimeout(0);
    ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'forwarded');
  });
  upstream.once('timeout', () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
  if (head !== null && head.length > 0) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (!upstream.readyState.startsWith('open')) ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'failed');
    ctx.metrics.upstreamError(backendKey as string, error.code ?? 'UNKNOWN');
    client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}

// TCP forwarding for TCPRoute, TLSRoute passthrough and terminated TLSRoute: one upstream connection per client
// connection, bytes copied both ways with backpressure (pipe), either side's close or error closing the other. A
// terminated TLSRoute whose backend has a BackendTLSPolicy re-encrypts: TLS to the backend, verified as for HTTP.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import { serverIdentityCheck } from '../upstream/registry.ts';
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
 * from the client (a peeked ClientHello) that must reach the upstream first. `terminated`: the client's TLS ended
 * here, so a backend's TLS settings (BackendTLSPolicy) apply; a passthrough stream is the client's own TLS already.
 */
export function forwardStream(
  client: Duplex,
  route: CompiledStreamRoute | undefined,
  ctx: StreamContext,
  head: Buffer | null,
  terminated = false,
): void {
  const routeName = route?.routeName ?? '';
  const backendKey = route === undefined ? null : pickStreamBackend(route);
  const runtime = backendKey === null ? undefined : ctx.registry.backend(backendKey);
  const endpoint = runtime?.endpoints.pick();
  if (runtime === undefined || endpoint === undefined) {
    ctx.metrics.streamConnection(ctx.listenerKey, routeName, 'refused');
    client.destroy();
    return;
  }
  const tls = terminated ? runtime.record.tls : undefined;
  const upstream: Socket =
    tls === undefined
      ? connect({ host: endpoint.host, port: endpoint.port, noDelay: true, timeout: ctx.connectTimeoutMs })
      : connectTls({
          host: endpoint.host,
          port: endpoint.port,
          servername: tls.hostname,
          ca: tls.caCertificates,
          cert: runtime.client?.certificatePem,
          key: runtime.client?.privateKeyPem,
          rejectUnauthorized: true,
          checkServerIdentity: serverIdentityCheck(tls.hostname, tls.subjectAltNames),
        })
          .setNoDelay(true)
          .setTimeout(ctx.connectTimeoutMs);
  upstream.once(tls === undefined ? 'connect' : 'secureConnect', () => {
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

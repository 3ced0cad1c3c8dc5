// WebSocket (and any HTTP/1.1 Upgrade the backend accepts): the upgrade request is matched like any request, then
// the data plane opens a TCP connection to a backend endpoint, replays the request with the route's header filters
// and X-Forwarded-*, and from then on copies bytes both ways. The backend's own 101 (or refusal) reaches the client
// untouched. Neither reply-from nor @fastify/websocket proxies upgrades, hence this module.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import { kBinding } from './binding.ts';
import type { BoundSocket } from './binding.ts';
import { applyHeaderOps, setForwardedHeaders } from './headers.ts';
import type { HeaderBag } from './headers.ts';
import { normalizeHost } from './hostnames.ts';
import { matchRequest } from './matcher.ts';
import type { HttpMetrics } from './metrics.ts';
import { modifyPath } from './redirect.ts';
import type { CompiledBackendRef, CompiledRule } from './rules.ts';

function refuse(socket: Socket, status: number, reason: string): void {
  if (!socket.destroyed) socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

function pick(rule: CompiledRule): CompiledBackendRef | null {
  if (rule.totalWeight === 0) return null;
  let point = Math.random() * rule.totalWeight;
  for (const ref of rule.backends) {
    point -= ref.weight;
    if (point < 0) return ref;
  }
  return rule.backends[rule.backends.length - 1];
}

/** Only WebSocket upgrades reach the 'upgrade' event; other Upgrade headers (h2c) are served as plain requests. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

export function createUpgradeHandler(registry: UpstreamRegistry, metrics: HttpMetrics) {
  return function onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    client.on('error', () => client.destroy());
    const binding = (client as unknown as BoundSocket)[kBinding];
    const host = normalizeHost(req.headers.host);
    const listener = binding?.table.listeners.lookup(host);
    if (listener === undefined) return refuse(client, 404, 'Not Found');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const entry = matchRequest(listener, { host, method: req.method ?? 'GET', path, query, headers: req.headers });
    if (entry === null) return refuse(client, 404, 'Not Found');
    const rule = entry.rule;
    if (rule.redirect !== null || rule.directStatus !== 0)
      return refuse(client, rule.directStatus || 400, 'Upgrade Not Routable');
    const ref = pick(rule);
    const backend = ref?.backendKey ? registry.backend(ref.backendKey) : undefined;
    if (ref === null || backend === undefined) return refuse(client, 500, 'Internal Server Error');
    const protocol = backend.record.protocol;
    if (protocol !== 'http1' && protocol !== 'ws') return refuse(client, 502, 'Bad Gateway');
    const endpoint = backend.endpoints.pick();
    if (endpoint === undefined) return refuse(client, 503, 'Service Unavailable');

    const rewrite = ref.rewrite ?? rule.rewrite;
    const upstreamPath = rewrite?.path ? modifyPath(path, rewrite.path, entry.prefix) : path;
    const headers: HeaderBag = { ...req.headers };
    headers.host = rewrite?.hostname ?? req.headers.host;
    setForwardedHeaders(headers, req.socket.remoteAddress, listener.scheme, req.headers.host);
    if (rule.requestHeaders !== null) applyHeaderOps(headers, rule.requestHeaders);
    if (ref.requestHeaders !== null) applyHeaderOps(headers, ref.requestHeaders);
    let head_ = `${req.method} ${upstreamPath}${query ? `?${query}` : ''} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) head_ += `${name}: ${v}\r\n`;
    }
    head_ += '\r\n';

    const url_ = new URL(endpoint.origin);
    const tls = backend.record.tls;
    const upstream = tls
      ? tlsConnect({
          host: url_.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url_.port),
          servername: tls.hostname,
          ca: tls.caCertificates,
          rejectUnauthorized: true,
        })
      : connect({ host: url_.hostname.replace(/^\[|\]$/g, ''), port: Number(url_.port), noDelay: true });
    upstream.once(tls ? 'secureConnect' : 'connect', () => {
      upstream.write(head_);
      if (head.length > 0) upstream.write(head);
      metrics.response(listener.key, rule.routeName, 101);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      metrics.upstreamError(backend.key, error.code ?? 'UNKNOWN');
      if (upstream.bytesRead === 0 && !client.destroyed) refuse(client, 502, 'Bad Gateway');
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
}

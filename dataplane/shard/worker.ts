// A shard: one worker thread serving every listener with its own SO_REUSEPORT sockets, its own routing tables,
// upstream pools and metrics. It applies generations strictly one after the other, in the order received.

import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { applyDeltaInPlace, emptyIndex, indexSnapshot } from '../../shared/ir/delta.ts';
import type { ConfigDelta, RecordIndex } from '../../shared/ir/delta.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { HttpTableCompiler } from '../http/tables.ts';
import { Engine } from '../h1/engine.ts';
import type { HttpTables } from '../http/tables.ts';
import { UpstreamRegistry } from '../upstream/registry.ts';
import { TracingTable } from '../telemetry/table.ts';
import type { Telemetry } from '../core/observe.ts';
import { createHttpListener } from './http-server.ts';
import { createHttpsListener } from './https-server.ts';
import { createTcpListener } from '../l4/tcp-server.ts';
import { createTlsListener } from '../l4/tls-server.ts';
import { createUdpListener } from '../l4/udp-server.ts';
import { compileTlsMaterial } from '../http/tls-contexts.ts';
import type { TlsContextCache } from '../http/tls-contexts.ts';
import { ShardMetrics } from './metrics.ts';
import { isolateMemory } from './memory.ts';
import type { FromShard, ShardSettings, ToShard } from './messages.ts';
import { ShardSockets } from './sockets.ts';
import { Http2Front } from './http2-front.ts';
import { ConnectionLimiter } from './connection-limits.ts';
import type { ServerFactory } from './sockets.ts';

const settings = workerData as ShardSettings;
const port = parentPort!;
const log = pino({ level: settings.logLevel, base: { component: 'dataplane', shard: settings.shardId } });

const metrics = new ShardMetrics();
const registry = new UpstreamRegistry({
  connectionsPerEndpoint: settings.connectionsPerEndpoint,
  connectTimeoutMs: settings.connectTimeoutMs,
  keepAliveTimeoutMs: settings.upstreamKeepAliveMs,
  maxHeaderBytes: 64 * 1024,
  sessionKey: settings.sessionKey,
});
// Tracing (absent: off, the request path skips every tracing call) and the access log, shared by both front ends.
// Access lines carry the dictionary's fields only (shared/telemetry/attributes.ts): no pino base, no pino time.
// Per listener: XTelemetryPolicy records (configured with each generation) over the command-line default.
const tracing = new TracingTable(settings.tracing, settings.shardId);
const telemetry: Telemetry = {
  tracing,
  accessLog: settings.accessLog ? pino({ level: 'info', base: null, timestamp: false }) : null,
};
// HTTP/2 (h2, h2c, gRPC) goes to the Fastify app, loaded on the first HTTP/2 request (http2-front.ts).
const app = new Http2Front({ registry, metrics, log, accessLog: settings.accessLog, telemetry });
const httpOptions = {
  keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
  headersTimeoutMs: settings.headersTimeoutMs,
  maxHeaderBytes: settings.maxHeaderBytes,
  // The idle limit of L4 streams (`--stream-idle-ms`) also bounds a WebSocket tunnel that carries nothing.
  tunnelIdleMs: settings.streamIdleMs,
};
// HTTP/1.1 (plain and over TLS) is served by the engine; HTTP/2 and gRPC by the Fastify app. Both route with
// dataplane/core/route.ts.
const engine = new Engine({ registry, metrics, log, accessLog: settings.accessLog, telemetry }, httpOptions);

const streamContext = {
  registry,
  metrics,
  connectTimeoutMs: settings.connectTimeoutMs,
  idleTimeoutMs: settings.streamIdleMs,
  udpMaxSessions: settings.udpMaxSessions,
};

const factory: ServerFactory = (table, binding) => {
  switch (table.kind) {
    case 'HTTP':
      return createHttpListener(binding, engine, app.routing, httpOptions);
    case 'HTTPS':
      return createHttpsListener(binding, engine, app.routing, httpOptions);
    case 'TLS':
      return createTlsListener(binding, createHttpsListener(binding, engine, app.routing, httpOptions), streamContext);
    case 'TCP':
      return createTcpListener(binding, streamContext);
    case 'UDP':
      return createUdpListener(binding, streamContext, settings.udpIdleMs);
  }
};
const limits = { perShard: settings.maxConnectionsPerShard, perListener: settings.maxConnectionsPerListener };
const sockets = new ShardSockets(factory, settings.drainMs, new ConnectionLimiter(limits, metrics));

let index: RecordIndex = emptyIndex();
const compiler = new HttpTableCompiler();
let tlsCache: TlsContextCache = new Map();

function send(message: FromShard): void {
  port.postMessage(message);
}

/**
 * Installs a generation: `tables` and `stageBackends` compile it (from nothing for a load, from the previous one
 * for a delta). A failure leaves the previous generation serving; the supervisor then reloads a whole one.
 */
async function install(generation: number, tables: HttpTables, stageBackends: () => () => void): Promise<void> {
  const started = performance.now();
  const nextTlsCache: TlsContextCache = new Map();
  for (const table of tables.sockets.values()) {
    if (table.kind === 'HTTPS' || table.kind === 'TLS')
      table.tls = compileTlsMaterial(table, index.certificates, tlsCache, nextTlsCache);
  }
  const commitBackends = stageBackends();
  const listenerErrors = await sockets.apply(tables.sockets);
  commitBackends();
  tlsCache = nextTlsCache;
  tracing.configure(index.listeners.values());
  const applyMs = performance.now() - started;
  log.debug({ generation, applyMs, sockets: sockets.size }, 'generation applied');
  send({ type: 'applied', generation, listenerErrors, applyMs, sockets: sockets.size });
}

function load(generation: number, records: SnapshotRecords): Promise<void> {
  index = indexSnapshot(records);
  return install(generation, compiler.load(index), () => registry.prepare(index.backends.values(), index.certificates));
}

/** A delta on top of the generation held: the index is changed in place, the tables at the cost of the delta. */
function apply(generation: number, delta: ConfigDelta): Promise<void> {
  // Names of what goes away, read before the index forgets them, for the metrics to drop their series.
  const routeName = (r: { source: { namespace: string; name: string } } | undefined) =>
    r === undefined ? [] : [`${r.source.namespace}/${r.source.name}`];
  const removed = {
    listeners: delta.remove.listeners,
    routes: [
      ...delta.remove.httpRoutes.flatMap((k) => routeName(index.httpRoutes.get(k))),
      ...delta.remove.streamRoutes.flatMap((k) => routeName(index.streamRoutes.get(k))),
    ],
    backends: delta.remove.backends,
  };
  applyDeltaInPlace(index, delta);
  metrics.forget(removed);
  const keys = (kind: 'httpRoutes' | 'streamRoutes' | 'listeners') => [
    ...delta.remove[kind],
    ...delta.upsert[kind].map((r) => r.key),
  ];
  const tables = compiler.apply(index, {
    httpRoutes: keys('httpRoutes'),
    streamRoutes: keys('streamRoutes'),
    listeners: keys('listeners'),
  });
  return install(generation, tables, () =>
    registry.prepareChanges(delta.upsert.backends, delta.remove.backends, index.certificates),
  );
}

async function handle(message: ToShard): Promise<void> {
  switch (message.type) {
    case 'load':
      return load(message.generation, message.records);
    case 'apply':
      return apply(message.generation, message.delta);
    case 'metrics':
      return send({
        type: 'metrics',
        requestId: message.requestId,
        metrics: [...metrics.toJson(), ...tracing.metricsJson()],
      });
    case 'memory':
      return send({ type: 'memory', requestId: message.requestId, memory: isolateMemory() });
    case 'shutdown':
      await sockets.close();
      await registry.close();
      await app.close();
      engine.close();
      await tracing.shutdown();
      send({ type: 'stopped' });
      port.close();
      return;
  }
}

// One message at a time: a generation must be fully applied before the next one starts.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToShard) => {
  queue = queue.then(() =>
    handle(message).catch((error: Error) => {
      log.error({ err: error, type: message.type }, 'shard failed to handle a message');
      if (message.type === 'load' || message.type === 'apply') {
        send({ type: 'failed', generation: message.generation, message: error.message });
      }
    }),
  );
});
// Sockets that could not be bound are tried again every few seconds, in the message queue so that a retry never runs
// in the middle of a generation.
const BIND_RETRY_MS = 2000;
setInterval(() => {
  if (sockets.bindErrors.length === 0) return;
  queue = queue.then(async () => {
    if (await sockets.retryUnbound()) send({ type: 'bindErrors', listenerErrors: sockets.bindErrors });
  });
}, BIND_RETRY_MS).unref();

send({ type: 'started' });

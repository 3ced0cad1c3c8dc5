// Data-plane settings, read once at start from flags and environment into a frozen object passed down. Nothing else
// reads process.env or argv.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { TracingConfig } from './telemetry/tracing.ts';

export interface DataPlaneConfig {
  /** Unix socket the operator connects to (mode 0600). */
  socketPath: string;
  shards: number;
  adminAddress: string;
  adminPort: number;
  /** How long a removed listener keeps serving in-flight requests before its connections are closed. */
  drainMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  connectionsPerEndpoint: number;
  connectTimeoutMs: number;
  upstreamKeepAliveMs: number;
  /** A UDP session ends after this long without a datagram (default 60 s). */
  udpIdleMs?: number;
  /** UDP sessions per listening socket and shard; past it the least recently active one is evicted (default 10,000). */
  udpMaxSessions?: number;
  /** Client connections per shard, every listener together; past it a new connection is closed at once (0: no limit). */
  maxConnectionsPerShard?: number;
  /** Client connections per listening socket (address:port) and shard (0: no limit). */
  maxConnectionsPerListener?: number;
  /** A TCP or TLS stream with no byte either way for this long is closed on both sides (0: never). */
  streamIdleMs?: number;
  statsIntervalMs: number;
  accessLog: boolean;
  logLevel: string;
  /** OTLP trace export; undefined: tracing off (the request path makes no tracing call at all). */
  tracing?: TracingConfig;
  /**
   * The key of session-persistence tokens (GEP-1619), from PORTICO_SESSION_KEY only (a flag would show it in `ps`).
   * Undefined: the supervisor draws one, so sessions hold within this process only (not across replicas or restarts).
   */
  sessionKey?: string;
}

export const DATAPLANE_USAGE = `portico data plane
  --socket PATH            operator socket (env PORTICO_SOCKET, default /tmp/portico/dataplane.sock)
  --shards N               worker threads (env PORTICO_SHARDS, default: CPU count)
  --admin HOST:PORT        /healthz /readyz /metrics (env PORTICO_DATAPLANE_ADMIN, default 127.0.0.1:9901; port 0 = any)
  --drain-ms MS            drain time of a removed listener (default 30000)
  --max-connections-per-shard N
                           client connections a shard holds, all listeners together; a connection past it is
                           closed at once (env PORTICO_MAX_CONNECTIONS_PER_SHARD, default 50000, 0 = no limit)
  --max-connections-per-listener N
                           client connections per listening socket (address:port) and shard
                           (env PORTICO_MAX_CONNECTIONS_PER_LISTENER, default 20000, 0 = no limit)
  --stream-idle-ms MS      TCP/TLS streams with no byte either way for this long are closed
                           (env PORTICO_STREAM_IDLE_MS, default 600000, 0 = never)
  --udp-max-sessions N     UDP sessions per listener and shard; past it the least recently active is evicted
                           (env PORTICO_UDP_MAX_SESSIONS, default 10000)
  --access-log             log every request (env PORTICO_ACCESS_LOG=1)
  --log-level LEVEL        pino level (env PORTICO_LOG_LEVEL, default info)
  --otlp-endpoint URL      export traces over OTLP/HTTP to URL, e.g. http://jaeger:4318 (env PORTICO_OTLP_ENDPOINT;
                           default: none, tracing off)
  --trace-sampling RATIO   share of new traces sampled, 0..1 (env PORTICO_TRACE_SAMPLING, default 0.01)
  --trace-parent-based on|off
                           follow the caller's traceparent sampled flag (env PORTICO_TRACE_PARENT_BASED, default on)
  env PORTICO_SESSION_KEY  key of session-persistence tokens; give every replica the same one so that sessions
                           survive a replica change or restart (default: drawn per process)`;

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function readDataPlaneConfig(argv: string[], env: NodeJS.ProcessEnv): Readonly<DataPlaneConfig> {
  const { values } = parseArgs({
    args: argv,
    options: {
      socket: { type: 'string' },
      shards: { type: 'string' },
      admin: { type: 'string' },
      'drain-ms': { type: 'string' },
      'max-connections-per-shard': { type: 'string' },
      'max-connections-per-listener': { type: 'string' },
      'stream-idle-ms': { type: 'string' },
      'udp-max-sessions': { type: 'string' },
      'access-log': { type: 'boolean' },
      'log-level': { type: 'string' },
      'otlp-endpoint': { type: 'string' },
      'trace-sampling': { type: 'string' },
      'trace-parent-based': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(DATAPLANE_USAGE);
    process.exit(0);
  }
  const admin = values.admin ?? env.PORTICO_DATAPLANE_ADMIN ?? '127.0.0.1:9901';
  const colon = admin.lastIndexOf(':');
  const shards = int(values.shards ?? env.PORTICO_SHARDS, availableParallelism(), 'shards');
  return Object.freeze({
    socketPath: values.socket ?? env.PORTICO_SOCKET ?? '/tmp/portico/dataplane.sock',
    shards: Math.max(1, shards),
    adminAddress: admin.slice(0, colon),
    adminPort: int(admin.slice(colon + 1), 9901, 'admin port'),
    drainMs: int(values['drain-ms'], 30_000, 'drain-ms'),
    keepAliveTimeoutMs: 60_000,
    headersTimeoutMs: 30_000,
    maxHeaderBytes: 16 * 1024,
    connectionsPerEndpoint: 64,
    connectTimeoutMs: 5_000,
    upstreamKeepAliveMs: 30_000,
    udpIdleMs: 60_000,
    udpMaxSessions: Math.max(
      1,
      int(values['udp-max-sessions'] ?? env.PORTICO_UDP_MAX_SESSIONS, 10_000, 'udp-max-sessions'),
    ),
    maxConnectionsPerShard: int(
      values['max-connections-per-shard'] ?? env.PORTICO_MAX_CONNECTIONS_PER_SHARD,
      50_000,
      'max-connections-per-shard',
    ),
    maxConnectionsPerListener: int(
      values['max-connections-per-listener'] ?? env.PORTICO_MAX_CONNECTIONS_PER_LISTENER,
      20_000,
      'max-connections-per-listener',
    ),
    streamIdleMs: int(values['stream-idle-ms'] ?? env.PORTICO_STREAM_IDLE_MS, 600_000, 'stream-idle-ms'),
    statsIntervalMs: 1_000, // the console's live charts move once a second
    accessLog: values['access-log'] ?? env.PORTICO_ACCESS_LOG === '1',
    logLevel: values['log-level'] ?? env.PORTICO_LOG_LEVEL ?? 'info',
    tracing: readTracing(
      values['otlp-endpoint'] ?? env.PORTICO_OTLP_ENDPOINT,
      values['trace-sampling'] ?? env.PORTICO_TRACE_SAMPLING,
      values['trace-parent-based'] ?? env.PORTICO_TRACE_PARENT_BASED,
    ),
    sessionKey: env.PORTICO_SESSION_KEY || undefined,
  });
}

/** The tracing flags; no endpoint: undefined (off). */
export function readTracing(
  endpoint: string | undefined,
  sampling: string | undefined,
  parentBased: string | undefined,
): TracingConfig | undefined {
  if (endpoint === undefined || endpoint === '') return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`otlp-endpoint must be a URL, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`otlp-endpoint must be http(s), got "${endpoint}"`);
  const ratio = sampling === undefined || sampling === '' ? 0.01 : Number(sampling);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new Error(`trace-sampling must be a number in [0, 1], got "${sampling}"`);
  const mode = parentBased === undefined || parentBased === '' ? 'on' : parentBased;
  if (mode !== 'on' && mode !== 'off') throw new Error(`trace-parent-based must be on or off, got "${parentBased}"`);
  return Object.freeze({
    endpoint: endpoint.replace(/\/+$/, ''),
    sampler: Object.freeze({ ratio, parentBased: mode === 'on', parentRatio: 1 }),
  });
}

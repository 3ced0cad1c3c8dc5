// The data plane's main thread: admits configurations from the operator, hands each generation to every shard, and
// answers ack only when all live shards applied it. A generation some shard fails to apply is rolled back on all of
// them (they reload the previous one) and nacked, so shards never serve different configurations for long.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { IR_VERSION } from '../../shared/ir/snapshot.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.ts';
import type { ConfigMessage, DataPlaneMessage } from '../../shared/protocol/messages.ts';
import type { DataPlaneConfig } from '../config.ts';
import type { BindError } from '../shard/sockets.ts';
import { isolateMemory } from '../shard/memory.ts';
import { startAdminServer } from './admin-server.ts';
import { SupervisorMetrics } from './exposition.ts';
import { ConfigState } from './config-state.ts';
import { DataPlaneExplainer } from './explain.ts';
import { startControlServer } from './control-server.ts';
import { ShardPool } from './shards.ts';
import { TrafficCounter } from './traffic.ts';

export interface DataPlane {
  adminPort: number;
  shards: ShardPool;
  generation(): number;
  /** Admits and applies a config as if it came over the socket (used by the socket handler and by tests). */
  applyConfig(message: ConfigMessage): Promise<DataPlaneMessage>;
  stop(): Promise<void>;
}

export async function startDataPlane(config: Readonly<DataPlaneConfig>, log: Logger): Promise<DataPlane> {
  const state = new ConfigState();
  const explainer = new DataPlaneExplainer();
  const metrics = new SupervisorMetrics();
  let lastListenerErrors: BindError[] = [];
  /** Unbound listeners per shard: a listener is unbound if any shard failed to bind it. */
  const unboundByShard = new Map<number, BindError[]>();
  const unionOfShards = () => {
    const errors = new Map<string, BindError>();
    for (const list of unboundByShard.values()) for (const e of list) errors.set(e.listenerKey, e);
    return [...errors.values()];
  };
  const shards = new ShardPool({
    count: config.shards,
    log,
    settings: {
      drainMs: config.drainMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      connectionsPerEndpoint: config.connectionsPerEndpoint,
      connectTimeoutMs: config.connectTimeoutMs,
      upstreamKeepAliveMs: config.upstreamKeepAliveMs,
      udpIdleMs: config.udpIdleMs ?? 60_000,
      udpMaxSessions: config.udpMaxSessions ?? 10_000,
      maxConnectionsPerShard: config.maxConnectionsPerShard ?? 50_000,
      maxConnectionsPerListener: config.maxConnectionsPerListener ?? 20_000,
      streamIdleMs: config.streamIdleMs ?? 600_000,
      accessLog: config.accessLog,
      logLevel: config.logLevel,
      tracing: config.tracing,
      sessionKey: config.sessionKey ?? randomBytes(32).toString('base64url'),
    },
    current: () => ({ generation: state.generation, records: state.records() }),
    onChange: () => {
      metrics.shardsReady = shards.readyCount;
    },
    onBindErrors: (shard, errors) => {
      unboundByShard.set(shard, errors);
      lastListenerErrors = unionOfShards();
      log.info({ shard, unbound: errors.length }, 'a listener that could not be bound is bound now');
    },
  });

  async function applyConfig(message: ConfigMessage): Promise<DataPlaneMessage> {
    const delta = message.delta;
    const generation = Number.isSafeInteger(delta?.generation) ? delta.generation : -1;
    const admission = state.admit(delta);
    if (!admission.ok) {
      metrics.applied(admission.reason);
      log.warn(
        { generation, reason: admission.reason, problems: admission.problems.slice(0, 20) },
        'config refused; the previous generation keeps serving',
      );
      return {
        type: 'nack',
        generation,
        reason: admission.reason,
        problems: admission.problems,
        current: state.generation,
      };
    }
    const started = performance.now();
    state.commit(admission);
    const results = await shards.broadcast(
      delta.baseGeneration === 0
        ? { type: 'load', generation, records: state.records() }
        : { type: 'apply', generation, delta },
    );
    const failed = results.filter((r) => r.outcome === 'failed');
    // Shards still starting load the committed generation themselves; the ack waits for them too.
    if (failed.length === 0) await shards.waitForAll(generation, 10_000);
    if (failed.length > 0) {
      state.rollback();
      await shards.broadcast({ type: 'load', generation: state.generation, records: state.records() });
      metrics.applied('ShardFailure');
      const problems = failed.map((f) => ({
        code: 'InvalidValue' as const,
        path: `shard ${f.shard}`,
        message: f.outcome === 'failed' ? f.message : 'failed',
      }));
      log.error({ generation, problems }, 'a shard failed to apply the config; rolled back');
      return { type: 'nack', generation, reason: 'ShardFailure', problems, current: state.generation };
    }
    for (const r of results) if (r.outcome === 'applied') unboundByShard.set(r.shard, r.listenerErrors);
    lastListenerErrors = unionOfShards();
    metrics.generation = generation;
    metrics.applied('ack');
    const applyMs = performance.now() - started;
    log.info(
      {
        generation,
        validateMs: round(admission.validateMs),
        applyMs: round(applyMs),
        listenerErrors: lastListenerErrors.length,
      },
      'config applied',
    );
    return {
      type: 'ack',
      generation,
      timings: { validateMs: admission.validateMs, applyMs },
      listenerErrors: lastListenerErrors,
    };
  }

  const trafficCounter = new TrafficCounter();
  const control = await startControlServer(
    config.socketPath,
    {
      hello: () => ({
        type: 'hello',
        role: 'dataplane',
        protocol: PROTOCOL_VERSION,
        instance: `${hostname()}/${process.pid}`,
        generation: state.generation,
        shards: shards.size,
      }),
      config: applyConfig,
      stats: async () => {
        const traffic = trafficCounter.next(await shards.collectTraffic());
        return {
          type: 'stats',
          generation: state.generation,
          shardsReady: shards.readyCount,
          shards: shards.size,
          listenersBound: state.index.listeners.size - lastListenerErrors.length,
          bindErrors: lastListenerErrors,
          traffic,
        };
      },
    },
    log,
    config.statsIntervalMs,
  );
  const admin = await startAdminServer(config.adminAddress, config.adminPort, {
    healthy: () => shards.threadIds().length > 0,
    ready: () => state.generation > 0 && shards.readyCount > 0,
    shardMetrics: () => shards.collectMetrics(),
    ownMetrics: () => metrics.toJson(),
    explain: (request) => explainer.decide(state.index, state.generation, request),
    memory: async () => ({
      rss: process.memoryUsage.rss(),
      maxRss: process.resourceUsage().maxRSS * 1024,
      main: isolateMemory(),
      shards: await shards.collectMemory(),
    }),
  });
  log.info(
    {
      socket: config.socketPath,
      shards: config.shards,
      admin: `${config.adminAddress}:${admin.port}`,
      irVersion: IR_VERSION,
    },
    'data plane started',
  );

  return {
    adminPort: admin.port,
    shards,
    generation: () => state.generation,
    applyConfig,
    async stop() {
      await control.close();
      await new Promise<void>((resolve) => admin.server.close(() => resolve()));
      admin.server.closeAllConnections();
      await shards.stop();
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

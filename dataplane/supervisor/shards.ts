// The shard threads: started at boot, each handed the configuration in force, restarted (with backoff) onto the
// current generation when one dies. `broadcast` sends one generation to every live shard and resolves with each
// shard's answer; a shard that dies meanwhile counts as done (it reloads the current generation on restart).

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { IsolateMemory } from '../shard/memory.ts';
import type { FromShard, ShardSettings, ToShard } from '../shard/messages.ts';
import type { ShardTraffic, TrafficReply, TrafficRequest } from '../shard/metrics.ts';
import type { BindError } from '../shard/sockets.ts';

/**
 * The young generation of each shard's heap (V8 sizes it at three semi-spaces). A proxy's garbage is almost all short
 * lived, and V8's default (16 MiB semi-spaces) lets it pile up before a scavenge: measured with 2 shards under the
 * benchmark's keep-alive load, 6 MiB took the data plane's resident memory from about 320 to 225 MiB with one route
 * and from about 440 to 330 MiB with 10k routes, with requests/s within run-to-run noise (bench/RESULTS.md).
 */
const SHARD_YOUNG_GENERATION_MB = 6;

export type ShardResult =
  | { shard: number; outcome: 'applied'; listenerErrors: BindError[]; applyMs: number }
  | { shard: number; outcome: 'failed'; message: string }
  | { shard: number; outcome: 'gone' };

interface Shard {
  id: number;
  worker: Worker | null;
  ready: boolean;
  /** The generation this shard last applied (-1 before its first load). */
  loaded: number;
  restarts: number;
  pending: Map<number, (result: ShardResult) => void>;
  metricRequests: Map<number, (metrics: unknown) => void>;
  memoryRequests: Map<number, (memory: IsolateMemory | null) => void>;
  trafficRequests: Map<number, (traffic: ShardTraffic | null) => void>;
}

export interface ShardPoolOptions {
  count: number;
  settings: Omit<ShardSettings, 'shardId'>;
  log: Logger;
  /** The configuration a (re)started shard must load. */
  current(): { generation: number; records: SnapshotRecords };
  /** Reports shard state changes (for readiness and stats). */
  onChange(): void;
  /** A shard's unbound listeners changed between generations (it bound a socket it had failed to bind). */
  onBindErrors(shard: number, errors: BindError[]): void;
}

const WORKER_URL = new URL('../shard/worker.ts', import.meta.url);
const APPLY_TIMEOUT_MS = 60_000;

export class ShardPool {
  readonly #options: ShardPoolOptions;
  readonly #shards: Shard[] = [];
  #stopping = false;
  #nextRequest = 1;

  constructor(options: ShardPoolOptions) {
    this.#options = options;
    for (let id = 0; id < options.count; id++) {
      const shard: Shard = {
        id,
        worker: null,
        ready: false,
        loaded: -1,
        restarts: 0,
        pending: new Map(),
        metricRequests: new Map(),
        memoryRequests: new Map(),
        trafficRequests: new Map(),
      };
      this.#shards.push(shard);
      this.#start(shard);
    }
  }

  get size(): number {
    return this.#shards.length;
  }

  get readyCount(): number {
    return this.#shards.filter((s) => s.ready).length;
  }

  /** Thread ids of the live shards (tests use them to kill one). */
  threadIds(): number[] {
    return this.#shards.flatMap((s) => (s.worker ? [s.worker.threadId] : []));
  }

  /** Terminates one shard as a crash would (tests); the pool restarts it. */
  async kill(index: number): Promise<void> {
    await this.#shards[index]?.worker?.terminate();
  }

  #start(shard: Shard): void {
    const worker = new Worker(WORKER_URL, {
      workerData: { ...this.#options.settings, shardId: shard.id },
      resourceLimits: { maxYoungGenerationSizeMb: SHARD_YOUNG_GENERATION_MB },
    });
    shard.worker = worker;
    worker.on('message', (message: FromShard | TrafficReply) => this.#onMessage(shard, message));
    worker.on('error', (error) => this.#options.log.error({ err: error, shard: shard.id }, 'shard crashed'));
    worker.on('exit', (code) => this.#onExit(shard, worker, code));
  }

  #onMessage(shard: Shard, message: FromShard | TrafficReply): void {
    switch (message.type) {
      case 'traffic':
        shard.trafficRequests.get(message.requestId)?.(message.traffic);
        shard.trafficRequests.delete(message.requestId);
        return;
      case 'started':
        return void this.#load(shard);
      case 'applied':
        return shard.pending.get(message.generation)?.({
          shard: shard.id,
          outcome: 'applied',
          listenerErrors: message.listenerErrors,
          applyMs: message.applyMs,
        });
      case 'failed':
        return shard.pending.get(message.generation)?.({
          shard: shard.id,
          outcome: 'failed',
          message: message.message,
        });
      case 'metrics':
        shard.metricRequests.get(message.requestId)?.(message.metrics);
        shard.metricRequests.delete(message.requestId);
        return;
      case 'memory':
        shard.memoryRequests.get(message.requestId)?.(message.memory);
        shard.memoryRequests.delete(message.requestId);
        return;
      case 'bindErrors':
        return this.#options.onBindErrors(shard.id, message.listenerErrors);
      case 'stopped':
        return;
    }
  }

  /** Loads the configuration in force into a fresh shard, again if a newer one was committed meanwhile. */
  async #load(shard: Shard): Promise<void> {
    for (;;) {
      const { generation, records } = this.#options.current();
      const result = await this.#send(shard, { type: 'load', generation, records });
      if (result.outcome !== 'applied') return;
      if (this.#options.current().generation === generation) break;
    }
    shard.ready = true;
    this.#options.onChange();
    this.#wakeWaiters();
  }

  readonly #waiters = new Set<() => void>();

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Resolves once every shard that has a thread (serving or starting) applied `generation` or a later one, or
   * after `timeoutMs` (a shard stuck in start-up must not block acks forever; it loads the latest when it comes).
   */
  waitForAll(generation: number, timeoutMs: number): Promise<void> {
    const done = () => this.#shards.every((s) => s.worker === null || s.loaded >= generation);
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #onExit(shard: Shard, worker: Worker, code: number): void {
    if (shard.worker !== worker) return;
    shard.worker = null;
    shard.ready = false;
    shard.loaded = -1;
    for (const resolve of shard.pending.values()) resolve({ shard: shard.id, outcome: 'gone' });
    shard.pending.clear();
    for (const resolve of shard.metricRequests.values()) resolve([]);
    shard.metricRequests.clear();
    for (const resolve of shard.memoryRequests.values()) resolve(null);
    shard.memoryRequests.clear();
    for (const resolve of shard.trafficRequests.values()) resolve(null);
    shard.trafficRequests.clear();
    this.#options.onChange();
    this.#wakeWaiters();
    if (this.#stopping) return;
    const delay = Math.min(100 * 2 ** shard.restarts, 5000);
    shard.restarts++;
    this.#options.log.warn(
      { shard: shard.id, code, restartInMs: delay },
      'shard exited; restarting it on the current generation',
    );
    setTimeout(() => {
      if (!this.#stopping) this.#start(shard);
    }, delay).unref();
    // A shard that stays up for a minute has recovered: its next crash restarts quickly again.
    setTimeout(() => (shard.restarts = 0), 60_000).unref();
  }

  #send(shard: Shard, message: ToShard & { generation: number }): Promise<ShardResult> {
    const worker = shard.worker;
    if (worker === null) return Promise.resolve({ shard: shard.id, outcome: 'gone' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        shard.pending.delete(message.generation);
        resolve({ shard: shard.id, outcome: 'failed', message: `no answer within ${APPLY_TIMEOUT_MS} ms` });
      }, APPLY_TIMEOUT_MS);
      shard.pending.set(message.generation, (result) => {
        clearTimeout(timer);
        shard.pending.delete(message.generation);
        if (result.outcome === 'applied') shard.loaded = message.generation;
        resolve(result);
        this.#wakeWaiters();
      });
      worker.postMessage(message);
    });
  }

  /** Sends a generation (a delta, or full records) to every live shard; resolves with every shard's answer. */
  broadcast(message: ToShard & { generation: number }): Promise<ShardResult[]> {
    return Promise.all(this.#shards.filter((s) => s.ready).map((s) => this.#send(s, message)));
  }

  /** prom-client JSON of every live shard, for aggregation. */
  async collectMetrics(): Promise<unknown[]> {
    const parts = await Promise.all(
      this.#shards.map(
        (shard) =>
          new Promise<unknown>((resolve) => {
            if (shard.worker === null) return resolve([]);
            const requestId = this.#nextRequest++;
            shard.metricRequests.set(requestId, resolve);
            shard.worker.postMessage({ type: 'metrics', requestId } satisfies ToShard);
            setTimeout(() => {
              if (shard.metricRequests.delete(requestId)) resolve([]);
            }, 2000).unref();
          }),
      ),
    );
    return parts;
  }

  /** Each shard's isolate memory (null for a shard that is down or busy for more than 5 s): the admin's /memory. */
  collectMemory(): Promise<Array<IsolateMemory | null>> {
    return Promise.all(
      this.#shards.map(
        (shard) =>
          new Promise<IsolateMemory | null>((resolve) => {
            if (shard.worker === null) return resolve(null);
            const requestId = this.#nextRequest++;
            shard.memoryRequests.set(requestId, resolve);
            shard.worker.postMessage({ type: 'memory', requestId } satisfies ToShard);
            setTimeout(() => {
              if (shard.memoryRequests.delete(requestId)) resolve(null);
            }, 5000).unref();
          }),
      ),
    );
  }

  /**
   * Each live shard's traffic since the previous call (null for a shard that is down or did not answer within a
   * second: its increments then show in the next call, or are lost if it answers late).
   */
  collectTraffic(): Promise<Array<ShardTraffic | null>> {
    return Promise.all(
      this.#shards.map(
        (shard) =>
          new Promise<ShardTraffic | null>((resolve) => {
            if (shard.worker === null) return resolve(null);
            const requestId = this.#nextRequest++;
            shard.trafficRequests.set(requestId, resolve);
            shard.worker.postMessage({ type: 'traffic', requestId } satisfies TrafficRequest);
            setTimeout(() => {
              if (shard.trafficRequests.delete(requestId)) resolve(null);
            }, 1000).unref();
          }),
      ),
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#shards.map(async (shard) => {
        const worker = shard.worker;
        if (worker === null) return;
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage({ type: 'shutdown' } satisfies ToShard);
        const timer = setTimeout(() => void worker.terminate(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

// Messages on the operator ↔ data plane socket. The data plane listens (it owns the socket file, mode 0600, and
// outlives operator restarts); the operator connects, and both sides open with `hello`.
//
// Flow: dataplane hello (with the generation it serves) → operator hello → operator sends `config` (a delta on the
// generation the data plane holds, or a full snapshot with baseGeneration 0) → data plane answers `ack` once every
// shard applied it, or `nack` with the problems, keeping the previous generation in force. `stats` flow every few
// seconds from the data plane.
//
// Compatible additions keep PROTOCOL_VERSION: a new optional field is ignored by an older reader and may be absent
// for a newer one. `StatsMessage.traffic` is one (a data plane from before it sends none; the console then shows no
// traffic).

import type { ConfigDelta } from '../ir/delta.ts';
import type { Problem } from '../validation/problem.ts';

/** Bumped on an incompatible change of these messages; a peer with another version is refused in hello. */
export const PROTOCOL_VERSION = 1;

export interface OperatorHello {
  type: 'hello';
  role: 'operator';
  protocol: number;
  /** Free-form name of the operator instance (pod name, pid), for logs. */
  instance: string;
}

export interface ConfigMessage {
  type: 'config';
  delta: ConfigDelta;
}

export type OperatorMessage = OperatorHello | ConfigMessage;

export interface DataPlaneHello {
  type: 'hello';
  role: 'dataplane';
  protocol: number;
  instance: string;
  /** The generation in force (0 before the first config). A new operator continues above it. */
  generation: number;
  shards: number;
}

/** Phases of applying one generation, in milliseconds: validate and compile in the supervisor, apply in the shards. */
export interface ApplyTimings {
  validateMs: number;
  applyMs: number;
}

export interface AckMessage {
  type: 'ack';
  generation: number;
  timings: ApplyTimings;
  /** Listeners of this generation whose socket could not be bound (address in use, address not local). */
  listenerErrors: Array<{ listenerKey: string; message: string }>;
}

export type NackReason = 'Invalid' | 'BaseMismatch' | 'ShardFailure';

export interface NackMessage {
  type: 'nack';
  generation: number;
  reason: NackReason;
  problems: Problem[];
  /** The generation still in force after the refusal. */
  current: number;
}

export interface StatsMessage {
  type: 'stats';
  generation: number;
  shardsReady: number;
  shards: number;
  listenersBound: number;
  /** Listener keys whose socket could not be bound (address in use, address not local), with the reason. */
  bindErrors: Array<{ listenerKey: string; message: string }>;
  /** Traffic since the previous stats message, summed over the shards (optional: see the top of this file). */
  traffic?: TrafficStats;
}

/**
 * What the data plane served since its previous stats message: one entry per route and per backend that saw traffic
 * (idle ones are left out, so the frame costs what is busy). Counts are increments, not totals, so a shard restart
 * or a forgotten series cannot make a rate negative. Latency is a histogram over `bucketsSeconds` (per bucket, not
 * cumulative; one more slot for above the last bound), enough for percentiles at the operator.
 */
export interface TrafficStats {
  /** Milliseconds the increments cover. */
  intervalMs: number;
  bucketsSeconds: number[];
  /** By route (`namespace/name`; '' for requests no route matched). `errors`: responses with a 5xx status. */
  routes: Array<{ route: string; requests: number; errors: number; latency: number[] }>;
  /** By backend key. `errors`: upstream requests that failed without a response (refused, reset, timed out). */
  backends: Array<{ backend: string; responses: number; errors: number; latency: number[] }>;
}

export type DataPlaneMessage = DataPlaneHello | AckMessage | NackMessage | StatsMessage;

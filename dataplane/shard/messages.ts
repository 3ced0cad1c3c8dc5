// Messages between the supervisor (main thread) and a shard (worker thread), over the worker's MessagePort.
// Deltas reach a shard only after the supervisor validated them against the whole record set.

import type { ConfigDelta } from '../../shared/ir/delta.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { DataPlaneConfig } from '../config.ts';
import type { IsolateMemory } from './memory.ts';
import type { BindError } from './sockets.ts';

/** The part of the data plane's settings a shard needs (the rest is the supervisor's), plus the shard's number. */
export type ShardSettings = Pick<
  DataPlaneConfig,
  | 'drainMs'
  | 'keepAliveTimeoutMs'
  | 'headersTimeoutMs'
  | 'maxHeaderBytes'
  | 'connectionsPerEndpoint'
  | 'connectTimeoutMs'
  | 'upstreamKeepAliveMs'
  | 'accessLog'
  | 'logLevel'
  | 'tracing'
> & {
  /** The session-token key, the same for every shard (drawn by the supervisor when the config has none). */
  sessionKey: string;
  shardId: number;
  udpIdleMs: number;
  udpMaxSessions: number;
  maxConnectionsPerShard: number;
  maxConnectionsPerListener: number;
  streamIdleMs: number;
};

export type ToShard =
  /** Replace whatever the shard holds with these records (first start, restart, rollback). */
  | { type: 'load'; generation: number; records: SnapshotRecords }
  /** Apply a validated delta on top of the generation the shard holds. */
  | { type: 'apply'; generation: number; delta: ConfigDelta }
  | { type: 'metrics'; requestId: number }
  | { type: 'memory'; requestId: number }
  | { type: 'shutdown' };

export type FromShard =
  | { type: 'started' }
  | { type: 'applied'; generation: number; listenerErrors: BindError[]; applyMs: number; sockets: number }
  | { type: 'failed'; generation: number; message: string }
  | { type: 'metrics'; requestId: number; metrics: unknown }
  | { type: 'memory'; requestId: number; memory: IsolateMemory }
  /** The listeners this shard could not bind changed between generations (a retry bound one). */
  | { type: 'bindErrors'; listenerErrors: BindError[] }
  | { type: 'stopped' };

// Messages between the supervisor (main thread) and a shard (worker thread), over the worker's MessagePort.
// Deltas reach a shard only after the supervisor validated them against the whole record set.

import type { ConfigDelta } from '../../shared/ir/delta.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { BindError } from './sockets.ts';

export interface ShardSettings {
  shardId: number;
  drainMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  connectionsPerEndpoint: number;
  connectTimeoutMs: number;
  upstreamKeepAliveMs: number;
  /** A UDP session (client address → upstream socket) ends after this long without a datagram. */
  udpIdleMs: number;
  accessLog: boolean;
  logLevel: string;
}

export type ToShard =
  /** Replace whatever the shard holds with these records (first start, restart, rollback). */
  | { type: 'load'; generation: number; records: SnapshotRecords }
  /** Apply a validated delta on top of the generation the shard holds. */
  | { type: 'apply'; generation: number; delta: ConfigDelta }
  | { type: 'metrics'; requestId: number }
  | { type: 'shutdown' };

export type FromShard =
  | { type: 'started' }
  | { type: 'applied'; generation: number; listenerErrors: BindError[]; applyMs: number; sockets: number }
  | { type: 'failed'; generation: number; message: string }
  | { type: 'metrics'; requestId: number; metrics: unknown }
  | { type: 'stopped' };

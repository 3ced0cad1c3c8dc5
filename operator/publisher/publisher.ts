// The operator's side of the data-plane socket: the only module of the operator that talks to it. It keeps the
// connection up (reconnecting with backoff), sends each new set of records as a delta against what the data plane
// acknowledged, and resolves each publish with the data plane's answer. After a reconnect, or a nack that says the
// base did not match, it starts over with a full snapshot.
// A delta costs what changed: the caller names the keys that changed (`publishChanges`), they add up until the data
// plane acknowledges them, and a record whose object is the one acknowledged is not even encoded again.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { adoptSent, allKeys, diffKeys, emptySent, indexSnapshot } from '../../shared/ir/delta.ts';
import type { KeysByKind, ReadonlyRecordIndex, SentChanges, SentRecords } from '../../shared/ir/delta.ts';
import { RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import type { RecordKind } from '../../shared/ir/snapshot.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import { FrameDecoder, encodeFrame } from '../../shared/protocol/frames.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.ts';
import type {
  AckMessage,
  DataPlaneHello,
  DataPlaneMessage,
  NackMessage,
  OperatorHello,
  StatsMessage,
} from '../../shared/protocol/messages.ts';

export type PublishResult =
  | { outcome: 'ack'; ack: AckMessage; sendMs: number }
  | { outcome: 'nack'; nack: NackMessage; sendMs: number };

export interface PublisherEvents {
  connected?(hello: DataPlaneHello): void;
  disconnected?(error: Error | null): void;
  stats?(stats: StatsMessage): void;
  /** The data plane's answer to a publish (after the publisher's own bookkeeping), for observers such as the console. */
  published?(result: PublishResult): void;
}

export interface PublisherOptions {
  socketPath: string;
  instance: string;
  events?: PublisherEvents;
  /** Backoff bounds for reconnecting. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

interface Pending {
  generation: number;
  resolve(result: PublishResult): void;
  sentAt: number;
}

export class Publisher {
  readonly #options: PublisherOptions;
  #socket: Socket | null = null;
  #hello: DataPlaneHello | null = null;
  #helloWaiters: Array<() => void> = [];
  /** What the data plane acknowledged; null means "unknown: send a full snapshot next". */
  #acked: SentRecords | null = null;
  /** Keys that changed since what the data plane acknowledged. */
  #dirty: Record<RecordKind, Set<string>> = {
    listeners: new Set(),
    httpRoutes: new Set(),
    streamRoutes: new Set(),
    backends: new Set(),
    certificates: new Set(),
  };
  #ackedGeneration = 0;
  #nextGeneration = 1;
  #pending: Pending | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #retryMs: number;

  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#retryMs = options.minRetryMs ?? 100;
    this.#connect();
  }

  /** True while connected and greeted. */
  get connected(): boolean {
    return this.#hello !== null;
  }

  get ackedGeneration(): number {
    return this.#ackedGeneration;
  }

  /**
   * Publishes a record set; resolves with the data plane's ack or nack for it. Calls are serialized: each publish
   * waits for the previous one's answer. While the data plane is unreachable, it waits for the connection.
   */
  publish(records: SnapshotRecords): Promise<PublishResult> {
    const index = indexSnapshot(records);
    return this.#enqueue(index, () => allKeys(this.#acked ?? emptySent(), index));
  }

  /**
   * `publish` for a caller that keeps the records itself: `index` is the whole record set (read during the call,
   * not kept), `changed` the keys that changed since the previous call.
   */
  publishChanges(index: ReadonlyRecordIndex, changed: KeysByKind): Promise<PublishResult> {
    return this.#enqueue(index, () => changed);
  }

  #enqueue(index: ReadonlyRecordIndex, changed: () => KeysByKind): Promise<PublishResult> {
    const result = this.#queue.then(() => this.#publishNow(index, changed()));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #publishNow(index: ReadonlyRecordIndex, changed: KeysByKind): Promise<PublishResult> {
    for (const kind of RECORD_KINDS) for (const key of changed[kind] ?? []) this.#dirty[kind].add(key);
    for (;;) {
      await this.#whenConnected();
      const acked = this.#acked;
      const sent = acked ?? emptySent();
      const generation = this.#nextGeneration++;
      const keys = acked === null ? allKeys(sent, index) : this.#dirty;
      const { delta, changes } = diffKeys(sent, index, keys, generation, acked === null ? 0 : this.#ackedGeneration);
      const result = await this.#send(generation, delta);
      if (result === null) continue; // the connection dropped before an answer: start over with a full snapshot
      if (result.outcome === 'ack') {
        this.#adopt(acked === null ? emptySent() : acked, changes, generation);
        return result;
      }
      if (result.nack.reason === 'BaseMismatch' && acked !== null) {
        this.#acked = null;
        continue;
      }
      return result;
    }
  }

  /** The data plane holds `sent` with `changes` applied: every key is clean again. */
  #adopt(sent: SentRecords, changes: SentChanges, generation: number): void {
    adoptSent(sent, changes);
    this.#acked = sent;
    this.#ackedGeneration = generation;
    for (const kind of RECORD_KINDS) this.#dirty[kind].clear();
  }

  #send(generation: number, delta: unknown): Promise<PublishResult | null> {
    return new Promise((resolve) => {
      const socket = this.#socket;
      if (socket === null || this.#hello === null) return resolve(null);
      this.#pending = { generation, sentAt: performance.now(), resolve: resolve as Pending['resolve'] };
      socket.write(encodeFrame({ type: 'config', delta }));
    });
  }

  #whenConnected(): Promise<void> {
    if (this.#hello !== null) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('publisher closed'));
    return new Promise((resolve) => this.#helloWaiters.push(resolve));
  }

  #connect(): void {
    if (this.#closed) return;
    const socket = connect(this.#options.socketPath);
    const decoder = new FrameDecoder();
    this.#socket = socket;
    socket.on('connect', () => {
      const hello: OperatorHello = {
        type: 'hello',
        role: 'operator',
        protocol: PROTOCOL_VERSION,
        instance: this.#options.instance,
      };
      socket.write(encodeFrame(hello));
    });
    socket.on('data', (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk);
      for (const message of messages) this.#onMessage(message as DataPlaneMessage);
      if (error !== undefined) socket.destroy(new Error(error.message));
    });
    socket.on('error', () => undefined); // 'close' follows and handles it
    socket.on('close', () => this.#onClose(socket));
  }

  #onMessage(message: DataPlaneMessage): void {
    switch (message.type) {
      case 'hello': {
        if (message.protocol !== PROTOCOL_VERSION) {
          this.#socket?.destroy(
            new Error(`data plane speaks protocol ${message.protocol}, we speak ${PROTOCOL_VERSION}`),
          );
          return;
        }
        this.#hello = message;
        this.#retryMs = this.#options.minRetryMs ?? 100;
        // The data plane may hold a generation from an earlier operator: continue above it, with a full snapshot.
        this.#acked = null;
        this.#nextGeneration = Math.max(this.#nextGeneration, message.generation + 1);
        this.#options.events?.connected?.(message);
        for (const wake of this.#helloWaiters.splice(0)) wake();
        return;
      }
      case 'ack':
      case 'nack': {
        const pending = this.#pending;
        if (pending === null || pending.generation !== message.generation) return;
        this.#pending = null;
        const sendMs = performance.now() - pending.sentAt;
        const result: PublishResult =
          message.type === 'ack'
            ? { outcome: 'ack', ack: message, sendMs }
            : { outcome: 'nack', nack: message, sendMs };
        pending.resolve(result);
        this.#options.events?.published?.(result);
        return;
      }
      case 'stats':
        this.#options.events?.stats?.(message);
        return;
    }
  }

  #onClose(socket: Socket): void {
    if (this.#socket !== socket) return;
    const wasConnected = this.#hello !== null;
    this.#socket = null;
    this.#hello = null;
    this.#acked = null;
    const pending = this.#pending;
    this.#pending = null;
    (pending?.resolve as ((r: PublishResult | null) => void) | undefined)?.(null);
    if (wasConnected && !this.#closed) this.#options.events?.disconnected?.(null);
    if (this.#closed) {
      for (const wake of this.#helloWaiters.splice(0)) wake();
      return;
    }
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#options.maxRetryMs ?? 2000);
    setTimeout(() => this.#connect(), delay * (0.8 + Math.random() * 0.4)).unref();
  }

  close(): void {
    this.#closed = true;
    this.#socket?.destroy();
  }
}

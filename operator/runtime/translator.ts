// How the reconciler gets a translation: a translation session (operator/gateway/session.ts) fed with the store's
// changes, running in a piscina worker (so that a 10k-route translation does not stall the operator's event loop) or
// in-thread (tests, tiny configs). Either way a pass sends what changed and gets back what changed; this side keeps
// the whole IR and the statuses (a mirror of the session's output) for the publisher and the status sinks.
// A worker that lost the session (it crashed or was restarted) answers `resync`, and the pass sends every object.

import { randomUUID } from 'node:crypto';
import { emptyIndex } from '../../shared/ir/delta.ts';
import type { KeysByKind, ReadonlyRecordIndex, RecordIndex } from '../../shared/ir/delta.ts';
import { RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import type { RecordKind } from '../../shared/ir/snapshot.ts';
import type { Problem } from '../../shared/validation/problem.ts';
import type { GatewayNamespaceObjects } from '../gateway/gateways/gateway-infrastructure.ts';
import type { GatewayService } from '../gateway/gateways/gateway-service.ts';
import type { AddressAllocations, PortAllocations, TranslateOptions } from '../gateway/options.ts';
import { followsDataPlane } from '../gateway/dataplane-state.ts';
import { createSessionHost } from './translator-task.ts';
import type { SessionReply, SessionTask } from './translator-task.ts';
import { statusKey } from '../gateway/keys.ts';
import type { SessionOutput, StatusChanges } from '../gateway/session.ts';
import type { KubeObject } from '../gateway/resources.ts';
import type { ObjectStatus } from '../gateway/status.ts';
import type { ChangeFeed } from '../store/resource-store.ts';

export interface TranslationUpdate {
  /** The whole IR after this pass (owned by the translator; read it, do not change it). */
  ir: ReadonlyRecordIndex;
  /** IR keys that changed in this pass. */
  irChanged: KeysByKind;
  /** Every status after this pass, by `statusKey`. */
  statuses: ReadonlyMap<string, ObjectStatus>;
  /** Statuses that changed in this pass. */
  statusChanges: StatusChanges;
  /** Every Gateway and ListenerSet status (their Programmed conditions follow the data plane on every pass). */
  gatewayStatuses: readonly ObjectStatus[];
  addresses: AddressAllocations;
  ports: PortAllocations;
  /** Service mode: every Gateway's Service. */
  services: readonly GatewayService[];
  /** GatewayInfrastructure mode: every such Gateway's objects in its namespace. */
  infrastructure: readonly GatewayNamespaceObjects[];
  dropped: Problem[];
  mode: SessionOutput['mode'];
  translatedRoutes: number;
}

export interface Translator {
  /** Brings the translation up to date with the changes in `feed`; resolves with what changed. */
  translate(feed: ChangeFeed, options: TranslateOptions): Promise<TranslationUpdate>;
  close(): Promise<void>;
}

type RunTask = (task: SessionTask) => Promise<SessionReply>;

/** The operator's side of a translation session. */
export class SessionTranslator implements Translator {
  readonly #run: RunTask;
  readonly #close: () => Promise<void>;
  readonly #id = randomUUID();
  /** Session version the worker holds; 0: none (send everything). */
  #version = 0;
  readonly #ir: RecordIndex = emptyIndex();
  readonly #statuses = new Map<string, ObjectStatus>();
  readonly #gateways = new Map<string, ObjectStatus>();

  constructor(run: RunTask, close: () => Promise<void> = async () => undefined) {
    this.#run = run;
    this.#close = close;
  }

  async translate(feed: ChangeFeed, options: TranslateOptions): Promise<TranslationUpdate> {
    const changes = feed.take();
    let fresh = this.#version === 0;
    let reply: SessionReply;
    try {
      reply = fresh
        ? await this.#full(feed, options)
        : await this.#run(this.#task(this.#version, objectsOf(changes.upserted), changes.removed, options));
      if (reply.resync) {
        fresh = true;
        reply = await this.#full(feed, options);
      }
    } catch (error) {
      this.#version = 0;
      throw error;
    }
    if (reply.resync) {
      this.#version = 0;
      throw new Error('the translation worker refused a new session');
    }
    return this.#adopt(reply.output, fresh);
  }

  close(): Promise<void> {
    return this.#close();
  }

  #task(base: number, upserted: SessionTask['upserted'], removed: string[], options: TranslateOptions): SessionTask {
    this.#version = base + 1;
    return { session: this.#id, base, version: base + 1, upserted, removed, options };
  }

  #full(feed: ChangeFeed, options: TranslateOptions): Promise<SessionReply> {
    return this.#run(this.#task(0, objectsOf(feed.all()), [], options));
  }

  /** Applies a session output to the mirror; after a new session (`fresh`), whatever it did not hand out is gone. */
  #adopt(output: SessionOutput, fresh: boolean): TranslationUpdate {
    const irChanged: { [K in RecordKind]?: Set<string> } = {};
    for (const kind of RECORD_KINDS) {
      const map = this.#ir[kind] as Map<string, { key: string }>;
      const changed = new Set<string>(output.ir.remove[kind]);
      const upserted = output.ir.upsert[kind] as Array<{ key: string }>;
      for (const record of upserted) changed.add(record.key);
      if (fresh) {
        for (const key of map.keys()) changed.add(key);
        map.clear();
      }
      for (const key of output.ir.remove[kind]) map.delete(key);
      for (const record of upserted) map.set(record.key, record);
      irChanged[kind] = changed;
    }
    const statusChanges: StatusChanges = { upsert: output.statuses.upsert, remove: [...output.statuses.remove] };
    if (fresh) {
      const kept = new Set(output.statuses.upsert.map(statusKey));
      for (const key of this.#statuses.keys()) if (!kept.has(key)) statusChanges.remove.push(key);
      this.#statuses.clear();
      this.#gateways.clear();
    }
    for (const key of statusChanges.remove) {
      this.#statuses.delete(key);
      this.#gateways.delete(key);
    }
    for (const status of output.statuses.upsert) {
      this.#statuses.set(statusKey(status), status);
      if (followsDataPlane(status)) this.#gateways.set(statusKey(status), status);
    }
    return {
      ir: this.#ir,
      irChanged,
      statuses: this.#statuses,
      statusChanges,
      gatewayStatuses: [...this.#gateways.values()],
      addresses: output.addresses,
      ports: output.ports,
      services: output.services,
      infrastructure: output.infrastructure,
      dropped: output.dropped,
      mode: output.mode,
      translatedRoutes: output.translatedRoutes,
    };
  }
}

/** The objects of the store's `[key, object]` pairs (the store keys by `objectKey`, as the session does). */
function objectsOf(entries: ReadonlyArray<readonly [string, KubeObject]>): KubeObject[] {
  return entries.map(([, object]) => object);
}

/** A session in this thread: nothing is copied, the work blocks the event loop (tests, small folders). */
export function inThreadTranslator(): Translator {
  const host = createSessionHost();
  return new SessionTranslator(async (task) => host(task));
}

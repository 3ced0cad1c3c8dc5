// Where statuses go in Kubernetes mode: the API server, written by the leader only. The reconciler hands over the
// statuses that changed in each translation (`updateChanges`); this sink remembers
// them and a work queue writes each object's status, one key at a time:
//  - GatewayClass, Gateway and ListenerSet: server-side apply with force under our fieldManager (we alone own those
//    statuses);
//    only our condition types are sent, so another controller's conditions are neither taken over nor removed.
//  - Routes and BackendTLSPolicies: read-modify-write of `status.parents` / `status.ancestors` (atomic for SSA,
//    shared between controllers): mergeStatus keeps other controllers' entries, the write carries the
//    resourceVersion and is recomputed after a 409.
//  - Nothing is written when the merged status equals the live one (statusEquals), and a key is only looked at
//    again when what we want changed or the live object changed since we last settled it.
//  - A route or policy that no longer has any status from us gets its entries of ours removed.
// Writes wait `settleMs` after a change: the reconciler reports statuses twice per pass (before the data plane
// answered, with Programmed pending, and after its ack), and the pending state should reach the API server only if
// the ack is slow, not flap on every pass. Non-leaders keep everything up to date and write nothing; on becoming
// leader every key is queued.

import type { Logger } from 'pino';
import type { EventRecorder } from '../framework/events.ts';
import type { StatusWriter } from '../framework/status-writer.ts';
import { WorkQueue } from '../framework/workqueue.ts';
import { refOfKey } from '../framework/resource.ts';
import type { ApiObject, ResourceType } from '../framework/resource.ts';
import { statusKey } from '../gateway/keys.ts';
import { mergeStatus, statusEquals } from '../gateway/status.ts';
import type { ObjectStatus } from '../gateway/status.ts';
import type { StatusChanges } from '../gateway/session.ts';
import type { StatusSink, StoredStatus } from '../status/status-board.ts';
import { statusEvents } from './status-events.ts';

/** What the sink needs from the provider. */
export interface LiveObjects {
  resourceOf(kind: string): ResourceType | undefined;
  get(kind: string, namespace: string | undefined, name: string): ApiObject | undefined;
}

export interface KubernetesStatusSinkOptions {
  live: LiveObjects;
  writer: StatusWriter;
  events?: EventRecorder;
  controllerName: string;
  log: Logger;
  /** Default 250 ms. */
  settleMs?: number;
  /** Objects written at once. Default 4. */
  concurrency?: number;
}

interface Target {
  kind: string;
  namespace?: string;
  name: string;
}

interface Settled {
  /** The live resourceVersion when we last found the object right (or wrote it). */
  resourceVersion: string;
  /** Our write's result, used while the cache still shows the version it replaced. */
  written?: { over: string; object: ApiObject };
}

const SSA_KINDS = new Set(['GatewayClass', 'Gateway', 'ListenerSet']);

function keyOf(t: Target): string {
  return statusKey(t);
}

function targetOf(s: ObjectStatus): Target {
  return { kind: s.kind, namespace: 'namespace' in s ? s.namespace : undefined, name: s.name };
}

/** The part of a merged Gateway/GatewayClass status that is ours to apply: our condition types only. */
function ownedPart(merged: ObjectStatus['status'], next: ObjectStatus): ObjectStatus['status'] {
  const ours = <C extends { type: string }>(conditions: C[], mine: ReadonlyArray<{ type: string }>): C[] => {
    const types = new Set(mine.map((c) => c.type));
    return conditions.filter((c) => types.has(c.type));
  };
  if ((next.kind === 'Gateway' || next.kind === 'ListenerSet') && 'listeners' in merged) {
    const byName = new Map(next.status.listeners.map((l) => [l.name, l]));
    return {
      ...merged,
      conditions: ours(merged.conditions, next.status.conditions),
      listeners: merged.listeners.map((l) => ({
        ...l,
        conditions: ours(l.conditions, byName.get(l.name)?.conditions ?? []),
      })),
    };
  }
  if (next.kind === 'GatewayClass' && 'conditions' in merged)
    return { ...merged, conditions: ours(merged.conditions, next.status.conditions) };
  return merged;
}

export class KubernetesStatusSink implements StatusSink {
  readonly #options: KubernetesStatusSinkOptions;
  readonly #desired = new Map<string, ObjectStatus>();
  /** Routes and policies we had a status for and no longer have: our entries are to be removed. */
  readonly #released = new Map<string, Target>();
  readonly #settled = new Map<string, Settled>();
  readonly #queue: WorkQueue<string>;
  #leader = false;
  /** Writes sent (applies and patches), and no-op checks that found nothing to write. */
  readonly stats = { writes: 0, unchanged: 0, failures: 0 };

  constructor(options: KubernetesStatusSinkOptions) {
    this.#options = options;
    this.#queue = new WorkQueue<string>({
      concurrency: options.concurrency ?? 4,
      process: (key) => this.#sync(key),
      onError: (key, error, failures) => {
        this.stats.failures++;
        options.log.warn(
          { object: key, failures, err: (error as Error)?.message ?? String(error) },
          'status write failed; will retry',
        );
      },
    });
  }

  /** Status writes queued or running (the operator's status-queue-depth gauge). */
  get depth(): number {
    return this.#queue.length + this.#queue.processing;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Only what changed since the previous call (see StatusSink): a pass costs what changed, not every status. */
  updateChanges(changes: StatusChanges): void {
    for (const next of changes.upsert) this.#want(next);
    for (const key of changes.remove) this.#unwant(key);
  }

  #want(next: ObjectStatus): string {
    const key = keyOf(targetOf(next));
    this.#released.delete(key);
    const previous = this.#desired.get(key);
    // The translator stamps every condition with the pass's time: compare as a write would (times kept).
    if (
      previous !== undefined &&
      previous.generation === next.generation &&
      statusEquals(previous.status, mergeStatus(previous.status, next, this.#options.controllerName))
    )
      return key;
    this.#desired.set(key, next);
    this.#enqueue(key);
    return key;
  }

  #unwant(key: string): void {
    const previous = this.#desired.get(key);
    if (previous === undefined) return;
    this.#desired.delete(key);
    this.#settled.delete(key);
    if (!SSA_KINDS.has(previous.kind)) {
      this.#released.set(key, targetOf(previous));
      this.#enqueue(key);
    }
  }

  /** The provider saw a live object change: look at it again if it is not as we last left it. */
  liveChanged(kind: string, cacheKey: string): void {
    const target: Target = { kind, ...refOfKey(cacheKey) };
    const key = keyOf(target);
    if (!this.#desired.has(key) && !this.#released.has(key)) return;
    const live = this.#options.live.get(kind, target.namespace, target.name);
    if (live !== undefined && live.metadata?.resourceVersion === this.#settled.get(key)?.resourceVersion) return;
    this.#enqueue(key);
  }

  setLeader(leader: boolean): void {
    this.#leader = leader;
    if (!leader) return;
    this.#settled.clear();
    for (const key of [...this.#desired.keys(), ...this.#released.keys()]) this.#enqueue(key);
  }

  /** What this replica wants the statuses to be (for the admin endpoint). */
  all(): StoredStatus[] {
    return [...this.#desired.values()].map((s) => ({
      kind: s.kind,
      namespace: 'namespace' in s ? s.namespace : undefined,
      name: s.name,
      generation: s.generation,
      status: s.status,
    }));
  }

  /** Resolves when no write is queued or running (delayed keys aside). */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  /** Lets queued writes finish for up to `drainMs`, then stops. */
  async stop(drainMs = 2000): Promise<void> {
    await this.#queue.shutDown(this.#leader ? drainMs : 0);
  }

  #enqueue(key: string): void {
    if (this.#leader) this.#queue.addAfter(key, this.#options.settleMs ?? 250);
  }

  async #sync(key: string): Promise<void> {
    if (!this.#leader) return;
    const desired = this.#desired.get(key);
    const target = desired !== undefined ? targetOf(desired) : this.#released.get(key);
    if (target === undefined) return;
    const resource = this.#options.live.resourceOf(target.kind);
    let live = this.#options.live.get(target.kind, target.namespace, target.name);
    // Not (yet) in the cache: deleted, or our reflector has not seen it; its arrival calls liveChanged.
    if (resource === undefined || live === undefined) {
      this.#settled.delete(key);
      if (desired === undefined) this.#released.delete(key);
      return;
    }
    const settled = this.#settled.get(key);
    if (settled?.written !== undefined && settled.written.over === live.metadata?.resourceVersion)
      live = settled.written.object;
    const ref = resource.namespaced ? { namespace: target.namespace, name: target.name } : { name: target.name };

    if (desired !== undefined && SSA_KINDS.has(desired.kind)) {
      const merged = mergeStatus(live.status, desired, this.#options.controllerName);
      if (statusEquals(live.status, merged)) {
        this.stats.unchanged++;
        return this.#settle(key, live);
      }
      this.stats.writes++;
      const written = await this.#options.writer.apply(resource, ref, ownedPart(merged, desired));
      this.#record(resource, live, merged);
      return this.#settle(key, live, written);
    }
    const { controllerName } = this.#options;
    const compute = (status: unknown) => {
      const next =
        desired !== undefined
          ? mergeStatus(status, desired, controllerName)
          : withoutOurEntries(status, controllerName);
      if (next === undefined || statusEquals(status, next)) {
        this.stats.unchanged++;
        return undefined;
      }
      this.stats.writes++;
      return next;
    };
    const before = live.status;
    const result = await this.#options.writer.update(resource, ref, live, compute);
    if (result.written) this.#record(resource, live, result.object?.status, before);
    if (desired === undefined) this.#released.delete(key);
    this.#settle(key, live, result.written ? result.object : undefined, result.object);
  }

  #settle(key: string, live: ApiObject, written?: ApiObject, seen?: ApiObject): void {
    const current = written ?? seen ?? live;
    const entry: Settled = { resourceVersion: current.metadata?.resourceVersion ?? '' };
    if (written !== undefined) entry.written = { over: live.metadata?.resourceVersion ?? '', object: written };
    this.#settled.set(key, entry);
  }

  #record(resource: ResourceType, live: ApiObject, after: unknown, before: unknown = live.status): void {
    const events = this.#options.events;
    if (events === undefined) return;
    const meta = live.metadata ?? {};
    const regarding = {
      apiVersion: resource.group === '' ? resource.version : `${resource.group}/${resource.version}`,
      kind: resource.kind,
      namespace: meta.namespace,
      name: meta.name ?? '',
      uid: meta.uid,
    };
    for (const event of statusEvents(before, after, this.#options.controllerName))
      events.record(regarding, event.type, event.reason, 'UpdateStatus', event.note);
  }
}

/** A route (`parents`) or policy (`ancestors`) status without our entries; undefined when it has none of ours. */
function withoutOurEntries(status: unknown, controllerName: string): unknown {
  const list = Array.isArray((status as { ancestors?: unknown } | undefined)?.ancestors) ? 'ancestors' : 'parents';
  const entries = (status as Record<string, Array<{ controllerName?: string }> | undefined> | undefined)?.[list];
  if (!Array.isArray(entries) || !entries.some((p) => p?.controllerName === controllerName)) return undefined;
  return { ...(status as object), [list]: entries.filter((p) => p?.controllerName !== controllerName) };
}

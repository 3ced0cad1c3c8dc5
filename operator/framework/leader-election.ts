// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection: every candidate tries to take
// the Lease every retryPeriod (jittered); the holder renews it every retryPeriod and gives up leading when it could
// not renew for renewDeadline. A Lease held by someone else counts as expired only when its record has not changed
// for leaseDurationSeconds by OUR clock (the record's times are never compared with our clock, so clock skew between
// replicas does not matter). Writes are optimistic: an update carries the resourceVersion it read, so two candidates
// cannot both win. On stop, a leader releases the Lease (empty holder, 1 s duration) so that another replica takes
// over at its next try instead of waiting out the lease.
// renewDeadline < leaseDuration is what makes this safe: we stop acting as leader before anyone else may start.

import { sleep } from './backoff.ts';
import { isApiError } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';
import type { Log } from './log.ts';
import { objectPath, collectionPath } from './resource.ts';
import type { ResourceType } from './resource.ts';

export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Unique per replica (pod name, or host/pid). */
  identity: string;
  /** Default 15 s. Written to the Lease in whole seconds (at least 1). */
  leaseDurationMs?: number;
  /** Default 10 s; must be less than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  log: Log;
  onStartedLeading?(): void;
  onStoppedLeading?(): void;
  /** The holder we observe changed ('' while nobody holds the Lease). */
  onNewLeader?(identity: string): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;
  #leader = false;
  #lease: Lease | null = null;
  #observed = '';
  #observedAt = 0;
  #observedHolder: string | undefined;
  #leadingWaiters: Array<() => void> = [];

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.#renewDeadlineMs < this.#leaseDurationMs))
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (!(this.#retryPeriodMs < this.#renewDeadlineMs))
      throw new Error('leader election: retryPeriod must be shorter than renewDeadline');
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** The holder last observed on the Lease ('' when free, undefined before the first read). */
  get observedLeader(): string | undefined {
    return this.#observedHolder;
  }

  /** Resolves when this replica leads (at once if it does). */
  whenLeading(): Promise<void> {
    if (this.#leader) return Promise.resolve();
    return new Promise((resolve) => this.#leadingWaiters.push(resolve));
  }

  start(): this {
    this.#running ??= this.#run();
    return this;
  }

  /** Stops trying; a leader stops leading and releases the Lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    if (this.#leader) {
      this.#setLeader(false);
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      while (!signal.aborted && !(await this.#tryAcquireOrRenew())) {
        // client-go's JitterUntil(retryPeriod, 1.2): somewhere in [retry, 2.2 × retry].
        await sleep(this.#retryPeriodMs * (1 + 1.2 * Math.random()), signal);
      }
      if (signal.aborted) return;
      this.#setLeader(true);
      let lastRenew = Date.now();
      while (!signal.aborted) {
        await sleep(this.#retryPeriodMs, signal);
        if (signal.aborted) return; // stop() releases
        if (await this.#tryAcquireOrRenew()) lastRenew = Date.now();
        else if (Date.now() - lastRenew >= this.#renewDeadlineMs) break;
      }
      this.#options.log.warn(
        { lease: this.#leaseName(), renewDeadlineMs: this.#renewDeadlineMs },
        'could not renew the lease in time; no longer leading',
      );
      this.#setLeader(false);
      this.#lease = null;
    }
  }

  #leaseName(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }

  #setLeader(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    const { log, identity } = this.#options;
    log.info({ lease: this.#leaseName(), identity }, leader ? 'became leader' : 'stopped leading');
    try {
      if (leader) this.#options.onStartedLeading?.();
      else this.#options.onStoppedLeading?.();
    } catch (error) {
      log.error({ err: (error as Error)?.message }, 'leader election callback failed');
    }
    if (leader) for (const resolve of this.#leadingWaiters.splice(0)) resolve();
  }

  #observe(spec: LeaseSpec, now: number): void {
    const record = JSON.stringify([
      spec.holderIdentity ?? '',
      spec.leaseDurationSeconds,
      spec.acquireTime,
      spec.renewTime,
      spec.leaseTransitions,
    ]);
    if (record !== this.#observed) {
      this.#observed = record;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      try {
        this.#options.onNewLeader?.(holder);
      } catch {
        // a callback's failure is not the elector's
      }
    }
  }

  /** One attempt; true when we hold the Lease afterwards. Never throws. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, log } = this.#options;
    const timeoutMs = Math.max(1000, this.#renewDeadlineMs / 2);
    const now = Date.now();
    const seconds = Math.max(1, Math.ceil(this.#leaseDurationMs / 1000));
    try {
      // As leader, renew straight from the Lease we last wrote; a conflict sends us back to reading it.
      let lease = this.#leader ? this.#lease : null;
      if (lease === null) {
        try {
          lease = await client.request<Lease>('GET', objectPath(LEASES, { namespace, name }), {
            timeoutMs,
            signal: this.#stop.signal,
          });
        } catch (error) {
          if (!isApiError(error, 404)) throw error;
          const created = await client.request<Lease>('POST', collectionPath(LEASES, namespace), {
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds: seconds,
                acquireTime: microTime(now),
                renewTime: microTime(now),
                leaseTransitions: 0,
              },
            },
            timeoutMs,
            signal: this.#stop.signal,
          });
          this.#lease = created;
          this.#observe(created.spec ?? {}, now);
          return true;
        }
        const spec = lease.spec ?? {};
        this.#observe(spec, now);
        const holder = spec.holderIdentity ?? '';
        const durationMs = (spec.leaseDurationSeconds ?? seconds) * 1000;
        if (holder !== '' && holder !== identity && this.#observedAt + durationMs > now) return false;
      }
      const spec = lease.spec ?? {};
      const renewing = (spec.holderIdentity ?? '') === identity;
      const updated = await client.request<Lease>('PUT', objectPath(LEASES, { namespace, name }), {
        body: {
          ...lease,
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            acquireTime: renewing && spec.acquireTime ? spec.acquireTime : microTime(now),
            renewTime: microTime(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
          },
        },
        timeoutMs,
        signal: this.#stop.signal,
      });
      this.#lease = updated;
      this.#observe(updated.spec ?? {}, now);
      return true;
    } catch (error) {
      // Stopped mid-request: keep what we last wrote, release() needs it.
      if (this.#stop.signal.aborted) return false;
      this.#lease = null;
      if (!isApiError(error, 409)) {
        log.warn({ lease: this.#leaseName(), err: (error as Error)?.message }, 'lease update failed');
      }
      return false;
    }
  }

  async #release(): Promise<void> {
    const { client, namespace, name, identity, log } = this.#options;
    const path = objectPath(LEASES, { namespace, name });
    let lease = this.#lease;
    this.#lease = null;
    for (let attempt = 0; attempt < 2 && lease !== null; attempt++) {
      const now = microTime(Date.now());
      try {
        await client.request('PUT', path, {
          body: {
            ...lease,
            spec: {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: lease.spec?.leaseTransitions ?? 0,
            },
          },
          timeoutMs: 3000,
        });
        log.info({ lease: this.#leaseName() }, 'released the lease');
        return;
      } catch (error) {
        if (!isApiError(error, 409) || attempt > 0) {
          // The server is gone, or someone else took over: the Lease then expires (or is held) without us.
          log.warn({ lease: this.#leaseName(), err: (error as Error)?.message }, 'could not release the lease');
          return;
        }
        // Our copy was stale (a renewal cut short by stop): read it again, and release only if it is still ours.
        lease = await client.request<Lease>('GET', path, { timeoutMs: 3000 }).catch(() => null);
        if (lease?.spec?.holderIdentity !== identity) return;
      }
    }
  }
}

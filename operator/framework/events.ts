// Kubernetes Events (events.k8s.io/v1) about objects, de-duplicated and rate-limited as client-go's recorder does:
//  - the same event (object, type, reason, action, note) seen again within `dedupWindowMs` does not create a new
//    Event: it counts into the first one's `series`, patched at most once per `seriesIntervalMs`;
//  - new Events are held to a token bucket; beyond it they are dropped and counted (Events are best effort, and a
//    reconcile storm must not turn into an Event storm on the API server).
// record() never throws and never waits: the writes run in the background; stop() waits for them.

import { CONTENT_TYPE } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';
import { microTime } from './leader-election.ts';
import type { Log } from './log.ts';
import { collectionPath } from './resource.ts';
import type { ResourceType } from './resource.ts';
import { TokenBucket } from './workqueue.ts';

export const EVENTS: ResourceType = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
  namespaced: true,
};

/** The object an Event is about (an ObjectReference). */
export interface EventRegarding {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** e.g. `portico.dev/gateway-controller`. */
  reportingController: string;
  /** This replica (pod name). */
  reportingInstance: string;
  log: Log;
  /** Where Events about cluster-scoped objects go. Default `default`. */
  clusterEventsNamespace?: string;
  /** Default 10 minutes. */
  dedupWindowMs?: number;
  /** Default 30 s. */
  seriesIntervalMs?: number;
  /** New Events per second, and the burst. Default 1 and 25. */
  qps?: number;
  burst?: number;
}

export interface EventRecorderStats {
  created: number;
  seriesUpdates: number;
  deduplicated: number;
  dropped: number;
  failed: number;
}

interface Entry {
  namespace: string;
  name: string | null;
  firstAt: number;
  count: number;
  lastObserved: number;
  patchedCount: number;
  timer: NodeJS.Timeout | null;
}

const MAX_NOTE = 1024;
const MAX_FIELD = 128;

export class EventRecorder {
  readonly stats: EventRecorderStats = { created: 0, seriesUpdates: 0, deduplicated: 0, dropped: 0, failed: 0 };
  readonly #options: EventRecorderOptions;
  readonly #bucket: TokenBucket;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Set<Promise<void>>();
  #lastSweep = Date.now();
  #stopped = false;

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#bucket = new TokenBucket(options.qps ?? 1, options.burst ?? 25);
  }

  record(regarding: EventRegarding, type: EventType, reason: string, action: string, note: string): void {
    if (this.#stopped) return;
    const now = Date.now();
    const window = this.#options.dedupWindowMs ?? 600_000;
    this.#sweep(now, window);
    const key = JSON.stringify([
      regarding.kind,
      regarding.namespace ?? '',
      regarding.name,
      regarding.uid ?? '',
      type,
      reason,
      action,
      note,
    ]);
    const entry = this.#entries.get(key);
    if (entry !== undefined && now - entry.firstAt < window) {
      entry.count++;
      entry.lastObserved = now;
      this.stats.deduplicated++;
      this.#scheduleSeries(entry);
      return;
    }
    if (this.#bucket.reserve() > 0) {
      this.stats.dropped++;
      return;
    }
    const namespace = regarding.namespace || (this.#options.clusterEventsNamespace ?? 'default');
    const created: Entry = {
      namespace,
      name: null,
      firstAt: now,
      count: 1,
      lastObserved: now,
      patchedCount: 1,
      timer: null,
    };
    this.#entries.set(key, created);
    this.#track(this.#create(created, regarding, type, reason, action, note));
  }

  /** Stops recording and waits for the writes in flight (pending series updates are dropped). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const entry of this.#entries.values()) if (entry.timer !== null) clearTimeout(entry.timer);
    await Promise.allSettled([...this.#inFlight]);
  }

  async #create(
    entry: Entry,
    regarding: EventRegarding,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const { client, reportingController, reportingInstance, log } = this.#options;
    const name = `${regarding.name.slice(0, 200)}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    try {
      await client.request('POST', collectionPath(EVENTS, entry.namespace), {
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace: entry.namespace },
          eventTime: microTime(entry.firstAt),
          reportingController: reportingController.slice(0, MAX_FIELD),
          reportingInstance: reportingInstance.slice(0, MAX_FIELD),
          action: action.slice(0, MAX_FIELD),
          reason: reason.slice(0, MAX_FIELD),
          regarding,
          note: note.length > MAX_NOTE ? `${note.slice(0, MAX_NOTE - 3)}...` : note,
          type,
        },
        contentType: CONTENT_TYPE.json,
      });
      entry.name = name;
      this.stats.created++;
      if (entry.count > entry.patchedCount) this.#scheduleSeries(entry);
    } catch (error) {
      this.stats.failed++;
      log.debug(
        {
          regarding: `${regarding.kind} ${regarding.namespace ?? ''}/${regarding.name}`,
          reason,
          err: (error as Error)?.message,
        },
        'could not create an event',
      );
    }
  }

  #scheduleSeries(entry: Entry): void {
    if (entry.timer !== null || entry.name === null || this.#stopped) return;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      this.#track(this.#patchSeries(entry));
    }, this.#options.seriesIntervalMs ?? 30_000);
    entry.timer.unref();
  }

  async #patchSeries(entry: Entry): Promise<void> {
    if (entry.name === null || entry.count <= entry.patchedCount) return;
    const count = entry.count;
    try {
      await this.#options.client.request(
        'PATCH',
        `${collectionPath(EVENTS, entry.namespace)}/${encodeURIComponent(entry.name)}`,
        {
          body: { series: { count, lastObservedTime: microTime(entry.lastObserved) } },
          contentType: CONTENT_TYPE.mergePatch,
        },
      );
      entry.patchedCount = count;
      this.stats.seriesUpdates++;
    } catch (error) {
      this.stats.failed++;
      this.#options.log.debug(
        { event: entry.name, err: (error as Error)?.message },
        'could not update an event series',
      );
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** Forgets entries older than the window (their next occurrence creates a new Event). */
  #sweep(now: number, window: number): void {
    if (now - this.#lastSweep < window / 10) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) {
      if (now - entry.firstAt >= window && entry.timer === null) this.#entries.delete(key);
    }
  }
}

// A reflector keeps an ObjectCache equal to what the API server holds for one kind (optionally one namespace and
// selectors), and tells a handler about every change. The loop, as client-go's:
//   list (paged: limit/continue) → remember the list's resourceVersion → watch from it, with bookmarks, with a
//   randomized timeoutSeconds so that replicas do not reconnect in step → on a clean end, watch again from the last
//   resourceVersion seen (no event is replayed or lost) → on 410 Gone (HTTP or an ERROR event), relist: the cache is
//   replaced and objects deleted meanwhile are reported deleted.
// A watchdog aborts a stream that has been silent longer than `watchdogMs` (bookmarks arrive every minute or two,
// so silence means a dead connection nobody told us about); failures back off exponentially with jitter. Nothing
// here throws into the caller or the process: errors are logged, counted and retried until stop().

import { Backoff, sleep } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { ObjectCache } from './cache.ts';
import type { ReplaceDiff } from './cache.ts';
import { ApiError, isApiError } from './kube-client.ts';
import type { KubeClient, Query } from './kube-client.ts';
import type { Log } from './log.ts';
import { collectionPath, keyOf, resourceId } from './resource.ts';
import type { ApiObject, ResourceType } from './resource.ts';

export interface ReflectorHandler<T extends ApiObject> {
  /** After a (re)list: the cache now holds exactly `objects`; `diff` says what changed since before. */
  replaced?(objects: T[], diff: ReplaceDiff<T>): void;
  upserted?(object: T, previous: T | undefined): void;
  deleted?(object: T): void;
}

export interface ReflectorOptions<T extends ApiObject> {
  client: KubeClient;
  resource: ResourceType;
  /** Watch one namespace only (namespaced kinds); default all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  handler?: ReflectorHandler<T>;
  /** Applied to every object before it is cached (e.g. drop managedFields to save memory). */
  transform?: (object: ApiObject) => T;
  log: Log;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /** The watch timeoutSeconds is drawn from [min, 2 × min]. Default 300 (client-go's 5–10 minutes). */
  minWatchTimeoutSeconds?: number;
  /**
   * A stream silent for this long is aborted and reopened. Default 300 s: a quiet kube-apiserver 1.36 was measured
   * sending a bookmark about every 120 s (and one just before timeoutSeconds), so 300 s of silence means a dead link.
   */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  /** A watch that lasted this long counts as healthy and resets the backoff. Default 10 s. */
  healthyAfterMs?: number;
  /**
   * Told about every failed list/watch attempt before the backoff (the reflector keeps retrying until stop()). When it
   * returns true the caller has reported the failure itself and the reflector logs it at debug level only: a caller
   * that knows what a 403 or a 404 means (a namespace not granted, a CRD deleted) says so once, not every 30 s.
   * The next attempt then lists afresh: the caller may have dropped what it held, and a watch from the old
   * resourceVersion would not give it back.
   */
  onFailure?(error: unknown, consecutive: number): boolean;
  /** Told when a list succeeds after failures (the condition onFailure reported is over). */
  onRecovered?(): void;
}

export interface ReflectorStats {
  /** Successful lists (the first one included). */
  lists: number;
  /** List pages fetched (limit/continue). */
  pages: number;
  /** Relists caused by 410 Gone / an expired resourceVersion. */
  relists: number;
  /** Watch streams opened (HTTP 200). */
  watches: number;
  /** Streams aborted by the watchdog. */
  watchdogAborts: number;
  /** Failed list/watch attempts (each followed by a backoff). */
  errors: number;
  /** Events applied from watch streams. */
  events: number;
}

/** Thrown inside the loop to ask for a relist. */
class Gone extends Error {}

export class Reflector<T extends ApiObject = ApiObject> {
  readonly cache = new ObjectCache<T>();
  readonly stats: ReflectorStats = {
    lists: 0,
    pages: 0,
    relists: 0,
    watches: 0,
    watchdogAborts: 0,
    errors: 0,
    events: 0,
  };
  /** Resolves after the first successful list (the cache is complete); never rejects. */
  readonly synced: Promise<void>;
  readonly #options: ReflectorOptions<T>;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #markSynced!: () => void;
  #hasSynced = false;
  /** Failed attempts since the last successful list. */
  #failures = 0;
  #resourceVersion: string | undefined;
  #running: Promise<void> | null = null;
  #stream: AbortController | null = null;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    this.#backoff = new Backoff({ initialMs: 200, maxMs: 30_000, ...options.backoff });
    this.synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  get name(): string {
    const { resource, namespace } = this.#options;
    return namespace === undefined ? resourceId(resource) : `${resourceId(resource)} in ${namespace}`;
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** The resourceVersion the next watch starts from (undefined: a list comes first). */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  start(): this {
    this.#running ??= this.#run();
    return this;
  }

  /** Ends the current stream and the loop; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#stream?.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { log } = this.#options;
    while (!this.#stop.signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#list();
        const healthy = await this.#watch();
        if (healthy) this.#backoff.reset();
        else await sleep(this.#backoff.next(), this.#stop.signal);
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        if (error instanceof Gone) {
          // Our resourceVersion is older than the server keeps: only a fresh list can tell us what happened.
          this.stats.relists++;
          this.#resourceVersion = undefined;
          log.info({ resource: this.name, reason: error.message }, 'resourceVersion expired; relisting');
          continue;
        }
        this.stats.errors++;
        this.#failures++;
        const delay = this.#backoff.next();
        const err = error as ApiError;
        const reported = this.#options.onFailure?.(error, this.#failures) === true;
        if (reported) this.#resourceVersion = undefined;
        (reported ? log.debug : log.warn).call(
          log,
          { resource: this.name, code: err.code, reason: err.reason, err: err.message, retryInMs: delay },
          'list/watch failed; retrying',
        );
        await sleep(delay, this.#stop.signal);
      }
    }
  }

  #query(): Query {
    return { labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector };
  }

  async #list(): Promise<void> {
    const { client, resource, namespace } = this.#options;
    const path = collectionPath(resource, namespace);
    const limit = this.#options.pageSize ?? 500;
    const objects: T[] = [];
    let token: string | undefined;
    let listVersion = '';
    let paged = true;
    for (;;) {
      const query: Query = { ...this.#query(), limit: paged ? limit : undefined, continue: token };
      let page: {
        apiVersion?: string;
        kind?: string;
        metadata?: { resourceVersion?: string; continue?: string };
        items?: ApiObject[];
      };
      try {
        page = await client.request('GET', path, { query, signal: this.#stop.signal });
      } catch (error) {
        if (token !== undefined && isApiError(error, 410)) {
          // The continue token expired between pages: start over in one unpaged request (as client-go does).
          objects.length = 0;
          token = undefined;
          paged = false;
          continue;
        }
        throw error;
      }
      this.stats.pages++;
      const kind = (page.kind ?? '').replace(/List$/, '') || resource.kind;
      for (const item of page.items ?? [])
        objects.push(
          this.#prepare({ ...item, apiVersion: item.apiVersion ?? page.apiVersion, kind: item.kind ?? kind }),
        );
      listVersion = page.metadata?.resourceVersion ?? listVersion;
      token = page.metadata?.continue || undefined;
      if (token === undefined) break;
    }
    const diff = this.cache.replace(objects);
    this.#resourceVersion = listVersion;
    this.stats.lists++;
    if (this.#failures > 0) {
      this.#failures = 0;
      this.#notify(() => this.#options.onRecovered?.());
    }
    this.#notify(() => this.#options.handler?.replaced?.(objects, diff));
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#markSynced();
    }
    this.#options.log.debug(
      { resource: this.name, objects: objects.length, resourceVersion: listVersion, deleted: diff.deleted.length },
      'listed',
    );
  }

  /** One watch stream, until it ends. Resolves true when it was healthy (ran long enough or delivered events). */
  async #watch(): Promise<boolean> {
    const { client, resource, namespace } = this.#options;
    const minTimeout = this.#options.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minTimeout * (1 + Math.random()));
    const watchdogMs = this.#options.watchdogMs ?? 300_000;
    const stream = new AbortController();
    this.#stream = stream;
    const started = Date.now();
    let events = 0;
    let watchdog: NodeJS.Timeout | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        this.stats.watchdogAborts++;
        this.#options.log.warn({ resource: this.name, silentMs: watchdogMs }, 'watch stream silent; reopening it');
        stream.abort();
      }, watchdogMs);
    };
    try {
      feed();
      const body = await client.stream(collectionPath(resource, namespace), {
        query: {
          ...this.#query(),
          watch: true,
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
        },
        signal: stream.signal,
      });
      this.stats.watches++;
      // An error after we stopped reading (our own abort, a reset) must not become an unhandled 'error' event.
      body.on('error', () => undefined);
      body.setEncoding('utf8');
      let buffered = '';
      for await (const chunk of body as AsyncIterable<string>) {
        feed();
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          this.#apply(JSON.parse(line) as { type?: string; object?: ApiObject });
          events++;
        }
      }
    } catch (error) {
      if (error instanceof Gone) throw error;
      if (isApiError(error, 410) || isTooLargeResourceVersion(error)) throw new Gone((error as ApiError).message);
      // A stream we aborted ourselves (watchdog, stop) is not a failure of the server.
      if (!stream.signal.aborted) throw error;
      if (this.#stop.signal.aborted) return true;
    } finally {
      clearTimeout(watchdog);
      // Closes the connection if we leave before the server ended the stream (an ERROR event, a bad line).
      stream.abort();
      this.#stream = null;
    }
    return events > 0 || Date.now() - started >= (this.#options.healthyAfterMs ?? 10_000);
  }

  #apply(event: { type?: string; object?: ApiObject }): void {
    const object = event.object;
    if (object === undefined || object === null) return;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const prepared = this.#prepare(object);
        const previous = this.cache.upsert(prepared);
        this.#advance(object);
        this.#notify(() => this.#options.handler?.upserted?.(prepared, previous));
        break;
      }
      case 'DELETED': {
        const previous = this.cache.delete(keyOf(object));
        this.#advance(object);
        if (previous !== undefined) this.#notify(() => this.#options.handler?.deleted?.(previous));
        break;
      }
      case 'BOOKMARK':
        this.#advance(object);
        return;
      case 'ERROR': {
        const status = object as { code?: number; reason?: string; message?: string };
        if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone')
          throw new Gone(status.message ?? 'Gone');
        throw new ApiError(
          status.code ?? 500,
          status.reason ?? '',
          `watch error: ${status.message ?? JSON.stringify(object)}`,
        );
      }
      default:
        throw new ApiError(500, 'BadEvent', `unknown watch event type ${JSON.stringify(event.type)}`);
    }
    this.stats.events++;
  }

  #advance(object: ApiObject): void {
    const version = object.metadata?.resourceVersion;
    if (typeof version === 'string' && version !== '') this.#resourceVersion = version;
  }

  #prepare(object: ApiObject): T {
    return this.#options.transform ? this.#options.transform(object) : (object as T);
  }

  /** Handler errors are the handler's bug: logged, never allowed to stop the reflector. */
  #notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#options.log.error(
        { resource: this.name, err: (error as Error)?.message ?? String(error) },
        'reflector handler failed',
      );
    }
  }
}

/** The server is behind the resourceVersion we hold (e.g. etcd restored from a backup): only a relist helps. */
function isTooLargeResourceVersion(error: unknown): boolean {
  return isApiError(error) && error.code === 504 && /too large resource version/i.test(error.message);
}

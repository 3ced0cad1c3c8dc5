// Writes the status subresource, in the two ways a controller needs:
//  - apply(): server-side apply with `force` under our fieldManager — for objects whose status we alone write. The
//    API server merges by the schema's list keys and takes ownership of exactly the fields we send; fields we stop
//    sending are removed if we owned them.
//  - update(): read-modify-write — for status shared with other controllers in a list SSA would treat as atomic.
//    The caller's `compute` sees the live status and returns the status to write (or undefined: nothing to change);
//    the write is a JSON merge patch carrying the resourceVersion it was computed from, so a concurrent writer makes
//    it fail with 409 Conflict, and it is computed again from a fresh read.
// Both name their content type explicitly (client-node's generated patch methods otherwise pick one themselves).

import { CONTENT_TYPE, ApiError, isApiError } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';
import type { Log } from './log.ts';
import { apiVersionOf, objectPath } from './resource.ts';
import type { ApiObject, ObjectRef, ResourceType } from './resource.ts';

export interface StatusWriterOptions {
  client: KubeClient;
  fieldManager: string;
  log: Log;
  /** Conflicts retried by update() before it gives up (the caller's queue retries later). Default 5. */
  maxConflicts?: number;
  /** Time to the response of each write. Default 10 s. */
  timeoutMs?: number;
  /** Called after every request with its kind, outcome and duration (the operator's status-write histogram). */
  observe?: (
    request: 'apply' | 'update' | 'read',
    outcome: 'written' | 'conflict' | 'gone' | 'error',
    seconds: number,
  ) => void;
}

/** Times `run` and reports it to `observe`: written, or the outcome its error means (404 gone, 409 conflict). */
async function timed<T>(
  observe: StatusWriterOptions['observe'],
  request: 'apply' | 'update' | 'read',
  run: () => Promise<T>,
): Promise<T> {
  if (observe === undefined) return run();
  const started = performance.now();
  try {
    const result = await run();
    observe(request, 'written', (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    const outcome = isApiError(error, 404) ? 'gone' : isApiError(error, 409) ? 'conflict' : 'error';
    observe(request, outcome, (performance.now() - started) / 1000);
    throw error;
  }
}

export interface StatusWriterStats {
  /** Server-side applies sent. */
  applies: number;
  /** Read-modify-write patches sent (conflicted ones included). */
  updates: number;
  conflicts: number;
  /** Writes skipped because the object is gone. */
  gone: number;
}

export type StatusCompute = (status: unknown, object: ApiObject) => unknown;

export class StatusWriter {
  readonly stats: StatusWriterStats = { applies: 0, updates: 0, conflicts: 0, gone: 0 };
  readonly #options: StatusWriterOptions;

  constructor(options: StatusWriterOptions) {
    this.#options = options;
  }

  /** Server-side apply of `status`; resolves with the object as written, or undefined when it no longer exists. */
  async apply(resource: ResourceType, ref: ObjectRef, status: unknown): Promise<ApiObject | undefined> {
    const { client, fieldManager } = this.#options;
    const metadata = resource.namespaced ? { name: ref.name, namespace: ref.namespace } : { name: ref.name };
    this.stats.applies++;
    try {
      return await timed(this.#options.observe, 'apply', () =>
        client.request<ApiObject>('PATCH', objectPath(resource, ref, 'status'), {
          query: { fieldManager, force: true },
          body: { apiVersion: apiVersionOf(resource), kind: resource.kind, metadata, status },
          contentType: CONTENT_TYPE.apply,
          timeoutMs: this.#options.timeoutMs ?? 10_000,
        }),
      );
    } catch (error) {
      if (isApiError(error, 404)) {
        this.stats.gone++;
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Read-modify-write. `current` (e.g. from a reflector's cache) saves the first read; a conflict re-reads from the
   * server. Resolves with whether a write happened and the object as last seen (undefined: it is gone).
   */
  async update(
    resource: ResourceType,
    ref: ObjectRef,
    current: ApiObject | undefined,
    compute: StatusCompute,
  ): Promise<{ written: boolean; object: ApiObject | undefined }> {
    const { client, fieldManager, log } = this.#options;
    const maxConflicts = this.#options.maxConflicts ?? 5;
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    let object = current;
    for (let conflicts = 0; ; ) {
      if (object === undefined) {
        try {
          object = await timed(this.#options.observe, 'read', () =>
            client.request<ApiObject>('GET', objectPath(resource, ref), { timeoutMs }),
          );
        } catch (error) {
          if (!isApiError(error, 404)) throw error;
          this.stats.gone++;
          return { written: false, object: undefined };
        }
      }
      const next = compute(object.status, object);
      if (next === undefined) return { written: false, object };
      this.stats.updates++;
      try {
        const patch = { metadata: { resourceVersion: object.metadata?.resourceVersion }, status: next };
        const written = await timed(this.#options.observe, 'update', () =>
          client.request<ApiObject>('PATCH', objectPath(resource, ref, 'status'), {
            query: { fieldManager },
            body: patch,
            contentType: CONTENT_TYPE.mergePatch,
            timeoutMs,
          }),
        );
        return { written: true, object: written };
      } catch (error) {
        if (isApiError(error, 404)) {
          this.stats.gone++;
          return { written: false, object: undefined };
        }
        if (!isApiError(error, 409)) throw error;
        this.stats.conflicts++;
        if (++conflicts > maxConflicts)
          throw new ApiError(
            409,
            'Conflict',
            `${resource.kind} ${ref.name}: still conflicting after ${maxConflicts} retries`,
          );
        log.debug(
          { kind: resource.kind, namespace: ref.namespace, name: ref.name, conflicts },
          'status conflict; reading again',
        );
        object = undefined;
      }
    }
  }
}

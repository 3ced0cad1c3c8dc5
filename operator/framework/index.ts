/**
 * @module operator/framework
 *
 * A small, generic controller runtime on @kubernetes/client-node 2.x (DESIGN.md, decision 3): one keep-alive API
 * client (`KubeClient`), reflectors that keep an indexed cache of one kind in step with the API server (paged list,
 * watch from resourceVersion with bookmarks, relist on 410 Gone, watchdog, backoff with jitter, `synced`), a
 * rate-limited de-duplicating work queue, Lease leader election, a status writer (server-side apply, or
 * read-modify-write with resourceVersion and conflict retry), an Event recorder, and graceful shutdown.
 *
 * What it must not do: know anything of Gateway API or of the operator around it (it imports only node:, undici,
 * @kubernetes/client-node and its own files — `imports.test.ts` checks), let an API error escape into the process
 * (every loop catches, logs, backs off and retries), or keep module state.
 */

export { Backoff, sleep } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
export { ObjectCache } from './cache.ts';
export type { IndexFunc, ReplaceDiff } from './cache.ts';
export { EventRecorder, EVENTS } from './events.ts';
export type { EventRecorderOptions, EventRegarding, EventType } from './events.ts';
export { ApiError, CONTENT_TYPE, KubeClient, isApiError } from './kube-client.ts';
export type { KubeClientOptions, Query, RequestOptions } from './kube-client.ts';
export { LEASES, LeaderElector, microTime } from './leader-election.ts';
export type { LeaderElectionOptions } from './leader-election.ts';
export { silentLog } from './log.ts';
export type { Log } from './log.ts';
export { Reflector } from './reflector.ts';
export type { ReflectorHandler, ReflectorOptions, ReflectorStats } from './reflector.ts';
export { apiVersionOf, collectionPath, keyOf, keyOfRef, objectPath, refOf, resourceId } from './resource.ts';
export type { ApiObject, ObjectMeta, ObjectRef, ResourceType } from './resource.ts';
export { Shutdown } from './shutdown.ts';
export { StatusWriter } from './status-writer.ts';
export type { StatusCompute, StatusWriterOptions, StatusWriterStats } from './status-writer.ts';
export { ExponentialLimiter, TokenBucket, WorkQueue } from './workqueue.ts';
export type { WorkQueueOptions } from './workqueue.ts';

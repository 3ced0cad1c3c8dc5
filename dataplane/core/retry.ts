// The HTTPRoute retry decision and the timeout deadlines, written once for every HTTP front end: the HTTP/1.1
// engine's own exchange (h1/proxy.ts), its h2c path through undici (h1/h2c.ts) and the Fastify front end's
// @fastify/reply-from hooks (http/forward.ts) all ask `retryDelay` after a failed attempt and arm their timers with
// `armDeadline`, so a rule retries the same attempts, with the same backoff, whichever protocol the client spoke.
// What it must not do: I/O, timers of its own, allocation per call (the hot path asks it on every retried status).

import type { RetryPolicy } from '../../shared/ir/route.ts';
import { BACKEND_TIMEOUT, isConnectionError } from '../errors.ts';

/** `retryDelay`'s answer when the attempt is final. */
export const NO_RETRY = -1;

/**
 * After an attempt failed with `status` (a response's status, 0 when none came) or `errorCode` (the attempt's error,
 * '' when a response came): the milliseconds to wait before the next attempt, or NO_RETRY.
 * - `retries` is the number of retries already made (0 after the first attempt): `retry.attempts` bounds it.
 * - `replayable` is false when the request carries a body that has been (or is being) streamed upstream: a streamed
 *   body cannot be sent twice, so such a request is never retried.
 * - A status is retried only when the rule lists it (`retry.codes`); an error only when it is a connection-level
 *   failure and `onConnectionError` is set, or the attempt ran out its backend timeout and `onBackendTimeout` is set
 *   (a 504 in `codes` is about responses, not about our own timeout).
 * The delay is at least 1 ms: reply-from reads 0 as "no retry", and a retry must yield to I/O in any case.
 */
export function retryDelay(
  retry: RetryPolicy | null,
  retries: number,
  status: number,
  errorCode: string,
  replayable: boolean,
): number {
  if (retry === null || retries >= retry.attempts || !replayable) return NO_RETRY;
  if (status > 0) return retry.codes.includes(status) ? backoffOf(retry) : NO_RETRY;
  if (errorCode === BACKEND_TIMEOUT) return retry.onBackendTimeout ? backoffOf(retry) : NO_RETRY;
  if (retry.onConnectionError && isConnectionError(errorCode)) return backoffOf(retry);
  return NO_RETRY;
}

function backoffOf(retry: RetryPolicy): number {
  return Math.max(retry.backoffMs, 1);
}

/**
 * Whether a request could be sent again: it has no body. The HTTP/1.1 engine knows from the framing (`hasBody`), the
 * HTTP/2 front end from reply-from's body (a stream, or nothing).
 */
export function replayableBody(body: unknown): boolean {
  return body === undefined || body === null || body === '';
}

/**
 * Arms one of a request's two deadlines: `timeouts.request` (the whole request, retries and backoff included, until
 * the response's last byte) or `timeouts.backendRequest` (one attempt, from its dispatch to its response's last
 * byte). `ms` of 0 means the rule sets none: no timer. The callback gets `target` (no closure per request).
 */
export function armDeadline<T>(ms: number, onExpiry: (target: T) => void, target: T): NodeJS.Timeout | null {
  return ms > 0 ? setTimeout(onExpiry, ms, target) : null;
}

/** Clears a deadline armed by `armDeadline` (null: none). Returns null, for `timer = clearDeadline(timer)`. */
export function clearDeadline(timer: NodeJS.Timeout | null): null {
  if (timer !== null) clearTimeout(timer);
  return null;
}

/** The error an attempt ends with when its backend timeout expires (answered 504, or retried by `retryDelay`). */
export function backendTimeoutError(ms: number): Error & { code: string } {
  return Object.assign(new Error(`the backend did not answer within ${ms} ms`), { code: BACKEND_TIMEOUT });
}

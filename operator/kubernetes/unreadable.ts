// What the Kubernetes provider cannot read (403 Forbidden), by reflector: a namespace in namespaced mode (its Role not
// granted, or revoked), or an optional kind (WatchedKind.optional, e.g. ClusterTrustBundles on a hardened cluster).
// Each is reported once (a log line; a Warning Event on the operator's pod for a namespace) until readable again; the
// provider drops the reflector's objects, and readiness does not wait for it (`holds`). Reflectors keep retrying
// quietly, so a grant is picked up when it comes.

import type { Logger } from 'pino';
import type { EventRecorder } from '../framework/events.ts';
import type { Reflector } from '../framework/reflector.ts';

export interface UnreadableOptions {
  log: Logger;
  events?: EventRecorder;
  eventsAbout?: { apiVersion: string; kind: string; namespace: string; name: string };
  /** Called when an optional kind becomes unreadable or readable again. */
  onKindsChange?(): void;
  /** Removes the reflector's objects from the store; returns how many. */
  dropObjects(reflector: Reflector): number;
}

export class Unreadable {
  readonly #options: UnreadableOptions;
  /** Reflectors whose namespace answered 403, with that namespace. */
  readonly #namespaceOf = new Map<Reflector, string>();
  /** Namespaces reported unreadable (each reported once until readable again). */
  readonly #namespaces = new Set<string>();
  /** Optional kinds whose list answers 403, by reflector: counted as missing, not waited for. */
  readonly #kindOf = new Map<Reflector, string>();

  constructor(options: UnreadableOptions) {
    this.#options = options;
  }

  /** Namespaces whose objects cannot be read, sorted. */
  namespaces(): string[] {
    return [...this.#namespaces].sort();
  }

  /** Optional kinds that cannot be read. */
  kinds(): string[] {
    return [...new Set(this.#kindOf.values())];
  }

  /** This reflector failed with 403: readiness does not wait for it. */
  holds(reflector: Reflector): boolean {
    return this.#namespaceOf.has(reflector) || this.#kindOf.has(reflector);
  }

  /** The reflector is gone (its kind stopped being served). */
  forget(reflector: Reflector): void {
    this.#namespaceOf.delete(reflector);
    this.#kindOf.delete(reflector);
  }

  /** A 403 on one namespace's list: report it once, drop what we held from it, keep serving the others. */
  namespaceForbidden(reflector: Reflector, namespace: string, kind: string, error: Error): void {
    this.#namespaceOf.set(reflector, namespace);
    const dropped = this.#options.dropObjects(reflector);
    if (this.#namespaces.has(namespace)) return;
    this.#namespaces.add(namespace);
    const { log, events, eventsAbout } = this.#options;
    const note = `Cannot read ${kind} in namespace ${namespace} (403 Forbidden: no Role granting it?); namespace not served, the others are`;
    log.warn({ namespace, kind, dropped, err: error.message }, note);
    if (events !== undefined && eventsAbout !== undefined)
      events.record(eventsAbout, 'Warning', 'NamespaceUnreadable', 'Watch', note);
  }

  /** A 403 on an optional kind: said once, its objects dropped, counted as missing; retried quietly (with backoff). */
  kindForbidden(reflector: Reflector, kind: string, error: Error): void {
    const dropped = this.#options.dropObjects(reflector);
    if (this.#kindOf.has(reflector)) return;
    this.#kindOf.set(reflector, kind);
    this.#options.log.warn(
      { kind, dropped, err: error.message },
      `cannot read ${kind} (403 Forbidden); carrying on without it, and reading it once allowed`,
    );
    this.#options.onKindsChange?.();
  }

  /** The reflector listed again: whatever it could not read, it can now. */
  readable(reflector: Reflector): void {
    this.#namespaceReadable(reflector);
    const kind = this.#kindOf.get(reflector);
    if (kind === undefined) return;
    this.#kindOf.delete(reflector);
    this.#options.log.info({ kind }, 'kind readable again');
    this.#options.onKindsChange?.();
  }

  #namespaceReadable(reflector: Reflector): void {
    const namespace = this.#namespaceOf.get(reflector);
    if (namespace === undefined) return;
    this.#namespaceOf.delete(reflector);
    if ([...this.#namespaceOf.values()].includes(namespace) || !this.#namespaces.delete(namespace)) return;
    this.#options.log.info({ namespace }, 'namespace readable again; serving it');
    const { events, eventsAbout } = this.#options;
    if (events !== undefined && eventsAbout !== undefined)
      events.record(eventsAbout, 'Normal', 'NamespaceReadable', 'Watch', `Namespace ${namespace} is readable again`);
  }
}

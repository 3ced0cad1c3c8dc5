// The backends of the session's IR (session.ts): a backend goes in while some route record in the IR uses it, and its
// record (backend.ts `buildBackendRecord`: the spec and the Service's ready endpoints) is built again only when its
// spec or its Service's EndpointSlices changed. Endpoint churn, the most frequent change in a cluster, thus costs one
// backend record per Service port, and no route.

import { buildBackendRecord } from '../backends/backend.ts';
import type { BackendSpec } from '../backends/backend.ts';
import { namespacedKey } from '../keys.ts';
import type { TranslateContext } from '../context.ts';
import type { Backend } from '../../../shared/ir/backend.ts';
import type { SessionPersistence } from '../../../shared/ir/route.ts';

interface BackendEntry {
  /** Route records that use it. */
  refs: number;
  spec: BackendSpec;
  /** `spec` as JSON, made when a second spec object of the key arrives (most keys never get one). */
  specJson: string | undefined;
}

export class BackendTable {
  readonly #entries = new Map<string, BackendEntry>();
  /** Backend keys by Service (`<namespace>/<name>`), to find those whose endpoints changed. */
  readonly #byService = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();

  /** A route record started using the backend `spec` describes. */
  addRef(spec: BackendSpec): void {
    const entry = this.#entries.get(spec.key);
    if (entry === undefined) {
      this.#entries.set(spec.key, { refs: 1, spec, specJson: undefined });
      const service = namespacedKey(spec.namespace, spec.name);
      let keys = this.#byService.get(service);
      if (keys === undefined) this.#byService.set(service, (keys = new Set()));
      keys.add(spec.key);
      this.#dirty.add(spec.key);
      return;
    }
    entry.refs++;
    if (entry.spec === spec) return;
    // Specs of one key from routes translated against the same objects are equal; one from a newer translation
    // (the Service, a BackendTLSPolicy changed) replaces the old one.
    const specJson = JSON.stringify(spec);
    entry.specJson ??= JSON.stringify(entry.spec);
    entry.spec = spec;
    if (specJson === entry.specJson) return;
    entry.specJson = specJson;
    this.#dirty.add(spec.key);
  }

  /** A route record stopped using the backend. */
  removeRef(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || --entry.refs > 0) return;
    this.#entries.delete(key);
    const service = namespacedKey(entry.spec.namespace, entry.spec.name);
    const keys = this.#byService.get(service);
    keys?.delete(key);
    if (keys?.size === 0) this.#byService.delete(service);
    this.#dirty.add(key);
  }

  /** The EndpointSlices of a Service (`<namespace>/<name>`) changed. */
  endpointsChanged(service: string): void {
    for (const key of this.#byService.get(service) ?? []) this.#dirty.add(key);
  }

  /**
   * Backends to put into the IR (a record) or take out (undefined) since the last call; `sessions` holds the session
   * persistence of XBackendTrafficPolicies by Service (a change there is marked with `endpointsChanged` too).
   */
  take(context: TranslateContext, sessions: ReadonlyMap<string, SessionPersistence>): Map<string, Backend | undefined> {
    const out = new Map<string, Backend | undefined>();
    for (const key of this.#dirty) {
      const entry = this.#entries.get(key);
      const session = entry && sessions.get(namespacedKey(entry.spec.namespace, entry.spec.name));
      out.set(key, entry === undefined ? undefined : buildBackendRecord(context, entry.spec, session));
    }
    this.#dirty.clear();
    return out;
  }
}

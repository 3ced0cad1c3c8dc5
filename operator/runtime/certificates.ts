// The certificates Gateway listeners reference, with their expiry, for the certificate-expiry metric and alert. Read
// from the store at scrape time: the Gateways' and ListenerSets' `spec.listeners[].tls.certificateRefs` (core
// Secrets), each Secret's `tls.crt` parsed once per content (node:crypto X509Certificate; the first certificate of the
// chain, the leaf). A ListenerSet's listener is labelled with its parent Gateway (`spec.parentRef`) and its IR key
// (`listenerset/<namespace>/<set>/<listener>`, shared/ir/keys.ts), so that it cannot be taken for a Gateway's own.
// It does not judge the Gateway (accepted or not, class ours or not) or the ListenerSet (attached or not): the
// translator does that; a certificate that is referenced and expires is worth an alert either way.
// Must not: write to the store; parse a Secret again when it did not change.

import { X509Certificate } from 'node:crypto';
import { listenerSetListenerKey } from '../../shared/ir/keys.ts';
import type { KubeObject } from '../gateway/resources.ts';
import type { ChangeFeed, ResourceStore } from '../store/resource-store.ts';
import type { CertificateExpiry } from './metrics.ts';

interface CertificateRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

function secretText(secret: KubeObject): string | undefined {
  const data = secret.data?.['tls.crt'];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const plain = secret.stringData?.['tls.crt'];
  return typeof plain === 'string' ? plain : undefined;
}

export class ListenerCertificates {
  readonly #store: ResourceStore;
  readonly #feed: ChangeFeed;
  /** Store keys of the Gateways and ListenerSets seen. */
  readonly #owners = new Set<string>();
  /** Secret key → [the tls.crt it was parsed from, notAfter]. */
  readonly #parsed = new Map<string, [string, number]>();

  constructor(store: ResourceStore) {
    this.#store = store;
    this.#feed = store.feed();
  }

  list(): CertificateExpiry[] {
    const changes = this.#feed.take();
    for (const [key, object] of changes.upserted)
      if (object.kind === 'Gateway' || object.kind === 'ListenerSet') this.#owners.add(key);
    for (const key of changes.removed) {
      this.#owners.delete(key);
      this.#parsed.delete(key);
    }
    const out: CertificateExpiry[] = [];
    for (const key of this.#owners) {
      const owner = this.#store.get(key);
      if (owner === undefined) continue;
      const namespace = owner.metadata?.namespace ?? 'default';
      const name = owner.metadata?.name ?? '';
      if (owner.kind === 'Gateway') this.#collect(owner, namespace, `${namespace}/${name}`, (l) => l, out);
      else {
        const parent = owner.spec?.parentRef;
        const gateway = `${parent?.namespace ?? namespace}/${parent?.name ?? ''}`;
        this.#collect(owner, namespace, gateway, (l) => listenerSetListenerKey(namespace, name, l), out);
      }
    }
    return out;
  }

  /** The certificates of one Gateway's or ListenerSet's listeners (Secrets default to its namespace). */
  #collect(
    owner: KubeObject,
    namespace: string,
    gateway: string,
    listenerLabel: (name: string) => string,
    out: CertificateExpiry[],
  ): void {
    const listeners: unknown = owner.spec?.listeners;
    if (!Array.isArray(listeners)) return;
    for (const listener of listeners) {
      const refs: unknown = listener?.tls?.certificateRefs;
      if (!Array.isArray(refs)) continue;
      for (const ref of refs as CertificateRef[]) {
        if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret' || ref.name === undefined) continue;
        const secretKey = `Secret/${ref.namespace ?? namespace}/${ref.name}`;
        out.push({
          gateway,
          listener: listenerLabel(String(listener.name)),
          secret: `${ref.namespace ?? namespace}/${ref.name}`,
          notAfter: this.#notAfter(secretKey),
        });
      }
    }
  }

  #notAfter(secretKey: string): number {
    const secret = this.#store.get(secretKey);
    const text = secret === undefined ? undefined : secretText(secret);
    if (text === undefined) return Number.NaN;
    const cached = this.#parsed.get(secretKey);
    if (cached !== undefined && cached[0] === text) return cached[1];
    let notAfter = Number.NaN;
    try {
      notAfter = Math.floor(Date.parse(new X509Certificate(text).validTo) / 1000);
    } catch {
      // not a certificate: NaN, and the translator reports the listener's invalid reference
    }
    this.#parsed.set(secretKey, [text, notAfter]);
    return notAfter;
  }
}

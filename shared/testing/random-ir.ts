// Random IR changes for property tests of the incremental machinery (validation, data-plane tables): a small key
// space, so that records replace, remove and refer to each other often, with some references to records that do
// not exist and some invalid values, so that refusals happen too. Deterministic from a seed.

import type { ConfigDelta } from '../ir/delta.ts';
import type { Backend } from '../ir/backend.ts';
import type { CertificateRecord, Listener } from '../ir/listener.ts';
import type { HttpRoute, StreamRoute } from '../ir/route.ts';
import { IR_VERSION, RECORD_KINDS, emptyRecords } from '../ir/snapshot.ts';
import type { RecordKind } from '../ir/snapshot.ts';

/** mulberry32. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';

export class RandomIr {
  readonly #next: () => number;
  /** Chance that a generated record is invalid or names a record that may not exist. */
  readonly #faults: number;

  constructor(seed: number, faults = 0.05) {
    this.#next = seeded(seed);
    this.#faults = faults;
  }

  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  chance(p: number): boolean {
    return this.#next() < p;
  }

  #pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  listener(i: number): Listener {
    const protocol = this.#pick(['HTTP', 'HTTP', 'HTTPS', 'TCP'] as const);
    const listener: Listener = {
      key: `ns/gw/l${i}`,
      source: { kind: 'Gateway', namespace: 'ns', name: 'gw', section: `l${i}` },
      address: '127.0.0.1',
      // Two listeners on one port now and then: HTTP ones share it by hostname, others conflict.
      port: this.chance(this.#faults) ? 80 : 8000 + i,
      protocol,
    };
    if (protocol !== 'TCP') listener.hostname = this.chance(0.5) ? `l${i}.example.com` : `*.l${i}.example.com`;
    if (protocol === 'HTTPS') listener.tls = { mode: 'Terminate', certificateKeys: [`ns/c${this.int(3)}`] };
    if (this.chance(0.1)) listener.backendClientCertificateKey = `ns/c${this.int(3)}`;
    return listener;
  }

  certificate(i: number): CertificateRecord {
    return { key: `ns/c${i}`, certificatePem: CERT, privateKeyPem: this.chance(this.#faults) ? 'nope' : KEY };
  }

  backend(i: number): Backend {
    const record: Backend = {
      key: `ns/b${i}:80`,
      source: { kind: 'Service', namespace: 'ns', name: `b${i}`, port: 80 },
      protocol: this.chance(0.2) ? 'tcp' : 'http1',
      endpoints: Array.from({ length: this.int(3) }, (_, e) => ({
        address: `10.0.${i}.${e + 1}`,
        port: this.chance(this.#faults) ? 0 : 8080,
      })),
    };
    if (this.chance(0.1)) record.tls = { hostname: `b${i}.example.com` };
    return record;
  }

  #backendKey(): string | null {
    return this.chance(0.1) ? null : `ns/b${this.int(this.chance(this.#faults) ? 8 : 5)}:80`;
  }

  #listenerKeys(): string[] {
    return Array.from(
      { length: 1 + this.int(2) },
      () => `ns/gw/l${this.int(this.chance(this.#faults) ? 6 : 4)}`,
    ).filter((k, i, all) => all.indexOf(k) === i);
  }

  httpRoute(i: number): HttpRoute {
    const hosts = ['', 'a.example.com', 'b.example.com', '*.example.com'];
    return {
      key: `httproute/ns/r${i}`,
      source: { kind: 'HTTPRoute', namespace: 'ns', name: `r${i}` },
      rank: i + this.int(2) / 2,
      parents: this.#listenerKeys().map((listenerKey) => ({
        listenerKey,
        hostnames: [this.#pick(hosts)].filter((h) => h !== ''),
      })),
      rules: Array.from({ length: 1 + this.int(2) }, (_, r) => ({
        index: r,
        matches: [
          {
            path: {
              type: this.#pick(['Exact', 'PathPrefix'] as const),
              value: this.chance(this.#faults) ? 'no-slash' : `/p${this.int(4)}`,
            },
            headers: [],
            queryParams: [],
          },
        ],
        filters: this.chance(0.1)
          ? [{ type: 'RequestMirror' as const, backendKey: this.#backendKey() ?? 'ns/b0:80', percent: 100 }]
          : [],
        backends: [{ backendKey: this.#backendKey(), weight: 1, filters: [] }],
      })),
    };
  }

  streamRoute(i: number): StreamRoute {
    return {
      key: `tcproute/ns/s${i}`,
      source: { kind: 'TCPRoute', namespace: 'ns', name: `s${i}` },
      rank: i,
      parents: this.#listenerKeys().map((listenerKey) => ({ listenerKey, hostnames: [] })),
      backends: [{ backendKey: this.#backendKey(), weight: 1, filters: [] }],
    };
  }

  /** A delta of a few changes on top of `base` (a generation), or now and then a full snapshot. */
  delta(generation: number, baseGeneration: number, full = false): ConfigDelta {
    const upsert = emptyRecords();
    const remove: Record<RecordKind, string[]> = {
      listeners: [],
      httpRoutes: [],
      streamRoutes: [],
      backends: [],
      certificates: [],
    };
    const sizes: Record<RecordKind, number> = {
      listeners: 4,
      httpRoutes: 20,
      streamRoutes: 4,
      backends: 5,
      certificates: 3,
    };
    const make = (kind: RecordKind, i: number): any =>
      kind === 'listeners'
        ? this.listener(i)
        : kind === 'httpRoutes'
          ? this.httpRoute(i)
          : kind === 'streamRoutes'
            ? this.streamRoute(i)
            : kind === 'backends'
              ? this.backend(i)
              : this.certificate(i);
    for (const kind of RECORD_KINDS) {
      const seen = new Set<number>();
      const count = full ? sizes[kind] : this.int(kind === 'httpRoutes' ? 4 : 2);
      for (let n = 0; n < count; n++) {
        const i = full ? n : this.int(sizes[kind]);
        if (seen.has(i)) continue;
        seen.add(i);
        if (!full && this.chance(0.3)) remove[kind].push(make(kind, i).key);
        else (upsert[kind] as any[]).push(make(kind, i));
      }
    }
    return { irVersion: IR_VERSION, generation, baseGeneration: full ? 0 : baseGeneration, upsert, remove };
  }
}

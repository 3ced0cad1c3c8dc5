// Upstream connection pools of one shard. Each endpoint (address, port, protocol, TLS identity) has one undici Pool
// with keep-alive connections, shared by every backend that lists it and reused across generations; a pool is closed
// (gracefully: queued and in-flight requests finish) once no backend of the generation in force uses it.
//
// A TLS backend reached from a listener whose Gateway presents a client certificate (Gateway
// `spec.tls.backend.clientCertificateRef`, `Listener.backendClientCertificateKey`) is reached through a runtime of its
// own for that (backend, certificate) pair, made on first use (`backend(key, certificateKey)`) with pools that present
// the certificate; the IR keeps one backend record. A rotated certificate retires the pair's runtime at the commit.
//
// Backends are addressed by a short synthetic origin, `http://b<id>`, which is what @fastify/reply-from sees; the
// `GatewayDispatcher` resolves that origin to the backend and picks an endpoint for every attempt, so a retry can
// land on another endpoint.
//
// undici is loaded, and an endpoint's undici pool made, on first use only: a shard whose HTTP/1.1 engine serves
// http1 backends never needs them (undici's module graph is ~8 MiB of heap per isolate; bench/RESULTS.md).

import { randomBytes } from 'node:crypto';
import { SessionTokens, compileSession } from '../core/session.ts';
import type { CompiledSession } from '../core/session.ts';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { Pool, buildConnector } from 'undici';
import type { Backend } from '../../shared/ir/backend.ts';
import type { CertificateRecord } from '../../shared/ir/listener.ts';
import { EndpointPicker } from './endpoints.ts';
import { H1Pool } from './h1-pool.ts';

export interface UpstreamOptions {
  /** Keep-alive connections per endpoint and shard. */
  connectionsPerEndpoint: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** The largest upstream response head the engine's pool accepts. */
  maxHeaderBytes?: number;
  /**
   * The key of session-persistence tokens (core/session.ts): the same for every shard of a data plane, or tokens
   * issued by one shard are not recognized by another. Absent (unit tests): one drawn for this registry.
   */
  sessionKey?: string;
}

type Undici = typeof import('undici');
let undici: Undici | null = null;
/** undici, required synchronously on first use (a pool is made on a request's path). */
function loadUndici(): Undici {
  undici ??= createRequire(import.meta.url)('undici') as Undici;
  return undici;
}

/** One endpoint's connections, shared by the backends that list it. */
export class EndpointPool {
  readonly id: string;
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  /** The HTTP/1.1 engine's own pool, for http1 and ws backends; null for the others. */
  readonly h1: H1Pool | null;
  users = 0;
  /** How to make the undici pool; null for TCP and UDP backends. */
  readonly #options: (() => Pool.Options) | null;
  #pool: Pool | null = null;

  constructor(
    id: string,
    origin: string,
    host: string,
    port: number,
    h1: H1Pool | null,
    options: (() => Pool.Options) | null,
  ) {
    this.id = id;
    this.origin = origin;
    this.host = host;
    this.port = port;
    this.h1 = h1;
    this.#options = options;
  }

  /** An undici pool for HTTP backends (HTTP/2 front end, mirrors, h2c), made on first use; null for TCP and UDP. */
  get pool(): Pool | null {
    if (this.#pool === null && this.#options !== null)
      this.#pool = new (loadUndici().Pool)(this.origin, this.#options());
    return this.#pool;
  }

  /** Closes the connections (gracefully for undici's: queued and in-flight requests finish). */
  close(): Promise<void> {
    this.h1?.close();
    const pool = this.#pool;
    this.#pool = null;
    return pool === null ? Promise.resolve() : pool.close().catch(() => pool.destroy());
  }
}

export interface BackendRuntime {
  key: string;
  /** Synthetic origin given to reply-from (`http://b<id>`). */
  origin: string;
  record: Backend;
  /** One pool per endpoint of the record, in order. */
  pools: EndpointPool[];
  /** The client certificate its TLS connections present (a listener's), as it was when they were made. */
  client: CertificateRecord | undefined;
  endpoints: EndpointPicker<EndpointPool>;
  /** The backend's own session persistence (an XBackendTrafficPolicy's), compiled; a rule's own takes precedence. */
  session: CompiledSession | null;
  /**
   * The runtimes of this TLS backend for the client certificates of the listeners that reached it, by certificate key
   * (made on first use); null for a backend without TLS, and for such a runtime itself.
   */
  variants: Map<string, BackendRuntime> | null;
}

export class UpstreamRegistry {
  readonly #options: UpstreamOptions;
  readonly #pools = new Map<string, EndpointPool>();
  readonly #backends = new Map<string, BackendRuntime>();
  readonly #byOrigin = new Map<string, BackendRuntime>();
  /** Runtimes of the generation being installed (new or replaced ones only), until its commit. */
  #staged: Map<string, BackendRuntime> | null = null;
  #stagedOrigins: Map<string, BackendRuntime> | null = null;
  /** The (backend, client certificate) runtimes by origin, and the runtimes in force that have some. */
  readonly #variantOrigins = new Map<string, BackendRuntime>();
  readonly #withVariants = new Set<BackendRuntime>();
  /** The certificates of the generation staged or in force, for the client certificates of listeners. */
  #certificates: ReadonlyMap<string, CertificateRecord> = new Map();
  #nextId = 1;

  /** Session-persistence tokens for the backends of this registry (GEP-1619). */
  readonly sessions: SessionTokens;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.sessions = new SessionTokens(options.sessionKey ?? randomBytes(32).toString('base64url'));
  }

  /**
   * The runtime of backend `key` as reached from a listener that presents the client certificate
   * `clientCertificateKey` (`Listener.backendClientCertificateKey`; undefined: none). Without TLS the certificate
   * does not matter and the backend's own runtime answers.
   */
  backend(key: string, clientCertificateKey?: string): BackendRuntime | undefined {
    const base = this.#staged?.get(key) ?? this.#backends.get(key);
    if (base === undefined || clientCertificateKey === undefined || base.variants === null) return base;
    const client = this.#certificates.get(clientCertificateKey);
    let variant = base.variants.get(clientCertificateKey);
    if (variant !== undefined && sameCertificate(variant.client, client)) return variant;
    if (variant !== undefined) this.#retire(variant);
    variant = this.#newRuntime(base.record, client, undefined, null);
    base.variants.set(clientCertificateKey, variant);
    this.#variantOrigins.set(variant.origin, variant);
    this.#withVariants.add(base);
    return variant;
  }

  byOrigin(origin: string): BackendRuntime | undefined {
    return this.#stagedOrigins?.get(origin) ?? this.#byOrigin.get(origin) ?? this.#variantOrigins.get(origin);
  }

  /**
   * Stages `backends` as the next set in force and returns the commit. Until the commit, lookups find the next
   * runtime first and fall back to the current one, so a request matched on the previous generation's tables (which
   * may name a backend this generation removes) still finds it. Unchanged records keep their runtime and its
   * round-robin position. The commit releases the pools nobody uses any more, closing them after their in-flight
   * requests.
   */
  prepare(backends: Iterable<Backend>, certificates: ReadonlyMap<string, CertificateRecord>): () => void {
    this.#certificates = certificates;
    const next = new Map<string, BackendRuntime>();
    for (const record of backends) next.set(record.key, this.#runtimeFor(record));
    const removed = [...this.#backends.keys()].filter((key) => !next.has(key));
    return this.#stage(next, removed);
  }

  /** `prepare` for a generation that differs from the one in force by these backends: costs what changed. */
  prepareChanges(
    upserted: readonly Backend[],
    removed: readonly string[],
    certificates: ReadonlyMap<string, CertificateRecord>,
  ): () => void {
    this.#certificates = certificates;
    const next = new Map<string, BackendRuntime>();
    for (const record of upserted) next.set(record.key, this.#runtimeFor(record));
    return this.#stage(
      next,
      removed.filter((key) => !next.has(key)),
    );
  }

  /** The runtime of a record: the one in force when the record is the same object, a new one otherwise. */
  #runtimeFor(record: Backend): BackendRuntime {
    const old = this.#backends.get(record.key);
    if (old !== undefined && old.record === record) return old;
    return this.#newRuntime(record, undefined, old?.origin, record.tls === undefined ? null : new Map());
  }

  #newRuntime(
    record: Backend,
    client: CertificateRecord | undefined,
    origin: string | undefined,
    variants: Map<string, BackendRuntime> | null,
  ): BackendRuntime {
    const pools = record.endpoints.map((endpoint) => this.#acquire(record, endpoint.address, endpoint.port, client));
    return {
      key: record.key,
      origin: origin ?? `http://b${this.#nextId++}`,
      record,
      pools,
      endpoints: new EndpointPicker(pools, record.endpoints),
      session: record.sessionPersistence === undefined ? null : compileSession(record.sessionPersistence),
      client,
      variants,
    };
  }

  /** Releases a (backend, client certificate) runtime's pools; it is no longer found by its origin. */
  #retire(variant: BackendRuntime): void {
    this.#variantOrigins.delete(variant.origin);
    for (const pool of variant.pools) this.#release(pool);
  }

  /** Retires every (backend, certificate) runtime of `runtime`, or those whose certificate is no longer `certificates`'. */
  #retireVariants(runtime: BackendRuntime, all: boolean): void {
    if (runtime.variants === null) return;
    for (const [key, variant] of runtime.variants) {
      if (!all && sameCertificate(variant.client, this.#certificates.get(key))) continue;
      runtime.variants.delete(key);
      this.#retire(variant);
    }
    if (runtime.variants.size === 0) this.#withVariants.delete(runtime);
  }

  /**
   * Stages `changed` (new or replaced runtimes) and `removed` keys; lookups see the staged runtimes first until the
   * commit, which puts them in force and releases the pools of the runtimes they replace.
   */
  #stage(changed: Map<string, BackendRuntime>, removed: readonly string[]): () => void {
    const retired: EndpointPool[] = [];
    const replaced: BackendRuntime[] = [];
    for (const [key, runtime] of changed) {
      const old = this.#backends.get(key);
      if (old !== undefined && old !== runtime) replaced.push(old);
    }
    for (const key of removed) {
      const old = this.#backends.get(key);
      if (old !== undefined) replaced.push(old);
    }
    for (const old of replaced) retired.push(...old.pools);
    this.#staged = changed;
    this.#stagedOrigins = new Map([...changed.values()].map((r) => [r.origin, r]));
    return () => {
      this.#staged = null;
      this.#stagedOrigins = null;
      for (const [key, runtime] of changed) {
        const old = this.#backends.get(key);
        if (old !== undefined && old.origin !== runtime.origin) this.#byOrigin.delete(old.origin);
        this.#backends.set(key, runtime);
        this.#byOrigin.set(runtime.origin, runtime);
      }
      for (const key of removed) {
        const old = this.#backends.get(key);
        if (old === undefined) continue;
        this.#backends.delete(key);
        this.#byOrigin.delete(old.origin);
      }
      for (const pool of retired) this.#release(pool);
      for (const old of replaced) this.#retireVariants(old, true);
      // A rotated (or dropped) client certificate under a backend that stayed: its connections are made anew.
      for (const runtime of [...this.#withVariants]) this.#retireVariants(runtime, false);
    };
  }

  #acquire(record: Backend, address: string, port: number, client: CertificateRecord | undefined): EndpointPool {
    const tls = record.tls;
    const host = address.includes(':') ? `[${address}]` : address;
    const origin = `${tls ? 'https' : 'http'}://${host}:${port}`;
    // The client certificate's content is part of the pool's identity: a rotated certificate gets new connections.
    const id = `${origin}|${record.protocol}|${tls ? JSON.stringify(tls) : ''}|${client ? createHash('sha256').update(client.certificatePem).update(client.privateKeyPem).digest('hex') : ''}`;
    let entry = this.#pools.get(id);
    if (entry === undefined) {
      const stream = record.protocol === 'tcp' || record.protocol === 'udp';
      const h1 =
        record.protocol === 'http1' || record.protocol === 'ws' ? this.#h1Pool(record, address, port, client) : null;
      entry = new EndpointPool(id, origin, address, port, h1, stream ? null : () => this.#poolOptions(record, client));
      this.#pools.set(id, entry);
    }
    entry.users++;
    return entry;
  }

  #release(entry: EndpointPool): void {
    if (--entry.users > 0) return;
    this.#pools.delete(entry.id);
    void entry.close();
  }

  #h1Pool(record: Backend, address: string, port: number, client: CertificateRecord | undefined): H1Pool {
    const tls = record.tls;
    return new H1Pool({
      host: address,
      port,
      tls:
        tls === undefined
          ? undefined
          : {
              servername: tls.hostname,
              ca: tls.caCertificates,
              cert: client?.certificatePem,
              key: client?.privateKeyPem,
              rejectUnauthorized: true,
              checkServerIdentity: serverIdentityCheck(tls.hostname, tls.subjectAltNames),
              ALPNProtocols: ['http/1.1'],
            },
      maxConnections: this.#options.connectionsPerEndpoint,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
      maxHeaderBytes: this.#options.maxHeaderBytes ?? 64 * 1024,
    });
  }

  #poolOptions(record: Backend, client: CertificateRecord | undefined): Pool.Options {
    const options: Pool.Options = {
      connections: this.#options.connectionsPerEndpoint,
      pipelining: 1,
      keepAliveTimeout: this.#options.keepAliveTimeoutMs,
      connectTimeout: this.#options.connectTimeoutMs,
      // No retries and no redirects inside undici: the gateway decides (HTTPRoute retry).
      maxRedirections: undefined,
    } as Pool.Options;
    // h2c: prior-knowledge HTTP/2 without TLS; one connection multiplexes up to 100 streams.
    if (record.protocol === 'h2c')
      Object.assign(options, { allowH2: true, useH2c: true, pipelining: 100, connections: 4 });
    const tls = record.tls;
    if (tls !== undefined) {
      const allowH2 = record.protocol === 'h2c';
      const connector = loadUndici().buildConnector({
        allowH2,
        rejectUnauthorized: true,
        ca: tls.caCertificates,
        cert: client?.certificatePem,
        key: client?.privateKeyPem,
        checkServerIdentity: serverIdentityCheck(tls.hostname, tls.subjectAltNames),
        timeout: this.#options.connectTimeoutMs,
      } as buildConnector.BuildOptions);
      // undici would send the request's Host header as SNI; BackendTLSPolicy says the policy's hostname.
      options.connect = (opts, callback) => connector({ ...opts, servername: tls.hostname }, callback);
      (options as { allowH2?: boolean }).allowH2 = allowH2;
    }
    return options;
  }

  /** Closes every pool (shard shutdown). */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}

/** Whether two certificate records hold the same key pair (a whole snapshot brings new objects of the same). */
function sameCertificate(a: CertificateRecord | undefined, b: CertificateRecord | undefined): boolean {
  return a === b || (a?.certificatePem === b?.certificatePem && a?.privateKeyPem === b?.privateKeyPem);
}

/** BackendTLSPolicy: subjectAltNames, when given, replace the hostname check (any one of them must match). */
export function serverIdentityCheck(
  hostname: string,
  sans: Array<{ type: 'Hostname' | 'URI'; value: string }> | undefined,
) {
  if (sans === undefined || sans.length === 0)
    return (_host: string, cert: PeerCertificate) => checkServerIdentity(hostname, cert);
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const names = (cert.subjectaltname ?? '').split(', ');
    for (const san of sans) {
      if (san.type === 'URI' && names.includes(`URI:${san.value}`)) return undefined;
      if (san.type === 'Hostname' && checkServerIdentity(san.value, cert) === undefined) return undefined;
    }
    return new Error(
      `the backend certificate matches none of the subjectAltNames ${sans.map((s) => s.value).join(', ')}`,
    );
  };
}

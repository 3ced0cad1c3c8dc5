// Session persistence (GEP-1619) for both front ends: after the weighted choice of a backend, a request that carries a
// valid token for one of that backend's ready endpoints is pinned to it; any other request gets an endpoint picked as
// usual and a new token (Set-Cookie, or the named response header). It does no I/O.
//
// The token, and why: `<id>` or, with an absolute timeout, `<id>.<issued>.<tag>`.
//   - `id` is an HMAC-SHA256 (keyed with the data plane's session key) of the backend key and the endpoint's address
//     and port, 22 base64url characters: it names an endpoint without showing its address, and a client cannot make
//     one up for an address of its choosing. It is looked up in the backend's current endpoint set, so a token for an
//     endpoint that left (or one forged) matches nothing and the request is picked anew.
//   - `issued` is the issue time in seconds (base 36) and `tag` an HMAC of id and issue time (16 characters): the
//     gateway enforces `absoluteTimeout` itself (a session cookie has no Max-Age), and the client cannot extend it.
// The key comes from the data plane's settings (`--session-key` / PORTICO_SESSION_KEY); without one each data plane
// process draws its own, so tokens hold across its shards but not across replicas or restarts.
// Endpoint ids are computed once per backend runtime (one per record and generation) and shard, on first use.

import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SessionPersistence } from '../../shared/ir/route.ts';
import type { BackendRuntime, EndpointPool } from '../upstream/registry.ts';

export interface CompiledSession {
  cookie: boolean;
  /** The cookie name as written, or the header name in lower case. */
  name: string;
  /** The cookie's attributes after its value (Path, Max-Age, HttpOnly, SameSite); Secure is added on HTTPS. */
  attributes: string;
  /** `absoluteTimeout` in seconds; 0: none. */
  timeoutSeconds: number;
}

export function compileSession(record: SessionPersistence): CompiledSession {
  const timeoutSeconds = record.absoluteTimeoutMs === undefined ? 0 : Math.ceil(record.absoluteTimeoutMs / 1000);
  // GEP-1619 asks for security by default (HttpOnly, SameSite=Strict, Secure where the client connects over TLS).
  let attributes = `; Path=${record.cookiePath}`;
  if (record.permanent) attributes += `; Max-Age=${timeoutSeconds}`;
  attributes += '; HttpOnly; SameSite=Strict';
  return { cookie: record.type === 'Cookie', name: record.name, attributes, timeoutSeconds };
}

interface EndpointIds {
  byId: Map<string, EndpointPool>;
  ofPool: Map<EndpointPool, string>;
}

/** Keyed HMACs: one key per data plane process, given to every shard. */
export class SessionTokens {
  readonly #key: Buffer;
  readonly #ids = new WeakMap<BackendRuntime, EndpointIds>();

  constructor(key: string) {
    this.#key = Buffer.from(key, 'utf8');
  }

  #mac(text: string, length: number): string {
    return createHmac('sha256', this.#key).update(text).digest('base64url').slice(0, length);
  }

  #idsOf(backend: BackendRuntime): EndpointIds {
    let ids = this.#ids.get(backend);
    if (ids === undefined) {
      ids = { byId: new Map(), ofPool: new Map() };
      const endpoints = backend.record.endpoints;
      for (let i = 0; i < endpoints.length; i++) {
        if (endpoints[i].weight === 0) continue; // never picked, so never pinned either
        const pool = backend.pools[i];
        const id = this.#mac(`e\0${backend.key}\0${pool.host}\0${pool.port}`, 22);
        ids.byId.set(id, pool);
        ids.ofPool.set(pool, id);
      }
      this.#ids.set(backend, ids);
    }
    return ids;
  }

  /** The endpoint a token names in `backend`, when it is one of its ready endpoints and the session has not expired. */
  resolve(backend: BackendRuntime, token: string, timeoutSeconds: number, nowSeconds: number): EndpointPool | null {
    const dot = token.indexOf('.');
    const id = dot === -1 ? token : token.slice(0, dot);
    const pool = this.#idsOf(backend).byId.get(id);
    if (pool === undefined) return null;
    if (timeoutSeconds === 0) return pool;
    const second = token.indexOf('.', dot + 1);
    if (dot === -1 || second === -1) return null; // issued without a timeout: it cannot prove its age
    const issuedText = token.slice(dot + 1, second);
    const issued = Number.parseInt(issuedText, 36);
    if (!(issued <= nowSeconds && nowSeconds - issued < timeoutSeconds)) return null;
    return this.#mac(`t\0${id}\0${issuedText}`, 16) === token.slice(second + 1) ? pool : null;
  }

  /** A new token for `pool` of `backend`. */
  issue(backend: BackendRuntime, pool: EndpointPool, timeoutSeconds: number, nowSeconds: number): string | null {
    const id = this.#idsOf(backend).ofPool.get(pool);
    if (id === undefined) return null;
    if (timeoutSeconds === 0) return id;
    const issued = nowSeconds.toString(36);
    return `${id}.${issued}.${this.#mac(`t\0${id}\0${issued}`, 16)}`;
  }
}

/** The value of cookie `name` in a Cookie header (`a=1; b=2`), or null. */
export function cookieValue(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null;
  const text = typeof header === 'string' ? header : header.join('; ');
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(';', start);
    if (end === -1) end = text.length;
    while (text.charCodeAt(start) === 32) start++;
    const eq = text.indexOf('=', start);
    if (eq !== -1 && eq < end && eq - start === name.length && text.startsWith(name, start))
      return text.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return null;
}

/** The token a request carries for `session`, or null. */
export function requestToken(session: CompiledSession, headers: IncomingHttpHeaders): string | null {
  if (session.cookie) return cookieValue(headers.cookie, session.name);
  const value = headers[session.name];
  return typeof value === 'string' ? value : Array.isArray(value) && value.length > 0 ? value[0] : null;
}

/** The response header value that hands `token` to the client. */
export function tokenHeaderValue(session: CompiledSession, token: string, secure: boolean): string {
  if (!session.cookie) return token;
  return secure
    ? `${session.name}=${token}${session.attributes}; Secure`
    : `${session.name}=${token}${session.attributes}`;
}

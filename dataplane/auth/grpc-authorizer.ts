// GEP-1494 `protocol: GRPC`: Envoy's ext_authz v3 `envoy.service.auth.v3.Authorization/Check` over h2c, or over TLS
// when a BackendTLSPolicy covers the authorizer's Service port, with @grpc/grpc-js, the messages encoded by ext-authz-codec.ts. grpc-js is loaded the first time a gRPC authorizer is
// asked (a data plane without one never loads it: memory, issue 13), and one client (one HTTP/2 connection) is kept
// per authorizer endpoint and shard. `status.code` OK allows, and OkHttpResponse's headers (set, or appended) and
// headers_to_remove apply to the upstream request; any other code denies, with DeniedHttpResponse's status (403 when
// it gives none), headers and body. An RPC error (unreachable, deadline, a malformed answer) fails closed.

import type { Client } from '@grpc/grpc-js';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import { decodeCheckResponse, encodeCheckRequest } from './ext-authz-codec.ts';
import type { CheckResult } from './ext-authz-codec.ts';
import type { BackendRuntime, EndpointPool } from '../upstream/registry.ts';
import { serverIdentityCheck } from '../upstream/registry.ts';
import type { AuthSubject } from './subject.ts';
import { AuthVerdict, denialHeaders, upstreamOption } from './verdict.ts';

const CHECK = '/envoy.service.auth.v3.Authorization/Check';

type Grpc = typeof import('@grpc/grpc-js');
let grpc: Grpc | null = null;
let loading: Promise<Grpc> | null = null;
/**
 * A channel idle this long drops its connection (grpc-js reconnects on the next call): the client of an endpoint that
 * left the configuration then holds no socket, only a small object, until the shard ends.
 */
const CHANNEL_OPTIONS = { 'grpc.client_idle_timeout_ms': 60_000 };
/** Clients by endpoint pool identity (one per authorizer endpoint, TLS identity included, in this shard). */
const clients = new Map<string, Client>();

function loadGrpc(): Promise<Grpc> {
  loading ??= import('@grpc/grpc-js').then((module) => {
    grpc = module;
    return module;
  });
  return loading;
}

/**
 * The client of one authorizer endpoint, by the endpoint pool's identity (address, port, protocol, the
 * BackendTLSPolicy's CA and names, the client certificate's digest): plaintext h2c, or TLS verified as the policy says
 * (its CA, or the system's; its hostname as SNI and as the name checked, or its subjectAltNames) presenting the
 * listener's client certificate when it has one, as every other TLS backend is reached (upstream/registry.ts).
 */
function clientFor(module: Grpc, endpoint: EndpointPool, backend: BackendRuntime): Client {
  let client = clients.get(endpoint.id);
  if (client !== undefined) return client;
  const host = endpoint.host;
  const target = host.includes(':') ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
  const tls = backend.record.tls;
  if (tls === undefined) client = new module.Client(target, module.credentials.createInsecure(), CHANNEL_OPTIONS);
  else {
    const identity = backend.client;
    const credentials = module.credentials.createSsl(
      tls.caCertificates === undefined ? null : Buffer.from(tls.caCertificates.join('\n')),
      identity === undefined ? null : Buffer.from(identity.privateKeyPem),
      identity === undefined ? null : Buffer.from(identity.certificatePem),
      { checkServerIdentity: serverIdentityCheck(tls.hostname, tls.subjectAltNames) },
    );
    // The policy's hostname is the SNI, the name checked and the :authority of the calls (not the endpoint's IP).
    client = new module.Client(target, credentials, {
      ...CHANNEL_OPTIONS,
      'grpc.ssl_target_name_override': tls.hostname,
      'grpc.default_authority': tls.hostname,
    });
  }
  clients.set(endpoint.id, client);
  return client;
}

function identity(buffer: Buffer): Buffer {
  return buffer;
}

/** One header of the request as ext_authz carries it: repeated values joined (HTTP semantics). */
function headersFor(auth: ExternalAuth, subject: AuthSubject): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const all = auth.allowedRequestHeaders.length === 0;
  const from = subject.headers;
  for (const name of all ? Object.keys(from) : auth.allowedRequestHeaders) {
    const value = from[name];
    if (value === undefined || name.startsWith(':')) continue;
    out.push([name, Array.isArray(value) ? value.join(', ') : value]);
  }
  // Envoy sends the pseudo-headers too; an authorizer written against Envoy may read them.
  out.push([':method', subject.method], [':path', subject.target], [':authority', subject.host]);
  out.push([':scheme', subject.scheme]);
  return out;
}

function verdictOf(result: CheckResult, method: string): AuthVerdict {
  if (result.code === 0) {
    const verdict = new AuthVerdict();
    for (const option of result.ok?.headers ?? []) {
      const use = upstreamOption(option);
      if (use === false) return AuthVerdict.error('EXT_AUTHZ_ERROR');
      if (use === true) verdict.upstream.push(option);
    }
    verdict.remove = result.ok?.remove ?? [];
    verdict.allowed = true;
    return verdict;
  }
  const denied = result.denied;
  const status = denied === null || denied.status === 0 ? 403 : denied.status;
  const headers = denialHeaders(denied?.headers ?? []);
  if (headers === null || status < 200 || status > 599) return AuthVerdict.error('EXT_AUTHZ_ERROR');
  const verdict = new AuthVerdict();
  verdict.status = status;
  verdict.headers = headers;
  verdict.body = method === 'HEAD' ? '' : (denied?.body ?? '');
  return verdict;
}

/** Asks a gRPC authorizer at `endpoint` (of `backend`) within `timeoutMs` (the call's deadline); calls `done` once with its verdict. */
export function checkGrpc(
  endpoint: EndpointPool,
  backend: BackendRuntime,
  auth: ExternalAuth,
  subject: AuthSubject,
  timeoutMs: number,
  done: (verdict: AuthVerdict) => void,
): void {
  const message = encodeCheckRequest({
    sourceAddress: subject.clientAddress,
    sourcePort: subject.clientPort,
    destinationAddress: subject.localAddress,
    destinationPort: subject.localPort,
    requestId: subject.requestId,
    method: subject.method,
    headers: headersFor(auth, subject),
    path: subject.target,
    host: subject.host,
    scheme: subject.scheme,
    size: subject.size,
    protocol: subject.protocol,
    body: subject.body,
  });
  const deadline = Date.now() + timeoutMs;
  const call = (module: Grpc) => {
    const client = clientFor(module, endpoint, backend);
    client.makeUnaryRequest<Buffer, Buffer>(
      CHECK,
      identity,
      identity,
      message,
      new module.Metadata(),
      { deadline },
      (error, response) => {
        if (error !== null || response === undefined) return done(AuthVerdict.error('EXT_AUTHZ_ERROR'));
        let result: CheckResult;
        try {
          result = decodeCheckResponse(response);
        } catch {
          return done(AuthVerdict.error('EXT_AUTHZ_ERROR'));
        }
        done(verdictOf(result, subject.method));
      },
    );
  };
  if (grpc !== null) return call(grpc);
  loadGrpc().then(call, () => done(AuthVerdict.error('EXT_AUTHZ_ERROR')));
}

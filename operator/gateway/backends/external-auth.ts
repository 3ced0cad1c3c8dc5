// `externalAuth` (GEP-1494 HTTPExternalAuthFilter) → the IR ExternalAuth record, for both places it appears: an
// HTTPRoute rule filter (routes/httpfilter.ts) and a listener's `filters.requests[]` entry (gateways/
// listener-filters.ts). Every field is read or refused here, once; the backendRef resolves like a route's backendRef
// (the same Service, port, grant and appProtocol rules) with the referrer the caller names. What is wrong comes back
// as a message: the caller turns it into its own condition (a route's UnsupportedValue, a listener's).
// Must not: decide conditions, or read anything but the filter and what resolveBackendRef reads.

import type { ExternalAuth } from '../../../shared/ir/auth.ts';
import { checkAuthPathPrefix } from '../../../shared/validation/external-auth.ts';
import { checkHeaderName } from '../../../shared/validation/fields.ts';
import { resolveBackendRef } from './backend.ts';
import type { BackendResolution, ReferringRoute } from './backend.ts';
import { routeUnsupportedProtocol } from '../conditions.ts';
import type { TranslateContext } from '../context.ts';
import { at, integerAt, isObject, listAt, objectAt, show } from '../read.ts';

/**
 * How long the data plane waits for an authorizer before it refuses the request (fail closed). The API has no field
 * for it; 10 s is long enough for an authorizer that itself calls an identity provider, and short enough that a
 * hung authorizer does not hold client connections for minutes.
 */
export const DEFAULT_EXTERNAL_AUTH_TIMEOUT_MS = 10_000;

/** The filter's settings, before its backendRef is resolved; or why it cannot be used. */
export type ExternalAuthConfig = { auth: Omit<ExternalAuth, 'backendKey'>; problem?: undefined } | { problem: string };

function headerNames(raw: unknown, field: string): string[] | string {
  if (raw !== undefined && !Array.isArray(raw)) return `${field} must be a list; it is ${show(raw)}`;
  const out: string[] = [];
  for (const [i, name] of listAt(raw).entries()) {
    const problem = checkHeaderName(name);
    if (problem !== null) return `${at(field, i)} ${show(name)} ${problem}`;
    const lower = (name as string).toLowerCase();
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

/** Reads `raw` (the `externalAuth` object at `field`), everything but the backendRef. */
export function readExternalAuth(raw: unknown, field: string): ExternalAuthConfig {
  if (!isObject(raw)) return { problem: `${field} must be an object; it is ${show(raw)}` };
  const protocol = raw.protocol;
  if (protocol !== 'HTTP' && protocol !== 'GRPC')
    return { problem: `${field}.protocol ${show(protocol)} is not supported (HTTP, GRPC)` };
  // The CRD's CEL rules pair the protocol with its own block; without the CRD (standalone files) they are checked here.
  const own = protocol === 'HTTP' ? 'http' : 'grpc';
  const other = protocol === 'HTTP' ? 'grpc' : 'http';
  if (raw[other] !== undefined) return { problem: `${field}.${other} must not be set when protocol is ${protocol}` };
  if (!isObject(raw[own])) return { problem: `${field}.${own} must be set (an object) when protocol is ${protocol}` };
  const block = objectAt(raw[own]);
  const auth: Omit<ExternalAuth, 'backendKey'> = {
    protocol,
    pathPrefix: '',
    allowedRequestHeaders: [],
    allowedResponseHeaders: [],
    forwardBodyMaxBytes: 0,
    timeoutMs: DEFAULT_EXTERNAL_AUTH_TIMEOUT_MS,
  };
  const requestHeaders = headerNames(block.allowedHeaders, `${field}.${own}.allowedHeaders`);
  if (typeof requestHeaders === 'string') return { problem: requestHeaders };
  auth.allowedRequestHeaders = requestHeaders;
  if (protocol === 'HTTP') {
    const responseHeaders = headerNames(block.allowedResponseHeaders, `${field}.http.allowedResponseHeaders`);
    if (typeof responseHeaders === 'string') return { problem: responseHeaders };
    auth.allowedResponseHeaders = responseHeaders;
    if (block.path !== undefined && block.path !== '') {
      // The CRD's pattern allows a path without its leading "/", and one ending in "/": both are made into a prefix
      // of the client's path ("/" + path, without the trailing "/"), then checked like any path we send.
      let prefix = typeof block.path === 'string' ? block.path : '';
      if (prefix !== '' && !prefix.startsWith('/')) prefix = `/${prefix}`;
      while (prefix.length > 1 && prefix.endsWith('/')) prefix = prefix.slice(0, -1);
      if (prefix === '/') prefix = '';
      const problem = checkAuthPathPrefix(prefix);
      if (problem !== null || typeof block.path !== 'string')
        return { problem: `${field}.http.path ${show(block.path)} ${problem ?? 'must be a string'}` };
      auth.pathPrefix = prefix;
    }
  }
  if (raw.forwardBody !== undefined) {
    const maxSize = objectAt(raw.forwardBody).maxSize;
    const bytes = maxSize === undefined ? 0 : integerAt(maxSize);
    if (bytes === undefined || bytes < 0)
      return { problem: `${field}.forwardBody.maxSize ${show(maxSize)} must be an integer >= 0` };
    auth.forwardBodyMaxBytes = bytes;
  }
  return { auth };
}

/**
 * Resolves the filter's backendRef as `referrer` (a route, or a Gateway or ListenerSet for a listener filter): a
 * Service port spoken to over HTTP/1.1 (protocol HTTP) or h2c (GRPC); either behind a BackendTLSPolicy too (the data
 * plane's HTTP authorizer goes through the backend's TLS pool, its gRPC client makes TLS credentials of the policy).
 */
export function resolveAuthBackend(
  context: TranslateContext,
  raw: unknown,
  field: string,
  referrer: ReferringRoute,
  protocol: ExternalAuth['protocol'],
): BackendResolution {
  const backendRef = objectAt(raw).backendRef;
  const resolved = resolveBackendRef(
    context,
    backendRef,
    `${field}.backendRef`,
    referrer,
    protocol === 'GRPC' ? 'grpc' : 'http',
  );
  if (resolved.key === null) return resolved;
  const wanted = protocol === 'GRPC' ? 'h2c' : 'http1';
  if (resolved.spec.protocol !== wanted)
    return {
      key: null,
      problem: routeUnsupportedProtocol(
        `${field}.backendRef: Service ${resolved.spec.namespace}/${resolved.spec.name} port ${resolved.spec.port} is reached as ${resolved.spec.protocol}; a ${protocol} authorizer needs ${wanted === 'h2c' ? 'h2c (gRPC)' : 'HTTP/1.1'}`,
      ),
    };
  return resolved;
}

// GEP-1494 `protocol: HTTP`: the authorizer gets the client's method and `http.path` + the client's path and query,
// the headers GEP-1494 says are always sent (Host, Authorization, a Content-Length true to the bytes sent), the
// `http.allowedHeaders`, and the body when `forwardBody` asks for it. 200 allows (the API: "any other code is
// considered an authorization failure"; Envoy's HTTP ext_authz does the same), and the authorizer's response headers
// (`http.allowedResponseHeaders`, or all but the incidental ones) go into the upstream request. Any other status is
// a denial: its status, headers and body go to the client. Unreachable, too slow, or a denial body over 64 KiB: an
// error (fail closed). The request goes through the authorizer backend's own undici pool (its TLS, if a
// BackendTLSPolicy asks for it, included).

import type { Dispatcher } from 'undici';
import type { ExternalAuth } from '../../shared/ir/auth.ts';
import type { AuthSubject } from './subject.ts';
import { AuthVerdict, copyAllowedHeaders, denialHeaders } from './verdict.ts';

/** The largest denial body relayed to the client; a larger one is refused rather than buffered. */
export const MAX_DENIAL_BODY_BYTES = 64 * 1024;

function requestHeaders(auth: ExternalAuth, subject: AuthSubject): Record<string, string> {
  const from = subject.headers;
  const out: Record<string, string> = {};
  for (const name of auth.allowedRequestHeaders) {
    const value = from[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  out.host = subject.host;
  const authorization = from.authorization;
  if (authorization !== undefined) out.authorization = authorization;
  out['content-length'] = String(subject.body === null ? 0 : subject.body.length);
  // Framing is the authorizer request's own: the client's must never be copied with an allowed header.
  delete out['transfer-encoding'];
  delete out.connection;
  return out;
}

async function readBody(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks an HTTP authorizer through `pool`; resolves to its verdict (never rejects). */
export async function checkHttp(
  pool: Dispatcher,
  auth: ExternalAuth,
  subject: AuthSubject,
  signal: AbortSignal,
): Promise<AuthVerdict> {
  let response: Dispatcher.ResponseData;
  try {
    response = await pool.request({
      method: subject.method as Dispatcher.HttpMethod,
      path: auth.pathPrefix + subject.target,
      headers: requestHeaders(auth, subject),
      body: subject.body === null || subject.body.length === 0 ? null : subject.body,
      signal,
      headersTimeout: auth.timeoutMs,
      bodyTimeout: auth.timeoutMs,
    });
  } catch {
    return AuthVerdict.error('EXT_AUTHZ_ERROR');
  }
  try {
    const headers = response.headers as Record<string, string | string[] | undefined>;
    if (response.statusCode === 200) {
      await response.body.dump();
      const verdict = new AuthVerdict();
      if (!copyAllowedHeaders(headers, auth.allowedResponseHeaders, verdict.upstream))
        return AuthVerdict.error('EXT_AUTHZ_ERROR');
      verdict.allowed = true;
      return verdict;
    }
    const body = await readBody(response.body, MAX_DENIAL_BODY_BYTES);
    const denial = denialHeaders(
      Object.entries(headers)
        .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
        .map(([name, value]) => ({ name, value })),
    );
    // A status the gateway cannot relay as a final answer (1xx, or nonsense) is an invalid answer too.
    if (body === null || denial === null || response.statusCode < 200 || response.statusCode > 599)
      return AuthVerdict.error('EXT_AUTHZ_ERROR');
    const verdict = new AuthVerdict();
    verdict.status = response.statusCode;
    verdict.headers = denial;
    verdict.body = subject.method === 'HEAD' ? '' : body;
    return verdict;
  } catch {
    return AuthVerdict.error('EXT_AUTHZ_ERROR');
  }
}

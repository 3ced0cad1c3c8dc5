// Header edits on the request path: HTTPRoute header modifiers and the X-Forwarded-* headers. Headers are the
// lower-case-keyed objects Node and undici use; a repeated header is joined with commas.

import type { HeaderOps } from './rules.ts';

export type HeaderBag = Record<string, string | string[] | number | undefined>;

/** remove, then set, then add (appending to an existing value with a comma), as the HTTPRoute filters define. */
export function applyHeaderOps(headers: HeaderBag, ops: HeaderOps): void {
  for (let i = 0; i < ops.remove.length; i++) delete headers[ops.remove[i]];
  for (let i = 0; i < ops.set.length; i++) headers[ops.set[i][0]] = ops.set[i][1];
  for (let i = 0; i < ops.add.length; i++) {
    const [name, value] = ops.add[i];
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = `${Array.isArray(existing) ? existing.join(',') : existing},${value}`;
  }
}

/**
 * A session token for the client (GEP-1619): another Set-Cookie line beside the backend's own (never joined with
 * commas), or the session header, which the gateway owns (a backend's value for it is replaced).
 */
export function addSessionHeader(headers: HeaderBag, name: string, value: string): void {
  if (name !== 'set-cookie') headers[name] = value;
  else {
    const existing = headers[name];
    headers[name] =
      existing === undefined ? [value] : Array.isArray(existing) ? [...existing, value] : [String(existing), value];
  }
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) that must not be forwarded in either direction. */
export const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
];

export function stripHopByHop(headers: HeaderBag): void {
  for (let i = 0; i < HOP_BY_HOP.length; i++) {
    if (headers[HOP_BY_HOP[i]] !== undefined) delete headers[HOP_BY_HOP[i]];
  }
}

/**
 * The gateway is an edge: it appends the client address to X-Forwarded-For and states the scheme and host it saw
 * in X-Forwarded-Proto and X-Forwarded-Host (overwriting what the client sent: a client must not choose them).
 */
export function setForwardedHeaders(
  headers: HeaderBag,
  clientAddress: string | undefined,
  scheme: string,
  host: string | undefined,
): void {
  const client =
    clientAddress === undefined
      ? 'unknown'
      : clientAddress.startsWith('::ffff:')
        ? clientAddress.slice(7)
        : clientAddress;
  const prior = headers['x-forwarded-for'];
  headers['x-forwarded-for'] =
    prior === undefined ? client : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}`;
  headers['x-forwarded-proto'] = scheme;
  if (host !== undefined) headers['x-forwarded-host'] = host;
}

// RequestRedirect: builds the Location header per the HTTPRoute spec. The port is left out when it is the default
// of the scheme; without an explicit port, a scheme change implies that scheme's default port and no scheme change
// keeps the listener's port.

import type { Redirect } from './rules.ts';
import type { PathModifier } from '../../shared/ir/route.ts';

/** The path after a ReplaceFullPath / ReplacePrefixMatch modifier; `prefix` is the matched (normalised) prefix. */
export function modifyPath(path: string, modifier: PathModifier, prefix: string | null): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  if (prefix === null) return path; // ReplacePrefixMatch needs a PathPrefix match; the translator refuses the rest
  const rest = prefix === '/' ? path.slice(1) : path.slice(prefix.length);
  const replacement = modifier.value;
  if (rest.length === 0) return replacement;
  // Join the replacement and the remainder with exactly one slash: "/new" + "/x" and "/" + "/x" both → one "/".
  if (replacement.endsWith('/')) return replacement + (rest.startsWith('/') ? rest.slice(1) : rest);
  return replacement + (rest.startsWith('/') ? rest : `/${rest}`);
}

export function redirectLocation(
  redirect: Redirect,
  request: {
    scheme: 'http' | 'https';
    host: string;
    listenerPort: number;
    path: string;
    query: string;
    prefix: string | null;
  },
): string {
  const scheme = redirect.scheme ?? request.scheme;
  const hostname = redirect.hostname ?? request.host;
  let port: number;
  if (redirect.port !== null) port = redirect.port;
  else if (redirect.scheme !== null) port = redirect.scheme === 'https' ? 443 : 80;
  else port = request.listenerPort;
  const defaultPort = scheme === 'https' ? 443 : 80;
  const authority = port === defaultPort ? hostname : `${hostname}:${port}`;
  const path = redirect.path === null ? request.path : modifyPath(request.path, redirect.path, request.prefix);
  return `${scheme}://${authority}${path}${request.query.length > 0 ? `?${request.query}` : ''}`;
}

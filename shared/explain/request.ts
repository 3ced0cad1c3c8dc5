// The request `portico explain` is asked about, and how it is read from a URL query string (the operator's admin
// endpoint) or built by the CLI. Plain data; no I/O.

/** A request as a client would send it, and where it is sent. */
export interface ExplainRequest {
  /** The Gateway whose address the request is sent to (`namespace/name`); or give `address`. */
  gateway?: string;
  /** The address the request is sent to (a listener's address); or give `gateway`. */
  address?: string;
  /** The port the client connects to (`spec.listeners[].port`); needed when the Gateway listens on several. */
  port?: number;
  /** `https` when the request arrives over TLS (HTTPS listeners); `http` otherwise. */
  scheme: 'http' | 'https';
  /** The Host header (or `:authority`), as sent. */
  host: string;
  /** The path without the query string. */
  path: string;
  method: string;
  /** The raw query string without `?`, or ''. */
  query: string;
  /** Header names in lower case; a repeated header joined with ','. */
  headers: Record<string, string>;
  /** The TLS server name the client sent, when it differs from the Host header (421 detection). */
  sni?: string;
}

/** Query-string names of the admin endpoint's `/explain`. `header` repeats (`name:value`). */
export function explainRequestFromQuery(params: URLSearchParams): ExplainRequest | { error: string } {
  const scheme = params.get('scheme') ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') return { error: `scheme must be http or https, not ${scheme}` };
  const portText = params.get('port');
  const port = portText === null || portText === '' ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    return { error: `port must be a number from 1 to 65535, not ${portText}` };
  }
  const headers: Record<string, string> = {};
  for (const header of params.getAll('header')) {
    const colon = header.indexOf(':');
    if (colon <= 0) return { error: `header must be name:value, not ${JSON.stringify(header)}` };
    const name = header.slice(0, colon).trim().toLowerCase();
    const value = header.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const host = params.get('host') ?? headers.host ?? '';
  const path = params.get('path') ?? '/';
  if (!path.startsWith('/')) return { error: `path must start with '/', not ${JSON.stringify(path)}` };
  const gateway = params.get('gateway') ?? undefined;
  const address = params.get('address') ?? undefined;
  if (gateway === undefined && address === undefined) return { error: 'give the gateway (namespace/name) or address' };
  return {
    gateway,
    address,
    port,
    scheme,
    host,
    path,
    method: (params.get('method') ?? 'GET').toUpperCase(),
    query: params.get('query') ?? '',
    headers,
    sni: params.get('sni') ?? undefined,
  };
}

/** The inverse of `explainRequestFromQuery`, for the CLI. */
export function explainRequestToQuery(request: ExplainRequest): URLSearchParams {
  const params = new URLSearchParams();
  if (request.gateway !== undefined) params.set('gateway', request.gateway);
  if (request.address !== undefined) params.set('address', request.address);
  if (request.port !== undefined) params.set('port', String(request.port));
  params.set('scheme', request.scheme);
  params.set('host', request.host);
  params.set('path', request.path);
  params.set('method', request.method);
  if (request.query !== '') params.set('query', request.query);
  for (const [name, value] of Object.entries(request.headers)) params.append('header', `${name}:${value}`);
  if (request.sni !== undefined) params.set('sni', request.sni);
  return params;
}

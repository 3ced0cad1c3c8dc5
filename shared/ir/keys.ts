// The one place IR keys are built and taken apart. Keys are stable across generations so that deltas stay small and a
// record's key says where it came from. Nothing else slices a key.

export function listenerKey(namespace: string, gateway: string, listener: string): string {
  return `${namespace}/${gateway}/${listener}`;
}

export function routeKey(kind: string, namespace: string, name: string): string {
  return `${kind.toLowerCase()}/${namespace}/${name}`;
}

export function backendKey(namespace: string, service: string, port: number, kind = 'Service'): string {
  return kind === 'Service'
    ? `${namespace}/${service}:${port}`
    : `${kind.toLowerCase()}:${namespace}/${service}:${port}`;
}

/** A listener of a ListenerSet (bound on its parent Gateway's addresses): `listenerset/<namespace>/<set>/<listener>`. */
export function listenerSetListenerKey(namespace: string, listenerSet: string, listener: string): string {
  return `listenerset/${namespace}/${listenerSet}/${listener}`;
}

export function certificateKey(namespace: string, secret: string): string {
  return `${namespace}/${secret}`;
}

/**
 * A Service port as reached with one backend protocol. Routes of different kinds can reach the same port differently
 * (an HTTPRoute over HTTP/1.1, a GRPCRoute over h2c, a TCPRoute as a raw stream), so each way gets its own record;
 * HTTP/1.1 keeps the plain `backendKey()` form.
 */
export function serviceBackendKey(namespace: string, service: string, port: number, protocol: string): string {
  const base = backendKey(namespace, service, port);
  return protocol === 'http1' ? base : `${base}/${protocol}`;
}

/** A record of any kind, as an index of references names it: `<kind>|<key>` (kind: `listeners`, `backends`, …). */
export function recordRef(kind: string, key: string): string {
  return `${kind}|${key}`;
}

/** The parts of a `recordRef`. */
export function parseRecordRef(ref: string): { kind: string; key: string } {
  const bar = ref.indexOf('|');
  return { kind: ref.slice(0, bar), key: ref.slice(bar + 1) };
}

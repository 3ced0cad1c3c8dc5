// Hostname matching between listeners and routes (Gateway API HTTPRoute/TLSRoute `spec.hostnames`): a wildcard
// `*.example.com` matches any name ending in `.example.com` (one or more labels), never `example.com` itself.

/** Does `name` (exact or wildcard) fall inside `pattern` (exact or wildcard)? */
function within(name: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return name === pattern;
  const suffix = pattern.slice(1); // ".example.com"
  if (name.startsWith('*.')) return name.slice(1).endsWith(suffix);
  return name.endsWith(suffix) && name.length > suffix.length;
}

/**
 * The hostnames a route gets on a listener: the route's own hostnames that intersect the listener's, as the route
 * wrote them. `null` when the route named hostnames and none intersects (the route does not attach); `[]` when the
 * route has no hostnames (it takes whatever the listener accepts).
 *
 * A route hostname wider than the listener's (`*.example.com` on a listener for `abc.example.com`) is kept as
 * written, not narrowed to the intersection: precedence between routes goes by their own hostnames
 * (GatewayRouteHostnameIntersectionPrecedence, Gateway API v1.7), so a route for `abc.example.com` beats an older one
 * for `*.example.com` on that listener, and a request its rules do not match falls through to the wider one. Serving
 * the wider name admits nothing more: the data plane gives a listener only requests (Host or SNI) its own hostname
 * accepts, and the route's name must match them too.
 */
export function intersectHostnames(
  listenerHostname: string | undefined,
  routeHostnames: readonly string[],
): string[] | null {
  if (routeHostnames.length === 0) return [];
  if (listenerHostname === undefined) return [...new Set(routeHostnames)];
  const out = new Set<string>();
  for (const hostname of routeHostnames) {
    if (within(hostname, listenerHostname)) out.add(hostname);
    else if (within(listenerHostname, hostname)) out.add(hostname);
  }
  return out.size === 0 ? null : [...out];
}

/** Do two listener hostnames (absent = any host) accept a common name? */
export function hostnamesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return within(a, b) || within(b, a);
}

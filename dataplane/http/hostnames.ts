// Hostname lookup with Gateway API semantics: an exact name beats any wildcard, a longer wildcard suffix beats a
// shorter one, and `*.example.com` matches any number of labels in front of `example.com` but not `example.com`
// itself. Used twice per request: host → listener (no fallthrough: listener isolation), and host → route hostnames
// (with fallthrough to less specific names when nothing matches the path).

/** Lower-cases the Host header, drops the port and a trailing dot. Returns '' for an absent or empty host. */
export function normalizeHost(raw: string | undefined): string {
  if (raw === undefined || raw.length === 0) return '';
  let end = raw.length;
  if (raw.charCodeAt(0) === 91 /* [ */) {
    const close = raw.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = raw.indexOf(':');
    if (colon !== -1) end = colon;
  }
  if (end > 0 && raw.charCodeAt(end - 1) === 46 /* . */) end--;
  const host = end === raw.length ? raw : raw.slice(0, end);
  return hasUpperCase(host) ? host.toLowerCase() : host;
}

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** Values keyed by hostname pattern: exact names, `*.suffix` wildcards, and '' for "any host". */
export class HostIndex<T> {
  readonly exact = new Map<string, T>();
  /** Keyed by the suffix after `*.`: `*.example.com` is stored under `example.com`. */
  readonly wildcard = new Map<string, T>();
  any: T | undefined = undefined;

  set(pattern: string, value: T): void {
    if (pattern === '' || pattern === '*') this.any = value;
    else if (pattern.startsWith('*.')) this.wildcard.set(pattern.slice(2), value);
    else this.exact.set(pattern, value);
  }

  delete(pattern: string): void {
    if (pattern === '' || pattern === '*') this.any = undefined;
    else if (pattern.startsWith('*.')) this.wildcard.delete(pattern.slice(2));
    else this.exact.delete(pattern);
  }

  get(pattern: string): T | undefined {
    if (pattern === '' || pattern === '*') return this.any;
    return pattern.startsWith('*.') ? this.wildcard.get(pattern.slice(2)) : this.exact.get(pattern);
  }

  /** The most specific entry for a request host, or undefined. */
  lookup(host: string): T | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      let dot = host.indexOf('.');
      while (dot !== -1) {
        const hit = this.wildcard.get(host.slice(dot + 1));
        if (hit !== undefined) return hit;
        dot = host.indexOf('.', dot + 1);
      }
    }
    return this.any;
  }

  /**
   * Fills `out` with every entry that matches `host`, most specific first, and returns how many. `out` is reused by
   * the caller across requests to keep the request path free of allocation.
   */
  candidates(host: string, out: T[]): number {
    let n = 0;
    const exact = this.exact.get(host);
    if (exact !== undefined) out[n++] = exact;
    if (this.wildcard.size > 0) {
      let dot = host.indexOf('.');
      while (dot !== -1) {
        const hit = this.wildcard.get(host.slice(dot + 1));
        if (hit !== undefined) out[n++] = hit;
        dot = host.indexOf('.', dot + 1);
      }
    }
    if (this.any !== undefined) out[n++] = this.any;
    return n;
  }
}

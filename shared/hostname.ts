// Hostnames as Gateway API compares them, for code that explains a decision rather than makes it on the hot path
// (the data plane's indexed lookup is `dataplane/http/hostnames.ts`; `portico explain` and its differential test
// hold the two to the same answers).

/** Lower-cases a Host header value, drops the port and a trailing dot; '' for an absent or empty host. */
export function normalizeHost(raw: string | undefined): string {
  if (raw === undefined || raw.length === 0) return '';
  let end = raw.length;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = raw.indexOf(':');
    if (colon !== -1) end = colon;
  }
  if (end > 0 && raw[end - 1] === '.') end--;
  return raw.slice(0, end).toLowerCase();
}

/**
 * How specifically `pattern` matches `host`: null when it does not; otherwise a number where larger is more
 * specific: an exact name beats every wildcard, a longer wildcard suffix beats a shorter one, and '' (any host)
 * comes last. `*.example.com` matches any number of labels in front of `example.com`, not `example.com` itself.
 */
export function hostnameSpecificity(pattern: string, host: string): number | null {
  if (pattern === '' || pattern === '*') return 0;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix) ? suffix.length : null;
  }
  return pattern === host ? Number.MAX_SAFE_INTEGER : null;
}

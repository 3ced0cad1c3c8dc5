// Field checks shared by the translator (which turns a failure into a status condition) and the data plane's
// snapshot validator (which NACKs). Each returns the reason a value is rejected, or null when it is fine. They mirror
// the Gateway API CRD rules, because a resource can reach us without them (an older CRD, a file in standalone mode).

import { isIP } from 'node:net';
import { compileUserRegex } from '../regex.ts';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const HOSTNAME = new RegExp(`^(\\*\\.)?${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
// RFC 7230 field-value: visible ASCII, obs-text, space and tab; never CR, LF or NUL.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export const REDIRECT_STATUS_CODES = [301, 302, 303, 307, 308] as const;

export function checkHostname(value: unknown, allowWildcard = true): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 253) return `is ${value.length} characters long; at most 253 are allowed`;
  if (isIP(value) !== 0) return 'must be a DNS name, not an IP address';
  if (!HOSTNAME.test(value)) return 'must be a lower-case DNS name (RFC 1123), optionally starting with "*."';
  if (!allowWildcard && value.startsWith('*.')) return 'must not be a wildcard';
  return null;
}

export function checkIpAddress(value: unknown): string | null {
  if (typeof value !== 'string' || isIP(value) === 0) return 'must be an IPv4 or IPv6 address';
  return null;
}

export function checkPort(value: unknown): string | null {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
    return 'must be an integer from 1 to 65535';
  }
  return null;
}

/** `matches[].path.value` for Exact and PathPrefix, and the path of redirects and rewrites. */
export function checkPathValue(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 1024) return `is ${value.length} characters long; at most 1024 are allowed`;
  if (!value.startsWith('/')) return 'must be an absolute path starting with "/"';
  if (value.includes('//')) return 'must not contain "//"';
  if (value.includes('/./') || value.includes('/../') || value.endsWith('/..') || value.endsWith('/.')) {
    return 'must not contain "." or ".." segments';
  }
  if (/%2f/i.test(value)) return 'must not contain an encoded "/" (%2F)';
  if (value.includes('#')) return 'must not contain "#"';
  if (!PATH_CHARS.test(value)) return 'contains a character that is not allowed in a URL path';
  return null;
}

export function checkRegex(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  const result = compileUserRegex(value);
  return result.ok ? null : result.reason;
}

export function checkHeaderName(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 256) return `is ${value.length} characters long; at most 256 are allowed`;
  if (!HEADER_NAME.test(value)) return 'must be an HTTP header name (RFC 7230 token characters only)';
  return null;
}

export function checkHeaderValue(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > 4096) return `is ${value.length} characters long; at most 4096 are allowed`;
  if (!HEADER_VALUE.test(value)) return 'must not contain control characters such as CR, LF or NUL';
  return null;
}

export function checkMethod(value: unknown): string | null {
  return (HTTP_METHODS as readonly unknown[]).includes(value) ? null : `must be one of ${HTTP_METHODS.join(', ')}`;
}

/** A duration in milliseconds as the IR carries it. */
export function checkDurationMs(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    return 'must be a non-negative number of milliseconds';
  return null;
}

/**
 * Gateway API durations (GEP-2257): one or more `<integer><unit>` with units h, m, s, ms, e.g. `1h30m` or `500ms`.
 * Returns milliseconds, or the reason the value is rejected.
 */
export function parseGatewayDuration(value: unknown): { ms: number } | { reason: string } {
  if (typeof value !== 'string' || value.length === 0) return { reason: 'must be a duration such as "10s" or "500ms"' };
  const part = /(\d{1,5})(h|ms|m|s)/y;
  let ms = 0;
  let offset = 0;
  while (offset < value.length) {
    part.lastIndex = offset;
    const m = part.exec(value);
    if (m === null)
      return { reason: `"${value}" is not a duration: use integers with units h, m, s or ms, e.g. "1m30s"` };
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    offset = part.lastIndex;
  }
  return { ms };
}

/** `cors.allowOrigins[]`: `*`, or `scheme://host[:port]` where the host may start with `*.`. */
export function checkCorsOrigin(value: unknown): string | null {
  if (value === '*') return null;
  if (typeof value !== 'string' || !/^(https?):\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$|^(https?):\/\/\*$/.test(value)) {
    return 'must be "*" or an origin such as "https://example.com" or "https://*.example.com"';
  }
  return null;
}

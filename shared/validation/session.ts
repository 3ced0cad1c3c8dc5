// Checks of a rule's session-persistence record (shared/ir/route.ts `SessionPersistence`), run by the operator on
// what it builds and by the data plane on every snapshot: the name becomes a cookie or header name and the path a
// cookie attribute, so a value that could split a Set-Cookie line or a header is a NACK. Returns problems; never throws.

import type { SessionPersistence } from '../ir/route.ts';
import { checkDurationMs, checkHeaderName } from './fields.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

/** A cookie's Path attribute value (RFC 6265 §4.1.1 path-value): printable, no `;`, and it starts with `/`. */
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;

export function checkCookiePath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 1024 || !COOKIE_PATH.test(value))
    return 'must be a path of at most 1024 printable characters, starting with "/", without ";" or spaces';
  return null;
}

export function validateSessionPersistence(record: SessionPersistence, at: string, out: Problem[]): void {
  const bad = (field: string, why: string | null) => {
    if (why !== null) out.push(problem('InvalidValue', `${at}.${field}`, `${at}.${field} ${why}`));
  };
  if (typeof record !== 'object' || record === null)
    return void out.push(problem('InvalidValue', at, `${at} must be an object`));
  if (record.type !== 'Cookie' && record.type !== 'Header') bad('type', 'must be Cookie or Header');
  bad('name', checkHeaderName(record.name)); // a cookie name is a token too (RFC 6265 §4.1.1)
  if (record.absoluteTimeoutMs !== undefined) {
    bad('absoluteTimeoutMs', checkDurationMs(record.absoluteTimeoutMs));
    if (record.absoluteTimeoutMs === 0) bad('absoluteTimeoutMs', 'must be longer than 0');
  }
  if (typeof record.permanent !== 'boolean') bad('permanent', 'must be a boolean');
  else if (record.permanent && record.absoluteTimeoutMs === undefined)
    bad('permanent', 'needs absoluteTimeoutMs (the Max-Age of the cookie)');
  bad('cookiePath', checkCookiePath(record.cookiePath));
}

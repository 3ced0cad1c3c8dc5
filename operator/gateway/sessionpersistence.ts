// GEP-1619 `sessionPersistence` (a route rule's, or an XBackendTrafficPolicy's) → the IR `SessionPersistence`
// record, or the reason it cannot be served. Every field of the v1.7.0 schema is either implemented or refused here:
// type Cookie/Header, cookie.name (or a generated one), cookie.path, cookie.lifetimeType, header.name, absoluteTimeout.
// The CRD's CEL rules are checked again: standalone mode and older CRDs do not run them.

import { createHash } from 'node:crypto';
import type { SessionPersistence } from '../../shared/ir/route.ts';
import { checkHeaderName, parseGatewayDuration } from '../../shared/validation/fields.ts';
import { checkCookiePath } from '../../shared/validation/session.ts';
import { isObject, show } from './read.ts';

export type SessionBuild = { record: SessionPersistence } | { problem: string };

/**
 * The cookie name used when `cookie.name` is absent ("a unique cookie name SHOULD be generated"): stable for the
 * same owner (so a rebuilt configuration keeps the clients' sessions) and different between owners.
 */
export function generatedCookieName(owner: string): string {
  return `portico-session-${createHash('sha256').update(owner).digest('hex').slice(0, 12)}`;
}

/** `owner` names what the setting belongs to (a route rule, a policy), for the generated cookie name. */
export function buildSessionPersistence(raw: unknown, field: string, owner: string): SessionBuild {
  if (!isObject(raw)) return { problem: `${field} must be an object; it is ${show(raw)}` };
  const type = raw.type ?? 'Cookie';
  if (type !== 'Cookie' && type !== 'Header')
    return { problem: `${field}.type ${show(raw.type)} is not supported: use Cookie or Header` };
  const record: SessionPersistence = { type, name: '', permanent: false, cookiePath: '/' };
  if (raw.absoluteTimeout !== undefined) {
    const parsed = parseGatewayDuration(raw.absoluteTimeout);
    if ('reason' in parsed)
      return { problem: `${field}.absoluteTimeout ${show(raw.absoluteTimeout)}: ${parsed.reason}` };
    if (parsed.ms === 0)
      return { problem: `${field}.absoluteTimeout ${show(raw.absoluteTimeout)} must be longer than 0` };
    record.absoluteTimeoutMs = parsed.ms;
  }
  if (type === 'Header') {
    if (raw.cookie !== undefined) return { problem: `${field}.cookie must be absent when type is Header` };
    const header = isObject(raw.header) ? raw.header : undefined;
    if (header === undefined) return { problem: `${field}.header is required when type is Header` };
    const why = checkHeaderName(header.name);
    if (why !== null) return { problem: `${field}.header.name ${show(header.name)} ${why}` };
    record.name = (header.name as string).toLowerCase();
    return { record };
  }
  if (raw.header !== undefined) return { problem: `${field}.header must be absent when type is Cookie` };
  // The CRD asks for `cookie` with type Cookie; an absent one (type defaulted, or a file without it) means defaults.
  if (raw.cookie !== undefined && !isObject(raw.cookie))
    return { problem: `${field}.cookie must be an object; it is ${show(raw.cookie)}` };
  const cookie = isObject(raw.cookie) ? raw.cookie : {};
  if (cookie.name !== undefined) {
    const why = checkHeaderName(cookie.name);
    if (why !== null) return { problem: `${field}.cookie.name ${show(cookie.name)} ${why}` };
    record.name = cookie.name as string;
  } else record.name = generatedCookieName(owner);
  if (cookie.path !== undefined) {
    const why = checkCookiePath(cookie.path);
    if (why !== null) return { problem: `${field}.cookie.path ${show(cookie.path)} ${why}` };
    record.cookiePath = cookie.path as string;
  }
  const lifetime = cookie.lifetimeType ?? 'Session';
  if (lifetime !== 'Session' && lifetime !== 'Permanent')
    return { problem: `${field}.cookie.lifetimeType ${show(cookie.lifetimeType)} must be Session or Permanent` };
  if (lifetime === 'Permanent') {
    if (record.absoluteTimeoutMs === undefined)
      return { problem: `${field}.absoluteTimeout is required when cookie.lifetimeType is Permanent` };
    record.permanent = true;
  }
  return { record };
}

// `spec.listeners` of a Gateway or of a ListenerSet attached to one: the entries with a name of their own become listener
// nodes (with the Gateway's frontend TLS settings applied); the others are reported, not served.

import { applyFrontendTls, readFrontendTls } from './frontendtls.ts';
import type { TranslateContext } from '../context.ts';
import { buildListenerNode } from './listener.ts';
import type { ListenerNode } from './listener.ts';
import { listAt, nonEmptyString, objectAt, show } from '../read.ts';

export interface ListenerList {
  listeners: ListenerNode[];
  /** Why entries (or the whole list) could not be read: an entry with no name, or one that repeats a name. */
  unnamed: string[];
}

/**
 * `listeners` is the `spec.listeners` value as found; `gatewaySpec` the Gateway's spec (its `tls.frontend` applies to
 * set listeners too); `owner` the ListenerSet that holds the list, when it is one.
 */
export function readListenerList(
  context: TranslateContext,
  gateway: { namespace: string; name: string },
  gatewaySpec: Record<string, unknown>,
  listeners: unknown,
  owner?: { namespace: string; name: string },
): ListenerList {
  const result: ListenerList = { listeners: [], unnamed: [] };
  if (listeners !== undefined && !Array.isArray(listeners))
    result.unnamed.push(`spec.listeners must be a list; it is ${show(listeners)}`);
  const frontend = readFrontendTls(gatewaySpec);
  const seen = new Set<string>();
  for (const [i, entry] of listAt(listeners).entries()) {
    const raw = objectAt(entry);
    const name = nonEmptyString(raw.name);
    if (name === undefined || seen.has(name)) {
      result.unnamed.push(
        `spec.listeners[${i}] ${name === undefined ? `has no name (${show(raw.name)})` : `repeats the name ${name}`}`,
      );
      continue;
    }
    seen.add(name);
    const listener = buildListenerNode(context, gateway, raw, name, i, owner);
    applyFrontendTls(context, listener, frontend);
    result.listeners.push(listener);
  }
  return result;
}

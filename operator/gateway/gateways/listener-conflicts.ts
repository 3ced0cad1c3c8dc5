// Conflicts between the listeners of one Gateway (Gateway API "Distinct Listeners"): which listeners cannot be told
// apart on a shared port, and which TLS listeners overlap. Run after every listener node is built (listener.ts),
// because a conflict needs them all; also asked pair by pair for ListenerSet listeners against their parent's.

import { hostnamesOverlap } from '../hostname.ts';
import type { ConflictReason, ListenerNode } from './listener.ts';

/** Listeners that share a port and a transport compete for one socket. */
function socketGroup(listener: ListenerNode): string {
  return `${listener.protocol === 'UDP' ? 'udp' : 'tcp'}:${listener.port}`;
}

function family(listener: ListenerNode): string {
  return listener.protocol === 'HTTPS' || listener.protocol === 'TLS' ? 'tls' : listener.protocol;
}

/**
 * Why `next` cannot be told apart from `earlier` (an accepted listener of higher precedence on the same Gateway), or
 * undefined when they are distinct: the rules of `detectListenerConflicts`, for one pair.
 */
export function conflictBetween(
  next: ListenerNode,
  earlier: ListenerNode,
  mixedTlsModes: boolean,
): { reason: ConflictReason; what: string } | undefined {
  if (socketGroup(next) !== socketGroup(earlier)) return undefined;
  if (family(next) !== family(earlier))
    return { reason: 'ProtocolConflict', what: `uses ${earlier.protocol} on port ${next.port}` };
  if (next.protocol === 'TCP' || next.protocol === 'UDP')
    return { reason: 'ProtocolConflict', what: `is ${next.protocol} on port ${next.port} too` };
  if (next.protocol === 'TLS' && earlier.protocol === 'TLS' && next.tlsMode !== earlier.tlsMode && !mixedTlsModes) {
    return { reason: 'ProtocolConflict', what: `is a TLS ${earlier.tlsMode} listener on port ${next.port}` };
  }
  if ((next.hostname ?? '') === (earlier.hostname ?? ''))
    return { reason: 'HostnameConflict', what: `takes hostname ${next.hostname ?? '(any)'} on port ${next.port}` };
  return undefined;
}

function markConflict(listeners: ListenerNode[], reason: ConflictReason, message: string): void {
  for (const l of listeners) {
    l.conflict ??= { reason, message };
    l.supportedKinds = [];
  }
}

/**
 * Marks the listeners of one Gateway that cannot be told apart (Gateway API "Distinct Listeners"). Per the spec
 * none of a conflicting set wins: all of them are conflicted. Only accepted listeners take part; every Gateway has
 * its own address, so listeners of different Gateways never conflict.
 */
export function detectListenerConflicts(listeners: readonly ListenerNode[], mixedTlsModes: boolean): void {
  const groups = new Map<string, ListenerNode[]>();
  for (const l of listeners) {
    if (l.rejection !== undefined) continue;
    const group = groups.get(socketGroup(l)) ?? [];
    group.push(l);
    groups.set(socketGroup(l), group);
  }
  for (const group of groups.values()) {
    const families = new Set(group.map(family));
    const names = group.map((l) => l.name).join(', ');
    if (families.size > 1) {
      markConflict(
        group,
        'ProtocolConflict',
        `Listeners ${names} use ${[...new Set(group.map((l) => l.protocol))].join(' and ')} on port ${group[0].port}, which cannot share a port`,
      );
      continue;
    }
    const only = group[0].protocol;
    if ((only === 'TCP' || only === 'UDP') && group.length > 1) {
      markConflict(
        group,
        'ProtocolConflict',
        `Listeners ${names} are all ${only} on port ${group[0].port}; ${only} listeners cannot share a port`,
      );
      continue;
    }
    const tlsModes = new Set(group.filter((l) => l.protocol === 'TLS').map((l) => l.tlsMode));
    if (tlsModes.size > 1 && !mixedTlsModes) {
      markConflict(
        group.filter((l) => l.protocol === 'TLS'),
        'ProtocolConflict',
        `TLS listeners ${names} mix Terminate and Passthrough on port ${group[0].port}, which is not supported`,
      );
    }
    const byHostname = new Map<string, ListenerNode[]>();
    for (const l of group) byHostname.set(l.hostname ?? '', [...(byHostname.get(l.hostname ?? '') ?? []), l]);
    for (const [hostname, same] of byHostname) {
      if (same.length > 1) {
        markConflict(
          same,
          'HostnameConflict',
          `Listeners ${same.map((l) => l.name).join(', ')} all take hostname ${hostname === '' ? '(any)' : hostname} on port ${group[0].port}`,
        );
      }
    }
  }
  detectOverlappingTls(listeners);
}

/** OverlappingTLSConfig: TLS listeners on one port whose hostnames overlap (Gateway API: MUST detect). */
function detectOverlappingTls(listeners: readonly ListenerNode[]): void {
  const tls = listeners.filter((l) => l.rejection === undefined && l.conflict === undefined && family(l) === 'tls');
  for (const a of tls) {
    for (const b of tls) {
      if (a !== b && a.port === b.port && hostnamesOverlap(a.hostname, b.hostname)) a.overlapsWith.push(b.name);
    }
  }
}

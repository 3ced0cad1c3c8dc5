// The translator: Gateway API resources in, the data plane's IR, the objects' statuses and (service mode) the
// Gateways' Services out. Synchronous and pure: the clock, the controller name, the address mode and the previous
// allocations come in `options`; the input is never changed; there is no module state. It never throws: every
// object is translated inside a guard, so one object the translator cannot handle gets a condition and the others
// are unaffected. A translation is a fresh session's first run (session.ts lists the passes, once): the operator's
// incremental runs and this one go through the same code.

import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';
import type { Problem } from '../../shared/validation/problem.ts';
import type { GatewayNamespaceObjects } from './gateways/gateway-infrastructure.ts';
import type { GatewayService } from './gateways/gateway-service.ts';
import type { AddressAllocations, PortAllocations, TranslateOptions } from './options.ts';
import type { KubeObject, ResourceSnapshot } from './resources.ts';
import { TranslationSession } from './session.ts';
import type { ObjectStatus } from './status.ts';

export interface TranslateResult {
  ir: SnapshotRecords;
  /** Statuses of the objects this controller owns (or, for routes, its own `parents` entries), sorted. */
  statuses: ObjectStatus[];
  /** Pool allocations to pass back as `options.previousAddresses` next time. */
  addresses: AddressAllocations;
  /** Service mode: internal port allocations to pass back as `options.previousPorts` next time. */
  ports: PortAllocations;
  /** Service mode: the Service of every Gateway of ours (empty in pool mode). */
  services: GatewayService[];
  /** GatewayInfrastructure mode: every such Gateway's Service and EndpointSlice in its namespace (else empty). */
  infrastructure: GatewayNamespaceObjects[];
  /** IR records the final validation refused: a translator bug to log; empty in a correct run. */
  dropped: Problem[];
}

/**
 * Translates a snapshot from scratch. Two objects with one key (a namespaced object without a namespace next to the
 * same one in `default`) are one object to the translator, as in the store: the later in its list replaces.
 */
export function translate(resources: ResourceSnapshot, options: TranslateOptions = {}): TranslateResult {
  const session = new TranslationSession();
  for (const list of Object.values(resources) as Array<readonly KubeObject[]>) session.apply(list, []);
  session.run(options);
  return session.result();
}

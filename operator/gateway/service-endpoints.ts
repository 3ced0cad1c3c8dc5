// A Service port and its ready endpoints, as EndpointSlices list them: what route backends (backends/backend.ts) and
// an XTelemetryPolicy's collector (policies/telemetrypolicy.ts) both resolve a Service reference to. A core leaf
// (boundaries.test.ts): reads the lookups, imports no room.

import { isIP } from 'node:net';
import type { Endpoint } from '../../shared/ir/backend.ts';
import { checkPort } from '../../shared/validation/fields.ts';
import type { TranslateContext } from './context.ts';
import { namespacedKey } from './keys.ts';
import { integerAt, listAt, nonEmptyString, objectAt, stringAt } from './read.ts';
import type { Service } from './resources.ts';

export interface ServicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol: string | undefined;
}

/** The Service port with this number, preferring the one with the wanted transport (DNS Services list 53 twice). */
export function findServicePort(service: Service, port: number, transport: string): ServicePort | undefined {
  const candidates: ServicePort[] = [];
  for (const entry of listAt(objectAt(service.spec).ports)) {
    const p = objectAt(entry);
    if (integerAt(p.port) !== port) continue;
    candidates.push({
      name: stringAt(p.name) ?? '',
      port,
      protocol: stringAt(p.protocol) ?? 'TCP',
      appProtocol: nonEmptyString(p.appProtocol),
    });
  }
  return candidates.find((c) => c.protocol === transport) ?? candidates[0];
}

/**
 * Ready endpoints of a Service port: from every EndpointSlice of the Service, the port whose name (and protocol)
 * matches the Service port's, and the first address of each endpoint whose `conditions.ready` is true or absent.
 * FQDN slices and malformed entries are skipped. Sorted and without duplicates, so the record is stable.
 */
export function resolveEndpoints(
  context: TranslateContext,
  namespace: string,
  service: string,
  servicePort: ServicePort,
): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const slice of context.endpointSlices.get(namespacedKey(namespace, service)) ?? []) {
    const addressType = stringAt(slice.addressType);
    if (addressType !== undefined && addressType !== 'IPv4' && addressType !== 'IPv6') continue;
    const slicePort = listAt(slice.ports)
      .map(objectAt)
      .find(
        (p) =>
          (stringAt(p.name) ?? '') === servicePort.name && (stringAt(p.protocol) ?? 'TCP') === servicePort.protocol,
      );
    const port = slicePort === undefined ? undefined : integerAt(slicePort.port);
    if (port === undefined || checkPort(port) !== null) continue;
    for (const entry of listAt(slice.endpoints)) {
      const endpoint = objectAt(entry);
      // Kubernetes: an absent ready condition means ready; anything but true or absent is not trusted.
      const ready = objectAt(endpoint.conditions).ready;
      if (ready !== true && ready !== undefined && ready !== null) continue;
      const address = stringAt(listAt(endpoint.addresses)[0]);
      if (address === undefined || isIP(address) === 0) continue;
      seen.set(`${address}|${port}`, { address, port });
    }
  }
  return [...seen.values()].sort((a, b) =>
    a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1,
  );
}

// The statuses and objects the status sink tests report and create (status-sink.test.ts), and `report`, which hands
// the sink a whole set of statuses as the reconciler does: what is new or changed, and the keys of those gone.

import type { ApiObject } from '../../../operator/framework/resource.ts';
import type { Condition } from '../../../operator/gateway/conditions.ts';
import { statusKey } from '../../../operator/gateway/keys.ts';
import type { ObjectStatus } from '../../../operator/gateway/status.ts';
import type { KubernetesStatusSink } from '../../../operator/kubernetes/status-sink.ts';
import { CONTROLLER } from './kube.ts';

export const GATEWAY_API = 'gateway.networking.k8s.io';
export const OTHER = 'example.com/other';
/** The field manager of the other controller whose status entries must survive ours. */
export const OTHER_MANAGER = 'example-other-controller';
export const STATUS_KINDS = ['Gateway', 'HTTPRoute', 'BackendTLSPolicy', 'ListenerSet'];
/** Condition times as the translator stamps them: RFC 3339, which the CRDs validate. */
export const T = (n: number) => `2024-01-01T00:00:0${n}Z`;

export function condition(type: string, status: 'True' | 'False', reason: string, time: string): Condition {
  return { type, status, reason, message: reason, observedGeneration: 1, lastTransitionTime: time };
}

/** A parentRef as the translator echoes it: from the spec as the API server defaulted it (group and kind set). */
export const parentRef = (name: string) => ({ group: GATEWAY_API, kind: 'Gateway', name });

export function gatewayStatus(namespace: string, time: string, programmed: 'True' | 'False' = 'True'): ObjectStatus {
  return {
    kind: 'Gateway',
    apiVersion: `${GATEWAY_API}/v1`,
    namespace,
    name: 'gw',
    generation: 1,
    status: {
      conditions: [
        condition('Accepted', 'True', 'Accepted', time),
        condition('Programmed', programmed, programmed === 'True' ? 'Programmed' : 'Pending', time),
      ],
      addresses: [],
      listeners: [],
    },
  };
}

export function routeStatus(namespace: string, time: string): ObjectStatus {
  return {
    kind: 'HTTPRoute',
    apiVersion: `${GATEWAY_API}/v1`,
    namespace,
    name: 'r',
    generation: 1,
    status: {
      parents: [
        {
          parentRef: parentRef('gw'),
          controllerName: CONTROLLER,
          conditions: [condition('Accepted', 'True', 'Accepted', time)],
        },
      ],
    },
  };
}

export function policyStatus(namespace: string, time: string, gateways: string[]): ObjectStatus {
  return {
    kind: 'BackendTLSPolicy',
    apiVersion: `${GATEWAY_API}/v1`,
    namespace,
    name: 'p',
    generation: 1,
    status: {
      ancestors: gateways.map((name) => ({
        ancestorRef: { group: GATEWAY_API, kind: 'Gateway', namespace, name },
        controllerName: CONTROLLER,
        conditions: [condition('Accepted', 'True', 'Accepted', time)],
      })),
    },
  };
}

// Valid specs, so that the API server takes the objects; nothing here reads them.
export const gateway = (namespace: string): ApiObject => ({
  apiVersion: `${GATEWAY_API}/v1`,
  kind: 'Gateway',
  metadata: { namespace, name: 'gw' },
  spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
});
export const route = (namespace: string): ApiObject => ({
  apiVersion: `${GATEWAY_API}/v1`,
  kind: 'HTTPRoute',
  metadata: { namespace, name: 'r' },
  spec: { parentRefs: [{ name: 'gw' }] },
});
export const policy = (namespace: string): ApiObject => ({
  apiVersion: `${GATEWAY_API}/v1`,
  kind: 'BackendTLSPolicy',
  metadata: { namespace, name: 'p' },
  spec: {
    targetRefs: [{ group: '', kind: 'Service', name: 'backend' }],
    validation: { hostname: 'backend.example.com', wellKnownCACertificates: 'System' },
  },
});
export const listenerSet = (namespace: string): ApiObject => ({
  apiVersion: `${GATEWAY_API}/v1`,
  kind: 'ListenerSet',
  metadata: { namespace, name: 'ls' },
  spec: { parentRef: { name: 'gw' }, listeners: [{ name: 'l', port: 8080, protocol: 'HTTP' }] },
});

/** What the sink has been told, per sink: `report` hands over a whole set as the reconciler does, as changes. */
const reported = new WeakMap<KubernetesStatusSink, Set<string>>();

export function report(sink: KubernetesStatusSink, statuses: ObjectStatus[]): void {
  const before = reported.get(sink) ?? new Set<string>();
  const after = new Set(statuses.map(statusKey));
  reported.set(sink, after);
  sink.updateChanges({ upsert: statuses, remove: [...before].filter((key) => !after.has(key)) });
}

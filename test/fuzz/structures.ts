// Fixed shapes of the fuzzer: a base Gateway, objects that name each other in loops, one Gateway with thousands of
// listeners.

import { CONTROLLER, type Draw, GROUP } from './draw.ts';

export function baseGateway(): unknown[] {
  return [
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: { controllerName: CONTROLLER },
    },
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'default' },
      spec: {
        gatewayClassName: 'portico',
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'l0', port: 9000, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    },
  ];
}

/** Objects that name each other in loops: the translator must neither recurse forever nor accept them. */
export function cycles(draw: Draw): unknown[] {
  const ns = 'default';
  return [
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: {
        controllerName: CONTROLLER,
        parametersRef: draw.chance(0.3) ? { group: GROUP, kind: 'GatewayClass', name: 'portico' } : undefined,
      },
    },
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: ns },
      spec: {
        gatewayClassName: 'portico',
        allowedListeners: { namespaces: { from: 'All' } },
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }],
        infrastructure: draw.chance(0.3) ? { parametersRef: { group: GROUP, kind: 'Gateway', name: 'gw' } } : undefined,
      },
    },
    ...['a', 'b'].map((name, i) => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'ListenerSet',
      metadata: { name, namespace: ns },
      spec: {
        parentRef: draw.chance(0.5) ? { kind: 'ListenerSet', group: GROUP, name: i === 0 ? 'b' : 'a' } : { name: 'gw' },
        listeners: [{ name: 'l', port: 8080 + i, protocol: 'HTTP' }],
      },
    })),
    ...['r1', 'r2'].map((name, i) => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name, namespace: ns },
      spec: {
        parentRefs: [
          { name: 'gw' },
          { kind: 'HTTPRoute', group: GROUP, name: i === 0 ? 'r2' : 'r1' },
          { kind: 'ListenerSet', group: GROUP, name: 'a' },
        ],
        rules: [
          {
            backendRefs: [
              { kind: 'HTTPRoute', group: GROUP, name: i === 0 ? 'r2' : name },
              { name: 'echo', port: 80 },
            ],
            filters: [
              { type: 'RequestMirror', requestMirror: { backendRef: { kind: 'HTTPRoute', group: GROUP, name } } },
            ],
          },
        ],
      },
    })),
    {
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'ReferenceGrant',
      metadata: { name: 'self', namespace: ns },
      spec: {
        from: [{ group: GROUP, kind: 'ReferenceGrant', namespace: ns }],
        to: [{ group: GROUP, kind: 'ReferenceGrant' }],
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: ns }, spec: { ports: [{ port: 80 }] } },
  ];
}

/** One Gateway with `count` listeners (distinct ports and hostnames, some clashing) and a route on all of them. */
export function manyListeners(count: number, draw: Draw | null = null): unknown[] {
  const listeners = Array.from({ length: count }, (_, i) => ({
    name: `l${i}`,
    port: 1024 + (i % 50_000),
    protocol: 'HTTP',
    hostname: draw?.chance(0.01) ? '*.example.com' : `h${i}.example.com`,
    allowedRoutes: { namespaces: { from: 'All' } },
  }));
  return [
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: { controllerName: CONTROLLER },
    },
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'big', namespace: 'default' },
      spec: { gatewayClassName: 'portico', listeners },
    },
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'all', namespace: 'default' },
      spec: { parentRefs: [{ name: 'big' }], rules: [{ backendRefs: [{ name: 'echo', port: 80 }] }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    },
  ];
}

/**
 * The resource set of one seed. `manyListenerCount` is the listener count of the many-listeners shape (10,000 in the
 * long run; smaller in the short one, which has seconds to spend).
 */

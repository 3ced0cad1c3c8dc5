import { expect } from 'chai';
import type { KubeObject } from '../gateway/resources.ts';
import type { StoredStatus } from '../status/status-board.ts';
import { buildMap, stateOf } from './model.ts';

const condition = (type: string, status: string, reason: string, message = '') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-02T00:00:00Z',
  observedGeneration: 1,
});

const objects: KubeObject[] = [
  {
    kind: 'Gateway',
    metadata: { namespace: 'default', name: 'gw' },
    spec: {
      gatewayClassName: 'portico',
      listeners: [
        { name: 'http', protocol: 'HTTP', port: 80 },
        { name: 'busy', protocol: 'HTTP', port: 81 },
      ],
    },
  },
  {
    kind: 'HTTPRoute',
    metadata: { namespace: 'team', name: 'both' },
    spec: {
      parentRefs: [
        { name: 'gw', namespace: 'default', sectionName: 'http' },
        { name: 'gw', namespace: 'default', sectionName: 'busy' },
      ],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'GET' }],
          backendRefs: [{ name: 'svc', port: 8080 }],
        },
      ],
    },
  },
  { kind: 'Secret', metadata: { namespace: 'default', name: 'tls' }, data: { 'tls.key': 'c2VjcmV0' } },
  { kind: 'ConfigMap', metadata: { namespace: 'default', name: 'ca' } },
  { kind: 'Service', metadata: { namespace: 'team', name: 'svc' }, spec: { ports: [{ port: 8080 }] } },
  {
    kind: 'EndpointSlice',
    metadata: { namespace: 'team', name: 'svc-1', labels: { 'kubernetes.io/service-name': 'svc' } },
    endpoints: [
      { addresses: ['10.0.0.1'], conditions: { ready: true } },
      { addresses: ['10.0.0.2'], conditions: { ready: false } },
    ],
  } as KubeObject,
];

const statuses: StoredStatus[] = [
  {
    kind: 'Gateway',
    namespace: 'default',
    name: 'gw',
    generation: 1,
    status: {
      conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'True', 'Programmed')],
      addresses: [{ type: 'IPAddress', value: '127.0.0.9' }],
      listeners: [
        {
          name: 'http',
          supportedKinds: [],
          attachedRoutes: 1,
          conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'True', 'Programmed')],
        },
        {
          name: 'busy',
          supportedKinds: [],
          attachedRoutes: 0,
          conditions: [condition('Programmed', 'False', 'Invalid', 'address in use')],
        },
      ],
    },
  },
  {
    kind: 'HTTPRoute',
    namespace: 'team',
    name: 'both',
    generation: 1,
    status: {
      parents: [
        {
          parentRef: { name: 'gw', namespace: 'default', sectionName: 'http' },
          controllerName: 'c',
          conditions: [condition('Accepted', 'True', 'Accepted'), condition('ResolvedRefs', 'True', 'ResolvedRefs')],
        },
        {
          parentRef: { name: 'gw', namespace: 'default', sectionName: 'busy' },
          controllerName: 'c',
          conditions: [condition('Accepted', 'False', 'NotAllowedByListeners', 'namespace team not allowed')],
        },
      ],
    },
  },
] as StoredStatus[];

describe('console map', () => {
  it('reads a state from conditions: refused, warning, pending, ok; Conflicted=True is bad', () => {
    expect(stateOf([condition('Accepted', 'False', 'NotAllowedByListeners')]).state).to.equal('error');
    expect(
      stateOf([condition('Accepted', 'True', 'Accepted'), condition('ResolvedRefs', 'False', 'RefNotPermitted')]).state,
    ).to.equal('warning');
    expect(stateOf([condition('Programmed', 'Unknown', 'Pending')]).state).to.equal('pending');
    expect(
      stateOf([condition('Accepted', 'True', 'Accepted'), condition('Conflicted', 'False', 'NoConflicts')]).state,
    ).to.equal('ok');
    expect(stateOf([condition('Conflicted', 'True', 'HostnameConflict')]).state).to.equal('warning');
    expect(stateOf(undefined).state).to.equal('pending');
  });

  it('lays out listeners, attachments with their reasons, rules and endpoints, and never a Secret or ConfigMap', () => {
    const map = buildMap(objects, statuses);
    const gw = map.gateways[0];
    expect(gw.state).to.equal('warning');
    expect(gw.addresses).to.deep.equal(['127.0.0.9']);
    expect(gw.listeners.map((l) => [l.name, l.state])).to.deep.equal([
      ['http', 'ok'],
      ['busy', 'warning'],
    ]);
    const route = map.routes[0];
    expect(route.state).to.equal('warning');
    expect(route.attachments.map((a) => [a.sectionName, a.state, a.reason])).to.deep.equal([
      ['http', 'ok', 'Accepted'],
      ['busy', 'error', 'NotAllowedByListeners'],
    ]);
    expect(route.rules[0]).to.deep.include({ matches: ['GET PathPrefix /api'] });
    expect(route.rules[0].backends).to.deep.equal([
      { service: 'Service/team/svc', port: 8080, weight: 1, trafficKey: 'team/svc:8080' },
    ]);
    expect(route.trafficKey).to.equal('team/both');
    expect(map.backends[0]).to.deep.include({ state: 'ok', summary: '1 of 2 endpoints ready' });
    const json = JSON.stringify(map);
    expect(json).not.to.include('c2VjcmV0').and.not.to.include('"Secret"').and.not.to.include('ConfigMap');
    expect(map.namespaces).to.deep.equal(['default', 'team']);
  });

  it('shows an object the operator has no status for yet as pending, and a route with no parent as refused', () => {
    const map = buildMap(
      [
        { kind: 'HTTPRoute', metadata: { namespace: 'a', name: 'orphan' }, spec: { rules: [] } },
        { kind: 'GatewayClass', metadata: { name: 'new' }, spec: {} },
      ],
      [],
    );
    expect(map.routes[0]).to.deep.include({ state: 'error', summary: 'no parentRefs' });
    expect(map.classes[0]).to.deep.include({ id: 'GatewayClass//new', state: 'pending' });
  });
});

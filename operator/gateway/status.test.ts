import { expect } from 'chai';
import type { Condition } from './conditions.ts';
import { applyDataPlaneState } from './dataplane-state.ts';
import { mergeConditions, mergeStatus, statusEquals } from './status.ts';
import type { ObjectStatus } from './status.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';

function cond(
  type: string,
  status: Condition['status'],
  reason: string,
  time: string,
  generation = 1,
  message = 'm',
): Condition {
  return { type, status, reason, message, observedGeneration: generation, lastTransitionTime: time };
}

describe('mergeConditions', () => {
  it('keeps lastTransitionTime while type, status, reason and message are unchanged, and takes the new generation', () => {
    const merged = mergeConditions(
      [cond('Accepted', 'True', 'Accepted', T0, 1)],
      [cond('Accepted', 'True', 'Accepted', T1, 2)],
    );
    expect(merged).to.deep.equal([cond('Accepted', 'True', 'Accepted', T0, 2)]);
  });

  it('takes the new time when the reason or message changes', () => {
    expect(
      mergeConditions(
        [cond('Accepted', 'True', 'Accepted', T0)],
        [cond('Accepted', 'True', 'ListenersNotValid', T1)],
      )[0].lastTransitionTime,
    ).to.equal(T1);
    expect(
      mergeConditions(
        [cond('Accepted', 'True', 'Accepted', T0)],
        [cond('Accepted', 'True', 'Accepted', T1, 1, 'other')],
      )[0].lastTransitionTime,
    ).to.equal(T1);
  });

  it('keeps conditions of other controllers in place and drops its own types it no longer sets', () => {
    const previous = [
      cond('example.com/Thing', 'True', 'X', T0),
      cond('PartiallyInvalid', 'True', 'UnsupportedValue', T0),
      cond('Accepted', 'True', 'Accepted', T0),
    ];
    const merged = mergeConditions(previous, [
      cond('Accepted', 'True', 'Accepted', T1),
      cond('ResolvedRefs', 'True', 'ResolvedRefs', T1),
    ]);
    expect(merged.map((c) => [c.type, c.lastTransitionTime])).to.deep.equal([
      ['example.com/Thing', T0],
      ['Accepted', T0],
      ['ResolvedRefs', T1],
    ]);
  });
});

describe('mergeStatus', () => {
  it('keeps route parents written by other controllers and merges ours by parentRef', () => {
    const previous = {
      parents: [
        { parentRef: { name: 'gw' }, controllerName: 'other.io/ctl', conditions: [cond('Accepted', 'False', 'X', T0)] },
        {
          parentRef: { name: 'gw', namespace: 'infra' },
          controllerName: 'portico.dev/gateway-controller',
          conditions: [cond('Accepted', 'True', 'Accepted', T0)],
        },
        {
          parentRef: { name: 'gone' },
          controllerName: 'portico.dev/gateway-controller',
          conditions: [cond('Accepted', 'True', 'Accepted', T0)],
        },
      ],
    };
    const next: ObjectStatus = {
      kind: 'HTTPRoute',
      apiVersion: 'gateway.networking.k8s.io/v1',
      namespace: 'infra',
      name: 'r',
      generation: 2,
      status: {
        parents: [
          {
            parentRef: { name: 'gw', namespace: 'infra' },
            controllerName: 'portico.dev/gateway-controller',
            conditions: [cond('Accepted', 'True', 'Accepted', T1, 2)],
          },
        ],
      },
    };
    const merged = mergeStatus(previous, next, 'portico.dev/gateway-controller') as {
      parents: Array<{ controllerName: string; parentRef: { name: string }; conditions: Condition[] }>;
    };
    expect(
      merged.parents.map((p) => [p.controllerName, p.parentRef.name, p.conditions[0].lastTransitionTime]),
    ).to.deep.equal([
      ['other.io/ctl', 'gw', T0],
      ['portico.dev/gateway-controller', 'gw', T0],
    ]);
  });

  it('merges Gateway and listener conditions by type and listener name', () => {
    const previous = {
      conditions: [cond('Accepted', 'True', 'Accepted', T0)],
      listeners: [{ name: 'http', conditions: [cond('Programmed', 'True', 'Programmed', T0)] }],
    };
    const next: ObjectStatus = {
      kind: 'Gateway',
      apiVersion: 'gateway.networking.k8s.io/v1',
      namespace: 'infra',
      name: 'gw',
      generation: 1,
      status: {
        conditions: [cond('Accepted', 'True', 'Accepted', T1)],
        addresses: [],
        listeners: [
          {
            name: 'http',
            supportedKinds: [],
            attachedRoutes: 0,
            conditions: [cond('Programmed', 'True', 'Programmed', T1)],
          },
        ],
      },
    };
    const merged = mergeStatus(previous, next, 'x') as any;
    expect(merged.conditions[0].lastTransitionTime).to.equal(T0);
    expect(merged.listeners[0].conditions[0].lastTransitionTime).to.equal(T0);
  });
});

describe('statusEquals', () => {
  it('ignores key order and undefined fields, not values or array order', () => {
    expect(statusEquals({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).to.equal(true);
    expect(statusEquals({ a: [1, 2] }, { a: [2, 1] })).to.equal(false);
    expect(statusEquals({ a: 1 }, { a: '1' })).to.equal(false);
    expect(statusEquals(null, {})).to.equal(false);
  });
});

describe('applyDataPlaneState', () => {
  const gateway = (): ObjectStatus => ({
    kind: 'Gateway',
    apiVersion: 'gateway.networking.k8s.io/v1',
    namespace: 'infra',
    name: 'gw',
    generation: 3,
    status: {
      conditions: [cond('Accepted', 'True', 'Accepted', T0, 3), cond('Programmed', 'True', 'Programmed', T0, 3)],
      addresses: [{ type: 'IPAddress', value: '127.10.0.1' }],
      listeners: [
        {
          name: 'http',
          supportedKinds: [],
          attachedRoutes: 1,
          conditions: [cond('Programmed', 'True', 'Programmed', T0, 3)],
        },
        {
          name: 'https',
          supportedKinds: [],
          attachedRoutes: 0,
          conditions: [cond('Programmed', 'True', 'Programmed', T0, 3)],
        },
        {
          name: 'bad',
          supportedKinds: [],
          attachedRoutes: 0,
          conditions: [cond('Programmed', 'False', 'Invalid', T0, 3)],
        },
      ],
    },
  });

  function programmed(status: ObjectStatus) {
    if (status.kind !== 'Gateway' && status.kind !== 'ListenerSet') throw new Error('not a Gateway');
    const find = (cs: Condition[]) => cs.find((c) => c.type === 'Programmed')!;
    return [find(status.status.conditions), ...status.status.listeners.map((l) => find(l.conditions))].map(
      (c) => `${c.status}/${c.reason}/${c.observedGeneration}`,
    );
  }

  it('holds Programmed at False/Pending until the data plane acks, without changing the input', () => {
    const input = Object.freeze([gateway()]);
    const out = applyDataPlaneState(input, { acked: false, listenerErrors: new Map() });
    expect(programmed(out[0])).to.deep.equal([
      'False/Pending/3',
      'False/Pending/3',
      'False/Pending/3',
      'False/Invalid/3',
    ]);
    expect(programmed(input[0])).to.deep.equal([
      'True/Programmed/3',
      'True/Programmed/3',
      'True/Programmed/3',
      'False/Invalid/3',
    ]);
  });

  it('leaves acked statuses as they are', () => {
    expect(applyDataPlaneState([gateway()], { acked: true, listenerErrors: new Map() })).to.deep.equal([gateway()]);
  });

  it('marks a listener the data plane could not bind, and the Gateway when none is left', () => {
    const one = applyDataPlaneState([gateway()], {
      acked: true,
      listenerErrors: new Map([['infra/gw/https', 'EADDRINUSE']]),
    });
    expect(programmed(one[0])).to.deep.equal([
      'True/Programmed/3',
      'True/Programmed/3',
      'False/Invalid/3',
      'False/Invalid/3',
    ]);
    const all = applyDataPlaneState([gateway()], {
      acked: true,
      listenerErrors: new Map([
        ['infra/gw/https', 'EADDRINUSE'],
        ['infra/gw/http', 'EACCES'],
      ]),
    });
    expect(programmed(all[0])[0]).to.equal('False/Invalid/3');
  });

  it('does the same for a ListenerSet, by its listeners’ keys', () => {
    const set = { ...gateway(), kind: 'ListenerSet', name: 'set' } as ObjectStatus;
    expect(programmed(applyDataPlaneState([set], { acked: false, listenerErrors: new Map() })[0])).to.deep.equal([
      'False/Pending/3',
      'False/Pending/3',
      'False/Pending/3',
      'False/Invalid/3',
    ]);
    const errors = new Map([
      ['listenerset/infra/set/https', 'EADDRINUSE'],
      ['listenerset/infra/set/http', 'EACCES'],
    ]);
    expect(programmed(applyDataPlaneState([set], { acked: true, listenerErrors: errors })[0])).to.deep.equal([
      'False/ListenersNotValid/3',
      'False/Invalid/3',
      'False/Invalid/3',
      'False/Invalid/3',
    ]);
  });
});

describe('mergeStatus keeps the order of route parents', () => {
  it('replaces our entries in place, so an unchanged status compares equal', () => {
    const ours = {
      parentRef: { name: 'gw' },
      controllerName: 'portico.dev/gateway-controller',
      conditions: [cond('Accepted', 'True', 'Accepted', T0)],
    };
    const theirs = {
      parentRef: { name: 'gw' },
      controllerName: 'other.io/ctl',
      conditions: [cond('Accepted', 'True', 'Accepted', T0)],
    };
    const previous = { parents: [ours, theirs] };
    const next: ObjectStatus = {
      kind: 'HTTPRoute',
      apiVersion: 'gateway.networking.k8s.io/v1',
      namespace: 'infra',
      name: 'r',
      generation: 1,
      status: { parents: [{ ...ours, conditions: [cond('Accepted', 'True', 'Accepted', T1)] }] },
    };
    expect(statusEquals(mergeStatus(previous, next, 'portico.dev/gateway-controller'), previous)).to.equal(true);
  });
});

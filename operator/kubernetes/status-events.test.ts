import { expect } from 'chai';
import { statusEvents } from './status-events.ts';

const C = 'portico.dev/gateway-controller';
const cond = (type: string, status: string, reason: string) => ({
  type,
  status,
  reason,
  message: `${type} is ${status}`,
  observedGeneration: 1,
  lastTransitionTime: 'T',
});

describe('kubernetes/status-events', () => {
  it('tells a condition whose status or reason changed; Warning when the new state is a problem', () => {
    const events = statusEvents(
      { conditions: [cond('Programmed', 'False', 'Pending'), cond('Accepted', 'True', 'Accepted')] },
      { conditions: [cond('Programmed', 'True', 'Programmed'), cond('Accepted', 'False', 'Invalid')] },
      C,
    );
    expect(events.map((e) => [e.type, e.reason])).to.deep.equal([
      ['Normal', 'Programmed'],
      ['Warning', 'Invalid'],
    ]);
  });

  it('says nothing for a new object that starts healthy, or when only the message changed', () => {
    expect(statusEvents(undefined, { conditions: [cond('Accepted', 'True', 'Accepted')] }, C)).to.deep.equal([]);
    const before = { conditions: [cond('Accepted', 'True', 'Accepted')] };
    expect(
      statusEvents(before, { conditions: [{ ...cond('Accepted', 'True', 'Accepted'), message: 'other words' }] }, C),
    ).to.deep.equal([]);
  });

  it('treats Conflicted=True as the problem, and reads route parents of our controller only', () => {
    const parent = (controllerName: string, conditions: unknown[]) => ({
      parentRef: { name: 'gw', sectionName: 'http' },
      controllerName,
      conditions,
    });
    const events = statusEvents(
      { parents: [parent(C, [cond('ResolvedRefs', 'True', 'ResolvedRefs')]), parent('other', [])] },
      {
        parents: [
          parent(C, [cond('ResolvedRefs', 'False', 'BackendNotFound')]),
          parent('other', [cond('Accepted', 'False', 'Nope')]),
        ],
      },
      C,
    );
    expect(events).to.deep.equal([
      { type: 'Warning', reason: 'BackendNotFound', note: 'parent gw/http: ResolvedRefs=False: ResolvedRefs is False' },
    ]);
    expect(
      statusEvents(undefined, { conditions: [cond('Conflicted', 'True', 'HostnameConflict')] }, C)[0].type,
    ).to.equal('Warning');
  });

  it('reads policy ancestors like route parents', () => {
    const ancestor = (controllerName: string, conditions: unknown[]) => ({
      ancestorRef: { namespace: 'infra', name: 'gw' },
      controllerName,
      conditions,
    });
    const events = statusEvents(
      { ancestors: [ancestor(C, [cond('Accepted', 'True', 'Accepted')])] },
      { ancestors: [ancestor('other', []), ancestor(C, [cond('Accepted', 'False', 'Conflicted')])] },
      C,
    );
    expect(events).to.deep.equal([
      { type: 'Warning', reason: 'Conflicted', note: 'parent gw: Accepted=False: Accepted is False' },
    ]);
  });
});

import { expect } from 'chai';
import { ROUTABILITY_CLUSTER, ROUTABILITY_SENTINEL, assignEntries, routabilityProblem } from './routability.ts';
import type { AddressEntry, OfferedAddress } from './routability.ts';

const ALL = new Set(['GatewayAddressRoutability', 'GatewayAddressRoutabilityCluster']);
const entry = (field: string, routability: string, value?: string): AddressEntry => ({ field, routability, value });
const why = () => 'none left';

describe('GEP-5093 routability', () => {
  it('says which scopes a mode can give, and never accepts an unknown prefixed one', () => {
    expect(routabilityProblem('', 'pool', new Set())).to.equal(undefined);
    expect(routabilityProblem(ROUTABILITY_SENTINEL, 'pool', ALL)).to.equal(undefined);
    expect(routabilityProblem(ROUTABILITY_CLUSTER, 'service', ALL)).to.equal(undefined);
    expect(routabilityProblem(ROUTABILITY_CLUSTER, 'pool', ALL)).to.match(/pool mode/);
    expect(routabilityProblem(ROUTABILITY_CLUSTER, 'service', new Set(['GatewayAddressRoutability']))).to.match(
      /not supported/,
    );
    expect(routabilityProblem('testing.x-k8s.io/other', 'service', ALL)).to.match(/not a scope/);
    expect(routabilityProblem('example.com/CorpWan', 'service', ALL)).to.match(/not a scope/);
  });

  it('gives each entry a distinct address of the right scope, the default preferring the load balancer', () => {
    const offered: OfferedAddress[] = [
      { type: 'IPAddress', value: '10.96.0.9', routability: ROUTABILITY_CLUSTER },
      { type: 'IPAddress', value: '203.0.113.9', routability: '' },
    ];
    // The default entry comes first in spec order but must not take the only cluster IP from the Cluster entry.
    const both = assignEntries([entry('a[0]', ''), entry('a[1]', ROUTABILITY_CLUSTER)], offered, why);
    expect(both).to.deep.equal({
      published: [
        { type: 'IPAddress', value: '203.0.113.9', routability: '' },
        { type: 'IPAddress', value: '10.96.0.9', routability: ROUTABILITY_CLUSTER },
      ],
      unsatisfied: [],
    });
    const twoCluster = assignEntries([entry('a[0]', 'Cluster'), entry('a[1]', 'Cluster')], offered, why);
    expect(twoCluster.published).to.have.length(1);
    expect(twoCluster.unsatisfied).to.deep.equal(['a[1]: none left']);
  });

  it('matches a requested value exactly and reports the sentinel as asked', () => {
    const offered: OfferedAddress[] = [{ type: 'IPAddress', value: '127.10.0.4', routability: '' }];
    expect(assignEntries([entry('a[0]', '', '127.10.0.5')], offered, why).unsatisfied).to.deep.equal([
      'a[0]: none left',
    ]);
    expect(assignEntries([entry('a[0]', ROUTABILITY_SENTINEL)], offered, why).published).to.deep.equal([
      { type: 'IPAddress', value: '127.10.0.4', routability: ROUTABILITY_SENTINEL },
    ]);
    const refused = { ...entry('a[0]', 'example.com/x'), unsatisfiable: 'unknown scope' };
    expect(assignEntries([refused], offered, why)).to.deep.equal({
      published: [],
      unsatisfied: ['a[0]: unknown scope'],
    });
  });
});

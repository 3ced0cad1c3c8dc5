import { expect } from 'chai';
import { parsePool, planAddresses } from './address.ts';

describe('planAddresses', () => {
  it('is a pure function of requests, pool and previous allocations', () => {
    const requests = [
      { gateway: 'a/one', requested: [] },
      { gateway: 'a/two', requested: ['127.10.0.1'] },
      { gateway: 'a/three', requested: [] },
    ];
    const first = planAddresses(requests, '127.10.0.0/16', {});
    expect(Object.fromEntries([...first.outcomes].map(([k, v]) => [k, v.address]))).to.deep.equal({
      'a/two': '127.10.0.1',
      'a/one': '127.10.0.2',
      'a/three': '127.10.0.3',
    });
    expect(first.allocations).to.deep.equal({ 'a/one': '127.10.0.2', 'a/three': '127.10.0.3' });
    const again = planAddresses(requests, '127.10.0.0/16', first.allocations);
    expect(again.allocations).to.deep.equal(first.allocations);
  });

  it('keeps an allocation over a younger request for the same address', () => {
    const plan = planAddresses(
      [
        { gateway: 'a/new', requested: ['127.10.0.5'] },
        { gateway: 'a/old', requested: [] },
      ],
      '127.10.0.0/16',
      { 'a/old': '127.10.0.5' },
    );
    expect(plan.outcomes.get('a/old')).to.deep.equal({
      address: '127.10.0.5',
      published: [{ type: 'IPAddress', value: '127.10.0.5' }],
    });
    expect(plan.outcomes.get('a/new')?.problem?.reason).to.equal('AddressNotUsable');
  });

  it('parses IPv4 pools and refuses others', () => {
    expect(parsePool('10.0.0.0/30')).to.deep.equal({ first: 167772161, last: 167772162, cidr: '10.0.0.0/30' });
    expect(parsePool('10.0.0.7/32')?.first).to.equal(167772167);
    expect(parsePool('fd00::/64')).to.equal(undefined);
    expect(
      planAddresses([{ gateway: 'a/b', requested: [] }], 'nonsense', {}).outcomes.get('a/b')?.problem?.reason,
    ).to.equal('AddressNotAssigned');
  });
});

import { expect } from 'chai';
import { endpointAddressProblem, infrastructureNameOf } from './gateway-infrastructure.ts';

describe('gateway/gateway-infrastructure', () => {
  it('names the objects <gateway>-<class> when that is a Service name, else a cut name with a hash of the pair', () => {
    expect(infrastructureNameOf('web', 'portico')).to.equal('web-portico');
    // Gateway names may hold dots and start with a digit; Service names (DNS-1035 labels) may not.
    const dotted = infrastructureNameOf('1.web', 'portico');
    expect(dotted).to.match(/^gw-1-web-portico-[0-9a-f]{8}$/);
    const long = infrastructureNameOf('a'.repeat(60), 'portico');
    expect(long.length).to.be.at.most(63);
    expect(long).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    // Two Gateways whose names clean up alike still get two names.
    expect(infrastructureNameOf('web.a', 'portico')).to.not.equal(infrastructureNameOf('web-a.', 'portico'));
  });

  it('says which addresses the API server refuses in an EndpointSlice', () => {
    for (const address of ['127.10.0.1', '::1', '169.254.1.1', 'fe80::1', '224.0.0.5', 'ff02::1', '0.0.0.0', '::'])
      expect(endpointAddressProblem(address), address).to.be.a('string');
    for (const address of ['10.244.0.7', '192.0.2.1', '2001:db8::1', 'fd00::5', '172.16.0.1'])
      expect(endpointAddressProblem(address), address).to.equal(undefined);
  });
});

import { expect } from 'chai';
describe('runtime', () => {
  it('runs on Node 24 (reusePort needs >= 22.12)', () => {
    expect(Number(process.versions.node.split('.')[0])).to.equal(24);
  });
});

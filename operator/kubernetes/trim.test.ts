import { expect } from 'chai';
import { onlyStatusChanged, trimObject } from './trim.ts';

describe('kubernetes/provider helpers', () => {
  it('trimObject drops managedFields and the last-applied annotation, and nothing else', () => {
    const object = {
      kind: 'Secret',
      metadata: {
        name: 's',
        managedFields: [{ manager: 'kubectl' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
      },
      data: { 'tls.crt': 'x' },
    };
    const trimmed = trimObject(object);
    expect(trimmed).to.deep.equal({
      kind: 'Secret',
      metadata: { name: 's', annotations: { keep: 'me' } },
      data: { 'tls.crt': 'x' },
    });
    expect(object.metadata.managedFields, 'the input is not changed').to.have.length(1);
    const plain = { kind: 'Service', metadata: { name: 'x' } };
    expect(trimObject(plain)).to.equal(plain);
  });

  it('onlyStatusChanged is true for status and resourceVersion changes only', () => {
    const base = {
      kind: 'Gateway',
      metadata: { name: 'g', resourceVersion: '1', generation: 1 },
      spec: { a: 1 },
      status: { x: 1 },
    };
    expect(
      onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, resourceVersion: '2' }, status: { x: 2 } }),
    ).to.equal(true);
    expect(
      onlyStatusChanged(base, { ...base, spec: { a: 2 }, metadata: { ...base.metadata, generation: 2 } }),
    ).to.equal(false);
    expect(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, labels: { l: 'v' } } })).to.equal(false);
  });
});

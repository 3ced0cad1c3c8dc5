// The data plane's checks of a listener's tracing record: what it cannot use is a problem naming the field (a NACK),
// never an exception in a shard building its exporters.

import { expect } from 'chai';
import type { ListenerTracing } from '../ir/tracing.ts';
import { httpListener } from '../testing/ir-builders.ts';
import { validateRecord } from './snapshot.ts';
import type { Problem } from './problem.ts';

const tracing: ListenerTracing = {
  source: { kind: 'XTelemetryPolicy', namespace: 'ns', name: 'p' },
  mode: 'Enabled',
  endpoint: 'http://10.0.0.1:4318',
  ratio: 0.5,
  attributes: [{ name: 'env', literal: 'prod' }],
};

function problemsOf(record: Partial<ListenerTracing> | unknown): string[] {
  const out: Problem[] = [];
  validateRecord('listeners', httpListener('ns/gw/http', 80, { tracing: record as ListenerTracing }), out);
  return out.map((p) => p.path);
}

describe('shared/validation/tracing', () => {
  it('accepts a record the translator writes', () => {
    expect(problemsOf(tracing)).to.deep.equal([]);
    expect(problemsOf({ ...tracing, mode: 'Disabled', endpoint: undefined, ratio: undefined })).to.deep.equal([]);
  });

  it('names each field it cannot use', () => {
    const at = 'listeners[ns/gw/http].tracing';
    expect(problemsOf({ ...tracing, mode: 'On' })).to.deep.equal([`${at}.mode`]);
    expect(problemsOf({ ...tracing, endpoint: 'file:///etc/passwd' })).to.deep.equal([`${at}.endpoint`]);
    expect(problemsOf({ ...tracing, ratio: 1.5 })).to.deep.equal([`${at}.ratio`]);
    expect(problemsOf({ ...tracing, parentRatio: -1 })).to.deep.equal([`${at}.parentRatio`]);
    expect(problemsOf({ ...tracing, attributes: [{ name: 'x', literal: 'a', header: 'b' }] })).to.deep.equal([
      `${at}.attributes[0]`,
    ]);
    expect(problemsOf('not a record')).to.deep.equal([at]);
  });
});

// The per-listener tracing table: a policy's record over the command line, field by field; listeners without a record
// on the command-line default; Disabled (or a collector without an endpoint) traces nothing; listeners that export to
// one collector as one service share an exporter. Spans go to a capturing sink; the wire is in
// test/dataplane/listener-tracing.test.ts.

import { expect } from 'chai';
import type { Listener } from '../../shared/ir/listener.ts';
import type { ListenerTracing } from '../../shared/ir/tracing.ts';
import { httpListener } from '../../shared/testing/ir-builders.ts';
import { DEFAULT_RATIO, TracingTable, configOf } from './table.ts';
import type { TracingConfig } from './tracing.ts';

const flags: TracingConfig = {
  endpoint: 'http://127.0.0.1:1',
  sampler: { ratio: 0.2, parentBased: false, parentRatio: 1 },
  intervalMs: 50,
};
const record = (extra: Partial<ListenerTracing> = {}): ListenerTracing => ({
  source: { kind: 'XTelemetryPolicy', namespace: 'ns', name: 'p' },
  mode: 'Enabled',
  endpoint: 'http://10.0.0.1:4318',
  attributes: [],
  ...extra,
});
const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('dataplane/telemetry/table', () => {
  it('takes each sampling field from the policy when it says, else from the command line, else the default', () => {
    expect(configOf(record({ ratio: 0.5 }), flags)?.sampler).to.deep.equal({
      ratio: 0.5,
      parentBased: false,
      parentRatio: 1,
    });
    expect(configOf(record({ parentBased: true, parentRatio: 0.25 }), flags)?.sampler).to.deep.equal({
      ratio: 0.2,
      parentBased: true,
      parentRatio: 0.25,
    });
    expect(configOf(record(), undefined)?.sampler).to.deep.equal({
      ratio: DEFAULT_RATIO,
      parentBased: true,
      parentRatio: 1,
    });
  });

  it('traces nothing for Disabled, or for a collector without a ready endpoint', () => {
    expect(configOf(record({ mode: 'Disabled', endpoint: undefined }), flags)).to.equal(null);
    expect(configOf(record({ endpoint: undefined }), flags)).to.equal(null);
  });

  it('sorts the attributes by source: literal, header (and http.request.header.* keys), copied', () => {
    const config = configOf(
      record({
        attributes: [
          { name: 'env', literal: 'prod' },
          { name: 'user', header: 'x-user' },
          { name: 'tenant', attribute: 'http.request.header.X-Tenant' },
          { name: 'status', attribute: 'http.response.status_code' },
        ],
      }),
      flags,
    );
    expect(config?.attributes).to.deep.equal({ env: 'prod' });
    expect(config?.headerAttributes).to.deep.equal([
      ['user', 'x-user'],
      ['tenant', 'x-tenant'],
    ]);
    expect(config?.copiedAttributes).to.deep.equal([['status', 'http.response.status_code']]);
  });

  it('gives each listener its own sampler, the command line to those without a record, null to Disabled', async () => {
    const table = new TracingTable(flags, 0, { push: () => true });
    const listeners: Listener[] = [
      httpListener('ns/a/http', 80, { tracing: record({ ratio: 1 }) }),
      httpListener('ns/b/http', 81, { tracing: record({ ratio: 0, parentBased: false }) }),
      httpListener('ns/c/http', 82, { tracing: record({ mode: 'Disabled', endpoint: undefined }) }),
      httpListener('ns/d/http', 83),
    ];
    expect(table.of('ns/a/http')).to.equal(table.of('ns/d/http')); // before any generation: the command line
    table.configure(listeners);
    expect(table.of('ns/a/http')?.sampled(undefined)).to.equal(true);
    expect(table.of('ns/b/http')?.sampled(SAMPLED)).to.equal(false);
    expect(table.of('ns/c/http')).to.equal(null);
    expect(table.of('ns/d/http')).to.not.equal(null);
    expect(table.of('ns/a/http')?.batcher).to.equal(table.of('ns/b/http')?.batcher); // one collector, one exporter
    expect(table.of('ns/a/http')?.batcher).to.not.equal(table.of('ns/d/http')?.batcher);
    table.configure([httpListener('ns/a/http', 80)]); // the policy went away: the command line again
    expect(table.of('ns/a/http')).to.equal(table.of('ns/d/http'));
    await table.shutdown(10);
  });
});

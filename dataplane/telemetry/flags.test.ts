// The data plane's tracing flags: off by default, the sampler from --trace-sampling and --trace-parent-based (or their
// environment variables), and bad values refused at start rather than ignored.

import { expect } from 'chai';
import { readDataPlaneConfig, readTracing } from '../config.ts';

describe('data plane tracing flags', () => {
  it('is off without an endpoint', () => {
    expect(readDataPlaneConfig([], {}).tracing).to.equal(undefined);
    expect(readTracing(undefined, '1', 'on')).to.equal(undefined);
  });

  it('reads the endpoint, the ratio and parent-based sampling from flags or the environment', () => {
    const config = readDataPlaneConfig(
      ['--otlp-endpoint', 'http://jaeger:4318/', '--trace-sampling', '0.25', '--trace-parent-based', 'off'],
      {},
    );
    expect(config.tracing).to.deep.equal({
      endpoint: 'http://jaeger:4318',
      sampler: { ratio: 0.25, parentBased: false, parentRatio: 1 },
    });
    const fromEnv = readDataPlaneConfig([], { PORTICO_OTLP_ENDPOINT: 'http://c:4318', PORTICO_TRACE_SAMPLING: '0' });
    expect(fromEnv.tracing?.sampler).to.deep.equal({ ratio: 0, parentBased: true, parentRatio: 1 });
    expect(readTracing('http://c:4318', undefined, undefined)?.sampler.ratio).to.equal(0.01);
  });

  it('refuses a bad endpoint, ratio or mode', () => {
    expect(() => readTracing('jaeger:4318', '1', 'on')).to.throw(/otlp-endpoint/);
    expect(() => readTracing('ftp://jaeger', '1', 'on')).to.throw(/otlp-endpoint/);
    expect(() => readTracing('http://j:4318', '1.5', 'on')).to.throw(/trace-sampling/);
    expect(() => readTracing('http://j:4318', 'x', 'on')).to.throw(/trace-sampling/);
    expect(() => readTracing('http://j:4318', '1', 'yes')).to.throw(/trace-parent-based/);
  });
});

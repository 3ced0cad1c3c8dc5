import { expect } from 'chai';
import { newSpanId, newTraceId } from './ids.ts';
import {
  NO_PARENT,
  formatTraceparent,
  parentIdOf,
  traceIdFraction,
  traceIdOf,
  traceparentFlags,
  validTracestate,
} from './trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('telemetry/trace-context', () => {
  it('reads the flags of the W3C example header and copies the ids out', () => {
    const header = `00-${TRACE}-${PARENT}-01`;
    expect(traceparentFlags(header)).to.equal(1);
    expect(traceparentFlags(`00-${TRACE}-${PARENT}-00`)).to.equal(0);
    expect(traceIdOf(header)).to.equal(TRACE);
    expect(parentIdOf(header)).to.equal(PARENT);
  });

  const invalid: Array<[string, string | undefined]> = [
    ['absent', undefined],
    ['empty', ''],
    ['short', `00-${TRACE}-${PARENT}-0`],
    ['version 00 with a suffix', `00-${TRACE}-${PARENT}-01-extra`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a dash missing', `00-${TRACE}x${PARENT}-01`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
  ];
  for (const [what, header] of invalid)
    it(`treats a traceparent that is ${what} as absent`, () => {
      expect(traceparentFlags(header)).to.equal(NO_PARENT);
    });

  it('accepts a future version with more fields after a dash, not without the dash', () => {
    expect(traceparentFlags(`01-${TRACE}-${PARENT}-01-whatever`)).to.equal(1);
    expect(traceparentFlags(`01-${TRACE}-${PARENT}-01`)).to.equal(1);
    expect(traceparentFlags(`01-${TRACE}-${PARENT}-01x`)).to.equal(NO_PARENT);
  });

  it('formats what it reads back', () => {
    const traceId = newTraceId();
    const spanId = newSpanId();
    expect(traceId).to.match(/^[0-9a-f]{32}$/);
    expect(spanId).to.match(/^[0-9a-f]{16}$/);
    const header = formatTraceparent(traceId, spanId, true);
    expect(traceparentFlags(header)).to.equal(1);
    expect(traceIdOf(header)).to.equal(traceId);
    expect(parentIdOf(header)).to.equal(spanId);
  });

  it("reads the trace id's random low bits as a fraction in [0, 1)", () => {
    expect(traceIdFraction(`${'1'.repeat(19)}${'0'.repeat(13)}`)).to.equal(0);
    expect(traceIdFraction(`${'0'.repeat(19)}8${'0'.repeat(12)}`)).to.equal(0.5);
    expect(traceIdFraction(`xxx${'0'.repeat(19)}8${'0'.repeat(12)}`, 3)).to.equal(0.5);
    expect(traceIdFraction('f'.repeat(32))).to.be.lessThan(1);
  });

  it('drops a tracestate over the spec limit of 512 characters, keeps others as sent', () => {
    expect(validTracestate('a=1,b=2')).to.equal('a=1,b=2');
    expect(validTracestate('x'.repeat(513))).to.equal('');
    expect(validTracestate(undefined)).to.equal('');
  });

  it('has distinct ids across many draws (the pool is refilled, not reused)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(newSpanId());
    expect(seen.size).to.equal(2000);
  });
});

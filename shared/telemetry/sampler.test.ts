import { expect } from 'chai';
import { Sampler } from './sampler.ts';
import { NO_PARENT, traceparentFlags } from './trace-context.ts';

const sampledParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const unsampledParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

function share(sampler: Sampler, header: string | undefined, n = 4000): number {
  let yes = 0;
  for (let i = 0; i < n; i++) if (sampler.decide(traceparentFlags(header), header)) yes++;
  return yes / n;
}

describe('telemetry/sampler', () => {
  it('samples nothing at ratio 0 and everything at ratio 1 for new traces', () => {
    expect(share(new Sampler({ ratio: 0, parentBased: true, parentRatio: 1 }), undefined)).to.equal(0);
    expect(share(new Sampler({ ratio: 1, parentBased: true, parentRatio: 1 }), undefined)).to.equal(1);
  });

  it('samples about the ratio of new traces', () => {
    const s = share(new Sampler({ ratio: 0.25, parentBased: true, parentRatio: 1 }), undefined, 20000);
    expect(s).to.be.within(0.22, 0.28);
  });

  it('parent-based: follows the sampled flag whatever the ratio', () => {
    const sampler = new Sampler({ ratio: 0, parentBased: true, parentRatio: 1 });
    expect(share(sampler, sampledParent)).to.equal(1);
    expect(share(sampler, unsampledParent)).to.equal(0);
    expect(sampler.off).to.equal(false);
  });

  it('parent-based with a parent ratio: records that share of sampled parents only', () => {
    const sampler = new Sampler({ ratio: 0, parentBased: true, parentRatio: 0.5 });
    expect(share(sampler, sampledParent, 20000)).to.be.within(0.46, 0.54);
    expect(share(sampler, unsampledParent)).to.equal(0);
  });

  it('not parent-based: decides on the trace id, the same way every time, ignoring the flag', () => {
    const low = '00-00000000000000000000000000000001-00f067aa0ba902b7-00'; // fraction ≈ 0
    const high = '00-0000000000000000000fffffffffffff-00f067aa0ba902b7-01'; // fraction ≈ 1
    const sampler = new Sampler({ ratio: 0.5, parentBased: false, parentRatio: 1 });
    expect(share(sampler, low)).to.equal(1);
    expect(share(sampler, high)).to.equal(0);
  });

  it('is off only when nothing can be sampled', () => {
    expect(new Sampler({ ratio: 0, parentBased: false, parentRatio: 1 }).off).to.equal(true);
    expect(new Sampler({ ratio: 0, parentBased: true, parentRatio: 0 }).off).to.equal(true);
    expect(new Sampler({ ratio: 0.01, parentBased: false, parentRatio: 0 }).off).to.equal(false);
  });

  it('treats a malformed parent as no parent (the new-trace ratio applies)', () => {
    const sampler = new Sampler({ ratio: 1, parentBased: true, parentRatio: 0 });
    expect(traceparentFlags('garbage')).to.equal(NO_PARENT);
    expect(share(sampler, 'garbage')).to.equal(1);
  });
});

describe('telemetry/sampler decideHeader', () => {
  const configs = [
    { ratio: 0, parentBased: true, parentRatio: 1 },
    { ratio: 0, parentBased: true, parentRatio: 0.5 },
    { ratio: 1, parentBased: true, parentRatio: 1 },
    { ratio: 0, parentBased: false, parentRatio: 1 },
    { ratio: 1, parentBased: false, parentRatio: 0 },
    { ratio: 0.5, parentBased: true, parentRatio: 1 },
    { ratio: 0.2, parentBased: true, parentRatio: 1 },
  ];
  const headers = [
    undefined,
    sampledParent,
    unsampledParent,
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // invalid ids, sampled flag
    '00-00000000000000000000000000000000-00f067aa0ba902b7-00', // invalid ids, unsampled flag
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
  ];
  it('agrees with decide(traceparentFlags(h)) for every config, header and draw', () => {
    for (const draw of [0, 0.1, 0.3, 0.7, 0.999])
      for (const config of configs)
        for (const header of headers) {
          const a = new Sampler(config, () => draw).decideHeader(header);
          const b = new Sampler(config, () => draw).decide(traceparentFlags(header), header);
          expect(a, `${JSON.stringify(config)} ${header} draw ${draw}`).to.equal(b);
        }
  });
});

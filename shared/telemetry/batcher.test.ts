import { expect } from 'chai';
import { SpanBatcher } from './batcher.ts';
import { SPAN_KIND, Span } from './span.ts';

const resource = { attributes: { 'service.name': 't' }, scope: { name: 't', version: '0' } };
const span = () => new Span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', '', '', SPAN_KIND.server, 'x', 1);

describe('telemetry/batcher', () => {
  it('drops and counts spans beyond the queue bound instead of growing', async () => {
    const sent: number[] = [];
    const batcher = new SpanBatcher({
      resource,
      send: async (b) => void sent.push(b.length),
      maxQueue: 4,
      maxBatch: 100,
    });
    const accepted = Array.from({ length: 10 }, () => batcher.push(span()));
    expect(accepted.filter(Boolean)).to.have.length(4);
    expect(batcher.stats).to.include({ queued: 4, dropped: 6 });
    expect(batcher.depth).to.equal(4);
    await batcher.flush();
    expect(batcher.stats).to.include({ exported: 4, requests: 1 });
    expect(batcher.depth).to.equal(0);
    expect(batcher.push(span())).to.equal(true);
  });

  it('sends a batch as soon as it is full, and batches of at most maxBatch', async () => {
    let sends = 0;
    const batcher = new SpanBatcher({ resource, send: async () => void sends++, maxQueue: 100, maxBatch: 3 });
    for (let i = 0; i < 7; i++) batcher.push(span());
    expect(sends).to.equal(1); // the third push sent a batch of 3 (the rest wait while one is in flight)
    await batcher.shutdown();
    expect(sends).to.equal(3);
    expect(batcher.stats).to.include({ exported: 7, requests: 3, dropped: 0 });
  });

  it('counts the spans of a failed request and keeps going', async () => {
    let fail = true;
    const batcher = new SpanBatcher({
      resource,
      send: async () => {
        if (fail) throw new Error('collector down');
      },
    });
    batcher.push(span());
    batcher.push(span());
    await batcher.flush();
    expect(batcher.stats).to.include({ failed: 2, exported: 0 });
    expect(batcher.lastError).to.equal('collector down');
    fail = false;
    batcher.push(span());
    await batcher.flush();
    expect(batcher.stats).to.include({ failed: 2, exported: 1 });
    expect(batcher.lastError).to.equal('');
  });

  it('keeps its defaults for options passed as undefined', async () => {
    let sends = 0;
    const batcher = new SpanBatcher({
      resource,
      send: async () => void sends++,
      maxQueue: undefined,
      maxBatch: undefined,
    });
    for (let i = 0; i < 600; i++) batcher.push(span());
    expect(batcher.stats.dropped).to.equal(0);
    expect(sends).to.equal(1); // the 512th push sent a full batch
    await batcher.shutdown();
    expect(batcher.stats.exported).to.equal(600);
  });

  it('wraps around its ring in order', async () => {
    const names: string[] = [];
    const batcher = new SpanBatcher({
      resource,
      maxQueue: 3,
      maxBatch: 2,
      send: async (body) => void names.push(Buffer.from(body).toString('latin1').match(/n\d/g)?.join(',') ?? ''),
    });
    for (let round = 0; round < 3; round++) {
      const a = span();
      a.name = `n${round * 2}`;
      const b = span();
      b.name = `n${round * 2 + 1}`;
      batcher.push(a);
      batcher.push(b);
      await batcher.flush();
    }
    expect(names).to.deep.equal(['n0,n1', 'n2,n3', 'n4,n5']);
  });
});

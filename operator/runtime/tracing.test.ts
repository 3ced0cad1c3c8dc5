import { expect } from 'chai';
import { readOperatorConfig } from '../config.ts';
import { OperatorTracing } from './tracing.ts';
import { SPAN_KIND, STATUS_CODE } from '../../shared/telemetry/span.ts';

describe('runtime/tracing', () => {
  it('reads --traces-endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, and refuses a value that is not a URL', () => {
    expect(readOperatorConfig([], {})).not.to.have.property('tracesEndpoint');
    expect(readOperatorConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracesEndpoint).to.equal(
      'http://c:4318',
    );
    expect(
      readOperatorConfig(['--traces-endpoint', 'http://j:4318'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })
        .tracesEndpoint,
    ).to.equal('http://j:4318');
    expect(() => readOperatorConfig(['--traces-endpoint', 'jaeger:4318 '], {})).to.throw(/must be a URL/);
  });

  it('a refused pass: reconcile and publish in error, no apply span, times as given', async () => {
    const tracing = new OperatorTracing('http://127.0.0.1:1', 'test');
    const root = tracing.pass({
      revision: 7,
      startMs: 1000,
      translatedMs: 1005,
      answeredMs: 1020,
      applyMs: 0,
      outcome: 'nack',
      nackReason: 'Invalid',
      mode: 'full',
      translatedRoutes: 3,
    });
    expect(tracing.batcher.depth).to.equal(3); // translate, publish, reconcile
    expect(root.kind).to.equal(SPAN_KIND.internal);
    expect([root.startMs, root.endMs]).to.deep.equal([1000, 1020]);
    expect(root.statusCode).to.equal(STATUS_CODE.error);
    expect(root.attributes).to.include('portico.publish.outcome').and.include('nack');
    await tracing.batcher.shutdown(10); // the collector is absent: the batch fails, counted, nothing hangs
    expect(tracing.batcher.stats.failed + tracing.batcher.depth).to.equal(3);
  });
});

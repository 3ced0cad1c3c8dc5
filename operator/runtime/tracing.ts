// The operator's traces: one trace per reconcile pass — a `reconcile` root span with `translate`, `publish` and the
// data plane's `apply` as children — exported over OTLP/HTTP by the same machinery as the data plane's spans
// (shared/telemetry), so a slow propagation can be found in Jaeger next to the requests it affected.
// Off unless an endpoint is configured (`--traces-endpoint`, or OTEL_EXPORTER_OTLP_ENDPOINT); every pass is traced
// when on (a pass is rare next to requests: no sampling needed).
// The `apply` span is rebuilt from the ack's timing (the data plane's own clock is not ours): it ends when the ack
// arrived and lasts what the data plane reported.
// Must not: block a pass on export (the batcher sends in the background), throw into the reconciler.

import { SpanBatcher } from '../../shared/telemetry/batcher.ts';
import { otlpHttpSender } from '../../shared/telemetry/otlp-http.ts';
import { ALWAYS } from '../../shared/telemetry/sampler.ts';
import { SPAN_KIND, Tracer } from '../../shared/telemetry/span.ts';
import type { Span } from '../../shared/telemetry/span.ts';

export interface PassTiming {
  revision: number;
  /** Epoch ms (tracer.now()) at the start of the pass, after translate, and when the data plane answered. */
  startMs: number;
  translatedMs: number;
  answeredMs: number;
  applyMs: number;
  outcome: string;
  generation?: number;
  mode: string;
  translatedRoutes: number;
  nackReason?: string;
}

export class OperatorTracing {
  readonly tracer: Tracer;
  readonly batcher: SpanBatcher;

  constructor(endpoint: string, instance: string, options: { intervalMs?: number; serviceName?: string } = {}) {
    this.batcher = new SpanBatcher({
      resource: {
        attributes: { 'service.name': options.serviceName ?? 'portico-operator', 'service.instance.id': instance },
        scope: { name: 'portico-operator', version: '0.1.0' },
      },
      send: otlpHttpSender({ endpoint }),
      intervalMs: options.intervalMs,
    }).start();
    this.tracer = new Tracer({ sampler: ALWAYS }, this.batcher);
  }

  now(): number {
    return this.tracer.now();
  }

  /** Records one pass, after the fact, from its timings; returns the root span (tests read its ids). */
  pass(t: PassTiming): Span {
    const tracer = this.tracer;
    const root = tracer
      .startRoot('reconcile', SPAN_KIND.internal, t.startMs)
      .set('portico.store.revision', t.revision)
      .set('portico.translate.mode', t.mode)
      .set('portico.translate.routes', t.translatedRoutes)
      .set('portico.publish.outcome', t.outcome);
    if (t.generation !== undefined) root.set('portico.config.generation', t.generation);
    tracer.end(tracer.startChild(root, 'translate', SPAN_KIND.internal, t.startMs), t.translatedMs);
    const publish = tracer.startChild(root, 'publish', SPAN_KIND.client, t.translatedMs);
    publish.set('portico.publish.outcome', t.outcome);
    if (t.outcome === 'ack') {
      const apply = tracer.startChild(publish, 'dataplane apply', SPAN_KIND.internal, t.answeredMs - t.applyMs);
      tracer.end(apply, t.answeredMs);
    } else {
      publish.fail(t.nackReason ?? 'nack', 'the data plane refused the configuration');
      root.fail(t.nackReason ?? 'nack');
    }
    tracer.end(publish, t.answeredMs);
    tracer.end(root, t.answeredMs);
    return root;
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }
}

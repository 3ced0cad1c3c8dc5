// The operator's own metrics (prom-client): reconcile passes by outcome and their duration by phase.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly #passes = new Counter({
    name: 'portico_operator_reconcile_total',
    help: 'Reconcile passes by outcome (ack: the data plane applied the result; nack: it refused it).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'portico_operator_reconcile_seconds',
    help: 'Duration of reconcile phases: translate (the translator), publish (socket round trip until the data plane answered).',
    labelNames: ['phase'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_operator_' });
  }

  observePass(outcome: string, translateMs: number, publishMs: number): void {
    this.#passes.labels(outcome).inc();
    this.#duration.labels('translate').observe(translateMs / 1000);
    this.#duration.labels('publish').observe(publishMs / 1000);
  }
}

// The operator's own metrics (prom-client): reconcile passes by outcome and their duration by phase, whether the data
// plane refuses the configuration in force, status writes (latency by request and outcome, queue depth) and the
// expiry of every listener certificate the operator knows of. Kubernetes-only sources (leadership, watches, status
// request counts) are registered by kubernetes/metrics.ts on the same registry.
// Must not: be called per request (the operator has no request path); read anything at scrape time but counters
// and the sources handed in.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type StatusRequest = 'apply' | 'update' | 'read';
export type StatusOutcome = 'written' | 'conflict' | 'gone' | 'error';

/** One certificate a listener serves, as certificates.ts finds them. */
export interface CertificateExpiry {
  gateway: string;
  listener: string;
  secret: string;
  /** notAfter, seconds since the epoch; NaN when the Secret is missing or its certificate does not parse. */
  notAfter: number;
}

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
    help: 'Duration of reconcile phases: translate (the translator), publish (socket round trip until the data plane answered), apply (the data plane applying it, as its ack reports).',
    labelNames: ['phase'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly #refused = new Gauge({
    name: 'portico_operator_config_refused',
    help: '1 while the data plane refuses the latest configuration (it keeps serving the previous one), else 0.',
    registers: [this.registry],
  });
  readonly #statusWrites = new Histogram({
    name: 'portico_operator_status_write_seconds',
    help: 'Status subresource requests to the API server by request (apply, update, read) and outcome.',
    labelNames: ['request', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_operator_' });
    this.#refused.set(0);
  }

  observePass(outcome: string, translateMs: number, publishMs: number, applyMs = 0): void {
    this.#passes.labels(outcome).inc();
    this.#duration.labels('translate').observe(translateMs / 1000);
    this.#duration.labels('publish').observe(publishMs / 1000);
    if (outcome === 'ack') this.#duration.labels('apply').observe(applyMs / 1000);
    this.#refused.set(outcome === 'ack' ? 0 : 1);
  }

  /** The StatusWriter's `observe` hook. */
  readonly statusWrite = (request: StatusRequest, outcome: StatusOutcome, seconds: number): void => {
    this.#statusWrites.labels(request, outcome).observe(seconds);
  };

  /** Status writes waiting or running (Kubernetes mode: the status sink's work queue), read at scrape time. */
  statusQueue(depth: () => number): void {
    new Gauge({
      name: 'portico_operator_status_queue_depth',
      help: 'Status writes queued or in progress.',
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }

  /** Listener certificates and their expiry, read at scrape time (see certificates.ts). */
  certificates(list: () => readonly CertificateExpiry[]): void {
    new Gauge({
      name: 'portico_listener_certificate_expiry_timestamp_seconds',
      help: 'notAfter of each certificate a Gateway listener references, in seconds since the epoch (NaN: missing or unreadable).',
      labelNames: ['gateway', 'listener', 'secret'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of list()) this.labels(c.gateway, c.listener, c.secret).set(c.notAfter);
      },
    });
  }
}

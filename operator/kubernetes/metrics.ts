// Kubernetes-mode metrics, read from the parts' own counters at scrape time (nothing on the hot path): leadership,
// status writes, the status queue, per-kind watch health (lists, relists after 410, watchdog aborts, errors), which
// kinds are served and which watched namespaces can be read.

import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { LeaderElector } from '../framework/leader-election.ts';
import type { StatusWriter } from '../framework/status-writer.ts';
import type { EventRecorder } from '../framework/events.ts';
import type { KubernetesProvider } from './provider.ts';

export interface KubernetesMetricSources {
  elector: () => LeaderElector | null;
  provider: () => KubernetesProvider | null;
  writer: StatusWriter;
  events: EventRecorder;
}

export function registerKubernetesMetrics(registry: Registry, sources: KubernetesMetricSources): void {
  new Gauge({
    name: 'portico_operator_leader',
    help: '1 while this replica holds the leader Lease (and writes statuses).',
    registers: [registry],
    collect() {
      this.set(sources.elector()?.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portico_operator_status_requests',
    help: 'Status requests sent since start, by kind of request (apply, update, conflict, gone).',
    labelNames: ['request'] as const,
    registers: [registry],
    collect() {
      const { applies, updates, conflicts, gone } = sources.writer.stats;
      this.labels('apply').set(applies);
      this.labels('update').set(updates);
      this.labels('conflict').set(conflicts);
      this.labels('gone').set(gone);
    },
  });
  new Gauge({
    name: 'portico_operator_events',
    help: 'Kubernetes Events since start, by outcome (created, series update, deduplicated, dropped, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const s = sources.events.stats;
      for (const [outcome, value] of Object.entries({
        created: s.created,
        series: s.seriesUpdates,
        deduplicated: s.deduplicated,
        dropped: s.dropped,
        failed: s.failed,
      }))
        this.labels(outcome).set(value);
    },
  });
  new Gauge({
    name: 'portico_operator_namespace_readable',
    help: 'Namespaced mode: 1 for each watched namespace whose objects can be read, 0 for one that answers 403.',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const provider = sources.provider();
      const unreadable = new Set(provider?.unreadableNamespaces() ?? []);
      for (const namespace of provider?.watchedNamespaces() ?? [])
        this.labels(namespace).set(unreadable.has(namespace) ? 0 : 1);
    },
  });
  new Gauge({
    name: 'portico_operator_kind_served',
    help: 'Per watched kind: 1 while the API server serves it (its CRD is installed), 0 when it does not.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const provider = sources.provider();
      if (provider === null) return;
      const missing = new Set(provider.missingKinds());
      for (const kind of provider.watchedKinds()) this.labels(kind).set(missing.has(kind) ? 0 : 1);
    },
  });
  new Gauge({
    name: 'portico_operator_watch',
    help: 'Watch health per resource since start: lists, relists (410 Gone), watches opened, watchdog aborts, errors.',
    labelNames: ['resource', 'counter'] as const,
    registers: [registry],
    collect() {
      for (const reflector of sources.provider()?.reflectors() ?? []) {
        const s = reflector.stats;
        for (const [counter, value] of Object.entries({
          lists: s.lists,
          relists: s.relists,
          watches: s.watches,
          watchdog_aborts: s.watchdogAborts,
          errors: s.errors,
        })) {
          this.labels(reflector.name, counter).set(value);
        }
      }
    },
  });
}

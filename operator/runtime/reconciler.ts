// The operator's loop: whenever the store changes (or the data plane reconnects), translate what changed since the
// last pass, publish the IR changes, and report the statuses that changed — Programmed only once the data plane
// acknowledged the generation — and, in service mode, the Gateways' Services. Changes that arrive while a pass runs
// are coalesced into one more pass, so bursts cost one translation; and a pass costs what changed, not the whole
// configuration (translator.ts).

import type { Logger } from 'pino';
import { applyDataPlaneState, followsDataPlane, restamp } from '../gateway/dataplane-state.ts';
import { timestamp } from '../gateway/options.ts';
import type { DataPlaneState } from '../gateway/dataplane-state.ts';
import { compareStatuses } from '../gateway/status.ts';
import type { GatewayNamespaceObjects } from '../gateway/gateways/gateway-infrastructure.ts';
import type { GatewayService } from '../gateway/gateways/gateway-service.ts';
import type { PortAllocations, TranslateOptions } from '../gateway/options.ts';
import type { Publisher, PublishResult } from '../publisher/publisher.ts';
import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import type { StatsMessage } from '../../shared/protocol/messages.ts';
import type { StatusSink } from '../status/status-board.ts';
import type { ChangeFeed, ResourceStore } from '../store/resource-store.ts';
import type { TranslationUpdate, Translator } from './translator.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { OperatorTracing } from './tracing.ts';

export interface ReconcilerDeps {
  store: ResourceStore;
  translator: Translator;
  publisher: Publisher;
  statuses: StatusSink;
  /** Where the Gateways' Services go (service mode, Kubernetes): every Service after every pass. */
  services?: { update(services: readonly GatewayService[]): void };
  /** Where the GatewayInfrastructure mode's objects go (Kubernetes): all of them after every pass. */
  infrastructure?: { update(objects: readonly GatewayNamespaceObjects[]): void };
  metrics: OperatorMetrics;
  /** A trace per pass (translate, publish, the data plane's apply) when tracing is configured. */
  tracing?: OperatorTracing;
  log: Logger;
  /** Options for every translation; `now`, `previousAddresses` and `previousPorts` are filled in per pass. */
  options: Omit<TranslateOptions, 'now' | 'previousAddresses' | 'previousPorts'>;
  clock?: () => Date;
}

export interface PassReport {
  revision: number;
  translateMs: number;
  publishMs: number;
  applyMs: number;
  outcome: PublishResult['outcome'];
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #feed: ChangeFeed;
  #running = false;
  #dirty = false;
  #addresses: Record<string, string> = {};
  #ports: PortAllocations = {};
  #lastAcked = -1;
  #lastReport: PassReport | null = null;
  /** The last acknowledged translation, its generation, and the unbound listeners reported for it. */
  #acked: { update: TranslationUpdate; generation: number; unbound: string } | null = null;
  readonly #waiters: Array<{ revision: number; resolve: (report: PassReport) => void }> = [];

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#feed = deps.store.feed();
    deps.store.onChange(() => this.trigger());
  }

  /** Revision of the store last published and acknowledged (-1 before the first). */
  get lastAckedRevision(): number {
    return this.#lastAcked;
  }

  /** The records the data plane last acknowledged (what it serves), or null before the first acknowledgement. */
  servedRecords(): ReadonlyRecordIndex | null {
    return this.#acked?.update.ir ?? null;
  }

  /** Asks for a pass (coalesced with any pending one). */
  trigger(): void {
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    this.#running = true;
    void this.#loop();
  }

  /** Resolves after a pass that covered at least store revision `revision` has been published. */
  whenPublished(revision: number): Promise<PassReport> {
    const last = this.#lastReport;
    if (last !== null && last.revision >= revision) return Promise.resolve(last);
    return new Promise((resolve) => this.#waiters.push({ revision, resolve }));
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#dirty = false;
        await this.#pass().catch((error: Error) => this.#deps.log.error({ err: error }, 'reconcile pass failed'));
      } while (this.#dirty);
    } finally {
      this.#running = false;
    }
  }

  async #pass(): Promise<void> {
    const { store, translator, publisher, metrics, log, options } = this.#deps;
    const revision = store.revision;
    const started = performance.now();
    const tracedStart = this.#deps.tracing?.now() ?? 0;
    const now = (this.#deps.clock ?? (() => new Date()))();
    const update = await translator.translate(this.#feed, {
      ...options,
      now,
      previousAddresses: this.#addresses,
      previousPorts: this.#ports,
    });
    const translateMs = performance.now() - started;
    const translatedAt = this.#deps.tracing?.now() ?? 0;
    this.#addresses = update.addresses;
    this.#ports = update.ports;
    this.#deps.services?.update(update.services);
    this.#deps.infrastructure?.update(update.infrastructure);
    if (update.dropped.length > 0)
      log.error(
        { problems: update.dropped.slice(0, 10) },
        'translator produced records the validator refused (a bug); they were left out',
      );
    this.#report(update, timestamp(now), { acked: false, listenerErrors: new Map() }, true);

    const published = await publisher.publishChanges(update.ir, update.irChanged);
    const publishMs = published.sendMs;
    let applyMs = 0;
    if (published.outcome === 'ack') {
      applyMs = published.ack.timings.applyMs;
      const listenerErrors = new Map(published.ack.listenerErrors.map((e) => [e.listenerKey, e.message]));
      this.#report(update, timestamp(now), { acked: true, listenerErrors }, false);
      this.#lastAcked = revision;
      this.#acked = { update, generation: published.ack.generation, unbound: unboundKey(published.ack.listenerErrors) };
    } else {
      log.error(
        { reason: published.nack.reason, problems: published.nack.problems.slice(0, 10) },
        'the data plane refused the configuration; it keeps serving the previous one',
      );
    }
    metrics.observePass(published.outcome, translateMs, publishMs, applyMs);
    this.#deps.tracing?.pass({
      revision,
      startMs: tracedStart,
      translatedMs: translatedAt,
      answeredMs: this.#deps.tracing.now(),
      applyMs,
      outcome: published.outcome,
      generation: published.outcome === 'ack' ? published.ack.generation : undefined,
      nackReason: published.outcome === 'nack' ? published.nack.reason : undefined,
      mode: update.mode,
      translatedRoutes: update.translatedRoutes,
    });
    log.debug(
      {
        revision,
        translateMs,
        publishMs,
        applyMs,
        outcome: published.outcome,
        mode: update.mode,
        translatedRoutes: update.translatedRoutes,
      },
      'reconciled',
    );
    const report: PassReport = { revision, translateMs, publishMs, applyMs, outcome: published.outcome };
    this.#lastReport = report;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.#waiters[i].revision <= revision) this.#waiters.splice(i, 1)[0].resolve(report);
    }
  }

  /**
   * The data plane's periodic stats: when the listeners it could not bind changed since the ack (it retries, so a
   * port freed later gets bound), the Gateways' statuses follow without a new translation.
   */
  dataPlaneStats(stats: StatsMessage): void {
    const acked = this.#acked;
    if (acked === null || stats.generation !== acked.generation || this.#running) return;
    const unbound = unboundKey(stats.bindErrors);
    if (unbound === acked.unbound) return;
    acked.unbound = unbound;
    const listenerErrors = new Map(stats.bindErrors.map((e) => [e.listenerKey, e.message]));
    this.#deps.log.info(
      { unbound: stats.bindErrors.length },
      'the data plane bound a listener it could not bind before',
    );
    this.#report(
      acked.update,
      timestamp((this.#deps.clock ?? (() => new Date()))()),
      { acked: true, listenerErrors },
      false,
    );
  }

  /**
   * Statuses to the sink, with the data plane's state folded into the Gateways' (Programmed: pending until the ack,
   * false for a listener the data plane could not bind). Every Gateway status goes every time, since that state moves
   * with each generation, at the pass's `time`; other statuses only when they changed (`changed`: the first report of
   * a pass), at the time they changed.
   */
  #report(update: TranslationUpdate, time: string, state: DataPlaneState, changed: boolean): void {
    const sink = this.#deps.statuses;
    const gateways = applyDataPlaneState(
      update.gatewayStatuses.map((s) => restamp(s, time)),
      state,
    );
    const upsert = changed
      ? [...update.statusChanges.upsert.filter((s) => !followsDataPlane(s)), ...gateways].sort(compareStatuses)
      : gateways;
    sink.updateChanges({ upsert, remove: changed ? update.statusChanges.remove : [] });
  }
}

function unboundKey(errors: ReadonlyArray<{ listenerKey: string }>): string {
  return errors
    .map((e) => e.listenerKey)
    .sort()
    .join('\n');
}

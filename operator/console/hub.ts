// What the console shows, kept up to date in the operator: the map (rebuilt when the store changes or a pass is
// published, sent only when it differs), each object's state history, the last configuration generations with
// their outcome, and the traffic points. Browsers subscribe with `subscribe` (the server-sent event stream).
// It only reads the operator's state; nothing here can change a configuration or a status.

import type { PublishResult } from '../publisher/publisher.ts';
import type { StatsMessage } from '../../shared/protocol/messages.ts';
import type { FileError } from '../providers/file-provider.ts';
import type { StoredStatus } from '../status/status-board.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { buildMap } from './model.ts';
import type { Card, ConsoleMap, State } from './model.ts';
import { TrafficHistory } from './traffic.ts';
import type { TrafficTick } from './traffic.ts';

export interface ConsoleSources {
  mode: 'file' | 'kubernetes';
  store: ResourceStore;
  statuses(): StoredStatus[];
  fileErrors(): FileError[];
  clock?: () => Date;
}

export interface Generation {
  time: string;
  generation: number;
  outcome: 'applied' | 'refused' | 'file errors';
  /** Refusal problems, unbound listeners, or files that do not parse. */
  problems: Array<{ where: string; message: string }>;
}

export interface HistoryEntry {
  time: string;
  state: State;
  summary: string;
}

export type ConsoleEvent =
  | { type: 'map'; data: ConsoleMap & { history: Record<string, HistoryEntry[]>; fileErrors: FileError[] } }
  | { type: 'generations'; data: Generation[] }
  | { type: 'traffic'; data: TrafficTick }
  | { type: 'trafficHistory'; data: readonly TrafficTick[] };

const KEEP_GENERATIONS = 20;
const KEEP_HISTORY = 20;
/** Changes arriving together (a file's documents, a pass's statuses) make one rebuild. */
const REBUILD_DELAY_MS = 50;
/** With no browser watching, the map is rebuilt less often (it still feeds the state history). */
const UNWATCHED_DELAY_MS = 2000;

export class ConsoleHub {
  readonly #sources: ConsoleSources;
  readonly #feed: ReturnType<ResourceStore['feed']>;
  readonly #subscribers = new Set<(event: ConsoleEvent) => void>();
  readonly #enders = new Set<() => void>();
  readonly #traffic = new TrafficHistory();
  readonly #generations: Generation[] = [];
  readonly #history = new Map<string, HistoryEntry[]>();
  #mapEvent: ConsoleEvent | null = null;
  #mapJson = '';
  #fileErrorsJson = '[]';
  #timer: NodeJS.Timeout | null = null;
  readonly #tick: NodeJS.Timeout;
  readonly #unsubscribe: () => void;

  constructor(sources: ConsoleSources) {
    this.#sources = sources;
    this.#feed = sources.store.feed();
    this.#unsubscribe = sources.store.onChange(() => this.#schedule());
    // Statuses written outside a pass (the Kubernetes sink settles them) and file errors have no event: look again
    // every half second, which costs a comparison when nothing changed.
    this.#tick = setInterval(() => this.#schedule(), 500);
    this.#tick.unref();
    this.#rebuild();
  }

  #now(): Date {
    return (this.#sources.clock ?? (() => new Date()))();
  }

  /** Observer for the data-plane link: stats carry traffic; each publish result is a generation. */
  readonly observer = {
    stats: (stats: StatsMessage) => {
      if (stats.traffic === undefined) return;
      this.#emit({ type: 'traffic', data: this.#traffic.add(stats.traffic, this.#now()) });
    },
    published: (result: PublishResult) => {
      const time = this.#now().toISOString();
      if (result.outcome === 'ack')
        this.#addGeneration({
          time,
          generation: result.ack.generation,
          outcome: 'applied',
          problems: result.ack.listenerErrors.map((e) => ({ where: `listener ${e.listenerKey}`, message: e.message })),
        });
      else
        this.#addGeneration({
          time,
          generation: result.nack.generation,
          outcome: 'refused',
          problems: result.nack.problems.map((p) => ({ where: p.path, message: `${p.code}: ${p.message}` })),
        });
      this.#schedule();
    },
  };

  #addGeneration(g: Generation): void {
    this.#generations.unshift(g);
    this.#generations.length = Math.min(this.#generations.length, KEEP_GENERATIONS);
    this.#emit({ type: 'generations', data: this.#generations });
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#rebuild();
      },
      this.#subscribers.size > 0 ? REBUILD_DELAY_MS : UNWATCHED_DELAY_MS,
    );
    this.#timer.unref();
  }

  #rebuild(): void {
    const fileErrors = this.#sources.fileErrors();
    const fileErrorsJson = JSON.stringify(fileErrors);
    if (fileErrorsJson !== this.#fileErrorsJson) {
      this.#fileErrorsJson = fileErrorsJson;
      if (fileErrors.length > 0)
        this.#addGeneration({
          time: this.#now().toISOString(),
          generation: this.#generations[0]?.generation ?? 0,
          outcome: 'file errors',
          problems: fileErrors.map((e) => ({ where: e.file, message: e.message })),
        });
    }
    const map = buildMap(
      this.#feed.all().map(([, o]) => o),
      this.#sources.statuses(),
    );
    const json = JSON.stringify(map) + fileErrorsJson;
    if (json === this.#mapJson && this.#mapEvent !== null) return;
    this.#mapJson = json;
    this.#recordHistory(map);
    this.#mapEvent = { type: 'map', data: { ...map, history: Object.fromEntries(this.#history), fileErrors } };
    this.#emit(this.#mapEvent);
  }

  /** Appends to each object's history when its state or summary changed. */
  #recordHistory(map: ConsoleMap): void {
    const time = this.#now().toISOString();
    const cards: Card[] = [
      ...map.classes,
      ...map.gateways,
      ...map.listenerSets,
      ...map.routes,
      ...map.backends,
      ...map.others,
    ];
    const present = new Set<string>();
    for (const c of cards) {
      present.add(c.id);
      const list = this.#history.get(c.id) ?? [];
      const last = list[list.length - 1];
      if (last?.state === c.state && last.summary === c.summary) continue;
      list.push({ time, state: c.state, summary: c.summary });
      if (list.length > KEEP_HISTORY) list.shift();
      this.#history.set(c.id, list);
    }
    for (const id of this.#history.keys()) if (!present.has(id)) this.#history.delete(id);
  }

  #emit(event: ConsoleEvent): void {
    for (const send of this.#subscribers) send(event);
  }

  /** The current state first, then every change, until the returned function is called or the hub stops (`end`). */
  subscribe(send: (event: ConsoleEvent) => void, end: () => void = () => {}): () => void {
    this.#rebuild();
    if (this.#mapEvent !== null) send(this.#mapEvent);
    send({ type: 'generations', data: this.#generations });
    send({ type: 'trafficHistory', data: this.#traffic.ticks() });
    this.#subscribers.add(send);
    this.#enders.add(end);
    return () => {
      this.#subscribers.delete(send);
      this.#enders.delete(end);
    };
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    clearInterval(this.#tick);
    this.#unsubscribe();
    this.#feed.close();
    this.#subscribers.clear();
    for (const end of [...this.#enders]) end();
    this.#enders.clear();
  }
}

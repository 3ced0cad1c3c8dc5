// What the console shows, kept up to date in the operator: the map (rebuilt when the store changes, a pass is
// published or the data plane's bind errors change; sent only when it differs), each object's state history and
// details (asked for one object at a time), the last configuration generations with their outcome, and the traffic
// points. Browsers subscribe with `subscribe` (the server-sent event stream); events are serialised once for all.
// It only reads the operator's state; nothing here can change a configuration or a status.
//
// Cost, measured with 10k routes: building the map and serialising it takes 0.25-0.9 s on the test machine, so it
// happens on a change, never on a timer, and the map leaves out each object's spec and status (they come with the
// details of the one object a person opens). With 100k routes one build blocks the operator's main thread for ~2 s,
// which stalled route propagation for everyone (bench/RESULTS.md, issue 13). So with no browser watching, a build
// that took longer than `unwatchedBudgetMs` (100 ms: a stall nobody should pay for a page nobody reads) is not
// repeated on changes: the map is dropped (it is large) until someone subscribes or opens an object, and is rebuilt
// then. The state history of a large configuration therefore records only while the console is watched (or opened);
// a small one keeps recording all the time.

import type { PublishResult } from '../publisher/publisher.ts';
import type { StatsMessage } from '../../shared/protocol/messages.ts';
import type { FileError } from '../standalone/file-provider.ts';
import type { StoredStatus } from '../status/status-board.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { buildMap } from './model.ts';
import type { Card, ConsoleMap, State } from './model.ts';
import { TrafficHistory } from './traffic.ts';

export interface ConsoleSources {
  mode: 'file' | 'kubernetes';
  store: ResourceStore;
  statuses(): StoredStatus[];
  fileErrors(): FileError[];
  clock?: () => Date;
  /** With nobody watching, a build slower than this is not repeated until someone looks (default 100 ms). */
  unwatchedBudgetMs?: number;
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

/** The map as sent: cards without spec and status, plus the files that do not parse. */
export type MapEvent = ConsoleMap & { fileErrors: FileError[] };

/** One event of the stream, its data already JSON: `map` (MapEvent), `generations`, `traffic`, `trafficHistory`. */
export interface ConsoleEvent {
  type: 'map' | 'generations' | 'traffic' | 'trafficHistory';
  json: string;
}

const KEEP_GENERATIONS = 20;
const KEEP_HISTORY = 20;
/** Changes arriving together (a file's documents, a pass's statuses) make one rebuild. */
const REBUILD_DELAY_MS = 50;
/** With no browser watching, the map is rebuilt less often (it still feeds the state history). */
const UNWATCHED_DELAY_MS = 2000;
/** The longest main-thread stall an unwatched console may cause per change (see the top of the file). */
const UNWATCHED_BUDGET_MS = 100;

/** The map without each card's spec and status. */
function leanJson(map: ConsoleMap, fileErrors: FileError[]): string {
  return JSON.stringify({ ...map, fileErrors } satisfies MapEvent, (key, value) =>
    key === 'spec' || key === 'status' ? undefined : value,
  );
}

export class ConsoleHub {
  readonly #sources: ConsoleSources;
  readonly #feed: ReturnType<ResourceStore['feed']>;
  readonly #subscribers = new Set<(event: ConsoleEvent) => void>();
  readonly #enders = new Set<() => void>();
  readonly #traffic = new TrafficHistory();
  readonly #generations: Generation[] = [];
  readonly #history = new Map<string, HistoryEntry[]>();
  #cards = new Map<string, Card>();
  #mapEvent: ConsoleEvent | null = null;
  #fileErrorsJson = '[]';
  #bindErrorsJson = '[]';
  #timer: NodeJS.Timeout | null = null;
  /** How long the last build took, ms. */
  #buildMs = 0;
  /** A change arrived while nobody watched and the build is over budget: rebuild before the map is read. */
  #stale = false;
  readonly #tick: NodeJS.Timeout;
  readonly #unsubscribe: () => void;

  constructor(sources: ConsoleSources) {
    this.#sources = sources;
    this.#feed = sources.store.feed();
    this.#unsubscribe = sources.store.onChange(() => this.#schedule());
    // A file that stops parsing changes no object, so nothing else tells: look at the file errors (a cheap list).
    this.#tick = setInterval(() => {
      if (JSON.stringify(this.#sources.fileErrors()) !== this.#fileErrorsJson) this.#schedule();
    }, 500);
    this.#tick.unref();
    this.#rebuild();
  }

  #now(): Date {
    return (this.#sources.clock ?? (() => new Date()))();
  }

  /** Observer for the data-plane link: stats carry traffic; each publish result is a generation. */
  readonly observer = {
    stats: (stats: StatsMessage) => {
      // Bind errors that change between passes change the Gateways' statuses (the reconciler reports them first).
      const bindErrors = JSON.stringify(stats.bindErrors);
      if (bindErrors !== this.#bindErrorsJson) {
        this.#bindErrorsJson = bindErrors;
        this.#schedule();
      }
      if (stats.traffic === undefined) return;
      this.#emit({ type: 'traffic', json: JSON.stringify(this.#traffic.add(stats.traffic, this.#now())) });
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
    this.#emit(this.#generationsEvent());
  }

  #generationsEvent(): ConsoleEvent {
    return { type: 'generations', json: JSON.stringify(this.#generations) };
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    if (this.#subscribers.size === 0 && this.#buildMs > (this.#sources.unwatchedBudgetMs ?? UNWATCHED_BUDGET_MS)) {
      // Stale now: let the map go too (~160 MiB at 100k routes) until someone looks again.
      this.#stale = true;
      this.#cards = new Map();
      this.#mapEvent = null;
      return;
    }
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
    const started = performance.now();
    this.#stale = false;
    try {
      this.#build();
    } finally {
      this.#buildMs = performance.now() - started;
    }
  }

  /** Rebuilds now if a change is waiting (a timer, or a skipped unwatched build). */
  #fresh(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    } else if (!this.#stale) return;
    this.#rebuild();
  }

  #build(): void {
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
    const cards = allCards(map);
    this.#cards = new Map(cards.map((c) => [c.id, c]));
    this.#recordHistory(cards);
    const json = leanJson(map, fileErrors);
    if (json === this.#mapEvent?.json) return;
    this.#mapEvent = { type: 'map', json };
    this.#emit(this.#mapEvent);
  }

  /** Appends to each object's history when its state or summary changed. */
  #recordHistory(cards: Card[]): void {
    const time = this.#now().toISOString();
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

  /** One object's card with its spec, its full status and its state history; undefined if there is none. */
  details(id: string): (Card & { history: HistoryEntry[] }) | undefined {
    this.#fresh();
    const card = this.#cards.get(id);
    return card === undefined ? undefined : { ...card, history: this.#history.get(id) ?? [] };
  }

  #emit(event: ConsoleEvent): void {
    for (const send of this.#subscribers) send(event);
  }

  /** The current state first, then every change, until the returned function is called or the hub stops (`end`). */
  subscribe(send: (event: ConsoleEvent) => void, end: () => void = () => {}): () => void {
    this.#fresh();
    if (this.#mapEvent !== null) send(this.#mapEvent);
    send(this.#generationsEvent());
    send({ type: 'trafficHistory', json: JSON.stringify(this.#traffic.ticks()) });
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

function allCards(map: ConsoleMap): Card[] {
  return [...map.classes, ...map.gateways, ...map.listenerSets, ...map.routes, ...map.backends, ...map.others];
}

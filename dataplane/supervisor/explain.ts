// The data plane's own answer to `portico explain --dataplane`: which listener and which route match take a request,
// decided by the code the shards run (the compiled socket tables, the listener lookup by host, the matcher), over the
// records of the generation in force. The operator explains why; this says what the data plane does, so that the
// two can be compared. Tables are compiled once per generation, on the first question about it, and dropped a minute
// after the last question: they are a third copy of the routes in this process (~1.3 KiB per route, 130 MiB at
// 100k routes) that the supervisor has no other use for.

import { compileHttpTables } from '../http/tables.ts';
import type { HttpTables } from '../http/tables.ts';
import { normalizeHost } from '../http/hostnames.ts';
import { matchRequest } from '../http/matcher.ts';
import type { ReadonlyRecordIndex } from '../../shared/ir/delta.ts';
import type { DataPlaneDecision } from '../../shared/explain/decision.ts';
import type { ExplainRequest } from '../../shared/explain/request.ts';

/** How long compiled tables are kept after the last question. */
const KEEP_TABLES_MS = 60_000;

export class DataPlaneExplainer {
  #tables: { generation: number; tables: HttpTables } | null = null;
  #expiry: NodeJS.Timeout | null = null;

  decide(index: ReadonlyRecordIndex, generation: number, request: ExplainRequest): DataPlaneDecision {
    if (this.#tables?.generation !== generation) this.#tables = { generation, tables: compileHttpTables(index) };
    if (this.#expiry !== null) clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => {
      this.#tables = null;
      this.#expiry = null;
    }, KEEP_TABLES_MS).unref();
    const decision: DataPlaneDecision = { generation, socket: null, listener: null, winner: null, answer: null };
    const kind = request.scheme === 'https' ? 'HTTPS' : 'HTTP';
    const addresses = new Set<string>();
    if (request.address !== undefined) addresses.add(request.address);
    for (const listener of index.listeners.values()) {
      const s = listener.source;
      if (request.gateway === `${s.namespace}/${s.name}` && s.kind === 'Gateway') addresses.add(listener.address);
    }
    const candidates = [...this.#tables.tables.sockets.values()].filter(
      (t) =>
        (t.kind === kind || (kind === 'HTTPS' && t.kind === 'TLS')) &&
        addresses.has(t.address) &&
        t.listenerList.some(
          (l) => l.listener.protocol === kind && (request.port ?? l.listener.port) === l.listener.port,
        ),
    );
    if (candidates.length !== 1) {
      decision.answer =
        candidates.length === 0 ? 'no socket serves this address and port' : 'several sockets: give the port';
      return decision;
    }
    const table = candidates[0];
    decision.socket = `${table.address}:${table.listenerList[0].listener.port}`;
    const host = normalizeHost(request.host);
    const listener = table.listeners.lookup(host);
    if (listener === undefined) {
      decision.answer = '404: no listener for this host';
      return decision;
    }
    decision.listener = listener.key;
    const bySni = request.sni ? table.listeners.lookup(normalizeHost(request.sni)) : undefined;
    if (bySni !== undefined && bySni !== listener) {
      decision.answer = '421: the connection was made for another host';
      return decision;
    }
    const entry = matchRequest(listener, {
      host,
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
    });
    if (entry === null) decision.answer = '404: no matching route';
    else decision.winner = `${entry.rule.routeKey} rule ${entry.ruleIndex} match ${entry.matchIndex}`;
    return decision;
  }
}

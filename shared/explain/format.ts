// `portico explain`'s output for people: the decision first, then the listeners and routes that were considered, each
// with the reason it took or lost the request.

import type { Explanation } from './explain.ts';

export function formatExplanation(e: Explanation): string {
  const r = e.request;
  const where = r.gateway !== undefined ? `Gateway ${r.gateway}` : `address ${r.address}`;
  const query = r.query === '' ? '' : `?${r.query}`;
  const lines = [`${r.method} ${r.scheme}://${r.host}${r.path}${query} → ${where}${r.port ? ` port ${r.port}` : ''}`];
  if (e.socket === null) {
    lines.push(`  not served: ${e.outcome?.reason}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push('', `Listeners on ${e.socket}:`);
  for (const l of e.listeners) lines.push(`  ${l.chosen ? '✔' : '✘'} ${l.key} (${l.protocol}) — ${l.reason}`);
  if (e.matches.length > 0) {
    lines.push('', 'Route rules considered (in precedence order of the ones that match):');
    const order = { won: 0, lost: 1, 'no-match': 2 } as const;
    const sorted = [...e.matches].sort((a, b) => order[a.verdict] - order[b.verdict]);
    for (const m of sorted) {
      const mark = m.verdict === 'won' ? '✔' : m.verdict === 'lost' ? '~' : '✘';
      const rule = m.ruleName !== undefined ? `rule ${m.rule} (${m.ruleName})` : `rule ${m.rule}`;
      const host = m.hostname === '' ? '' : ` under ${m.hostname}`;
      lines.push(`  ${mark} ${m.kind} ${m.source} ${rule} match ${m.match}${host} — ${m.reason}`);
    }
  }
  const w = e.winner;
  if (w !== null) {
    lines.push('', `Chosen: ${w.kind} ${w.source} rule ${w.rule}${w.ruleName ? ` (${w.ruleName})` : ''}: ${w.matched}`);
    for (const f of w.filters) lines.push(`  filter  ${f}`);
    for (const b of w.backends) {
      const name = b.source ?? `${b.key ?? '(invalid reference)'}`;
      const proto = b.protocol === null ? '' : ` ${b.protocol}${b.tls ? `, ${b.tls}` : ''}`;
      lines.push(`  backend ${name} — weight ${b.weight} (${b.percent}%)${proto}`);
      for (const f of b.filters) lines.push(`          filter ${f}`);
      lines.push(`          endpoints: ${b.endpoints.length === 0 ? 'none ready' : b.endpoints.join(', ')}`);
    }
    if (w.timeouts !== null) {
      const t = w.timeouts;
      lines.push(`  timeouts request ${t.requestMs ?? 0} ms, backend request ${t.backendRequestMs ?? 0} ms (0: none)`);
    }
    if (w.retry !== null) {
      const t = w.retry;
      lines.push(
        `  retry   ${t.attempts} more attempt(s) on ${t.codes.join(', ') || 'no status'}, backoff ${t.backoffMs} ms`,
      );
    }
  }
  if (e.outcome !== null) lines.push('', `Answer: ${e.outcome.status || 'none'} — ${e.outcome.reason}`);
  return `${lines.join('\n')}\n`;
}

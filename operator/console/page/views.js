// The console's views: the map lanes, the detail panel, the traffic cards and the generations table. Plain
// functions of the state app.js holds; nothing here fetches or keeps state of its own.

import htm from 'htm';
import { h } from 'preact';
import { Chart } from './charts.js';

const html = htm.bind(h);

const STATE_WORDS = { ok: 'OK', warning: 'Warning', error: 'Refused', pending: 'Pending', none: '—' };

export function Badge({ state }) {
  return html`<span class="badge ${state}">${STATE_WORDS[state] ?? state}</span>`;
}

function name(card) {
  return card.namespace ? `${card.namespace}/${card.name}` : card.name;
}

/** A card on the map: a button for its title (opens the details), then what the kind has to say. */
function Card({ card, selected, onSelect, children }) {
  return html`<li class="card state-${card.state} ${selected === card.id ? 'selected' : ''}" data-id=${card.id}
      data-state=${card.state}>
    <button class="title" type="button" aria-pressed=${selected === card.id} onClick=${() => onSelect(card.id)}>
      <span class="kind">${card.kind}</span>${name(card)}
    </button>
    <${Badge} state=${card.state} />
    <p class="summary">${card.summary}</p>
    ${children}
  </li>`;
}

function Listener({ l }) {
  return html`<li class="sub" data-listener=${l.name} data-state=${l.state}>
    <${Badge} state=${l.state} /> ${l.name}: ${l.protocol} ${l.port}${l.hostname ? ` ${l.hostname}` : ''} ·
    ${l.attachedRoutes} route${l.attachedRoutes === 1 ? '' : 's'}
    ${l.state === 'ok' ? '' : html`<div class="why">${l.summary}</div>`}
  </li>`;
}

const ATTACHMENT_WORDS = {
  ok: '✓ attached to',
  warning: '⚠ attached, with a problem, to',
  error: '✗ refused by',
  pending: '… waiting for',
};

function Attachment({ a }) {
  const target = `${a.parent.split('/').slice(1).join('/')}${a.sectionName ? ` · ${a.sectionName}` : ''}`;
  return html`<li class="sub" data-parent=${a.parent} data-state=${a.state}
      data-reason=${a.reason}>
    ${ATTACHMENT_WORDS[a.state] ?? a.state} ${target}
    ${a.state === 'ok' ? '' : html`<div class="why">${a.reason}${a.message ? `: ${a.message}` : ''}</div>`}
  </li>`;
}

function Rule({ r }) {
  const backends = r.backends.map((b) => `${b.service.split('/').slice(2).join('/')}${b.port ? `:${b.port}` : ''}`);
  const weights = r.backends.length > 1 ? ` (${r.backends.map((b) => b.weight).join('/')})` : '';
  return html`<li class="sub">
    ${r.name}: ${r.matches.join(' | ')}${r.filters.length ? ` · ${r.filters.join(', ')}` : ''} →
    ${backends.join(', ') || 'no backend'}${weights}
  </li>`;
}

function rateText(point) {
  if (point === undefined) return '';
  const latency = point.p50 === null ? '' : ` · p50 ${point.p50} ms`;
  return `${point.rps} req/s · ${(point.errorRatio * 100).toFixed(1)}% errors${latency}`;
}

export function MapView({ map, visible, selected, onSelect, now }) {
  const lane = (title, cards, render) => html`<div class="lane">
    <h3>${title}</h3>
    ${cards.length === 0 ? html`<p class="empty">none</p>` : html`<ul>${cards.map(render)}</ul>`}
  </div>`;
  const gateways = [...map.gateways, ...map.listenerSets].filter(visible);
  return html`<section aria-labelledby="map-title">
    <h2 id="map-title">Map</h2>
    ${
      map.fileErrors.length > 0
        ? html`<div class="file-errors" role="alert">
          <strong>Files that do not parse (the previous content of each keeps serving):</strong>
          <ul>${map.fileErrors.map((e) => html`<li>${e.file}: ${e.message}</li>`)}</ul>
        </div>`
        : ''
    }
    <div class="lanes">
      ${lane(
        'GatewayClasses',
        map.classes.filter(visible),
        (c) => html`<${Card} key=${c.id} card=${c} selected=${selected} onSelect=${onSelect} />`,
      )}
      ${lane(
        'Gateways & listeners',
        gateways,
        (g) => html`<${Card} key=${g.id} card=${g} selected=${selected} onSelect=${onSelect}>
          <p class="sub">${g.className ? `class ${g.className}` : `on ${g.gateway.split('/').slice(1).join('/')}`}
            ${g.addresses?.length ? ` · ${g.addresses.join(', ')}` : ''}</p>
          <ul>${g.listeners.map((l) => html`<${Listener} key=${l.name} l=${l} />`)}</ul>
        <//>`,
      )}
      ${lane(
        'Routes & rules',
        map.routes.filter(visible),
        (r) => html`<${Card} key=${r.id} card=${r} selected=${selected} onSelect=${onSelect}>
          ${r.hostnames.length ? html`<p class="sub">${r.hostnames.join(', ')}</p>` : ''}
          <ul>${r.attachments.map((a) => html`<${Attachment} key=${a.parent + (a.sectionName ?? '')} a=${a} />`)}</ul>
          <ul>${r.rules.map((rule) => html`<${Rule} key=${rule.name} r=${rule} />`)}</ul>
          <p class="rate">${rateText(now.routes[r.trafficKey])}</p>
        <//>`,
      )}
      ${lane(
        'Backends & endpoints',
        map.backends.filter(visible),
        (b) => html`<${Card} key=${b.id} card=${b} selected=${selected} onSelect=${onSelect}>
          <ul>
            ${b.ports.map((p) => html`<li class="sub" key=${p.port}>port ${p.port} <span class="rate">${rateText(now.backends[p.trafficKey])}</span></li>`)}
            ${b.endpoints.map((e) => html`<li class="sub" key=${e.address}>${e.ready ? '●' : '○'} ${e.address} ${e.ready ? 'ready' : 'not ready'}</li>`)}
          </ul>
        <//>`,
      )}
    </div>
  </section>`;
}

function yaml(value) {
  return JSON.stringify(value, null, 2);
}

export function Details({ card, history, onClose }) {
  if (card === undefined) return '';
  return html`<aside aria-labelledby="details-title" data-details=${card.id}>
    <button type="button" class="close" onClick=${onClose} aria-label="Close the details">Close (Esc)</button>
    <h2 id="details-title" tabindex="-1">${card.kind} ${name(card)}</h2>
    <${Badge} state=${card.state} />
    <p class="summary">${card.summary}</p>
    ${
      card.attachments
        ? html`<h3>Attachments</h3><ul>${card.attachments.map((a) => html`<${Attachment} key=${a.parent} a=${a} />`)}</ul>`
        : ''
    }
    <h3>State history</h3>
    ${
      history.length === 0
        ? html`<p class="empty">none recorded</p>`
        : html`<table>
          <thead><tr><th scope="col">Time</th><th scope="col">State</th><th scope="col">Summary</th></tr></thead>
          <tbody>${[...history].reverse().map((e) => html`<tr><td>${e.time.slice(11, 19)}</td><td><${Badge} state=${e.state} /></td><td>${e.summary}</td></tr>`)}</tbody>
        </table>`
    }
    <h3>Spec</h3>
    <pre tabindex="0" aria-label="Spec">${yaml(card.spec)}</pre>
    <h3>Status</h3>
    <pre tabindex="0" aria-label="Status">${yaml(card.status)}</pre>
  </aside>`;
}

export function TrafficView({ series, map, visible }) {
  const cards = [];
  for (const r of map.routes.filter(visible))
    cards.push({ key: `route:${r.trafficKey}`, title: `${r.kind} ${name(r)}`, s: series.routes[r.trafficKey] });
  for (const b of map.backends.filter(visible))
    for (const p of b.ports)
      cards.push({
        key: `backend:${p.trafficKey}`,
        title: `Backend ${p.trafficKey}`,
        s: series.backends[p.trafficKey],
      });
  const live = cards.filter((c) => c.s !== undefined);
  return html`<section aria-labelledby="traffic-title">
    <h2 id="traffic-title">Live traffic</h2>
    ${live.length === 0 ? html`<p class="empty">No traffic yet: send some requests through the gateway.</p>` : ''}
    <div class="traffic-grid">
      ${live.map(
        (c) => html`<div class="traffic-card" key=${c.key} data-traffic=${c.key}>
          <h3>${c.title}</h3>
          <div class="charts">
            <${Chart} title="requests/s" data=${[c.s.t, c.s.rps]} series=${['req/s']} />
            <${Chart} title="error ratio" unit="%" data=${[c.s.t, c.s.err]} series=${['errors']} />
            <${Chart} title="latency p50 (blue) / p90 (amber) / p99 (red)" unit="ms" data=${[c.s.t, c.s.p50, c.s.p90, c.s.p99]}
              series=${['p50', 'p90', 'p99']} />
          </div>
        </div>`,
      )}
    </div>
  </section>`;
}

export function GenerationsView({ generations }) {
  return html`<section aria-labelledby="generations-title">
    <h2 id="generations-title">Configuration generations</h2>
    ${
      generations.length === 0
        ? html`<p class="empty">None published yet.</p>`
        : html`<table>
          <thead><tr><th scope="col">Time</th><th scope="col">Generation</th><th scope="col">Outcome</th><th scope="col">Problems</th></tr></thead>
          <tbody>
            ${generations.map(
              (g, i) => html`<tr key=${i} data-outcome=${g.outcome}>
                <td>${g.time.slice(11, 19)}</td><td>${g.generation}</td>
                <td><span class="badge ${outcomeClass(g)}">${g.outcome}</span></td>
                <td>${g.problems.length === 0 ? '—' : html`<ul>${g.problems.map((p) => html`<li>${p.where}: ${p.message}</li>`)}</ul>`}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
    }
  </section>`;
}

function outcomeClass(g) {
  if (g.outcome !== 'applied') return 'error';
  return g.problems.length === 0 ? 'ok' : 'warning';
}

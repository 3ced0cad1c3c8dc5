// The Portico console: subscribes to the operator's event stream (/console/events) and renders the map, the live
// traffic and the configuration generations. Read-only; everything it shows comes from that stream.

import htm from 'htm';
import { h, render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ExplainView } from './explain.js';
import { Details, GenerationsView, MapView, TrafficView } from './views.js';

const html = htm.bind(h);

const KINDS = [
  'GatewayClass',
  'Gateway',
  'ListenerSet',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'Service',
];
/** Points kept per chart: three minutes at one a second. */
const KEEP = 180;

function emptySeries() {
  return { t: [], rps: [], err: [], p50: [], p90: [], p99: [] };
}

/** Appends one tick's points to the per-key series, in place (the charts read the same arrays). */
function addTick(series, tick) {
  for (const group of ['routes', 'backends']) {
    for (const [key, p] of Object.entries(tick[group])) {
      const s = series[group][key] ?? (series[group][key] = emptySeries());
      s.t.push(p.t);
      s.rps.push(p.rps);
      s.err.push(Math.round(p.errorRatio * 1000) / 10);
      s.p50.push(p.p50);
      s.p90.push(p.p90);
      s.p99.push(p.p99);
      if (s.t.length > KEEP) for (const list of Object.values(s)) list.shift();
    }
  }
}

function App() {
  const [map, setMap] = useState(null);
  const [generations, setGenerations] = useState([]);
  const [series] = useState(() => ({ routes: {}, backends: {} }));
  const [now, setNow] = useState({ routes: {}, backends: {} });
  const [connection, setConnection] = useState('connecting');
  const [namespace, setNamespace] = useState('');
  const [kinds, setKinds] = useState(() => new Set(KINDS));
  const [selected, setSelected] = useState(null);
  const [details, setDetails] = useState(null);

  useEffect(() => {
    const source = new EventSource('./events');
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('lost');
    source.addEventListener('map', (e) => setMap(JSON.parse(e.data)));
    source.addEventListener('generations', (e) => setGenerations(JSON.parse(e.data)));
    source.addEventListener('trafficHistory', (e) => {
      const ticks = JSON.parse(e.data);
      for (const tick of ticks) addTick(series, tick);
      if (ticks.length > 0) setNow(ticks[ticks.length - 1]);
    });
    source.addEventListener('traffic', (e) => {
      const tick = JSON.parse(e.data);
      addTick(series, tick);
      setNow(tick);
    });
    return () => source.close();
  }, []);

  useEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Escape') setSelected(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // The selected object's spec, status and history: asked for when selected, and again when the map changes.
  useEffect(() => {
    if (selected === null) {
      setDetails(null);
      return;
    }
    let current = true;
    fetch(`./object?id=${encodeURIComponent(selected)}`)
      .then((r) => (r.ok ? r.json() : null))
      .then((d) => current && setDetails(d))
      .catch(() => current && setDetails(null));
    return () => {
      current = false;
    };
  }, [selected, map]);

  // Focus moves to the details when they open, and back to the card that opened them when they close.
  const [opener, setOpener] = useState(null);
  const detailsOpen = details !== null && details.id === selected;
  useEffect(() => {
    if (detailsOpen) document.getElementById('details-title')?.focus();
    else if (selected === null) opener?.focus();
  }, [detailsOpen, selected]);
  const select = (id) => {
    setOpener(document.activeElement);
    setSelected(id);
  };

  const visible = useMemo(
    () => (card) =>
      kinds.has(card.kind === 'XListenerSet' ? 'ListenerSet' : card.kind) &&
      (namespace === '' || card.namespace === undefined || card.namespace === namespace),
    [kinds, namespace],
  );

  if (map === null) return html`<p class="loading">Connecting to the operator…</p>`;
  const card = detailsOpen ? details : undefined;
  const toggle = (kind) => {
    const next = new Set(kinds);
    if (next.has(kind)) next.delete(kind);
    else next.add(kind);
    setKinds(next);
  };
  return html`
    <header>
      <h1>Portico console</h1>
      <span class="connection ${connection}" role="status">${connection === 'live' ? 'live' : connection}</span>
      <label>Namespace
        <select value=${namespace} onChange=${(e) => setNamespace(e.currentTarget.value)}>
          <option value="">all</option>
          ${map.namespaces.map((n) => html`<option value=${n}>${n}</option>`)}
        </select>
      </label>
      <fieldset class="filters">
        <legend>Kinds</legend>
        ${KINDS.map(
          (k) =>
            html`<label><input type="checkbox" checked=${kinds.has(k)} onChange=${() => toggle(k)} /> ${k}</label>`,
        )}
      </fieldset>
    </header>
    <main class=${card === undefined ? 'no-details' : ''}>
      <div>
        <${MapView} map=${map} visible=${visible} selected=${selected} onSelect=${select} now=${now} />
        <${TrafficView} series=${series} map=${map} visible=${visible} now=${now} />
        <${ExplainView} map=${map} />
        <${GenerationsView} generations=${generations} />
      </div>
      <${Details} card=${card} history=${card?.history ?? []} onClose=${() => setSelected(null)} />
    </main>
  `;
}

render(html`<${App} />`, document.getElementById('app'));

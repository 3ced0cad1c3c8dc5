// The explain form: a request (gateway, port, scheme, host, method, path, headers) sent to the admin endpoint's
// /explain — `portico explain`'s answer — and shown as the CLI shows it: the answer first, then the listeners and
// the route rules considered, each with why it took or lost the request, then what the chosen rule does.

import htm from 'htm';
import { h } from 'preact';
import { useState } from 'preact/hooks';

const html = htm.bind(h);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const VERDICT_ORDER = { won: 0, lost: 1, 'no-match': 2 };
const VERDICT_MARK = { won: '✔ won', lost: '~ lost', 'no-match': '✘ no match' };

/** The form's fields as /explain's query string (`header` repeats, as `name:value`). */
function query(form) {
  const params = new URLSearchParams();
  for (const name of ['gateway', 'port', 'scheme', 'host', 'method', 'path'])
    if (form[name] !== '') params.set(name, form[name]);
  for (const line of form.headers.split('\n')) if (line.trim() !== '') params.append('header', line.trim());
  return params;
}

function Field({ label, children }) {
  return html`<label class="field">${label} ${children}</label>`;
}

function Answer({ e }) {
  const w = e.winner;
  const matches = [...e.matches].sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict]);
  return html`<div class="explain-answer" data-status=${e.outcome?.status ?? ''}>
    <p class="decision"><strong>Answer: ${e.outcome?.status || 'none'}</strong> — ${e.outcome?.reason ?? ''}</p>
    ${
      e.socket === null
        ? ''
        : html`<h3>Listeners on ${e.socket}</h3>
          <ul>${e.listeners.map((l) => html`<li data-chosen=${l.chosen}>${l.chosen ? '✔' : '✘'} ${l.key} (${l.protocol}) — ${l.reason}</li>`)}</ul>`
    }
    ${
      matches.length === 0
        ? ''
        : html`<h3>Route rules considered</h3>
          <table>
            <thead><tr><th scope="col">Verdict</th><th scope="col">Route</th><th scope="col">Rule</th><th scope="col">Why</th></tr></thead>
            <tbody>${matches.map(
              (m) => html`<tr data-verdict=${m.verdict} data-route=${m.source}>
                <td>${VERDICT_MARK[m.verdict]}</td><td>${m.kind} ${m.source}</td>
                <td>rule ${m.rule}${m.ruleName ? ` (${m.ruleName})` : ''} match ${m.match}${m.hostname ? ` under ${m.hostname}` : ''}</td>
                <td>${m.reason}</td>
              </tr>`,
            )}</tbody>
          </table>`
    }
    ${
      w === null
        ? ''
        : html`<h3>Chosen: ${w.kind} ${w.source} rule ${w.rule}${w.ruleName ? ` (${w.ruleName})` : ''}</h3>
          <ul class="winner">
            <li>matched: ${w.matched}</li>
            ${w.filters.map((f) => html`<li>filter: ${f}</li>`)}
            ${w.backends.map(
              (
                b,
              ) => html`<li>backend ${b.source ?? b.key ?? '(invalid reference)'} — weight ${b.weight} (${b.percent}%);
                endpoints: ${b.endpoints.length === 0 ? 'none ready' : b.endpoints.join(', ')}</li>`,
            )}
            ${w.timeouts ? html`<li>timeouts: request ${w.timeouts.requestMs ?? 0} ms, backend request ${w.timeouts.backendRequestMs ?? 0} ms (0: none)</li>` : ''}
            ${w.retry ? html`<li>retry: ${w.retry.attempts} more attempt(s) on ${w.retry.codes.join(', ') || 'no status'}</li>` : ''}
          </ul>`
    }
  </div>`;
}

export function ExplainView({ map }) {
  const gateways = map.gateways.map((g) => `${g.namespace}/${g.name}`);
  const [form, setForm] = useState({
    gateway: gateways[0] ?? '',
    port: '',
    scheme: 'http',
    host: map.routes.find((r) => r.hostnames.length > 0)?.hostnames[0] ?? '',
    method: 'GET',
    path: '/',
    headers: '',
  });
  const [answer, setAnswer] = useState(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    fetch(`../explain?${query(form)}`)
      .then((r) => r.json())
      .then((body) => setAnswer(body))
      .catch((error) => setAnswer({ error: String(error) }));
  };
  return html`<section aria-labelledby="explain-title">
    <h2 id="explain-title">Explain a request</h2>
    <form class="explain" onSubmit=${submit}>
      <${Field} label="Gateway">
        <select name="gateway" value=${form.gateway} onChange=${set('gateway')}>
          ${gateways.map((g) => html`<option value=${g}>${g}</option>`)}
        </select>
      <//>
      <${Field} label="Port"><input type="number" min="1" max="65535" name="port" value=${form.port} onInput=${set('port')} placeholder="any" /><//>
      <${Field} label="Scheme">
        <select name="scheme" value=${form.scheme} onChange=${set('scheme')}><option>http</option><option>https</option></select>
      <//>
      <${Field} label="Method">
        <select name="method" value=${form.method} onChange=${set('method')}>${METHODS.map((m) => html`<option>${m}</option>`)}</select>
      <//>
      <${Field} label="Host"><input type="text" name="host" value=${form.host} onInput=${set('host')} /><//>
      <${Field} label="Path"><input type="text" name="path" value=${form.path} onInput=${set('path')} /><//>
      <${Field} label="Headers (name: value, one a line)">
        <textarea rows="2" name="headers" value=${form.headers} onInput=${set('headers')}></textarea>
      <//>
      <button type="submit">Explain</button>
    </form>
    ${answer === null ? '' : answer.error ? html`<p class="explain-error" role="alert">${answer.error}</p>` : html`<${Answer} e=${answer} />`}
  </section>`;
}

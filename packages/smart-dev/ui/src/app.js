// The smart dev dashboard: Preact + htm (no build step of its own beyond the
// bundle scripts/bundle-ui.ts makes), uPlot for the charts. Reads the
// dashboard's JSON API; logs arrive live over server-sent events.
import htm from 'htm';
import { h, render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';

const html = htm.bind(h);
const PANELS = ['services', 'traces', 'logs', 'config', 'monitor'];
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const COLOURS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

const getJson = async (url, init = {}) => {
  // The dashboard's API takes changes only with this header (see dashboard-server.ts).
  const res = await fetch(url, { ...init, headers: { ...init.headers, 'x-smart-dev': '1' } });
  const body = await res.json().catch(() => ({}));
  return res.ok ? body : Promise.reject(new Error(body.error ?? `${res.status}`));
};
const ms = (v) =>
  v === undefined || v === null
    ? '-'
    : v < 1
      ? `${(v * 1000).toFixed(0)} µs`
      : v < 1000
        ? `${v.toFixed(1)} ms`
        : `${(v / 1000).toFixed(2)} s`;
const ago = (v) =>
  v === undefined
    ? '-'
    : v < 60_000
      ? `${Math.round(v / 1000)} s`
      : v < 3_600_000
        ? `${Math.round(v / 60_000)} min`
        : `${(v / 3_600_000).toFixed(1)} h`;
const clock = (t) => `${new Date(t).toLocaleTimeString([], { hour12: false })}.${String(t % 1000).padStart(3, '0')}`;

function useHash() {
  const [hash, setHash] = useState(location.hash.slice(1) || '/services');
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || '/services');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function usePoll(url, intervalMs, deps = []) {
  const [data, setData] = useState(undefined);
  const [error, setError] = useState(undefined);
  useEffect(() => {
    let stop = false;
    const load = () =>
      getJson(url).then(
        (d) => {
          if (stop) return;
          setData(d);
          setError(undefined);
        },
        (e) => !stop && setError(e.message),
      );
    load();
    const timer = intervalMs ? setInterval(load, intervalMs) : undefined;
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [url, ...deps]);
  return [data, error];
}

function App() {
  const hash = useHash();
  const [, panel = 'services', ...rest] = hash.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  return html`
    <header>
      <h1>smart dev</h1>
      <nav>${PANELS.map((p) => html`<a href="#/${p}" class=${p === panel ? 'active' : ''} data-testid="nav-${p}">${p[0].toUpperCase() + p.slice(1)}</a>`)}</nav>
    </header>
    <main>
      ${panel === 'services' && html`<${Services} />`}
      ${panel === 'traces' && html`<${Traces} selected=${arg} />`}
      ${panel === 'logs' && html`<${Logs} initialRequestId=${arg} />`}
      ${panel === 'config' && html`<${Config} initialService=${arg} />`}
      ${panel === 'monitor' && html`<${Monitor} />`}
    </main>`;
}

// ---- Services ----
function Services() {
  const [tick, setTick] = useState(0);
  const [data, error] = usePoll('/api/services', 2000, [tick]);
  const act = (url) => getJson(url, { method: 'POST' }).finally(() => setTimeout(() => setTick((t) => t + 1), 300));
  if (!data) return html`<p class="muted">${error ?? 'loading…'}</p>`;
  return html`
    <p class="muted">realm ${data.realm} · Atlas <span class="mono">${data.atlasUrl}</span></p>
    <table data-testid="services">
      <thead><tr><th>service / instance</th><th>state</th><th>url</th><th>version</th><th>uptime</th><th>restarts</th><th></th></tr></thead>
      <tbody>
        ${data.services.map(
          (s) => html`
            <tr data-testid="service-${s.name}">
              <td><b>${s.name}</b></td><td>${s.state}</td><td class="mono">${s.url ?? '-'}</td>
              <td data-testid="versions-${s.name}">${s.versionsText ?? ''} ${s.disagree && html`<span class="badge warn" title="its live instances run different versions or API documents">instances disagree</span>`}</td>
              <td>${ago(s.uptimeMs)}</td><td>${s.restarts}</td>
              <td><button onClick=${() => act(`/api/services/${s.name}/restart`)} data-testid="restart-${s.name}">Restart</button></td>
            </tr>
            ${s.instances.map(
              (i) => html`
                <tr class="sub" data-testid="instance-${i.id}">
                  <td class="mono">${i.id.slice(0, 8)} <span class="muted">pid ${i.metadata?.pid ?? '?'}</span></td>
                  <td><span class="badge ${i.state === 'up' ? 'ok' : ''}">${i.state}</span></td>
                  <td class="mono">${i.url}</td><td>${i.version} <span class="mono muted" title="API document hash">${i.metadata?.apiHash?.slice(0, 8) ?? ''}</span></td><td>${ago(i.uptimeMs)}</td><td></td>
                  <td><button onClick=${() => act(`/api/services/${s.name}/instances/${i.id}/${i.state === 'up' ? 'drain' : 'undrain'}`)}>${i.state === 'up' ? 'Drain' : 'Undrain'}</button></td>
                </tr>`,
            )}`,
        )}
      </tbody>
    </table>`;
}

// ---- Traces ----
function Traces({ selected }) {
  const [query, setQuery] = useState('');
  // A trace opened (a row clicked, a link followed): the list shows every recent request again.
  useEffect(() => setQuery(''), [selected]);
  const [list] = usePoll(`/api/traces${query ? `?q=${encodeURIComponent(query)}` : ''}`, 1000, [query]);
  return html`
    <div class="filters">
      <input data-testid="trace-search" placeholder="request id or trace id" value=${query} onInput=${(e) => setQuery(e.target.value.trim())} size="40" />
    </div>
    ${selected ? html`<${Trace} id=${selected} />` : ''}
    <table data-testid="trace-list">
      <thead><tr><th>time</th><th>root</th><th>status</th><th>duration</th><th>services</th><th>request id</th></tr></thead>
      <tbody>
        ${(list?.traces ?? []).map(
          (t) => html`
            <tr class="clickable" data-testid="trace-row" onClick=${() => (location.hash = `/traces/${t.traceId}`)}>
              <td class="mono">${clock(Math.round(t.startMs))}</td>
              <td>${t.service} <b>${t.root}</b></td>
              <td>${t.error ? html`<span class="badge error">error ${t.status ?? ''}</span>` : html`<span class="badge ok">${t.status ?? 'ok'}</span>`}</td>
              <td>${ms(t.durationMs)}</td><td>${t.services.join(', ')}</td><td class="mono">${t.requestId ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

// Attributes worth showing on a span's row: how an attempt went, what a query ran.
const TAG =
  /attempt|retry|hedge|outcome|abandon|instance|^db\.(statement|query\.text|operation|system)|^redis|^rpc\.|peer|server\.address|http\.response\.status_code|error/;

function spanTree(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span: s, depth });
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

// The RemoteError chain: each failing hop, from the service that failed first up to the root.
function errorChain(spans, logs) {
  const hops = [];
  // What each service answered: its server span's status, else its access line's
  // (a RemoteError's own `status` is the remote's, not what this service answered).
  const answered = (service) =>
    spans.find((s) => s.service === service && s.kind === 2 && s.attributes['http.response.status_code'])?.attributes[
      'http.response.status_code'
    ] ??
    logs.find((l) => l.service === service && typeof l.fields.status === 'number' && l.fields.route)?.fields.status;
  for (const l of logs.filter((l) => (l.level ?? 0) >= 40 && (l.fields.err || l.fields.code))) {
    const err = l.fields.err ?? {};
    hops.push({
      service: l.service,
      code: err.code ?? l.fields.code,
      status: answered(l.service),
      message: err.message ?? l.msg,
      requestId: l.requestId,
    });
  }
  if (hops.length === 0) {
    for (const s of spans.filter((s) => s.status.code === 2).reverse()) {
      const ex = s.events.find((e) => e.name === 'exception');
      hops.push({
        service: s.service,
        code: s.attributes['error.type'] ?? ex?.attributes['exception.type'],
        status: s.attributes['http.response.status_code'],
        message: s.status.message ?? ex?.attributes['exception.message'] ?? s.name,
      });
    }
  }
  return hops;
}

function Trace({ id }) {
  const [data, error] = usePoll(`/api/traces/${encodeURIComponent(id)}`, 1500, [id]);
  const [open, setOpen] = useState(undefined);
  if (!data)
    return html`<p class="muted" data-testid="trace-missing">${error ? `no trace ${id} (yet)` : 'loading…'}</p>`;
  const rows = spanTree(data.spans);
  const start = data.summary.startMs;
  const total = Math.max(data.summary.durationMs, 0.001);
  const services = [...new Set(data.spans.map((s) => s.service))];
  const colour = (s) => COLOURS[services.indexOf(s) % COLOURS.length];
  const chain = data.summary.error ? errorChain(data.spans, data.logs) : [];
  return html`
    <section data-testid="trace-detail">
      <h2>${data.summary.service} ${data.summary.root} <span class="muted">${ms(data.summary.durationMs)} · ${data.spans.length} spans · ${services.join(', ')}</span></h2>
      <p class="mono muted">trace ${data.summary.traceId}${data.summary.requestId ? ` · request ${data.summary.requestId}` : ''}</p>
      ${
        chain.length > 0 &&
        html`<div class="chain" data-testid="error-chain"><b>RemoteError chain</b><ol>
        ${chain.map((hop) => html`<li><b>${hop.service}</b> ${hop.status ? `${hop.status} ` : ''}<span class="mono">${hop.code ?? ''}</span> ${hop.message}</li>`)}
      </ol></div>`
      }
      <div class="waterfall" data-testid="waterfall">
        ${rows.map(
          ({ span: s, depth }) => html`
            <div class="span-row" data-testid="span" data-service=${s.service} onClick=${() => setOpen(open === s.spanId ? undefined : s.spanId)}>
              <div class="span-label" style=${{ paddingLeft: `${0.5 + depth * 1}rem` }}>
                <span style=${{ color: colour(s.service) }}>${s.service}</span> ${s.name}
                <span class="tags">${Object.entries(s.attributes)
                  .filter(([k]) => TAG.test(k))
                  .map(([k, v]) => `${k}=${String(v).slice(0, 60)}`)
                  .join(' ')}</span>
              </div>
              <div class="span-track"><div class="span-bar ${s.status.code === 2 ? 'error' : ''}" style=${{ left: `${((s.startMs - start) / total) * 100}%`, width: `${(s.durationMs / total) * 100}%`, background: colour(s.service) }}></div></div>
              <div class="span-dur">${ms(s.durationMs)}</div>
            </div>
            ${open === s.spanId && html`<div class="detail mono"><pre>${JSON.stringify({ attributes: s.attributes, status: s.status, events: s.events }, null, 2)}</pre></div>`}`,
        )}
      </div>
    </section>`;
}

// ---- Logs ----
function Logs({ initialRequestId }) {
  const [lines, setLines] = useState([]);
  const [service, setService] = useState('');
  const [level, setLevel] = useState('0');
  const [requestId, setRequestId] = useState(initialRequestId ?? '');
  const [text, setText] = useState('');
  useEffect(() => {
    const source = new EventSource('/api/logs/stream');
    let batch = [];
    const flush = setInterval(() => {
      if (batch.length === 0) return;
      const add = batch;
      batch = [];
      setLines((old) => [...old, ...add].slice(-5000));
    }, 200);
    source.onmessage = (e) => batch.push(JSON.parse(e.data));
    return () => {
      source.close();
      clearInterval(flush);
    };
  }, []);
  const services = useMemo(() => [...new Set(lines.map((l) => l.service))].sort(), [lines.length]);
  const shown = lines.filter(
    (l) =>
      (!service || l.service === service) &&
      (l.level ?? 30) >= Number(level) &&
      (!requestId || l.requestId === requestId) &&
      (!text || `${l.msg} ${JSON.stringify(l.fields)}`.toLowerCase().includes(text.toLowerCase())),
  );
  return html`
    <div class="filters">
      <select data-testid="log-service" value=${service} onChange=${(e) => setService(e.target.value)}><option value="">every service</option>${services.map((s) => html`<option>${s}</option>`)}</select>
      <select data-testid="log-level" value=${level} onChange=${(e) => setLevel(e.target.value)}>
        <option value="0">every level</option><option value="30">info and up</option><option value="40">warn and up</option><option value="50">error and up</option>
      </select>
      <input data-testid="log-request-id" placeholder="request id" value=${requestId} onInput=${(e) => setRequestId(e.target.value.trim())} />
      <input data-testid="log-text" placeholder="text" value=${text} onInput=${(e) => setText(e.target.value)} />
      <span class="muted">${shown.length} of ${lines.length} lines</span>
    </div>
    <div data-testid="log-lines">
      ${shown.slice(-1000).map(
        (l) => html`
          <div class="log-line mono" data-testid="log-line" data-request-id=${l.requestId ?? ''}>
            <span class="muted">${clock(l.time)}</span> <b>${l.service}</b> <span class="level-${l.level}">${LEVELS[l.level] ?? '-'}</span>
            ${l.requestId && html` <a data-testid="log-request-link" href="#/traces/${encodeURIComponent(l.requestId)}">[${l.requestId}]</a>`}
            ${' '}${l.msg} <span class="muted">${Object.keys(l.fields).length ? JSON.stringify(l.fields).slice(0, 300) : ''}</span>
          </div>`,
      )}
    </div>`;
}

// ---- Config ----
function Config({ initialService }) {
  const [services] = usePoll('/api/services', 0);
  const [service, setService] = useState(initialService || '');
  const [tick, setTick] = useState(0);
  const names = services?.services.map((s) => s.name) ?? [];
  const current = service || names[0] || '';
  const [config, error] = usePoll(current ? `/api/config/${current}` : '/api/services', 0, [current, tick]);
  const [editing, setEditing] = useState(undefined);
  const [draft, setDraft] = useState('');
  const [message, setMessage] = useState(undefined);
  const [filter, setFilter] = useState('');
  const pick = (name) => {
    setService(name);
    setEditing(undefined);
    setMessage(undefined);
  };
  const edit = (k) => {
    setEditing(k.key);
    setDraft(JSON.stringify(k.value) ?? '');
    setMessage(undefined);
  };
  const save = async (key) => {
    setMessage(undefined);
    try {
      await getJson(`/api/config/${current}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key, value: draft }),
      });
      setMessage({ ok: true, text: `${key} = ${draft}: applied by ${current}` });
      setEditing(undefined);
      setTick((t) => t + 1);
    } catch (err) {
      setMessage({ ok: false, text: err.message });
    }
  };
  return html`
    <div class="filters">
      <select data-testid="config-service" value=${current} onChange=${(e) => pick(e.target.value)}>${names.map((n) => html`<option>${n}</option>`)}</select>
      <input data-testid="config-filter" placeholder="key" value=${filter} onInput=${(e) => setFilter(e.target.value.trim())} />
      <span class="muted">each key, its value and the layer it came from (default, realm, env, atlas); edits are written to Atlas and applied live</span>
    </div>
    ${message && html`<p data-testid=${message.ok ? 'config-ok' : 'config-error'} class=${message.ok ? '' : 'error'}><pre>${message.text}</pre></p>`}
    ${error && html`<p class="error">${error}</p>`}
    <table data-testid="config">
      <thead><tr><th>key</th><th>value</th><th>from</th><th>overrides</th><th>env var</th><th></th></tr></thead>
      <tbody>
        ${(config?.keys ?? [])
          .filter((k) => k.key.includes(filter))
          .map(
            (k) => html`
            <tr data-testid="config-key" data-key=${k.key}>
              <td class="mono">${k.key}</td>
              <td class="mono" data-testid="config-value">
                ${
                  editing === k.key
                    ? html`<input data-testid="config-input" value=${draft} onInput=${(e) => setDraft(e.target.value)} onKeyDown=${(e) => e.key === 'Enter' && save(k.key)} />
                         <button data-testid="config-save" onClick=${() => save(k.key)}>Save</button> <button onClick=${() => setEditing(undefined)}>Cancel</button>`
                    : k.secret
                      ? '•••••• (secret)'
                      : (JSON.stringify(k.value) ?? html`<span class="muted">unset</span>`)
                }
              </td>
              <td data-testid="config-source"><span class="badge">${k.source}</span></td>
              <td class="muted mono">${k.overridden.map((o) => `${o.source}: ${k.secret ? '••••••' : JSON.stringify(o.value)}`).join(', ')}</td>
              <td class="muted mono">${k.envVar}</td>
              <td>${!k.secret && editing !== k.key && html`<button data-testid="config-edit" onClick=${() => edit(k)}>Edit</button>`}</td>
            </tr>`,
          )}
      </tbody>
    </table>`;
}

// ---- Monitor ----
function Chart({ title, points, series }) {
  const ref = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const data = [points.map((p) => p.t / 1000), ...series.map((s) => points.map((p) => s.value(p)))];
    if (!plot.current) {
      plot.current = new uPlot(
        {
          width: 440,
          height: 150,
          legend: { show: true },
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i], width: 1.5 }))],
          axes: [{}, { size: 50 }],
        },
        data,
        ref.current,
      );
    } else plot.current.setData(data);
  }, [points]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div><div class="muted">${title}</div><div ref=${ref}></div></div>`;
}

function Monitor() {
  const [data] = usePoll('/api/monitor', 1000);
  if (!data) return html`<p class="muted">loading…</p>`;
  if (data.services.length === 0)
    return html`<p class="muted">no metrics yet: the services are scraped every second</p>`;
  const cards = data.services.flatMap((s) => [
    { name: s.name, upstream: false },
    ...s.upstreams.map((u) => ({ name: `${s.name} → ${u}`, upstream: true })),
  ]);
  return html`<div class="charts">
    ${cards.map(({ name, upstream }) => {
      const points = data.series[name] ?? [];
      const last = points.at(-1);
      return html`<div class="chart-card" data-testid="monitor-card" data-series=${name}>
        <h3>${upstream ? html`<span class="muted">calls</span> ${name}` : name}</h3>
        <p class="mono" data-testid="monitor-latest">${last ? `${last.rps.toFixed(1)} req/s · ${last.errorPct.toFixed(1)}% errors · p50 ${ms(last.p50 * 1000)} · p99 ${ms(last.p99 * 1000)}` : '-'}</p>
        <${Chart} title="requests/s and % errors (10 s window)" points=${points} series=${[{ label: 'req/s', value: (p) => p.rps }, { label: '% errors', value: (p) => p.errorPct }]} />
        <${Chart} title="latency, ms" points=${points} series=${[{ label: 'p50', value: (p) => (p.p50 ?? null) && p.p50 * 1000 }, { label: 'p99', value: (p) => (p.p99 ?? null) && p.p99 * 1000 }]} />
      </div>`;
    })}
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));

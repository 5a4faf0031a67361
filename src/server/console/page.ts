/**
 * The console page: HTML, CSS and script in one string (no build step, no CDN). The script polls
 * /console/api/overview every 2 s, keeps 5 minutes of samples per connector and draws throughput and lag charts on
 * canvases; buttons call the Kafka Connect REST routes; the SQL box posts to /ksql. All text reaches the DOM through
 * textContent (never innerHTML with data). A token, when the server wants one, is kept in sessionStorage.
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tributary console</title>
<style>
  :root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --mute:#6b7385; --line:#e2e5eb; --run:#1f9d55; --pause:#c98a00; --fail:#d43b3b; --stop:#6b7385; --accent:#2f6fde; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#111826; color:#fff; }
  header h1 { font-size:17px; margin:0; font-weight:600; }
  header .meta { color:#aab3c5; font-size:12px; margin-left:auto; }
  main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px 20px; }
  @media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
  section.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; margin-bottom:16px; }
  h2 { font-size:15px; margin:0 0 10px; }
  h3 { font-size:14px; margin:0; }
  .conn { border-top:1px solid var(--line); padding:12px 0; }
  .conn:first-of-type { border-top:0; }
  .row { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; background:var(--stop); }
  .badge.RUNNING { background:var(--run); } .badge.PAUSED { background:var(--pause); } .badge.FAILED { background:var(--fail); }
  .badge.RESTARTING, .badge.UNASSIGNED { background:var(--accent); }
  .cls { color:var(--mute); font-size:12px; min-width:0; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
  .row.head { flex-wrap:nowrap; }
  .row.head h3 { white-space:nowrap; }
  .spacer { flex:1; }
  button { font:inherit; padding:4px 10px; border:1px solid var(--line); border-radius:6px; background:#fff; cursor:pointer; }
  button:hover { border-color:var(--accent); }
  button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
  .stats { display:grid; grid-template-columns: repeat(auto-fill, minmax(100px,1fr)); gap:6px 12px; margin:8px 0; font-size:12px; }
  .stats b { display:block; font-size:15px; }
  canvas { width:100%; height:120px; border:1px solid var(--line); border-radius:6px; background:#fcfcfd; }
  .progress { height:10px; background:var(--line); border-radius:5px; overflow:hidden; margin:4px 0; }
  .progress > div { height:100%; background:var(--accent); width:0; transition:width .5s; }
  details { margin-top:6px; }
  pre, textarea, .mono { font:12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { background:#f3f4f7; padding:8px; border-radius:6px; overflow:auto; max-height:300px; margin:6px 0 0; white-space:pre-wrap; word-break:break-all; }
  textarea { width:100%; min-height:90px; padding:8px; border:1px solid var(--line); border-radius:6px; }
  table { width:100%; border-collapse:collapse; font-size:12px; }
  td, th { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
  td.mono { word-break:break-all; }
  td.nowrap { white-space:nowrap; word-break:normal; }
  .actions { display:flex; gap:8px; flex-wrap:nowrap; }
  #sql-out { margin-top:6px; max-height:340px; overflow:auto; }
  #sql-out table { margin-bottom:6px; }
  #sql-out td { word-break:normal; overflow-wrap:break-word; }
  .clamp { display:-webkit-box; -webkit-line-clamp:3; -webkit-box-orient:vertical; overflow:hidden; cursor:pointer; }
  .clamp.open { display:block; }
  select, input { font:inherit; padding:4px 6px; border:1px solid var(--line); border-radius:6px; }
  .err { color:var(--fail); }
  .muted { color:var(--mute); }
  #login { display:none; }
</style>
</head>
<body>
<header><h1>Tributary</h1><span id="summary" class="meta"></span></header>
<main>
  <div>
    <section class="card" id="login">
      <h2>API token</h2>
      <p class="muted">This server requires a token. It is kept in this browser tab only.</p>
      <div class="row"><input id="token" type="password" size="40" placeholder="Bearer token"><button class="primary" id="token-save">Use token</button></div>
    </section>
    <section class="card">
      <h2>Connectors</h2>
      <div id="connectors"><p class="muted">Loading…</p></div>
    </section>
  </div>
  <div>
    <section class="card">
      <h2>SQL</h2>
      <textarea id="sql" spellcheck="false">SHOW CONNECTORS;</textarea>
      <div class="row" style="margin-top:6px"><button class="primary" id="sql-run">Run</button><span class="muted">Ctrl+Enter</span></div>
      <div id="sql-out" class="muted">Results appear here.</div>
    </section>
    <section class="card">
      <h2>Topic viewer</h2>
      <div class="row"><select id="topic"></select><button id="topic-refresh">Latest records</button><label class="muted"><input type="checkbox" id="topic-follow"> follow</label></div>
      <div id="records" style="margin-top:8px"></div>
    </section>
  </div>
</main>
<script>
(() => {
  'use strict';
  const WINDOW_MS = 5 * 60 * 1000;
  const history = new Map(); // connector -> [{t, written, bytes, lagBytes, lagMs}]
  const ui = new Map();      // connector -> {root, ...elements}
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const token = () => sessionStorage.getItem('tributary.token') || '';
  async function call(method, path, body) {
    const headers = {};
    if (token()) headers.authorization = 'Bearer ' + token();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401) { $('login').style.display = 'block'; throw new Error('a token is required'); }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    if (!r.ok) throw new Error((data && data.message) || ('HTTP ' + r.status));
    return data;
  }
  $('token-save').addEventListener('click', () => { sessionStorage.setItem('tributary.token', $('token').value.trim()); $('login').style.display = 'none'; refresh(); loadTopics(); });

  const fmt = (n) => n >= 1e9 ? (n / 1e9).toFixed(1) + 'G' : n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e3 ? (n / 1e3).toFixed(1) + 'k' : String(Math.round(n * 10) / 10);
  const sumField = (c, f) => c.source.reduce((n, s) => n + (typeof s[f] === 'number' ? s[f] : 0), 0);
  const hasField = (c, f) => c.source.some((s) => typeof s[f] === 'number');

  function rates(h) {
    const out = [];
    for (let i = 1; i < h.length; i++) {
      const dt = (h[i].t - h[i - 1].t) / 1000;
      const d = h[i].written - h[i - 1].written;
      out.push({ t: h[i].t, v: dt > 0 && d >= 0 ? d / dt : 0 });
    }
    return out;
  }

  // The time axis spans from the oldest sample shown (at least 10 s, at most WINDOW_MS) to now, so a freshly opened
  // console draws a full-width line after a few polls. What was drawn is also left on the canvas as data-*
  // attributes (points, last value, scale, time of drawing) for tests and for anyone inspecting the page.
  function draw(canvas, series, now) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== w * dpr || canvas.height !== h * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 44, r: 8, t: 18, b: 16 };
    let max = 1, first = now;
    for (const s of series) for (const p of s.points) { max = Math.max(max, p.v); first = Math.min(first, p.t); }
    max = niceCeil(max);
    const span = Math.min(WINDOW_MS, Math.max(10000, now - first));
    g.font = '10px system-ui'; g.fillStyle = '#6b7385'; g.strokeStyle = '#e2e5eb'; g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad.t + (h - pad.t - pad.b) * (1 - i / 2);
      g.beginPath(); g.moveTo(pad.l, y); g.lineTo(w - pad.r, y); g.stroke();
      g.fillText(fmt(max * i / 2), 4, y + 3);
    }
    g.fillText('-' + fmtSpan(span), pad.l, h - 3); g.fillText('now', w - pad.r - 18, h - 3);
    const x = (t) => pad.l + (w - pad.l - pad.r) * (1 - (now - t) / span);
    const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
    series.forEach((s, i) => {
      const pts = s.points.filter((p) => now - p.t <= span);
      g.fillStyle = s.color; g.fillText(s.label, pad.l + 6 + i * 150, 11);
      if (!pts.length) return;
      g.beginPath();
      pts.forEach((p, j) => (j ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
      g.lineTo(x(pts[pts.length - 1].t), y(0)); g.lineTo(x(pts[0].t), y(0)); g.closePath();
      g.globalAlpha = 0.12; g.fill(); g.globalAlpha = 1;
      g.strokeStyle = s.color; g.lineWidth = 1.5; g.beginPath();
      pts.forEach((p, j) => (j ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
      g.stroke();
      const lp = pts[pts.length - 1];
      g.beginPath(); g.arc(x(lp.t), y(lp.v), 2.5, 0, 2 * Math.PI); g.fill();
    });
    const main = series[0] ? series[0].points : [];
    canvas.dataset.points = String(main.length);
    canvas.dataset.last = main.length ? String(Math.round(main[main.length - 1].v * 100) / 100) : '';
    canvas.dataset.max = String(max);
    canvas.dataset.drawnAt = String(now);
  }
  const niceCeil = (v) => { const e = Math.pow(10, Math.floor(Math.log10(v))); for (const m of [1, 2, 5, 10]) if (v <= m * e) return m * e; return 10 * e; };
  const fmtSpan = (ms) => ms >= 60000 ? (Math.round(ms / 6000) / 10) + ' min' : Math.round(ms / 1000) + ' s';

  function connectorUi(c) {
    let u = ui.get(c.name);
    if (u) return u;
    const act = (what) => async () => {
      try {
        const path = '/connectors/' + encodeURIComponent(c.name) + (what === 'restart' ? '/restart?includeTasks=true' : '/' + what);
        await call(what === 'restart' ? 'POST' : 'PUT', path);
        refresh();
      } catch (e) { u.msg.textContent = String(e.message || e); }
    };
    u = {
      badge: el('span', { class: 'badge' }),
      tasks: el('span', { class: 'row' }),
      stats: el('div', { class: 'stats' }),
      chart: el('canvas', { 'data-chart': 'throughput' }),
      lagChart: el('canvas', { 'data-chart': 'lag', style: 'display:none;margin-top:6px' }),
      snapshot: el('div'),
      trace: el('pre', { class: 'err', style: 'display:none' }),
      config: el('pre'),
      msg: el('span', { class: 'err' }),
    };
    u.root = el('div', { class: 'conn', 'data-connector': c.name },
      el('div', { class: 'row head' },
        el('h3', { text: c.name }), u.badge, el('span', { class: 'cls', title: c.class, text: c.class }), el('span', { class: 'spacer' }),
        el('span', { class: 'actions' },
          el('button', { 'data-action': 'pause', onclick: act('pause'), text: 'Pause' }),
          el('button', { 'data-action': 'resume', onclick: act('resume'), text: 'Resume' }),
          el('button', { 'data-action': 'restart', onclick: act('restart'), text: 'Restart' }))),
      el('div', { class: 'row' }, el('span', { class: 'muted', text: 'Tasks:' }), u.tasks, u.msg),
      u.stats, u.snapshot, u.chart, u.lagChart, u.trace,
      el('details', {}, el('summary', { text: 'Configuration (secrets masked)' }), u.config));
    ui.set(c.name, u);
    return u;
  }

  function render(data) {
    const box = $('connectors');
    const names = new Set(data.connectors.map((c) => c.name));
    for (const [n, u] of ui) if (!names.has(n)) { u.root.remove(); ui.delete(n); history.delete(n); }
    if (!data.connectors.length) { box.replaceChildren(el('p', { class: 'muted', text: 'No connectors yet. Create one with CREATE SOURCE CONNECTOR in the SQL box, or POST /connectors.' })); }
    else if (box.querySelector('p.muted')) box.replaceChildren();
    const running = data.connectors.filter((c) => c.state === 'RUNNING').length;
    $('summary').textContent = 'v' + data.version + ' · ' + data.connectors.length + ' connectors, ' + running + ' running · ' + new Date(data.time).toLocaleTimeString();
    for (const c of data.connectors) {
      const u = connectorUi(c);
      if (!u.root.isConnected) box.append(u.root);
      u.badge.className = 'badge ' + c.state; u.badge.textContent = c.state; u.root.dataset.state = c.state;
      u.tasks.replaceChildren(...(c.tasks.length ? c.tasks.map((t) => el('span', { class: 'badge ' + t.state, 'data-task': String(t.id), text: t.id + ': ' + t.state })) : [el('span', { class: 'muted', text: 'none' })]));
      const h = history.get(c.name) || [];
      h.push({ t: data.time, written: c.metrics.written, lagBytes: sumField(c, 'lagBytes'), lagMs: sumField(c, 'lagMs') });
      while (h.length && data.time - h[0].t > WINDOW_MS) h.shift();
      history.set(c.name, h);
      const r = rates(h);
      const last = r.length ? r[r.length - 1].v : 0;
      u.root.dataset.samples = String(r.length);
      const stat = (label, v) => el('div', {}, el('span', { class: 'muted', text: label }), el('b', { text: v }));
      const s = [stat('records/s', fmt(last)), stat('written', fmt(c.metrics.written)), stat('polled', fmt(c.metrics.polled)), stat('bytes written', fmt(c.metrics.bytesWritten)), stat('in flight', fmt(c.metrics.inflightRecords)), stat('failed', fmt(c.metrics.failed))];
      if (hasField(c, 'lagBytes')) s.push(stat('lag bytes', fmt(sumField(c, 'lagBytes'))));
      if (hasField(c, 'lagMs')) s.push(stat('lag ms', fmt(sumField(c, 'lagMs'))));
      u.stats.replaceChildren(...s);
      draw(u.chart, [{ label: 'records/s written', color: '#2f6fde', points: r }], data.time);
      if (hasField(c, 'lagBytes')) {
        u.lagChart.style.display = 'block';
        draw(u.lagChart, [{ label: 'lag bytes', color: '#c98a00', points: h.map((p) => ({ t: p.t, v: p.lagBytes })) }], data.time);
      }
      const snaps = c.source.filter((x) => x.snapshot && typeof x.snapshot === 'object');
      u.snapshot.replaceChildren(...snaps.map((x) => {
        const sp = x.snapshot;
        const pct = sp.rowsEstimated > 0 ? Math.min(100, 100 * sp.rowsDone / sp.rowsEstimated) : sp.tablesTotal > 0 ? 100 * sp.tablesDone / sp.tablesTotal : 0;
        const done = sp.tablesTotal > 0 && sp.tablesDone >= sp.tablesTotal;
        const bar = el('div'); bar.style.width = (done ? 100 : pct).toFixed(1) + '%';
        return el('div', { 'data-snapshot': String(x.task) },
          el('span', { class: 'muted', text: 'Snapshot task ' + x.task + ': ' + sp.tablesDone + '/' + sp.tablesTotal + ' tables, ' + fmt(sp.rowsDone) + (sp.rowsEstimated ? ' of ~' + fmt(sp.rowsEstimated) : '') + ' rows' + (done ? ' (done)' : '') }),
          el('div', { class: 'progress' }, bar));
      }));
      const traces = [c.trace, ...c.tasks.map((t) => t.trace)].filter(Boolean);
      u.trace.style.display = traces.length ? 'block' : 'none';
      u.trace.textContent = traces.join('\\n\\n');
      u.config.textContent = JSON.stringify(c.config, null, 2);
    }
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try { render(await call('GET', '/console/api/overview')); }
    catch (e) { $('summary').textContent = String(e.message || e); }
    finally { busy = false; }
  }

  // One block per entity of a /ksql answer: a table when the entity holds a list of rows (connectors, plugins,
  // topics…), else its JSON; the whole answer stays readable as JSON below.
  // Text with line-break opportunities after . _ / , (as <wbr>, so copying it gives the text unchanged).
  const breakable = (t) => t.split(/(?<=[._\/,])/).flatMap((part, i) => (i ? [el('wbr'), part] : [part]));
  function renderEntities(res) {
    const cell = (v) => v === null || v === undefined ? '' : Array.isArray(v) ? v.map((x) => x && typeof x === 'object' ? Object.values(x).join(': ') : String(x)).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const blocks = (Array.isArray(res) ? res : [res]).map((e) => {
      if (!e || typeof e !== 'object') return el('pre', { text: JSON.stringify(e, null, 2) });
      const list = Object.values(e).find((v) => Array.isArray(v) && v.every((x) => x && typeof x === 'object' && !Array.isArray(x)));
      const head = e.statementText ? [el('div', { class: 'muted mono', text: e.statementText })] : [];
      if (!list) return el('div', { 'data-entity': String(e['@type'] || '') }, ...head, el('pre', { text: JSON.stringify(e, null, 2) }));
      const cols = [...new Set(list.flatMap((r) => Object.keys(r)))];
      return el('div', { 'data-entity': String(e['@type'] || '') }, ...head, list.length
        ? el('table', {}, el('tr', {}, ...cols.map((c) => el('th', { text: c }))), ...list.map((r) => el('tr', {}, ...cols.map((c) => el('td', { class: 'mono', 'data-col': c }, ...breakable(cell(r[c])))))))
        : el('p', { class: 'muted', text: 'No rows.' }));
    });
    blocks.push(el('details', {}, el('summary', { class: 'muted', text: 'JSON' }), el('pre', { 'data-json': '', text: JSON.stringify(res, null, 2) })));
    return blocks;
  }

  async function runSql() {
    const out = $('sql-out');
    out.className = 'muted'; out.textContent = 'Running…';
    try {
      const res = await call('POST', '/ksql', { ksql: $('sql').value });
      out.className = ''; out.replaceChildren(...renderEntities(res));
      refresh(); loadTopics();
    } catch (e) { out.className = 'err'; out.textContent = String(e.message || e); }
  }
  $('sql-run').addEventListener('click', runSql);
  $('sql').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runSql(); } });

  async function loadTopics() {
    try {
      const topics = await call('GET', '/console/api/topics');
      const sel = $('topic'), cur = sel.value;
      sel.replaceChildren(...topics.map((t) => el('option', { value: t.name, text: t.name })));
      if (cur && topics.some((t) => t.name === cur)) sel.value = cur;
    } catch { /* shown by refresh */ }
  }
  async function loadRecords() {
    const t = $('topic').value;
    if (!t) return;
    try {
      const res = await call('GET', '/console/api/topics/' + encodeURIComponent(t) + '/latest?n=20');
      const rows = res.records.slice().reverse().map((r) => el('tr', {},
        el('td', { class: 'mono nowrap', text: r.partition + '/' + r.offset }),
        el('td', { class: 'mono nowrap', title: new Date(r.timestamp).toISOString(), text: new Date(r.timestamp).toISOString().slice(11, 23) }),
        el('td', { class: 'mono', text: r.key === null ? '∅' : r.key }),
        el('td', { class: 'mono' }, el('div', { class: 'clamp', title: 'click to show all / less', onclick: (e) => e.currentTarget.classList.toggle('open'), text: r.value === null ? '∅ (tombstone)' : r.value }))));
      $('records').replaceChildren(rows.length ? el('table', {}, el('tr', {}, el('th', { text: 'p/offset' }), el('th', { text: 'time' }), el('th', { text: 'key' }), el('th', { text: 'value' })), ...rows) : el('p', { class: 'muted', text: 'No records.' }));
    } catch (e) { $('records').replaceChildren(el('p', { class: 'err', text: String(e.message || e) })); }
  }
  $('topic-refresh').addEventListener('click', loadRecords);
  $('topic').addEventListener('change', loadRecords);

  refresh(); loadTopics();
  setInterval(refresh, 2000);
  setInterval(() => { if ($('topic-follow').checked) loadRecords(); }, 2000);
  setInterval(loadTopics, 10000);
})();
</script>
</body>
</html>
`;

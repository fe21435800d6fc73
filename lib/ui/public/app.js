// deja ui's page (runs in the browser). Plain DOM and SVG, no framework and no network beyond this
// server's /api/. Every value from the server (ids, payloads, filters, messages) reaches the page
// through textContent, setAttribute on fixed attribute names, or SVG text nodes: never as markup.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const app = document.getElementById('app');
  let token = sessionStorage.getItem('deja-token') || '';
  let info = null;
  let refreshTimer = null;
  // Each route() starts a generation: an answer that arrives after the user moved on is dropped.
  let generation = 0;

  // The printed URL carries ?token=…: keep it for this tab and take it out of the address bar.
  const given = new URLSearchParams(location.search).get('token');
  if (given) {
    token = given;
    sessionStorage.setItem('deja-token', token);
    history.replaceState(null, '', location.pathname + location.hash);
  }

  /** An element: attributes by name (never event handlers), children as nodes or text. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (/^on/i.test(k)) throw new Error('event handlers are added with addEventListener');
      el.setAttribute(k, String(v));
    }
  }
  function append(el, children) {
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
  }
  const json = (v) => (v === undefined ? 'undefined' : JSON.stringify(v, null, 2));
  const clear = (el) => { while (el.firstChild) el.removeChild(el.firstChild); };

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, body) {
    const headers = { Accept: 'application/json' };
    if (token) headers['X-Deja-Token'] = token;
    const init = { headers, cache: 'no-store' };
    if (body !== undefined) {
      init.method = 'POST';
      headers['Content-Type'] = 'application/json';
      headers['X-Deja-Request'] = '1';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data;
    try { data = await res.json(); } catch { data = { error: `HTTP ${res.status}` }; }
    if (!res.ok) throw new ApiError(res.status, data.error || `HTTP ${res.status}`);
    return data;
  }

  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().replace('T', ' ').replace('Z', '');
  }
  function fmtMs(ms) {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    if (ms < 3600000) return `${(ms / 60000).toFixed(1)} min`;
    return `${(ms / 3600000).toFixed(1)} h`;
  }
  const statusBadge = (status) => h('span', { class: `status status-${status}` }, status);
  const runHref = (workflowId, runId) => `#/run?${new URLSearchParams(runId ? { workflowId, runId } : { workflowId })}`;

  function showError(where, error) {
    if (error instanceof ApiError && error.status === 401) return showTokenForm(error.message);
    clear(where);
    where.appendChild(h('p', { class: 'error', role: 'alert' }, error.message || String(error)));
  }

  function showTokenForm(message) {
    stopRefresh();
    clear(app);
    const input = h('input', { type: 'password', id: 'token', placeholder: 'token', autocomplete: 'off' });
    const form = h('form', { class: 'card' }, h('p', {}, 'This server needs the token deja ui printed when it started.'), h('p', { class: 'error' }, message), input, ' ', h('button', { type: 'submit' }, 'Use token'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      token = input.value.trim();
      sessionStorage.setItem('deja-token', token);
      route();
    });
    app.appendChild(form);
  }

  function stopRefresh() {
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
  }

  // ── workflows list ─────────────────────────────────────────────────────────────────────────

  function listPage(params) {
    const query = params.get('query') || '';
    const tokens = [];
    let pageToken = '';
    const input = h('input', { type: 'text', id: 'filter', placeholder: "WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running'", spellcheck: 'false' });
    input.value = query;
    const live = h('input', { type: 'checkbox', id: 'live', checked: 'checked' });
    const prev = h('button', { type: 'button', id: 'prev' }, '← Newer');
    const next = h('button', { type: 'button', id: 'next' }, 'Older →');
    const form = h('form', { class: 'toolbar' }, input, h('button', { type: 'submit' }, 'Filter'), h('label', {}, live, ' live'), prev, next);
    const body = h('div', { id: 'workflows-body' });
    clear(app);
    app.append(h('h1', {}, 'Workflows'), h('div', { class: 'card' }, form, body));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      location.hash = `#/?${new URLSearchParams({ query: input.value })}`;
    });
    let nextToken;
    const mine = generation;
    async function load() {
      try {
        const q = new URLSearchParams({ pageSize: '20' });
        if (query) q.set('query', query);
        if (pageToken) q.set('pageToken', pageToken);
        const page = await api(`/api/workflows?${q}`);
        if (mine !== generation) return;
        nextToken = page.nextPageToken;
        next.disabled = !nextToken;
        prev.disabled = tokens.length === 0;
        renderRows(body, page.executions);
      } catch (error) {
        showError(body, error);
      }
    }
    next.addEventListener('click', () => { if (nextToken) { tokens.push(pageToken); pageToken = nextToken; load(); } });
    prev.addEventListener('click', () => { if (tokens.length) { pageToken = tokens.pop(); load(); } });
    live.addEventListener('change', () => (live.checked ? start() : stopRefresh()));
    function start() { stopRefresh(); refreshTimer = setInterval(load, 2000); }
    start();
    load();
  }

  function renderRows(body, rows) {
    clear(body);
    if (rows.length === 0) return body.appendChild(h('p', { class: 'muted' }, 'No workflow runs match.'));
    const tbody = h('tbody');
    for (const r of rows) {
      tbody.appendChild(h('tr', { 'data-workflow-id': r.workflowId },
        h('td', { class: 'mono' }, h('a', { href: runHref(r.workflowId, r.runId) }, r.workflowId)),
        h('td', {}, r.workflowType),
        h('td', {}, statusBadge(r.status)),
        h('td', { class: 'mono' }, fmtTime(r.startTime)),
        h('td', { class: 'mono' }, fmtTime(r.closeTime)),
        h('td', { class: 'mono muted' }, r.runId)));
    }
    body.appendChild(h('table', { id: 'workflows' }, h('thead', {}, h('tr', {}, ['Workflow id', 'Type', 'Status', 'Started', 'Closed', 'Run id'].map((t) => h('th', {}, t)))), tbody));
  }

  // ── one run ────────────────────────────────────────────────────────────────────────────────

  async function runPage(params) {
    const workflowId = params.get('workflowId');
    const runId = params.get('runId');
    let selected = null;
    const mine = generation;
    async function load(first) {
      try {
        const q = new URLSearchParams({ workflowId });
        if (runId) q.set('runId', runId);
        const view = await api(`/api/run?${q}`);
        if (mine !== generation) return;
        const keep = window.scrollY;
        renderRun(view, { actions: info.actions, selected, onSelect: (id) => (selected = id) });
        if (!first) window.scrollTo(0, keep);
        if (view.summary.status !== 'running') stopRefresh();
      } catch (error) {
        if (mine !== generation) return;
        stopRefresh();
        showError(app, error);
      }
    }
    stopRefresh();
    await load(true);
    if (!refreshTimer && document.querySelector('[data-status="running"]')) refreshTimer = setInterval(() => load(false), 2000);
  }

  async function filePage() {
    try {
      const view = await api('/api/file');
      renderRun(view, { actions: false, selected: view.verdict && view.verdict.eventId, onSelect: () => {} });
    } catch (error) {
      showError(app, error);
    }
  }

  function renderRun(view, opts) {
    const { summary: sm, timeline: tl, events, verdict } = view;
    clear(app);
    const detail = h('pre', { id: 'event-json' }, 'Click or hover an event, a bar or a mark to see its JSON.');
    const byId = new Map(events.map((e) => [e.eventId, e]));
    const rows = new Map();
    function select(eventId, scroll) {
      const e = byId.get(eventId);
      if (!e) return;
      opts.onSelect(eventId);
      detail.textContent = json(e);
      for (const [id, tr] of rows) tr.classList.toggle('selected', id === eventId);
      if (scroll) rows.get(eventId)?.scrollIntoView({ block: 'nearest' });
    }

    app.appendChild(h('h1', {}, sm.workflowId, ' ', h('span', { 'data-status': sm.status }, statusBadge(sm.status))));
    if (verdict) app.appendChild(verdictCard(verdict, byId, select));
    app.appendChild(summaryCard(sm));
    if (opts.actions && sm.status === 'running') app.appendChild(actionsCard(sm));

    const timelineCard = h('div', { class: 'card', id: 'timeline' }, h('h2', {}, 'Timeline'), h('div', { class: 'timeline-wrap' }, drawTimeline(tl, byId, select, verdict)), legend());
    const list = eventList(events, rows, select, verdict);
    app.appendChild(timelineCard);
    app.appendChild(h('div', { class: 'split' }, h('div', { class: 'card' }, h('h2', {}, `Events (${events.length})`), list), h('div', { class: 'card' }, h('h2', {}, 'Event'), detail)));
    if (opts.selected) select(opts.selected, true);
  }

  function kv(pairs) {
    return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  function summaryCard(sm) {
    const card = h('div', { class: 'card', id: 'summary' }, h('h2', {}, 'Summary'));
    const parent = sm.parent ? h('a', { href: runHref(sm.parent.workflowId, sm.parent.runId) }, `${sm.parent.workflowId} (run ${sm.parent.runId})`) : undefined;
    const facts = kv([
      ['type', sm.workflowType], ['run id', h('span', { class: 'mono' }, sm.runId)], ['task queue', sm.taskQueue],
      ['status', statusBadge(sm.status)], ['started', fmtTime(sm.startTime)], ['closed', sm.closeTime ? fmtTime(sm.closeTime) : undefined],
      ['duration', sm.closeTime ? fmtMs(Date.parse(sm.closeTime) - Date.parse(sm.startTime)) : undefined],
      ['parent', parent], ['reason', sm.reason], ['next run', sm.newExecutionRunId ? h('a', { href: runHref(sm.workflowId, sm.newExecutionRunId) }, sm.newExecutionRunId) : undefined],
      ['events', String(sm.eventCount)],
    ]);
    const outcome = h('div', {});
    card.appendChild(h('div', { class: 'summary-grid' }, facts, outcome));
    outcome.appendChild(h('details', {}, h('summary', {}, `Input (${sm.input.length} argument${sm.input.length === 1 ? '' : 's'})`), h('pre', { class: 'input' }, json(sm.input))));
    if (sm.status === 'completed') outcome.append(h('h2', {}, 'Result'), h('pre', { id: 'result' }, json(sm.result)));
    if (sm.failure) {
      outcome.appendChild(h('div', { class: 'card failure', id: 'failure' },
        h('strong', {}, `${sm.failure.type || sm.failure.kind}: `), h('span', { class: 'failure-message' }, sm.failure.message),
        h('ol', {}, sm.failure.chain.map((f, i) => h('li', { class: i === 0 ? 'failure-top' : 'cause' }, h('span', { class: 'muted' }, `${i === 0 ? '' : 'caused by '}${f.kind}${f.type ? ` ${f.type}` : ''}: `), f.message)))));
    }
    if (Object.keys(sm.searchAttributes).length) outcome.append(h('h2', {}, 'Search attributes'), h('pre', { id: 'search-attributes' }, json(sm.searchAttributes)));
    if (Object.keys(sm.memo).length) outcome.append(h('h2', {}, 'Memo'), h('pre', { id: 'memo' }, json(sm.memo)));
    if (sm.pendingActivities.length) {
      outcome.append(h('h2', {}, 'Pending activities'), h('ul', { id: 'pending-activities' }, sm.pendingActivities.map((a) => h('li', {}, `${a.activityType} (${a.activityId}), scheduled ${fmtTime(a.scheduledTime)}${a.cancelRequested ? ', cancel requested' : ''}`))));
    }
    if (sm.pendingTimers.length) {
      outcome.append(h('h2', {}, 'Pending timers'), h('ul', { id: 'pending-timers' }, sm.pendingTimers.map((t) => h('li', {}, `timer ${t.timerId}: fires ${fmtTime(t.fireTime)}`))));
    }
    if (sm.children.length) {
      outcome.append(h('h2', {}, 'Children'), h('ul', { id: 'children' }, sm.children.map((c) => h('li', {}, h('a', { href: runHref(c.workflowId, c.runId) }, c.workflowId), ` ${c.workflowType} `, statusBadge(c.status)))));
    }
    if (sm.signals.length) {
      outcome.append(h('h2', {}, 'Signals'), h('ul', { id: 'signals' }, sm.signals.map((x) => h('li', {}, `${x.name} at ${fmtTime(x.time)} (event ${x.eventId})`))));
    }
    return card;
  }

  function verdictCard(v, byId, select) {
    if (v.ok) return h('div', { class: 'card verdict verdict-ok', id: 'verdict', 'data-ok': 'true' }, h('strong', {}, 'Replays deterministically'), ` against ${v.workflowsPath}`);
    const card = h('div', { class: 'card verdict verdict-bad', id: 'verdict', 'data-ok': 'false', 'data-event-id': v.eventId },
      h('strong', {}, v.eventId ? `Diverged at event ${v.eventId}` : 'Replay failed'), ` against ${v.workflowsPath}`,
      h('p', { class: 'error' }, `${v.error.name}: ${v.error.message}`));
    if (v.eventId) {
      const go = h('button', { type: 'button' }, `Show event ${v.eventId}`);
      go.addEventListener('click', () => select(v.eventId, true));
      card.appendChild(go);
    }
    const recorded = v.recorded !== undefined ? v.recorded : v.eventId ? byId.get(v.eventId) : undefined;
    card.appendChild(h('div', { class: 'split' },
      h('div', {}, h('h2', {}, 'History recorded'), h('pre', { id: 'verdict-recorded' }, recorded === undefined ? '(nothing)' : json(recorded))),
      h('div', {}, h('h2', {}, 'The code emitted'), h('pre', { id: 'verdict-emitted' }, v.emitted === undefined ? '(nothing)' : json(v.emitted)))));
    return card;
  }

  function actionsCard(sm) {
    const card = h('div', { class: 'card', id: 'actions' }, h('h2', {}, 'Actions'));
    const signalName = h('input', { type: 'text', id: 'signal-name', placeholder: 'signal name' });
    const signalArgs = h('input', { type: 'text', id: 'signal-args', placeholder: 'args as a JSON array: ["x"]' });
    const reason = h('input', { type: 'text', id: 'reason', placeholder: 'reason (cancel, terminate)' });
    const sig = h('button', { type: 'button', id: 'do-signal' }, 'Signal…');
    const can = h('button', { type: 'button', id: 'do-cancel' }, 'Cancel…');
    const term = h('button', { type: 'button', id: 'do-terminate', class: 'danger' }, 'Terminate…');
    const out = h('div', { id: 'action-result' });
    card.append(h('div', { class: 'actions' }, signalName, signalArgs, sig, reason, can, term), out);
    function confirmThen(what, body) {
      clear(out);
      const yes = h('button', { type: 'button', id: 'confirm-yes', class: 'danger' }, `Yes, ${what}`);
      const no = h('button', { type: 'button', id: 'confirm-no' }, 'No');
      const box = h('div', { class: 'card confirm', id: 'confirm' }, h('p', {}, `${what[0].toUpperCase()}${what.slice(1)} workflow `, h('strong', {}, sm.workflowId), ` (run ${sm.runId})?`), yes, ' ', no);
      out.appendChild(box);
      no.addEventListener('click', () => clear(out));
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        try {
          await api('/api/action', body);
          clear(out);
          out.appendChild(h('p', { class: 'muted', id: 'action-done' }, `${what}: done`));
          route();
        } catch (error) {
          showError(out, error);
        }
      });
    }
    sig.addEventListener('click', () => {
      let args = [];
      try {
        args = signalArgs.value.trim() ? JSON.parse(signalArgs.value) : [];
        if (!Array.isArray(args)) throw new Error('expected a JSON array');
      } catch (error) {
        return showError(out, new Error(`The arguments are not a JSON array (${error.message})`));
      }
      if (!signalName.value.trim()) return showError(out, new Error('A signal needs a name'));
      confirmThen(`signal ${signalName.value.trim()}`, { action: 'signal', workflowId: sm.workflowId, runId: sm.runId, signalName: signalName.value.trim(), args });
    });
    can.addEventListener('click', () => confirmThen('cancel', { action: 'cancel', workflowId: sm.workflowId, runId: sm.runId, reason: reason.value }));
    term.addEventListener('click', () => confirmThen('terminate', { action: 'terminate', workflowId: sm.workflowId, runId: sm.runId, reason: reason.value }));
    return card;
  }

  function eventList(events, rows, select, verdict) {
    const tbody = h('tbody');
    const t0 = events.length ? Date.parse(events[0].eventTime) : 0;
    for (const e of events) {
      const { eventId, eventTime, type, ...fields } = e;
      const diverged = verdict && !verdict.ok && verdict.eventId === eventId;
      const text = JSON.stringify(fields);
      const tr = h('tr', { class: `event-row${diverged ? ' diverged' : ''}`, 'data-event-id': eventId, 'data-type': type },
        h('td', { class: 'mono' }, String(eventId)),
        h('td', { class: 'mono muted' }, `+${fmtMs(Date.parse(eventTime) - t0)}`),
        h('td', {}, type, diverged ? h('strong', { class: 'error' }, ' ← diverged here') : undefined),
        h('td', { class: 'mono' }, text.length > 140 ? `${text.slice(0, 139)}…` : text));
      tr.addEventListener('click', () => select(eventId, false));
      rows.set(eventId, tr);
      tbody.appendChild(tr);
    }
    return h('div', { class: 'events' }, h('table', { id: 'events' }, h('thead', {}, h('tr', {}, ['Id', 'Time', 'Type', 'Fields'].map((x) => h('th', {}, x)))), tbody));
  }

  function legend() {
    const item = (color, text) => h('span', {}, h('i', { class: 'swatch', 'data-color': color }), text);
    const el = h('div', { class: 'legend' }, item('wait', 'scheduled, waiting'), item('retry', 'earlier attempts failed, retried'), item('run', 'running'), item('ok', 'completed / fired'), item('fail', 'failed / timed out'), h('span', {}, '│ workflow task'), h('span', {}, '◆ signal, update, cancel request'));
    const colors = { wait: '#b9c3d3', retry: '#e9a23b', run: '#2f6fdb', ok: '#1f9d55', fail: '#d33a3a' };
    for (const i of el.querySelectorAll('i')) i.style.background = colors[i.getAttribute('data-color')];
    return el;
  }

  // The timeline: a row of workflow tasks (ticks), a row of marks, then one lane per activity,
  // timer and child. Plain SVG, scaled to the run's first and last event.
  function drawTimeline(tl, byId, select, verdict) {
    const labelW = 260, plotW = Math.max(600, Math.min(1400, window.innerWidth - labelW - 250)), rowH = 26, top = 24;
    const lanesTop = top + 2 * rowH;
    const height = lanesTop + Math.max(1, tl.lanes.length) * rowH + 10;
    const span = Math.max(1, tl.end - tl.start);
    const x = (t) => labelW + ((t - tl.start) / span) * plotW;
    const svg = s('svg', { class: 'timeline', width: labelW + plotW + 150, height, role: 'img', 'aria-label': 'timeline' });
    const hook = (el, eventId) => {
      el.setAttribute('data-event-id', String(eventId));
      el.addEventListener('click', () => select(eventId, true));
      el.addEventListener('mouseenter', () => select(eventId, false));
      const e = byId.get(eventId);
      if (e) el.appendChild(s('title', {}, `#${eventId} ${e.type}`));
      return el;
    };
    for (let i = 0; i <= 5; i++) {
      const gx = labelW + (plotW * i) / 5;
      svg.appendChild(s('line', { class: 'grid', x1: gx, x2: gx, y1: top - 6, y2: height }));
      svg.appendChild(s('text', { class: 'axis', x: gx, y: 12, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' }, `+${fmtMs((span * i) / 5)}`));
    }
    const tasks = s('g', { class: 'ticks' }, s('text', { class: 'lane-label', x: 4, y: top + 16 }, 'workflow tasks'));
    // Thin ticks, as rects: a line has no area to hover or click.
    for (const t of tl.ticks) {
      const w = t.outcome === 'completed' ? 2 : 3;
      tasks.appendChild(hook(s('rect', { class: `tick tick-${t.outcome}`, x: x(t.time) - w / 2, y: top + 4, width: w, height: rowH - 8 }), t.eventId));
    }
    svg.appendChild(tasks);
    const marks = s('g', { class: 'marks' }, s('text', { class: 'lane-label', x: 4, y: top + rowH + 16 }, 'signals, updates, …'));
    for (const m of tl.marks) {
      const cx = x(m.time), cy = top + rowH + 12;
      marks.appendChild(hook(s('path', { class: `mark mark-${m.kind}`, 'data-kind': m.kind, d: `M${cx} ${cy - 7}L${cx + 6} ${cy}L${cx} ${cy + 7}L${cx - 6} ${cy}Z` }), m.eventId));
    }
    svg.appendChild(marks);
    tl.lanes.forEach((lane, i) => {
      const y = lanesTop + i * rowH;
      const g = s('g', { class: `lane outcome-${lane.bar.outcome}`, 'data-kind': lane.kind, 'data-lane': lane.id });
      const label = lane.label.length > 38 ? `${lane.label.slice(0, 37)}…` : lane.label;
      g.appendChild(s('text', { class: 'lane-label', x: 4, y: y + 16 }, s('title', {}, lane.label), label));
      const end = (seg) => (seg.end !== undefined ? seg.end : tl.end);
      lane.bar.segments.forEach((seg, j) => {
        const x1 = x(seg.start), w = Math.max(3, x(end(seg)) - x1);
        const rect = s('rect', { class: `seg seg-${seg.kind}`, x: x1, y: y + 5, width: w, height: rowH - 10, rx: 2 });
        // A segment's first event: the scheduling for the first, the start (or close) after.
        hook(rect, lane.bar.eventIds[Math.min(j, lane.bar.eventIds.length - 1)]);
        g.appendChild(rect);
      });
      if (lane.bar.attempt) {
        g.appendChild(s('text', { class: 'attempt-label', x: x(lane.bar.end !== undefined ? lane.bar.end : tl.end) + 4, y: y + 16 }, `attempt ${lane.bar.attempt}${lane.bar.attempt > 1 ? ` (${lane.bar.attempt - 1} retried)` : ''}`));
      }
      svg.appendChild(g);
    });
    if (verdict && !verdict.ok && verdict.eventId && byId.get(verdict.eventId)) {
      const dx = x(Date.parse(byId.get(verdict.eventId).eventTime));
      svg.appendChild(hook(s('line', { class: 'diverged-line', x1: dx, x2: dx, y1: top - 4, y2: height }), verdict.eventId));
      svg.appendChild(s('text', { class: 'diverged-label', x: Math.min(dx + 4, labelW + plotW - 150), y: height - 2 }, `diverged at event ${verdict.eventId}`));
    }
    return svg;
  }

  // ── routing ────────────────────────────────────────────────────────────────────────────────

  async function route() {
    generation++;
    stopRefresh();
    try {
      if (!info) info = await api('/api/info');
    } catch (error) {
      return showError(app, error);
    }
    document.getElementById('mode').textContent = info.mode === 'file' ? `history file ${info.file || ''}` : 'backend';
    if (info.mode === 'file') return filePage();
    const hash = location.hash.replace(/^#/, '') || '/';
    const [pathPart, queryPart] = hash.split('?');
    const params = new URLSearchParams(queryPart || '');
    if (pathPart === '/run' && params.get('workflowId')) return runPage(params);
    return listPage(params);
  }

  window.addEventListener('hashchange', route);
  route();
})();

// The web UI of `sluice server`: jobs, runs, logs, connections and their catalog, over the REST
// API (/api/v1). Plain ES module, no build step, nothing fetched from elsewhere. Every text from
// the server enters the DOM as a text node (el() below), never as HTML.

const TOKEN_KEY = 'sluice.token';
const EXAMPLE_JOB = `name: orders_to_warehouse
source: {type: file, path: /data/orders.csv, format: csv}
sink: {connection: warehouse, table: orders}
# schedule: {cron: "0 * * * *"}`;

// ----- DOM and formatting -----------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'testid') node.dataset.testid = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    if (typeof child === 'object' && !(child instanceof Node)) throw new Error(`el(${tag}): a child is an object`);
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const $ = (selector) => document.querySelector(selector);
// Replaces a node's children; like el(), skips null and false and flattens arrays.
const fill = (node, ...children) =>
  node.replaceChildren(...children.flat(Infinity).filter((child) => child != null && child !== false));
const link = (href, text, props = {}) => el('a', { href, ...props }, text);
const jobHref = (name) => `#/jobs/${encodeURIComponent(name)}`;
const runHref = (id) => `#/runs/${id}`;
const connectionHref = (name) => `#/connections/${encodeURIComponent(name)}`;
const ACTIVE = new Set(['queued', 'running']);

const count = (n) => (n == null ? '—' : Number(n).toLocaleString('en-US'));

function bytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function duration(seconds) {
  if (seconds == null) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// Local time as "2026-12-05 19:39:56", the ISO text in the tooltip.
function time(iso) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  return el('time', { dateTime: iso, title: iso }, new Date(iso).toLocaleString('sv-SE'));
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

const badge = (state, testid) =>
  el('span', { class: `badge state-${state.replace(/\W+/g, '-')}`, testid }, state.replace(/_/g, ' '));

function table(headers, rows, props = {}) {
  return el('table', props,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function section(title, ...children) {
  return el('section', { class: 'card' }, title ? el('h2', {}, title) : null, children);
}

// ----- API --------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body, contentType = 'application/json') {
  const headers = { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY) ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = contentType;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `Cannot reach the server (${error.message}).`);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401) {
    showSignIn('The server did not accept the token: paste a valid one.');
    throw new ApiError(401, data?.error?.message ?? 'unauthenticated');
  }
  if (!response.ok) throw new ApiError(response.status, data?.error?.message ?? `HTTP ${response.status}`);
  return data;
}

// Runs an action, then refreshes the view; its error stays above the view until the next action.
async function act(promise) {
  showBanner('', 'action');
  try {
    await promise;
  } catch (error) {
    if (error.status !== 401) showBanner(error.message, 'action');
  }
  poller.kick();
}

const startRun = (job, fresh) => act(api('POST', `/api/v1/jobs/${encodeURIComponent(job)}/runs`, fresh ? { fresh: true } : {}));
const stopRun = (id) => act(api('POST', `/api/v1/runs/${id}/stop`));
// Resuming starts a new run of the job: the view moves to it.
const resumeRun = (id) => act(api('POST', `/api/v1/runs/${id}/resume`).then((run) => { location.hash = runHref(run.id); }));

// ----- shared pieces ----------------------------------------------------------------------------

// The job's state: its active run's, else its last run's.
function jobState(job) {
  if (job.problem) return 'invalid';
  const last = job.last_run;
  if (job.running) return last && ACTIVE.has(last.state) ? last.state : 'running';
  return last ? last.state : 'never_run';
}

function jobActions(job) {
  const name = job.name;
  const active = job.last_run && ACTIVE.has(job.last_run.state) ? job.last_run : null;
  return el('div', { class: 'actions' },
    el('button', { testid: `start-${name}`, disabled: job.running, onclick: () => startRun(name, false) }, 'Start'),
    el('button', {
      testid: `resync-${name}`, disabled: job.running, title: 'Forget the progress and copy everything again',
      onclick: () => confirm(`Re-sync job "${name}" from scratch? Its earlier progress is forgotten.`) && startRun(name, true),
    }, 'Re-sync'),
    active ? el('button', { class: 'danger', testid: `stop-${name}`, onclick: () => stopRun(active.id) }, 'Stop') : null);
}

function scheduleText(schedule) {
  if (!schedule) return 'manual';
  const parts = [];
  if (schedule.cron) parts.push(`${schedule.cron} (${schedule.time_zone})`);
  if (schedule.after?.length) parts.push(`after ${schedule.after.join(', ')}`);
  return parts.join('; ') || 'manual';
}

function failureBlock(failure, testid) {
  if (!failure) return null;
  return el('div', { class: 'failure', testid },
    el('div', { class: 'failure-head' },
      el('span', { class: 'tag', testid: testid && `${testid}-origin` }, failure.origin),
      failure.table ? el('span', { class: 'tag' }, `table ${failure.table}`) : null,
      el('span', { class: 'muted' }, failure.retryable ? 'retryable' : 'not retryable')),
    el('div', { class: 'failure-message', testid: testid && `${testid}-message` }, failure.message));
}

function progress(live) {
  if (!live) return null;
  const fraction = live.fraction;
  return el('div', { class: 'live', testid: 'live' },
    el('span', { class: 'rate', testid: 'rows-per-second' }, `${count(Math.round(live.rows_per_second))} rows/s`),
    fraction == null ? el('span', { class: 'muted' }, 'size unknown')
      : el('div', { class: 'bar', title: `${(fraction * 100).toFixed(1)} %`, testid: 'progress' },
        el('div', { class: 'fill', style: `width: ${Math.min(100, fraction * 100).toFixed(1)}%` })),
    fraction == null ? null : el('span', {}, `${(fraction * 100).toFixed(1)} %`));
}

function tablesTable(tables) {
  if (!tables?.length) return el('p', { class: 'empty' }, 'No table figures yet.');
  return table(['Table', 'Rows read', 'Rows written', 'Bytes read', 'Bytes written', 'Lag rows', 'Lag bytes'],
    tables.map((t) => el('tr', { testid: `table-row-${t.table}` },
      el('td', {}, t.table),
      el('td', { class: 'num', testid: `rows-read-${t.table}` }, count(t.rows_read)),
      el('td', { class: 'num', testid: `rows-written-${t.table}` }, count(t.rows_written)),
      el('td', { class: 'num' }, bytes(t.bytes_read)),
      el('td', { class: 'num' }, bytes(t.bytes_written)),
      el('td', { class: 'num' }, count(t.lag_rows)),
      el('td', { class: 'num' }, t.lag_bytes == null ? '—' : bytes(t.lag_bytes)))), { testid: 'tables' });
}

function stat(label, value, testid) {
  return el('div', { class: 'stat' }, el('div', { class: 'label' }, label), el('div', { class: 'value', testid }, value));
}

// ----- views ------------------------------------------------------------------------------------
// A view builds its fixed parts once and returns refresh(), which fetches and redraws the rest
// and says whether something is running (then it is polled every second).

function jobsView(main) {
  const list = el('div', { testid: 'jobs' });
  const yaml = el('textarea', { rows: 7, spellcheck: false, placeholder: EXAMPLE_JOB, testid: 'new-job-yaml' });
  const error = el('pre', { class: 'error-box', hidden: true, testid: 'new-job-error' });
  const notice = el('span', { class: 'notice', testid: 'new-job-notice' });
  const create = el('button', { class: 'primary', testid: 'new-job-create' }, 'Create job');
  create.addEventListener('click', async () => {
    error.hidden = true;
    notice.textContent = '';
    create.disabled = true;
    try {
      const job = await api('POST', '/api/v1/jobs', yaml.value, 'application/yaml');
      yaml.value = '';
      notice.textContent = `Created job ${job.name}.`;
      poller.kick();
    } catch (e) {
      if (e.status !== 401) { error.textContent = e.message; error.hidden = false; }
    } finally {
      create.disabled = false;
    }
  });
  main.append(el('h1', {}, 'Jobs'), list,
    section('New job',
      el('p', { class: 'muted' }, 'The YAML of ', el('code', {}, 'sluice run'),
        '; a source or sink may name a connection (', el('code', {}, 'connection: NAME'), ').'),
      yaml, el('div', { class: 'row' }, create, notice), error));

  return async () => {
    const { jobs } = await api('GET', '/api/v1/jobs');
    fill(list, jobs.length === 0 ? el('p', { class: 'empty card' }, 'No jobs yet: create one below.')
      : table(['Job', 'State', 'Source → sink', 'Schedule', 'Last run', ''], jobs.map((job) => {
        const last = job.last_run;
        return el('tr', { testid: `job-row-${job.name}` },
          el('td', {}, link(jobHref(job.name), job.name, { class: 'strong', testid: `job-link-${job.name}` }),
            job.problem ? el('div', { class: 'error small' }, job.problem) : null),
          el('td', {}, badge(jobState(job), `job-state-${job.name}`)),
          el('td', {}, job.source ?? '?', el('span', { class: 'arrow' }, ' → '), job.sink ?? '?',
            job.connections?.length ? el('div', { class: 'muted small' }, job.connections.join(', ')) : null),
          el('td', {}, scheduleText(job.schedule),
            job.schedule?.next_fire ? el('div', { class: 'muted small' }, 'next ', time(job.schedule.next_fire)) : null),
          el('td', { testid: `job-last-${job.name}` }, last ? [
            link(runHref(last.id), `#${last.id}`), ' ', `${count(last.rows_written)} rows`, ' · ', duration(last.duration_seconds),
            el('div', { class: 'muted small' }, ago(last.ended_at ?? last.started_at ?? last.queued_at)),
            last.failure
              ? el('div', { class: 'error small clip', title: last.failure.message }, `${last.failure.origin}: ${last.failure.message}`)
              : null]
            : el('span', { class: 'muted' }, '—')),
          el('td', {}, jobActions(job)));
      }), { class: 'jobs' }));
    return jobs.some((job) => job.running || ACTIVE.has(job.last_run?.state));
  };
}

function jobView(main, name) {
  const head = el('div', { class: 'page-head' });
  const body = el('div');
  main.append(el('div', { class: 'crumbs' }, link('#/jobs', 'Jobs'), ' / ', name), head, body);
  const path = encodeURIComponent(name);
  return async () => {
    const [job, status, { runs }] = await Promise.all([
      api('GET', `/api/v1/jobs/${path}`), api('GET', `/api/v1/jobs/${path}/status`),
      api('GET', `/api/v1/runs?job=${path}&limit=50`)]);
    const run = status.run;
    fill(head, el('h1', {}, job.name), badge(jobState(job), 'job-state'), el('span', { class: 'spacer' }), jobActions(job));
    fill(body,
      job.problem ? el('div', { class: 'error-box' }, job.problem) : null,
      el('div', { class: 'stats' },
        stat('Source → sink', `${job.source ?? '?'} → ${job.sink ?? '?'}`),
        stat('Connections', job.connections?.length ? job.connections.map((c, i) => [i ? ', ' : '', link(connectionHref(c), c)]) : '—'),
        stat('Schedule', scheduleText(job.schedule), 'job-schedule'),
        stat('Next fire', time(job.schedule?.next_fire))),
      section(run ? `Tables — run #${run.id} (${run.state})` : 'Tables',
        progress(run?.live), tablesTable(status.tables), failureBlock(run?.failure, 'job-failure')),
      section('Runs', runs.length === 0 ? el('p', { class: 'empty' }, 'Never run.')
        : table(['Run', 'State', 'Trigger', 'Started', 'Duration', 'Rows written', 'Failure'], runs.map((r) =>
          el('tr', { testid: `run-row-${r.id}` },
            el('td', {}, link(runHref(r.id), `#${r.id}`, { testid: `run-link-${r.id}` })),
            el('td', {}, badge(r.state, `run-state-${r.id}`)),
            el('td', {}, r.trigger, r.fresh ? ' (re-sync)' : '', r.resumed ? ' (resumed)' : ''),
            el('td', {}, time(r.started_at)),
            el('td', { class: 'num' }, duration(r.duration_seconds)),
            el('td', { class: 'num' }, count(r.rows_written)),
            el('td', { class: 'failure-cell', testid: `run-failure-${r.id}` }, r.failure
              ? [el('span', { class: 'tag' }, r.failure.origin), r.failure.table ? el('span', { class: 'tag' }, r.failure.table) : null,
                r.failure.message, el('span', { class: 'muted' }, r.failure.retryable ? ' (retryable)' : '')] : ''))),
          { testid: 'runs' })),
      section('YAML', el('pre', { class: 'code', testid: 'job-yaml' }, job.yaml)));
    return job.running || ACTIVE.has(run?.state);
  };
}

function runView(main, id) {
  const head = el('div', { class: 'page-head' });
  const body = el('div');
  const crumbs = el('div', { class: 'crumbs' });
  main.append(crumbs, head, body);
  return async () => {
    const path = `/api/v1/runs/${encodeURIComponent(id)}`;
    const [run, { lines }] = await Promise.all([api('GET', path), api('GET', `${path}/logs`)]);
    const active = ACTIVE.has(run.state);
    // The log follows its tail unless the reader scrolled up.
    const oldLog = body.querySelector('.log');
    const followTail = !oldLog || oldLog.scrollTop + oldLog.clientHeight >= oldLog.scrollHeight - 4;
    fill(crumbs, link('#/jobs', 'Jobs'), ' / ', link(jobHref(run.job), run.job), ' / ', `run #${run.id}`);
    fill(head, el('h1', {}, `Run #${run.id}`), badge(run.state, 'run-state'), el('span', { class: 'spacer' }),
      active ? el('button', { class: 'danger', testid: 'run-stop', onclick: () => stopRun(run.id) }, 'Stop') : null,
      ['stopped', 'failed'].includes(run.state)
        ? el('button', { class: 'primary', testid: 'run-resume', onclick: () => resumeRun(run.id) }, 'Resume') : null);
    fill(body,
      el('div', { class: 'stats' },
        stat('Rows read', count(run.rows_read), 'run-rows-read'),
        stat('Rows written', count(run.rows_written), 'run-rows-written'),
        stat('Bytes read', bytes(run.bytes_read)),
        stat('Bytes written', bytes(run.bytes_written)),
        stat('Duration', duration(run.duration_seconds), 'run-duration'),
        stat('Trigger', `${run.trigger}${run.fresh ? ' (re-sync)' : ''}${run.resumed ? ' (resumed)' : ''}`),
        stat('Started', time(run.started_at)),
        stat('Ended', time(run.ended_at)),
        // The answer has trigger_to_first_row_seconds once the run ended; while it runs, from the times.
        stat('Time to first row', duration(run.trigger_to_first_row_seconds ?? (run.first_row_at && run.queued_at
          ? (Date.parse(run.first_row_at) - Date.parse(run.queued_at)) / 1000 : null)))),
      failureBlock(run.failure, 'run-failure'),
      section('Tables', progress(run.live), tablesTable(run.tables)),
      section(`Log${lines.length >= 1000 ? ' (last 1000 lines)' : ''}`, lines.length === 0
        ? el('p', { class: 'empty' }, active ? 'No log lines yet.' : 'No log lines.')
        : el('div', { class: 'log', testid: 'log' }, lines.map((line) =>
          el('div', { class: `log-line level-${line.level}`, testid: 'log-line' },
            el('span', { class: 'log-time', title: line.time }, line.time.slice(11, 23)),
            el('span', { class: 'log-level' }, line.level),
            el('span', { class: 'log-component' }, line.component),
            el('span', { class: 'log-message' }, line.message))))));
    const log = body.querySelector('.log');
    if (log) log.scrollTop = followTail ? log.scrollHeight : oldLog.scrollTop;
    return active;
  };
}

function optionsList(options) {
  const entries = Object.entries(options ?? {});
  if (entries.length === 0) return el('span', { class: 'muted' }, 'no options');
  return el('div', { class: 'options' }, entries.map(([key, value]) =>
    el('span', { class: 'option' }, el('span', { class: 'key' }, key), typeof value === 'string' ? value : JSON.stringify(value))));
}

// One stream and its schema; with the schema it had before its last change, the differences.
function streamCard(stream) {
  const schema = stream.schema ?? [];
  const previous = stream.previous_schema;
  const before = new Map((previous ?? []).map((column) => [column.name, column]));
  const yesNo = (nullable) => (nullable ? 'yes' : 'no');
  const row = (column, change, was = {}) => el('tr', { class: change, testid: `schema-${stream.stream}-${column.name}` },
    el('td', {}, column.name),
    el('td', {}, column.type, was.type ? el('span', { class: 'was' }, `was ${was.type}`) : null),
    el('td', {}, yesNo(column.nullable), was.nullable ? el('span', { class: 'was' }, `was ${was.nullable}`) : null),
    el('td', {}, change ? el('span', { class: `tag ${change}` }, change) : null));
  const rows = schema.map((column) => {
    const old = before.get(column.name);
    if (!previous) return row(column, '');
    if (!old) return row(column, 'added');
    const was = {
      type: old.type !== column.type ? old.type : null,
      nullable: old.nullable !== column.nullable ? yesNo(old.nullable) : null,
    };
    return row(column, was.type || was.nullable ? 'changed' : '', was);
  });
  const now = new Set(schema.map((column) => column.name));
  for (const old of before.values()) {
    if (!now.has(old.name)) rows.push(row(old, 'removed'));
  }
  return el('div', { class: `stream${stream.changed_at ? ' schema-changed' : ''}`, testid: `stream-${stream.stream}` },
    el('div', { class: 'stream-head' },
      el('h3', {}, stream.stream),
      stream.job ? el('span', { class: 'muted' }, 'job ', link(jobHref(stream.job), stream.job)) : null,
      el('span', { class: 'spacer' }),
      stream.changed_at
        ? el('span', { class: 'tag changed', testid: `stream-changed-${stream.stream}` }, 'schema changed ', time(stream.changed_at))
        : null,
      el('span', { class: 'muted small' }, 'discovered ', time(stream.discovered_at))),
    table(['Column', 'Type', 'Nullable', ''], rows, { class: 'schema' }));
}

function connectionsView(main) {
  const list = el('div');
  const catalog = el('div');
  main.append(el('h1', {}, 'Connections'), list,
    section('Catalog', el('p', { class: 'muted' }, 'Every stream the runs discovered, with its schema.'), catalog));
  return async () => {
    const [{ connections }, { streams }] = await Promise.all([api('GET', '/api/v1/connections'), api('GET', '/api/v1/catalog/streams')]);
    fill(list, connections.length === 0 ? el('p', { class: 'empty card' }, 'No connections yet (POST /api/v1/connections creates one).')
      : table(['Connection', 'Type', 'Options', 'Updated'], connections.map((c) =>
        el('tr', { testid: `connection-row-${c.name}` },
          el('td', {}, link(connectionHref(c.name), c.name, { class: 'strong', testid: `connection-link-${c.name}` })),
          el('td', {}, el('span', { class: 'tag' }, c.type)),
          el('td', { testid: `connection-options-${c.name}` }, optionsList(c.options)),
          el('td', {}, time(c.updated_at))))));
    const groups = new Map();
    for (const s of streams) groups.set(s.connection ?? '', [...(groups.get(s.connection ?? '') ?? []), s]);
    fill(catalog, streams.length === 0 ? el('p', { class: 'empty' }, 'No streams yet: they appear after a run.')
      : [...groups].map(([connection, items]) => el('div', { class: 'group' },
        el('h3', { class: 'group-title' }, connection
          ? link(connectionHref(connection), `Connection ${connection}`) : 'Files and other sources without a connection'),
        items.map(streamCard))));
    return false;
  };
}

function connectionView(main, name) {
  const body = el('div');
  main.append(el('div', { class: 'crumbs' }, link('#/connections', 'Connections'), ' / ', name), body);
  const path = encodeURIComponent(name);
  return async () => {
    const [c, { streams }] = await Promise.all([
      api('GET', `/api/v1/connections/${path}`), api('GET', `/api/v1/connections/${path}/streams`)]);
    fill(body,
      el('div', { class: 'page-head' }, el('h1', {}, c.name), el('span', { class: 'tag' }, c.type)),
      section('Options', el('div', { testid: 'connection-options' }, optionsList(c.options)),
        el('p', { class: 'muted small' }, 'Created ', time(c.created_at), ' · updated ', time(c.updated_at))),
      section('Streams', streams.length === 0 ? el('p', { class: 'empty' }, 'No streams discovered through this connection yet.')
        : streams.map(streamCard)));
    return false;
  };
}

// ----- alerts, sign-in, routing and polling -----------------------------------------------------

async function refreshAlerts() {
  const strip = $('#alerts');
  try {
    const { alerts } = await api('GET', '/api/v1/alerts');
    fill(strip, alerts.map((a) => el('div', { class: `alert ${a.state}`, testid: 'alert' },
      el('strong', {}, a.state), ` ${a.rule}`, a.job ? [' — job ', link(jobHref(a.job), a.job)] : '',
      a.table ? ` table ${a.table}` : '', el('span', { class: 'muted' }, ` (team ${a.team})`))));
    strip.hidden = alerts.length === 0;
  } catch {
    strip.hidden = true;
  }
}

// An error above the view: from the last refresh (gone once one succeeds) or the last action.
function showBanner(message, source = 'refresh') {
  const main = $('#main');
  main.querySelector(`.banner[data-source="${source}"]`)?.remove();
  if (message) main.prepend(el('div', { class: 'banner error-box', testid: `error-${source}`, 'data-source': source }, message));
}

// Calls the view's refresh now and then every second while something runs (5 s otherwise).
const poller = {
  generation: 0, timer: 0, refresh: null, busy: false, again: false,
  start(refresh) {
    this.generation++;
    clearTimeout(this.timer);
    this.refresh = refresh;
    this.busy = false;
    this.tick(this.generation);
  },
  stop() { this.generation++; clearTimeout(this.timer); },
  kick() {
    if (this.busy) { this.again = true; return; }
    clearTimeout(this.timer);
    this.tick(this.generation);
  },
  async tick(generation) {
    if (generation !== this.generation) return;
    this.busy = true;
    let live = false;
    try {
      live = await this.refresh();
      if (generation === this.generation) showBanner('');
    } catch (error) {
      if (error.status === 401 || generation !== this.generation) return;
      showBanner(error.message);
    } finally {
      if (generation === this.generation) this.busy = false;
    }
    if (generation !== this.generation) return;
    refreshAlerts();
    const again = this.again;
    this.again = false;
    this.timer = setTimeout(() => this.tick(generation), again ? 0 : live ? 1000 : 5000);
  },
};

function route() {
  if (!localStorage.getItem(TOKEN_KEY)) return showSignIn();
  const [view, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const main = $('#main');
  fill(main);
  document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === (view === 'runs' ? 'jobs' : view)));
  let refresh;
  if (view === 'jobs' && arg) refresh = jobView(main, arg);
  else if (view === 'runs' && arg) refresh = runView(main, arg);
  else if (view === 'connections' && arg) refresh = connectionView(main, arg);
  else if (view === 'connections') refresh = connectionsView(main);
  else if (view === 'jobs') refresh = jobsView(main);
  else return void (location.hash = '#/jobs');
  document.title = `Sluice — ${arg ?? view}`;
  poller.start(refresh);
}

function showSignIn(message = '') {
  poller.stop();
  fill($('#main'));
  $('#alerts').hidden = true;
  $('#whoami').textContent = '';
  $('#sign-out').hidden = true;
  $('.topbar nav').hidden = true;
  $('#signin-error').textContent = message;
  $('#signin').hidden = false;
  $('#signin-token').focus();
}

async function signedIn() {
  $('#signin').hidden = true;
  try {
    const me = await api('GET', '/api/v1/whoami');
    $('#whoami').textContent = `team ${me.team} · token ${me.token}${me.admin ? ' (admin)' : ''}`;
    $('#sign-out').hidden = false;
    $('.topbar nav').hidden = false;
    route();
  } catch (error) {
    if (error.status !== 401) showSignIn(`Cannot reach the server: ${error.message}`);
  }
}

$('#signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  localStorage.setItem(TOKEN_KEY, $('#signin-token').value.trim());
  $('#signin-token').value = '';
  signedIn();
});
$('#sign-out').addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  showSignIn();
});
window.addEventListener('hashchange', () => localStorage.getItem(TOKEN_KEY) && route());

// The server's first start prints the UI's address with the admin token in the fragment: keep
// the token, then take it out of the address bar (and so out of the history).
const fromUrl = location.hash.match(/^#token=([^&]+)/);
if (fromUrl) localStorage.setItem(TOKEN_KEY, decodeURIComponent(fromUrl[1]));
if (fromUrl || !location.hash.startsWith('#/')) history.replaceState(null, '', `${location.pathname}${location.search}#/jobs`);
if (localStorage.getItem(TOKEN_KEY)) signedIn();
else showSignIn();

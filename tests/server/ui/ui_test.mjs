// End-to-end test of the web UI of `sluice server` in Debian's headless Chromium (playwright-core,
// no downloaded browser). Starts the real server on a free loopback port in a temporary folder,
// drives the UI like a person would (sign-in through the URL fragment, the New job form, Start,
// job and run details, connections and their catalog), checks that a connection's password
// never reaches a page, an API answer or the server's output, and takes screenshots.
//
//   SLUICE=build/release/bin/sluice [SCREENSHOT_DIR=dir] node ui_test.mjs
//
// Exits 0 on success; otherwise prints what failed and exits 1.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CANARY = 'CANARY-ui-8c1f';
const ROWS = 3000;
const RUN_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 15_000;

const sluice = process.env.SLUICE ? resolve(process.env.SLUICE) : '';
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ui-'));
const shotDir = resolve(process.env.SCREENSHOT_DIR || join(tmp, 'screenshots'));
let server = null;
let serverOut = '';
let serverErr = '';
let context = null;
let step = 'setup';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// ----- the server ---------------------------------------------------------------------------------

async function startServer() {
  check(sluice && existsSync(sluice), `SLUICE must name the sluice binary (got '${sluice}')`);
  server = spawn(sluice, ['server', '--listen', '127.0.0.1:0', '--data', join(tmp, 'data')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.setEncoding('utf8').on('data', (text) => { serverOut += text; });
  server.stderr.setEncoding('utf8').on('data', (text) => { serverErr += text; });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = serverOut.match(/^\s+UI:\s+(\S+)/m);
    if (match) return match[1];
    check(server.exitCode === null, `sluice server exited with ${server.exitCode}: ${serverErr}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`sluice server printed no "UI:" line within 30 s; stdout: ${serverOut}`);
}

async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((done) => server.once('exit', done));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ----- the test -----------------------------------------------------------------------------------

function writeCsv(path) {
  const names = ['Zoë Åberg', 'Łukasz Żółć', '東京太郎', 'José Núñez', 'Ærøskøbing 🚲', 'plain'];
  const lines = ['id,name,city,note'];
  for (let i = 1; i <= ROWS; i++) {
    const note = i % 7 === 0 ? '' : `note ${i}`;  // an empty value every 7th row
    lines.push(`${i},${names[i % names.length]},Köln-${i % 13},${note}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function main() {
  step = 'start the server';
  const uiUrl = await startServer();
  const url = new URL(uiUrl);
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  check(token?.startsWith('slc_'), `no admin token in the UI address '${uiUrl}'`);
  const base = url.origin;
  const api = async (method, path, body) => {
    const response = await fetch(base + path, {
      method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    check(response.ok, `${method} ${path}: HTTP ${response.status} ${text}`);
    check(!text.includes(CANARY), `${method} ${path} answered the password: ${text}`);
    return text ? JSON.parse(text) : null;
  };

  step = 'create the connections and the input';
  await api('POST', '/api/v1/connections',
    { name: 'warehouse', type: 'sqlite', options: { path: join(tmp, 'out.db') } });
  await api('POST', '/api/v1/connections', {
    name: 'pg', type: 'postgres',
    options: { host: '127.0.0.1', port: 1, database: 'x', user: 'u', password: CANARY },
  });
  const csv = join(tmp, 'people.csv');
  writeCsv(csv);
  mkdirSync(shotDir, { recursive: true });

  step = 'launch Chromium';
  check(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-deps.sh --servers`);
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1360, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = context.pages()[0] ?? await context.newPage();
  const bodies = [];
  const pageErrors = [];
  page.on('response', (response) => bodies.push(
    response.text().then((text) => ({ url: response.url(), text }), () => ({ url: response.url(), text: '' }))));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // The 400 and 401 answers the test provokes are logged as "Failed to load resource": not errors.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      pageErrors.push(message.text());
  });
  const byId = (id) => page.getByTestId(id);
  const screenshots = [];
  const shoot = async (name) => {
    const path = join(shotDir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    screenshots.push(path);
  };
  // Waits until the element's text satisfies `ok` (the UI polls the server every second).
  const waitText = async (id, ok, what, timeout = STEP_TIMEOUT_MS) => {
    try {
      await page.waitForFunction(([selector, source]) => {
        const node = document.querySelector(selector);
        return node && new Function('text', `return ${source}`)(node.textContent);
      }, [`[data-testid="${id}"]`, ok], { timeout, polling: 100 });
    } catch {
      const text = await byId(id).first().textContent({ timeout: 100 }).catch(() => '(absent)');
      throw new Error(`${what}: [data-testid=${id}] reads '${text}' after ${timeout / 1000} s`);
    }
    return byId(id).first().textContent();
  };

  step = 'sign in through the URL fragment';
  await page.goto(uiUrl);
  await byId('jobs').waitFor();
  check(!page.url().includes('token='), `the token stayed in the address bar: ${page.url()}`);
  check((await byId('whoami').textContent()).includes('default'), 'the header does not name the team');

  step = 'show a bad job\'s error under the form';
  await byId('new-job-yaml').fill('name: broken\nsource: {type: file, path: /x.csv, format: csv}\n');
  await byId('new-job-create').click();
  await waitText('new-job-error', "text.includes(\"missing required key 'sink'\")", 'the 400 error under the form');

  step = 'create ui_job through the New job form';
  await byId('new-job-yaml').fill(
    `name: ui_job\nsource: {type: file, path: ${csv}, format: csv}\nsink: {connection: warehouse, table: people}\n`);
  await byId('new-job-create').click();
  await byId('job-row-ui_job').waitFor();
  check(await byId('new-job-error').isHidden(), 'the form still shows an error after a good job');
  await waitText('job-state-ui_job', "text === 'never run'", 'a new job has never run');

  step = 'start ui_job and watch it succeed';
  await byId('start-ui_job').click();
  const state = await waitText('job-state-ui_job', "['succeeded', 'failed', 'stopped'].includes(text)",
    'ui_job did not finish', RUN_TIMEOUT_MS);
  if (state !== 'succeeded') {
    const { runs } = await api('GET', '/api/v1/runs?job=ui_job&limit=1');
    throw new Error(`ui_job ended ${state}: ${JSON.stringify(runs[0]?.failure)}`);
  }
  await shoot('jobs');

  step = 'job detail: per-table rows written';
  await byId('job-link-ui_job').click();
  const written = await waitText('rows-written-people', `text.replace(/\\D/g, '') === '${ROWS}'`,
    `the job detail shows ${ROWS} rows written to table people`);
  check(written === ROWS.toLocaleString('en-US'), `rows written reads '${written}'`);
  check((await byId('job-yaml').textContent()).includes('table: people'), 'the job detail shows no YAML');
  const { runs } = await api('GET', '/api/v1/runs?job=ui_job&limit=1');
  const runId = runs[0].id;
  await byId(`run-state-${runId}`).waitFor();
  await shoot('job-detail');

  step = 'run detail: figures and log';
  await byId(`run-link-${runId}`).click();
  await waitText('run-state', "text === 'succeeded'", `run ${runId} shows succeeded`);
  await waitText('run-rows-written', `text.replace(/\\D/g, '') === '${ROWS}'`, 'the run shows its rows written');
  await byId('log-line').first().waitFor();
  check(await byId('log-line').count() > 0, 'the run shows no log lines');
  check(await byId('run-resume').count() === 0, 'a succeeded run offers Resume');
  await shoot('run-detail');

  step = 'a job whose source file does not exist fails, and the UI says why';
  const missing = join(tmp, 'missing-input.csv');
  await page.goto(`${base}/#/jobs`);
  await byId('new-job-yaml').fill(
    `name: bad_job\nsource: {type: file, path: ${missing}, format: csv}\nsink: {connection: warehouse, table: nowhere}\n`);
  await byId('new-job-create').click();
  await byId('start-bad_job').click();
  await waitText('job-state-bad_job', "text === 'failed'", 'bad_job failed', RUN_TIMEOUT_MS);
  await byId('job-link-bad_job').click();
  await waitText('job-failure-origin', "text === 'source'", 'the failure names its origin');
  await waitText('job-failure-message', "text.includes('missing-input.csv')", 'the failure names the file');
  const bad = (await api('GET', '/api/v1/runs?job=bad_job&limit=1')).runs[0];
  await waitText(`run-failure-${bad.id}`, "text.includes('missing-input.csv')", 'the run history shows the failure');
  await byId(`run-link-${bad.id}`).click();
  await waitText('run-failure-origin', "text === 'source'", 'the run detail names the origin');
  await waitText('run-failure-message', "text.includes('missing-input.csv')", 'the run detail names the file');
  await byId('run-resume').waitFor();
  await shoot('run-failed');

  step = 'a long run shows live figures, stops and resumes';
  await page.goto(`${base}/#/jobs`);
  await byId('new-job-yaml').fill('name: ui_live\nsource: {type: datagen, rows: 500000000, stream: live, ' +
    'columns: {id: int64, name: string}}\nsink: {connection: warehouse, table: live}\n');
  await byId('new-job-create').click();
  await byId('start-ui_live').click();
  await waitText('job-state-ui_live', "text === 'running'", 'ui_live runs', RUN_TIMEOUT_MS);
  await byId('stop-ui_live').waitFor();
  await byId('job-link-ui_live').click();
  await byId('rows-per-second').waitFor();
  await byId('progress').waitFor();
  const liveRun = (await api('GET', '/api/v1/runs?job=ui_live&limit=1')).runs[0].id;
  await byId(`run-link-${liveRun}`).click();
  await waitText('run-state', "text === 'running'", 'the run detail shows it running');
  await waitText('rows-per-second', "Number(text.replace(/\\D/g, '')) > 0", 'the run shows its rate');
  await shoot('run-live');
  await byId('run-stop').click();
  await waitText('run-state', "text === 'stopped'", 'Stop stops the run', RUN_TIMEOUT_MS);
  const stoppedRows = Number((await byId('run-rows-written').textContent()).replace(/\D/g, ''));
  check(stoppedRows > 0, 'the stopped run wrote no rows');
  await byId('run-resume').click();
  await waitText('run-state', "text === 'running'", 'Resume starts a new run, shown running', RUN_TIMEOUT_MS);
  const resumed = (await api('GET', '/api/v1/runs?job=ui_live&limit=1')).runs[0];
  check(resumed.id !== liveRun, 'Resume started no new run');
  check(page.url().endsWith(`#/runs/${resumed.id}`), `the UI did not move to the resumed run: ${page.url()}`);
  await byId('run-stop').click();
  await waitText('run-state', "text === 'stopped'", 'the resumed run stops', RUN_TIMEOUT_MS);

  step = 'connections: list, redacted password, the catalog';
  await byId('nav-connections').click();
  await byId('connection-row-warehouse').waitFor();
  await waitText('connection-options-pg', "text.includes('**REDACTED**')", 'the password shows redacted');
  await byId('stream-people').waitFor();
  for (const column of ['id', 'name', 'city', 'note'])
    await byId(`schema-people-${column}`).waitFor();
  const pages = [await page.content()];
  await shoot('connections');

  step = 'a changed schema is highlighted under its connection';
  // ui_back reads the table ui_job wrote, through the warehouse connection, so its stream is
  // the connection's. Then the table gains a column and loses one, and ui_back runs again.
  await api('POST', '/api/v1/jobs', { yaml: 'name: ui_back\nsource: {connection: warehouse, table: people}\n' +
    `sink: {type: file, path: ${join(tmp, 'back.jsonl')}}\n` });
  const runBack = async () => {
    const before = (await api('GET', '/api/v1/runs?job=ui_back&limit=1')).runs[0]?.id ?? 0;
    await byId('nav-jobs').click();
    await byId('start-ui_back').click();
    await waitText('job-last-ui_back', `/#(\\d+)/.exec(text)?.[1] > ${before}`, 'ui_back starts a run', RUN_TIMEOUT_MS);
    await waitText('job-state-ui_back', "text === 'succeeded'", 'ui_back succeeds', RUN_TIMEOUT_MS);
  };
  await runBack();
  try {
    execFileSync('sqlite3', [join(tmp, 'out.db'),
      'ALTER TABLE people ADD COLUMN email TEXT; ALTER TABLE people DROP COLUMN note;']);
  } catch (error) {
    throw new Error(`sqlite3 (the SQLite shell, Debian package sqlite3) failed: ${error.message}`);
  }
  await runBack();
  await page.goto(`${base}/#/connections/warehouse`);
  await byId('stream-changed-people').waitFor();
  check(await byId('schema-people-email').getAttribute('class') === 'added', 'the new column is not marked added');
  check(await byId('schema-people-note').getAttribute('class') === 'removed', 'the dropped column is not marked removed');
  await shoot('connection-detail');
  pages.push(await page.content());
  await byId('nav-connections').click();
  await byId('connection-link-pg').waitFor();
  await byId('connection-link-pg').click();
  await waitText('connection-options', "text.includes('**REDACTED**')", 'the pg detail shows the password redacted');
  pages.push(await page.content());
  await page.goto(`${base}/#/connections/warehouse`);
  await waitText('connection-options', "text.includes('out.db')", 'the warehouse detail shows its options');
  pages.push(await page.content());

  step = 'an unknown job shows the server\'s error';
  await page.goto(`${base}/#/jobs/no_such_job`);
  await waitText('error-refresh', "text.includes(\"no job named 'no_such_job'\")", 'the 404 is shown');

  step = 'sign out and in again; a wrong token shows the sign-in box';
  await byId('sign-out').click();
  await byId('signin').waitFor();
  await byId('signin-token').fill('slc_not_a_token');
  await byId('signin-submit').click();
  await waitText('signin-error', "text.includes('did not accept')", 'a wrong token is refused');
  await shoot('sign-in');
  await byId('signin-token').fill(token);
  await byId('signin-submit').click();
  await page.goto(`${base}/#/connections/warehouse`);
  await byId('connection-options').waitFor();

  step = 'the password appears nowhere';
  const seen = await Promise.all(bodies);
  check(seen.length > 10, `the page received only ${seen.length} responses`);
  check(seen.some((r) => r.url.includes('/api/v1/connections') && r.text.includes('**REDACTED**')),
    'no API answer the page received showed the redacted password');
  for (const r of seen) check(!r.text.includes(CANARY), `the answer to ${r.url} contains the password`);
  for (const html of pages) check(!html.includes(CANARY), 'a connections page contains the password');
  await stopServer();
  check(!serverOut.includes(CANARY), 'the server printed the password on stdout');
  check(!serverErr.includes(CANARY), 'the server printed the password on stderr');
  check(pageErrors.length === 0, `the page reported errors: ${pageErrors.join('; ')}`);

  console.log('server.ui: passed');
  for (const path of screenshots) console.log(`screenshot: ${path}`);
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(`server.ui: FAILED at step "${step}": ${error.message}`);
  if (serverErr) console.error(`--- sluice server stderr ---\n${serverErr.slice(-4000)}`);
  if (context) {
    const page = context.pages()[0];
    const path = join(shotDir, 'failure.png');
    if (page && await page.screenshot({ path, fullPage: true }).then(() => true, () => false))
      console.error(`screenshot of the failure: ${path}`);
  }
} finally {
  await context?.close().catch(() => {});
  await stopServer();
  // The data folder and the browser profile go; screenshots inside tmp stay for a look.
  for (const name of ['data', 'profile', 'people.csv', 'out.db', 'back.jsonl'])
    rmSync(join(tmp, name), { recursive: true, force: true });
  if (!shotDir.startsWith(tmp)) rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

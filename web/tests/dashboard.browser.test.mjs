// The district dashboard in a real browser (Debian's headless Chromium, driven by playwright-core)
// against the real server (`gocua-server serve --dashboard-dir web/dist`) on loopback, its
// commune filled by the phone simulator: sign in, read the commune's report, drill into a hamlet
// and back up, download the appendix and a list; a wrong password, an officer of another commune
// and a role the dashboard is not for are refused. Screenshots at 1280 px and 390 px go to
// `screenshots/dashboard-*.png`.
// Needs GOCUA_SERVER_BIN and GOCUA_SIM_BIN (scripts/test.sh sets them) and `npm run build` first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const web = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = dirname(web);
const shots = join(repo, 'screenshots');
const serverBin = process.env.GOCUA_SERVER_BIN;
const simBin = process.env.GOCUA_SIM_BIN;
const PASSWORD = 'Mật khẩu thử nghiệm 2026';

let dir, db, server, url, browser;
const users = {};

/** Runs `gocua-server admin --database DB …args` (stdin: `input`); its trimmed stdout. */
function admin(args, input) {
  const run = spawnSync(serverBin, ['admin', '--database', db, ...args], { input, encoding: 'utf8', env: { ...process.env, GOCUA_LOG: 'warn' } });
  assert.equal(run.status, 0, `admin ${args.join(' ')}: ${run.stderr}`);
  return run.stdout.trim();
}

before(async () => {
  assert.ok(serverBin && simBin, 'GOCUA_SERVER_BIN and GOCUA_SIM_BIN name the binaries (scripts/test.sh sets them)');
  assert.ok(existsSync(join(web, 'dist', 'index.html')), 'the dashboard is built (npm run build)');
  dir = mkdtempSync(join(tmpdir(), 'gocua-dashboard-'));
  db = join(dir, 'server.sqlite');
  admin(['import-places']);
  for (const [code, name, parent] of [['03445-01', 'Bản Nậm Củm', '03445'], ['03445-02', 'Bản Phìn Khò', '03445'], ['03637-01', 'Bản Mường Kim', '03637']]) {
    admin(['add-place', '--code', code, '--name', name, '--level', 'hamlet', '--division-type', 'bản', '--parent', parent]);
  }
  server = spawn(serverBin, ['serve', '--listen', '127.0.0.1:0', '--database', db, '--dashboard-dir', join(web, 'dist')], {
    env: { ...process.env, GOCUA_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise((resolve, reject) => {
    let seen = '';
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(seen);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${seen}`)));
  });
  // two volunteers' phones of Xã Mường Tè record their visits and sync
  const sim = spawnSync(simBin, ['--server', url, '--devices', '2', '--visits', '80', '--seed', '7', '--admin-database', db], { encoding: 'utf8' });
  assert.equal(sim.status, 0, sim.stderr);
  users.cong = admin(['add-user', '--name', 'Trần Văn Công', '--role', 'commune-police', '--scope', '03445']);
  users.kim = admin(['add-user', '--name', 'Lò Văn Kim', '--role', 'commune-police', '--scope', '03637']);
  users.former = admin(['add-user', '--name', 'Vàng A Páo', '--role', 'commune-police', '--scope', '03445']);
  for (const [user, login] of [[users.cong, 'cong'], [users.kim, 'kim'], [users.former, 'pao']]) {
    admin(['set-password', '--user', user, '--login', login], `${PASSWORD}\n`);
  }
  // Páo is a team leader now: the dashboard is not for him any more
  admin(['set-role', '--user', users.former, '--role', 'team-leader']);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (server && server.exitCode == null) await new Promise((resolve) => server.once('exit', resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh browser context (its own cookies) at `width`, on the sign-in page. */
async function page(width) {
  const context = await browser.newContext({ viewport: { width, height: width > 500 ? 900 : 844 }, acceptDownloads: true, locale: 'vi-VN' });
  const p = await context.newPage();
  await p.goto(`${url}/dashboard/`);
  await p.waitForSelector('#login-form');
  return p;
}

async function signIn(p, login, password = PASSWORD) {
  await p.fill('#login-user', login);
  await p.fill('#login-password', password);
  await p.click('#login-submit');
}

/** The API's report of `place` for the signed-in page (the same cookie): the numbers to expect. */
async function apiReport(p, place) {
  return p.evaluate(async (q) => (await fetch(`/dashboard/api/report${q}`)).json(), place ? `?place=${place}` : '');
}

/** Whether the page is wider than its window (a phone would scroll sideways). */
async function overflows(p) {
  return p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

test('an officer signs in, reads the commune, drills into a hamlet, downloads the appendix and a list', async () => {
  const p = await page(1280);
  await p.screenshot({ path: join(shots, 'dashboard-01-sign-in-1280.png') });
  await signIn(p, 'cong', 'mật khẩu sai');
  await p.waitForSelector('#login-error');
  assert.match(await p.textContent('#login-error'), /Sai tên đăng nhập hoặc mật khẩu/);

  await signIn(p, 'cong');
  await p.waitForSelector('#total-activated');
  assert.equal((await p.textContent('#report-place')).trim(), 'Xã Mường Tè');
  const commune = await apiReport(p);
  const t = commune.report.total.tally;
  const activated = t.activated_level1 + t.activated_level2 + t.used_portal;
  assert.ok(activated > 0, 'the simulator activated people');
  assert.equal((await p.textContent('#total-activated')).trim(), String(activated));
  assert.equal(await p.locator('#units tbody tr').count(), 2, 'the commune’s two hamlets');
  assert.ok((await p.locator('#trend rect').count()) >= 1, 'the trend chart');
  // Páo leads the commune's team now: its row is the commune's total
  const team = await p.textContent('#teams tbody tr');
  assert.match(team, /Vàng A Páo/);
  assert.deepEqual(commune.report.teams.map((x) => [x.name, x.hamlets, x.tally.residents]), [['Vàng A Páo', 2, t.residents]]);
  await p.screenshot({ path: join(shots, 'dashboard-02-commune-1280.png'), fullPage: true });

  // drill into Bản Nậm Củm and back up
  await p.click('#units tr[data-place="03445-01"] .drill');
  await p.waitForFunction(() => document.querySelector('#report-place')?.textContent?.trim() === 'Bản Nậm Củm');
  const hamlet = (await apiReport(p, '03445-01')).report.total.tally;
  assert.equal((await p.textContent('#total-activated')).trim(), String(hamlet.activated_level1 + hamlet.activated_level2 + hamlet.used_portal));
  await p.screenshot({ path: join(shots, 'dashboard-03-hamlet-1280.png'), fullPage: true });
  await p.click('#breadcrumb .crumb >> text=Xã Mường Tè');
  await p.waitForFunction(() => document.querySelector('#report-place')?.textContent?.trim() === 'Xã Mường Tè');

  // the appendix and the activated list, downloaded as a person would
  const [appendix] = await Promise.all([p.waitForEvent('download'), p.click('#export-appendix')]);
  assert.match(appendix.suggestedFilename(), /^phu-luc-thong-ke-03445/);
  const xlsx = readFileSync(await appendix.path());
  assert.equal(xlsx.subarray(0, 2).toString(), 'PK', 'an XLSX');
  const [list] = await Promise.all([
    p.waitForEvent('download'),
    p.click('#export-lists a.export-list[data-kind="activated"][data-format="csv"]'),
  ]);
  const csv = readFileSync(await list.path(), 'utf8');
  assert.ok(csv.startsWith('\ufeff'), 'UTF-8 with a byte-order mark');
  const people = csv.trim().split('\n').length - 2;
  assert.equal(people, activated, 'one line per activated person');
  assert.match(csv, /[ăâđêôơưáàảãạ]/i, 'Vietnamese names intact');

  await p.click('#logout');
  await p.waitForSelector('#login-form');
  const after = await p.evaluate(async () => (await fetch('/dashboard/api/session')).status);
  assert.equal(after, 401, 'signed out for the server too');
  await p.context().close();
});

test('on a phone the report fits the screen', async () => {
  const p = await page(390);
  await p.screenshot({ path: join(shots, 'dashboard-04-sign-in-390.png') });
  await signIn(p, 'cong');
  await p.waitForSelector('#total-activated');
  await p.screenshot({ path: join(shots, 'dashboard-05-commune-390.png'), fullPage: true });
  assert.equal(await overflows(p), false, 'no sideways scrolling of the page (tables scroll in their box)');
  await p.context().close();
});

test('another commune’s officer and a role the dashboard is not for are refused', async () => {
  const p = await page(1280);
  await signIn(p, 'kim');
  await p.waitForSelector('#total-activated');
  assert.equal((await p.textContent('#report-place')).trim(), 'Xã Mường Kim');
  await p.goto(`${url}/dashboard/?place=03445`);
  await p.waitForSelector('#error');
  assert.match(await p.textContent('#error'), /nằm ngoài địa bàn/);
  const status = await p.evaluate(async () => (await fetch('/dashboard/api/lists/activated.csv?place=03445')).status);
  assert.equal(status, 403, 'no list of another commune');
  await p.screenshot({ path: join(shots, 'dashboard-06-outside-1280.png') });
  await p.context().close();

  const q = await page(1280);
  await signIn(q, 'pao');
  await q.waitForSelector('#login-error');
  assert.match(await q.textContent('#login-error'), /Chỉ công an/);
  await q.context().close();
});

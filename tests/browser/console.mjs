// The manager console in a real browser: Debian's chromium, driven by
// playwright-core. Run by the e2e test `console::the_console_in_a_real_browser`
// against a server it started and seeded:
//
//   node tests/browser/console.mjs <base url> <screenshot dir>
//
// Exits non-zero with a message on the first check that fails.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, shots] = process.argv.slice(2);
const PASSWORD = 'demo1234';
mkdirSync(shots, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}
const digits = (s) => String(s).replace(/[^0-9]/g, '');

async function api(query, variables, token) {
  const r = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    body: JSON.stringify({ query, variables: variables || {} }),
  });
  const j = await r.json();
  if (j.errors) throw new Error(JSON.stringify(j.errors));
  return j.data;
}

async function signIn(page, username) {
  await page.goto(base + '/');
  await page.waitForSelector('[data-testid=signin]');
  check(page.url().startsWith(base + '/console'), '/ leads to the console');
  await page.fill('[data-testid=username]', username);
  await page.fill('[data-testid=password]', PASSWORD);
  const t0 = Date.now();
  await page.click('[data-testid=signin-submit]');
  await page.waitForSelector('[data-testid=nav-customers]');
  return t0;
}
const token = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('crm.session')).access);

async function signOut(page) {
  await page.click('[data-testid=signout]');
  await page.waitForSelector('[data-testid=signin]');
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  // A tablet: the console must stay usable at 1024 × 768.
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const failed = [];
  // A request cut short by the test's own navigation (ERR_ABORTED) is not a failure.
  page.on('requestfailed', (r) => { if (!/ERR_ABORTED/.test(r.failure()?.errorText || '')) failed.push(r.url() + ' ' + r.failure()?.errorText); });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) failed.push('outside: ' + r.url()); });

  // 1. The manager signs in and sees the dashboard's figures, equal to the API's.
  const t0 = await signIn(page, 'cq.manager');
  await page.waitForSelector('[data-testid=kpi-leadsMonth]');
  await page.waitForSelector('[data-testid=chart-funnel] canvas');
  console.log('dashboard figures shown ' + (Date.now() - t0) + ' ms after signing in');
  const tok = await token(page);
  const today = (await api('{ today }', {}, tok)).today;
  const f = { from: today.slice(0, 8) + '01', to: today };
  const d = await api(
    'query($f: ReportFilter!) { salesFunnel(filter: $f) { leads delivered } serviceReport(filter: $f) { carEntries revenueFen } complaintReport(filter: $f) { complaints overdue } workload { overdue } }',
    { f }, tok);
  const sum = (rows, k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
  const kpi = async (k) => (await page.textContent('[data-testid=kpi-' + k + ']')).trim();
  check(digits(await kpi('leadsMonth')) === String(sum(d.salesFunnel, 'leads')), 'leads this month as the API gives them');
  check(digits(await kpi('carEntries')) === String(sum(d.serviceReport, 'carEntries')), 'car entries as the API gives them');
  check(digits(await kpi('revenue')) === String(Math.round(sum(d.serviceReport, 'revenueFen') / 100)), 'service revenue as the API gives it');
  check(digits(await kpi('complaintsMonth')) === String(sum(d.complaintReport, 'complaints')), 'complaints as the API gives them');
  check(digits(await kpi('complaintsOverdue')) === String(sum(d.complaintReport, 'overdue')), 'overdue complaints as the API gives them');
  check(digits(await kpi('tasksOverdue')) === String(sum(d.workload, 'overdue')), 'overdue tasks as the API gives them');
  check(sum(d.salesFunnel, 'leads') > 0 && sum(d.serviceReport, 'carEntries') > 0, 'the seeded month is not empty');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 1, 'the dashboard fits a tablet\'s width');
  await page.screenshot({ path: shots + '/dashboard-zh-CN.png', fullPage: true });

  // Every page of the menu opens without an error.
  const pages = await page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('data-testid').replace('nav-', '')));
  for (const p of pages) {
    await page.click('[data-testid=nav-' + p + ']');
    await page.waitForSelector('[data-testid=page-' + p + '] h1');
    check((await page.$('[data-testid=error]')) === null, 'the ' + p + ' page opens without an error');
  }
  await page.click('[data-testid=nav-dashboard]');
  await page.waitForSelector('[data-testid=chart-funnel] canvas');

  // 2. Switching language.
  await page.click('[data-testid=lang]');
  await page.waitForSelector('text=Leads this month');
  check((await page.textContent('[data-testid=nav-dashboard]')).trim() === 'Dashboard', 'the menu reads in English');
  await page.waitForSelector('[data-testid=chart-funnel] canvas');
  await page.screenshot({ path: shots + '/dashboard-en.png', fullPage: true });
  await page.click('[data-testid=lang]');
  await page.waitForSelector('text=本月线索');
  check((await page.textContent('[data-testid=nav-dashboard]')).trim() === '总览', 'and back in Chinese');

  // 3. Reassigning a lead.
  await page.click('[data-testid=nav-leads]');
  await page.waitForSelector('[data-testid=leads-table]');
  const myStore = (await api('{ myStore { id } }', {}, tok)).myStore.id;
  const board = (await api('query($s: ID!) { leadBoard(storeId: $s) { unassigned firstResponseLate } }', { s: myStore }, tok)).leadBoard;
  check(digits(await page.textContent('[data-testid=board-unassigned]')) === String(board.unassigned)
    && digits(await page.textContent('[data-testid=board-lateFirstResponse]')) === String(board.firstResponseLate),
    'the lead board\'s counts as the API gives them');
  const leadId = await page.getAttribute('[data-lead]', 'data-lead');
  const sales2 = (await api('{ staffMembers(filter: {role: SALES_CONSULTANT}, first: 50) { nodes { id username } } }', {}, tok))
    .staffMembers.nodes.find((s) => s.username === 'cq.sales2');
  await page.selectOption(`[data-lead="${leadId}"] select`, sales2.id);
  await page.click(`[data-lead="${leadId}"] [data-testid=lead-assign]`);
  await page.waitForSelector('[data-testid=lead-msg].ok');
  const after = await api('query($id: ID!) { lead(id: $id) { consultant { username } } }', { id: leadId }, tok);
  check(after.lead.consultant.username === 'cq.sales2', 'the lead is now cq.sales2\'s');

  // 4. A setting changed in the console sticks.
  await page.click('[data-testid=nav-settings]');
  await page.waitForSelector('[data-testid=setting-trendAlertPercent]');
  await page.fill('[data-testid=setting-trendAlertPercent]', '35');
  await page.click('[data-testid=settings-save]');
  await page.waitForSelector('[data-testid=settings-msg].ok');
  await page.reload();
  await page.waitForSelector('[data-testid=setting-trendAlertPercent]');
  check((await page.inputValue('[data-testid=setting-trendAlertPercent]')) === '35', 'the setting reads 35 after a reload');
  const st = await api('{ myStore { settings { trendAlertPercent } } }', {}, tok);
  check(st.myStore.settings.trendAlertPercent === 35, 'and the API agrees');

  // 5. A monthly target set in the console shows in the scorecard.
  await page.click('[data-testid=nav-plans]');
  await page.waitForSelector('[data-testid=target-form]');
  const advisor = (await api('{ staffMembers(filter: {role: SERVICE_ADVISOR}, first: 10) { nodes { id username } } }', {}, tok))
    .staffMembers.nodes.find((s) => s.username === 'cq.advisor');
  await page.selectOption('[data-testid=target-staff]', advisor.id);
  await page.fill('[data-testid=target-form] [name=revenue]', '300000');
  await page.click('[data-testid=target-form] button');
  await page.waitForSelector('[data-testid=scorecard-table] >> text=serviceRevenueFen');
  check(true, 'a target set in the console shows in the scorecard');

  // 6. Reports with a CSV download.
  await page.click('[data-testid=nav-reports]');
  await page.waitForSelector('[data-testid=report-form]');
  await page.fill('[name=from]', today.slice(0, 5) + '01-01');
  await page.click('[data-testid=report-run]');
  await page.waitForSelector('[data-testid=report-table] tbody tr td');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-csv]')]);
  const csvPath = shots + '/salesFunnel.csv';
  await download.saveAs(csvPath);
  const { readFileSync } = await import('node:fs');
  const csv = readFileSync(csvPath, 'utf8');
  check(csv.includes('label,leads,contacted'), 'the CSV has the report\'s columns');
  await signOut(page);

  // 7. A consultant cannot open the manager pages.
  await signIn(page, 'cq.sales1');
  check((await page.$('[data-testid=nav-dashboard]')) === null, 'no dashboard in a consultant\'s menu');
  for (const p of ['dashboard', 'reports', 'settings', 'leads']) {
    await page.goto(base + '/console#/' + p);
    await page.waitForSelector('[data-testid=forbidden]');
  }
  check(true, 'a consultant is refused the manager pages');
  await signOut(page);

  // 8. Group and OEM staff see their network and no customer past the consent line.
  for (const who of ['group.manager', 'oem.staff']) {
    await signIn(page, who);
    await page.waitForSelector('[data-testid=kpi-leadsMonth]');
    await page.click('[data-testid=nav-customers]');
    await page.waitForSelector('[data-testid=customers-table]');
    const text = await page.textContent('[data-testid=customers-table]');
    check(!text.includes('报表客户'), who + ' sees no customer without sharing consent');
    await page.click('[data-testid=nav-reports]');
    await page.waitForSelector('[data-testid=report-form]');
    await page.selectOption('[data-testid=report-by]', 'STORE');
    await page.click('[data-testid=report-run]');
    await page.waitForSelector('[data-testid=report-table] tbody tr td');
    const rows = await page.$$eval('[data-testid=report-table] tbody tr', (r) => r.length);
    const stores = (await api('{ stores { id } }', {}, await token(page))).stores.length;
    check(rows >= 1 && rows <= stores, who + ' reads the funnel of the stores in reach (' + rows + ' of ' + stores + ')');
    await signOut(page);
  }
  check(failed.length === 0, 'no request failed and none left the server: ' + failed.join(', '));
} finally {
  await browser.close();
}

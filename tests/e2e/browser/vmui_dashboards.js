// make dashboards-e2e, the browser step: Debian's Chromium (/usr/bin/chromium), driven by playwright-core,
// logs in to VictoriaMetrics' web UI through HAProxy's query frontend (TLS + basic auth), opens each
// dashboard under Dashboards, expands every row, waits until the panels have drawn, and saves one
// screenshot per dashboard. It records every query the page sent (status, error, series returned) and
// prints a JSON summary on stdout: for each dashboard the panel titles missing from the page, the error
// messages shown, the queries that failed or came back empty.
//
// Settings come from the environment (the password never on a command line):
//   VMUI_URL            https://ops1.lab.cloudphone.test:8430
//   VMUI_USER           basic auth user;  VMUI_PASSWORD_FILE  a file holding its password
//   VMUI_SERVER_CERT    the server's certificate (PEM): Chromium trusts exactly its key, nothing else
//   VMUI_DASHBOARDS     a JSON file: the dashboard definitions (roles/victoriametrics/files/dashboards/*.yml),
//                       in the order to open them
//   VMUI_SCREENSHOT_DIR where <name>.png goes;  VMUI_CHROMIUM  the browser (default /usr/bin/chromium)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function exactly(text) {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
}

// Every query_range answer the page gets while a dashboard draws: its status, error and series count.
function recordQueries(page, sink) {
  page.on('response', async (response) => {
    if (!response.url().includes('/api/v1/query')) {
      return;
    }
    // vmui POSTs its queries as a form; a GET carries them in the URL.
    const request = response.request();
    const form = new URLSearchParams(request.postData() || new URL(response.url()).search);
    const query = form.get('query') || new URL(response.url()).searchParams.get('query') || '';
    const entry = { query, status: response.status(), series: null, error: null };
    sink.push(entry);
    try {
      const answer = await response.json();
      entry.series = Array.isArray(answer?.data?.result) ? answer.data.result.length : null;
      entry.error = answer.status === 'success' ? null : (answer.error || answer.status);
    } catch (error) {
      entry.error = `the answer is not JSON (${response.status()})`;
    }
  });
}

async function openDashboard(page, url, dashboard, shots, sent) {
  const started = Date.now();
  // A fresh page per dashboard, so every query its panels send is recorded for it (the first tab
  // draws on load).
  sent.length = 0;
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto('about:blank');
  const response = await page.goto(url, { waitUntil: 'networkidle', timeout: 60000 });
  if (!response || response.status() !== 200) {
    throw new Error(`the web UI answered ${response ? response.status() : 'nothing'}`);
  }
  await page.locator('.vm-predefined-panels-tabs__tab').first().waitFor({ timeout: 30000 });
  await page.locator('.vm-predefined-panels-tabs__tab', { hasText: exactly(dashboard.title) }).first().click();
  // Rows after the first start collapsed; their panels draw (and query) only once opened. A pointer
  // click on a row header did not open it in this vmui (v1.151.0, headless): the element's own click()
  // does, as a click of the operator would.
  for (let round = 0; round < 20; round += 1) {
    const closed = page.locator('.vm-accordion-header:not(.vm-accordion-header_open)');
    if (await closed.count() === 0) {
      break;
    }
    await closed.first().evaluate((header) => header.click());
    await page.waitForTimeout(300);
  }
  // Panels below the fold may wait until they are seen: make the window as tall as the page.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1600, height: Math.min(Math.max(height, 1000), 16000) });
  await page.waitForLoadState('networkidle', { timeout: 60000 });
  // A panel's graph draws after its answers arrived: give the last ones a moment.
  await page.waitForTimeout(2000);
  const shown = (await page.locator('.vm-predefined-panel-header__title').allTextContents()).map((t) => t.trim());
  const errors = (await page.locator('.vm-alert_error').allTextContents()).map((t) => t.trim()).filter(Boolean);
  const screenshot = path.join(shots, `${dashboard.name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  // Only this dashboard's expressions count (the first tab also draws when the page loads).
  const exprs = dashboard.panels.flatMap((p) => p.exprs);
  const mine = sent.filter((q) => exprs.includes(q.query));
  const titles = dashboard.panels.map((p) => p.title);
  return {
    name: dashboard.name,
    title: dashboard.title,
    panels: titles.length,
    titles_shown: titles.filter((t) => shown.includes(t)).length,
    titles_missing: titles.filter((t) => !shown.includes(t)),
    errors_shown: errors,
    expressions: exprs.length,
    expressions_not_sent: exprs.filter((e) => !mine.some((q) => q.query === e)),
    queries_failed: mine.filter((q) => q.status !== 200 || q.error).map((q) => `${q.status} ${q.error} ${q.query}`),
    queries_empty: [...new Set(mine.filter((q) => q.status === 200 && !q.error && q.series === 0).map((q) => q.query))],
    seconds: (Date.now() - started) / 1000,
    // The file's name only: the report lives next to it, whatever the checkout's path.
    screenshot: path.basename(screenshot),
  };
}

async function main() {
  const base = env('VMUI_URL').replace(/\/$/, '');
  const password = fs.readFileSync(env('VMUI_PASSWORD_FILE'), 'utf8').trim();
  const cert = new crypto.X509Certificate(fs.readFileSync(env('VMUI_SERVER_CERT')));
  // The lab CA is not in Chromium's store: pin the server's public key instead of ignoring TLS errors.
  const spki = crypto.createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const dashboards = JSON.parse(fs.readFileSync(env('VMUI_DASHBOARDS'), 'utf8')).map((definition) => ({
    name: definition.name,
    title: definition.title,
    panels: definition.rows.flatMap((row) => row.panels)
      .map((panel) => ({ title: panel.title, exprs: panel.queries.map((query) => query.expr) })),
  }));
  const shots = env('VMUI_SCREENSHOT_DIR');
  fs.mkdirSync(shots, { recursive: true });

  const browser = await chromium.launch({
    executablePath: env('VMUI_CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: [`--ignore-certificate-errors-spki-list=${spki}`, '--no-sandbox'],
  });
  try {
    const context = await browser.newContext({
      httpCredentials: { username: env('VMUI_USER'), password },
      viewport: { width: 1600, height: 1000 },
    });
    const page = await context.newPage();
    const sent = [];
    recordQueries(page, sent);
    const url = `${base}/vmui/#/dashboards`;
    const results = [];
    for (const dashboard of dashboards) {
      results.push(await openDashboard(page, url, dashboard, shots, sent));
    }
    const tabs = (await page.locator('.vm-predefined-panels-tabs__tab').allTextContents()).map((t) => t.trim());
    const summary = {
      url,
      browser: `chromium ${browser.version()}`,
      tabs,
      dashboards: results,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`vmui_dashboards: ${error.stack || error}\n`);
  process.exitCode = 2;
});

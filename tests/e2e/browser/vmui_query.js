// make logs-e2e, the browser step: Debian's Chromium (/usr/bin/chromium), driven by playwright-core,
// opens VictoriaLogs' web UI through HAProxy's query frontend (TLS + basic auth), runs one LogsQL
// query, waits for the result rows, saves a screenshot and prints a JSON summary on stdout.
//
// Settings come from the environment (the password never on a command line):
//   VMUI_URL       https://ops1.lab.cloudphone.test:9430
//   VMUI_USER      basic auth user;  VMUI_PASSWORD_FILE  a file holding its password
//   VMUI_SERVER_CERT  the server's certificate (PEM): Chromium trusts exactly its key, nothing else
//   VMUI_QUERY     the LogsQL query;  VMUI_EXPECT  comma-separated strings every one of which must show
//   VMUI_SCREENSHOT  where to save the PNG;  VMUI_CHROMIUM  the browser (default /usr/bin/chromium)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { chromium } = require('playwright-core');

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function main() {
  const base = env('VMUI_URL').replace(/\/$/, '');
  const password = fs.readFileSync(env('VMUI_PASSWORD_FILE'), 'utf8').trim();
  const cert = new crypto.X509Certificate(fs.readFileSync(env('VMUI_SERVER_CERT')));
  // The lab CA is not in Chromium's store: pin the server's public key instead of ignoring TLS errors.
  const spki = crypto.createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const query = env('VMUI_QUERY');
  const expect = env('VMUI_EXPECT').split(',').filter(Boolean);
  const started = Date.now();

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
    const response = await page.goto(`${base}/select/vmui/`, { waitUntil: 'networkidle', timeout: 60000 });
    if (!response || response.status() !== 200) {
      throw new Error(`the web UI answered ${response ? response.status() : 'nothing'}`);
    }
    // The UI searches the last 5 minutes by default; the test's lines may be older than that.
    await page.getByText('Last 5 minutes', { exact: true }).first().click();
    await page.getByText(env('VMUI_RANGE', 'Last 1 hour'), { exact: true }).first().click();
    await page.waitForLoadState('networkidle');
    const editor = page.locator('textarea:visible').first();
    await editor.waitFor({ timeout: 30000 });
    await editor.fill(query);
    // A click that lands before the UI took the new text in runs the previous query (seen on a
    // loaded machine): wait for the query request that carries the first expected string, and
    // click again when none came.
    const carriesQuery = (request) => request.url().includes('/select/logsql/query')
      && `${request.url()} ${request.postData() || ''}`.includes(expect[0]);
    let ran = false;
    for (let attempt = 1; attempt <= 3 && !ran; attempt += 1) {
      const sent = page.waitForResponse((answer) => carriesQuery(answer.request()), { timeout: 20000 });
      await page.getByRole('button', { name: 'Execute' }).click();
      ran = await sent.then(() => true, () => false);
    }
    if (!ran) {
      await page.screenshot({ path: env('VMUI_SCREENSHOT'), fullPage: true });
      throw new Error(`the web UI never sent the query for ${expect[0]} after 3 clicks on Execute`);
    }
    // Every expected string (the trace ID, each host) must be on the page, in the result rows.
    try {
      for (const text of expect) {
        await page.getByText(text, { exact: false }).first().waitFor({ timeout: 20000 });
      }
    } catch (error) {
      // What the page showed instead: the screenshot says more than the timeout.
      await page.screenshot({ path: env('VMUI_SCREENSHOT'), fullPage: true });
      throw error;
    }
    await page.waitForLoadState('networkidle');
    const body = await page.locator('body').innerText();
    const missing = expect.filter((text) => !body.includes(text));
    await page.screenshot({ path: env('VMUI_SCREENSHOT'), fullPage: true });
    const summary = {
      url: `${base}/select/vmui/`,
      query,
      expected: expect,
      missing,
      passed: missing.length === 0,
      seconds: (Date.now() - started) / 1000,
      browser: `chromium ${browser.version()}`,
      screenshot: env('VMUI_SCREENSHOT'),
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exitCode = summary.passed ? 0 : 1;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`vmui_query: ${error.stack || error}\n`);
  process.exitCode = 2;
});

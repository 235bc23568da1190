// Runs one browser test file against a real host: writes a temporary configuration, migrates,
// adds the users the tests sign in as, starts `tawasul serve`, launches Debian's chromium headless
// through playwright-core, and calls the test's default export. ctest runs one process per file in
// tests/ (label `browser`); adding a test is adding a file there.
//
//   node run.mjs tests/<name>.mjs
//
// Environment (set by tests/CMakeLists.txt): TAWASUL_BINARY, TAWASUL_PLUGIN_DIR, TAWASUL_SOURCE_DIR,
// TAWASUL_ARTIFACTS (screenshots go to $TAWASUL_ARTIFACTS/<test>/), CHROMIUM (default /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { loadWords, renderedText, wordProblems } from './words.mjs';

const testFile = process.argv[2];
if (!testFile) {
  console.error('usage: node run.mjs tests/<name>.mjs');
  process.exit(2);
}
const need = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`run.mjs: ${name} is not set (run through ctest)`);
    process.exit(2);
  }
  return value;
};
const binary = need('TAWASUL_BINARY');
const pluginDir = need('TAWASUL_PLUGIN_DIR');
const sourceDir = need('TAWASUL_SOURCE_DIR');
const testName = path.basename(testFile, '.mjs');
const artifacts = path.join(need('TAWASUL_ARTIFACTS'), testName);
mkdirSync(artifacts, { recursive: true });

// A test may export `options`: { plugins: { name: 'flow-yaml config', ... } (replaces the default
// six plugins with empty config), extraYaml: 'top-level YAML', settings: [[key, value], ...]
// (stored with `tawasul settings set` before serving), beforeServe: async ({ cli, work }) => {} }.
const test = await import(pathToFileURL(path.resolve(testFile)).href);
const options = test.options || {};
const work = mkdtempSync(path.join(tmpdir(), 'tawasul-browser-'));
const config = path.join(work, 'tawasul.yaml');
const plugins = options.plugins ||
  Object.fromEntries(['webhook_receiver', 'contact_matcher', 'inbound_router', 'cloud_api', 'outbox', 'admin_inbox'].map((p) => [p, '{}']));
writeFileSync(config, `server:
  listen: "127.0.0.1:0"
  threads: 32
  web_dir: "${sourceDir}/host"
auth:
  password_cost: interactive
database:
  url: "sqlite:${work}/tawasul.db"
  migrations_dir: "${sourceDir}/migrations"
secrets:
  key_file: "${work}/master.key"
workers:
  threads: 2
plugins:
  dir: "${pluginDir}"
  load:
${Object.entries(plugins).map(([name, yaml]) => `    - ${name}: ${yaml}`).join('\n')}
${options.extraYaml || ''}
`);

// Runs `tawasul --config <config> ARGS`; `input` goes to its stdin. Returns { status, output }.
function cli(args, input = '') {
  const result = spawnSync(binary, ['--config', config, ...args], { input, encoding: 'utf8' });
  return { status: result.status, output: (result.stdout || '') + (result.stderr || '') };
}

const users = {
  admin: { email: 'admin@example.dz', name: 'Amina Admin', role: 'admin', password: 'browser-test-admin-pw' },
  agent: { email: 'agent@example.dz', name: 'Karim Agent', role: 'agent', password: 'browser-test-agent-pw' },
  viewer: { email: 'viewer@example.dz', name: 'Sara Viewer', role: 'viewer', password: 'browser-test-viewer-pw' },
};

// Product names and the like, the same in every language.
const ALLOWED = ['Tawasul', 'English', 'WhatsApp', 'Cloud API', 'API', 'Meta', 'B2B', 'wa.me', 'SSE'];
let words;
let server;
let browser;
let failed = false;
try {
  let step = cli(['migrate']);
  assert.equal(step.status, 0, `migrate failed:\n${step.output}`);
  for (const user of Object.values(users)) {
    step = cli(['user', 'add', '--email', user.email, '--name', user.name, '--role', user.role, '--password-stdin'], user.password + '\n');
    assert.equal(step.status, 0, `user add failed:\n${step.output}`);
  }

  for (const [key, value] of options.settings || []) {
    step = cli(['settings', 'set', key, '--stdin'], value);
    assert.equal(step.status, 0, `settings set ${key} failed:\n${step.output}`);
  }
  if (options.beforeServe) await options.beforeServe({ cli, work });

  server = spawn(binary, ['--config', config, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk;
      const match = /serving on (http:\/\/[^\s]+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => reject(new Error(`the host exited with ${code}:\n${log}`)));
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  let shot = 0;
  const helpers = {
    page,
    context,
    browser,
    baseUrl,
    users,
    cli,
    assert,
    // A full-page screenshot: $TAWASUL_ARTIFACTS/<test>/NN-<name>.png
    screenshot: async (name) => {
      shot += 1;
      const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    // Signs in through the form and waits for the page it leads to.
    signIn: async (user = users.admin, next = '/admin') => {
      await page.goto(`${baseUrl}/admin/login?next=${encodeURIComponent(next)}`);
      await page.fill('#email', user.email);
      await page.fill('#password', user.password);
      await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    },
    hostLog: () => log,
    // The rendered-text check (words.mjs): fails when the current page, read as `locale`, shows a
    // raw catalog key, a table name or (fr, ar) an English word; `allow`: names the page may show.
    checkWords: async (where, locale, allow = []) => {
      words = words || loadWords(sourceDir);
      const text = await renderedText(page);
      const problems = wordProblems(words, locale, text, [...ALLOWED, ...Object.values(users).map((u) => u.name), ...allow]);
      assert.deepEqual(problems, [], `${where} in ${locale} shows words that are not its language's:\n${text}`);
    },
    // Polls condition (sync or async) every 50 ms until it holds; throws naming `what` after timeout ms.
    until: async (what, condition, timeout = 15000) => {
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        if (await condition()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    },
  };
  await test.default(helpers);
  console.log(`ok: ${testName} (screenshots in ${artifacts})`);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${testName}: ${error.stack || error}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

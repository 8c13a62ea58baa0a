// Shared set-up for the end-to-end tests: a static server for dist/ and headless Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(ROOT, 'dist');
export const ARTIFACTS = join(ROOT, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Serve dist/ with python's static server; returns { url, stop }. */
export async function serveDist() {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error('dist/index.html is missing: run `trunk build --release` first (scripts/web-test.sh does)');
  }
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port), '--directory', DIST], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return { url, stop: () => proc.kill() };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`the static server did not start on ${url}`);
}

/** Headless Chromium; `webgpu` adds --enable-unsafe-webgpu (software SwiftShader adapter). */
export async function launch({ webgpu }) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'neurolab-e2e-'));
  const args = webgpu ? [...BASE_ARGS, '--enable-unsafe-webgpu'] : BASE_ARGS;
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

/** A page that fails the test on uncaught errors (a panic in the wasm shows up here). */
export async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return { page, errors };
}

export function byTestId(page, id) {
  return page.locator(`[data-testid="${id}"]`);
}

/** Wait for the run state badge to read one of `states`. */
export async function waitState(page, states, timeout = 60_000) {
  const wanted = Array.isArray(states) ? states : [states];
  await page.waitForFunction(
    (w) => w.includes(document.querySelector('[data-testid="run-state"]')?.textContent),
    wanted,
    { timeout },
  );
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** A small, fast experiment as a link fragment. */
export function smallLink(extra = '') {
  return `#v=1&lab=grok&model=mlp&p=23&hidden=64&steps=300&every=10&lr=0.003&backend=cpu${extra}`;
}

/** Fail on a crash (a panic in the wasm) or a Content-Security-Policy violation the page logged. */
export function assertNoCrash(errors) {
  const crashes = errors.filter((e) => /panicked|RuntimeError|unreachable|uncaught|Content Security Policy/i.test(e));
  assert.deepEqual(crashes, [], 'the page logged a crash or a CSP violation');
}

/** Text of an element, trimmed. */
export async function text(page, id) {
  return (await byTestId(page, id).textContent())?.trim() ?? '';
}

/** Wait until an element's text matches `re` (the DOM may settle a frame after run-state); its text. */
export async function waitText(page, id, re, timeout = 30_000) {
  try {
    await page.waitForFunction(
      ([sel, src, flags]) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ''),
      [`[data-testid="${id}"]`, re.source, re.flags],
      { timeout },
    );
  } catch (e) {
    assert.match(await text(page, id), re);
    throw e;
  }
  return text(page, id);
}

/** Wait until an element is visible and its text contains `substring`. */
export async function assertVisibleText(page, id, substring, timeout = 30_000) {
  const el = byTestId(page, id);
  await el.waitFor({ state: 'visible', timeout });
  await page.waitForFunction(
    ([sel, s]) => document.querySelector(sel)?.textContent.includes(s),
    [`[data-testid="${id}"]`, substring],
    { timeout },
  );
}

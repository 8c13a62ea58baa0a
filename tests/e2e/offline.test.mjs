// Offline use: after one visit the service worker has cached the page, both wasm files and the
// worker, so the lab opens and trains with the server gone; a new build replaces the cache and
// the page says so. Served by a small server of its own whose files can be swapped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { tmpdir } from 'node:os';
import { DIST, artifact, assertNoCrash, assertVisibleText, byTestId, launch, openPage, smallLink, waitState } from './helpers.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** A static server over `root.dir` (switchable), that can be turned off and on. */
async function switchableServer(root) {
  const state = { on: true };
  const server = createServer((req, res) => {
    if (!state.on) { req.socket.destroy(); return; }
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(root.dir, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404); res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, state, stop: () => server.close() };
}

describe('offline', () => {
  let browser;
  let server;
  const root = { dir: mkdtempSync(join(tmpdir(), 'neurolab-offline-')) };
  before(async () => {
    cpSync(DIST, root.dir, { recursive: true });
    server = await switchableServer(root);
    browser = await launch({ webgpu: false });
  });
  after(async () => {
    await browser?.close();
    server?.stop();
    rmSync(root.dir, { recursive: true, force: true });
  });

  test('after one visit the lab opens and trains offline; a new build says so', async () => {
    const sw = readFileSync(join(root.dir, 'sw.js'), 'utf8');
    assert.ok(!sw.includes('__NEUROLAB_FILES__') && sw.includes('worker_bg.wasm'), 'the build filled in sw.js');
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 120_000);
    // The service worker installed: every file cached, and it controls the page.
    await page.waitForFunction(async () => {
      const reg = await navigator.serviceWorker.ready;
      const keys = await caches.keys();
      return reg.active && navigator.serviceWorker.controller && keys.some((k) => k.startsWith('neurolab-'));
    }, null, { timeout: 60_000 });

    server.state.on = false;
    await page.reload();
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'run').click();
    await page.waitForFunction(() => /step [1-9]\d* \//.test(document.querySelector('[data-testid="progress"]').textContent), null, { timeout: 60_000 });
    await page.screenshot({ path: artifact('offline.png') });

    // A new build: the next visit installs it, drops the old cache and the page says so.
    server.state.on = true;
    writeFileSync(join(root.dir, 'sw.js'), sw.replace(/const VERSION = '[^']*'/, "const VERSION = 'next-build'"));
    await page.reload();
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await assertVisibleText(page, 'updated', 'neurolab was updated (build next-build)', 60_000);
    const keys = await page.evaluate(() => caches.keys());
    assert.deepEqual(keys, ['neurolab-next-build']);
    assertNoCrash(errors);
    await page.close();
  });
});

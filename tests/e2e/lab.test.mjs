// End-to-end journeys through the grokking lab in headless Chromium (system chromium, driven by
// playwright-core). Run: node --test --test-concurrency=1 tests/e2e/ (after `trunk build --release`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { artifact, assertNoCrash, assertVisibleText, byTestId, launch, openPage, serveDist, smallLink, text, waitState } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());



/** The canvas as a data URL: changes when the chart is redrawn with new data. */
async function canvasPixels(page, id) {
  return page.$eval(`[data-testid="${id}"]`, (c) => c.toDataURL());
}

describe('with WebGPU enabled', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: true }); });
  after(async () => { await browser?.close(); });

  test('run, watch the curves, pause quickly, share and reopen', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready');
    assert.match(await text(page, 'backend'), /^cpu/, 'the link asked for the CPU');
    assert.equal(await byTestId(page, 'grok-p').inputValue(), '23');
    assert.equal(await byTestId(page, 'grok-hidden').inputValue(), '64');
    const blank = await canvasPixels(page, 'chart-acc');

    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 60_000);
    const metrics = await text(page, 'metrics');
    assert.match(metrics, /test acc\s*\d+(\.\d)?%/, metrics);
    assert.match(metrics, /step\s*300/, metrics);
    assert.match(await text(page, 'progress'), /step 300 \/ 300/);
    // The chart is drawn on animation frames; give it one.
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid="chart-acc"]').toDataURL() !== before,
      blank,
    );

    // Hovering a chart reads the nearest report.
    const box = await byTestId(page, 'chart-loss').boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.waitForFunction(() => /^step \d+ · train loss/.test(
      document.querySelector('[data-testid="hover"]').textContent));
    await page.screenshot({ path: artifact('lab-finished.png'), fullPage: true });

    // Exports: the curves as CSV and the weights as safetensors.
    const [csv] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'export-csv').click()]);
    assert.match(csv.suggestedFilename(), /^neurolab-grok-mlp-p23-add-curves\.csv$/);
    const [weights] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'export-weights').click()]);
    assert.match(weights.suggestedFilename(), /^neurolab-grok-mlp-p23-add-step300\.safetensors$/);

    // The log step axis is part of the link.
    await byTestId(page, 'logx').check();
    await page.waitForFunction(() => location.hash.includes('logx=1'));

    // A bad entry shows the core's message, keeps the text and is not applied.
    const linkBefore = await byTestId(page, 'share-link').inputValue();
    await byTestId(page, 'grok-p').fill('300');
    await byTestId(page, 'grok-p').press('Tab');
    await assertVisibleText(page, 'config-error', 'p must be between 5 and 257, got 300');
    assert.equal(await byTestId(page, 'grok-p').inputValue(), '300');
    assert.equal(await byTestId(page, 'share-link').inputValue(), linkBefore);

    // A long budget, so that the run is still going when we pause it.
    await byTestId(page, 'grok-p').fill('23');
    await byTestId(page, 'grok-steps').fill('100000');
    await byTestId(page, 'grok-steps').press('Tab');
    await waitState(page, 'ready');
    assert.equal(await byTestId(page, 'config-error').isVisible(), false);
    await byTestId(page, 'run').click();
    await waitState(page, 'running');
    await page.waitForFunction(() => /step [1-9]\d* \//.test(
      document.querySelector('[data-testid="progress"]').textContent));
    await page.waitForTimeout(300);
    // Time from the click to the worker's answer on screen.
    const pauseMs = await page.evaluate(() => new Promise((resolve) => {
      const state = document.querySelector('[data-testid="run-state"]');
      const t0 = performance.now();
      const obs = new MutationObserver(() => {
        if (state.textContent === 'paused') {
          obs.disconnect();
          resolve(performance.now() - t0);
        }
      });
      obs.observe(state, { childList: true, subtree: true, characterData: true });
      document.querySelector('[data-testid="pause"]').click();
    }));
    console.log(`pause handled in ${pauseMs.toFixed(1)} ms`);
    assert.ok(pauseMs < 200, `pause took ${pauseMs} ms`);
    const progress = await text(page, 'progress');
    assert.match(progress, /steps\/s/, progress);
    console.log(`progress at pause: ${progress}`);

    // Share: the address and the share field carry the experiment.
    await byTestId(page, 'share').click();
    const shared = await byTestId(page, 'share-link').inputValue();
    assert.ok(shared.includes('steps=100000') && shared.includes('p=23'), shared);
    assert.equal(new URL(page.url()).hash, new URL(shared).hash);
    assertNoCrash(errors);
    await page.close();

    const fresh = await openPage(browser.context, shared);
    await waitState(fresh.page, 'ready');
    for (const [id, value] of [['grok-p', '23'], ['grok-hidden', '64'], ['grok-steps', '100000'], ['grok-model', 'mlp']]) {
      assert.equal(await byTestId(fresh.page, id).inputValue(), value, id);
    }
    assert.equal(await byTestId(fresh.page, 'logx').isChecked(), true);
    assert.match(await text(fresh.page, 'backend'), /^cpu/);
    assertNoCrash(fresh.errors);
    await fresh.page.close();
  });

  test('trains on WebGPU when the browser has it', async () => {
    const { page, errors } = await openPage(
      browser.context,
      `${server.url}#v=1&lab=grok&model=mlp&p=7&hidden=16&steps=20&every=5&lr=0.01&backend=auto`,
    );
    await page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.textContent.startsWith('webgpu'), null, { timeout: 60_000 });
    console.log(`backend: ${await text(page, 'backend')}`);
    assert.equal(await byTestId(page, 'backend-notice').count(), 0);
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 120_000);
    const metrics = await text(page, 'metrics');
    assert.match(metrics, /step\s*20/, metrics);
    assert.doesNotMatch(metrics, /NaN/, metrics);
    await page.screenshot({ path: artifact('lab-webgpu.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });

  test('embed mode shows only the charts, the run controls and a link to the full lab', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink('&embed=1&hide=step'));
    await waitState(page, 'ready');
    assert.equal(await byTestId(page, 'grok-p').isVisible(), false);
    for (const id of ['share', 'export-csv', 'metrics', 'progress', 'backend', 'step']) {
      assert.equal(await byTestId(page, id).isVisible(), false, `${id} hidden`);
    }
    for (const id of ['run', 'pause', 'reset', 'chart-loss', 'chart-acc', 'chart-norm', 'open-full']) {
      assert.equal(await byTestId(page, id).isVisible(), true, `${id} shown`);
    }
    const full = await byTestId(page, 'open-full').getAttribute('href');
    assert.ok(full.includes('p=23') && !full.includes('embed') && !full.includes('hide'), full);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished');
    await page.screenshot({ path: artifact('embed.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });

  test('a bad or future link shows why and opens the defaults', async () => {
    const cases = [
      ['#v=1&lab=grok&p=300', 'p must be between 5 and 257, got 300'],
      ['#v=1&lab=grok&p=91', 'p must be a prime between 5 and 257, got 91'],
      ['#v=9&p=23', 'newer neurolab'],
      ['#v=1&p=%zz&&evil=1', "unknown grokking link parameter 'evil'"],
      ['#v=1&evil=1', "unknown grokking link parameter 'evil'"],
      ['#%%%', 'the link has no version'],
    ];
    for (const [fragment, message] of cases) {
      const { page, errors } = await openPage(browser.context, server.url + fragment);
      await assertVisibleText(page, 'link-error', message);
      assert.equal(await byTestId(page, 'grok-p').inputValue(), '97', 'the default preset');
      assert.equal(await byTestId(page, 'grok-hidden').inputValue(), '500');
      await byTestId(page, 'run-state').waitFor();
      if (fragment.startsWith('#v=9')) {
        await page.screenshot({ path: artifact('bad-link.png'), fullPage: true });
      }
      // The address now holds a working link again.
      assert.ok(new URL(page.url()).hash.includes('p=97'));
      assertNoCrash(errors);
      await page.close();
    }
  });
});

describe('without WebGPU', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('ablating every hidden neuron mid-run drops accuracy to chance; restoring brings it back', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready');
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 60_000);
    const acc = async () => Number((await text(page, 'metrics')).match(/train acc\s*([\d.]+)%/)?.[1] ?? 'NaN');
    const trained = await acc();
    assert.ok(trained > 20, `trained train accuracy ${trained}%`);
    await byTestId(page, 'ablate-neurons').fill('0-63');
    await byTestId(page, 'ablate-neurons').dispatchEvent('change');
    await byTestId(page, 'ablate').click();
    await page.waitForFunction(() => /64 neurons ablated/.test(
      document.querySelector('[data-testid="ablation"]').textContent));
    await page.waitForFunction((before) => {
      const m = document.querySelector('[data-testid="metrics"]').textContent.match(/train acc\s*([\d.]+)%/);
      return m && Number(m[1]) < before;
    }, trained);
    const ablated = await acc();
    assert.ok(ablated < 10, `with every neuron ablated the train accuracy is chance, got ${ablated}%`);
    await byTestId(page, 'restore').click();
    await page.waitForFunction((t) => {
      const m = document.querySelector('[data-testid="metrics"]').textContent.match(/train acc\s*([\d.]+)%/);
      return m && Number(m[1]) === t;
    }, trained);
    // A bad list is explained, not sent.
    await byTestId(page, 'ablate-neurons').fill('3, x');
    await byTestId(page, 'ablate-neurons').dispatchEvent('change');
    await byTestId(page, 'ablate').click();
    assert.match(await text(page, 'status'), /'x' is not a neuron number/);
    assertNoCrash(errors);
    await page.close();
  });

  test('an ablation mid-run goes into the link, and the link replays the same curve', async () => {
    const link = smallLink().replace('steps=300', 'steps=1500');
    const { page, errors } = await openPage(browser.context, server.url + link);
    await waitState(page, 'ready');
    await byTestId(page, 'run').click();
    await page.waitForFunction(() => {
      const m = document.querySelector('[data-testid="progress"]').textContent.match(/step (\d+) \//);
      return m && Number(m[1]) >= 200;
    });
    await byTestId(page, 'ablate-neurons').fill('0-31');
    await byTestId(page, 'ablate-neurons').dispatchEvent('change');
    await byTestId(page, 'ablate').click();
    await page.waitForFunction(() => location.hash.includes('&ev=1.'));
    await waitState(page, 'finished', 120_000);
    assert.match(await text(page, 'script-note'), /holds 1 intervention/);
    const csv = async (p) => {
      const [d] = await Promise.all([p.waitForEvent('download'), byTestId(p, 'export-csv').click()]);
      return readFileSync(await d.path(), 'utf8');
    };
    const original = await csv(page);
    const shared = await byTestId(page, 'share-link').inputValue();
    assert.ok(shared.includes('&ev=1.'), shared);
    assertNoCrash(errors);
    await page.close();

    const fresh = await openPage(browser.context, shared);
    await waitState(fresh.page, 'ready');
    assert.match(await text(fresh.page, 'script-note'), /holds 1 intervention/);
    await byTestId(fresh.page, 'run').click();
    await waitState(fresh.page, 'finished', 120_000);
    const replayed = await csv(fresh.page);
    if (replayed !== original) {
      // Name the first row that differs (and the script), so a failure says where the runs part.
      const [a, b] = [original.split('\n'), replayed.split('\n')];
      const row = a.findIndex((line, i) => line !== b[i]);
      assert.fail(`the reopened link gives another curve (script ${shared.split('&ev=')[1]}): row ${row} was\n${a[row]}\nreplayed as\n${b[row]}\n(${a.length} vs ${b.length} rows)`);
    }
    assert.ok(original.split('\n').length > 100);
    // Changing the config starts a run without the interventions.
    await byTestId(fresh.page, 'grok-seed').fill('5');
    await byTestId(fresh.page, 'grok-seed').press('Tab');
    await fresh.page.waitForFunction(() => !location.hash.includes('ev='));
    assertNoCrash(fresh.errors);
    await fresh.page.close();

    // A link made by another version opens, with a notice naming that version.
    const older = await openPage(browser.context, server.url + smallLink('&nl=0.0.9'));
    await assertVisibleText(older.page, 'version-notice', 'made by neurolab 0.0.9');
    await waitState(older.page, 'ready');
    assert.equal(await byTestId(older.page, 'link-error').count(), 0);
    assertNoCrash(older.errors);
    await older.page.close();
  });

  test('falls back to the CPU and says why', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink().replace('backend=cpu', 'backend=auto'));
    await page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.textContent.startsWith('cpu'), null, { timeout: 60_000 });
    const notice = await text(page, 'backend-notice');
    assert.match(notice, /WebGPU is not available/, notice);
    console.log(`fallback notice: ${notice}`);
    await waitState(page, 'ready');
    await byTestId(page, 'step').click();
    await page.waitForFunction(() => /step\s*1(?!\d)/.test(document.querySelector('[data-testid="metrics"]').textContent));
    await page.screenshot({ path: artifact('cpu-fallback.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });
});


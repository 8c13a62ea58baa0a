// The grokking lab's mechanism journey in headless Chromium on the CPU backend: a small MLP groks,
// its neurons become single-frequency, the progress measures separate, the phases are listed;
// the timeline scrubs back to step 0 (no structure there yet); a fork without weight decay from a
// memorised checkpoint never generalises; the one-click Grokfast comparison adds a run beside it.
// Natively the same link: run 1 reaches 99 % test accuracy at step 2550, the wd-0 fork from step
// 200 ends at ~13 % (`neurolab grok --model mlp --p 37 --hidden 64 --frac 0.4 --steps 3000
// --fork 200wd0`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { artifact, assertNoCrash, byTestId, launch, openPage, serveDist, text, waitState } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

const LINK = '#v=1&lab=grok&model=mlp&p=37&hidden=64&frac=0.4&steps=3000&every=50&ana=100&backend=cpu';

/** "N of M neurons have over half their power at one frequency" → [N, M]. */
async function singleFrequency(page) {
  const s = await text(page, 'spectrum-summary');
  const m = s.match(/(\d+) of (\d+) neurons have over half/);
  assert.ok(m, s);
  return [Number(m[1]), Number(m[2])];
}

async function gini(page) {
  const s = await text(page, 'spectrum-summary');
  return Number(s.match(/Gini ([\d.]+)/)?.[1] ?? 'NaN');
}

/** Every canvas of a view has been drawn on (not one colour). */
async function drawn(page, id) {
  return page.$eval(`[data-testid="${id}"]`, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 4; i < d.length; i += 4) {
      if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
    }
    return false;
  });
}

describe('the grokking mechanism', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('groks, shows its Fourier neurons and phases, scrubs to step 0, forks without weight decay', async () => {
    const { page, errors } = await openPage(browser.context, server.url + LINK);
    await waitState(page, 'ready');
    const t0 = Date.now();
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 240_000);
    console.log(`3000 steps (p=37, H=64) with the analysis every 100 steps on the wasm CPU backend: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`preset times: ${await text(page, 'preset-times')}`);
    assert.match(await text(page, 'preset-times'), /measured on this run/);

    // Grokked: test accuracy high, the four phases listed in order.
    const metrics = await text(page, 'metrics');
    const testAcc = Number(metrics.match(/test acc\s*([\d.]+)%/)?.[1]);
    assert.ok(testAcc >= 98, metrics);
    const stages = await text(page, 'stages');
    console.log(stages);
    for (const name of ['memorisation', 'circuit formation', 'clean-up', 'grokked']) {
      assert.ok(stages.includes(name), `${name} in ${stages}`);
    }
    assert.ok(stages.indexOf('memorisation') < stages.indexOf('circuit formation'));
    const entries = byTestId(page, 'run-entry');
    assert.equal(await entries.count(), 1);
    assert.match(await entries.first().textContent(), /99 % test accuracy at step \d+/);

    // The neurons are single-frequency; the progress measures: restricted ≪ excluded.
    const [single, live] = await singleFrequency(page);
    console.log(`end: ${await text(page, 'spectrum-summary')}`);
    assert.ok(single >= 0.8 * live, `${single} of ${live} single-frequency`);
    const progress = await text(page, 'progress-summary');
    const restricted = Number(progress.match(/restricted loss ([\d.e-]+)/)?.[1]);
    const excluded = Number(progress.match(/excluded loss ([\d.e-]+)/)?.[1]);
    assert.ok(restricted < 0.1 && excluded > 10 * restricted, progress);
    const giniEnd = await gini(page);
    for (const id of ['chart-loss', 'chart-acc', 'chart-fourier', 'chart-moved', 'chart-cka', 'spectrum', 'freq-heat', 'neuron-heat']) {
      assert.ok(await drawn(page, id), `${id} is drawn`);
    }
    await page.screenshot({ path: artifact('grok-mechanism-grokked.png'), fullPage: true });
    await byTestId(page, 'mechanism').screenshot({ path: artifact('grok-mechanism-views.png') });

    // The frequency race inside a neuron: click a row of the neurons × frequency view.
    const heat = await byTestId(page, 'neuron-heat').boundingBox();
    await page.mouse.click(heat.x + heat.width / 2, heat.y + 2);
    await byTestId(page, 'race-chart').waitFor({ state: 'visible' });
    assert.match(await byTestId(page, 'race-neuron').inputValue(), /^\d+$/);
    await page.waitForFunction(() => {
      const c = document.querySelector('[data-testid="race-chart"]');
      return c.width > 0 && c.toDataURL().length > 2000;
    });
    await byTestId(page, 'race-chart').screenshot({ path: artifact('grok-frequency-race.png') });

    // Scrub to step 0: the initial network has no single-frequency neurons yet.
    const scrub = byTestId(page, 'scrub');
    assert.equal(await scrub.getAttribute('max'), '30', 'one checkpoint per 100 steps, step 0 included');
    await scrub.fill('0');
    await scrub.dispatchEvent('change');
    await page.waitForFunction(() => /showing step 0 \(a checkpoint\)/.test(
      document.querySelector('[data-testid="scrub-step"]').textContent));
    await page.waitForFunction(() => /^step 0:/.test(
      document.querySelector('[data-testid="spectrum-summary"]').textContent));
    const [single0] = await singleFrequency(page);
    console.log(`step 0: ${await text(page, 'spectrum-summary')}`);
    assert.ok(single0 < single / 4, `at step 0 ${single0} single-frequency neurons, at the end ${single}`);
    const gini0 = await gini(page);
    assert.ok(2 * gini0 < giniEnd, `the spectrum concentrates: Gini ${gini0} at step 0, ${giniEnd} at the end`);
    await page.screenshot({ path: artifact('grok-scrubbed-step0.png'), fullPage: true });

    // Scrub to step 200 (memorised, not generalised) and fork it without weight decay.
    await scrub.fill('2');
    await scrub.dispatchEvent('change');
    await page.waitForFunction(() => /showing step 200 /.test(
      document.querySelector('[data-testid="scrub-step"]').textContent));
    await byTestId(page, 'fork-wd').fill('0');
    await byTestId(page, 'fork-wd').dispatchEvent('change');
    await byTestId(page, 'fork').click();
    await page.waitForFunction(() => location.hash.includes('fork=200wd0'));
    await waitState(page, 'running', 30_000);
    await waitState(page, 'finished', 240_000);
    assert.equal(await entries.count(), 2);
    const second = await entries.nth(1).textContent();
    assert.match(second, /at step 200: wd 0/, second);
    assert.match(second, /not at 99 % test accuracy yet/, second);
    await byTestId(page, 'live').click();
    await page.screenshot({ path: artifact('grok-fork-wd0.png'), fullPage: true });

    // Grokfast side by side: one click adds a run from step 0 with Grokfast on, same seed.
    await byTestId(page, 'compare-grokfast').click();
    await page.waitForFunction(() => location.hash.includes('0gf1'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="run-entry"]').length === 3, null, { timeout: 60_000 });
    await waitState(page, 'finished', 300_000);
    const runs = await text(page, 'runs');
    console.log(`runs: ${runs}`);
    assert.match(runs, /Grokfast on/, runs);
    await page.screenshot({ path: artifact('grok-grokfast-compare.png'), fullPage: true });

    // The link replays the forks.
    const shared = page.url();
    assertNoCrash(errors);
    await page.close();
    const again = await openPage(browser.context, shared);
    await waitState(again.page, 'ready');
    assert.equal(await byTestId(again.page, 'grok-fork').inputValue(), '0gf1_200wd0');
    assertNoCrash(again.errors);
    await again.page.close();
  });

  test('speed with and without the analysis (printed, not asserted)', async () => {
    // The quick preset's model for 1500 steps, analysed at its default interval (100) or never.
    // Without, with, without again: sequential runs drift, so the two without are averaged.
    const times = { 0: 0, 100: 0 };
    for (const ana of [0, 100, 0]) {
      const link = `#v=1&lab=grok&model=mlp&p=53&hidden=128&frac=0.3&steps=1500&every=50&ana=${ana}&backend=cpu`;
      const { page, errors } = await openPage(browser.context, server.url + link);
      await waitState(page, 'ready');
      const t0 = Date.now();
      await byTestId(page, 'run').click();
      await waitState(page, 'finished', 240_000);
      times[ana] += (Date.now() - t0) / 1000 / (ana === 0 ? 2 : 1);
      assertNoCrash(errors);
      await page.close();
    }
    const slower = (times[100] / times[0] - 1) * 100;
    console.log(`wasm CPU, p=53 H=128, 1500 steps: ${times[100].toFixed(1)} s analysed every 100 steps, ${times[0].toFixed(1)} s without (${(1500 / times[100]).toFixed(0)} vs ${(1500 / times[0]).toFixed(0)} steps/s; the analysis costs ${slower.toFixed(1)} %)`);
  });
});

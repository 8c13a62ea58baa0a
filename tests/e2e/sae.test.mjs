// End-to-end journey through the SAE lab in headless Chromium (CPU backend): open a tiny toy-model
// SAE from a link, train it to the end, see MMCS in the metrics, open a feature in the browser,
// clamp it and see the model's output change, then reopen the share link with the same config.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { artifact, assertNoCrash, byTestId, launch, openPage, serveDist, text, waitState, waitText } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

// 16 true features in 6 dims, 32 latents, TopK k = 3: seconds on the wasm CPU backend.
const LINK = '#v=1&lab=sae&source=toy&kind=topk&latents=32&k=3&k_aux=4&steps=300&batch=128'
  + '&report_every=50&seed=4&toy_n=16&toy_m=6&toy_steps=400&toy_samples=1024&backend=cpu';



describe('SAE lab', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('train, browse a feature, clamp it, share and reopen', async () => {
    const { page, errors } = await openPage(browser.context, server.url + LINK);
    await waitState(page, 'ready', 90_000);
    assert.equal(await byTestId(page, 'lab-picker').inputValue(), 'sae');
    assert.equal(await byTestId(page, 'sae-latents').inputValue(), '32');
    await waitText(page, 'metrics', /16 features in 6 dims/, 30_000);

    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 90_000);
    const metrics = await text(page, 'metrics');
    assert.match(metrics, /step\s*300/);
    const mmcs = Number(metrics.match(/MMCS\s*([\d.]+)/)?.[1] ?? 'NaN');
    assert.ok(mmcs > 0.5, `MMCS after training: ${mmcs} (${metrics})`);
    assert.match(metrics, /FVU/);
    assert.doesNotMatch(metrics, /CE-loss score/, 'no CE score on the toy source');

    // The feature browser: the densest feature first; open it.
    await page.waitForSelector('[data-testid="feature-list"][data-step="300"] li', { timeout: 30_000 });
    const first = page.locator('[data-testid="feature-list"] li').first();
    const id = await first.getAttribute('data-testid');
    const index = Number(id.replace('feature-', ''));
    await first.click();
    await page.waitForFunction((i) => document.querySelector('[data-testid="feature-title"]')
      ?.textContent.includes(`feature #${i}`), index, { timeout: 30_000 });
    assert.match(await text(page, 'feature-title'), /matches true feature \d+ \(cos/);
    assert.ok(await page.locator('[data-testid="top-inputs"] li').count() > 3, 'top inputs listed');
    assert.equal(await byTestId(page, 'clamp-index').inputValue(), String(index), 'the clamp targets it');

    // Clamp: set the feature to 0 and then to a large value at its top input.
    const sample = (await page.locator('[data-testid="top-inputs"] li').first().textContent())
      .match(/sample (\d+)/)[1];
    await byTestId(page, 'clamp-input').fill(sample);
    await byTestId(page, 'clamp-input').dispatchEvent('change');
    await byTestId(page, 'clamp-op').selectOption('zero');
    await byTestId(page, 'clamp').click();
    await page.waitForFunction(() => /→ 0\.000 ·/.test(
      document.querySelector('[data-testid="clamp-result"]').textContent), null, { timeout: 30_000 });
    const zeroed = await text(page, 'clamp-result');
    await byTestId(page, 'clamp-op').selectOption('set');
    await byTestId(page, 'clamp-value').fill('20');
    await byTestId(page, 'clamp-value').dispatchEvent('change');
    await byTestId(page, 'clamp').click();
    await page.waitForFunction(() => /→ 20\.00 ·/.test(
      document.querySelector('[data-testid="clamp-result"]').textContent), null, { timeout: 30_000 });
    const boosted = await text(page, 'clamp-result');
    assert.notEqual(boosted, zeroed, 'the clamp result changes');
    // The model's output after the edit differs between the two clamps.
    assert.notEqual(boosted.split('after:')[1], zeroed.split('after:')[1], `${zeroed} vs ${boosted}`);
    await page.screenshot({ path: artifact('sae-clamp.png'), fullPage: true });

    // A bad clamp input is explained, not sent.
    await byTestId(page, 'clamp-input').fill('99999');
    await byTestId(page, 'clamp-input').dispatchEvent('change');
    await byTestId(page, 'clamp').click();
    assert.match(await text(page, 'status'), /sample must be a whole number from 0 to 1023/);

    // The share link reopens the same config.
    const link = await byTestId(page, 'share-link').inputValue();
    assert.match(link, /lab=sae/);
    assert.match(link, /latents=32/);
    assert.match(link, /toy_samples=1024/);
    const again = await openPage(browser.context, link);
    await waitState(again.page, 'ready', 90_000);
    assert.equal(await byTestId(again.page, 'sae-latents').inputValue(), '32');
    assert.equal(await byTestId(again.page, 'sae-seed').inputValue(), '4');
    assert.equal(await byTestId(again.page, 'sae-k').inputValue(), '3');
    assertNoCrash(errors);
    assertNoCrash(again.errors);
    await again.page.close();
    await page.close();
  });

  test('a grokking source: CE-loss score, Fourier heat-map, clamp a pair, decode a neuron', async () => {
    const link = '#v=1&lab=sae&source=grok-mlp&kind=topk&latents=64&k=4&k_aux=16&steps=200'
      + '&batch=256&report_every=50&seed=1&grok_p=23&grok_steps=300&backend=cpu';
    const { page, errors } = await openPage(browser.context, server.url + link);
    await waitState(page, 'ready', 120_000);
    await waitText(page, 'metrics', /grokking preset trained here \(mlp, p = 23, 300 steps/, 30_000);
    // The step-0 report follows the session: the CE-loss score applies to grok sources.
    await page.waitForFunction(() => /CE-loss score/.test(
      document.querySelector('[data-testid="metrics"]').textContent), null, { timeout: 30_000 });
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 120_000);
    const score = Number((await text(page, 'metrics')).match(/CE-loss score\s*(-?[\d.]+)/)?.[1] ?? 'NaN');
    assert.ok(score > 0, `CE-loss score ${score}`);

    await page.waitForSelector('[data-testid="feature-list"][data-step="200"] li', { timeout: 30_000 });
    await page.locator('[data-testid="feature-list"] li').first().click();
    await page.waitForFunction(() => /dominant Fourier frequency k=\(/.test(
      document.querySelector('[data-testid="feature-title"]')?.textContent), null, { timeout: 30_000 });
    // The heat-map is p × p and not blank.
    const ink = await page.$eval('[data-testid="heatmap"]', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 2] < 250) n++;
      return { n, w: c.width, h: c.height };
    });
    assert.equal(ink.w, 23);
    assert.equal(ink.h, 23);
    assert.ok(ink.n > 10, `heat-map ink ${ink.n}`);
    assert.match(await text(page, 'top-inputs'), /\(\d+, \d+\) → \d+/);

    // Clamp the feature at its top pair (a click on a top input picks it): zeroing it is shown
    // with the output distribution before and after.
    assert.equal(await byTestId(page, 'clamp-input').inputValue(), '0, 0');
    const top = await page.locator('[data-testid="top-inputs"] li').first().textContent();
    const [, a, b] = top.match(/\((\d+), (\d+)\)/);
    await page.locator('[data-testid="top-inputs"] li').first().click();
    assert.equal(await byTestId(page, 'clamp-input').inputValue(), `${a}, ${b}`);
    await byTestId(page, 'clamp-op').selectOption('zero');
    await byTestId(page, 'clamp').click();
    await page.waitForFunction(() => /→ 0\.000 · top output before: \d+ \(p [\d.]+\) · after: \d+ \(p/.test(
      document.querySelector('[data-testid="clamp-result"]').textContent), null, { timeout: 30_000 });

    // Set it far above its range at a pair whose answer (a + b mod 23) it does not promote:
    // the model's top output becomes one the feature's logit effect promotes.
    const promoted = (await text(page, 'promoted')).split(', ').slice(0, 3).map((x) => x.split(' ')[0]);
    const off = [...Array(23).keys()].find((v) => !promoted.includes(String(v)));
    await byTestId(page, 'clamp-input').fill(`0, ${off}`);
    await byTestId(page, 'clamp-input').dispatchEvent('change');
    await byTestId(page, 'clamp-op').selectOption('set');
    await byTestId(page, 'clamp-value').fill('200');
    await byTestId(page, 'clamp-value').dispatchEvent('change');
    await byTestId(page, 'clamp').click();
    await page.waitForFunction(() => /→ 200\.0 · top output/.test(
      document.querySelector('[data-testid="clamp-result"]').textContent), null, { timeout: 30_000 });
    const result = await text(page, 'clamp-result');
    const afterTop = result.match(/after: (\d+)/)[1];
    assert.ok(promoted.includes(afterTop), `${result}; promoted ${promoted}`);

    // Decode a model neuron through the unembedding.
    await byTestId(page, 'neuron-index').fill('7');
    await byTestId(page, 'neuron-index').dispatchEvent('change');
    await byTestId(page, 'decode-neuron').click();
    await page.waitForFunction(() => /model neuron 7/.test(
      document.querySelector('[data-testid="feature-title"]')?.textContent), null, { timeout: 30_000 });
    assert.match(await text(page, 'promoted'), /^\d+ \(/);
    await page.screenshot({ path: artifact('sae-grok.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });
});

// No link, value or failure crashes the lab: hostile links of every class open their own lab
// with a readable message and the valid values kept; a diverging run stops and says so; a lost
// WebGPU device and a crashed worker are recovered from without a reload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  artifact, assertNoCrash, assertVisibleText, byTestId, launch, openPage, serveDist, text, waitState,
} from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

/** [fragment, the lab that opens, a piece of the message]. */
const HOSTILE = [
  // Over the memory or time budget.
  ['v=1&lab=grok&p=257&hidden=4096&backend=cpu', 'grok', 'the browser allows 1 GB'],
  ['v=1&lab=sae&source=toy&toy_samples=1000000&toy_n=1024&toy_m=1000&latents=65536&backend=cpu', 'sae', 'this SAE needs ~'],
  ['v=1&lab=spike&preset=reservoir&n=20000&pc=0.5&backend=cpu', 'spike', 'limit of 12000000'],
  // Not finite.
  ['v=1&lab=grok&lr=nan&backend=cpu', 'grok', "'lr' has a bad value 'nan'"],
  ['v=1&lab=spike&we=inf&backend=cpu', 'spike', "'we' has a bad value 'inf'"],
  ['v=1&lab=sae&l1=NaN&backend=cpu', 'sae', "'l1' has a bad value 'NaN'"],
  // Huge integers.
  ['v=1&lab=spike&n=99999999999999999999999&backend=cpu', 'spike', "'n' has a bad value"],
  ['v=1&lab=grok&steps=18446744073709551616&backend=cpu', 'grok', "'steps' has a bad value"],
  ['v=1&lab=sae&latents=4294967297&backend=cpu', 'sae', 'must be between 2 and 65536, got 4294967297'],
  // Repeated keys, unknown keys and labs, other versions.
  ['v=1&lab=grok&p=23&p=29&backend=cpu', 'grok', "'p' appears twice"],
  ['v=1&lab=spike&zz=1&n=300&backend=cpu', 'spike', "unknown spiking link parameter 'zz'"],
  ['v=1&lab=quantum&backend=cpu', 'grok', "unknown lab 'quantum'"],
  ['v=99&lab=sae&backend=cpu', 'grok', 'newer neurolab'],
];

describe('hostile links', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('every class opens its own lab with a readable message and a live page', async () => {
    for (const [fragment, lab, message] of HOSTILE) {
      const { page, errors } = await openPage(browser.context, `${server.url}#${fragment}`);
      await assertVisibleText(page, 'link-error', message);
      await page.waitForFunction((l) => document.querySelector('main')?.dataset.lab === l, lab);
      // The link as typed stays copyable.
      assert.equal(await byTestId(page, 'original-link').inputValue(), fragment, fragment);
      // The page is alive: the lab builds (or prepares its source) and answers.
      await waitState(page, ['ready', 'preparing'], 90_000);
      // What was valid is kept: the repeated-key and unknown-key links keep their other values.
      if (fragment.includes('zz=1')) {
        assert.equal(await byTestId(page, 'spike-n').inputValue(), '300');
      }
      if (fragment.includes('p=23&p=29')) {
        assert.equal(await byTestId(page, 'grok-p').inputValue(), '23', 'the first of a repeated key');
      }
      assertNoCrash(errors);
      await page.close();
    }
  });

  test('a run that diverges stops and says so', async () => {
    // AdamW's decoupled decay multiplies the weights by 1 − lr·wd = −9 every step.
    const link = '#v=1&lab=grok&model=mlp&p=7&hidden=16&steps=400&every=1&lr=1&wd=10&backend=cpu';
    const { page, errors } = await openPage(browser.context, server.url + link);
    await waitState(page, 'ready');
    await byTestId(page, 'run').click();
    await waitState(page, 'diverged', 60_000);
    await assertVisibleText(page, 'diverged', 'NaN');
    assert.doesNotMatch(await text(page, 'metrics'), /NaN/);
    await page.screenshot({ path: artifact('diverged.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });

  test('a crashed worker is restarted on the CPU and the lab works again', async () => {
    const link = '#v=1&lab=grok&model=mlp&p=7&hidden=16&steps=40&every=10&lr=0.01&backend=cpu';
    const { page } = await openPage(browser.context, server.url + link);
    await waitState(page, 'ready');
    await page.evaluate(() => window.neurolabDebug('panic'));
    await assertVisibleText(page, 'worker-error', 'restarted on the CPU');
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 60_000);
    assert.match(await text(page, 'metrics'), /step\s*40/);
    await page.close();
  });
});

describe('with WebGPU', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: true }); });
  after(async () => { await browser?.close(); });

  test('a lost WebGPU device falls back to the CPU and the lab runs there', async () => {
    const link = '#v=1&lab=grok&model=mlp&p=7&hidden=16&steps=100000&every=5&lr=0.01&backend=webgpu';
    const { page, errors } = await openPage(browser.context, server.url + link);
    await page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.textContent.startsWith('webgpu'), null, { timeout: 60_000 });
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'run').click();
    await waitState(page, 'running', 60_000);
    await page.evaluate(() => window.neurolabDebug('lose_device'));
    await page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.textContent.startsWith('cpu'), null, { timeout: 60_000 });
    await assertVisibleText(page, 'backend-notice', 'lost');
    await assertVisibleText(page, 'session-note', 'lost');
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'step').click();
    await page.waitForFunction(() => /step\s*1(?!\d)/.test(document.querySelector('[data-testid="metrics"]').textContent));
    await page.screenshot({ path: artifact('device-lost.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });
});

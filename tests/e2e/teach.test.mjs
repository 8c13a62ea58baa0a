// For course material: the gallery opens its cards' links, a lesson is walked through with its
// question answered (progress kept across reloads), every chart explains itself and downloads as
// PNG and CSV, the loading screen and its messages, keyboard-only walks through each lab, an
// axe-core scan of every lab, and each lab at 768 px and on a phone (screenshots in artifacts/).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT, artifact, assertNoCrash, byTestId, launch, openPage, serveDist, smallLink, text, waitState, waitText } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

const SPIKE = '#v=1&lab=spike&preset=reservoir&n=200&dur=400&seed=2&eng=cpu&backend=cpu';
const SAE = '#v=1&lab=sae&source=toy&kind=topk&latents=32&k=3&k_aux=4&steps=200&batch=128'
  + '&report_every=50&seed=4&toy_n=16&toy_m=6&toy_steps=300&toy_samples=1024&backend=cpu';
const LABS = { grok: smallLink(), spike: SPIKE, sae: SAE };

async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), byTestId(page, testid).click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

/** Press Tab until the element with `testid` has the focus (a keyboard-only user's way there). */
async function tabTo(page, testid, max = 250) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    if (at === testid) return;
  }
  throw new Error(`Tab never reached ${testid}`);
}

describe('teaching', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('the gallery is the start page and its cards open their links', async () => {
    const { page, errors } = await openPage(browser.context, server.url);
    await byTestId(page, 'gallery').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#loading').count(), 0, 'the loading screen is gone');
    const cards = page.locator('.card');
    assert.ok(await cards.count() >= 12, 'cards for every preset and lesson');
    assert.ok(await page.locator('.card svg.card-picture').count() >= 12, 'each card has a picture');
    await page.screenshot({ path: artifact('gallery.png'), fullPage: true });
    // Leaving the start page by its button opens the default lab, built and ready to run.
    await byTestId(page, 'open-gallery').click();
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'open-gallery').click();
    await byTestId(page, 'card-grok-quick').click();
    await waitState(page, ['ready', 'running'], 60_000);
    assert.equal(await byTestId(page, 'lab-picker').inputValue(), 'grok');
    assert.equal(await byTestId(page, 'grok-p').inputValue(), '53', 'the quick preset (p = 53) is open');
    await page.waitForFunction(() => location.hash.includes('lab=grok'));
    // The header's button brings the gallery back; a lesson card opens its first step.
    await byTestId(page, 'open-gallery').click();
    await byTestId(page, 'card-lesson-spiking-rhythm').click();
    await waitText(page, 'lesson-step-title', /A thousand neurons, one rhythm/);
    assert.equal(await byTestId(page, 'lab-picker').inputValue(), 'spike');
    assertNoCrash(errors);
    await page.close();
  });

  test('a lesson: predict, run, reveal, next step; progress survives a reload', async () => {
    const { page, errors } = await openPage(browser.context, server.url + '#lesson=sae-grokked.1');
    await waitText(page, 'lesson-step-title', /Known features first/, 60_000);
    assert.match(await text(page, 'lesson-step-count'), /step 1 of 3/);
    assert.equal(await byTestId(page, 'lab-picker').inputValue(), 'sae');
    await page.waitForFunction(() => location.hash.includes('lesson=sae-grokked.1'));
    assert.ok(await byTestId(page, 'lesson-reveal').isDisabled(), 'no answer before a choice and a run');
    await byTestId(page, 'lesson-choice-1').check();
    assert.ok(await byTestId(page, 'lesson-reveal').isDisabled(), 'no answer before running');
    await waitState(page, ['ready', 'paused'], 120_000);
    await byTestId(page, 'run').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="lesson-reveal"]').disabled, null, { timeout: 60_000 });
    await byTestId(page, 'lesson-reveal').click();
    const answer = await waitText(page, 'lesson-answer', /^Right\./);
    assert.match(answer, /MMCS/);
    await byTestId(page, 'lesson-next').click();
    await waitText(page, 'lesson-step-title', /The grokked network's features/);
    await page.waitForFunction(() => location.hash.includes('lesson=sae-grokked.2') && location.hash.includes('source=grok-mlp'));
    // Reload: the lesson is at step 2; back at step 1 the choice and the answer are kept.
    await page.reload();
    await waitText(page, 'lesson-step-title', /The grokked network's features/, 60_000);
    await byTestId(page, 'lesson-prev').click();
    await waitText(page, 'lesson-step-title', /Known features first/);
    assert.ok(await byTestId(page, 'lesson-choice-1').isChecked(), 'the choice was kept');
    assert.ok(await byTestId(page, 'lesson-answer').isVisible(), 'the revealed answer was kept');
    await page.screenshot({ path: artifact('lesson.png') });
    // The gallery shows where the reader is.
    await byTestId(page, 'open-gallery').click();
    assert.match(await byTestId(page, 'card-lesson-sae-grokked').textContent(), /step 1 of 3/);
    assertNoCrash(errors);
    await page.close();
  });

  test('every chart explains itself and downloads as PNG and CSV', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'explain-lab').click();
    assert.match(await text(page, 'about-lab'), /memorises/);
    assert.ok(!(await byTestId(page, 'about-loss').isVisible()));
    await byTestId(page, 'explain-loss').click();
    assert.match(await text(page, 'about-loss'), /cross-entropy.*From: Nanda et al\. 2023/s);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 90_000);
    const png = await download(page, 'png-loss');
    assert.equal(png.name, 'neurolab-grok-loss.png');
    assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
    const csv = (await download(page, 'csv-acc')).bytes.toString('utf8');
    const rows = csv.trim().split('\n');
    assert.equal(rows[0], 'series,step,value');
    assert.ok(rows.some((r) => /^[^,]*test[^,]*,300,/.test(r)), `the last step is in the CSV: ${rows.slice(-3)}`);
    // The text alternative carries the latest values.
    assert.match(await byTestId(page, 'chart-acc').getAttribute('aria-label'), /latest: .* at step 300/);
    // hide=explain: no ⓘ in an embed.
    const embed = await openPage(browser.context, server.url + smallLink('&embed=1&hide=explain'));
    await waitState(embed.page, 'ready', 60_000);
    assert.equal(await embed.page.locator('[data-testid^="explain-"]:visible').count(), 0);
    await embed.page.close();
    assertNoCrash(errors);
    await page.close();
  });

  test('the spiking raster and rates, and the SAE metrics, as CSV', async () => {
    const { page, errors } = await openPage(browser.context, server.url + SPIKE);
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 90_000);
    const raster = (await download(page, 'csv-raster')).bytes.toString('utf8').trim().split('\n');
    assert.equal(raster[0], 't_ms,neuron,excitatory');
    assert.ok(raster.length > 50, `${raster.length - 1} spikes`);
    const rate = (await download(page, 'csv-rate')).bytes.toString('utf8');
    assert.match(rate, /^series,x,value\n/);
    const sae = await openPage(browser.context, server.url + SAE);
    await waitState(sae.page, 'ready', 90_000);
    await byTestId(sae.page, 'run').click();
    await waitState(sae.page, 'finished', 90_000);
    const fvu = (await download(sae.page, 'csv-recon')).bytes.toString('utf8');
    assert.match(fvu, /^series,step,value\nFVU/m);
    assert.match(fvu, /,200,/);
    // The trained SAE in SAELens's layout, read back by the Python reader (safetensors, numpy).
    const zip = await download(sae.page, 'export-saelens');
    assert.match(zip.name, /^neurolab-sae-toy-topk-L32-step200\.zip$/);
    const file = artifact(zip.name);
    writeFileSync(file, zip.bytes);
    const python = process.env.NEUROLAB_PYTHON || join(homedir(), '.cache/neurolab/py/bin/python');
    const read = spawnSync(python, [join(ROOT, 'tests/python/read_saelens.py'), file], { encoding: 'utf8' });
    assert.equal(read.status, 0, `read_saelens.py: ${read.stdout}${read.stderr}`);
    const summary = JSON.parse(read.stdout);
    assert.equal(summary.d_in, 6);
    assert.equal(summary.d_sae, 32);
    assertNoCrash(errors);
    assertNoCrash(sae.errors);
    await sae.page.close();
    await page.close();
  });

  test('a keyboard-only walk through each lab', async () => {
    for (const [lab, link] of Object.entries(LABS)) {
      const { page, errors } = await openPage(browser.context, server.url + link);
      await waitState(page, 'ready', 90_000);
      await tabTo(page, 'run');
      await page.keyboard.press('Enter');
      await waitState(page, ['running', 'finished'], 60_000);
      await waitState(page, 'finished', 120_000);
      await tabTo(page, `explain-${lab === 'grok' ? 'loss' : lab === 'spike' ? 'raster' : 'recon'}`);
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('[role="note"]:visible').count(), 1, `${lab}: the explanation opened`);
      if (lab === 'spike') {
        // The raster pick: focus it, ↓ moves the picked neuron, shift+↓ grows the range.
        await tabTo(page, 'raster');
        await page.keyboard.press('Home');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        assert.equal(await byTestId(page, 'iv-from').inputValue(), '2');
        await page.keyboard.press('Shift+ArrowDown');
        assert.equal(await byTestId(page, 'iv-to').inputValue(), '4');
        assert.match(await text(page, 'status'), /picked neuron 3/);
      }
      if (lab === 'sae') {
        // The feature list and the top inputs answer Enter.
        await page.waitForSelector('[data-testid="feature-list"] li', { timeout: 30_000 });
        const first = await page.locator('[data-testid="feature-list"] li').first().getAttribute('data-testid');
        await tabTo(page, first);
        await page.keyboard.press('Enter');
        await waitText(page, 'feature-title', new RegExp(`feature #${first.replace('feature-', '')}`));
      }
      assertNoCrash(errors);
      await page.close();
    }
  });

  test('axe-core finds no serious or critical violation in any lab, the gallery or a lesson', async () => {
    const axe = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    const pages = { ...LABS, gallery: '', lesson: '#lesson=grokking.1' };
    for (const [name, link] of Object.entries(pages)) {
      const { page } = await openPage(browser.context, server.url + link);
      if (name === 'gallery') await byTestId(page, 'gallery').waitFor({ timeout: 60_000 });
      else await waitState(page, ['ready', 'running'], 90_000);
      if (name in LABS) {
        await byTestId(page, 'run').click();
        await waitState(page, 'finished', 120_000);
        await byTestId(page, 'explain-lab').click();
      }
      if (name === 'sae') {
        // The feature browser and its detail open too.
        await page.waitForSelector('[data-testid="feature-list"] li', { timeout: 30_000 });
        await page.locator('[data-testid="feature-list"] li').first().click();
        await page.locator('[data-testid="top-inputs"] li').first().waitFor({ timeout: 30_000 });
      }
      // The page's CSP forbids injected scripts: axe runs through the debugger protocol.
      const cdp = await page.context().newCDPSession(page);
      const { result } = await cdp.send('Runtime.evaluate', {
        expression: `${axe}\n;axe.run(document, { resultTypes: ['violations'] }).then((r) => JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))))`,
        awaitPromise: true,
        returnByValue: true,
      });
      const violations = JSON.parse(result.value);
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad, [], `${name}: ${JSON.stringify(bad, null, 1)}`);
      await page.close();
    }
  });

  test('each lab is readable at 768 px and on a phone; charts fit the width', async () => {
    for (const [w, h] of [[768, 1024], [390, 844]]) {
      for (const [lab, link] of Object.entries(LABS)) {
        const { page, errors } = await openPage(browser.context, server.url + link);
        await page.setViewportSize({ width: w, height: h });
        await waitState(page, 'ready', 90_000);
        await byTestId(page, 'run').click();
        await waitState(page, 'finished', 120_000);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${lab} at ${w}px: the page is ${overflow}px wider than the screen`);
        const wide = await page.evaluate(() => [...document.querySelectorAll('canvas')]
          .filter((c) => c.getBoundingClientRect().width > 0)
          .filter((c) => c.getBoundingClientRect().right > window.innerWidth + 1)
          .map((c) => c.getAttribute('data-testid')));
        assert.deepEqual(wide, [], `${lab} at ${w}px: charts wider than the screen`);
        await page.screenshot({ path: artifact(`${lab}-${w}px.png`), fullPage: true });
        assertNoCrash(errors);
        await page.close();
      }
    }
  });

  test('without WebAssembly, its SIMD or workers the loading screen says what is missing', async () => {
    for (const [missing, message] of [['WebAssembly', /needs WebAssembly/], ['Worker', /needs Web Workers/]]) {
      const page = await browser.context.newPage();
      await page.addInitScript((name) => { delete window[name]; }, missing);
      await page.goto(server.url + smallLink());
      await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('loading-text')?.textContent ?? ''),
        message.source, { timeout: 30_000 });
      assert.equal(await byTestId(page, 'loading').getAttribute('role'), 'alert');
      await page.close();
    }
    // A browser without WebAssembly SIMD (the probe module does not validate).
    const page = await browser.context.newPage();
    await page.addInitScript(() => { WebAssembly.validate = () => false; });
    await page.goto(server.url + smallLink());
    await page.waitForFunction(() => /needs WebAssembly SIMD/.test(document.getElementById('loading-text')?.textContent ?? ''),
      null, { timeout: 30_000 });
    await page.close();
  });

  test('the Embed dialog offers start on click or at once', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'embed-open').click();
    assert.doesNotMatch(await byTestId(page, 'embed-snippet').inputValue(), /autorun/);
    await byTestId(page, 'embed-on-click').uncheck();
    await byTestId(page, 'embed-hide-explain').check();
    const snippet = await byTestId(page, 'embed-snippet').inputValue();
    assert.match(snippet, /autorun=1/);
    assert.match(snippet, /hide=explain/);
    // The link with autorun=1 runs without a click.
    const src = snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
    const embedded = await openPage(browser.context, src);
    await waitState(embedded.page, ['running', 'finished'], 60_000);
    assertNoCrash(embedded.errors);
    assertNoCrash(errors);
    await embedded.page.close();
    await page.close();
  });
});

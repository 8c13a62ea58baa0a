// End-to-end journey through the language-model lab in headless Chromium (CPU backend): train the
// facts preset a little, see a sample and recall, generate and hover a token's next-token
// distribution, open a neuron (contexts, decoding), steer with it (steered beside plain), then
// upload a small text file and train on it; an empty file gets its message. Screenshots go to
// artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { artifact, assertNoCrash, byTestId, launch, openPage, serveDist, text, waitState, waitText } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

// The facts preset, shortened: recall starts to rise within a few hundred steps.
const LINK = '#v=1&lab=lm&corpus=facts&steps=300&report_every=50&sample_every=100&backend=cpu';

describe('language-model lab', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('train facts, generate, open a neuron, steer, train on your own text', async () => {
    const { page, errors } = await openPage(browser.context, server.url + LINK);
    await waitState(page, 'ready', 120_000);
    assert.equal(await byTestId(page, 'lab-picker').inputValue(), 'lm');

    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 240_000);
    assert.match(await text(page, 'metrics'), /step\s*300/);
    await waitText(page, 'lm-sample', /step 300|300/, 30_000);
    const sample = await text(page, 'lm-sample');
    assert.doesNotMatch(sample, /show here as it trains/, sample);

    // Generate: the prompt's tokens and the continuation, each with its next-token distribution.
    await byTestId(page, 'lm-prompt').fill('the capital of france is');
    await byTestId(page, 'lm-prompt').dispatchEvent('input');
    await byTestId(page, 'lm-generate').click();
    await page.waitForFunction(() => document.querySelectorAll('#lm-gen-plain .lm-token').length > 6,
      null, { timeout: 60_000 });
    await page.locator('#lm-gen-plain .lm-token').nth(2).hover();
    await waitText(page, 'lm-next', /after 'capital'.*of/, 10_000);

    // The neuron browser: list layer 0's neurons, open the first, see contexts and decoding.
    await byTestId(page, 'lm-neurons').click();
    await page.waitForSelector('#lm-neuron-list .lm-neuron-row', { timeout: 60_000 });
    await page.locator('#lm-neuron-list .lm-neuron-row').first().click();
    await page.waitForSelector('[data-testid="lm-contexts"] li', { timeout: 60_000 });
    assert.match(await text(page, 'lm-neuron-title'), /neuron/i);
    assert.ok((await text(page, 'lm-promoted')).trim().length > 0, 'promoted tokens listed');
    await page.screenshot({ path: artifact('lm-neuron.png'), fullPage: true });

    // Steer with it: the steered generation beside the plain one, same seed.
    await byTestId(page, 'lm-steer-with').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="lm-steers"]').hidden,
      null, { timeout: 10_000 });
    await byTestId(page, 'lm-generate').click();
    await page.waitForFunction(() => document.querySelectorAll('#lm-gen-steered .lm-token').length > 6,
      null, { timeout: 60_000 });
    await page.screenshot({ path: artifact('lm-steer.png'), fullPage: true });

    // An empty file is refused with its message; a small text trains.
    await byTestId(page, 'lm-text-file').setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.from('') });
    await waitText(page, 'lm-text-error', /empty/, 10_000);
    const poem = 'the rain in spain stays mainly in the plain. '.repeat(30);
    await byTestId(page, 'lm-text-file').setInputFiles({ name: 'poem.txt', mimeType: 'text/plain', buffer: Buffer.from(poem) });
    await page.waitForFunction(() => /corpus=text/.test(location.hash), null, { timeout: 30_000 });
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'run').click();
    await page.waitForFunction(() => /step\s*[1-9]/.test(document.querySelector('[data-testid="metrics"]')?.textContent ?? ''),
      null, { timeout: 120_000 });
    await byTestId(page, 'pause').click().catch(() => {});
    await page.screenshot({ path: artifact('lm-own-text.png'), fullPage: true });
    assertNoCrash(errors);
  });
});

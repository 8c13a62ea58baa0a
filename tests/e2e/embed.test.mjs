// The embed API: the example host page (static/embed-host.html) embeds a lab in an iframe and
// drives it with postMessage — run to the end, hear its reports and its finish, set values
// (checked like a link), and get a clear error for a bad value or a bad command.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { artifact, assertNoCrash, byTestId, launch, openPage, serveDist, smallLink } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

/** Wait until the host heard a message matching `pred` (checked in the page). */
async function heard(page, pred, timeout = 60_000) {
  await page.waitForFunction(pred, null, { timeout });
}

describe('the embed API', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('a host page runs an embedded lab, hears its reports and finish, and sets values', async () => {
    const link = smallLink('&embed=1').replace('steps=300', 'steps=100');
    const { page, errors } = await openPage(browser.context, `${server.url}embed-host.html${link}`);
    await heard(page, () => window.labMessages.some((m) => m.neurolab === 'ready' && m.lab === 'grok'));

    await page.click('#run');
    await heard(page, () => window.labMessages.some((m) => m.neurolab === 'finished'), 120_000);
    const messages = await page.evaluate(() => window.labMessages);
    const reports = messages.filter((m) => m.neurolab === 'report');
    assert.ok(reports.length >= 10, `${reports.length} reports`);
    const last = reports.at(-1).report.metrics;
    assert.equal(last.step, 100);
    assert.ok(last.test_acc >= 0 && last.test_acc <= 1);
    const finished = messages.find((m) => m.neurolab === 'finished');
    assert.deepEqual([finished.position.done, finished.position.total], [100, 100]);
    assert.ok(messages.some((m) => m.neurolab === 'progress'), 'progress is posted');

    // Set values: checked like a link, then the lab's state comes back.
    await page.evaluate(() => window.neurolab({ neurolab: 'set', values: { wd: 0.5, steps: 60 } }));
    await heard(page, () => window.labMessages.some((m) => m.neurolab === 'state' && m.keys.steps === '60'));
    const state = await page.evaluate(() => window.labMessages.filter((m) => m.neurolab === 'state').at(-1));
    assert.equal(state.keys.wd, '0.5');
    assert.ok(state.link.includes('steps=60'), state.link);
    await page.evaluate(() => window.neurolab({ neurolab: 'run' }));
    await heard(page, () => window.labMessages.filter((m) => m.neurolab === 'finished').length === 2, 120_000);

    // A bad value and a bad command are answered with a message naming what was wrong.
    await page.evaluate(() => window.neurolab({ neurolab: 'set', values: { p: 91 } }));
    await heard(page, () => window.labMessages.some((m) => m.neurolab === 'error' && /p must be a prime/.test(m.message)));
    await page.evaluate(() => window.neurolab({ neurolab: 'fly' }));
    await heard(page, () => window.labMessages.some((m) => m.neurolab === 'error' && /not a neurolab command/.test(m.message)));
    await page.evaluate(() => window.neurolab({ neurolab: 'get' }));
    await heard(page, () => window.labMessages.filter((m) => m.neurolab === 'state').at(-1)?.keys.p === '23');
    await page.screenshot({ path: artifact('embed-host.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });

  test('hide= hides any panel of any lab', async () => {
    for (const [link, hidden, shown] of [
      [smallLink('&hide=mechanism,timeline,interventions'), ['mechanism', 'timeline', 'interventions'], ['charts', 'runs']],
      ['#v=1&lab=spike&n=200&backend=cpu&hide=raster,interventions', ['raster', 'interventions'], ['charts']],
      ['#v=1&lab=sae&backend=cpu&hide=features,clamp,size', ['features', 'clamp', 'size'], ['charts']],
    ]) {
      const { page, errors } = await openPage(browser.context, server.url + link);
      await page.locator('[data-panel="charts"]').first().waitFor({ state: 'attached', timeout: 60_000 });
      const isHidden = (name) => page.$eval(`[data-panel="${name}"]`, (el) => el.hidden && getComputedStyle(el).display === 'none');
      for (const name of hidden) assert.equal(await isHidden(name), true, `${name} is hidden (${link})`);
      for (const name of shown) assert.equal(await isHidden(name), false, `${name} is shown (${link})`);
      assertNoCrash(errors);
      await page.close();
    }
  });

  test('the Embed dialog writes an iframe snippet that opens this experiment embedded', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await byTestId(page, 'embed-open').click();
    await byTestId(page, 'embed-height').fill('500');
    await byTestId(page, 'embed-hide-mechanism').check();
    const snippet = await byTestId(page, 'embed-snippet').inputValue();
    assert.match(snippet, /^<iframe src="[^"]+" width="100%" height="500" style="border:0" loading="lazy" title="neurolab: Grokking"><\/iframe>$/);
    const src = snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
    assert.ok(src.includes('&embed=1&hide=mechanism') && src.includes('p=23'), src);
    await page.close();
    const embedded = await openPage(browser.context, src);
    await embedded.page.locator('[data-panel="mechanism"]').waitFor({ state: 'attached', timeout: 60_000 });
    assert.equal(await embedded.page.$eval('[data-panel="mechanism"]', (el) => el.hidden), true);
    assert.equal(await byTestId(embedded.page, 'grok-p').isVisible(), false, 'no config form in an embed');
    assertNoCrash(errors);
    assertNoCrash(embedded.errors);
    await embedded.page.close();
  });

  test('lock=1 shows the settings and interventions read-only; the run controls still work', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink('&lock=1'));
    await byTestId(page, 'grok-p').waitFor({ timeout: 60_000 });
    assert.equal(await byTestId(page, 'grok-p').isDisabled(), true, 'the config is read-only');
    assert.equal(await byTestId(page, 'grok-p').inputValue(), '23', 'and still shown');
    assert.equal(await byTestId(page, 'ablate-neurons').isDisabled(), true, 'so are the interventions');
    await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled, null, { timeout: 60_000 });
    await byTestId(page, 'run').click();
    await page.waitForFunction(() => /step [1-9]\d* \//.test(document.querySelector('[data-testid="progress"]').textContent), null, { timeout: 60_000 });
    // The Embed dialog offers the lock.
    await byTestId(page, 'embed-open').click();
    await byTestId(page, 'embed-lock').check();
    assert.match(await byTestId(page, 'embed-snippet').inputValue(), /&amp;embed=1&amp;lock=1"/);
    assertNoCrash(errors);
    await page.close();
  });
});

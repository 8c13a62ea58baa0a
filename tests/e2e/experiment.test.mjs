// Experiment files and the same numbers natively and in the browser, for every lab: a run in
// headless Chromium (wasm, CPU backend) is exported from the page, re-run by the native CLI
// (`neurolab run --experiment FILE --json`), and the two runs' curves are compared point by
// point. An experiment file imported on the page draws its recorded curves at once; its re-run
// is overlaid with the difference; a tampered file is refused with the field named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, artifact, assertNoCrash, assertVisibleText, byTestId, launch, openPage, serveDist, smallLink, text, waitState } from './helpers.mjs';

/** The native CLI that `cargo test --release` built (scripts/test.sh runs it first). */
const CLI = join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'release', 'neurolab');

function cli(args) {
  assert.ok(existsSync(CLI), `the native CLI is built at ${CLI} (cargo build --release -p neurolab-cli)`);
  return execFileSync(CLI, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
}

/** The final JSON object a CLI run prints last. */
function finalOf(stdout) {
  const last = stdout.trim().split('\n').pop();
  return JSON.parse(last);
}

// One small link per lab (CPU backend). Tolerance: the largest difference allowed between the
// browser's and the native run's curves, and why it is not zero where it is not.
const LABS = [
  {
    lab: 'grok',
    link: smallLink(),
    // Measured: 2.1e-6 (test_loss, step 130 of 300). burn-flex's matmuls go through gemm, which
    // natively picks AVX2/FMA kernels at run time (fused multiply-adds, another blocking) and in
    // wasm scalar ones (no simd128), and exp/ln come from another libm: the last bits of f32
    // differ and grow a little as training goes. The spiking CPU engine has no matmul: exact.
    tolerance: 1e-4,
  },
  {
    lab: 'sae',
    // The grokking source is trained on the spot from the link's pinned grokking run.
    link: '#v=1&lab=sae&source=grok-mlp&kind=topk&latents=32&k=4&k_aux=8&steps=100&batch=128'
      + '&report_every=25&seed=2&grok_p=23&grok_steps=150&backend=cpu',
    // Measured: 3.2e-5 (fvu, step 0): the grokking source inherits the grokking lab's last-bit
    // differences (above), and the SAE's normalised activations and FVU carry them on.
    tolerance: 5e-4,
  },
  {
    lab: 'spike',
    link: '#v=1&lab=spike&preset=izhikevich2003&n=300&dur=1500&seed=3&eng=cpu&backend=cpu',
    // The CPU engine is plain f32 arithmetic and counter-based noise: bit-identical.
    tolerance: 0,
  },
];

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

describe('experiment files', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  for (const { lab, link, tolerance } of LABS) {
    test(`${lab}: the browser's run and the native run of its exported experiment agree`, async () => {
      const { page, errors } = await openPage(browser.context, server.url + link);
      await waitState(page, 'ready', 120_000);
      await byTestId(page, 'run').click();
      await waitState(page, 'finished', 240_000);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        byTestId(page, 'export-experiment').click(),
      ]);
      assert.equal(download.suggestedFilename(), `neurolab-${lab}.experiment.json`);
      const file = artifact(`${lab}.experiment.json`);
      writeFileSync(file, readFileSync(await download.path()));
      const experiment = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(experiment.format, 'neurolab-experiment');
      assert.equal(experiment.ran.backend, 'cpu');
      assert.ok(experiment.reports.length > 2, `${experiment.reports.length} reports`);
      assert.ok(experiment.link.includes(`lab=${lab}`), experiment.link);
      if (lab === 'sae') assert.match(experiment.link, /&grok=op-add_frac-/, 'the grokking source is pinned');
      assertNoCrash(errors);
      await page.close();

      const fin = finalOf(cli(['run', '--experiment', file, '--json']));
      const c = fin.curve_difference;
      console.log(`${lab}: browser vs native: ${JSON.stringify(c)}; reports ${fin.recorded_reports}, exact report difference ${fin.max_difference}`);
      assert.ok(c.points >= 10, `compared ${c.points} points`);
      assert.ok(c.max_abs <= tolerance, `largest difference ${c.max_abs} at ${JSON.stringify(c.worst)} > ${tolerance}`);
    });
  }

  test('an imported experiment shows its curves at once, re-runs over them, and a tampered one is named', async () => {
    // Recorded natively, opened in the browser.
    const file = artifact('native-grok.experiment.json');
    cli(['run', '--link', smallLink().replace('steps=300', 'steps=200'), '--experiment-out', file, '--json']);
    const n = JSON.parse(readFileSync(file, 'utf8')).reports.length;
    assert.ok(n > 10, `${n} reports`);
    const { page, errors } = await openPage(browser.context, server.url + '#v=1&lab=spike&n=200&backend=cpu');
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'import-experiment').setInputFiles(file);
    await assertVisibleText(page, 'recorded-about', `native-grok.experiment.json: ${n} reports recorded by neurolab`);
    await page.waitForFunction(() => location.hash.includes('lab=grok') && location.hash.includes('steps=200'));
    assert.match(await text(page, 'status'), /opened the experiment native-grok\.experiment\.json/);
    assert.equal(await byTestId(page, 'grok-p').inputValue(), '23');
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'run').click();
    await waitState(page, 'finished', 120_000);
    // Recorded natively, re-run in wasm: every point compared, within the grokking tolerance.
    await assertVisibleText(page, 'recorded-difference', `over ${4 * n} points`);
    const said = await text(page, 'recorded-difference');
    const m = said.match(/largest difference ([\d.e+-]+)/);
    assert.ok(said.includes('identical') || (m && Number(m[1]) <= 1e-4), said);
    await page.screenshot({ path: artifact('experiment-imported.png'), fullPage: true });

    // Dropped on the page: a file whose link was tampered with is refused, the field named,
    // and what is open stays open.
    const tampered = JSON.parse(readFileSync(file, 'utf8'));
    tampered.link = tampered.link.replace('p=23', 'p=91');
    await page.evaluate((body) => {
      const dt = new DataTransfer();
      dt.items.add(new File([body], 'tampered.json', { type: 'application/json' }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, JSON.stringify(tampered));
    await assertVisibleText(page, 'status', "could not open the experiment tampered.json: field 'link'");
    assert.match(await text(page, 'status'), /p must be a prime/);
    assert.ok(page.url().includes('p=23'), 'the open experiment is kept');
    const noReports = JSON.parse(readFileSync(file, 'utf8'));
    noReports.reports = [{ step: 'x' }];
    await page.evaluate((body) => {
      const dt = new DataTransfer();
      dt.items.add(new File([body], 'bad-reports.json'));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, JSON.stringify(noReports));
    await assertVisibleText(page, 'status', "field 'reports', entry 0");
    assertNoCrash(errors);
    await page.close();
  });

  test("a sweep's summary opens its link and draws every point's run", async () => {
    const out = artifact('sweep');
    rmSync(out, { recursive: true, force: true });
    cli(['sweep', '--link', smallLink().replace('steps=300', 'steps=60'), '--set', 'wd=0.1,1', '--jobs', '2', '--out', out]);
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 120_000);
    await byTestId(page, 'import-experiment').setInputFiles(join(out, 'sweep.json'));
    await assertVisibleText(page, 'recorded-about', 'sweep.json: a sweep of 2 points over wd');
    assert.match(await text(page, 'recorded-difference'), /2 recorded runs/);
    await page.waitForFunction(() => location.hash.includes('steps=60'));
    const names = await byTestId(page, 'recorded-curve').locator('option').allTextContents();
    assert.deepEqual(names, ['train_loss', 'test_loss', 'train_acc', 'test_acc']);
    await page.screenshot({ path: artifact('sweep-imported.png'), fullPage: true });
    assertNoCrash(errors);
    await page.close();
  });
});

// The Benchmark panel: every lab's cases timed in this browser on the backend in force (here the
// wasm CPU fallback), each row a positive rate in its unit, the results as text and JSON; the open
// lab's run waits, and starting it stops the benchmark with the reason. The rates are printed
// (and kept in artifacts/bench-cpu.json): this is how the browser's figures are measured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { artifact, assertNoCrash, byTestId, launch, openPage, serveDist, smallLink, text, waitState, waitText } from './helpers.mjs';

let server;
before(async () => { server = await serveDist(); });
after(() => server?.stop());

// Seconds each case is timed: short in CI (the software machine is slow); NEUROLAB_BENCH_SECONDS
// for a real measurement.
const SECONDS = process.env.NEUROLAB_BENCH_SECONDS ?? '1';
// The cases the panel times, by lab, in order (each lab's `Lab::bench_cases`); one list, so a
// new case changes one line.
const LABS = ['grok', 'grok', 'spike', 'sae', 'lm'];
const N = LABS.length;

describe('benchmark panel', () => {
  let browser;
  before(async () => { browser = await launch({ webgpu: false }); });
  after(async () => { await browser?.close(); });

  test('times every lab here and gives the results as text and JSON', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'open-bench').click();
    await byTestId(page, 'bench-seconds').fill(SECONDS);
    await byTestId(page, 'bench-seconds').dispatchEvent('change');
    await byTestId(page, 'bench-run').click();
    await waitText(page, 'bench-status', new RegExp(`timing case 1 of ${N}`));
    assert.ok(await byTestId(page, 'bench-run').isDisabled(), 'one benchmark at a time');
    const done = await waitText(page, 'bench-status', new RegExp(`^done: ${N} cases on cpu`), 600_000);
    const rows = await page.locator('[data-testid="bench-row"]').evaluateAll((trs) =>
      trs.map((tr) => ({ lab: tr.dataset.lab, rate: Number(tr.dataset.rate), text: tr.textContent })));
    console.log(done);
    for (const r of rows) console.log(`  ${r.text}`);
    assert.deepEqual(rows.map((r) => r.lab), LABS);
    for (const r of rows) assert.ok(Number.isFinite(r.rate) && r.rate > 0, `a positive rate: ${r.text}`);
    assert.match(rows[0].text, /steps \/ s/);
    assert.match(rows[2].text, /× real time \/ s/);
    assert.match(rows[3].text, /samples \/ s/);
    // The lab did not move meanwhile.
    assert.equal(await text(page, 'run-state'), 'ready');
    const [d] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'bench-download').click()]);
    const json = JSON.parse(readFileSync(await d.path(), 'utf8'));
    assert.equal(d.suggestedFilename(), 'neurolab-bench.json');
    assert.equal(json.rows.length, N);
    for (const key of ['lab', 'case', 'unit', 'rate', 'timed', 'seconds']) assert.ok(key in json.rows[0], key);
    assert.equal(json.backend, 'cpu');
    writeFileSync(artifact('bench-cpu.json'), JSON.stringify(json, null, 2));
    await byTestId(page, 'bench-copy').click();
    await waitText(page, 'status', /benchmark results copied/);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /^neurolab bench · cpu · /);
    assert.equal(copied.trim().split('\n').length, 2 + N);
    assertNoCrash(errors);
    await page.close();
  });

  test('starting the lab stops the benchmark and says why', async () => {
    const { page, errors } = await openPage(browser.context, server.url + smallLink());
    await waitState(page, 'ready', 60_000);
    await byTestId(page, 'open-bench').click();
    await byTestId(page, 'bench-seconds').fill('30');
    await byTestId(page, 'bench-seconds').dispatchEvent('change');
    await byTestId(page, 'bench-run').click();
    await waitText(page, 'bench-status', new RegExp(`timing case 1 of ${N}`));
    await byTestId(page, 'run').click();
    await waitText(page, 'bench-status', new RegExp(`stopped: the grok lab was started \\(0 of ${N} cases timed\\)`));
    await waitState(page, 'finished', 60_000);
    assert.ok(!(await byTestId(page, 'bench-run').isDisabled()), 'it can run again');
    await byTestId(page, 'bench-close').click();
    assert.equal(await byTestId(page, 'bench').count(), 0);
    assertNoCrash(errors);
    await page.close();
  });
});

// "Save report…" (issue 29) in headless Chromium: the page's report of the sample chain is byte
// for byte the one `vhd-viewer report` writes; opened with JavaScript disabled it shows every
// section and each file's SHA-256 (as node's crypto computes it), and it prints to PDF. Stop
// ends a report of a large disk at once, and nothing is saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { start, cliPath, tempDir, SAMPLES, CHROMIUM_ARGS, pageWith } from './helpers.mjs';

const BASE = join(SAMPLES, 'base.vhd');
const CHILD = join(SAMPLES, 'child.vhd');
const GRAND = join(SAMPLES, 'grandchild.vhd');
const sha = (/** @type {Buffer} */ b) => createHash('sha256').update(b).digest('hex');

let env;
let tmp;

before(async () => {
  for (const f of [BASE, CHILD, GRAND]) assert.ok(existsSync(f), `${f} is missing: run make samples`);
  tmp = tempDir();
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});

test('save report: the command line\'s bytes; read without JavaScript, every section and hash; prints to PDF', async () => {
  const page = await pageWith(env, [GRAND, CHILD, BASE]);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-report')]);
  assert.equal(download.suggestedFilename(), 'grandchild.report.html');
  const path = join(tmp.dir, 'report.html');
  await download.saveAs(path);
  await page.waitForFunction(() => /grandchild\.report\.html/.test(document.querySelector('#export-note')?.textContent ?? ''));
  assert.deepEqual(page.errors, []);
  await page.close();

  const cli = execFileSync(cliPath(), ['report', GRAND, '--parent', CHILD, '--parent', BASE], { maxBuffer: 64 << 20 });
  const saved = readFileSync(path);
  assert.equal(sha(saved), sha(cli), 'the page and the command line write the same report');

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const report = await context.newPage();
    await report.goto('file://' + path);
    for (const [id, heading] of [['files', 'Files'], ['summary', 'Summary'], ['findings', 'Findings'], ['pictures', 'Pictures'], ['partitions', 'Partitions'], ['changes', 'What the child changed'], ['structures', 'Structures']]) {
      assert.equal((await report.locator(`section#${id} > h2`).textContent())?.trim(), heading);
      assert.ok(await report.locator(`section#${id}`).isVisible(), `${id} is shown`);
    }
    assert.equal(await report.locator('section#pictures svg').count(), 6, 'the six pictures, inline');
    const rows = await report.locator('section#files tbody tr').allTextContents();
    assert.equal(rows.length, 3);
    for (const [i, f] of [GRAND, CHILD, BASE].entries()) assert.ok(rows[i].includes(sha(readFileSync(f))), `the SHA-256 of ${f}`);
    const pdf = await report.pdf({ format: 'A4' });
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    // A report of a chain's every structure is several pages.
    assert.ok((pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length >= 3, 'several pages');
    await context.close();
  } finally {
    await browser.close();
  }
});

test('save report: Stop ends the hashing of a large disk at once, and nothing is saved', async () => {
  const big = join(tmp.dir, 'big.vhd');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', big, '2G']);
  const page = await pageWith(env, [big]);
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.click('#export-report');
  await page.waitForSelector('#task:not([hidden])');
  await page.waitForFunction(() => /[1-9]\d*%/.test(document.querySelector('#task-count')?.textContent ?? ''));
  const stopped = Date.now();
  await page.click('#task-cancel');
  await page.waitForSelector('#task', { state: 'hidden' });
  assert.ok(Date.now() - stopped < 2000, 'stopped at once');
  assert.match(await page.textContent('#messages'), /Writing the report.*: cancelled/);
  assert.equal(downloads, 0);
  await page.close();
});

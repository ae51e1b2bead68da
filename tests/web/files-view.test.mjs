// The files view (www/js/page/views/files.js) in Chromium, on a harness page
// (tests/web/fixtures/files.html) that holds the VHDs in memory and reads them with WasmVolumes on
// the main thread: the disk strip, keyboard navigation, deleted files, a file's panel and its
// runs, saving a file (compared with `vhd-viewer get`), cancelling a save, NTFS streams, a chain
// as of its parent, and no element wider than a 400 px viewport.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, CHROMIUM_ARGS, tempDir, screenshotPath } from './helpers.mjs';
import { fsVhds, cli } from './fs-fixtures.mjs';

let env;
const vhds = fsVhds();
before(async () => {
  const { server, url } = await serve({ root: ROOT, port: 0 });
  const profile = tempDir('vhd-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
  });
  env = { url, context, close: async () => { await context.close(); await new Promise((r) => server.close(r)); profile.remove(); } };
});
after(async () => env && env.close());

/** The harness on `files` (top first), as of layer `layer`; waits for the view's first listing. */
async function harness(files, { layer = 0, delay = 0, viewport } = {}) {
  const page = await env.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && page.errors.push(m.text()));
  const list = files.map((f) => '/' + relative(ROOT, f)).join(',');
  await page.goto(`${env.url}tests/web/fixtures/files.html?files=${encodeURIComponent(list)}&layer=${layer}&delay=${delay}`);
  await page.waitForSelector('body[data-harness="ready"]');
  await page.waitForSelector('#files[data-state="ready"]');
  return page;
}

const names = (page) => page.$$eval('#files tbody tr[data-path]', (rows) => rows.map((r) => r.dataset.path));
const focused = (page) => page.evaluate(() => document.activeElement?.closest('tr')?.dataset.path);
const current = (page) => page.$eval('#files [data-field="breadcrumb"]', (n) => n.textContent);

test('the strip and partitions; the keyboard walks folders; deleted files on a toggle; a file\'s panel and runs; Save file gives `get`\'s bytes', async () => {
  const page = await harness([vhds.base]);
  try {
    const segs = await page.$$eval('#files [data-field="strip"] [data-action="partition"]', (b) => b.map((x) => [x.dataset.partition, x.textContent, x.getAttribute('aria-pressed')]));
    assert.deepEqual(segs.map((s) => s[0]), ['1', '2', '3']);
    assert.match(segs[0][1], /FAT16VOL/);
    assert.equal(segs[0][2], 'true', 'the first readable partition is open');
    const cards = await page.$$eval('#files [data-field="partitions"] li', (l) => l.map((x) => x.textContent));
    assert.match(cards[1], /NTFS/);
    assert.match(cards[1], /4 KiB aligned/);
    assert.match(await page.$eval('#files [data-field="scheme"]', (n) => n.textContent), /MBR partition table with 3 partitions/);

    // The listing: folders first, by name. Listed by itself on opening, it leaves the focus (and
    // the page) where they were; the first row is the one the keyboard reaches.
    const root = await names(page);
    assert.deepEqual(root.slice(0, 2), ['/Deep', '/Many']);
    assert.equal(await focused(page), undefined, 'an automatic listing takes no focus');
    await page.focus('#files tbody [data-action="open"][tabindex="0"]');
    assert.equal(await focused(page), '/Deep');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), '/Many');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#files [data-field="current-dir"]')?.textContent === 'Many');
    assert.equal((await names(page)).length, 30);
    assert.match(await current(page), /Many$/);
    await page.keyboard.press('End');
    assert.equal(await focused(page), '/Many/Many file number 30.txt', 'numbers sort as numbers');
    await page.keyboard.press('Backspace');
    await page.waitForFunction(() => !document.querySelector('#files [data-field="current-dir"]'));
    assert.equal(await focused(page), '/Many', 'back up, the folder left has the focus');
    // Deeper with the keyboard: Deep / a / b.
    await page.keyboard.press('ArrowUp');
    for (const dir of ['Deep', 'a', 'b']) {
      await page.keyboard.press('Enter');
      await page.waitForFunction((d) => document.querySelector('#files [data-field="current-dir"]')?.textContent === d, dir);
    }
    assert.deepEqual(await names(page), ['/Deep/a/b/bottom file.txt']);
    await page.click('#files [data-action="crumb"][data-path="/"]');
    await page.waitForFunction(() => !document.querySelector('#files [data-field="current-dir"]'));

    // Sorting by size, largest first.
    await page.click('#files [data-action="sort"][data-sort="size"]');
    await page.click('#files [data-action="sort"][data-sort="size"]');
    const files = (await names(page)).filter((p) => !['/Deep', '/Many'].includes(p));
    assert.equal(files[0], '/A fragmented file with a long name.bin');
    assert.equal(await page.$eval('#files th[aria-sort="descending"]', (n) => n.textContent), 'Size ▼');

    // Deleted files.
    assert.equal(await page.$('#files tr[data-deleted="true"]'), null);
    await page.check('#files [data-action="deleted"]');
    await page.waitForSelector('#files tr[data-deleted="true"]');
    const gone = await page.$$eval('#files tr[data-deleted="true"]', (r) => r.map((x) => [x.dataset.path, x.textContent]));
    assert.ok(gone.some(([p]) => p === '/Deleted long name.txt'), JSON.stringify(gone));
    assert.ok(gone.every(([, t]) => /deleted/.test(t)), 'marked in words, not only by colour');
    assert.equal(await page.$eval('#files [data-field="deleted-caveat"]', (n) => n.hidden), false);
    await page.uncheck('#files [data-action="deleted"]');
    await page.waitForFunction(() => !document.querySelector('#files tr[data-deleted="true"]'));

    // A file's panel.
    await page.click('#files tr[data-path="/A fragmented file with a long name.bin"] [data-action="open"]');
    await page.waitForSelector('#files [data-field="panel"]:not([hidden]) [data-field="runs"]');
    assert.equal(await page.$eval('#files [data-field="panel"] [data-field="size"]', (n) => n.textContent), '300000');
    const stat = await page.evaluate(() => window.harness.vols.stat(1, '/A fragmented file with a long name.bin', false));
    const runs = stat.runs.map((r) => [Number(r.disk_offset), Number(r.len)]);
    const buttons = await page.$$('#files [data-field="runs"] [data-action="place"]');
    assert.equal(buttons.length, runs.length);
    assert.deepEqual(await page.$$eval('#files [data-field="supply"] .part', (p) => [...new Set(p.map((x) => x.dataset.layer))]), ['0']);
    await buttons[0].click();
    assert.deepEqual(await page.evaluate(() => window.harness.placed.at(-1)), runs[0]);
    assert.match(await page.$eval('#files [data-field="peek"]', (n) => n.textContent), /^0{12}/);

    // Save file: the bytes of `vhd-viewer get`.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#files [data-field="panel"] [data-action="save"]')]);
    assert.equal(download.suggestedFilename(), 'A fragmented file with a long name.bin');
    const saved = readFileSync(await download.path());
    const want = cli(['get', vhds.base, '/A fragmented file with a long name.bin', '--partition', '1'], vhds.base);
    assert.ok(saved.equals(want), `${saved.length} bytes saved, ${want.length} from get`);
    await page.waitForSelector('#files[data-save="done"]');
    await page.screenshot({ path: screenshotPath('files-view'), fullPage: true });

    // NTFS: a stream, saved by itself (when the volume was made with FUSE: with streams).
    if (vhds.ntfsFull) {
      await page.click('#files [data-field="strip"] [data-partition="2"]');
      await page.waitForSelector('#files tr[data-path="/with stream.txt"]');
      await page.click('#files tr[data-path="/with stream.txt"] [data-action="open"]');
      await page.waitForSelector('#files [data-field="streams"]');
      const [ads] = await Promise.all([page.waitForEvent('download'), page.click('#files [data-action="save-stream"][data-stream="secret"]')]);
      assert.equal(readFileSync(await ads.path()).toString(), 'hidden data\n');
    }
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('a save in progress can be cancelled', async () => {
  const page = await harness([vhds.base], { delay: 300 });
  try {
    await page.click('#files [data-field="strip"] [data-partition="2"]');
    await page.waitForSelector('#files tr[data-path="/big.bin"]');
    await page.click('#files tr[data-path="/big.bin"] [data-action="open"]');
    await page.waitForSelector('#files [data-field="panel"] [data-action="save"]');
    await page.click('#files [data-field="panel"] [data-action="save"]');
    await page.waitForSelector('#files [data-field="save-progress"]');
    await page.click('#files [data-action="cancel-save"]');
    await page.waitForSelector('#files[data-save="cancelled"]');
    assert.match(await page.$eval('#files [data-field="save-status"]', (n) => n.textContent), /Cancelled/);
  } finally {
    await page.close();
  }
});

test('a chain as of its parent shows the parent\'s files; at 400 px nothing is wider than the window', async () => {
  const page = await harness([vhds.child, vhds.base], { layer: 1, viewport: { width: 400, height: 800 } });
  try {
    const paths = await names(page);
    assert.ok(paths.includes('/c.bin') && !paths.includes('/Added in child.txt'), paths.join());
    // As of the parent, its top layer is base.vhd.
    await page.click('#files tr[data-path="/c.bin"] [data-action="open"]');
    await page.waitForSelector('#files [data-field="supply"]');
    assert.deepEqual(await page.$$eval('#files [data-field="supply-layer"]', (l) => l.map((x) => x.textContent.trim())), ['2.93 KiB from the top layer (base.vhd)']);
    await page.click('#files tr[data-path="/A fragmented file with a long name.bin"] [data-action="open"]');
    await page.waitForSelector('#files [data-field="panel"]:not([hidden]) [data-field="runs"]');
    const wide = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      return [...document.querySelectorAll('#files *')]
        .filter((e) => !e.closest('.dump, .listing'))
        .filter((e) => e.getBoundingClientRect().right > w + 1 || e.getBoundingClientRect().left < -1)
        .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
    });
    assert.deepEqual(wide, []);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'no horizontal scroll');
    await page.screenshot({ path: screenshotPath('files-view-400'), fullPage: true });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('on any api with the same shapes: a folder of 2500 files is drawn a thousand rows at a time; a misaligned partition is said so', async () => {
  const page = await env.context.newPage();
  try {
    await page.goto(`${env.url}tests/web/fixtures/files-fake.html?n=2500`);
    await page.waitForSelector('#files[data-state="ready"]');
    assert.match(await page.$eval('#files [data-field="aligned"]', (n) => n.textContent), /Not 4 KiB aligned/);
    assert.equal((await names(page)).length, 1000);
    await page.focus('#files tbody [data-action="open"][tabindex="0"]');
    await page.keyboard.press('End');
    assert.equal(await focused(page), '/file 999.txt');
    await page.click('#files [data-action="more"]');
    assert.equal((await names(page)).length, 2000);
    await page.click('#files [data-action="more"]');
    assert.equal((await names(page)).length, 2501);
    assert.equal(await page.$('#files [data-action="more"]'), null);
    await page.click('#files tr[data-path="/file 2500.txt"] [data-action="open"]');
    await page.waitForSelector('#files [data-field="panel"]:not([hidden]) [data-field="runs"]');
    // Sorting keeps the open file drawn, however far down it comes.
    await page.click('#files [data-action="sort"][data-sort="size"]');
    assert.ok((await names(page)).includes('/file 2500.txt'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#files [data-field="panel"] [data-action="save"]')]);
    assert.equal(readFileSync(await download.path()).toString(), 'hello');
  } finally {
    await page.close();
  }
});

// Deep links (www/js/page/location.js), in headless Chromium: the page's `?src=&parent=` opens
// remote disks with HTTP Range requests; the place shown is kept in the URL's fragment (no
// history entry per move) and reopened after a reload on the same disk only; the element's
// attributes move it, and are set as the reader moves, with a `vhd-navigate` event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { CHROMIUM_ARGS, WWW, cliInfo, tempDir } from './helpers.mjs';
import { fsVhds } from './fs-fixtures.mjs';

let tmp;
let site;
let browser;
let disks;
const log = [];

before(async () => {
  tmp = tempDir('vhd-links-');
  for (const f of readdirSync(WWW)) symlinkSync(join(WWW, f), join(tmp.dir, f));
  disks = fsVhds();
  mkdirSync(join(tmp.dir, 'disks'));
  copyFileSync(disks.child, join(tmp.dir, 'disks', 'fs-child.vhd'));
  copyFileSync(disks.base, join(tmp.dir, 'disks', 'fs-base.vhd'));
  writeFileSync(join(tmp.dir, 'element.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>element</title>
<script type="module">import { VhdViewerElement } from './js/page/element.js'; VhdViewerElement.define();</script></head>
<body><vhd-viewer id="v" src="disks/fs-child.vhd" parent="disks/fs-base.vhd" view="files" partition="1" path="/Deep/a"></vhd-viewer></body></html>`);
  site = await serve({ root: tmp.dir, port: 0, onResponse: (e) => log.push(e) });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (site ? site.server.close(r) : r()));
  tmp?.remove();
});

async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && page.errors.push(m.text()));
  return page;
}

const settled = (page) => page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state)).then(() => page.evaluate(() => document.body.dataset.state));
const hash = (page) => page.evaluate(() => decodeURIComponent(location.hash));
const folder = (page, scope) => page.$eval(`${scope} [data-field="breadcrumb"]`, (n) => n.textContent);

test('the page: ?src= opens remote disks by Range; the moves are in the fragment, without history entries; a reload reopens the place', async () => {
  const page = await newPage();
  try {
    const id = cliInfo(disks.child, [disks.base]).chain[0].unique_id;
    log.length = 0;
    await page.goto(`${site.url}index.html?src=disks/fs-child.vhd&parent=disks/fs-base.vhd`);
    assert.equal(await settled(page), 'ready');
    const reads = log.filter((e) => e.path.startsWith('/disks/'));
    assert.ok(reads.length > 2 && reads.every((e) => e.status === 206 && e.range), 'the disks are read by Range requests only');
    assert.equal(await page.evaluate(() => document.querySelector('#structures-body')?.dataset.file), 'fs-child.vhd');
    assert.equal(await hash(page), `#disk=${id}`, 'the fragment names the disk as soon as it is shown');
    const entries = await page.evaluate(() => history.length);

    await page.fill('#hex-at', '5');
    await page.press('#hex-at', 'Enter');
    await page.waitForFunction(() => location.hash.includes('sector=5'));
    await page.click('#volumes tr[data-path="/Deep"] [data-action="open"]');
    await page.waitForFunction(() => location.hash.includes('path=/Deep'));
    for (const path of ['/Deep/a', '/Deep/a/b', '/Deep/a/b/bottom file.txt']) {
      await page.click(`#volumes tr[data-path="${path}"] [data-action="open"]`);
      await page.waitForFunction((p) => new URLSearchParams(location.hash.slice(1)).get('path') === p, path);
    }
    const link = await hash(page);
    assert.equal(link, `#disk=${id}&sector=5&partition=1&path=/Deep/a/b/bottom+file.txt`);
    assert.equal(await page.evaluate(() => history.length), entries, 'the fragment is replaced, not pushed');

    await page.reload();
    assert.equal(await settled(page), 'ready');
    assert.equal(await page.inputValue('#hex-at'), '5');
    assert.match(await folder(page, '#volumes'), /b$/);
    assert.equal(await page.$eval('#volumes tr.selected', (r) => r.dataset.path), '/Deep/a/b/bottom file.txt', 'the file is picked in its folder');
    await page.waitForFunction(() => /bottom file\.txt/.test(document.querySelector('#volumes [data-field="panel"]:not([hidden])')?.textContent ?? ''));
    assert.equal(await hash(page), link, 'the place survives the reload');
    // Moves in quick succession: the URL is rewritten at most every 400 ms, and ends at the last.
    for (let i = 0; i < 12; i++) await page.click('#hex-next');
    await page.waitForFunction(() => location.hash.includes('&sector=17&'));
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the page: a link opens a block up close, or the Changes view filtered; a link for another disk is ignored, silently', async () => {
  const page = await newPage();
  try {
    await page.goto(`${site.url}index.html?src=disks/fs-child.vhd&parent=disks/fs-base.vhd#view=bitmap&layer=0&block=1&sector=9`);
    assert.equal(await settled(page), 'ready');
    assert.match(await page.$eval('#closeup-body h3', (n) => n.textContent), /^Block 1 of fs-child\.vhd: virtual sectors /);
    assert.equal(await page.inputValue('#hex-at'), '9');
    assert.match(await hash(page), /&view=bitmap&layer=0&block=1&sector=9$/);

    // The Changes view with its filter: compared at once, the table filtered (diff: 5 changes, 2 under /ChildDir).
    await page.goto(`${site.url}index.html?src=disks/fs-child.vhd&parent=disks/fs-base.vhd#view=changes&changes=childdir`);
    assert.equal(await settled(page), 'ready');
    await page.waitForSelector('#changes-body[data-changes="done"]');
    assert.equal(await page.inputValue('#changes-body [data-action="filter"]'), 'childdir');
    assert.deepEqual(await page.$$eval('#changes-body tbody tr[data-path]', (rows) => rows.map((r) => r.dataset.path)).then((p) => p.sort()), ['/ChildDir', '/ChildDir/inside.txt']);
    await page.fill('#changes-body [data-action="filter"]', 'a.bin');
    await page.waitForFunction(() => location.hash.endsWith('&changes=a.bin'));

    await page.goto(`${site.url}index.html?src=disks/fs-base.vhd#disk=00000000-0000-0000-0000-000000000000&sector=9&block=1`);
    assert.equal(await settled(page), 'ready');
    assert.equal(await page.inputValue('#hex-at'), '0');
    assert.match(await page.$eval('#closeup-body', (n) => n.textContent), /^Click a square/);
    assert.equal(await page.$eval('#messages', (n) => n.textContent), '', 'nothing is said of the other disk\'s link');
    assert.equal(await hash(page), `#disk=${cliInfo(disks.base).unique_id}`);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the element: its attributes open it at a place and move it; the reader\'s moves set them, with vhd-navigate', async () => {
  const page = await newPage();
  try {
    await page.goto(`${site.url}element.html`);
    await page.waitForFunction(() => document.querySelector('#v')?.dataset.state === 'ready');
    await page.waitForFunction(() => document.querySelector('#v')?.shadowRoot?.querySelector('.files-body [data-field="current-dir"]')?.textContent === 'a');
    assert.match(await folder(page, '#v .files-body'), /Deep.*a$/);
    await page.evaluate(() => {
      const v = /** @type {HTMLElement} */ (document.querySelector('#v'));
      window.navigations = [];
      v.addEventListener('vhd-navigate', (e) => window.navigations.push(/** @type {CustomEvent} */ (e).detail));
    });

    // Set by a script: the hex tab at sector 3, then block 2 up close.
    await page.evaluate(() => {
      const v = /** @type {HTMLElement} */ (document.querySelector('#v'));
      v.setAttribute('view', 'hex');
      v.setAttribute('sector', '3');
    });
    await page.waitForFunction(() => document.querySelector('#v')?.shadowRoot?.querySelector('.panel[data-view="hex"] input')?.value === '3');
    await page.evaluate(() => {
      const v = /** @type {HTMLElement} */ (document.querySelector('#v'));
      v.setAttribute('layer', '0');
      v.setAttribute('block', '2');
    });
    await page.waitForFunction(() => /^Block 2 of fs-child\.vhd/.test(document.querySelector('#v')?.shadowRoot?.querySelector('.closeup-body h3')?.textContent ?? ''));
    const attrs = () => page.$eval('#v', (v) => Object.fromEntries(['view', 'layer', 'block', 'sector', 'partition', 'path'].map((k) => [k, v.getAttribute(k)])));
    assert.deepEqual(await attrs(), { view: 'bitmap', layer: '0', block: '2', sector: '3', partition: '1', path: '/Deep/a' });

    // The reader moves: the Files tab, a folder up; the attributes follow, each move told once.
    await page.evaluate(() => (window.navigations.length = 0));
    await page.click('#v .tabs [data-view="files"]');
    await page.click('#v .files-body [data-action="up"]');
    await page.waitForFunction(() => document.querySelector('#v')?.getAttribute('path') === '/Deep');
    assert.deepEqual(await attrs(), { view: 'files', layer: '0', block: '2', sector: '3', partition: '1', path: '/Deep' });
    const told = await page.evaluate(() => window.navigations);
    assert.deepEqual(told.map((d) => [d.view, d.path]), [['files', '/Deep/a'], ['files', '/Deep']]);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

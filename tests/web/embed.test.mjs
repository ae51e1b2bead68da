// The <vhd-viewer> element, remote disks over HTTP Range, the npm package and the self-contained
// file, in headless Chromium. Servers: `A` serves the page and same-origin disks (with Range,
// logging every answer's bytes), `B` another origin without CORS headers, `C` another origin that
// ignores Range (answers 200 with the whole file), `D` another origin with CORS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync, existsSync, mkdirSync, symlinkSync, utimesSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { CHROMIUM_ARGS, ROOT, WWW, SAMPLES, cliInfo, cliCat, tempDir, screenshotPath } from './helpers.mjs';
import { fsVhds, cli } from './fs-fixtures.mjs';

const DIST = join(ROOT, 'dist');
const sample = (n) => join(SAMPLES, n);
const GRAND = sample('grandchild.vhd');
const CHILD = sample('child.vhd');
const BASE = sample('base.vhd');
const DYNAMIC = sample('dynamic.vhd');

let tmp;
let context;
const servers = {};
const logs = { A: [], B: [], C: [], D: [] };

before(async () => {
  for (const f of [GRAND, CHILD, BASE, DYNAMIC, join(DIST, 'package.json'), join(DIST, 'vhd-viewer.html')]) assert.ok(existsSync(f), `${f} is missing: run make samples package`);
  tmp = tempDir('vhd-embed-');
  // A's folder: the page's files (linked) and the test's own disks and pages.
  const a = join(tmp.dir, 'a');
  mkdirSync(a);
  for (const f of readdirSync(WWW)) symlinkSync(join(WWW, f), join(a, f));
  // A 2040 GiB dynamic disk with a few blocks written far from its start: a 10 MiB file of which
  // opening needs only the footer (and its copy), the header and the 4 MiB block table.
  const huge = join(a, 'huge-written.vhd');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', huge, '2040G']);
  execFileSync('qemu-io', ['-f', 'vpc', '-c', 'write -P 0x11 100G 2M', '-c', 'write -P 0x22 1T 1M', '-c', 'write -P 0x33 2000G 4M', huge], { stdio: 'ignore' });
  copyFileSync(DYNAMIC, join(a, 'changing.vhd'));
  // A differencing disk with file systems, and its parent (tests/web/fixtures/make-fs-vhds.sh).
  const fsDisks = fsVhds();
  copyFileSync(fsDisks.base, join(a, 'fs-base.vhd'));
  copyFileSync(fsDisks.child, join(a, 'fs-child.vhd'));
  // The other origins' folder: a 1 GiB fixed disk (sparse on this disk) and a sample.
  const b = join(tmp.dir, 'b');
  mkdirSync(b);
  execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', join(b, 'big.vhd'), '1G']);
  copyFileSync(DYNAMIC, join(b, 'dynamic.vhd'));
  const log = (k) => (e) => logs[k].push(e);
  servers.A = await serve({ root: a, port: 0, onResponse: log('A') });
  servers.B = await serve({ root: b, port: 0, onResponse: log('B') });
  servers.C = await serve({ root: b, port: 0, cors: true, ranges: false, onResponse: log('C') });
  servers.D = await serve({ root: b, port: 0, cors: true, onResponse: log('D') });
  context = await chromium.launchPersistentContext(join(tmp.dir, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
  });
});

after(async () => {
  await context?.close();
  for (const s of Object.values(servers)) s.server.close();
  tmp?.remove();
});

async function newPage() {
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
  });
  page.on('request', (r) => page.requests.push(r.url()));
  return page;
}

/** A page on origin A made of `body`, with the element registered from www/js. */
async function testPage(body, name = 'test.html') {
  writeFileSync(join(tmp.dir, 'a', name), `<!doctype html><meta charset="utf-8"><title>test</title><link rel="icon" href="data:,"><script type="module" src="js/page/define.js"></script>\n${body}`);
  const page = await newPage();
  await page.goto(servers.A.url + name);
  return page;
}

/** Waits until element `sel` is ready or failed; returns its state. */
async function settledEl(page, sel) {
  await page.waitForFunction((s) => ['ready', 'error'].includes(document.querySelector(s)?.dataset.state), sel);
  return page.$eval(sel, (el) => el.dataset.state);
}

/** Every data-field in the element's shadow root as [key, text]. */
function fieldsOf(page, sel) {
  return page.$eval(sel, (el) => [...el.shadowRoot.querySelectorAll('[data-field]')].map((e) => [e.dataset.field, e.dataset.value ?? e.textContent]));
}

function text(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(text).join(', ');
  return String(v);
}

/** Every value the element shows equals info --json's; returns how many were compared. */
async function compareElement(page, sel, expected) {
  const fields = await fieldsOf(page, sel);
  for (const [key, shown] of fields) {
    const want = key.split('.').reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), expected);
    assert.notEqual(want, undefined, `data-field "${key}" is not a key of info --json`);
    assert.equal(shown, text(want), `data-field "${key}"`);
  }
  const keys = new Set(fields.map(([k]) => k));
  expected.fields.forEach((f, i) => assert.ok(keys.has(`fields.${i}.value`), `fields.${i}.value shown`));
  for (const k of ['file', 'disk_type', 'current_size', 'unique_id', 'parent_missing']) assert.ok(keys.has(k), k);
  return fields.length;
}

const messagesOf = (page, sel) => page.$eval(sel, (el) => el.shadowRoot.querySelector('.messages').textContent);
const vhdLog = (k, name) => logs[k].filter((e) => e.path.endsWith(name));
const sum = (list) => list.reduce((n, e) => n + e.bytes, 0);

test('a remote chain in the example article: values equal info --json, sectors equal cat, only parts of the files travel', async () => {
  logs.A.length = 0;
  const page = await newPage();
  await page.goto(servers.A.url + 'embed.html');
  assert.equal(await settledEl(page, '#remote'), 'ready');
  const expected = cliInfo(GRAND, [CHILD, BASE]);
  assert.ok((await compareElement(page, '#remote', expected)) > 80);
  assert.equal(await page.$eval('#remote', (el) => el.shadowRoot.querySelector('.bar .title').textContent), 'grandchild.vhd');
  // view="bitmap": that tab is shown, the others hidden.
  assert.deepEqual(await page.$eval('#remote', (el) => [...el.shadowRoot.querySelectorAll('section[role=tabpanel]')].filter((s) => !s.hidden).map((s) => s.dataset.view)), ['bitmap']);

  // Sectors read through the chain over HTTP come from the right file with the right bytes.
  const raw = cliCat(GRAND, [CHILD, BASE]);
  for (const [sector, layer] of [[66, 0], [64, 1], [63, 2]]) {
    await page.$eval('#remote', (el, s) => el.setAttribute('sector', String(s)), sector);
    await page.waitForFunction((s) => document.querySelector('#remote').shadowRoot.querySelector('.source strong')?.textContent === `Virtual sector ${s}`, sector);
    assert.equal(await page.$eval('#remote', (el) => el.shadowRoot.querySelector('.source').dataset.layer), String(layer));
    const hexes = await page.$eval('#remote', (el) => [...el.shadowRoot.querySelectorAll('.dump .hexes span')].map((e) => e.textContent));
    assert.deepEqual(Buffer.from(hexes.map((x) => parseInt(x, 16))), raw.subarray(sector * 512, sector * 512 + 512), `sector ${sector}`);
  }
  // The exact map reads the bitmaps, over HTTP too.
  await page.$eval('#remote', (el) => /** @type {HTMLElement} */ (el.shadowRoot.querySelector('[data-action=scan]')).click());
  await page.waitForSelector('#remote[data-scan="done"]');
  assert.match(await page.$eval('#remote', (el) => el.shadowRoot.querySelector('.prov-state').textContent), /^Exact/);

  // Every request for the disks asked for a part and got it (206); together far less than the files.
  const disks = logs.A.filter((e) => /\/samples\/(grandchild|child|base)\.vhd$/.test(e.path));
  assert.ok(disks.length > 3);
  for (const e of disks) {
    assert.equal(e.status, 206, `${e.path} ${e.range}`);
    assert.match(e.range, /^bytes=\d+-\d+$/);
  }
  const total = [GRAND, CHILD, BASE].reduce((n, f) => n + statSync(f).size, 0);
  console.log(`# remote chain: ${disks.length} requests, ${sum(disks)} bytes of ${total}`);
  assert.ok(sum(disks) < total / 10, `${sum(disks)} bytes of ${total}`);
  await page.locator('#remote').screenshot({ path: screenshotPath('element-remote-chain') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

/**
 * Every value a VHDX element shows equals info --json's, and every field of its structures is
 * shown; returns how many values were compared.
 */
async function compareVhdxElement(page, sel, expected) {
  const fields = await fieldsOf(page, sel);
  for (const [key, shown] of fields) {
    const want = key.split('.').reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), expected);
    assert.notEqual(want, undefined, `data-field "${key}" is not a key of info --json`);
    assert.equal(shown, text(want), `data-field "${key}"`);
  }
  const keys = new Set(fields.map(([k]) => k));
  expected.structures.forEach((st, n) => st.fields.forEach((f, i) => assert.ok(keys.has(`structures.${n}.fields.${i}.value`), `${st.name}: ${f.name} is shown`)));
  for (const k of ['file', 'disk_type', 'current_size', 'parent_missing']) assert.ok(keys.has(k), k);
  (expected.chain || []).forEach((c, i) => assert.ok(keys.has(`chain.${i}.unique_id`), `chain.${i}.unique_id`));
  return fields.length;
}

/** The element's hex view at virtual sector `sector` (its `sector` attribute): the layer and bytes shown. */
async function elementSector(page, sel, sector) {
  await page.$eval(sel, (el, s) => el.setAttribute('sector', String(s)), sector);
  await page.waitForFunction(([q, s]) => document.querySelector(q).shadowRoot.querySelector('.source strong')?.textContent === `Virtual sector ${s}`, [sel, sector]);
  return page.$eval(sel, (el) => {
    const src = /** @type {HTMLElement} */ (el.shadowRoot.querySelector('.source'));
    const hexes = [...el.shadowRoot.querySelectorAll('.dump .hexes span')].map((e) => e.textContent);
    return { layer: src.dataset.layer, kind: src.dataset.kind, text: src.textContent, hexes };
  });
}

test('a remote VHDX chain (a child with a log to replay on its parent, and a chain of 4096-byte sectors) in the element: values equal info --json, sectors equal cat, only parts travel', async () => {
  // The sample chain: a differencing child whose block table is still in its log.
  logs.A.length = 0;
  const page = await testPage('<vhd-viewer id="v" src="samples/child.vhdx" parent="samples/base.vhdx" view="hex"></vhd-viewer>', 'vhdx.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  const [child, base] = [sample('child.vhdx'), sample('base.vhdx')];
  const expected = cliInfo(child, [base]);
  assert.equal(expected.format, 'vhdx');
  assert.equal(expected.log_replayed, true);
  assert.equal(expected.chain.length, 2);
  assert.ok((await compareVhdxElement(page, '#v', expected)) > 60);
  const raw = cliCat(child, [base]);
  // The last sector is in a block neither file holds: zeros.
  for (const [sector, layer] of [[64, '0'], [70, '0'], [63, '1'], [0, '1'], [expected.current_size / 512 - 1, '']]) {
    const shown = await elementSector(page, '#v', sector);
    assert.equal(shown.layer, layer, `sector ${sector}: ${shown.text}`);
    assert.deepEqual(Buffer.from(shown.hexes.map((x) => parseInt(x, 16))), raw.subarray(sector * 512, sector * 512 + 512), `sector ${sector}`);
  }
  assert.match(await page.$eval('#v', (el) => el.shadowRoot.textContent), /replayed in memory, the file was not changed/);
  // The exact map reads the sector bitmaps over HTTP too.
  await page.$eval('#v', (el) => /** @type {HTMLElement} */ (el.shadowRoot.querySelector('[data-action=scan]')).click());
  await page.waitForSelector('#v[data-scan="done"]');
  const disks = logs.A.filter((e) => /\/samples\/(child|base)\.vhdx$/.test(e.path));
  assert.ok(disks.some((e) => e.path.endsWith('child.vhdx')) && disks.some((e) => e.path.endsWith('base.vhdx')));
  for (const e of disks) {
    assert.equal(e.status, 206, `${e.path} ${e.range}`);
    assert.match(e.range, /^bytes=\d+-\d+$/);
  }
  const total = statSync(child).size + statSync(base).size;
  console.log(`# remote VHDX chain: ${disks.length} requests, ${sum(disks)} bytes of ${total}: ${disks.map((e) => `${e.path.split('/').pop()} ${e.range}`).join(', ')}`);
  // What travels: the structures below the first block (the writer puts the log at 1 MiB, the
  // metadata region at 2 MiB, the BAT at 3 MiB: each file's header section, log region (the
  // child's replayed; the parent's clean one read to list what earlier sessions left in it) and
  // metadata region, and the BAT entries in use), and past them only the sectors shown and the
  // parts of sector bitmaps the scan needs, a few KiB at a time.
  const MIB = 1 << 20;
  const first = (e) => Number(e.range.match(/^bytes=(\d+)/)[1]);
  const structures = disks.filter((e) => first(e) < 4 * MIB);
  const data = disks.filter((e) => first(e) >= 4 * MIB);
  assert.ok(sum(structures) <= 2 * (320 * 1024 + MIB + MIB) + 64 * 1024, `${sum(structures)} bytes of structures`);
  for (const e of data) assert.ok(e.bytes <= 4096, `${e.path} ${e.range}: only what is shown`);
  assert.ok(sum(data) <= 64 * 1024, `${sum(data)} bytes of data`);
  assert.deepEqual(page.errors, []);
  await page.close();

  // A chain of 4096-byte sectors (the project's writer): the element's sector attribute and hex
  // view count 4096-byte sectors.
  execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'vhdx_from_raw'], { cwd: ROOT, stdio: 'inherit' });
  const SS = 4096;
  const praw = Buffer.alloc(8 << 20);
  for (const s of [0, 2, 255, 2047]) praw.fill(`base ${s} `, s * SS, (s + 1) * SS);
  const craw = Buffer.from(praw);
  for (const s of [2, 256, 1500]) craw.fill(`child ${s} `, s * SS, (s + 1) * SS);
  const a = join(tmp.dir, 'a');
  writeFileSync(join(tmp.dir, 'p4k.raw'), praw);
  writeFileSync(join(tmp.dir, 'c4k.raw'), craw);
  const tool = join(ROOT, 'target/release/examples/vhdx_from_raw');
  execFileSync(tool, [join(tmp.dir, 'p4k.raw'), join(a, 'base4k.vhdx'), '--sector', '4096', '--id', '66']);
  execFileSync(tool, [join(tmp.dir, 'c4k.raw'), join(a, 'child4k.vhdx'), '--sector', '4096', '--id', '67', '--child-of', join(tmp.dir, 'p4k.raw'), '66', 'base4k.vhdx']);
  const expected4k = cliInfo(join(a, 'child4k.vhdx'), [join(a, 'base4k.vhdx')]);
  assert.equal(expected4k.logical_sector_size, SS);
  const cat4k = cliCat(join(a, 'child4k.vhdx'), [join(a, 'base4k.vhdx')]);
  assert.deepEqual(cat4k, craw);
  const page2 = await testPage('<vhd-viewer id="v" src="child4k.vhdx" parent="base4k.vhdx" view="hex" sector="2"></vhd-viewer>', 'vhdx4k.html');
  assert.equal(await settledEl(page2, '#v'), 'ready');
  await compareVhdxElement(page2, '#v', expected4k);
  for (const [sector, layer] of [[2, '0'], [0, '1'], [256, '0'], [255, '1'], [1500, '0'], [2047, '1'], [700, '']]) {
    const shown = await elementSector(page2, '#v', sector);
    assert.equal(shown.layer, layer, `sector ${sector}: ${shown.text}`);
    assert.equal(shown.hexes.length, SS);
    assert.deepEqual(Buffer.from(shown.hexes.map((x) => parseInt(x, 16))), cat4k.subarray(sector * SS, (sector + 1) * SS), `4096-byte sector ${sector}`);
  }
  assert.deepEqual(page2.errors, []);
  await page2.close();
});

test('a 2040 GiB remote disk opens with its footer, footer copy, header and block table: nothing more travels', async () => {
  logs.A.length = 0;
  const page = await testPage('<vhd-viewer id="v" src="huge-written.vhd" view="bat"></vhd-viewer>');
  assert.equal(await settledEl(page, '#v'), 'ready');
  const file = join(tmp.dir, 'a', 'huge-written.vhd');
  const expected = cliInfo(file);
  assert.equal(expected.current_size, 2040 * 2 ** 30);
  assert.equal(expected.bat_entries, 1044480);
  assert.equal(expected.allocated_blocks, 4);
  await compareElement(page, '#v', expected);
  await new Promise((r) => setTimeout(r, 100));
  const reqs = vhdLog('A', 'huge-written.vhd');
  const want = 512 + 512 + 1024 + 4 * expected.bat_entries;
  const size = statSync(file).size;
  console.log(`# 2040 GiB remote disk (${size} bytes): ${reqs.length} requests, ${sum(reqs)} bytes: ${reqs.map((e) => e.range).join(', ')}`);
  assert.equal(sum(reqs), want, 'bytes sent by the server');
  assert.equal(reqs.length, 4, 'the first 512 bytes, the footer, the header, the block table');
  assert.ok(size > want + 8 * 2 ** 20, 'the file holds much more than was read');
  const stats = await page.$eval('#v', (el) => el.disk.sources[0].stats);
  assert.equal(stats.transferred, want, 'bytes received by the page');
  assert.equal(stats.requests, 4);
  assert.match(await page.$eval('#v', (el) => el.shadowRoot.querySelector('[data-view=bat] .legend').textContent), /1044480 blocks of 2 MiB/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a server that ignores Range, a missing file and a CORS refusal each show their message; a CORS server works', async () => {
  for (const k of Object.keys(logs)) logs[k].length = 0;
  const page = await testPage(`
    <vhd-viewer id="norange" src="${servers.C.url}big.vhd"></vhd-viewer>
    <vhd-viewer id="missing" src="no-such-disk.vhd"></vhd-viewer>
    <vhd-viewer id="cors" src="${servers.B.url}dynamic.vhd"></vhd-viewer>
    <vhd-viewer id="ok" src="${servers.D.url}dynamic.vhd" view="summary"></vhd-viewer>
    <script type="module">
      window.codes = {};
      for (const el of document.querySelectorAll('vhd-viewer')) el.addEventListener('vhd-error', (e) => (window.codes[el.id] = e.detail.code));
    </script>`);
  for (const id of ['#norange', '#missing', '#cors']) assert.equal(await settledEl(page, id), 'error', id);
  assert.equal(await settledEl(page, '#ok'), 'ready');

  const bigSize = statSync(join(tmp.dir, 'b', 'big.vhd')).size;
  assert.ok(bigSize > 2 ** 30);
  const norange = await messagesOf(page, '#norange');
  assert.match(norange, new RegExp(`big\\.vhd cannot be read piece by piece: the server ignored the request for a part of the file \\(HTTP Range\\) and began sending all of it \\(${bigSize} bytes\\)\\. The download was stopped at once\\.`));
  assert.match(await messagesOf(page, '#missing'), /no-such-disk\.vhd was not found on the server \(HTTP 404 Not Found\)/);
  assert.match(await messagesOf(page, '#cors'), new RegExp(`dynamic\\.vhd could not be read from ${servers.B.url.slice(0, -1).replace(/[.]/g, '\\.')}: no answer reached this page\\. That server does not allow other sites to read its files \\(it must send the CORS header Access-Control-Allow-Origin\\)`));
  assert.deepEqual(await page.evaluate(() => window.codes), { norange: 'no-range', missing: 'not-found', cors: 'network' });

  // The whole gigabyte was not downloaded: the server got to send only what was in flight.
  await new Promise((r) => setTimeout(r, 300));
  const big = vhdLog('C', 'big.vhd');
  assert.equal(big.length, 1);
  assert.equal(big[0].status, 200);
  console.log(`# server without Range: ${big[0].bytes} bytes of 1 GiB sent before the page cut it off`);
  assert.ok(big[0].bytes < 64 * 2 ** 20, `${big[0].bytes} bytes sent`);
  // Cross-origin with CORS headers: the disk shows, read with Range.
  assert.equal(await page.$eval('#ok', (el) => el.shadowRoot.querySelector('[data-field=file]').textContent), 'dynamic.vhd');
  await compareElement(page, '#ok', cliInfo(DYNAMIC));
  for (const e of vhdLog('D', 'dynamic.vhd').filter((e) => e.method === 'GET')) assert.equal(e.status, 206);
  await page.screenshot({ path: screenshotPath('element-errors'), fullPage: true });
  await page.close();
});

test('a remote file that changes while it is being read is reported, not mixed', async () => {
  const file = join(tmp.dir, 'a', 'changing.vhd');
  copyFileSync(DYNAMIC, file);
  const page = await testPage('<vhd-viewer id="v" src="changing.vhd" view="hex"></vhd-viewer>');
  assert.equal(await settledEl(page, '#v'), 'ready');
  await page.waitForFunction(() => document.querySelector('#v').shadowRoot.querySelector('.source strong')?.textContent === 'Virtual sector 0');
  // The file is replaced on the server (another version: new content and modification time).
  const bytes = readFileSync(DYNAMIC);
  bytes[100 * 512] ^= 0xff;
  writeFileSync(file, bytes);
  utimesSync(file, new Date(), new Date(Date.now() + 60_000));
  await page.$eval('#v', (el) => el.setAttribute('sector', '63'));
  await page.waitForFunction(() => /changed on the server/.test(document.querySelector('#v').shadowRoot.querySelector('.messages').textContent));
  assert.match(await messagesOf(page, '#v'), /Sector 63: changing\.vhd changed on the server while it was being read \(the server sent a different version of the file\): the parts read before and after do not belong together\. Reload to read it again from the start\./);
  // The request carried If-Range, so the server answered with the new whole file, cut off at once.
  const last = vhdLog('A', 'changing.vhd').at(-1);
  assert.equal(last.status, 200);
  assert.ok(last.bytes < bytes.length, `${last.bytes} bytes sent`);
  await page.close();
});

test('two elements on one page do not interfere: files, tabs, work and theme are each their own', async () => {
  const page = await newPage();
  await page.goto(servers.A.url + 'embed.html');
  assert.equal(await settledEl(page, '#remote'), 'ready');
  assert.equal(await page.$eval('#local', (el) => el.dataset.state), 'idle');
  assert.equal(await page.$eval('#local', (el) => getComputedStyle(el.shadowRoot.querySelector('.drop')).display), 'block', 'without src, the element asks for files');
  await page.click('#use-sample');
  assert.equal(await settledEl(page, '#local'), 'ready');
  await compareElement(page, '#local', cliInfo(DYNAMIC));
  const remoteBefore = await fieldsOf(page, '#remote');

  // Drop a chain onto the first element only.
  const files = [CHILD, BASE].map((p) => ({ name: p.split('/').pop(), b64: readFileSync(p).toString('base64') }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    const el = document.getElementById('local');
    for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
  }, files);
  await page.waitForFunction(() => document.querySelector('#local').shadowRoot.querySelector('[data-field=file]')?.textContent === 'child.vhd');
  assert.equal(await settledEl(page, '#local'), 'ready');
  await compareElement(page, '#local', cliInfo(CHILD, [BASE]));
  assert.deepEqual(await fieldsOf(page, '#remote'), remoteBefore, 'the other element is unchanged');

  // Each keeps its own tab; a tab chosen in one leaves the other alone.
  const shown = (id) => page.$eval(id, (el) => [...el.shadowRoot.querySelectorAll('section[role=tabpanel]')].filter((s) => !s.hidden).map((s) => s.dataset.view));
  assert.deepEqual(await shown('#local'), ['bat']);
  assert.deepEqual(await shown('#remote'), ['bitmap']);
  await page.locator('#remote').getByRole('tab', { name: 'Findings' }).click();
  assert.deepEqual(await shown('#remote'), ['findings']);
  assert.deepEqual(await shown('#local'), ['bat']);
  // The page themes the second element only (--vhd-accent).
  const accent = (id) => page.$eval(id, (el) => getComputedStyle(el.shadowRoot.querySelector('.frame')).getPropertyValue('--accent').trim());
  assert.equal(await accent('#remote'), '#8250df');
  assert.equal(await accent('#local'), '#0b5cad');
  // A scan in one reads only its own files.
  await page.locator('#local').getByRole('tab', { name: 'Sector bitmaps' }).click();
  await page.locator('#local').getByRole('button', { name: /Read every block bitmap/ }).click();
  await page.waitForFunction(() => /^Exact/.test(document.querySelector('#local').shadowRoot.querySelector('.prov-state').textContent));
  assert.match(await page.$eval('#remote', (el) => el.shadowRoot.querySelector('.prov-state').textContent), /^Estimate/);
  await page.screenshot({ path: screenshotPath('embed-article'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the element\'s Files tab reads the file systems of a remote chain (synchronous Range requests in the Worker): listing equals ls, a saved file equals get', async () => {
  const { base, child } = fsVhds();
  // The parent is named as the child knows it: base.vhd, served here as fs-base.vhd, matched by its id.
  const page = await testPage('<vhd-viewer id="v" src="fs-child.vhd" parent="fs-base.vhd" view="files"></vhd-viewer>', 'files.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  const inShadow = (sel) => page.waitForFunction((s) => !!document.querySelector('#v').shadowRoot.querySelector(s), sel, { timeout: 60_000 });
  await inShadow('.files-body[data-state="ready"] tbody tr[data-path]');
  const rows = await page.$eval('#v', (el) => [...el.shadowRoot.querySelectorAll('.files-body tbody tr[data-path]')].map((r) => r.dataset.path).sort());
  const want = cli(['ls', child, '/', '--json', '--partition', '1', '--parent', base], child).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).path).sort();
  assert.deepEqual(rows, want);
  await page.$eval('#v', (el) => el.shadowRoot.querySelector('.files-body tr[data-path="/Added in child.txt"] [data-action="open"]').click());
  await inShadow('.files-body [data-field="panel"]:not([hidden]) [data-action="save"]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.$eval('#v', (el) => el.shadowRoot.querySelector('.files-body [data-field="panel"] [data-action="save"]').click())]);
  const saved = readFileSync(await download.path());
  assert.deepEqual(saved, cli(['get', child, '/Added in child.txt', '--partition', '1', '--parent', base], child));
  // Only parts of the files travelled, as Range requests.
  for (const [name, file] of [['fs-child.vhd', child], ['fs-base.vhd', base]]) {
    const reqs = vhdLog('A', name);
    assert.ok(reqs.length > 1 && sum(reqs) < statSync(file).size / 2, `${name}: ${reqs.length} requests, ${sum(reqs)} of ${statSync(file).size} bytes`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the element\'s Changes tab compares a remote child with its parent (a Worker of its own, synchronous Range requests): rows equal diff --json', async () => {
  const { base, child } = fsVhds();
  const want = JSON.parse(cli(['diff', child, '--parent', base, '--json'], child).toString('utf8'));
  const wantRows = want.partitions.flatMap((p) => p.changes.map((c) => `${p.index} ${c.kind} ${c.path}`)).sort();
  const page = await testPage('<vhd-viewer id="v" src="fs-child.vhd" parent="fs-base.vhd" view="changes"></vhd-viewer>', 'changes.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  await page.$eval('#v', (el) => el.shadowRoot.querySelector('[data-action="diff"]').click());
  await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('#v').shadowRoot.querySelector('.changes-body')?.dataset.changes), null, { timeout: 120_000 });
  const rows = await page.$eval('#v', (el) => [...el.shadowRoot.querySelectorAll('.changes-body tbody tr[data-path]')].map((r) => `${r.dataset.partition} ${r.dataset.kind} ${r.dataset.path}`).sort());
  assert.deepEqual(rows, wantRows);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the element\'s Timeline tab lists the times timeline --json gives for its remote chain; a row opens its file in the Files tab', async () => {
  const { base, child } = fsVhds();
  const want = cli(['timeline', child, '--parent', base, '--json'], child).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const page = await testPage('<vhd-viewer id="v" src="fs-child.vhd" parent="fs-base.vhd" view="timeline"></vhd-viewer>', 'timeline.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  const shadow = (fn, arg) => page.$eval('#v', fn, arg);
  assert.equal(await shadow((el) => el.shadowRoot.querySelector('[role="tab"][aria-selected="true"]').dataset.view), 'timeline');
  await shadow((el) => el.shadowRoot.querySelector('[data-action="timeline"]').click());
  await page.waitForFunction(() => document.querySelector('#v').shadowRoot.querySelectorAll('.tl-row').length > 0, null, { timeout: 120_000 });
  const count = () => shadow((el) => el.shadowRoot.querySelector('.tl-count').textContent);
  assert.match(await count(), new RegExp(`^${want.length.toLocaleString('en')} times shown of `));
  // The rows in sight are the first times of timeline --json, in its order.
  const shown = await shadow((el) => [...el.shadowRoot.querySelectorAll('.tl-row')].map((r) => [r.querySelector('.tl-time').textContent, r.querySelector('.tl-path').textContent]));
  assert.ok(shown.length >= Math.min(10, want.length), `${shown.length} rows in sight`);
  assert.deepEqual(shown, want.slice(0, shown.length).map((r) => [r.time, r.path]));
  const added = want.filter((r) => r.path === '/Added in child.txt');
  assert.ok(added.length > 0, 'the fixture: the child added a file');
  await shadow((el) => {
    const i = el.shadowRoot.querySelector('.timeline-view input[type="search"]');
    i.value = 'Added in child';
    i.dispatchEvent(new Event('input'));
  });
  assert.match(await count(), new RegExp(`^${added.length} times shown`));
  await shadow((el) => el.shadowRoot.querySelector('.tl-row').click());
  await page.waitForFunction(() => document.querySelector('#v').shadowRoot.querySelector('.files-body [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === 'Added in child.txt', null, { timeout: 60_000 });
  assert.equal(await shadow((el) => el.shadowRoot.querySelector('[role="tab"][aria-selected="true"]').dataset.view), 'files');
  assert.equal(await page.$eval('#v', (el) => el.getAttribute('view')), 'files');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('view="volumes" (the partitions) opens the Files tab, whose strip they are', async () => {
  const page = await testPage('<vhd-viewer id="v" src="fs-child.vhd" parent="fs-base.vhd" view="volumes" views="summary volumes hex"></vhd-viewer>', 'volumes.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  const tabs = await page.$eval('#v', (el) => [...el.shadowRoot.querySelectorAll('[role="tab"]')].map((b) => [b.dataset.view, b.getAttribute('aria-selected')]));
  assert.deepEqual(tabs, [['summary', 'false'], ['files', 'true'], ['hex', 'false']]);
  await page.waitForFunction(() => !!document.querySelector('#v').shadowRoot.querySelector('section[data-view="files"]:not([hidden]) .files-body [data-action="partition"]'), null, { timeout: 60_000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the element\'s Save tab compacts a remote child (the core\'s writer, synchronous Range requests): the file equals vhd-viewer compact', async () => {
  const { base, child } = fsVhds();
  const page = await testPage('<vhd-viewer id="v" src="fs-child.vhd" parent="fs-base.vhd" view="save"></vhd-viewer>', 'save.html');
  assert.equal(await settledEl(page, '#v'), 'ready');
  // A download (Chromium's File System Access dialog cannot be answered here).
  await page.evaluate(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
  });
  const inShadow = (sel) => page.$eval('#v', (el, s) => el.shadowRoot.querySelector(s), sel);
  assert.ok(await inShadow('section[data-view="save"]:not([hidden]) [id$="-save-compact"]:not([disabled])'), 'the Save tab offers Compact…');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.$eval('#v', (el) => el.shadowRoot.querySelector('[id$="-save-compact"]').click()),
  ]);
  assert.equal(download.suggestedFilename(), 'fs-child-compact.vhd');
  const out = join(tmp.dir, 'element-compact.vhd');
  cli(['compact', child, out, '--parent', base], child);
  assert.deepEqual(readFileSync(await download.path()), readFileSync(out));
  await page.waitForFunction(() => /Saving fs-child-compact\.vhd/.test(document.querySelector('#v').shadowRoot.querySelector('[id$="-save-note"]').textContent));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the self-contained file works opened from disk (file://), with no request to any server', async () => {
  const page = await newPage();
  await page.goto(pathToFileURL(join(DIST, 'vhd-viewer.html')).href);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [GRAND, CHILD, BASE]);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state));
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
  const expected = cliInfo(GRAND, [CHILD, BASE]);
  const fields = await page.$$eval('#summary-body [data-field], #chain [data-field], #structures-body [data-field]', (els) => els.map((e) => [e.dataset.field, e.dataset.value ?? e.textContent]));
  assert.ok(fields.length > 60);
  for (const [key, shown] of fields) assert.equal(shown, text(key.split('.').reduce((v, k) => v?.[k], expected)), key);
  // The view styles are there (adopted from the inlined module): the chain is drawn as a list of boxes.
  assert.equal(await page.$eval('#chain ol.chain', (el) => getComputedStyle(el).display), 'flex');
  assert.deepEqual(page.requests.filter((u) => /^https?:/.test(u)), []);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the npm package: packed, installed into a scratch folder offline, imported from a page served there', async () => {
  const scratch = join(tmp.dir, 'scratch');
  mkdirSync(scratch);
  execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: DIST, stdio: 'pipe' });
  const tgz = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  assert.equal(tgz, `vhd-viewer-${JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8')).version}.tgz`);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'docs-site', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', `./${tgz}`], { cwd: scratch, stdio: 'pipe' });
  const installed = join(scratch, 'node_modules', 'vhd-viewer');
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  for (const f of ['index.js', 'index.d.ts', 'define.js', 'define.d.ts', 'pkg/vhd_viewer_bg.wasm', 'js/page/element.js', 'js/common/types.d.ts', 'README.md']) assert.ok(existsSync(join(installed, f)), f);
  assert.match(readFileSync(join(installed, 'README.md'), 'utf8'), /<vhd-viewer src=/);

  // The declarations type-check a user's code (and reject a wrong view name, and a key the data
  // shapes, the page's own shipped in js/common/types.d.ts, do not have).
  writeFileSync(join(scratch, 'use.ts'), `
import 'vhd-viewer/define';
import { VhdViewerElement, openVhd, surveyFolder, type VhdDisk, RemoteError, type Finding, type PartsTable, type SurveyNode } from 'vhd-viewer';
const el = document.createElement('vhd-viewer');
const same: VhdViewerElement = el;
same.view = 'bat';
// @ts-expect-error: not a view
same.view = 'pie';
el.addEventListener('vhd-error', (e) => console.log(e.detail.code === 'no-range', e.detail.message));
const disk: VhdDisk = await openVhd(['a.vhd', new Blob([])]);
const bytes: Uint8Array = await disk.read(0, 512);
const tag: typeof VhdViewerElement = VhdViewerElement.define('my-viewer');
const found: Finding[] = disk.info.all_findings;
const parts: PartsTable = await disk.partitions();
// @ts-expect-error: a partition starts at start_sector
console.log(parts.partitions[0].start);
console.log(bytes.length, disk.info.disk_type, tag, RemoteError, found.length, parts.partitions[0].start_sector);
const { survey } = await surveyFolder([{ name: 'vm/a.vhdx', blob: new Blob([]) }], { alone: false });
const root: SurveyNode = survey.trees[0];
// @ts-expect-error: a node's parent is by id
console.log(root.parent, survey.moved.map((m) => m.relink), root.children.length);
`);
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib: ['es2022', 'dom', 'dom.iterable'], skipLibCheck: false }, files: ['use.ts'] }));
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', scratch], { stdio: 'pipe' });

  // A page of the docs site: a bare import through an import map, a remote disk beside it.
  copyFileSync(DYNAMIC, join(scratch, 'dynamic.vhd'));
  writeFileSync(join(scratch, 'index.html'), `<!doctype html><meta charset="utf-8"><title>docs</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "vhd-viewer": "./node_modules/vhd-viewer/index.js", "vhd-viewer/define": "./node_modules/vhd-viewer/define.js" } }</script>
<script type="module">
  import 'vhd-viewer/define';
  import { openVhd } from 'vhd-viewer';
  const disk = await openVhd('dynamic.vhd');
  const mbr = await disk.read(0, 512);
  window.apiResult = { type: disk.info.disk_type, size: disk.size, mbr: Array.from(mbr) };
  disk.close();
</script>
<vhd-viewer id="v" src="dynamic.vhd" views="summary footer hex" view="footer"></vhd-viewer>`);
  const site = await serve({ root: scratch, port: 0 });
  try {
    const page = await newPage();
    await page.goto(site.url);
    assert.equal(await settledEl(page, '#v'), 'ready');
    await compareElement(page, '#v', cliInfo(DYNAMIC));
    assert.deepEqual(await page.$eval('#v', (el) => [...el.shadowRoot.querySelectorAll('[role=tab]')].map((t) => t.textContent)), ['Summary', 'Footer and header', 'Hex']);
    await page.waitForFunction(() => window.apiResult);
    const api = await page.evaluate(() => window.apiResult);
    assert.equal(api.type, 'dynamic');
    assert.equal(api.size, cliInfo(DYNAMIC).current_size);
    assert.deepEqual(Buffer.from(api.mbr), cliCat(DYNAMIC).subarray(0, 512));
    assert.ok(page.requests.some((u) => u.endsWith('/node_modules/vhd-viewer/pkg/vhd_viewer_bg.wasm')), 'the .wasm comes from beside the modules');
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    site.server.close();
  }
});

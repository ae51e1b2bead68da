// The page and the <vhd-viewer> element in one browser engine, through the common page interface
// of engines.mjs. page-chromium.test.mjs, page-firefox.test.mjs and page-webkit.test.mjs each run
// this suite in their engine, so `node --test tests/web/` covers all three. What the page shows
// is compared with the command line on the same files (`info --json`, `map --json`, `check
// --json`, `cat`), read through the page's data-field attributes and visible text, so that the
// tests hold whatever the page's code looks like inside.
//
// A test that needs an engine's own feature says which (FEATURES in engines.mjs) and runs only
// where the engine has it; the export test checks that the engine has (or lacks) it as declared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, FEATURES } from './engines.mjs';
import { cliInfo, cliCat, cliPath, tempDir, screenshotPath, text, at, shownHits, hitFields, ROOT, WWW, SAMPLES } from './helpers.mjs';
import { fsVhds, systemVhds, linuxDataVhds, lvmVhds, cli, cliSearch } from './fs-fixtures.mjs';
import { bitlockerVhds } from './bitlocker-fixtures.mjs';
import { trimDisks, bigDisk, cliTrim } from './trim-fixtures.mjs';
import { folderFixture, cliChains, treeShape, shownTree, shownProblems, expectedProblems, siteWithFolder, giveFolder } from './folder-fixture.mjs';

const sample = (n) => join(SAMPLES, n);
const BASE = sample('base.vhd');
const CHILD = sample('child.vhd');
const GRAND = sample('grandchild.vhd');
const DYNAMIC = sample('dynamic.vhd');
const CHAIN = [GRAND, CHILD, BASE];

/**
 * The page's controls and views that the suite uses, in one place, so that a rework of the
 * page's markup changes only this table; values are read through data-field attributes and text.
 */
const UI = {
  wasmReady: 'body[data-wasm="ready"]',
  fileInput: '#file-input',
  drop: '#drop',
  summary: '#summary-body',
  structures: '#structures-body',
  chain: '#chain',
  layerSelect: '#layer-select',
  hexVirtual: 'input[name="hex-mode"][value="virtual"]',
  hexAt: '#hex-at',
  hexShow: '#hex-form button[type="submit"]',
  hexSource: '#hex-source',
  hexBytes: '#hex-dump .hexes span',
  hexMarked: '#hex-dump .mark',
  provenance: '#provenance',
  scan: '#prov-scan',
  scanState: '#prov-state',
  scanLegend: '#prov-legend .key',
  findingsPanel: '#findings',
  findings: '#findings-body',
  finding: '#findings-body li.finding',
  check: '#check-run',
  checkBody: '#check-body',
  exportRaw: '#export-raw',
  exportInfo: '#export-info',
  exportNote: '#export-note',
  exportCompact: '#export-compact',
  exportTrim: '#export-compact-trim',
  exportResize: '#export-resize',
  resizeSize: '#export-resize-size',
  resizePlan: '#export-resize-plan',
};
/** The same inside the <vhd-viewer> element's shadow root. */
const EL = {
  source: '.source',
  hexBytes: '.dump .hexes span',
  scan: '[data-view=bitmap] .controls button',
  scanState: '.prov-state',
  scanLegend: '[data-view=bitmap] .legend .key',
};

/** The views of the page that carry data-fields of the top file's info. */
const SCOPES = [UI.summary, UI.structures, UI.chain, UI.findings];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** `vhd-viewer map --json` of the sample chain. */
const chainMap = () => JSON.parse(execFileSync(cliPath(), ['map', 'grandchild.vhd', '--parent', 'child.vhd', '--parent', 'base.vhd', '--json'], { cwd: SAMPLES, encoding: 'utf8' }));

const UNITS = { bytes: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };

/** The provenance legend (its keys' texts, the last one the square's size) that map --json implies. */
function checkLegend(legend, map, size) {
  const [, num, unit] = /^one square = ([\d.]+) (bytes|KiB|MiB|GiB) of the virtual disk$/.exec(legend.at(-1));
  const want = expectedLegend(map, size, ['grandchild.vhd', 'child.vhd', 'base.vhd'], Number(num) * UNITS[unit]);
  assert.ok(want.mixed > 0, 'some square mixes layers');
  assert.deepEqual(legend.slice(0, -1), want.legend);
}

/** The provenance legend `map --json` implies for squares of `cell` bytes. */
function expectedLegend(map, size, names, cell) {
  const squares = Math.ceil(size / cell);
  const layers = new Array(squares).fill(0);
  const zeros = new Array(squares).fill(false);
  for (const e of map) {
    for (let c = Math.floor(e.start / cell); c < Math.ceil((e.start + e.length) / cell); c++) {
      if (e.kind === 'data') layers[c] |= 1 << e.layer;
      else if (e.kind === 'zero') zeros[c] = true;
      else throw new Error(`unexpected extent ${JSON.stringify(e)}`);
    }
  }
  const count = (pred) => layers.filter(pred).length;
  const legend = [`zeros: ${layers.filter((m, c) => m === 0 && zeros[c]).length}`];
  names.forEach((name, k) => {
    const n = count((m) => m === 1 << k);
    if (n) legend.push(`${name}: ${n}`);
  });
  const mixed = count((m) => m && m & (m - 1));
  if (mixed) legend.push(`several files: ${mixed}`);
  return { legend, mixed };
}

export function pageTests(engine) {
  let browser;
  let site;
  let tmp;
  const log = [];
  const shot = (name) => screenshotPath(`${engine}-${name}`);

  before(async () => {
    for (const f of [...CHAIN, DYNAMIC, join(WWW, 'pkg', 'vhd_viewer_bg.wasm')]) assert.ok(existsSync(f), `${f} is missing: run make wasm samples`);
    tmp = tempDir(`vhd-${engine}-`);
    site = await serve({ root: WWW, port: 0, onResponse: (e) => log.push(e) });
    browser = await launch(engine);
    console.log(`${engine}: ${browser.version}`);
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (site ? site.server.close(r) : r()));
    tmp?.remove();
  });

  /** A page of the viewer, loaded, its WebAssembly ready and its loading requests over. */
  async function viewer() {
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.waitForSelector(UI.wasmReady);
    await quiet();
    return page;
  }

  /** Waits until the server has had no request for 300 ms. */
  async function quiet() {
    let n = -1;
    while (n !== log.length) {
      n = log.length;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** The requests the page has made, as the server and the page itself know them. */
  async function requests(page) {
    return { server: log.length, page: await page.evaluate(() => performance.getEntriesByType('resource').length) };
  }

  /** Waits until the page has shown the files it was given (or failed to); returns its state. */
  async function settled(page) {
    return page.waitFor(() => ['ready', 'error'].includes(document.body.dataset.state) && document.body.dataset.state);
  }

  /** Every data-field in `scope` as [key, text]. */
  function dataFields(page, scope) {
    return page.evaluate((s) => [...document.querySelectorAll(`${s} [data-field]`)].map((e) => [e.dataset.field, e.dataset.value ?? e.textContent]), scope);
  }

  /** Every data-field in `scopes` is a key of `expected` and holds its value; returns the keys. */
  async function compareFields(page, scopes, expected) {
    const keys = new Set();
    for (const scope of scopes) {
      for (const [key, shown] of await dataFields(page, scope)) {
        const want = at(expected, key);
        assert.notEqual(want, undefined, `data-field "${key}" is not a key of info --json`);
        assert.equal(shown, text(want), `data-field "${key}" in ${scope}`);
        keys.add(key);
      }
    }
    return keys;
  }

  /** Every value of info --json that the page shows is shown, with its value. */
  async function compareAll(page, expected) {
    const keys = await compareFields(page, SCOPES, expected);
    expected.fields.forEach((f, i) => {
      assert.ok(keys.has(`fields.${i}.value`), `fields.${i}.value (${f.key}) is shown`);
      assert.ok(keys.has(`fields.${i}.raw`), `fields.${i}.raw (${f.key}) is shown`);
    });
    expected.all_findings.forEach((f, i) => assert.ok(keys.has(`all_findings.${i}.message`), `finding ${i} is shown`));
    (expected.chain || []).forEach((c, i) => assert.ok(keys.has(`chain.${i}.unique_id`), `chain.${i} is shown`));
    for (const k of ['file', 'file_size', 'disk_type', 'current_size', 'unique_id', 'checksum_valid', 'parent_missing']) assert.ok(keys.has(k), k);
    return keys;
  }

  /** Shows virtual sector `n` in the hex view; returns its bytes and the layer it came from. */
  async function showSector(page, n) {
    await page.select(UI.hexVirtual, true);
    await page.fill(UI.hexAt, String(n));
    await page.click(UI.hexShow);
    await page.waitFor(([sel, s]) => document.querySelector(`${sel} strong`)?.textContent === `Virtual sector ${s}`, [UI.hexSource, n]);
    const { hexes, layer } = await page.evaluate(
      ([source, bytes]) => ({
        hexes: [...document.querySelectorAll(bytes)].map((e) => e.textContent),
        layer: document.querySelector(source).dataset.layer,
      }),
      [UI.hexSource, UI.hexBytes],
    );
    return { bytes: Buffer.from(hexes.map((x) => (x === '··' ? 0 : parseInt(x, 16)))), layer: Number(layer) };
  }

  test(`${engine}: a differencing chain through the file input: values equal info --json, sectors equal cat, the exact map equals map --json, no request`, async () => {
    const page = await viewer();
    const loaded = await requests(page);
    assert.ok(loaded.server > 3 && loaded.page > 3, `loading the page made requests: ${JSON.stringify(loaded)}`);
    await page.setFiles(UI.fileInput, [BASE, GRAND, CHILD]);
    assert.equal(await settled(page), 'ready');
    const expected = cliInfo(GRAND, [CHILD, BASE]);
    assert.equal(expected.chain.length, 3);
    const keys = await compareAll(page, expected);
    assert.ok(keys.size > 80, `${keys.size} values shown`);
    assert.equal(await page.text(`${UI.chain} [data-field="chain.0.parent_verified"]`), 'link verified ✓');
    assert.equal(await page.text(`${UI.chain} [data-field="chain.2.file"]`), 'base.vhd');
    // Each layer's own footer and header, as info --json gives it for that file.
    await page.select(UI.layerSelect, '1');
    await compareFields(page, [UI.structures], cliInfo(CHILD, [BASE]));
    await page.select(UI.layerSelect, '0');
    await compareFields(page, [UI.structures], expected);

    // The hex view: sectors read through the chain come from the file and offset map --json
    // names, with the bytes of cat.
    const raw = cliCat(GRAND, [CHILD, BASE]);
    const map = chainMap();
    for (const [sector, layer] of [[66, 0], [64, 1], [63, 2], [101, 0], [100, 1]]) {
      const got = await showSector(page, sector);
      assert.equal(got.layer, layer, `sector ${sector} comes from layer ${layer}`);
      assert.deepEqual(got.bytes, raw.subarray(sector * 512, sector * 512 + 512), `sector ${sector}`);
      const e = map.find((e) => e.start <= sector * 512 && sector * 512 < e.start + e.length);
      assert.equal(e.layer, layer);
      const where = `read from ${e.file} (layer ${layer}) at file offset 0x${(e.file_offset + sector * 512 - e.start).toString(16)}.`;
      const said = await page.text(UI.hexSource);
      assert.ok(said.endsWith(where), `${said} ends with ${where}`);
    }

    // The exact scan: the map's legend counts the squares map --json implies.
    await page.click(UI.scan);
    await page.waitForText(UI.scanState, /^Exact: every block bitmap was read/);
    const legend = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((k) => k.textContent), UI.scanLegend);
    checkLegend(legend, map, expected.current_size);

    await page.screenshot(shot('chain'), { fullPage: true });
    await page.screenshot(shot('provenance'), { selector: UI.provenance });
    assert.deepEqual(await page.errors(), []);
    assert.deepEqual(await requests(page), loaded, 'no request after the page loaded: the files are read in the page');
    await page.close();
  });

  test(`${engine}: files given to the file input as soon as the page's DOM exists (before its scripts have run, long before its engine is ready) open: values equal info --json`, async () => {
    const page = await browser.newPage();
    await page.gotoWithFiles(site.url, UI.fileInput, CHAIN);
    assert.equal(await settled(page), 'ready');
    const keys = await compareAll(page, cliInfo(GRAND, [CHILD, BASE]));
    assert.ok(keys.size > 80, `${keys.size} values shown`);
    assert.equal(await page.evaluate(() => window.vhdViewer.state.files.length), 3, 'the three files given are the files shown');
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: "Ready for Azure?" in the summary says what check --for azure --json says, for a fixed VHD of a whole MiB and a dynamic one`, async () => {
    const fixed = join(tmp.dir, 'azure-ready.vhd');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=fixed,force_size=on', fixed, '32M']);
    for (const [file, fits] of [[fixed, true], [DYNAMIC, false]]) {
      const r = spawnSync(cliPath(), ['check', file, '--for', 'azure', '--json'], { encoding: 'utf8' });
      assert.equal(r.status, fits ? 0 : 1, r.stderr);
      const want = JSON.parse(r.stdout);
      const page = await viewer();
      await page.setFiles(UI.fileInput, [file]);
      assert.equal(await settled(page), 'ready');
      const shown = await page.evaluate((sel) => {
        const s = document.querySelector(`${sel} section.fit`);
        return {
          verdict: s.querySelector('.fit-verdict').textContent,
          open: s.querySelector('details').open,
          rules: [...s.querySelectorAll('ul.fit-rules li')].map((li) => [li.dataset.code, li.dataset.pass === 'true', li.textContent]),
        };
      }, UI.summary);
      assert.equal(shown.verdict, want.verdict);
      assert.equal(shown.open, !fits, 'the rules are folded away when every rule passes');
      // Every rule, the failing ones first, each marked in words.
      const failing = want.rules.filter((x) => !x.pass).map((x) => x.code);
      assert.deepEqual(shown.rules.slice(0, failing.length).map(([c]) => c), failing);
      assert.equal(shown.rules.length, want.rules.length);
      for (const [code, pass, words] of shown.rules) {
        const rule = want.rules.find((x) => x.code === code);
        assert.equal(pass, rule.pass, code);
        assert.ok(words.startsWith(pass ? '✓ PASS' : '✗ FAIL') && words.includes(`Found ${rule.found}; expected ${rule.expected}.`), words);
      }
      assert.deepEqual(await page.errors(), []);
      await page.close();
    }
  });

  test(`${engine}: findings of a damaged disk given by a drop, clicking one shows the place; the full check equals check --json`, async () => {
    const info = cliInfo(DYNAMIC);
    const bytes = Buffer.from(readFileSync(DYNAMIC));
    bytes[bytes.length - 512 + 30] ^= 0xff; // the end footer's creator application: checksum wrong
    bytes.writeUInt32BE(0x00ffff00, info.table_offset); // BAT entry 0: a block far past the end
    const bad = join(tmp.dir, 'damaged.vhd');
    writeFileSync(bad, bytes);
    // Left-over bytes behind a clear bitmap bit (sector 1 of block 0 is unused in the sample).
    const left = Buffer.from(readFileSync(DYNAMIC));
    const block0 = left.readUInt32BE(info.table_offset) * 512;
    assert.equal(left[block0] & 0x40, 0, 'sector 1 of block 0 must be unused in the sample');
    left[block0 + info.bitmap_size + 512 + 5] = 0x99;
    const leftover = join(tmp.dir, 'leftover.vhd');
    writeFileSync(leftover, left);

    const page = await viewer();
    // A drop of a File built in the page: the same path as a file dragged from the desktop.
    await page.evaluate(({ name, b64, drop }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
      const target = document.querySelector(drop);
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { name: 'damaged.vhd', b64: bytes.toString('base64'), drop: UI.drop });
    assert.equal(await settled(page), 'ready');
    const expected = cliInfo(bad);
    const codes = expected.all_findings.map((f) => f.code);
    assert.ok(codes.includes('footer-checksum') && codes.includes('block-past-eof'), codes.join());
    await compareAll(page, expected);
    const classes = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((li) => li.className), UI.finding);
    assert.equal(classes.length, expected.all_findings.length);
    assert.equal(classes.filter((c) => /\berror\b/.test(c)).length, expected.all_findings.filter((f) => f.severity === 'error').length);
    // The finding about the BAT entry points at it: the hex view shows the file there.
    const i = codes.indexOf('block-past-eof');
    await page.click(`${UI.finding} button`, { nth: i });
    await page.waitForText(UI.hexSource, new RegExp(`byte 0x${info.table_offset.toString(16)} highlighted`));
    assert.deepEqual(await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent), UI.hexMarked), ['00']);
    await page.screenshot(shot('findings'), { selector: UI.findingsPanel });

    // The full check of another file, given through the file input.
    const all = JSON.parse(execFileSync(cliPath(), ['check', '--json', leftover], { encoding: 'utf8' }));
    const deep = all.slice(cliInfo(leftover).all_findings.length);
    assert.deepEqual(deep.map((f) => f.code), ['unused-sectors-nonzero']);
    await page.setFiles(UI.fileInput, [leftover]);
    await page.waitFor((sel) => document.querySelector(`${sel} [data-field="file"]`)?.textContent === 'leftover.vhd', UI.summary);
    assert.equal(await settled(page), 'ready');
    await page.click(UI.check);
    await page.waitForSelector(`${UI.checkBody} .verdict`);
    const shown = Object.fromEntries(await dataFields(page, UI.checkBody));
    deep.forEach((f, i) => {
      for (const key of ['code', 'severity', 'message', 'offset']) assert.equal(shown[`check_findings.${i}.${key}`], String(f[key]), `check finding ${i} ${key}`);
    });
    assert.equal(await page.evaluate((sel) => document.querySelectorAll(`${sel} li.finding`).length, UI.checkBody), deep.length);
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: the files on a differencing disk, through its chain and as of its parent: listings equal ls --json, a saved file equals get`, async () => {
    const { base, child } = fsVhds();
    /** `ls / --json` of partition 1 (FAT16), of the disk as of layer `layer`: [path, size], sorted. */
    const ls = (layer) =>
      cli(['ls', child, '/', '--json', '--partition', '1', '--parent', base, ...(layer ? ['--layer', String(layer)] : [])], child)
        .toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => [e.path, e.type === 'dir' ? null : e.size]).sort();
    /** What the files view lists: [path, size], sorted. */
    const shown = () => page.evaluate(() => [...document.querySelectorAll('#files-view tbody tr[data-path]')].map((r) => [r.dataset.path, r.dataset.type === 'dir' ? null : Number(r.querySelector('td.c-size')?.getAttribute('title')?.replace(/\D/g, '') ?? NaN)]).sort());
    const page = await viewer();
    await page.setFiles(UI.fileInput, [child, base]);
    assert.equal(await settled(page), 'ready');
    // The files are read when their part of the page is in view.
    await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
    await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && document.querySelectorAll('#files-view tbody tr[data-path]').length > 0, null, { timeout: 60_000 });
    const paths = (rows) => rows.map(([p]) => p);
    assert.deepEqual(await shown(), ls(0), 'the whole chain: the child\'s FAT16 root, with sizes');
    assert.ok(paths(ls(0)).includes('/Added in child.txt') && !paths(ls(1)).includes('/Added in child.txt'), 'the fixture: the child added a file');
    // As of layer 1 (the parent): the file the child added is not there, the one it deleted is.
    await page.select('#files-layer', '1');
    await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && !document.querySelector('#files-view tr[data-path="/Added in child.txt"]') && document.querySelectorAll('#files-view tbody tr[data-path]').length > 0, null, { timeout: 60_000 });
    assert.deepEqual(paths(await shown()), paths(ls(1)), 'as of the parent');
    await page.select('#files-layer', '0');
    await page.waitFor(() => !!document.querySelector('#files-view tr[data-path="/Added in child.txt"]'), null, { timeout: 60_000 });
    // A file the child wrote: its panel, and Save file gives the bytes of `vhd-viewer get`.
    await page.click('#files-view tr[data-path="/a.bin"] [data-action="open"]');
    await page.waitFor(() => !!document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-action="save"]'), null, { timeout: 60_000 });
    const saved = await page.download('#files-view [data-field="panel"] [data-action="save"]');
    assert.equal(saved.name, 'a.bin');
    assert.deepEqual(readFileSync(saved.path), cli(['get', child, '/a.bin', '--partition', '1', '--parent', base], child), 'the saved file equals vhd-viewer get');
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: a Red Hat VHDX's LVM2 logical volumes: the striped one's file opens from the URL and saves as get --volume`, async (t) => {
    const lvm = lvmVhds();
    if (lvm.skipped) return t.skip(lvm.skipped);
    const disk = join(lvm.dir, 'rhel.vhdx');
    const page = await viewer();
    await page.setFiles(UI.fileInput, [disk]);
    assert.equal(await settled(page), 'ready');
    await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
    await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready', null, { timeout: 60_000 });
    const names = await page.evaluate(() => [...document.querySelectorAll('#files-view [data-field="volumes"] li')].map((l) => l.dataset.volume));
    assert.deepEqual(names, JSON.parse(cli(['parts', disk, '--json'], disk).toString('utf8')).volumes.map((v) => `${v.vg}/${v.lv}`));
    await page.evaluate(() => (location.hash = '#partition=rhel/home&path=/alice/big.bin'));
    await page.waitFor(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="path"]')?.textContent === '/alice/big.bin', null, { timeout: 60_000 });
    const saved = await page.download('#files-view [data-field="panel"] [data-action="save"]');
    assert.equal(saved.name, 'big.bin');
    assert.deepEqual(readFileSync(saved.path), cli(['get', disk, '/alice/big.bin', '--volume', 'rhel/home'], disk), 'the saved file equals vhd-viewer get --volume');
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: XFS (a VHDX made by qemu-img) and exFAT data disks: the partitions strip names the file system, a folder's listing with its deleted entries equals ls --deleted --json, a saved file is the bytes written`, async () => {
    const { xfs, exfat } = linuxDataVhds();
    const sums = (rows) => new Map(rows);
    const cases = [
      { disk: xfs.vhdx, words: 'XFS', id: 'Inode', dir: xfs.deleted ? '/gone' : '/', file: xfs.deleted ? '/gone/removed-file-40.txt' : '/big.bin', sum: sums(xfs.tree) },
      exfat && { disk: exfat.vhd, words: 'exFAT', id: 'First cluster', dir: '/', file: '/fragmented.bin', sum: new Map(exfat.manifest.map(([sum, , path]) => [path, sum])) },
    ].filter(Boolean);
    const page = await viewer();
    for (const c of cases) {
      const ls = cli(['ls', c.disk, c.dir, '--deleted', '--json', '--partition', '1'], c.disk)
        .toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => [e.path, e.type, e.type === 'dir' ? null : e.size, e.deleted]).sort();
      assert.ok(ls.some((e) => e[3]), `${c.words}: the fixture has a deleted entry in ${c.dir}`);
      await page.setFiles(UI.fileInput, [c.disk]);
      assert.equal(await settled(page), 'ready');
      await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
      // The strip's partition, in words (its title: the partition's number, file system and label).
      await page.waitFor((w) => document.querySelector('[data-field="strip"] [data-partition="1"]')?.getAttribute('title')?.startsWith(`Partition 1 · ${w} · `), c.words, { timeout: 60_000 });
      await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && document.querySelectorAll('#files-view tbody tr[data-path]').length > 0, null, { timeout: 60_000 });
      await page.select('#files-view [data-action="deleted"]', true);
      if (c.dir !== '/') await page.click(`#files-view tr[data-path="${c.dir}"] [data-action="open"]`);
      const shown = () => page.evaluate(() => [...document.querySelectorAll('#files-view tbody tr[data-path]')].map((r) => [r.dataset.path, r.dataset.type, r.dataset.type === 'dir' ? null : Number(r.querySelector('td.c-size').getAttribute('title').replace(/\D/g, '')), r.dataset.deleted === 'true' && r.classList.contains('deleted')]).sort());
      await page.waitFor((n) => document.querySelector('#files-view')?.dataset.state === 'ready' && document.querySelectorAll('#files-view tbody tr[data-path]').length === n, ls.length, { timeout: 60_000 });
      assert.deepEqual(await shown(), ls, `${c.words}: ${c.dir} with its deleted entries, as ls --deleted --json`);
      await page.click(`#files-view tr[data-path="${c.file}"] [data-action="open"]`);
      await page.waitFor(() => !!document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-action="save"]'), null, { timeout: 60_000 });
      const idName = await page.evaluate(() => document.querySelector('#files-view [data-field="panel"] [data-field="id"]').previousElementSibling.textContent);
      assert.equal(idName, c.id, `what ${c.words} calls a file's number`);
      const saved = await page.download('#files-view [data-field="panel"] [data-action="save"]');
      assert.equal(sha256(readFileSync(saved.path)), c.sum.get(c.file), `${c.words}: the saved ${c.file} is the bytes written`);
    }
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: the System card of a Windows chain equals inspect --json as of the child and of its parent; a source link opens the hive in the file browser`, async () => {
    const w = systemVhds('windows');
    /** inspect --json's one system, as of layer `layer`. */
    const inspect = (layer) => JSON.parse(cli(['inspect', w.child, '--parent', w.parent, '--json', ...(layer ? ['--layer', String(layer)] : [])], w.child).toString('utf8')).systems[0];
    /** What the card shows: its facts (their values as the core gives them), users and programs' count. */
    const card = async () => {
      await page.waitFor(() => Number(document.getElementById('systems').getAttribute('data-systems')) > 0, null, { timeout: 60_000 });
      return page.evaluate(() => {
        const a = document.querySelector('#systems article.system');
        return {
          facts: Object.fromEntries([...a.querySelectorAll('dl.facts [data-sys]')].map((e) => [e.dataset.sys, e.dataset.value])),
          users: [...a.querySelectorAll('[data-sys="user"]')].map((e) => e.textContent),
          programs: Number(a.querySelector('[data-sys="programs"]')?.textContent),
        };
      });
    };
    const want = (s) => ({
      facts: Object.fromEntries(['hostname', 'timezone', 'install_date', 'last_shutdown', 'registered_owner'].filter((k) => s[k] !== null).map((k) => [k, s[k]])),
      users: s.users.map((u) => u.name),
      programs: s.programs.length,
    });
    const page = await viewer();
    await page.setFiles(UI.fileInput, [w.child, w.parent]);
    assert.equal(await settled(page), 'ready');
    const child = inspect(0);
    assert.deepEqual(await card(), want(child));
    await page.select('#files-layer', '1');
    await page.waitFor(() => /as of layer 1/.test(document.getElementById('systems').textContent ?? '') && document.getElementById('systems').getAttribute('data-systems') !== 'reading', null, { timeout: 60_000 });
    const parent = inspect(1);
    assert.notEqual(parent.hostname, child.hostname);
    assert.deepEqual(await card(), want(parent));
    // The computer name's source: the SYSTEM hive, opened in the file browser.
    await page.click('#systems dl.facts [data-sys="hostname"] + [data-action="source"]');
    const name = parent.sources.hostname.path.split('/').pop();
    await page.waitFor((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });
    await page.screenshot(shot('system-card'), { selector: '#overview' });
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: the search box lists the hits of search --json through a chain with their owners; a hit in a file shows its bytes marked in the hex view, its owner, and the file in the file browser`, async () => {
    const { base, child } = fsVhds();
    const page = await viewer();
    await page.setFiles(UI.fileInput, [child, base]);
    assert.equal(await settled(page), 'ready');
    await page.fill('#search-view input[type=search]', 'bottom');
    await page.click('#search-view button[type=submit]');
    await page.waitFor(() => document.getElementById('search-view').dataset.state === 'done', null, { timeout: 120_000 });
    const theirs = cliSearch(child, ['bottom']);
    assert.ok(theirs.some((h) => h.owner.kind === 'file'));
    assert.deepEqual(await shownHits(page), theirs.map(hitFields));
    const hit = theirs.find((h) => h.owner.kind === 'file' && h.encoding === 'utf-8' && (h.offset % 512) + h.length <= 512);
    await page.click(`#search-view tr[data-offset="${hit.offset}"] [data-action=show]`);
    await page.waitFor((o) => document.getElementById('hex-source').dataset.offset === String(Math.floor(o / 512) * 512) && document.querySelectorAll('#hex-dump .mark').length === 6, hit.offset, { timeout: 60_000 });
    // The hex view says who owns the sector: the hit's file.
    await page.waitFor((p) => document.getElementById('hex-owner').dataset.path === p, hit.owner.path, { timeout: 60_000 });
    const name = hit.owner.path.split('/').pop();
    await page.waitFor((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });
    await page.screenshot(shot('search'), { selector: '#search' });
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: a BitLocker partition: described as parts --json says, its unlock stopped, a wrong password refused, unlocked by its recovery password in the Worker (never in the URL or storage): listings equal ls --json, a saved file equals get`, async () => {
    const { dir, cases } = bitlockerVhds();
    const c = cases.find((x) => x.name === 'xts128');
    const secret = (kind, field) => c.manifest.protectors.find((p) => p.kind === kind)[field];
    const recovery = secret('recovery-password', 'recovery_password');
    const parts = JSON.parse(cli(['parts', c.vhd, '--json'], c.vhd).toString('utf8'));
    const p = parts.partitions.find((x) => x.filesystem === 'bitlocker');
    const page = await viewer();
    await page.setFiles(UI.fileInput, [c.vhd]);
    assert.equal(await settled(page), 'ready');
    await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
    const card = `#files-view li[data-partition="${p.index}"]`;
    await page.waitFor((sel) => !!document.querySelector(`${sel} form[data-field="unlock"]`), card, { timeout: 60_000 });
    const about = await page.evaluate((sel) => document.querySelector(`${sel} [data-field="bitlocker"]`).textContent, card);
    assert.ok(about.includes('AES-XTS 128-bit') && about.includes(p.bitlocker.volume_id), about);
    for (const pr of p.bitlocker.protectors) assert.ok(about.includes(pr.id), `${pr.kind} ${pr.id} is shown`);
    // Stop during the recovery password's stretch: stopped, still locked.
    await page.select(`${card} [data-field="unlock-kind"]`, 'recovery-password');
    await page.fill(`${card} [data-field="unlock-secret"]`, recovery);
    await page.click(`${card} [data-action="unlock"]`);
    await page.click(`${card} [data-action="stop-unlock"]`);
    await page.waitFor(() => document.querySelector('#files-view').dataset.unlock === 'stopped', null, { timeout: 60_000 });
    assert.ok(await page.evaluate((sel) => !!document.querySelector(`${sel} form[data-field="unlock"]`), card), 'still locked');
    // A wrong password: the core's words, and the partition stays locked.
    await page.select(`${card} [data-field="unlock-kind"]`, 'password');
    await page.fill(`${card} [data-field="unlock-secret"]`, 'not the password');
    await page.click(`${card} [data-action="unlock"]`);
    await page.waitFor(() => document.querySelector('#files-view').dataset.unlock === 'error', null, { timeout: 60_000 });
    const refused = await page.evaluate((sel) => document.querySelector(`${sel} [data-field="unlock-status"]`).textContent, card);
    assert.match(refused, /this password does not unlock the volume/);
    // The recovery password: the stretch runs in the Worker; the files are listed.
    await page.select(`${card} [data-field="unlock-kind"]`, 'recovery-password');
    await page.fill(`${card} [data-field="unlock-secret"]`, recovery);
    await page.click(`${card} [data-action="unlock"]`);
    await page.waitFor(() => document.querySelector('#files-view').dataset.unlock === 'done' && document.querySelectorAll('#files-view tbody tr[data-path]').length > 0, null, { timeout: 120_000 });
    const ls = cli(['ls', c.vhd, '/', '--json', '--partition', String(p.index), '--recovery-password', recovery], c.vhd)
      .toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).path).filter((x) => !x.startsWith('/$')).sort();
    const shown = await page.evaluate(() => [...document.querySelectorAll('#files-view tbody tr[data-path]')].map((r) => r.dataset.path).filter((x) => !x.startsWith('/$')).sort());
    assert.deepEqual(shown, ls);
    await page.click('#files-view tr[data-path="/random.bin"] [data-action="open"]');
    await page.waitFor(() => !!document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-action="save"]'), null, { timeout: 60_000 });
    const saved = await page.download('#files-view [data-field="panel"] [data-action="save"]');
    assert.deepEqual(readFileSync(saved.path), readFileSync(join(dir, 'random.bin')), 'the saved file equals what was written');
    // The key went nowhere but the Worker: not in the address, not in the page's storage, not in the form.
    const kept = await page.evaluate(() => [location.href, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage }), document.body.innerHTML].join('\n'));
    assert.ok(!kept.includes(recovery) && !kept.includes('not the password'), 'the key is kept only by the Worker');
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: what a differencing disk changed, file by file: the Changes table equals diff --json, a row shows its file, the JSON saved equals diff --json`, async () => {
    const { base, child } = fsVhds();
    const want = JSON.parse(cli(['diff', child, '--parent', base, '--json'], child).toString('utf8'));
    const wantRows = want.partitions.flatMap((p) => p.changes.map((c) => [p.index, c.path, c.kind])).sort();
    assert.ok(wantRows.length >= 4, 'the fixture changed files');
    const page = await viewer();
    await page.setFiles(UI.fileInput, [child, base]);
    assert.equal(await settled(page), 'ready');
    await page.evaluate(() => document.getElementById('changes').scrollIntoView());
    await page.click('#changes-run');
    await page.waitFor(() => ['done', 'stopped'].includes(document.getElementById('changes-body').dataset.changes), null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.getElementById('changes-body').dataset.changes), 'done');
    const rows = await page.evaluate(() => [...document.querySelectorAll('#changes-body tbody tr[data-path]')].map((r) => [Number(r.dataset.partition), r.dataset.path, r.dataset.kind]).sort());
    assert.deepEqual(rows, wantRows);
    // The bar's words name the held bytes, as diff --json counts them.
    assert.match(await page.evaluate(() => document.querySelector('#changes-body [data-field="destinations"]').getAttribute('aria-label')), /Where the .* the newer layers hold went: files/);
    // A file the child added: picked, its panel shows in the files view (as of the child).
    await page.click('#changes-body tr[data-path="/Added in child.txt"] [data-action="pick"]');
    await page.waitFor(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === 'Added in child.txt', null, { timeout: 60_000 });
    // A deleted one: shown as of the parent, where it still is.
    await page.click('#changes-body tr[data-path="/c.bin"] [data-action="pick"]');
    await page.waitFor(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === 'c.bin', null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.getElementById('files-layer').value), '1');
    // Saved as JSON: the same answer as the command line.
    const saved = await page.download('#changes-body [data-action="save-json"]');
    assert.deepEqual(JSON.parse(readFileSync(saved.path, 'utf8')), want);
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: the Timeline of a differencing chain: as many times as timeline --json, a path filter and a brush narrow it, a row opens its file, the body file and the CSV saved equal timeline --bodyfile and --csv`, async () => {
    const { base, child } = fsVhds();
    const want = cli(['timeline', child, '--parent', base, '--json'], child).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const page = await viewer();
    await page.setFiles(UI.fileInput, [child, base]);
    assert.equal(await settled(page), 'ready');
    await page.evaluate(() => document.getElementById('timeline').scrollIntoView());
    await page.click('#timeline-run');
    await page.waitFor(() => document.querySelectorAll('#timeline .tl-row').length > 0, null, { timeout: 120_000 });
    const count = () => page.evaluate(() => document.querySelector('#timeline .tl-count').textContent);
    const all = new RegExp(`^${want.length.toLocaleString('en')} times shown of `);
    assert.match(await count(), all, 'deleted entries hidden at first');
    // The first rows shown are the earliest times, as timeline --json sorts them.
    const firstTime = await page.evaluate(() => document.querySelector('#timeline .tl-row .tl-time').textContent);
    assert.equal(firstTime, want[0].time);
    // The keyboard narrows the range (Enter: its middle half), Home shows every time again.
    await page.evaluate(() => {
      const c = document.querySelector('#timeline .tl-histogram');
      c.focus();
      c.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    assert.match(await page.evaluate(() => document.querySelector('#timeline .tl-range').textContent), /^From \S+Z to \S+Z$/);
    await page.evaluate(() => document.querySelector('#timeline .tl-histogram').dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', bubbles: true })));
    assert.match(await count(), all);
    // The path filter: the file the child added, its times only; its row opens it in the files view.
    const added = want.filter((r) => r.path.toLowerCase().includes('added in child'));
    assert.ok(added.length > 0, 'the fixture: the child added a file');
    await page.evaluate(() => {
      const i = document.querySelector('#timeline input[type="search"]');
      i.value = 'Added in child';
      i.dispatchEvent(new Event('input'));
    });
    assert.match(await count(), new RegExp(`^${added.length} times shown`));
    await page.click('#timeline .tl-row');
    await page.waitFor(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === 'Added in child.txt', null, { timeout: 60_000 });
    const saved = await page.download('#timeline-body');
    assert.equal(readFileSync(saved.path, 'utf8'), cli(['timeline', child, '--parent', base, '--bodyfile'], child).toString('utf8'));
    const csv = await page.download('#timeline-csv');
    assert.equal(readFileSync(csv.path, 'utf8'), cli(['timeline', child, '--parent', base, '--csv'], child).toString('utf8'));
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: two disks that are not one chain, dropped together: the Changes table equals diff OLD NEW --json`, async () => {
    const { base, child } = fsVhds();
    // The child merged into a standalone disk (a new unique id): not base.vhd's child any more.
    const t = tempDir();
    try {
      const merged = join(t.dir, 'merged.vhd');
      execFileSync(cliPath(), ['convert', child, merged, '--parent', base]);
      const want = JSON.parse(execFileSync(cliPath(), ['diff', base, merged, '--json'], { maxBuffer: 1 << 30, encoding: 'utf8' }));
      assert.equal(want.mode, 'unrelated');
      const wantRows = want.partitions.flatMap((p) => p.changes.map((c) => [p.index, c.path, c.kind])).sort();
      assert.ok(wantRows.length >= 4, 'the fixture changed files');
      const page = await viewer();
      await page.setFiles(UI.fileInput, [merged, base]);
      assert.equal(await settled(page), 'ready');
      await page.evaluate(() => document.getElementById('changes').scrollIntoView());
      // The disk shown is one of the two; the other is offered to compare with.
      const shown = await page.evaluate(() => window.vhdViewer.state.disk.names[0]);
      const other = shown === 'merged.vhd' ? 'base.vhd' : 'merged.vhd';
      const option = await page.evaluate((n) => [...document.querySelectorAll('#changes-from option')].find((o) => o.textContent === `another disk: ${n}`)?.value, other);
      assert.ok(option, `the other disk ${other} is offered`);
      if (shown !== 'merged.vhd') {
        // Show the merged disk (the newer), as a person picks a chain from the list of files.
        await page.evaluate(() => [...document.querySelectorAll('#file-list button, #file-list [data-chain]')].find((b) => /merged\.vhd/.test(b.textContent))?.click());
        await page.waitFor(() => window.vhdViewer.state.disk?.names[0] === 'merged.vhd');
      }
      await page.evaluate(() => {
        const sel = document.getElementById('changes-from');
        sel.value = [...sel.options].find((o) => o.textContent === 'another disk: base.vhd').value;
      });
      await page.click('#changes-run');
      await page.waitFor(() => ['done', 'stopped'].includes(document.getElementById('changes-body').dataset.changes), null, { timeout: 120_000 });
      assert.equal(await page.evaluate(() => document.getElementById('changes-body').dataset.changes), 'done');
      const rows = await page.evaluate(() => [...document.querySelectorAll('#changes-body tbody tr[data-path]')].map((r) => [Number(r.dataset.partition), r.dataset.path, r.dataset.kind]).sort());
      assert.deepEqual(rows, wantRows);
      assert.match(await page.evaluate(() => document.querySelector('#changes-body [data-field="destinations"]').getAttribute('aria-label')), /allocated in either disk/);
      const saved = await page.download('#changes-body [data-action="save-json"]');
      const got = JSON.parse(readFileSync(saved.path, 'utf8'));
      assert.deepEqual(got, want);
      assert.deepEqual(await page.errors(), []);
      await page.close();
    } finally {
      t.remove();
    }
  });

  test(`${engine}: the raw export as a download equals vhd-viewer cat; the info JSON equals info --json; Compact… equals vhd-viewer compact`, async () => {
    const page = await viewer();
    const fsa = await page.evaluate(() => typeof window.showSaveFilePicker === 'function');
    assert.equal(fsa, FEATURES.fileSystemAccess[engine], `${engine} ${FEATURES.fileSystemAccess[engine] ? 'has' : 'lacks'} the File System Access API`);
    // Where the browser has the File System Access API the page uses it: hidden here, so that
    // the download every other browser takes is tested in this one too.
    if (fsa) {
      await page.evaluate(() => {
        delete Window.prototype.showSaveFilePicker;
        delete window.showSaveFilePicker;
      });
    }
    await page.setFiles(UI.fileInput, CHAIN);
    assert.equal(await settled(page), 'ready');
    const raw = await page.download(UI.exportRaw);
    assert.equal(raw.name, 'grandchild.img');
    const want = cliCat(GRAND, [CHILD, BASE]);
    const got = readFileSync(raw.path);
    assert.equal(got.length, want.length, 'the downloaded image has the size of the disk');
    assert.equal(sha256(got), sha256(want), 'the downloaded image equals vhd-viewer cat');
    assert.match(await page.text(UI.exportNote), /Saving grandchild\.img/);
    const json = await page.download(UI.exportInfo);
    assert.deepEqual(JSON.parse(readFileSync(json.path, 'utf8')), cliInfo(GRAND, [CHILD, BASE]));
    // "Compact…": the core's writer reading synchronously in this engine's Worker.
    const compact = await page.download(UI.exportCompact);
    assert.equal(compact.name, 'grandchild-compact.vhd');
    const t = tempDir();
    try {
      const out = join(t.dir, 'compact.vhd');
      execFileSync(cliPath(), ['compact', GRAND, out, '--parent', CHILD, '--parent', BASE]);
      assert.equal(sha256(readFileSync(compact.path)), sha256(readFileSync(out)), 'the compacted copy equals vhd-viewer compact');
    } finally {
      t.remove();
    }
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: Resize… of a child, as a download, equals vhd-viewer resize; a shrink past its partition is refused first`, async () => {
    const page = await viewer();
    if (FEATURES.fileSystemAccess[engine]) {
      await page.evaluate(() => {
        delete Window.prototype.showSaveFilePicker;
        delete window.showSaveFilePicker;
      });
    }
    await page.setFiles(UI.fileInput, CHAIN);
    assert.equal(await settled(page), 'ready');
    // The sample's FAT32 partition reaches nearly to the end: 32 MiB cuts it.
    await page.fill(UI.resizeSize, '32M');
    const refused = await page.waitForText(UI.resizePlan, /Refused: partition 1 ends at byte/);
    assert.match(refused, /the smallest size allowed is \d+ bytes/);
    await page.fill(UI.resizeSize, '96M');
    await page.waitForText(UI.resizePlan, /will be resized from 63\.95 MiB to 96 MiB/);
    // "Resize…": the core's writer reading the chain synchronously in this engine's Worker.
    const copy = await page.download(UI.exportResize);
    assert.equal(copy.name, 'grandchild-resized.vhd');
    const t = tempDir();
    try {
      const out = join(t.dir, 'resized.vhd');
      execFileSync(cliPath(), ['resize', GRAND, out, '--size', '96M', '--parent', CHILD, '--parent', BASE]);
      assert.equal(sha256(readFileSync(copy.path)), sha256(readFileSync(out)), 'the resized copy equals vhd-viewer resize');
    } finally {
      t.remove();
    }
    await page.waitForText(UI.exportNote, /Resized from 63\.95 MiB to 96 MiB/);
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: Compact… with the free space given back, as a download, equals vhd-viewer compact --trim (ext4 VHDX, FAT32 in GPT VHD)`, async () => {
    const disks = trimDisks();
    const page = await viewer();
    if (FEATURES.fileSystemAccess[engine]) {
      await page.evaluate(() => {
        delete Window.prototype.showSaveFilePicker;
        delete window.showSaveFilePicker;
      });
    }
    const t = tempDir();
    try {
      for (const [input, name] of [[disks.ext4.vhdx, 'ext4-compact.vhdx'], [disks.fat32.vhd, 'fat32-compact.vhd']]) {
        await page.setFiles(UI.fileInput, [input]);
        assert.equal(await settled(page), 'ready');
        await page.waitFor((s) => !document.querySelector(s).disabled, UI.exportTrim);
        await page.select(UI.exportTrim, true);
        const copy = await page.download(UI.exportCompact);
        assert.equal(copy.name, name, 'the copy has the input\'s format');
        const out = join(t.dir, name);
        const report = cliTrim(input, out);
        assert.equal(sha256(readFileSync(copy.path)), sha256(readFileSync(out)), `the copy of ${name} equals vhd-viewer compact --trim`);
        const note = await page.waitForText(UI.exportNote, /read from the files/);
        assert.ok(note.includes(`${report.report.blocks_before} blocks before, ${report.report.blocks_after} now`), note);
        const trimmed = await page.evaluate(() => [...document.querySelectorAll('table.trim-volumes tbody tr')].map((tr) => tr.dataset.trimmed));
        assert.deepEqual(trimmed, report.volumes.map((v) => String(v.trimmed)));
      }
    } finally {
      t.remove();
    }
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(
    `${engine}: the 256 GiB VHDX compacted with its free space given back, as a download, stops at the download's limit and says why`,
    { skip: FEATURES.fileSystemAccess[engine] && `${engine} streams it into the file (tests/web/trim.test.mjs)` },
    async () => {
      const page = await viewer();
      await page.setFiles(UI.fileInput, [bigDisk().vhdx]);
      assert.equal(await settled(page), 'ready');
      await page.waitFor((s) => !document.querySelector(s).disabled, UI.exportTrim);
      await page.select(UI.exportTrim, true);
      await page.click(UI.exportCompact);
      // Its copy (1.3 GiB) would have to be held in memory: refused once past 512 MiB, nothing saved.
      await page.waitForText('#messages', /holds more than 512 MiB.*File System Access API/, { timeout: 300_000 });
      assert.match(await page.text(UI.exportNote), /^$/);
      assert.deepEqual(await page.errors(), []);
      await page.close();
    },
  );

  test(
    `${engine}: the raw export through the File System Access API equals vhd-viewer cat`,
    { skip: !FEATURES.fileSystemAccess[engine] && `${engine} has no File System Access API (showSaveFilePicker); its export is the download tested above` },
    async () => {
      const page = await viewer();
      await page.setFiles(UI.fileInput, CHAIN);
      assert.equal(await settled(page), 'ready');
      // The real picker opens a dialog: a stand-in gives a file in memory, sized first and
      // written at offsets, as the real one is.
      await page.evaluate(() => {
        window.showSaveFilePicker = async (opts) => ({
          name: opts.suggestedName,
          async createWritable() {
            let buf = new Uint8Array(0);
            window.__written = { writes: 0 };
            return {
              async truncate(n) {
                const b = new Uint8Array(n);
                b.set(buf.subarray(0, Math.min(n, buf.length)));
                buf = b;
              },
              async write({ type, position, data }) {
                if (type !== 'write') throw new Error('unexpected ' + type);
                buf.set(data, position);
                window.__written.writes++;
              },
              async close() {
                const d = await crypto.subtle.digest('SHA-256', buf);
                window.__written.sha = Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
                window.__written.size = buf.length;
              },
              async abort() {},
            };
          },
        });
      });
      await page.click(UI.exportRaw);
      const written = await page.waitFor(() => window.__written?.sha && window.__written);
      const want = cliCat(GRAND, [CHILD, BASE]);
      assert.equal(written.size, want.length);
      assert.equal(written.sha, sha256(want));
      assert.match(await page.text(UI.exportNote), /Saved grandchild\.img/);
      assert.deepEqual(await page.errors(), []);
      await page.close();
    },
  );

  test(`${engine}: the self-contained file (dist/vhd-viewer.html) works opened from disk (file://): values equal info --json, no request`, async () => {
    const file = join(ROOT, 'dist', 'vhd-viewer.html');
    assert.ok(existsSync(file), `${file} is missing: run make package`);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector(UI.wasmReady);
    await page.setFiles(UI.fileInput, CHAIN);
    assert.equal(await settled(page), 'ready');
    const keys = await compareAll(page, cliInfo(GRAND, [CHILD, BASE]));
    assert.ok(keys.size > 80, `${keys.size} values shown`);
    // The styles of the views are inside the file too: the chain is drawn as a row of boxes.
    assert.equal(await page.evaluate((sel) => getComputedStyle(document.querySelector(`${sel} ol.chain`)).display, UI.chain), 'flex');
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.deepEqual(fetched.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:')), [], 'nothing is fetched from any server');
    await page.screenshot(shot('self-contained'), { selector: UI.chain });
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: a deep link: ?src= opens a remote chain at the block the fragment names; the reader's moves are kept in the fragment and reopen in a new page`, async () => {
    const page = await browser.newPage();
    const id = cliInfo(GRAND, [CHILD, BASE]).chain[0].unique_id;
    await page.goto(`${site.url}?src=samples/grandchild.vhd&parent=samples/child.vhd&parent=samples/base.vhd#view=bitmap&layer=1&block=0`);
    assert.equal(await settled(page), 'ready');
    assert.match(await page.text('#closeup-body h3'), /^Block 0 of child\.vhd: /);
    await page.fill('#hex-at', '66');
    await page.evaluate(() => document.querySelector('#hex-form').requestSubmit());
    const link = await page.waitFor(() => location.hash.includes('sector=66') && location.href);
    assert.equal(new URL(link).hash, `#disk=${id}&view=bitmap&layer=1&block=0&sector=66`);
    assert.deepEqual(await page.errors(), []);
    await page.close();

    const again = await browser.newPage();
    await again.goto(link);
    assert.equal(await settled(again), 'ready');
    assert.match(await again.text('#closeup-body h3'), /^Block 0 of child\.vhd: /);
    assert.equal(await again.evaluate(() => document.querySelector('#hex-at').value), '66');
    await again.waitForText('#hex-source strong', /^Virtual sector 66$/);
    assert.deepEqual(await again.errors(), []);
    await again.close();
  });

  test(`${engine}: the <vhd-viewer> element reads a remote chain over HTTP Range: values equal info --json, sectors equal cat, only parts travel`, async () => {
    const page = await browser.newPage();
    const from = log.length;
    await page.goto(site.url + 'embed.html');
    const state = (sel) => page.waitFor((s) => ['ready', 'error'].includes(document.querySelector(s)?.dataset.state) && document.querySelector(s).dataset.state, sel);
    assert.equal(await state('#remote'), 'ready');
    const expected = cliInfo(GRAND, [CHILD, BASE]);
    const fields = await page.evaluate(() => [...document.querySelector('#remote').shadowRoot.querySelectorAll('[data-field]')].map((e) => [e.dataset.field, e.dataset.value ?? e.textContent]));
    assert.ok(fields.length > 80, `${fields.length} values shown`);
    for (const [key, shown] of fields) assert.equal(shown, text(at(expected, key)), `data-field "${key}"`);
    const keys = new Set(fields.map(([k]) => k));
    expected.fields.forEach((f, i) => assert.ok(keys.has(`fields.${i}.value`), `fields.${i}.value shown`));

    // Sectors read through the chain over HTTP come from the right file with the right bytes.
    // (First the sector the element shows by itself: a sector asked for while an earlier one is
    // still being read can be overwritten by the earlier one when its answer comes later.)
    await page.waitFor((sel) => document.querySelector('#remote').shadowRoot.querySelector(`${sel} strong`)?.textContent === 'Virtual sector 0', EL.source);
    const raw = cliCat(GRAND, [CHILD, BASE]);
    for (const [sector, layer] of [[66, 0], [64, 1], [63, 2]]) {
      await page.evaluate((s) => document.querySelector('#remote').setAttribute('sector', String(s)), sector);
      await page.waitFor(([sel, s]) => document.querySelector('#remote').shadowRoot.querySelector(`${sel} strong`)?.textContent === `Virtual sector ${s}`, [EL.source, sector]);
      const got = await page.evaluate(([source, bytes]) => {
        const root = document.querySelector('#remote').shadowRoot;
        return { layer: root.querySelector(source).dataset.layer, hexes: [...root.querySelectorAll(bytes)].map((e) => e.textContent) };
      }, [EL.source, EL.hexBytes]);
      assert.equal(got.layer, String(layer), `sector ${sector} comes from layer ${layer}`);
      assert.deepEqual(Buffer.from(got.hexes.map((x) => parseInt(x, 16))), raw.subarray(sector * 512, sector * 512 + 512), `sector ${sector}`);
    }
    // The exact map reads the bitmaps, over HTTP too.
    await page.evaluate((sel) => document.querySelector('#remote').shadowRoot.querySelector(sel).click(), EL.scan);
    await page.waitFor((sel) => /^Exact/.test(document.querySelector('#remote').shadowRoot.querySelector(sel).textContent), EL.scanState);
    checkLegend(await page.evaluate((sel) => [...document.querySelector('#remote').shadowRoot.querySelectorAll(sel)].map((k) => k.textContent), EL.scanLegend), chainMap(), expected.current_size);

    // Every request for the disks asked for a part and got it (206); together far less than the files.
    await quiet();
    const disks = log.slice(from).filter((e) => /\/samples\/(grandchild|child|base)\.vhd$/.test(e.path));
    assert.ok(disks.length > 3, `${disks.length} requests for the disks`);
    for (const e of disks) {
      assert.equal(e.status, 206, `${e.path} ${e.range}`);
      assert.match(e.range, /^bytes=\d+-\d+$/);
    }
    const sent = disks.reduce((n, e) => n + e.bytes, 0);
    const total = CHAIN.reduce((n, f) => n + statSync(f).size, 0);
    console.log(`${engine}: remote chain: ${disks.length} requests, ${sent} bytes of ${total}`);
    assert.ok(sent < total / 10, `${sent} bytes of ${total}`);
    await page.screenshot(shot('element-remote-chain'), { selector: '#remote' });
    assert.deepEqual(await page.errors(), []);
    await page.close();
  });

  test(`${engine}: a folder of disks given (issue 24's test folder): the trees and problems of vhd-viewer chains --json, the bytes read per file the survey's, Open shows a chain`, async () => {
    const fx = folderFixture();
    const { answer } = cliChains(fx.top);
    // The folder beside the page (its Content-Security-Policy lets it fetch only its own origin).
    const here = await siteWithFolder(fx.top);
    try {
      const page = await browser.newPage();
      await page.goto(here.url);
      await page.waitForSelector(UI.wasmReady);
      // The files as a dropped folder's walk names them (vm/..., `/` between folders).
      await page.evaluate(giveFolder, { names: fx.files });
      await page.waitFor(() => document.getElementById('folder')?.dataset.state === 'done', null, { timeout: 60_000, what: 'the folder surveyed' });
      assert.deepEqual(await page.evaluate(shownTree), treeShape(answer.trees));
      assert.deepEqual(await page.evaluate(shownProblems), expectedProblems(answer));
      const got = await page.evaluate(() => {
        const f = window.vhdViewer.state.folder;
        return { survey: f.survey, stats: f.stats, names: f.names };
      });
      assert.deepEqual(got.survey, answer);
      // What the page's Worker read of each file is what the survey says it read: a few KiB for a
      // VHD, the headers and metadata for a VHDX, never the block table or data.
      for (const { file, bytes } of answer.bytes_read) {
        assert.equal(got.stats[got.names.indexOf(file)].bytes, bytes, `${file}: bytes read`);
        assert.ok(bytes <= (file.endsWith('vhd') ? 8 << 10 : (320 << 10) + (1 << 20) + 1024), `${file}: ${bytes} bytes`);
      }
      await page.screenshot(shot('folder'), { fullPage: true });
      // Open: the VHD tree's leaf with its ancestors, found by id, in the viewer.
      const xp = answer.trees.find((t) => t.format === 'vhd' && t.children.length && !answer.moved.some((m) => m.parent === t.file));
      const leaf = xp.children[0].children[0];
      await page.click(`#folder [data-file="${leaf.file}"] > .folder-row [data-action=open]`);
      assert.equal(await settled(page), 'ready');
      assert.deepEqual(await page.evaluate(() => window.vhdViewer.state.disk.names), [leaf.file, xp.children[0].file, xp.file].map((f) => f.split('/').pop()));
      assert.equal(await page.text(`${UI.chain} [data-field="chain.0.parent_verified"]`), 'link verified ✓');
      assert.deepEqual(await page.errors(), []);
      await page.close();
    } finally {
      await here.close();
    }
  });
}

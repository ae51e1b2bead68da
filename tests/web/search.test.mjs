// The search box's binding, WasmSearch stepped by WasmVolumes.searchStep, on the real WebAssembly
// in Node with synchronous reads (fs.readSync, as a Worker's FileReaderSync): step by step, its
// hits and their owners are the lines of the command line's `search --json` on the same chain
// (FAT16, NTFS and ext4 made by the real tools, a child over them), `--only-layer` too; a
// refused pattern is an error in words. In Chromium, the page's search box: its list equals
// `search --json` with each option, Stop stops, a hit opens the hex view at it and its file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../www/js/common/format.js';
import { fsVhds, coreBindings, openChain, cliSearch as cliSearchOn } from './fs-fixtures.mjs';
import { bitlockerVhds } from './bitlocker-fixtures.mjs';
import { launch } from './engines.mjs';
import { serve } from '../../scripts/serve.mjs';
import { WWW, shownHits, hitFields } from './helpers.mjs';

const vhds = fsVhds();
let b;
const opened = [];
before(async () => {
  b = await coreBindings();
});
after(() => opened.forEach((c) => c.close()));

/**
 * Every hit of a search stepped `budget` bytes at a time, and the number of steps; of the chain
 * `files` (the test chain by default) as of its layer `k`, `ready(vols)` run on its volumes first.
 */
function stepped(args, budget, files = [vhds.child, vhds.base], ready = (_vols) => {}, k = 0) {
  const c = openChain(b, files);
  opened.push(c);
  const disk = k ? c.disk.asOfLayer(k) : c.disk;
  const vols = new b.WasmVolumes(disk, c.reader(k));
  ready(vols);
  const search = new b.WasmSearch(vols, ...args);
  const hits = [];
  let steps = 0;
  let position = 0;
  for (;;) {
    const s = normalize(vols.searchStep(search, budget));
    assert.ok(s.position >= position, 'the position goes forward');
    position = s.position;
    hits.push(...s.hits);
    steps += 1;
    if (s.done) break;
  }
  search.free();
  return { hits, steps, position, size: c.disk.size() };
}

/** `search --json` lines on the chain. */
const cliSearch = (args) => cliSearchOn(vhds.child, args);

test('searchStep, a step at a time, finds the hits and owners of `search --json`', () => {
  for (const word of ['bottom', 'made in the child']) {
    const theirs = cliSearch([word]);
    assert.ok(theirs.length > 0, word);
    const { hits, steps, position, size } = stepped([word, false, false, false, undefined], 256 * 1024);
    assert.deepEqual(hits, theirs, word);
    assert.equal(position, size);
    assert.ok(steps > 4, `${steps} steps`);
  }
  const owned = cliSearch(['bottom']).map((h) => h.owner.kind);
  assert.ok(owned.includes('file'), owned.join());
});

test('only a layer, UTF-16 only, ignoring case, bytes: as the command line', () => {
  for (const [args, cliArgs] of [
    [['made in the child', false, false, false, 0], ['made in the child', '--only-layer', '0']],
    [['bottom', false, false, false, 1], ['bottom', '--only-layer', '1']],
    [['BOTTOM', false, false, true, undefined], ['BOTTOM', '-i']],
    [['bottom', false, true, false, undefined], ['bottom', '--utf16']],
    [['626f74746f6d', true, false, false, undefined], ['626f74746f6d', '--hex']],
  ]) {
    const theirs = cliSearch(cliArgs);
    assert.ok(theirs.length > 0, `${cliArgs.join(' ')}: no hit`);
    assert.deepEqual(stepped(args, 1 << 20).hits, theirs, cliArgs.join(' '));
  }
});

test('as of a layer: the hits of search --layer K, numbered in the whole chain (--only-layer too)', () => {
  for (const [args, cliArgs] of [
    [['bottom', false, false, false, undefined, 1], ['bottom', '--layer', '1']],
    [['bottom', false, false, false, 1, 1], ['bottom', '--layer', '1', '--only-layer', '1']],
  ]) {
    const theirs = cliSearch(cliArgs);
    assert.ok(theirs.length > 0 && theirs.every((h) => h.layer === 1 || h.layer === null), `${cliArgs.join(' ')}: ${JSON.stringify(theirs)}`);
    assert.deepEqual(stepped(args, 1 << 20, undefined, undefined, 1).hits, theirs, cliArgs.join(' '));
  }
  // What the child wrote is not on the disk as of its parent.
  assert.ok(cliSearch(['made in the child']).length > 0);
  assert.deepEqual(cliSearch(['made in the child', '--layer', '1']), []);
  assert.deepEqual(stepped(['made in the child', false, false, false, undefined, 1], 1 << 20, undefined, undefined, 1).hits, []);
  // A layer the disk as of layer 1 does not have.
  const c = openChain(b, [vhds.child, vhds.base]);
  opened.push(c);
  const vols = new b.WasmVolumes(c.disk.asOfLayer(1), c.reader(1));
  assert.throws(() => new b.WasmSearch(vols, 'bottom', false, false, false, 0, 1), /layer 0: the chain read has layers 1 to 1/);
});

test('a BitLocker volume unlocked in the volumes is searched in its plain bytes, as search --password', () => {
  const { cases } = bitlockerVhds();
  const vhd = cases.find((c) => c.name === 'fat').vhd;
  const word = 'hello from a BitLocker volume';
  const args = [word, false, false, false, undefined];
  assert.deepEqual(stepped(args, 1 << 20, [vhd]).hits, [], 'locked: the ciphertext holds no such word');
  const unlock = (vols) => {
    const job = vols.unlockStart(1, 'password', 'bde-TEST');
    while (!vols.unlockStep(job, 1 << 20));
    job.free();
  };
  const { hits } = stepped(args, 1 << 20, [vhd], unlock);
  const theirs = cliSearchOn(vhd, ['--password', 'bde-TEST', word]);
  assert.ok(theirs.length > 0 && theirs.every((h) => h.decrypted === true), JSON.stringify(theirs));
  assert.deepEqual(hits, theirs);
});

test('a refused pattern is an error in words', () => {
  const c = openChain(b, [vhds.base]);
  opened.push(c);
  const vols = new b.WasmVolumes(c.disk, c.reader(0));
  assert.throws(() => new b.WasmSearch(vols, '', false, false, false, undefined), /empty/);
  assert.throws(() => new b.WasmSearch(vols, '00 00', true, false, false, undefined), /zero bytes only/);
  assert.throws(() => new b.WasmSearch(vols, 'xyz', true, false, false, undefined), /hexadecimal/);
  assert.throws(() => new b.WasmSearch(vols, 'a', false, false, false, 5), /layer/);
});

/**
 * Runs a search in the page's search box; resolves when it is done (or stopped, failed).
 * @param {object} page
 * @param {string} pattern
 * @param {{ hex?: boolean, utf16?: boolean, ignoreCase?: boolean, onlyLayer?: number }} [o]
 */
async function searchInPage(page, pattern, { hex = false, utf16 = false, ignoreCase = false, onlyLayer } = {}) {
  await page.evaluate(([p, o]) => {
    const f = document.querySelector('#search-view form');
    f.querySelector('input[type=search]').value = p;
    f.querySelector(`input[name=search-kind][value=${o.hex ? 'hex' : 'text'}]`).click();
    f.querySelector('input[name=utf16]').checked = o.utf16;
    f.querySelector('input[name=ignore-case]').checked = o.ignoreCase;
    f.querySelector('select[name=only-layer]').value = o.onlyLayer === undefined ? '' : String(o.onlyLayer);
    f.requestSubmit();
  }, [pattern, { hex, utf16, ignoreCase, onlyLayer }]);
  await page.waitFor(() => ['done', 'stopped', 'failed'].includes(document.getElementById('search-view').dataset.state), null, { timeout: 120_000 });
  return page.evaluate(() => document.getElementById('search-view').dataset.state);
}

test('chromium: the search box lists the hits of search --json with each option; Stop stops; a hit shows its bytes in the hex view and its file', { timeout: 300_000 }, async () => {
  const site = await serve({ root: WWW, port: 0 });
  const browser = await launch('chromium');
  try {
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    await page.setFiles('#file-input', [vhds.child, vhds.base]);
    await page.waitFor(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    for (const [pattern, o, cliArgs] of [
      ['bottom', {}, ['bottom']],
      ['BOTTOM', { ignoreCase: true }, ['BOTTOM', '-i']],
      ['bottom', { utf16: true }, ['bottom', '--utf16']],
      ['626f74746f6d', { hex: true }, ['626f74746f6d', '--hex']],
      ['made in the child', { onlyLayer: 0 }, ['made in the child', '--only-layer', '0']],
    ]) {
      const theirs = cliSearch(cliArgs);
      assert.ok(theirs.length > 0, cliArgs.join(' '));
      assert.equal(await searchInPage(page, pattern, o), 'done', cliArgs.join(' '));
      assert.deepEqual(await shownHits(page), theirs.map(hitFields), cliArgs.join(' '));
      assert.equal(await page.evaluate(() => Number(document.getElementById('search-view').dataset.hits)), theirs.length);
    }
    // The layer holds no such word: no hit, said so.
    assert.equal(await searchInPage(page, 'made in the child', { onlyLayer: 1 }), 'done');
    assert.deepEqual(await shownHits(page), []);
    assert.match(await page.evaluate(() => document.querySelector('#search-view [role=status]').textContent), /no hit/);
    // A refused pattern: said in words.
    assert.equal(await searchInPage(page, 'xyz', { hex: true }), 'failed');
    assert.match(await page.evaluate(() => document.querySelector('#search-view [role=status]').textContent), /hexadecimal/);

    // Stop, pressed as soon as the search begins: stopped, and the next search runs whole.
    const stopped = await page.evaluate(async () => {
      const v = document.getElementById('search-view');
      const f = v.querySelector('form');
      f.querySelector('input[name=search-kind][value=text]').click();
      f.querySelector('select[name=only-layer]').value = '';
      f.querySelector('input[type=search]').value = 'bottom';
      f.requestSubmit();
      const stop = v.querySelector('[data-action=stop]');
      const shown = !stop.hidden;
      stop.click();
      await new Promise((r) => setTimeout(r, 0));
      return { shown, state: v.dataset.state, hidden: stop.hidden };
    });
    assert.deepEqual(stopped, { shown: true, state: 'stopped', hidden: true });
    assert.equal(await searchInPage(page, 'bottom'), 'done');

    // A hit in a file: its bytes marked in the hex view, the file opened in the file browser.
    const hit = cliSearch(['bottom']).find((h) => h.owner.kind === 'file' && h.encoding === 'utf-8' && (h.offset % 512) + h.length <= 512);
    assert.ok(hit, 'a hit in a file within one sector');
    await page.click(`#search-view tr[data-offset="${hit.offset}"] [data-action=show]`);
    await page.waitFor((o) => document.getElementById('hex-source').dataset.offset === String(Math.floor(o / 512) * 512) && document.querySelectorAll('#hex-dump .mark').length > 0, hit.offset, { timeout: 60_000 });
    const marked = await page.evaluate(() => [...document.querySelectorAll('#hex-dump .mark')].map((e) => parseInt(e.textContent, 16)));
    assert.equal(Buffer.from(marked).toString('latin1'), 'bottom');
    const name = hit.owner.path.split('/').pop();
    await page.waitFor((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });
    assert.deepEqual(await page.errors(), []);
    await page.close();
  } finally {
    await browser.close();
    await new Promise((r) => site.server.close(r));
  }
});

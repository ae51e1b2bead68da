// Accessibility: an axe-core audit (WCAG 2.1 AA) of every view of the page and of the
// <vhd-viewer> element in the three engines (a search's hits among them); in Chromium, a keyboard-only walk (open a disk, the
// views, a file, the hex view with Tab, arrow keys and Enter), a visible focus on every stop, the
// canvases' tables of runs, and the maps' kinds still told apart under a colour-blindness filter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, launch, decodePng } from './engines.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, tempDir } from './helpers.mjs';
import { fsVhds, systemVhds } from './fs-fixtures.mjs';
import { siteWithAxe, audit } from './axe.mjs';

let site;
before(async () => {
  site = await siteWithAxe();
});
after(async () => {
  await site?.close();
});

/** Clicks `sel` inside element `host`'s shadow root. */
function clickIn(page, host, sel) {
  return page.evaluate(([h, s]) => document.querySelector(h).shadowRoot.querySelector(s).click(), [host, sel]);
}

/** Opens the files view's first partition and its first file; resolves when its panel shows. */
async function openFirstFile(page) {
  await page.waitFor(() => !!document.querySelector('#parts-picture [data-action="partition"]'));
  await page.click('#parts-picture [data-action="partition"]');
  await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && !!document.querySelector('#files-view tbody tr[data-type="file"]'));
  await page.click('#files-view tbody tr[data-type="file"] button[data-action="open"]');
  await page.waitFor(() => !!document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]'), null, { timeout: 60_000 });
}

for (const engine of ENGINES) {
  test(`${engine}: axe finds no WCAG 2.1 AA violation in any view of the page or of the element`, { timeout: 600_000 }, async () => {
    const { base, child } = fsVhds();
    const browser = await launch(engine);
    try {
      const found = [];
      const page = await browser.newPage();
      await page.goto(site.url);
      await page.waitForSelector('body[data-wasm="ready"]');
      found.push(...(await audit(page, 'page, nothing open')));

      // A folder of disks given: its trees and problems.
      await page.evaluate(async () => {
        const names = ['vm/base.vhd', 'vm/child.vhd', 'vm/grandchild.vhd', 'vm/dynamic.vhd', 'other/child.vhdx'];
        const files = await Promise.all(names.map(async (name) => ({ name, blob: await (await fetch(`samples/${name.split('/')[1]}`)).blob() })));
        window.vhdViewer.loadFolder(files);
      });
      await page.waitFor(() => document.querySelector('#folder')?.dataset.state === 'done', null, { timeout: 60_000 });
      found.push(...(await audit(page, 'page, a folder of disks')));

      // A child and its parent with file systems: every section of the viewer shows.
      await page.setFiles('#file-input', [child, base]);
      await page.waitFor(() => ['ready', 'error'].includes(document.body.dataset.state));
      found.push(...(await audit(page, 'page, a chain open')));

      // A Windows system on the disk: its System card, the programs' list unfolded and filtered.
      const windows = systemVhds('windows');
      await page.setFiles('#file-input', [windows.child, windows.parent]);
      await page.waitFor(() => document.body.dataset.state === 'ready' && Number(document.getElementById('systems').getAttribute('data-systems')) > 0, null, { timeout: 60_000 });
      await page.click('#systems details.programs > summary');
      await page.fill('#systems [data-action="filter-programs"]', 'a');
      found.push(...(await audit(page, 'page, a System card with its programs listed')));
      await page.setFiles('#file-input', [child, base]);
      await page.waitFor(() => document.body.dataset.state === 'ready' && document.querySelector('#summary-body [data-field="file"]')?.textContent === 'child.vhd');

      // A file opened, a block's sectors, the exact map, what the child changed.
      await openFirstFile(page);
      await page.evaluate(() => {
        const map = document.querySelector('#bat-canvas');
        map.focus();
        map.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      });
      await page.waitFor(() => !!document.querySelector('#closeup-body canvas'));
      await page.click('#prov-scan');
      await page.waitForText('#prov-state', /^Exact/, { timeout: 120_000 });
      await page.click('#changes-run');
      await page.waitFor(() => ['done', 'stopped'].includes(document.getElementById('changes-body').dataset.changes), null, { timeout: 120_000 });
      await page.click('#timeline-run');
      await page.waitFor(() => document.querySelectorAll('#timeline .tl-row').length > 0, null, { timeout: 120_000 });
      await page.click('#check-run');
      await page.waitFor(() => !!document.querySelector('#check-body')?.textContent.trim());
      await page.fill('#search-view input[type=search]', 'bottom');
      await page.click('#search-view button[type=submit]');
      await page.waitFor(() => document.getElementById('search-view').dataset.state === 'done' && Number(document.getElementById('search-view').dataset.hits) > 0, null, { timeout: 120_000 });
      found.push(...(await audit(page, 'page, a file, a block, the exact map, the changes, the timeline, the check and a search shown')));
      assert.deepEqual(await page.errors(), []);
      await page.close();

      // The element: each of its views, one after the other.
      const el = await browser.newPage();
      await el.goto(site.url + 'embed.html');
      await el.waitFor(() => document.querySelector('#remote')?.dataset.state === 'ready');
      const views = await el.evaluate(() => [...document.querySelector('#remote').shadowRoot.querySelectorAll('[role=tab]')].map((t) => t.dataset.view));
      assert.ok(views.length >= 5, `the element offers ${views.join(', ')}`);
      for (const v of views) {
        await clickIn(el, '#remote', `[role=tab][data-view="${v}"]`);
        await el.waitFor((view) => !!document.querySelector('#remote').shadowRoot.querySelector(`[role=tabpanel][data-view="${view}"]:not([hidden])`), v);
        found.push(...(await audit(el, `element, view ${v}`)));
      }
      assert.deepEqual(await el.errors(), []);
      await el.close();
      assert.deepEqual(found, [], `no violation:\n${found.map((v) => `${v.where}: ${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
    } finally {
      await browser.close();
    }
  });
}

// ------------------------------------------------------------------ Chromium only

test('chromium: axe finds no WCAG 2.1 AA violation in the dark theme either (its colours\' contrast)', async () => {
  const { base, child } = fsVhds();
  const browser = await launch('chromium');
  try {
    const found = [];
    const page = await browser.newPage();
    await page.page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(site.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    await page.setFiles('#file-input', [child, base]);
    await page.waitFor(() => document.body.dataset.state === 'ready');
    await openFirstFile(page);
    found.push(...(await audit(page, 'page, dark, a chain and a file open')));
    await page.close();
    const el = await browser.newPage();
    await el.page.emulateMedia({ colorScheme: 'dark' });
    await el.goto(site.url + 'embed.html');
    await el.waitFor(() => document.querySelector('#remote')?.dataset.state === 'ready');
    found.push(...(await audit(el, 'element, dark')));
    await el.close();
    assert.deepEqual(found, [], `no violation:\n${found.map((v) => `${v.where}: ${v.id}: ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
  } finally {
    await browser.close();
  }
});

/** Whether the focused element shows where the focus is (an outline or a ring). Run in the page. */
function focusShown() {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  if (!el || el === document.body) return { what: 'nothing focused', shown: false };
  // A visually hidden file input shows its focus on its label.
  const shownOn = el.matches('input[type=file].visually-hidden') ? document.querySelector(`label[for="${el.id}"]`) : el;
  const s = getComputedStyle(shownOn);
  const shown = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow !== 'none' && s.boxShadow !== '');
  const what = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.dataset.action ? `[data-action=${el.dataset.action}]` : ''} “${(el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40)}”`;
  return { what, shown };
}

/**
 * Presses Tab (Shift+Tab with `back`) until the focus is on an element matching `selector`;
 * each stop on the way must show its focus (recorded in `unshown`).
 */
async function tabTo(page, selector, unshown, { back = false, max = 400 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await page.evaluate(focusShown);
    // (Past the page's last stop the focus leaves the document for the browser's own.)
    if (!f.shown && f.what !== 'nothing focused') unshown.add(f.what);
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  throw new Error(`${selector} not reached in ${max} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
}

test('chromium: keyboard only: a disk opened, the views, a block of the map, a file and the hex view with Tab, arrows and Enter; the focus shown at every stop', { timeout: 300_000 }, async () => {
  const { base, child } = fsVhds();
  const browser = await launch('chromium');
  try {
    const page = await browser.newPage();
    const p = page.page;
    const unshown = new Set();
    await page.goto(site.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    // Open: the file input reached with Tab, its chooser opened with Enter. (The chooser is
    // awaited from before the Tabs: Playwright intercepts choosers only once it has told the
    // browser to, which a loaded machine may not have done by the time Enter is pressed.)
    const chosen = new Promise((resolve) => p.once('filechooser', resolve));
    await tabTo(page, '#file-input', unshown);
    await p.keyboard.press('Enter');
    const chooser = await chosen;
    await chooser.setFiles([child, base]);
    await page.waitFor(() => document.body.dataset.state === 'ready');

    // The block map through the table of contents: a block chosen with the arrows, Enter.
    await tabTo(page, '.toc a[href="#bat"]', unshown);
    await p.keyboard.press('Enter');
    await tabTo(page, '#bat-canvas', unshown);
    await p.keyboard.press('ArrowRight');
    await p.keyboard.press('Enter');
    await page.waitForText('#closeup-body h3', /^Block 1 of /);

    // A file: back to the contents, Files on the disk, a partition, a file row, Enter.
    await tabTo(page, '.toc a[href="#volumes"]', unshown, { back: true });
    await p.keyboard.press('Enter');
    await tabTo(page, '#parts-picture [data-action="partition"]:not([disabled])', unshown);
    await p.keyboard.press('Enter');
    await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && !!document.querySelector('#files-view tbody tr[data-type="file"]'));
    await tabTo(page, '#files-view tbody button[data-action="open"]', unshown);
    for (let i = 0; i < 50 && !(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.type === 'file')); i++) await p.keyboard.press('ArrowDown');
    const name = await page.evaluate(() => document.activeElement.closest('tr').dataset.path.split('/').pop());
    await p.keyboard.press('Enter');
    await page.waitFor((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });

    // The hex view: a sector typed, Enter.
    await tabTo(page, '#hex-at', unshown);
    await p.keyboard.press('Control+A');
    await p.keyboard.type('3');
    await p.keyboard.press('Enter');
    await page.waitForText('#hex-source strong', /^Virtual sector 3$/);
    await tabTo(page, '#hex-next', unshown);
    await p.keyboard.press('Enter');
    await page.waitForText('#hex-source strong', /^Virtual sector 4$/);

    // And every other stop of the page, once round, shows its focus too.
    const stops = new Set();
    for (let i = 0; i < 1500; i++) {
      await p.keyboard.press('Tab');
      const f = await page.evaluate(focusShown);
      // (Past the page's last stop the focus leaves the document for the browser's own.)
      if (!f.shown && f.what !== 'nothing focused') unshown.add(f.what);
      if (stops.has(f.what) && f.what.startsWith('input#hex-at')) break;
      stops.add(f.what);
    }
    console.log(`keyboard: ${stops.size} stops on the page with a disk open`);
    assert.deepEqual(await page.errors(), []);
    await page.close();

    // The element: its views chosen with the arrow keys on its tabs; every stop shows its focus.
    const el = await browser.newPage();
    await el.goto(site.url + 'embed.html');
    await el.waitFor(() => document.querySelector('#remote')?.dataset.state === 'ready');
    const inRemote = () => document.activeElement?.id === 'remote';
    for (let i = 0; i < 100 && !(await el.evaluate(inRemote)); i++) await el.page.keyboard.press('Tab');
    const tab = () => {
      const a = document.querySelector('#remote').shadowRoot.activeElement;
      return a?.getAttribute('role') === 'tab' ? a.dataset.view : null;
    };
    for (let i = 0; i < 20 && !(await el.evaluate(tab)); i++) await el.page.keyboard.press('Tab');
    const first = await el.evaluate(tab);
    assert.ok(first, 'Tab reaches the element\'s tabs');
    await el.page.keyboard.press('ArrowRight');
    const second = await el.evaluate(tab);
    assert.notEqual(second, first, 'the arrow moves to the next view');
    await el.waitFor((v) => !!document.querySelector('#remote').shadowRoot.querySelector(`[role=tabpanel][data-view="${v}"]:not([hidden])`), second);
    for (let i = 0; i < 60 && (await el.evaluate(() => document.activeElement?.tagName)) !== 'BODY'; i++) {
      const f = await el.evaluate(focusShown);
      if (!f.shown && f.what !== 'nothing focused') unshown.add(`element: ${f.what}`);
      await el.page.keyboard.press('Tab');
    }
    await el.close();
    assert.deepEqual([...unshown], [], 'every focused element shows its focus');
  } finally {
    await browser.close();
  }
});

/** The table of runs beside canvas `selector` (the `nth` such), as [first item, count, kind] rows. Run in the page. */
function runsOf([selector, nth = 0]) {
  const box = document.querySelectorAll(selector)[nth].parentElement.nextElementSibling;
  const table = box?.classList.contains('visually-hidden') ? box.firstElementChild : null;
  if (table?.tagName !== 'TABLE') return null;
  return {
    caption: table.caption?.textContent ?? '',
    rows: [...table.tBodies[0].rows].map((r) => [parseInt(r.cells[0].textContent, 10), Number(r.cells[1].textContent), r.cells[2].textContent]),
  };
}

test('chromium: each canvas has a table of its runs that agrees with its legend; a million cells make at most MAX_RUNS rows, fast', async () => {
  const { base, child } = fsVhds();
  const browser = await launch('chromium');
  try {
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    await page.setFiles('#file-input', [child, base]);
    await page.waitFor(() => document.body.dataset.state === 'ready');
    await page.click('#prov-scan');
    await page.waitForText('#prov-state', /^Exact/, { timeout: 120_000 });
    await page.evaluate(() => {
      const map = document.querySelector('#bat-canvas');
      map.focus();
      map.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    await page.waitFor(() => document.querySelectorAll('#closeup-body canvas').length === 2);
    const legendOf = (sel) => page.evaluate((s) => [...document.querySelectorAll(s)].map((k) => k.textContent), sel);
    const count = (rows) => rows.reduce((m, [, n, kind]) => m.set(kind, (m.get(kind) ?? 0) + n), new Map());
    const contiguous = (rows, total) => {
      let next = 0;
      for (const [first, n] of rows) {
        assert.equal(first, next, 'each run starts where the one before ended');
        next += n;
      }
      assert.equal(next, total, 'the runs cover every item');
    };

    // The exact provenance map: every kind's squares add up to the legend's count of it.
    const prov = await page.evaluate(runsOf, ['#prov-canvas']);
    const provLegend = Object.fromEntries((await legendOf('#prov-legend .key')).slice(0, -1).map((k) => k.split(/: (?=\d+$)/)));
    assert.match(prov.caption, /^Map of which file supplies each .* In words: \d+ squares, in \d+ runs of one kind\.$/);
    contiguous(prov.rows, Object.values(provLegend).reduce((a, n) => a + Number(n), 0));
    assert.deepEqual(Object.fromEntries([...count(prov.rows)].map(([k, n]) => [k, String(n)])), Object.fromEntries(Object.entries(provLegend).filter(([, n]) => n !== '0')));

    // The block map: as many blocks as the map has, stored and not as its legend says.
    const bat = await page.evaluate(runsOf, ['#bat-canvas']);
    const blocks = Number((await page.text('#bat-legend')).match(/(\d+) blocks of/)[1]);
    contiguous(bat.rows, blocks);
    const batLegend = Object.fromEntries((await legendOf('#bat-legend .key')).slice(0, -1).map((k) => k.split(/: (?=\d+$)/)));
    assert.equal(String(count(bat.rows).get('stored in the file') ?? 0), String(Number(batLegend['stored in the file']) + Number(batLegend['stored out of file order'] ?? 0)));

    // The block's two maps: one row per run of sectors, adding up to the block's sectors.
    for (const nth of [0, 1]) {
      const r = await page.evaluate(runsOf, ['#closeup-body canvas', nth]);
      assert.ok(r, `the closeup's map ${nth} has its table`);
      contiguous(r.rows, Number(r.caption.match(/In words: (\d+) sectors/)[1]));
    }

    // A million cells: the table stops at MAX_RUNS rows and one that counts the rest.
    const big = await page.evaluate(async () => {
      const { CellMap, MAX_RUNS } = await import('./js/page/cellmap.js');
      const box = document.createElement('div');
      box.style.width = '800px';
      const canvas = document.createElement('canvas');
      canvas.setAttribute('aria-label', 'A test map.');
      box.append(canvas);
      document.body.append(box);
      const map = new CellMap(canvas, { state: (i) => 1 + ((i >> 4) & 1), colors: () => new Uint32Array([0, 0xff0000ff, 0xff00ff00]), kind: (s) => `kind ${s}`, items: 'blocks', maxHeight: 420 });
      const t0 = performance.now();
      map.setCount(1_000_000);
      const ms = performance.now() - t0;
      const table = box.nextElementSibling.firstElementChild;
      const out = { ms, MAX_RUNS, rows: table.tBodies[0].rows.length, last: table.tBodies[0].rows[table.tBodies[0].rows.length - 1].textContent, caption: table.caption.textContent };
      map.destroy();
      box.remove();
      return out;
    });
    console.log(`a million cells: drawn and described in ${big.ms.toFixed(0)} ms, ${big.rows} rows`);
    assert.equal(big.rows, big.MAX_RUNS + 1);
    assert.match(big.last, /^the rest\d+\d+ more squares, not listed here/);
    assert.match(big.caption, /1000000 blocks, in more than 200 runs of one kind; each square holds \d+ of them/);
    assert.ok(big.ms < 3000, `${big.ms} ms`);
    assert.deepEqual(await page.errors(), []);
    await page.close();
  } finally {
    await browser.close();
  }
});

/**
 * Colour-blindness simulations as SVG feColorMatrix values (Machado, Oliveira and Fernandes
 * 2009, severity 1): what a reader without red (protanopia) or green (deuteranopia) cones sees;
 * and no colour at all.
 */
const SIMULATIONS = {
  protanopia: '0.152286 1.052583 -0.204868 0 0  0.114503 0.786281 0.099216 0 0  -0.003882 -0.048116 1.051998 0 0  0 0 0 1 0',
  deuteranopia: '0.367322 0.860646 -0.227968 0 0  0.280085 0.672501 0.047413 0 0  -0.011820 0.042940 0.968881 0 0  0 0 0 1 0',
  // No colour at all (and a print in grey): brightness and pattern only.
  greyscale: '0.2126 0.7152 0.0722 0 0  0.2126 0.7152 0.0722 0 0  0.2126 0.7152 0.0722 0 0  0 0 0 1 0',
};

/**
 * What one square of a kind looks like in a screenshot: its mean colour and its texture (the
 * mean brightness at each of the pattern tile's 36 places, less the square's mean).
 */
function looks(img, x0, y0, size) {
  const mean = [0, 0, 0];
  const phase = new Array(36).fill(0);
  const seen = new Array(36).fill(0);
  for (let y = y0; y < y0 + size; y++) {
    for (let x = x0; x < x0 + size; x++) {
      const px = img.rows[y].subarray(x * img.bpp, x * img.bpp + 3);
      px.forEach((v, i) => (mean[i] += v));
      const p = (y % 6) * 6 + (x % 6);
      phase[p] += (px[0] + px[1] + px[2]) / 3;
      seen[p]++;
    }
  }
  const n = size * size;
  const m = mean.map((v) => v / n);
  const lum = (m[0] + m[1] + m[2]) / 3;
  return { mean: m, texture: phase.map((v, i) => v / seen[i] - lum) };
}

/** How far apart two looks are: in colour (RGB distance) and in texture (mean difference). */
function apart(a, b) {
  return {
    colour: Math.hypot(...a.mean.map((v, i) => v - b.mean[i])),
    texture: a.texture.reduce((s, v, i) => s + Math.abs(v - b.texture[i]), 0) / 36,
  };
}

test('chromium: under protanopia, deuteranopia and greyscale filters the maps\' kinds stay apart, by colour or by pattern', async () => {
  const browser = await launch('chromium');
  const tmp = tempDir('vhd-a11y-');
  try {
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    await page.setFiles('#file-input', ['grandchild.vhd', 'child.vhd', 'base.vhd'].map((n) => join(SAMPLES, n)));
    await page.waitFor(() => document.body.dataset.state === 'ready');
    await page.click('#prov-scan');
    await page.waitForText('#prov-state', /^Exact/, { timeout: 120_000 });
    // The filters, in the page.
    await page.evaluate((sims) => {
      const ns = 'http://www.w3.org/2000/svg';
      const svg = document.createElementNS(ns, 'svg');
      svg.setAttribute('width', '0');
      svg.setAttribute('height', '0');
      svg.setAttribute('aria-hidden', 'true');
      for (const [id, values] of Object.entries(sims)) {
        const f = document.createElementNS(ns, 'filter');
        f.id = `sim-${id}`;
        const m = document.createElementNS(ns, 'feColorMatrix');
        m.setAttribute('type', 'matrix');
        m.setAttribute('values', values);
        f.append(m);
        svg.append(f);
      }
      document.body.append(svg);
    }, SIMULATIONS);
    const report = [];
    for (const [canvas, nth, least] of [['#prov-canvas', 0, 3], ['#closeup-body canvas', 1, 4]]) {
      if (nth === 1) {
        // Block 0 up close: its sectors come from each of the three files, and zeros. (Not
        // before: a block picked is outlined on the provenance map.)
        await page.evaluate(() => {
          const map = document.querySelector('#bat-canvas');
          map.focus();
          map.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        });
        await page.waitFor(() => document.querySelectorAll('#closeup-body canvas').length === 2);
      }
      /** The map's layout once it holds still (a scroll bar appearing redraws it narrower). */
      const layout = async () => {
        let last = '';
        for (;;) {
          const now = await page.evaluate(async ([s, n]) => {
            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
            return JSON.stringify({ ...document.querySelectorAll(s)[n].dataset });
          }, [canvas, nth]);
          if (now === last) return JSON.parse(now);
          last = now;
        }
      };
      const { cell, cols, per, gap } = await layout();
      const size = Number(cell) - Number(gap);
      assert.ok(size >= 6, `${canvas}: squares of ${size} px show a whole pattern tile`);
      // One square of each kind, where the table of runs says it is.
      const rows = (await page.evaluate(runsOf, [canvas, nth])).rows;
      const kinds = new Map();
      for (const [first, , kind] of rows) if (!kinds.has(kind)) kinds.set(kind, Math.floor(first / Number(per)));
      assert.ok(kinds.size >= least, `${canvas}: kinds on the map: ${[...kinds.keys()].join(', ')}`);
      for (const sim of ['none', ...Object.keys(SIMULATIONS)]) {
        await page.evaluate(([s, n, f]) => {
          const c = document.querySelectorAll(s)[n];
          c.style.filter = f === 'none' ? '' : `url(#sim-${f})`;
        }, [canvas, nth, sim]);
        assert.deepEqual(await layout(), { cell, cols, per, gap }, 'the map kept its layout');
        const shot = join(tmp.dir, `${sim}.png`);
        await page.page.locator(canvas).nth(nth).screenshot({ path: shot });
        const img = decodePng(readFileSync(shot));
        const seen = [...kinds].map(([kind, c]) => [kind, looks(img, (c % Number(cols)) * Number(cell), Math.floor(c / Number(cols)) * Number(cell), size)]);
        for (let i = 0; i < seen.length; i++) {
          for (let j = i + 1; j < seen.length; j++) {
            const d = apart(seen[i][1], seen[j][1]);
            const byColour = d.colour >= 30;
            const byPattern = d.texture >= 4;
            if (!byColour) report.push(`${canvas} ${sim}: ${seen[i][0]} and ${seen[j][0]}: colours ${d.colour.toFixed(0)} apart, patterns ${d.texture.toFixed(1)}`);
            assert.ok(byColour || byPattern, `${canvas} ${sim}: ${seen[i][0]} and ${seen[j][0]} look alike: colours ${d.colour.toFixed(1)} apart, patterns ${d.texture.toFixed(1)}`);
          }
        }
      }
    }
    console.log(`told apart by their patterns only:\n${report.join('\n') || '(none)'}`);
    assert.deepEqual(await page.errors(), []);
    await page.close();
  } finally {
    tmp.remove();
    await browser.close();
  }
});

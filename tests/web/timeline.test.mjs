// The Timeline's binding, WasmVolumes.timeline and timelineText, on the real WebAssembly in Node
// with synchronous reads (as the Worker's): its columns row by row equal the lines of `vhd-viewer
// timeline --json` (FAT16, NTFS and ext4 made by the real tools; a differencing chain read through
// and as of its parent), and the text it saves equals `timeline --bodyfile` and `--csv`. In
// Chromium, the page's Timeline of 200,000 times (tests/web/fixtures/make-timeline-vhd.sh) keeps a
// few dozen rows in the DOM, scrolls to the last time, and its brush and path filter count as
// `timeline --json` does; its long tasks and frames while scrolling are counted and reported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fsVhds, timelineVhd, coreBindings, openChain, cli } from './fs-fixtures.mjs';
import { start, openPage, settled } from './helpers.mjs';
import { filterRows, histogram, fullRange, narrowed, DAY } from '../../www/js/page/views/timeline.js';

const vhds = fsVhds();
const KINDS = ['m', 'a', 'c', 'b'];
const ATTRIBUTES = [undefined, 'si', 'fn'];
let b;
const opened = [];
before(async () => {
  b = await coreBindings();
});
after(() => opened.forEach((c) => c.close()));

/** WasmVolumes on the chain child -> base, as of layer `k`. */
function volumes(k) {
  const c = openChain(b, [vhds.child, vhds.base]);
  opened.push(c);
  const disk = k ? c.disk.asOfLayer(k) : c.disk;
  return new b.WasmVolumes(disk, c.reader(k));
}

/** The rows of the columns as `timeline --json` writes them, `time` left out (the page formats it). */
function rows(t) {
  return Array.from(t.line, (i, r) => {
    const row = {
      partition: t.partition[i],
      unix: t.unix[r],
      nanos: t.nanos[r],
      kind: KINDS[t.kind[r]],
      attribute: ATTRIBUTES[t.attribute[i]],
      path: t.path[i],
      inode: t.inode[i],
      size: t.size[i],
      deleted: t.deleted[i] === 1,
      layer: t.layer[i] < 0 ? null : t.layer[i],
    };
    if (row.attribute === undefined) delete row.attribute;
    return row;
  });
}

/** `vhd-viewer timeline CHILD [--layer K] ARGS` (the child's parent found beside it). */
function timeline(k, args) {
  return cli(['timeline', vhds.child, '--layer', String(k), ...args], vhds.child).toString('utf8');
}

for (const k of [0, 1]) {
  for (const deleted of [false, true]) {
    const del = deleted ? ['--deleted'] : [];
    test(`timeline() as of layer ${k}${deleted ? ', deleted entries too,' : ''} is \`timeline --json\` row by row`, () => {
      const progress = [];
      const t = volumes(k).timeline(deleted, (done, total) => {
        progress.push([done, total]);
        return true;
      });
      const theirs = timeline(k, [...del, '--json']).split('\n').filter(Boolean).map((l) => {
        const { time: _, ...rest } = JSON.parse(l);
        return rest;
      });
      assert.ok(theirs.length > 50, `${theirs.length} rows`);
      assert.deepEqual(rows(t), theirs);
      assert.ok(new Set(Array.from(t.partition)).size === 3, 'FAT16, NTFS and ext4 all listed');
    });
    test(`timelineText() as of layer ${k}${deleted ? ', deleted entries too,' : ''} is \`timeline --bodyfile\` and \`--csv\``, () => {
      const vols = volumes(k);
      assert.equal(vols.timelineText(deleted, 'body', () => true), timeline(k, [...del, '--bodyfile']));
      assert.equal(vols.timelineText(deleted, 'csv', () => true), timeline(k, [...del, '--csv']));
    });
  }
}

test('the chain read through gives rows of both layers; a progress function answering false stops the walk', () => {
  const t = volumes(0).timeline(false, () => true);
  assert.deepEqual([...new Set(Array.from(t.layer))].filter((l) => l >= 0).sort(), [0, 1]);
  assert.throws(() => volumes(0).timeline(false, () => false), /cancelled|stopped/i);
});

test("the view's filter keeps the rows of `timeline --json` in the range, of the kinds and path chosen; its histogram counts them", () => {
  const t = volumes(0).timeline(true, () => true);
  const all = rows(t);
  const [lo, hi] = fullRange(t);
  assert.equal(filterRows(t, { lo, hi, path: '', kinds: [true, true, true, true], attributes: [true, true, true], deleted: true }).length, all.length);
  const mid = all[Math.floor(all.length / 2)].unix;
  const [a, b] = narrowed(mid - 10, mid + 10, 0, 1);
  assert.equal(b - a, DAY, 'a range is a day at the narrowest');
  const f = { lo: a, hi: b, path: 'DIR', kinds: [true, false, false, true], attributes: [true, false, true], deleted: false };
  const mine = Array.from(filterRows(t, f), (r) => all[r]);
  const theirs = all.filter((r) => r.unix >= a && r.unix < b && ['m', 'b'].includes(r.kind) && r.attribute !== 'si' && !r.deleted && r.path.toLowerCase().includes('dir'));
  assert.ok(theirs.length > 0, 'some rows pass every part of the filter');
  assert.deepEqual(mine, theirs);
  const kept = filterRows(t, { ...f, lo, hi, path: '' });
  assert.ok(kept.length > theirs.length && kept.length < all.length, `${kept.length} of ${all.length} kept by kind alone`);
  const counts = histogram(t, kept, lo, hi, 40);
  assert.equal(counts.reduce((s, n) => s + n, 0), kept.length);
});

test('chromium: 200,000 times in the page\'s Timeline: a bounded list, the last time at the end, the brush and the path filter count as timeline --json', { timeout: 300_000 }, async () => {
  const vhd = timelineVhd();
  const want = cli(['timeline', vhd, '--json'], vhd).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(want.length >= 200_000, `${want.length} times`);
  const env = await start();
  try {
    const page = await openPage(env);
    await page.setInputFiles('#file-input', [vhd]);
    assert.equal(await settled(page), 'ready');
    await page.evaluate(() => document.getElementById('timeline').scrollIntoView());
    await page.click('#timeline-run');
    await page.waitForFunction(() => document.querySelectorAll('#timeline .tl-row').length > 0, null, { timeout: 240_000 });
    const count = () => page.evaluate(() => document.querySelector('#timeline .tl-count').textContent);
    const n = want.length.toLocaleString('en');
    assert.equal(await count(), `${n} times shown of ${n}`);
    // Scrolled from the first row to the last, 60 steps a frame apart: the rows in the DOM stay
    // a few dozen; long tasks (over 50 ms) and frames are counted.
    const run = await page.evaluate(async () => {
      const list = /** @type {HTMLElement} */ (document.querySelector('#timeline .tl-list'));
      const long = [];
      const seen = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
      seen.observe({ type: 'longtask' });
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      let most = 0;
      const gaps = [];
      let t = performance.now();
      const steps = 60;
      for (let k = 1; k <= steps; k++) {
        list.scrollTop = ((list.scrollHeight - list.clientHeight) * k) / steps;
        await frame();
        const now = performance.now();
        gaps.push(now - t);
        t = now;
        most = Math.max(most, list.querySelectorAll('.tl-row').length);
      }
      await frame();
      seen.disconnect();
      const rows = [...list.querySelectorAll('.tl-row')];
      const last = rows.reduce((a, r) => (Number(r.dataset.row) > Number(a.dataset.row) ? r : a));
      gaps.sort((a, b) => a - b);
      return {
        most,
        long,
        median: gaps[gaps.length >> 1],
        worst: gaps[gaps.length - 1],
        last: { row: Number(last.dataset.row), time: last.querySelector('.tl-time').textContent, path: last.querySelector('.tl-path').textContent },
      };
    });
    console.log(`# 200,000-time Timeline scrolled in 60 steps: at most ${run.most} rows in the DOM, ${run.long.length} long tasks (${run.long.map((d) => Math.round(d)).join(', ')} ms), frames ${run.median.toFixed(1)} ms median, ${run.worst.toFixed(1)} ms worst`);
    assert.ok(run.most > 10 && run.most <= 60, `${run.most} rows in the DOM`);
    assert.ok(run.long.length <= 3, `${run.long.length} long tasks while scrolling`);
    const end = want[want.length - 1];
    assert.deepEqual(run.last, { row: want.length - 1, time: end.time, path: end.path });
    // The brush (a drag across the first tenth of the picture, where the files' own days are):
    // as many times as timeline --json has in the range said.
    const range = async () => {
      const [, from, to] = /** @type {RegExpMatchArray} */ ((await page.evaluate(() => document.querySelector('#timeline .tl-range').textContent)).match(/^From (\S+) to (\S+)$/));
      return [Date.parse(from) / 1000, Date.parse(to) / 1000];
    };
    const brush = (key) => page.evaluate((k) => document.querySelector('#timeline .tl-histogram').dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })), key);
    const picture = page.locator('#timeline .tl-histogram');
    await picture.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const r = document.querySelector('#timeline .tl-histogram').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    });
    const box = await picture.boundingBox();
    await page.mouse.move(box.x + 1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 10, box.y + box.height / 2);
    await page.mouse.up();
    const [lo, hi] = await range();
    const inRange = want.filter((r) => r.unix >= lo && r.unix < hi).length;
    assert.ok(inRange > 0 && inRange < want.length / 2, `${inRange} times from ${lo} to ${hi}`);
    assert.match(await count(), new RegExp(`^${inRange.toLocaleString('en')} times shown of ${n}$`));
    // The path filter, on every time again: one folder's 1,000 files.
    await brush('Home');
    await page.fill('#timeline input[type="search"]', 'd07/');
    const d07 = want.filter((r) => r.path.includes('d07/')).length;
    assert.equal(d07, 4000);
    assert.equal(await count(), `${d07.toLocaleString('en')} times shown of ${n}`);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await env.close();
  }
});

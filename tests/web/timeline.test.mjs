// The Timeline's binding, WasmVolumes.timeline and timelineText, on the real WebAssembly in Node
// with synchronous reads (as the Worker's): its columns row by row equal the lines of `vhd-viewer
// timeline --json` (FAT16, NTFS and ext4 made by the real tools; a differencing chain read through
// and as of its parent), and the text it saves equals `timeline --bodyfile` and `--csv`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fsVhds, coreBindings, openChain, cli } from './fs-fixtures.mjs';
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

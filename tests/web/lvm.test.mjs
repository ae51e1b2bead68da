// LVM2 in the page (issue 28), in headless Chromium on the disks lvm2's own tools made
// (tests/web/fixtures/make-lvm-vhds.sh): the volume group and its logical volumes the files view
// shows are `parts --json`'s `volumes`, each physical volume's partition names its group; each
// logical volume's folders, reached through the URL (`partition=VG/LV`), list as `ls -r --json
// --volume VG/LV`; a file saved from the striped volume is `get --volume`'s bytes; a child's new
// file in a volume is there as of the child only; and "Compact" with "give back free space" writes
// the file `compact --trim` writes; a search hit in a volume names it and opens its file there.
// In Node, the Worker's WasmVolumes: stat() and owner() of a striped volume's file name the
// volume, as `owner --json` does. Skipped, with the fixture's reason, where the machine refuses
// loop devices. page-suite.mjs reads a file of the striped volume of rhel.vhdx in all three engines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, pageWith, tempDir } from './helpers.mjs';
import { lvmVhds, cli, coreBindings, openChain } from './fs-fixtures.mjs';
import { normalize } from '../../www/js/common/format.js';
import { cliTrim } from './trim-fixtures.mjs';
import { humanSize } from '../../www/js/common/format.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const lvm = lvmVhds();
let env;
let tmp;

before(async () => {
  if (lvm.skipped) return;
  tmp = tempDir();
  env = await start();
});
after(async () => {
  await env?.close();
  tmp?.remove();
});

/** `vhd-viewer ARGS --json`'s lines, parsed. */
const lines = (args, file) => cli(args, file).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** The page on `files`, its files view read (the part of the page in view). */
async function filesPage(files) {
  const page = await pageWith(env, files);
  await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
  await page.waitForFunction(() => document.querySelector('#files-view')?.dataset.state === 'ready', null, { timeout: 60_000 });
  return page;
}

/**
 * Goes to folder `dir` of logical volume `name` through the URL, as a link would; resolves what
 * the view then lists: [path, type, size], sorted. `root` is what the path's first step reads.
 */
async function listed(page, name, dir, root) {
  await page.evaluate(([n, d]) => (location.hash = `#partition=${n}&path=${encodeURIComponent(d)}`), [name, dir]);
  return shown(page, dir, root);
}

/** What the view lists once it shows folder `dir` of the volume whose root reads `root`: [path, type, size], sorted. */
async function shown(page, dir, root) {
  const last = dir === '/' ? null : dir.split('/').pop();
  await page.waitForFunction(([r, l]) => {
    const v = document.querySelector('#files-view');
    const crumb = v?.querySelector('[data-field="breadcrumb"] [data-path="/"]')?.textContent;
    const here = v?.querySelector('[data-field="current-dir"]')?.textContent ?? null;
    return v?.dataset.state === 'ready' && crumb === r && here === l;
  }, [root, last], { timeout: 60_000 });
  return page.$$eval('#files-view tbody tr[data-path]', (rows) =>
    rows.map((r) => [r.dataset.path, r.dataset.type, r.dataset.type === 'dir' ? 0 : Number(r.querySelector('td.c-size')?.getAttribute('title')?.replace(/\D/g, ''))]).sort());
}

for (const disk of ['lvm.vhd', 'rhel.vhd']) {
  test(`${disk}: the volume group and logical volumes shown are parts --json's; each volume's folders list as ls -r --json --volume`, async (t) => {
    if (lvm.skipped) return t.skip(lvm.skipped);
    const file = join(lvm.dir, disk);
    const parts = JSON.parse(cli(['parts', file, '--json'], file).toString('utf8'));
    assert.ok(parts.volumes.length >= 2, 'the fixture has logical volumes');
    const page = await filesPage([file]);
    // Each physical volume's partition names its group; the picture's words name the group's volumes.
    for (const p of parts.partitions.filter((x) => x.volume_group)) {
      assert.equal(await page.textContent(`#files-view li[data-partition="${p.index}"] [data-field="volume-group"]`), `LVM2 physical volume of volume group ${p.volume_group}`);
    }
    const vgs = [...new Set(parts.volumes.map((v) => v.vg))];
    const scheme = await page.textContent('[data-field="scheme"]');
    for (const vg of vgs) assert.match(scheme, new RegExp(`LVM2 volume group ${vg} with ${parts.volumes.filter((v) => v.vg === vg).length} logical volumes`));
    // The volumes: names, sizes, layout and file systems as the core gives them.
    const cards = await page.$$eval('#files-view [data-field="volumes"] li', (l) => l.map((x) => ({
      name: x.dataset.volume,
      title: x.querySelector('[data-field="volume-title"]').textContent,
      size: x.querySelector('[data-field="volume-size"]').textContent,
      layout: x.querySelector('[data-field="volume-layout"]').textContent,
      browse: !!x.querySelector('[data-action="browse"]'),
    })));
    assert.deepEqual(cards.map((c) => c.name), parts.volumes.map((v) => `${v.vg}/${v.lv}`));
    parts.volumes.forEach((v, i) => {
      const c = cards[i];
      assert.equal(c.title, `Logical volume ${v.vg}/${v.lv} · ${v.filesystem === 'xfs' ? 'XFS' : 'ext4'} · “${v.label}”`);
      assert.ok(c.size.startsWith(humanSize(v.size)), c.size);
      const striped = v.segments.find((s) => s.stripes > 1);
      assert.match(c.layout, striped ? new RegExp(`^striped \\(${striped.stripes} stripes, ${humanSize(striped.stripe_size)} chunks\\)`) : /^linear/);
      assert.ok(c.layout.endsWith(`${v.segments.length} segment${v.segments.length === 1 ? '' : 's'}`), c.layout);
      assert.ok(c.browse, `${v.lv} can be browsed`);
    });
    // Every folder of every volume, reached through the URL, lists as ls -r --json --volume.
    for (const v of parts.volumes) {
      const name = `${v.vg}/${v.lv}`;
      const all = lines(['ls', file, '-r', '--json', '--volume', name], file);
      assert.ok(all.every((e) => e.volume === name), 'ls names the volume');
      for (const dir of ['/', ...all.filter((e) => e.type === 'dir').map((e) => e.path)]) {
        const want = all.filter((e) => e.path.slice(0, e.path.lastIndexOf('/')) === (dir === '/' ? '' : dir)).map((e) => [e.path, e.type, e.type === 'dir' ? 0 : e.size]).sort();
        assert.deepEqual(await listed(page, name, dir, v.label), want, `${name} ${dir}`);
      }
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('rhel.vhd: a file saved from the striped logical volume is get --volume\'s bytes; its panel names the volume in the URL', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const file = join(lvm.dir, 'rhel.vhd');
  const page = await filesPage([file]);
  await page.evaluate(() => (location.hash = '#partition=rhel/home&path=/alice/big.bin'));
  await page.waitForFunction(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="path"]')?.textContent === '/alice/big.bin', null, { timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#files-view [data-field="panel"] [data-action="save"]')]);
  const path = join(tmp.dir, 'big.bin');
  await download.saveAs(path);
  assert.equal(sha(readFileSync(path)), sha(cli(['get', file, '/alice/big.bin', '--volume', 'rhel/home'], file)));
  assert.match(await page.evaluate(() => decodeURIComponent(location.hash)), /partition=rhel\/home&path=\/alice\/big\.bin/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('child.vhd on lvm.vhd: the file the child added to a logical volume is there as of the child, not as of its parent', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const [child, base] = [join(lvm.dir, 'child.vhd'), join(lvm.dir, 'lvm.vhd')];
  const page = await filesPage([child, base]);
  const ls = (layer) => lines(['ls', child, '/alice', '--json', '--volume', 'vgdata/home', '--parent', base, '--layer', String(layer)], child).map((e) => e.path).sort();
  assert.ok(ls(0).includes('/alice/added.txt') && !ls(1).includes('/alice/added.txt'), 'the fixture: the child added a file');
  assert.deepEqual((await listed(page, 'vgdata/home', '/alice', 'HOME')).map((r) => r[0]), ls(0));
  // As of the parent: the view is made again, and opens the first partition (BOOT) by itself.
  await page.selectOption('#files-layer', '1');
  await shown(page, '/', 'BOOT');
  // The volume's card, then its folder, as a reader goes.
  await page.click('#files-view li[data-volume="vgdata/home"] [data-action="browse"]');
  await shown(page, '/', 'HOME');
  await page.click('#files-view tr[data-path="/alice"] [data-action="open"]');
  assert.deepEqual((await shown(page, '/alice', 'HOME')).map((r) => r[0]), ls(1));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('rhel.vhd: Compact with "give back free space" writes the file compact --trim writes', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const file = join(lvm.dir, 'rhel.vhd');
  const page = await pageWith(env, [file]);
  await page.check('#export-compact-trim');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click('#export-compact')]);
  const path = join(tmp.dir, 'page-rhel-compact.vhd');
  await download.saveAs(path);
  const out = join(tmp.dir, 'cli-rhel-compact.vhd');
  const report = cliTrim(file, out);
  assert.ok(report.report.bytes_free > 0, 'the logical volumes\' free space is found');
  assert.equal(sha(readFileSync(path)), sha(readFileSync(out)), 'the page and the command line write the same file');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('rhel.vhd, WasmVolumes in Node: stat() of a file in the striped volume names it, and owner() of each of its runs\' bytes is owner --json\'s', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const file = join(lvm.dir, 'rhel.vhd');
  const b = await coreBindings();
  const chain = openChain(b, [file]);
  const vols = new b.WasmVolumes(chain.disk, chain.reader());
  try {
    const s = normalize(vols.stat('rhel/home', '/alice/big.bin', false));
    assert.equal(s.volume, 'rhel/home');
    assert.ok(s.runs.length > 1, 'striped in 64 KiB chunks: more than one run on the disk');
    for (const r of s.runs.slice(0, 4)) {
      const sector = Math.floor(r.disk_offset / 512) + 1;
      const mine = normalize(vols.owner(sector * 512));
      const theirs = JSON.parse(cli(['owner', file, String(sector), '--json'], file).toString('utf8'));
      assert.deepEqual({ ...mine, layer_file: theirs.layer_file }, theirs, `sector ${sector}`);
      assert.deepEqual([mine.volume, mine.path], ['rhel/home', '/alice/big.bin']);
    }
  } finally {
    vols.free();
    chain.close();
  }
});

test('rhel.vhd: a search hit in a logical volume names the volume, and opens its file there', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const file = join(lvm.dir, 'rhel.vhd');
  const [hit] = lines(['search', file, 'Red Hat Enterprise', '--json'], file);
  assert.deepEqual([hit.volume, hit.owner.path], ['rhel/root', '/etc/os-release'], 'the command line names the volume');
  const page = await pageWith(env, [file]);
  await page.evaluate(() => {
    const f = document.querySelector('#search-view form');
    f.querySelector('input[type=search]').value = 'Red Hat Enterprise';
    f.requestSubmit();
  });
  await page.waitForFunction(() => document.getElementById('search-view').dataset.state === 'done', null, { timeout: 120_000 });
  const row = `#search-view tr[data-offset="${hit.offset}"]`;
  assert.ok((await page.$$eval(`${row} td`, (tds) => tds.map((x) => x.textContent))).includes('rhel/root'), 'the row names the volume');
  await page.click(`${row} [data-action=open]`);
  await page.waitForFunction(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="path"]')?.textContent === '/etc/os-release', null, { timeout: 60_000 });
  assert.equal(await page.textContent('#files-view [data-field="breadcrumb"] [data-path="/"]'), 'root');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('rhel.vhd: the Timeline reads the logical volumes: WasmVolumes.timeline is timeline --json (volume included) and its CSV --csv; a row of the striped volume opens its file there', async (t) => {
  if (lvm.skipped) return t.skip(lvm.skipped);
  const file = join(lvm.dir, 'rhel.vhd');
  const KINDS = ['m', 'a', 'c', 'b'];
  const b = await coreBindings();
  const chain = openChain(b, [file]);
  const vols = new b.WasmVolumes(chain.disk, chain.reader());
  const theirs = lines(['timeline', file, '--json'], file).map(({ time: _, ...rest }) => rest);
  try {
    const tl = vols.timeline(false, () => true);
    const mine = Array.from(tl.line, (i, r) => {
      const row = { partition: tl.partition[i], ...(tl.volume[i] ? { volume: tl.volume[i] } : {}), unix: tl.unix[r], nanos: tl.nanos[r], kind: KINDS[tl.kind[r]], path: tl.path[i], inode: tl.inode[i], size: tl.size[i], deleted: tl.deleted[i] === 1, layer: tl.layer[i] < 0 ? null : tl.layer[i] };
      return row;
    });
    // /boot's XFS holds no file: its root has no line, as fls gives none for a root.
    assert.deepEqual(new Set(theirs.map((r) => r.volume)), new Set(['rhel/root', 'rhel/home']), 'both logical volumes');
    assert.deepEqual(mine.map((r) => JSON.stringify(r, Object.keys(r).sort())), theirs.map((r) => JSON.stringify(r, Object.keys(r).sort())));
    assert.equal(vols.timelineText(false, 'csv', () => true), cli(['timeline', file, '--csv'], file).toString('utf8'));
  } finally {
    vols.free();
    chain.close();
  }
  const page = await pageWith(env, [file]);
  await page.evaluate(() => document.getElementById('timeline').scrollIntoView());
  await page.click('#timeline-run');
  await page.waitForFunction(() => document.querySelectorAll('#timeline .tl-row').length > 0, null, { timeout: 120_000 });
  await page.fill('#timeline input[type=search]', '/alice/big.bin');
  await page.waitForFunction(() => [...document.querySelectorAll('#timeline .tl-row')].length > 0 && [...document.querySelectorAll('#timeline .tl-row')].every((r) => r.textContent.includes('/alice/big.bin')), null, { timeout: 30_000 });
  assert.match(await page.textContent('#timeline .tl-row'), /volume rhel\/home/);
  await page.click('#timeline .tl-row');
  await page.waitForFunction(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="path"]')?.textContent === '/alice/big.bin', null, { timeout: 60_000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

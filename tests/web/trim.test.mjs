// "Compact…" with "also give back the file systems' free space" (issue 22) in real headless
// Chromium: the copy the page saves, as a download and through the File System Access API, must
// be byte for byte the file `vhd-viewer compact --trim` writes from the same input, in the
// input's format (a VHD's copy a VHD, a VHDX's a VHDX), and the page's summary must give the
// command line's numbers. The disks are the issue's three kinds (make-trim-disks.sh at an eighth
// of its sizes: ext4 on the whole disk, FAT32 in GPT, NTFS in MBR), as VHD and VHDX, XFS and
// exFAT (the disks of tests/xfs.rs and tests/exfat.rs), and a
// 256 GiB dynamic VHDX whose ext4 holds 1 GiB of files (TRIM_BIG_KEPT_MIB), streamed into a real
// FileSystemWritableFileStream (of the origin's private file system, given by a stand-in for
// the save dialog) with progress and Stop, the core's memory bounded and only the file's
// allocated blocks read. Firefox and WebKit take the download (page-suite.mjs does it in each
// engine).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, settled, cliPath, tempDir, pageWith, opfsPicker, fromOpfs, shaFile } from './helpers.mjs';
import { trimDisks, bigDisk, cliTrim } from './trim-fixtures.mjs';
import { FS_WORDS, humanSize } from '../../www/js/common/format.js';
import { linuxDataVhds } from './fs-fixtures.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const MIB = 1 << 20;

let env;
let tmp;
let disks;

before(async () => {
  disks = trimDisks();
  tmp = tempDir();
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});

/** The summary's numbers must be the command line's: blocks, lengths, free/zero/kept, bytes read. */
async function sameSummary(page, report) {
  const note = await page.textContent('#export-note');
  const r = report.report;
  for (const want of [
    `${r.blocks_before} blocks before, ${r.blocks_after} now`,
    `${humanSize(r.file_len_before)} before, ${humanSize(r.file_len)} now`,
    `${humanSize(r.bytes_free)} free in the file systems, ${humanSize(r.bytes_zero)} of zeros, ${humanSize(r.bytes_kept)} kept`,
  ]) {
    assert.ok(note.includes(want), `the note says "${want}": ${note}`);
  }
  // Each volume: as the command line says it.
  const rows = await page.$$eval('#export-details table.trim-volumes tbody tr', (trs) => trs.map((tr) => ({ trimmed: tr.dataset.trimmed, cells: [...tr.cells].map((c) => c.textContent) })));
  const volumes = report.volumes;
  assert.equal(rows.length, volumes.length, JSON.stringify(rows));
  volumes.forEach((v, i) => {
    assert.equal(rows[i].trimmed, String(v.trimmed));
    assert.equal(rows[i].cells[0], v.partition === null ? 'whole disk' : String(v.partition));
    assert.equal(rows[i].cells[3], v.filesystem === null ? 'not recognised' : FS_WORDS[v.filesystem]);
    if (!v.trimmed) assert.match(rows[i].cells[5], /^kept/);
  });
  return note;
}

for (const kind of ['ext4', 'fat32', 'ntfs']) {
  for (const format of ['vhd', 'vhdx']) {
    test(`compact --trim, ${kind} ${format}: the download is the file the command line writes; the summary its numbers`, async (t) => {
      const d = disks[kind];
      if (!d) return t.skip(`no ${kind} disk: ${readFileSync(join(disks.dir, `${kind}.skipped`), 'utf8').trim()}`);
      const input = d[format];
      const page = await pageWith(env, [input]);
      await page.check('#export-compact-trim');
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click('#export-compact')]);
      assert.equal(download.suggestedFilename(), `${kind}-compact.${format}`, 'the copy has the input\'s format');
      const path = join(tmp.dir, `page-${kind}-compact.${format}`);
      await download.saveAs(path);
      const cli = join(tmp.dir, `cli-${kind}-compact.${format}`);
      const report = cliTrim(input, cli);
      assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
      // The input's format and block size; the deleted data given back (the issue's bound, kept
      // data + 5 % + 16 MiB, is for its full-size disks: make bench and tests/trim.rs judge it).
      const info = (f) => JSON.parse(execFileSync(cliPath(), ['info', '--json', f], { encoding: 'utf8', maxBuffer: 64 << 20 }));
      const [got, was] = [info(path), info(input)];
      assert.deepEqual([got.format, got.disk_type, got.block_size], [was.format, was.disk_type, was.block_size]);
      assert.ok(report.report.bytes_free >= d.deleted * 0.95, `${report.report.bytes_free} bytes found free, ${d.deleted} deleted`);
      assert.ok(statSync(path).size <= statSync(input).size - d.deleted + 16 * MIB, `the copy (${statSync(path).size} bytes) is the input (${statSync(input).size}) less the deleted data (${d.deleted}) at most, and 16 MiB`);
      await sameSummary(page, report);
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }
}

test('compact --trim, XFS in GPT (a VHDX made by qemu-img) and exFAT in MBR (a VHD): the download is the file the command line writes; the summary its numbers', async () => {
  const { xfs, exfat } = linuxDataVhds();
  for (const [kind, input, format] of [['xfs', xfs.vhdx, 'vhdx'], ['exfat', exfat?.vhd, 'vhd']]) {
    if (!input) continue;
    const page = await pageWith(env, [input]);
    await page.check('#export-compact-trim');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click('#export-compact')]);
    const path = join(tmp.dir, `page-${kind}-compact.${format}`);
    await download.saveAs(path);
    const cli = join(tmp.dir, `cli-${kind}-compact.${format}`);
    const report = cliTrim(input, cli);
    assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), `${kind}: the page and the command line write the same file`);
    assert.ok(report.volumes.some((v) => v.filesystem === kind && v.trimmed && v.free_bytes > 0), JSON.stringify(report.volumes));
    await sameSummary(page, report);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

for (const format of ['vhd', 'vhdx']) {
  test(`compact --trim, an ext4 ${format} child over its base: what it holds in free space is left to its parent, as the command line leaves it`, async () => {
    const [child, base] = disks.ext4.chains[format];
    const page = await pageWith(env, [child, base]);
    await page.check('#export-compact-trim');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click('#export-compact')]);
    assert.equal(download.suggestedFilename(), `ext4-child-compact.${format}`);
    const path = join(tmp.dir, `page-ext4-child-compact.${format}`);
    await download.saveAs(path);
    const cli = join(tmp.dir, `cli-ext4-child-compact.${format}`);
    const report = cliTrim(child, cli, [base]);
    assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same child');
    await page.waitForFunction(() => /read from the files/.test(document.querySelector('#export-note').textContent), null, { timeout: 180_000 });
    const note = await page.textContent('#export-note');
    const r = report.report;
    assert.ok(note.includes(`${r.blocks_before} blocks before, ${r.blocks_after} now`), note);
    assert.ok(note.includes(`${humanSize(r.bytes_free)} free in the file systems, ${humanSize(r.bytes_zero)} left to the parent, ${humanSize(r.bytes_kept)} kept`), note);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('compact --trim through the File System Access API: streamed into the file, the same bytes; without the box, the lossless copy', async () => {
  const input = disks.ext4.vhdx;
  let page = await pageWith(env, [input], { fsa: true });
  await page.check('#export-compact-trim');
  await page.click('#export-compact');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined, null, { timeout: 180_000 });
  const saved = await page.evaluate(() => window.__saved);
  const cli = join(tmp.dir, 'cli-fsa.vhdx');
  const report = cliTrim(input, cli);
  assert.equal(sha(Buffer.from(saved.base64, 'base64')), sha(readFileSync(cli)));
  const note = await sameSummary(page, report);
  assert.match(note, /^Saved ext4-compact\.vhdx/);
  await page.close();

  // The box not ticked: `vhd-viewer compact` without --trim, no volume table.
  page = await pageWith(env, [input], { fsa: true });
  await page.click('#export-compact');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined, null, { timeout: 180_000 });
  const plain = await page.evaluate(() => window.__saved.base64);
  const out = join(tmp.dir, 'cli-plain.vhdx');
  rmSync(out, { force: true });
  execFileSync(cliPath(), ['compact', input, out]);
  assert.equal(sha(Buffer.from(plain, 'base64')), sha(readFileSync(out)));
  assert.equal(await page.$('#export-details table.trim-volumes'), null);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 256 GiB dynamic VHDX whose ext4 holds 1 GiB: compacted with its free space given back, streamed into a file with progress and Stop, memory flat', { timeout: 30 * 60_000 }, async () => {
  const big = bigDisk();
  const inputLen = statSync(big.vhdx).size;
  const page = await env.newPage();
  await page.addInitScript(opfsPicker);
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [big.vhdx]);
  assert.equal(await settled(page), 'ready');
  await page.check('#export-compact-trim');
  // The private file system's quota follows the free disk space: say so plainly when it is short.
  const room = await page.evaluate(async () => {
    const { quota = 0, usage = 0 } = await navigator.storage.estimate();
    return quota - usage;
  });
  assert.ok(room > big.kept * 1.5, `the origin's private file system has room for ${room} bytes only: free some disk space (the copy takes about ${big.kept * 1.3} bytes)`);

  // Stop: the task shows its progress, and Cancel discards the file.
  await page.click('#export-compact');
  await page.waitForSelector('#task:not([hidden])');
  await page.waitForFunction(() => /^\d+ of \d+ blocks$/.test(document.querySelector('#task-count').textContent) && Number(document.querySelector('#task-progress').value) > 0, null, { timeout: 120_000 });
  await page.click('#task-cancel');
  await page.waitForSelector('#task', { state: 'hidden' });
  assert.match(await page.textContent('#messages'), /cancelled/);

  // The whole run, the core's memory sampled in the Worker as it goes.
  const worker = page.workers()[0];
  assert.ok(worker, 'the page runs a Worker');
  const memory = () => worker.evaluate(async () => (await import('/js/common/wasm.js')).wasmMemoryBytes());
  const startMem = await memory();
  const started = Date.now();
  await page.click('#export-compact');
  let peak = startMem;
  let progressSeen = 0;
  for (;;) {
    const state = await page.evaluate(() => ({ hidden: document.querySelector('#task').hidden, value: Number(document.querySelector('#task-progress').value) }));
    peak = Math.max(peak, await memory());
    if (state.value > 0) progressSeen++;
    if (state.hidden) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (Date.now() - started) / 1000;
  const note = await page.textContent('#export-note');
  assert.match(note, /^Saved big-compact\.vhdx/, note + (await page.textContent('#messages')));
  assert.ok(progressSeen > 0, 'progress was shown');
  // Memory flat: the core's memory bounded whatever the disk's size (the block table and the
  // allocation maps' windows; nothing in proportion to the disk's 256 GiB or its data).
  assert.ok(peak <= 96 * MIB, `the core's memory stayed under 96 MiB (${peak} bytes at most, ${startMem} before)`);
  // Bytes read: the file's allocated blocks and allocation maps, never more than the file.
  const [, read, unit] = /; ([\d.]+) (bytes|KiB|MiB|GiB) read from the files/.exec(note) ?? [];
  assert.ok(read, note);
  const readBytes = Number(read) * { bytes: 1, KiB: 1 << 10, MiB: MIB, GiB: 1 << 30 }[unit];
  assert.ok(readBytes <= inputLen * 1.01, `read ${read} ${unit}, not more than the file (${inputLen} bytes)`);

  // The same file as the command line's: the saved file comes out of the private file system as a download.
  const path = join(tmp.dir, 'page-big-compact.vhdx');
  await fromOpfs(page, 'big-compact.vhdx', path);
  const cli = join(tmp.dir, 'cli-big-compact.vhdx');
  const cliStarted = Date.now();
  const report = cliTrim(big.vhdx, cli);
  const cliSeconds = (Date.now() - cliStarted) / 1000;
  assert.equal(await shaFile(path), await shaFile(cli), 'the page and the command line write the same file');
  await sameSummary(page, report);
  // The deleted data is given back: all of it counted free, and the copy smaller than the input
  // by as much (less 16 MiB). (It holds more than the kept files: a 2 MiB block holding any of
  // ext4's metadata, spread over the 256 GiB in its 128 flexible groups, is kept whole.)
  assert.ok(report.report.bytes_free >= big.deleted, `${report.report.bytes_free} bytes free, ${big.deleted} deleted`);
  assert.ok(statSync(path).size <= inputLen - big.deleted + 16 * MIB, `the copy (${statSync(path).size} bytes) is the input (${inputLen}) less the deleted data (${big.deleted}) at most, and 16 MiB`);
  console.log(`256 GiB VHDX (${humanSize(inputLen)} file, ${humanSize(big.kept)} kept, ${humanSize(big.deleted)} deleted): the page compacted it in ${seconds.toFixed(1)} s (the command line ${cliSeconds.toFixed(1)} s), read ${read} ${unit}, the core's memory at most ${humanSize(peak)}; copy ${humanSize(statSync(path).size)}`);
  rmSync(path);
  rmSync(cli);
  await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('big-compact.vhdx'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

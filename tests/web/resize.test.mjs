// "Resize…" (issue 23) in real headless Chromium: the copy the page saves, as a download and
// through the File System Access API (a stand-in file in memory), must be byte for byte the file
// `vhd-viewer resize` writes from the same input, with the new size in its own structures (a
// VHD's footer, what qemu-img reads of a VHDX), the disk's bytes kept and zeros after them, and a
// GPT's backup header at the new end (its signature, and its own LBA the disk's last) so that
// `sgdisk -v` finds no problem. A shrink past a partition is refused before anything is written,
// with the partition and the byte where it ends; stopping discards the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, openSync, writeSync, closeSync, ftruncateSync, statSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, cliPath, tempDir, pageWith, screenshotPath, settled, opfsPicker, fromOpfs, shaFile, SAMPLES, stopSave, vv } from './helpers.mjs';
import { humanSize } from '../../www/js/common/format.js';

const MIB = 1 << 20;
const BIG = { maxBuffer: 1 << 30 };
const sha = (b) => createHash('sha256').update(b).digest('hex');

let env;
let tmp;
/** The test disks: `{ raw, vhd, vhdx }`, a 64 MiB disk with a GPT and one partition of 40 MiB holding a pattern. */
let disks;

/**
 * A 64 MiB raw disk with a GPT (sgdisk) and partition 1 from sector 2048 for 40 MiB, its first
 * MiB a pattern (so that the copy must carry data), as a dynamic VHD (qemu-img, its size kept
 * exactly: `force_size`) and a VHDX.
 */
function makeDisks(dir) {
  const raw = join(dir, 'gpt.raw');
  const bytes = Buffer.alloc(64 * MIB);
  for (let i = 0; i < MIB; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, MIB + i);
  writeFileSync(raw, bytes);
  execFileSync('sgdisk', ['-o', '-n', '1:2048:+40M', '-t', '1:8300', raw], { stdio: 'ignore' });
  const vhd = join(dir, 'gpt.vhd');
  const vhdx = join(dir, 'gpt.vhdx');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, vhd]);
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vhdx', raw, vhdx]);
  return { raw, vhd, vhdx };
}

before(async () => {
  tmp = tempDir();
  disks = makeDisks(tmp.dir);
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});


/** Clicks `button` and saves the download as `name` in the temp folder. */
async function downloaded(page, button, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = join(tmp.dir, name);
  await download.saveAs(path);
  return { path, suggested: download.suggestedFilename() };
}

/** Types `size` into the size field and waits for the core's plan (or refusal) to be shown. */
async function typeSize(page, size) {
  await page.fill('#export-resize-size', size);
  await page.waitForSelector('#export-resize-plan p[data-refused]');
  return page.textContent('#export-resize-plan');
}

/**
 * Checks a resized copy at `path` of the 64 MiB disk: `size` bytes long as qemu-img reads it,
 * the original bytes then zeros (the old backup GPT aside: the last 33 sectors of the old disk,
 * which the copy keeps as they were), its GPT's backup header at the new end, and `sgdisk -v`
 * content with it.
 */
function checkGrown(path, format, size) {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-f', format, path], { encoding: 'utf8' }));
  assert.equal(info['virtual-size'], size, 'qemu-img reads the new size');
  const raw = `${path}.raw`;
  execFileSync('qemu-img', ['convert', '-q', '-f', format, '-O', 'raw', path, raw]);
  const got = readFileSync(raw);
  assert.equal(got.length, size);
  assert.equal(sha(execFileSync(cliPath(), ['cat', path], BIG)), sha(got), 'vhd-viewer reads what qemu-img reads');
  const old = readFileSync(disks.raw);
  // The protective MBR's size and the primary header (LBAs 0 and 1) changed; from the entries to
  // the old end's backup GPT, everything is the original's.
  const backupStart = old.length - 33 * 512;
  assert.equal(sha(got.subarray(1024, backupStart)), sha(old.subarray(1024, backupStart)), 'the data is kept');
  assert.equal(got.readUInt32LE(446 + 12), Math.min(size / 512 - 1, 0xffffffff), "the protective MBR's size");
  assert.ok(got.subarray(old.length, size - 33 * 512).every((b) => b === 0), 'the grown part reads as zeros');
  // The backup header: the last sector, "EFI PART", its own LBA (MyLBA, at 24) the last one.
  const last = got.subarray(size - 512);
  assert.equal(last.subarray(0, 8).toString('latin1'), 'EFI PART', 'the backup GPT header is at the new end');
  assert.equal(last.readBigUInt64LE(24), BigInt(size / 512 - 1), "its MyLBA is the disk's last sector");
  // The primary header names it as its alternate.
  assert.equal(got.readBigUInt64LE(512 + 32), BigInt(size / 512 - 1), "the primary header's AlternateLBA");
  const verify = execFileSync('sgdisk', ['-v', raw], { encoding: 'utf8' });
  assert.match(verify, /No problems found/, verify);
}

test('grow a dynamic VHD with a GPT: the plan first, then the file vhd-viewer resize writes', async () => {
  const page = await pageWith(env, [disks.vhd]);
  assert.match(await page.textContent('#export-resize-now'), /now 64 MiB \(67108864 bytes\)/);
  // Said as typed: a size that is not one, then a larger one with its plan.
  await page.fill('#export-resize-size', '12X');
  assert.match(await page.textContent('#export-resize-words'), /"12X" is not a size/);
  await page.fill('#export-resize-size', '64M');
  assert.match(await page.textContent('#export-resize-words'), /64 MiB: the size it has now/);
  // A size that is not a whole number of sectors: the core's reason.
  assert.match(await typeSize(page, '100001'), /^Refused: a VHD cannot be resized to 100001 bytes: .*whole number of its 512-byte logical sectors/);
  await typeSize(page, '+64M'); // the size it has now, grown by 64 MiB
  assert.match(await page.textContent('#export-resize-words'), /^128 MiB \(134217728 bytes\): the disk grows by 64 MiB/);
  const plan = await typeSize(page, '128M');
  assert.match(await page.textContent('#export-resize-words'), /128 MiB \(134217728 bytes\): the disk grows by 64 MiB/);
  assert.match(plan, /from 64 MiB to 128 MiB \(64 MiB larger\)/);
  assert.match(plan, /GPT's backup header and partition entries at the new end/);
  assert.match(plan, /86\.98 MiB of unpartitioned space at the end/, 'from the partition\'s end at 41 MiB to the backup GPT');
  // Unchecked, the GPT is left as it is, and the plan says so.
  await page.uncheck('#export-resize-gpt-fix');
  await page.waitForFunction(() => /left as it is/.test(document.querySelector('#export-resize-plan').textContent));
  assert.doesNotMatch(await page.textContent('#export-resize-plan'), /backup header and partition entries at the new end/);
  await page.check('#export-resize-gpt-fix');
  await page.waitForFunction(() => /backup header and partition entries at the new end/.test(document.querySelector('#export-resize-plan').textContent));
  const { path, suggested } = await downloaded(page, '#export-resize', 'grown.vhd');
  assert.equal(suggested, 'gpt-resized.vhd');
  const cli = join(tmp.dir, 'cli-grown.vhd');
  vv(['resize', disks.vhd, cli, '--size', '128M']);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  // The footer's current size (big-endian at 48 of the last 512 bytes), and the disk it holds.
  const file = readFileSync(path);
  assert.equal(file.readBigUInt64BE(file.length - 512 + 48), BigInt(128 * MIB), "the footer's current size");
  checkGrown(path, 'vpc', 128 * MIB);
  assert.match(await page.textContent('#export-note'), /^Saving gpt-resized\.vhd .*Resized from 64 MiB to 128 MiB/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('grow a VHDX with a GPT through the File System Access API, by a size with a G suffix', async () => {
  const page = await pageWith(env, [disks.vhdx], { fsa: true });
  await typeSize(page, '1G');
  await page.press('#export-resize-size', 'Enter'); // from the keyboard
  await page.waitForFunction(() => window.__saved?.base64 !== undefined);
  const path = join(tmp.dir, 'grown.vhdx');
  writeFileSync(path, Buffer.from(await page.evaluate(() => window.__saved.base64), 'base64'));
  const cli = join(tmp.dir, 'cli-grown.vhdx');
  vv(['resize', disks.vhdx, cli, '--size', '1G']);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same VHDX');
  checkGrown(path, 'vhdx', 1 << 30);
  assert.match(await page.textContent('#export-note'), /^Saved gpt-resized\.vhdx .*Resized from 64 MiB to 1 GiB/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a shrink past the partition is refused before anything is written; one that spares it is written', async () => {
  const page = await pageWith(env, [disks.vhd], { fsa: true });
  // Count the file pickers opened: a refusal opens none.
  await page.evaluate(() => {
    const open = window.showSaveFilePicker;
    window.__picked = 0;
    window.showSaveFilePicker = (o) => {
      window.__picked++;
      return open(o);
    };
  });
  const plan = await typeSize(page, '32M');
  assert.match(await page.textContent('#export-resize-words'), /the disk shrinks by 32 MiB/);
  // Partition 1 runs from sector 2048 for 40 MiB: it ends at byte 41 MiB (42991616).
  assert.match(plan, /^Refused: .*partition 1.*4299161[56]/, plan);
  await page.click('#export-resize');
  await page.waitForFunction(() => /Nothing was written/.test(document.querySelector('#export-note').textContent));
  assert.equal(await page.evaluate(() => window.__picked), 0, 'no file was chosen');
  assert.equal(await page.evaluate(() => window.__saved.writes), 0, 'nothing was written');
  // The command line refuses it too, and writes no file.
  const out = join(tmp.dir, 'cli-shrunk.vhd');
  const r = spawnSync(cliPath(), ['resize', disks.vhd, out, '--size', '32M'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.equal(existsSync(out), false);
  // 48 MiB keeps the partition whole: written (the GPT's backup moved to the new end).
  await typeSize(page, '48M');
  await page.click('#export-resize');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined);
  assert.equal(await page.evaluate(() => window.__picked), 1);
  const path = join(tmp.dir, 'shrunk.vhd');
  writeFileSync(path, Buffer.from(await page.evaluate(() => window.__saved.base64), 'base64'));
  const cli = join(tmp.dir, 'cli-shrunk-48.vhd');
  vv(['resize', disks.vhd, cli, '--size', '48M']);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('grow a fixed VHD with an MBR to 512 MiB as a download: the new tail, never written, comes out as zeros', async () => {
  const raw = join(tmp.dir, 'mbr.raw');
  writeFileSync(raw, readFileSync(disks.raw).fill(0, 0, 34 * 512).fill(0, 64 * MIB - 33 * 512));
  execFileSync('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, size=81920, type=83\n' });
  const vhd = join(tmp.dir, 'mbr.vhd');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed,force_size=on', raw, vhd]);
  const page = await pageWith(env, [vhd]);
  const plan = await typeSize(page, '512M');
  assert.doesNotMatch(plan, /GPT/);
  const { path } = await downloaded(page, '#export-resize', 'mbr-grown.vhd');
  const cli = join(tmp.dir, 'cli-mbr-grown.vhd');
  vv(['resize', vhd, cli, '--size', '512M']);
  assert.equal(statSync(path).size, 512 * MIB + 512, 'a fixed VHD: the disk, then its footer');
  assert.equal(await shaFile(path), await shaFile(cli), 'the page and the command line write the same file');
  const got = execFileSync(cliPath(), ['cat', path], BIG);
  assert.equal(sha(got.subarray(0, 64 * MIB)), sha(readFileSync(raw)), 'the disk as it was');
  assert.ok(got.subarray(64 * MIB).every((b) => b === 0), 'then zeros');
  rmSync(path);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a differencing disk without its parent cannot be resized: the button is off and says why', async () => {
  const page = await pageWith(env, [join(SAMPLES, 'child.vhd')]);
  assert.equal(await page.isDisabled('#export-resize'), true);
  assert.equal(await page.isDisabled('#export-resize-size'), true);
  const why = await page.textContent('.save-row:has(#export-resize) .why');
  assert.match(why, /parent/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a damaged GPT is not mended silently: refused with the reason, and copied as it is with "fix the GPT" unchecked', async () => {
  // The primary header's CRC (at 16 in LBA 1) broken.
  const bytes = readFileSync(disks.raw);
  bytes[512 + 16] ^= 0xff;
  const raw = join(tmp.dir, 'damaged.raw');
  writeFileSync(raw, bytes);
  const vhd = join(tmp.dir, 'damaged.vhd');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, vhd]);
  const page = await pageWith(env, [vhd]);
  await typeSize(page, '+64M'); // the size it has now, grown by 64 MiB
  assert.match(await page.textContent('#export-resize-words'), /^128 MiB \(134217728 bytes\): the disk grows by 64 MiB/);
  const plan = await typeSize(page, '128M');
  assert.match(plan, /^Refused: .*damaged.*uncheck "fix the GPT"/, plan);
  assert.equal(await page.getAttribute('#export-resize-plan p', 'data-code'), 'gpt-damaged');
  await page.uncheck('#export-resize-gpt-fix');
  await page.waitForSelector('#export-resize-plan p[data-refused="false"]');
  assert.match(await page.textContent('#export-resize-plan'), /left as it is/);
  const { path } = await downloaded(page, '#export-resize', 'damaged-grown.vhd');
  const cli = join(tmp.dir, 'cli-damaged-grown.vhd');
  vv(['resize', vhd, cli, '--size', '128M', '--no-gpt-fix']);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('stopping a resize discards the file', async () => {
  const page = await pageWith(env, [disks.vhd], { fsa: true, delay: 300 });
  await typeSize(page, '256M');
  await stopSave(page, () => page.click('#export-resize'), /Resizing gpt\.vhd: cancelled/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 4 GiB dynamic VHD holding 256 MiB, grown to 1 TiB: streamed into a file with progress, memory flat, as the command line writes it', { timeout: 10 * 60_000 }, async () => {
  // A GPT disk with 16 pieces of 16 MiB of data spread over its 4 GiB (sparse raw, then qemu-img).
  const raw = join(tmp.dir, 'big.raw');
  const fd = openSync(raw, 'w');
  ftruncateSync(fd, 4 * 2 ** 30);
  const piece = Buffer.alloc(16 * MIB);
  for (let i = 0; i < piece.length; i += 4) piece.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let k = 0; k < 16; k++) {
    piece.writeUInt32LE(k, 0);
    writeSync(fd, piece, 0, piece.length, 2 * MIB + k * 256 * MIB);
  }
  closeSync(fd);
  execFileSync('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:0700', raw], { stdio: 'ignore' });
  const vhd = join(tmp.dir, 'big.vhd');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, vhd]);
  rmSync(raw);
  const page = await env.newPage();
  await page.addInitScript(opfsPicker);
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [vhd]);
  assert.equal(await settled(page), 'ready');
  await typeSize(page, '1T');
  const worker = page.workers()[0];
  const memory = () => worker.evaluate(async () => (await import('/js/common/wasm.js')).wasmMemoryBytes());
  const startMem = await memory();
  const started = Date.now();
  await page.click('#export-resize');
  await page.waitForSelector('#task:not([hidden])'); // once the plan is made
  let peak = startMem;
  let progressSeen = 0;
  for (;;) {
    const state = await page.evaluate(() => ({ hidden: document.querySelector('#task').hidden, count: document.querySelector('#task-count').textContent }));
    peak = Math.max(peak, await memory());
    if (/^\d+ of \d+ blocks$/.test(state.count)) progressSeen++;
    if (state.hidden) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  const note = await page.textContent('#export-note');
  assert.match(note, /^Saved big-resized\.vhd .*Resized from 4 GiB to 1 TiB/, note + (await page.textContent('#messages')));
  assert.ok(progressSeen > 0, 'progress was shown in blocks');
  // Memory flat: the block tables (the new one 2 MiB for 1 TiB of 2 MiB blocks) and a few windows.
  assert.ok(peak <= 64 * MIB, `the core's memory stayed under 64 MiB (${peak} bytes at most, ${startMem} before)`);
  const path = join(tmp.dir, 'page-big-resized.vhd');
  await fromOpfs(page, 'big-resized.vhd', path);
  const cli = join(tmp.dir, 'cli-big-resized.vhd');
  const cliStarted = Date.now();
  vv(['resize', vhd, cli, '--size', '1T']);
  const cliSeconds = (Date.now() - cliStarted) / 1000;
  assert.equal(await shaFile(path), await shaFile(cli), 'the page and the command line write the same file');
  console.log(`4 GiB dynamic VHD (${humanSize(statSync(vhd).size)} file) grown to 1 TiB: the page in ${seconds.toFixed(1)} s (the command line ${cliSeconds.toFixed(1)} s), the core's memory at most ${humanSize(peak)} (${humanSize(startMem)} before); copy ${humanSize(statSync(path).size)}`);
  await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('big-resized.vhd'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('screenshots: the Resize… row with a plan and with a refusal, at 1400 and 400 px', async () => {
  for (const width of [1400, 400]) {
    const page = await pageWith(env, [disks.vhd]);
    await page.setViewportSize({ width, height: 900 });
    const row = page.locator('.save-row', { has: page.locator('#export-resize') });
    await typeSize(page, '128M');
    await row.scrollIntoViewIfNeeded();
    await row.screenshot({ path: screenshotPath(`resize-plan-${width}`) });
    await typeSize(page, '32M');
    await row.screenshot({ path: screenshotPath(`resize-refused-${width}`) });
    // Nothing wider than the page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window at ${width} px`);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

// "Save an Azure-ready copy…" (issue 23) in real headless Chromium: the dialog says what it will
// write (a fixed VHD of the size Azure takes, the zeros added) before it starts; the file saved,
// as a download and through the File System Access API (a stand-in file in memory), is the file
// `vhd-viewer convert --for azure` writes from the same chain but for its own unique id, time
// stamp and checksum; its footer is read here field by field, its data is the chain's bytes
// (`vhd-viewer cat`) then zeros as qemu-img and 7-Zip read it, and it passes `check --for
// azure`. Stopping discards the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, cliPath, cliCat, tempDir, SAMPLES, pageWith, stopSave, vv } from './helpers.mjs';

const BASE = join(SAMPLES, 'base.vhd');
const CHILD = join(SAMPLES, 'child.vhd');
const GRAND = join(SAMPLES, 'grandchild.vhd');
const VBASE = join(SAMPLES, 'base.vhdx');
const VCHILD = join(SAMPLES, 'child.vhdx');
const sha = (b) => createHash('sha256').update(b).digest('hex');
const BIG = { maxBuffer: 1 << 30 };
const MIB = 1 << 20;

let env;
let tmp;

before(async () => {
  for (const f of [BASE, CHILD, GRAND, VBASE, VCHILD]) assert.ok(existsSync(f), `${f} is missing: run make samples`);
  tmp = tempDir();
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});

/** Azure's size for a disk of `size` bytes, as its rules say it (a whole MiB, at least 20 MiB). */
const azureSize = (size) => Math.max(20 * MIB, Math.ceil(size / MIB) * MIB);

/** The footer at the end of `file`, read field by field (VHD spec). */
function footer(file) {
  const f = file.subarray(file.length - 512);
  const v = new DataView(f.buffer, f.byteOffset, 512);
  let sum = 0;
  for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += f[i];
  return {
    cookie: f.subarray(0, 8).toString('latin1'),
    dataOffset: v.getBigUint64(16),
    creator: f.subarray(28, 32).toString('latin1'),
    originalSize: Number(v.getBigUint64(40)),
    currentSize: Number(v.getBigUint64(48)),
    geometry: `${v.getUint16(56)}/${f[58]}/${f[59]}`,
    diskType: v.getUint32(60),
    checksumRight: v.getUint32(64) === (~sum >>> 0),
  };
}


/**
 * The Azure-ready copy at `path` of the disk `raw` (its bytes): the command line's file from
 * `cliArgs` but for the identity, its footer right, read as `raw` then zeros by every reader.
 */
function isAzureReady(path, raw, cliArgs) {
  const size = azureSize(raw.length);
  const file = readFileSync(path);
  assert.equal(file.length, size + 512);
  const f = footer(file);
  assert.deepEqual(
    { cookie: f.cookie, dataOffset: f.dataOffset, originalSize: f.originalSize, currentSize: f.currentSize, diskType: f.diskType, checksumRight: f.checksumRight },
    { cookie: 'conectix', dataOffset: 0xffffffffffffffffn, originalSize: size, currentSize: size, diskType: 2, checksumRight: true },
  );
  assert.ok(!['vpc ', 'qemu'].includes(f.creator), `qemu sizes a disk by its geometry for creator ${f.creator}`);
  // The command line's copy: the same bytes but for the time stamp (24), checksum (64) and unique id (68).
  const cli = join(tmp.dir, `cli-${sha(path).slice(0, 8)}.vhd`);
  vv(['convert', '--for', 'azure', ...cliArgs, cli, '--force']);
  const theirs = readFileSync(cli);
  assert.equal(footer(theirs).geometry, f.geometry);
  const blank = (b) => {
    const c = Buffer.from(b);
    for (const [at, len] of [[24, 4], [64, 4], [68, 16]]) c.fill(0, c.length - 512 + at, c.length - 512 + at + len);
    return sha(c);
  };
  assert.equal(blank(file), blank(theirs), 'the page writes the file the command line writes');
  // The data: the disk's bytes, then zeros.
  const want = sha(Buffer.concat([raw, Buffer.alloc(size - raw.length)]));
  const q = path + '.raw';
  execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', path, q]);
  assert.equal(sha(readFileSync(q)), want, `qemu-img convert ${path}`);
  assert.equal(sha(execFileSync('7zz', ['x', '-tVHD', '-so', path], BIG)), want, `7zz x ${path}`);
  const fit = JSON.parse(vv(['check', '--for', 'azure', '--json', path]));
  assert.equal(fit.fits, true, JSON.stringify(fit.rules.filter((r) => !r.pass)));
  assert.deepEqual(fit.rules.filter((r) => !r.pass), []);
}

test('the dialog says what the Azure-ready copy will be, for the file chosen, before it starts', async () => {
  const page = await pageWith(env, [GRAND, CHILD, BASE]);
  const grand = cliCat(GRAND, [CHILD, BASE]).length;
  const what = () => page.textContent('#export-azure-what');
  assert.ok(grand % MIB !== 0 && grand > 20 * MIB, `the sample is ${grand} bytes`);
  const size = azureSize(grand);
  let text = await what();
  assert.ok(text.includes(`${size / MIB} MiB (${size.toLocaleString('en')} bytes`), text);
  assert.ok(text.includes(`the disk (${grand.toLocaleString('en')} bytes), then ${(size - grand) / 1024} KiB of zeros added at its end`), text);
  assert.equal(await page.isEnabled('#export-azure'), true);
  // As of the base: its own size.
  await page.selectOption('#export-layer', '2');
  const base = cliCat(BASE).length;
  text = await what();
  assert.ok(text.includes(`the disk as of the file chosen (${base.toLocaleString('en')} bytes)`), text);
  assert.ok(text.includes(`${azureSize(base).toLocaleString('en')} bytes`), text);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a disk larger than a VHD holds: the button is off and says why', async () => {
  // qemu-img's 3 TiB VHDX (a few MiB of file): Azure takes it only as a VHD, which holds 2040 GiB.
  const big = join(tmp.dir, 'big.vhdx');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', big, '3T']);
  const page = await pageWith(env, [big]);
  assert.equal(await page.isEnabled('#export-azure'), false);
  const text = await page.textContent('#export-azure-what');
  assert.match(text, /more than the 2040 GiB a VHD may hold/);
  assert.doesNotMatch(text, /This writes/);
  const r = spawnSync(cliPath(), ['convert', '--for', 'azure', big, join(tmp.dir, 'big-azure.vhd')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(text.replace(/^./, (c) => c.toLowerCase()).replace(/\.$/, '')), `the command line's reason: ${r.stderr}`);
  assert.equal(existsSync(join(tmp.dir, 'big-azure.vhd')), false);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('Save an Azure-ready copy: a download and through the File System Access API, of the chain and as of a layer', async () => {
  const raw = cliCat(GRAND, [CHILD, BASE]);
  for (const fsa of [false, true]) {
    const page = await pageWith(env, [GRAND, CHILD, BASE], { fsa });
    const path = join(tmp.dir, `${fsa ? 'fsa' : 'download'}-azure.vhd`);
    if (fsa) {
      await page.click('#export-azure');
      await page.waitForFunction(() => window.__saved?.base64 !== undefined);
      const saved = await page.evaluate(() => window.__saved);
      assert.equal(saved.aborted, undefined);
      writeFileSync(path, Buffer.from(saved.base64, 'base64'));
    } else {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-azure')]);
      assert.equal(download.suggestedFilename(), 'grandchild-azure.vhd');
      await download.saveAs(path);
    }
    isAzureReady(path, raw, [GRAND, '--parent', CHILD, '--parent', BASE]);
    assert.match(await page.textContent('#export-note'), /grandchild-azure\.vhd \(64 MiB, a fixed VHD for Azure\)/);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
  // As of the child (layer 1): the child over the base, without the grandchild.
  const page = await pageWith(env, [GRAND, CHILD, BASE]);
  await page.selectOption('#export-layer', '1');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-azure')]);
  assert.equal(download.suggestedFilename(), 'child-azure.vhd');
  const path = join(tmp.dir, 'layer1-azure.vhd');
  await download.saveAs(path);
  isAzureReady(path, cliCat(CHILD, [BASE]), [GRAND, '--parent', CHILD, '--parent', BASE, '--layer', '1']);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a VHDX chain becomes a fixed VHD too', async () => {
  const page = await pageWith(env, [VCHILD, VBASE], { fsa: true });
  await page.click('#export-azure');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined);
  const path = join(tmp.dir, 'vhdx-azure.vhd');
  writeFileSync(path, Buffer.from((await page.evaluate(() => window.__saved)).base64, 'base64'));
  isAzureReady(path, cliCat(VCHILD, [VBASE]), [VCHILD, '--parent', VBASE]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('stopping an Azure-ready copy discards the file', async () => {
  const page = await pageWith(env, [GRAND, CHILD, BASE], { fsa: true, delay: 300 });
  await stopSave(page, () => page.click('#export-azure'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

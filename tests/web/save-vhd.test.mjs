// "Save as…" (issues 13 and 22) in real headless Chromium: the chain sample saved as a dynamic and
// a fixed VHD and VHDX, as a download and through the File System Access API (a stand-in file in memory);
// every saved file is read back by the command line (no parent: it stands alone), 7-Zip and
// qemu-img, and must give the bytes of `vhd-viewer cat` of the chain. Cancelling discards the
// file; a chain with a missing parent cannot be saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, openPage, settled, cliCat, cliPath, tempDir, SAMPLES, standIn, stopSave } from './helpers.mjs';

const BASE = join(SAMPLES, 'base.vhd');
const CHILD = join(SAMPLES, 'child.vhd');
const GRAND = join(SAMPLES, 'grandchild.vhd');
const sha = (b) => createHash('sha256').update(b).digest('hex');
const BIG = { maxBuffer: 1 << 30 };

let env;
let tmp;
let rawSha;

before(async () => {
  for (const f of [BASE, CHILD, GRAND]) assert.ok(existsSync(f), `${f} is missing: run make samples`);
  tmp = tempDir();
  rawSha = sha(cliCat(GRAND, [CHILD, BASE]));
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});

/** A saved VHD read by every reader: the chain's bytes, the type asked for, no warning. */
function readsBack(path, type) {
  assert.equal(sha(execFileSync(cliPath(), ['cat', path], BIG)), rawSha, `vhd-viewer cat ${path}`);
  assert.equal(sha(execFileSync('7zz', ['x', '-tVHD', '-so', path], BIG)), rawSha, `7zz x ${path}`);
  const raw = path + '.raw';
  execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', path, raw]);
  assert.equal(sha(readFileSync(raw)), rawSha, `qemu-img convert ${path}`);
  const info = JSON.parse(execFileSync(cliPath(), ['info', '--json', path], { ...BIG, encoding: 'utf8' }));
  assert.equal(info.disk_type, type);
  const findings = JSON.parse(execFileSync(cliPath(), ['check', '--json', path], { ...BIG, encoding: 'utf8' }));
  assert.deepEqual(findings.filter((f) => f.severity !== 'info'), [], `check ${path}`);
  return info;
}

test('save as VHD: a download, dynamic and fixed, reads back as the chain', async () => {
  const page = await env.newPage();
  await page.addInitScript(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
  });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [GRAND, CHILD, BASE]);
  assert.equal(await settled(page), 'ready');
  for (const [kind, type] of [['dynamic', 'dynamic'], ['fixed', 'fixed']]) {
    await page.selectOption('#export-vhd-kind', kind);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-vhd')]);
    assert.equal(download.suggestedFilename(), `grandchild-${kind}.vhd`);
    const path = join(tmp.dir, `download-${kind}.vhd`);
    await download.saveAs(path);
    const info = readsBack(path, type);
    if (kind === 'dynamic') {
      // Only the blocks holding non-zero data.
      const raw = cliCat(GRAND, [CHILD, BASE]);
      let nonzero = 0;
      for (let o = 0; o < raw.length; o += info.block_size) if (raw.subarray(o, o + info.block_size).some((b) => b !== 0)) nonzero++;
      assert.equal(info.allocated_blocks, nonzero);
      assert.match(await page.textContent('#export-note'), new RegExp(`${nonzero} blocks allocated`));
    }
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('save as VHD as of a chosen layer: the chain without the layers above it', async () => {
  const page = await env.newPage();
  await page.addInitScript(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
  });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [GRAND, CHILD, BASE]);
  assert.equal(await settled(page), 'ready');
  await page.selectOption('#layer-select', '1');
  await page.selectOption('#export-vhd-kind', 'dynamic');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-vhd')]);
  assert.equal(download.suggestedFilename(), 'child-dynamic.vhd');
  const path = join(tmp.dir, 'layer1.vhd');
  await download.saveAs(path);
  const want = sha(cliCat(CHILD, [BASE]));
  assert.notEqual(want, rawSha, 'the grandchild changes the disk');
  assert.equal(sha(execFileSync(cliPath(), ['cat', path], BIG)), want);
  assert.equal(sha(execFileSync('7zz', ['x', '-tVHD', '-so', path], BIG)), want);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('save as VHD: through the File System Access API, streamed to the file', async () => {
  for (const [kind, type] of [['dynamic', 'dynamic'], ['fixed', 'fixed']]) {
    const page = await env.newPage();
    await page.addInitScript(standIn, { delay: 0 });
    await page.goto(env.url);
    await page.waitForSelector('body[data-wasm="ready"]');
    await page.setInputFiles('#file-input', [BASE, CHILD, GRAND]);
    assert.equal(await settled(page), 'ready');
    await page.selectOption('#export-vhd-kind', kind);
    await page.click('#export-vhd');
    await page.waitForFunction(() => window.__saved?.base64 !== undefined);
    const saved = await page.evaluate(() => window.__saved);
    assert.equal(saved.aborted, undefined);
    const path = join(tmp.dir, `fsa-${kind}.vhd`);
    writeFileSync(path, Buffer.from(saved.base64, 'base64'));
    readsBack(path, type);
    assert.match(await page.textContent('#export-note'), new RegExp(`Saved grandchild-${kind}\\.vhd`));
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

/** A saved VHDX read by every reader: the chain's bytes, the type asked for, no warning. */
function readsBackVhdx(path, type) {
  assert.equal(sha(execFileSync(cliPath(), ['cat', path], BIG)), rawSha, `vhd-viewer cat ${path}`);
  assert.equal(sha(execFileSync('7zz', ['x', '-tVHDX', '-so', path], BIG)), rawSha, `7zz x ${path}`);
  assert.match(execFileSync('qemu-img', ['check', '-f', 'vhdx', path], { encoding: 'utf8' }), /No errors were found/);
  const raw = path + '.raw';
  execFileSync('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', path, raw]);
  assert.equal(sha(readFileSync(raw)), rawSha, `qemu-img convert ${path}`);
  const info = JSON.parse(execFileSync(cliPath(), ['info', '--json', path], { ...BIG, encoding: 'utf8' }));
  assert.equal(info.disk_type, type);
  assert.equal(info.format, 'vhdx');
  const findings = JSON.parse(execFileSync(cliPath(), ['check', '--json', path], { ...BIG, encoding: 'utf8' }));
  assert.deepEqual(findings.filter((f) => f.severity !== 'info'), [], `check ${path}`);
}

test('save as VHDX: a download and through the File System Access API, dynamic and fixed', async () => {
  for (const fsa of [false, true]) {
    for (const [kind, type] of [['vhdx', 'dynamic'], ['vhdx-fixed', 'fixed']]) {
      const page = await env.newPage();
      if (fsa) {
        await page.addInitScript(standIn, { delay: 0 });
      } else {
        await page.addInitScript(() => {
          delete Window.prototype.showSaveFilePicker;
          delete window.showSaveFilePicker;
        });
      }
      await page.goto(env.url);
      await page.waitForSelector('body[data-wasm="ready"]');
      await page.setInputFiles('#file-input', [GRAND, CHILD, BASE]);
      assert.equal(await settled(page), 'ready');
      await page.selectOption('#export-vhd-kind', kind);
      const path = join(tmp.dir, `${fsa ? 'fsa' : 'download'}-${kind}.vhdx`);
      if (fsa) {
        await page.click('#export-vhd');
        await page.waitForFunction(() => window.__saved?.base64 !== undefined);
        const saved = await page.evaluate(() => window.__saved);
        writeFileSync(path, Buffer.from(saved.base64, 'base64'));
      } else {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-vhd')]);
        assert.equal(download.suggestedFilename(), `grandchild-${type}.vhdx`);
        await download.saveAs(path);
      }
      readsBackVhdx(path, type);
      assert.match(await page.textContent('#export-note'), new RegExp(`grandchild-${type}\\.vhdx`));
      assert.deepEqual(page.errors, []);
      await page.close();
    }
  }
});

test('save as VHDX with 4096-byte sectors: refused for a disk whose MBR counts 512-byte sectors, as `convert --sector-size 4096` refuses it', async () => {
  const page = await env.newPage();
  await page.addInitScript(standIn, { delay: 0 });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [GRAND, CHILD, BASE]);
  assert.equal(await settled(page), 'ready');
  // The defaults, said and chosen: a VHD's 2 MiB blocks (no sector size), a VHDX's 32 MiB and the disk's own sectors.
  const choice = (sel) => page.$eval(sel, (s) => ({ value: s.value, text: s.selectedOptions[0]?.textContent, shown: !s.closest('label').hidden }));
  assert.deepEqual(await choice('#export-vhd-block-size'), { value: String(2 << 20), text: '2 MiB (default)', shown: true });
  assert.equal((await choice('#export-vhd-sector-size')).shown, false);
  await page.selectOption('#export-vhd-kind', 'vhdx');
  assert.deepEqual(await choice('#export-vhd-block-size'), { value: String(32 << 20), text: '32 MiB (default)', shown: true });
  assert.deepEqual(await choice('#export-vhd-sector-size'), { value: '512', text: '512 bytes (default)', shown: true });
  await page.selectOption('#export-vhd-sector-size', '4096');
  await page.click('#export-vhd');
  // The partition at sector 63 would be read at byte 63 x 4096: the core's refusal, nothing saved.
  await page.waitForFunction(() => /sector/.test(document.querySelector('#messages').textContent));
  const said = await page.textContent('#messages');
  assert.match(said, /the disk's MBR \(at byte 0x0\) counts in its 512-byte sectors, and a copy with 4096-byte sectors would read every partition at the wrong bytes \(the first, at byte 32256, at byte 258048\)/);
  assert.equal(await page.evaluate(() => window.__saved.base64), undefined);
  assert.deepEqual(page.errors, []);
  await page.close();
  const out = join(tmp.dir, 'refused-4k.vhdx');
  let code = 0;
  let stderr = '';
  try {
    execFileSync(cliPath(), ['convert', GRAND, out, '--to', 'vhdx', '--sector-size', '4096'], { stdio: 'pipe' });
  } catch (e) {
    code = e.status;
    stderr = String(e.stderr);
  }
  assert.equal(code, 2);
  assert.ok(stderr.includes(said.match(/the disk's MBR[^:]*/)[0]), stderr);
  assert.equal(existsSync(out), false);
});

test('save as VHDX with 1 MiB blocks and 4096-byte sectors: the file `convert --block-size 1M --sector-size 4096` writes', async () => {
  // The grandchild's disk as a fixed VHD with its MBR zeroed: no table counts its sectors.
  const bare = join(tmp.dir, 'no-table.vhd');
  execFileSync(cliPath(), ['convert', GRAND, bare, '--to', 'fixed']);
  const bytes = readFileSync(bare);
  bytes.fill(0, 0, 512);
  writeFileSync(bare, bytes);
  const bareSha = sha(execFileSync(cliPath(), ['cat', bare], BIG));
  const page = await env.newPage();
  await page.addInitScript(standIn, { delay: 0 });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [bare]);
  assert.equal(await settled(page), 'ready');
  await page.selectOption('#export-vhd-kind', 'vhdx');
  await page.selectOption('#export-vhd-block-size', String(1 << 20));
  await page.selectOption('#export-vhd-sector-size', '4096');
  await page.click('#export-vhd');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined);
  const path = join(tmp.dir, 'fsa-1m-4k.vhdx');
  writeFileSync(path, Buffer.from((await page.evaluate(() => window.__saved)).base64, 'base64'));
  assert.deepEqual(page.errors, []);
  await page.close();

  // qemu-img refuses 4096-byte logical sectors, and 7-Zip 26.02 such a VHDX whose size (here
  // 63.95 MiB) is not a whole number of MiB (the command line's file as well as this one).
  assert.equal(sha(execFileSync(cliPath(), ['cat', path], BIG)), bareSha, `vhd-viewer cat ${path}`);
  const findings = JSON.parse(execFileSync(cliPath(), ['check', '--json', path], { ...BIG, encoding: 'utf8' }));
  assert.deepEqual(findings.filter((f) => f.severity !== 'info'), [], `check ${path}`);
  const cli = join(tmp.dir, 'cli-1m-4k.vhdx');
  execFileSync(cliPath(), ['convert', bare, cli, '--to', 'vhdx', '--block-size', '1M', '--sector-size', '4096']);
  assert.equal(sha(execFileSync(cliPath(), ['cat', cli], BIG)), bareSha, `vhd-viewer cat ${cli}`);
  const info = (f) => JSON.parse(execFileSync(cliPath(), ['info', '--json', f], { ...BIG, encoding: 'utf8' }));
  const [ours, theirs] = [info(path), info(cli)];
  assert.equal(ours.block_size, 1 << 20);
  assert.equal(ours.logical_sector_size, 4096);
  // Every field but the path and the ids (new in each file); of the structures' fields (`fields`,
  // also grouped in `structures`), all but the ids and the headers' checksums over them.
  const ids = ['file', 'page83_data', 'file_write_guid', 'data_write_guid', 'structures', 'fields'];
  for (const k of Object.keys(theirs)) if (!ids.includes(k)) assert.deepEqual(ours[k], theirs[k], `info --json: ${k}`);
  const fields = (i) => i.fields.filter((f) => !['FileWriteGuid', 'DataWriteGuid', 'Page83Data'].includes(f.name) && !(f.name === 'Checksum' && f.offset < 0x30000));
  assert.deepEqual(fields(ours), fields(theirs), 'info --json: the fields');
  assert.equal(Object.keys(ours).length, Object.keys(theirs).length);
});

test('save as VHD: cancelling discards the file; a missing parent disables it', async () => {
  const page = await env.newPage();
  await page.addInitScript(standIn, { delay: 400 });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [BASE, CHILD, GRAND]);
  assert.equal(await settled(page), 'ready');
  await page.selectOption('#export-vhd-kind', 'fixed');
  await stopSave(page, () => page.click('#export-vhd'));
  await page.close();

  const alone = await openPage(env);
  await alone.setInputFiles('#file-input', [GRAND]);
  assert.equal(await settled(alone), 'ready');
  assert.ok(await alone.isDisabled('#export-vhd'));
  await alone.close();
});

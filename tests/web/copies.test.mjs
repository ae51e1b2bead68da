// "Compact…", "Repaired copy…" and "Relinked child…" (issue 13) in real headless Chromium: each
// copy the page saves, as a download and through the File System Access API (a stand-in file in
// memory), must be byte for byte the file the command line writes from the same input
// (`vhd-viewer compact`, `repair`, `relink`), and read back as the same disk by the command line,
// 7-Zip and qemu-img. The relinked child finds its parent at the new place through its own
// locators. Stopping discards the file; choices that do not apply are off and say why. A VHDX's
// copies are VHDX files (the sample child, whose log was not closed cleanly), as the command line's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync, mkdirSync, existsSync, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, cliPath, tempDir, SAMPLES, pageWith, stopSave, vv } from './helpers.mjs';

const BASE = join(SAMPLES, 'base.vhd');
const CHILD = join(SAMPLES, 'child.vhd');
const GRAND = join(SAMPLES, 'grandchild.vhd');
const sha = (b) => createHash('sha256').update(b).digest('hex');
const BIG = { maxBuffer: 1 << 30 };

let env;
let tmp;

before(async () => {
  for (const f of [BASE, CHILD, GRAND]) assert.ok(existsSync(f), `${f} is missing: run make samples`);
  tmp = tempDir();
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});


/** The disk's bytes as the command line and 7-Zip read them (through the locators: no --parent). */
function content(path) {
  const ours = sha(execFileSync(cliPath(), ['cat', path], BIG));
  assert.equal(sha(execFileSync('7zz', ['x', '-tVHD', '-so', path], BIG)), ours, `7zz x ${path}`);
  return ours;
}

/** Clicks `button` and saves the download as `name` in the temp folder. */
async function downloaded(page, button, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = join(tmp.dir, name);
  await download.saveAs(path);
  return { path, suggested: download.suggestedFilename() };
}

test('compact: the page writes the file vhd-viewer compact writes, for a child and for a dynamic disk', async () => {
  const page = await pageWith(env, [GRAND, CHILD, BASE]);
  // The grandchild, compared with its parents.
  let { path, suggested } = await downloaded(page, '#export-compact', 'grand-compact.vhd');
  assert.equal(suggested, 'grandchild-compact.vhd');
  const cli = join(tmp.dir, 'cli-grand-compact.vhd');
  const text = vv(['compact', GRAND, cli, '--parent', CHILD, '--parent', BASE]);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  // It reads as the grandchild did, over the same parents (placed beside it).
  const dir = join(tmp.dir, 'compacted');
  mkdirSync(dir);
  for (const f of [BASE, CHILD]) copyFileSync(f, join(dir, f.split('/').pop()));
  copyFileSync(path, join(dir, 'grandchild.vhd'));
  assert.equal(content(join(dir, 'grandchild.vhd')), content(GRAND));
  // The note says what the command line says of the blocks.
  const [, before, after] = /blocks: (\d+) allocated before, (\d+) now/.exec(text);
  assert.match(await page.textContent('#export-note'), new RegExp(`${before} blocks before, ${after} now`));
  // The base: a dynamic disk, chosen in the view.
  await page.selectOption('#export-layer', '2');
  assert.equal(await page.isDisabled('#export-relink'), true);
  assert.match(await page.textContent('#export-body'), /only a differencing disk has a parent/);
  ({ path, suggested } = await downloaded(page, '#export-compact', 'base-compact.vhd'));
  assert.equal(suggested, 'base-compact.vhd');
  vv(['compact', BASE, join(tmp.dir, 'cli-base-compact.vhd')]);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(join(tmp.dir, 'cli-base-compact.vhd'))));
  const raw = join(tmp.dir, 'base-compact.raw');
  execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', path, raw]);
  assert.equal(sha(readFileSync(raw)), content(BASE), 'qemu-img reads the compacted base as the base');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('repaired copy: a damaged child alone, its defects listed with offsets, as vhd-viewer repair writes it', async () => {
  // The child with its end footer's checksum broken and a left-over byte behind a clear bit.
  const damaged = join(tmp.dir, 'damaged.vhd');
  const bytes = readFileSync(CHILD);
  bytes[bytes.length - 512 + 64] ^= 0xff;
  writeFileSync(damaged, bytes);
  const info = JSON.parse(spawnSync(cliPath(), ['info', '--json', damaged], { encoding: 'utf8' }).stdout);
  assert.ok(info.findings.some((f) => f.code === 'footer-checksum'), 'the damage is seen');
  const page = await pageWith(env, [damaged]);
  // Its parent was not given: compacting and relinking need it, repairing does not.
  assert.equal(await page.isDisabled('#export-compact'), true);
  assert.equal(await page.isDisabled('#export-relink'), true);
  assert.equal(await page.isDisabled('#export-repair'), false);
  await page.check('#export-repair-scrub');
  const { path, suggested } = await downloaded(page, '#export-repair', 'repaired.vhd');
  assert.equal(suggested, 'damaged-repaired.vhd');
  const cli = join(tmp.dir, 'cli-repaired.vhd');
  vv(['repair', '--scrub', damaged, cli]);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  const check = JSON.parse(vv(['check', '--json', path, '--parent', BASE]));
  assert.deepEqual(check.filter((f) => f.severity !== 'info'), [], 'the copy has no defect left');
  // The actions, with their offsets in the damaged file.
  const rows = await page.$$eval('#export-details table.repair-actions tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const footerRow = rows.find((r) => r[2] === 'footer-checksum');
  assert.ok(footerRow, JSON.stringify(rows));
  assert.equal(footerRow[0], 'fixed');
  assert.equal(footerRow[1], `0x${(bytes.length - 512).toString(16)}`, 'the end footer, written from its copy');
  assert.match(await page.textContent('#export-note'), /Saving damaged-repaired\.vhd .*\d+ fixed, 0 with data lost, 0 not fixed/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('relinked child: the parent moved; the copy finds it through the paths typed, as vhd-viewer relink writes it', async () => {
  const moved = join(tmp.dir, 'moved');
  const vms = join(tmp.dir, 'vms');
  mkdirSync(moved);
  mkdirSync(vms);
  copyFileSync(BASE, join(moved, 'base.vhd'));
  const absolute = realpathSync(join(moved, 'base.vhd'));
  const page = await pageWith(env, [CHILD, BASE]);
  assert.equal(await page.inputValue('#export-relink-relative'), '.\\base.vhd');
  assert.equal(await page.isHidden('#export-relink-force'), true, 'the ids match: nothing to force');
  await page.fill('#export-relink-relative', '../moved/base.vhd');
  await page.fill('#export-relink-absolute', absolute);
  const { path, suggested } = await downloaded(page, '#export-relink', 'relinked.vhd');
  assert.equal(suggested, 'child-relinked.vhd');
  const placed = join(vms, 'child.vhd');
  copyFileSync(path, placed);
  // The command line, run where the copy is written, records the same paths: the same file.
  const cli = join(vms, 'cli-child.vhd');
  vv(['relink', CHILD, cli, '--parent', join(moved, 'base.vhd')]);
  assert.equal(sha(readFileSync(placed)), sha(readFileSync(cli)), 'the page and the command line write the same file');
  // Found through the relative locator (7-Zip on Linux does not follow `..\` paths: it is given
  // the copy made beside the parent below).
  const want = sha(execFileSync(cliPath(), ['cat', CHILD, '--parent', BASE], BIG));
  assert.equal(sha(execFileSync(cliPath(), ['cat', placed], BIG)), want);
  const info = JSON.parse(vv(['info', '--json', placed]));
  assert.deepEqual(info.chain.map((l) => l.parent_verified), [true, null]);
  assert.match(await page.textContent('#export-note'), /keeps the child's own unique id/);
  // The default: the parent beside the copy, found by us and by 7-Zip.
  await page.fill('#export-relink-relative', '.\\base.vhd');
  await page.fill('#export-relink-absolute', '');
  const beside = await downloaded(page, '#export-relink', 'beside.vhd');
  copyFileSync(beside.path, join(moved, 'child.vhd'));
  assert.equal(content(join(moved, 'child.vhd')), want);
  // A path that is not relative is refused, with the reason.
  await page.fill('#export-relink-relative', 'C:\\VMs\\base.vhd');
  await page.click('#export-relink');
  await page.waitForFunction(() => /not a relative path/.test(document.querySelector('#messages').textContent));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('relinked child: without its parent (or with a disk of another id) there is nothing to link', async () => {
  // Another disk of the same size: not the parent (its unique id differs), so the child stands alone.
  const other = join(tmp.dir, 'other.vhd');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', other, '64M']);
  const page = await pageWith(env, [CHILD, other]);
  assert.equal(await page.isDisabled('#export-relink'), true);
  assert.match(await page.textContent('#export-body'), /The parent is needed.*vhd-viewer relink --force/);
  // The command line links it only with --force, and says so loudly.
  vv(['relink', CHILD, join(tmp.dir, 'forced.vhd'), '--parent', other], 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('compact through the File System Access API: streamed into the file; stopping discards it', async () => {
  let page = await pageWith(env, [GRAND, CHILD, BASE], { fsa: true });
  await page.click('#export-compact');
  await page.waitForFunction(() => window.__saved?.base64 !== undefined);
  const saved = await page.evaluate(() => window.__saved);
  assert.equal(saved.aborted, undefined);
  const cli = join(tmp.dir, 'cli-grand-compact-fsa.vhd');
  vv(['compact', GRAND, cli, '--parent', CHILD, '--parent', BASE]);
  assert.equal(sha(Buffer.from(saved.base64, 'base64')), sha(readFileSync(cli)));
  assert.match(await page.textContent('#export-note'), /^Saved grandchild-compact\.vhd/);
  await page.close();

  page = await pageWith(env, [GRAND, CHILD, BASE], { fsa: true, delay: 300 });
  await page.selectOption('#export-layer', '1');
  await stopSave(page, () => page.click('#export-relink'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('VHDX: Compact…, Repaired copy… and Relinked child… save .vhdx files, byte for byte what the command line writes', async () => {
  const VBASE = join(SAMPLES, 'base.vhdx');
  const VCHILD = join(SAMPLES, 'child.vhdx');
  const want = sha(execFileSync(cliPath(), ['cat', VCHILD, '--parent', VBASE], BIG));
  let page = await pageWith(env, [VCHILD, VBASE]);
  // Compact: a VHDX's copy is a VHDX (its log, not closed cleanly, replayed into the copy).
  let { path, suggested } = await downloaded(page, '#export-compact', 'vchild-compact.vhdx');
  assert.equal(suggested, 'child-compact.vhdx');
  const cliCompact = join(tmp.dir, 'cli-vchild-compact.vhdx');
  vv(['compact', VCHILD, cliCompact, '--parent', VBASE]);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cliCompact)), 'the page and the command line write the same VHDX');
  assert.equal(sha(execFileSync(cliPath(), ['cat', path, '--parent', VBASE], BIG)), want);
  // Relink: the parent moved; the copy names it where it went.
  const moved = join(tmp.dir, 'vmoved');
  const vms = join(tmp.dir, 'vvms');
  mkdirSync(moved);
  mkdirSync(vms);
  copyFileSync(VBASE, join(moved, 'base.vhdx'));
  const absolute = realpathSync(join(moved, 'base.vhdx'));
  assert.equal(await page.inputValue('#export-relink-relative'), '.\\base.vhdx');
  await page.fill('#export-relink-relative', '../vmoved/base.vhdx');
  await page.fill('#export-relink-absolute', absolute);
  ({ path, suggested } = await downloaded(page, '#export-relink', 'vrelinked.vhdx'));
  assert.equal(suggested, 'child-relinked.vhdx');
  const placed = join(vms, 'child.vhdx');
  copyFileSync(path, placed);
  const cliRelinked = join(vms, 'cli-child.vhdx');
  vv(['relink', VCHILD, cliRelinked, '--parent', join(moved, 'base.vhdx')]);
  assert.equal(sha(readFileSync(placed)), sha(readFileSync(cliRelinked)), 'the page and the command line write the same VHDX');
  assert.equal(sha(execFileSync(cliPath(), ['cat', placed], BIG)), want, 'the copy finds its parent where it moved');
  assert.deepEqual(page.errors, []);
  await page.close();
  // Repair: the child alone.
  page = await pageWith(env, [VCHILD]);
  assert.equal(await page.isDisabled('#export-repair'), false);
  ({ path, suggested } = await downloaded(page, '#export-repair', 'vrepaired.vhdx'));
  assert.equal(suggested, 'child-repaired.vhdx');
  const cliRepaired = join(tmp.dir, 'cli-vchild-repaired.vhdx');
  vv(['repair', VCHILD, cliRepaired]);
  assert.equal(sha(readFileSync(path)), sha(readFileSync(cliRepaired)), 'the page and the command line write the same VHDX');
  assert.equal(sha(execFileSync(cliPath(), ['cat', path, '--parent', VBASE], BIG)), want);
  assert.deepEqual(page.errors, []);
  await page.close();
});

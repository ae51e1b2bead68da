// A disk of 4096-byte logical sectors on the page (Chromium): a GPT disk with one ext4 partition
// at 1 MiB made by the real tools (fdisk -b 4096, mkfs.ext4 -E offset -d), wrapped as a VHDX of
// 4096-byte sectors by the project's writer. Dropped on the page, the files view places the
// partition at byte 1 MiB (sector 256 of 4096 bytes), 62 MiB long, lists the files `ls` lists,
// shows it on the disk at that sector, and saves a file with the bytes `vhd-viewer get` gives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, openPage, settled, drop, cliPath, ROOT } from './helpers.mjs';

const SS = 4096;
const MIB = 1 << 20;

const SCRIPT = `
set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC
mkdir -p tree/sub
printf 'hello\\n' > tree/hello.txt
head -c 300000 /dev/urandom > tree/big.bin
head -c 70000 /dev/urandom > tree/sub/medium.bin
truncate -s 64M disk.raw
printf 'g\\nn\\n1\\n256\\n16127\\nt\\n20\\nw\\n' | fdisk -b ${SS} disk.raw >/dev/null
mkfs.ext4 -q -F -b 4096 -L PAGE4K -d tree -E offset=${MIB} disk.raw 15872
"$1" disk.raw gpt-4k.vhdx --sector ${SS}
`;

/** The fixture folder (built once per version of the script): gpt-4k.vhdx and tree/. */
function fixture() {
  const dir = join(ROOT, 'tests/work/web-sectors', createHash('sha256').update(SCRIPT).digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'gpt-4k.vhdx'))) return dir;
  execFileSync('cargo', ['build', '--quiet', '--example', 'vhdx_from_raw'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = `${dir}.building${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'make.sh'), SCRIPT);
  execFileSync('bash', ['make.sh', join(ROOT, 'target/debug/examples/vhdx_from_raw')], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(join(tmp, 'disk.raw'));
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(join(dir, 'gpt-4k.vhdx'))) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

let env;
let dir;
before(async () => {
  dir = fixture();
  env = await start();
});
after(async () => env?.close());

const cli = (args) => execFileSync(cliPath(), args, { maxBuffer: 1 << 30 });

test('a GPT disk of 4096-byte sectors: the partition at 1 MiB, its files listed, a file saved equals get', async () => {
  const vhdx = join(dir, 'gpt-4k.vhdx');
  const table = JSON.parse(cli(['parts', '--json', vhdx]).toString());
  assert.equal(table.sector_size, SS);
  assert.deepEqual(table.findings, []);
  const page = await openPage(env);
  try {
    await drop(page, [vhdx]);
    assert.equal(await settled(page), 'ready');
    await page.waitForFunction(() => document.querySelector('#files-view')?.dataset.state === 'ready' && document.querySelectorAll('#files-view tbody tr[data-path]').length > 0);

    // The table, in the disk's sectors: no false findings, the partition where fdisk put it.
    assert.match(await page.textContent('#parts-picture [data-field="scheme"]'), /A GPT partition table .* with 1 partition\./);
    const seg = await page.$eval('#parts-picture [data-action="partition"][data-partition="1"]', (b) => ({ title: b.title, text: b.textContent, left: b.style.left, width: b.style.width }));
    assert.match(seg.title, /62 MiB from sector 256\b/);
    assert.match(seg.text, /PAGE4K/);
    // Drawn to scale: 1 MiB of 64 MiB from the left, 62 MiB wide.
    assert.equal(parseFloat(seg.left).toFixed(4), ((100 * MIB) / (64 * MIB)).toFixed(4));
    assert.equal(parseFloat(seg.width).toFixed(4), ((100 * 62) / 64).toFixed(4));
    const card = await page.textContent('#files-view [data-field="partitions"] li[data-partition="1"]');
    assert.match(card, /62 MiB from sector 256 of 4096 bytes \(byte 0x100000\)/);
    assert.match(card, /4 KiB aligned/);

    // The root listing: what `ls` lists.
    const rows = await page.$$eval('#files-view tbody tr[data-path]', (r) => r.map((x) => x.dataset.path).sort());
    const want = cli(['ls', vhdx, '/', '--json', '--partition', '1']).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l).path).sort();
    assert.deepEqual(rows, want);
    for (const p of ['/hello.txt', '/big.bin', '/sub']) assert.ok(rows.includes(p), `${p} in ${rows}`);

    // Shown on the disk: the hex view at the partition's first sector, 256 of 4096 bytes.
    await page.click('#files-view li[data-partition="1"] [data-action="place"]');
    await page.waitForFunction(() => document.querySelector('#hex-source strong')?.textContent === 'Virtual sector 256');
    assert.equal(Number(await page.$eval('#hex-source', (n) => n.dataset.offset)), MIB);

    // Saved: the bytes written, and those of `get`.
    await page.click('#files-view tr[data-path="/big.bin"] [data-action="open"]');
    await page.waitForSelector('#files-view [data-field="panel"]:not([hidden]) [data-action="save"]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#files-view [data-field="panel"] [data-action="save"]')]);
    assert.equal(download.suggestedFilename(), 'big.bin');
    const saved = readFileSync(await download.path());
    assert.ok(saved.equals(cli(['get', vhdx, '/big.bin'])), `${saved.length} bytes saved differ from get's`);
    assert.ok(saved.equals(readFileSync(join(dir, 'tree/big.bin'))), 'the bytes written');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

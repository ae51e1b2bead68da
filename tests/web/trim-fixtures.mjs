// Disks whose file systems freed most of what they once held, the freed data still on the disk
// (not zeros), for the page's "Compact…" with the free space given back (`compact --trim`):
// - the three kinds of issue 22 (ext4 on the whole disk, FAT32 in GPT, NTFS in MBR where FUSE
//   is), made by scripts/make-trim-disks.sh at an eighth of the sizes, as dynamic VHD and
//   VHDX (qemu-img);
// - the large one: a 256 GiB dynamic VHDX (2 MiB blocks) whose ext4 holds TRIM_BIG_KEPT_MIB MiB
//   of files (1024 by default) and had half as much more, deleted: a sparse raw image,
//   mkfs.ext4 -d, debugfs rm (which frees the blocks and leaves their bytes), qemu-img convert.
// Each is made once per version of what makes it, under tests/work/web-trim/.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cliPath } from './helpers.mjs';

const MIB = 1 << 20;
const SCRIPT = join(ROOT, 'scripts/make-trim-disks.sh');

/** Makes `dir` by `make(tmp)` into a temporary folder renamed into place (once: another test may make it first). */
function once(dir, done, make) {
  if (existsSync(join(dir, done))) return;
  const tmp = `${dir}.building${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  make(tmp);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(join(dir, done))) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

const version = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
};

/**
 * The disks of scripts/make-trim-disks.sh at an eighth of the sizes: `{ dir, ext4,
 * fat32, ntfs }`, each `{ vhd, vhdx, kept, deleted, chains }` (`ntfs` null without FUSE), where
 * `chains` is `{ vhd: [child, base], vhdx: [child, base] }`: a differencing child (a kept file
 * deleted, files added, one added then deleted) over its base, written by the project's writers.
 */
export function trimDisks() {
  const dir = join(ROOT, 'tests/work/web-trim', `small-${version(readFileSync(SCRIPT), 'with chains')}`);
  once(dir, 'done', (tmp) => {
    execFileSync('cargo', ['build', '--quiet', '--example', 'vhd_from_raw', '--example', 'vhdx_from_raw'], { cwd: ROOT, stdio: 'inherit' });
    const example = (n) => join(ROOT, 'target/debug/examples', n);
    execFileSync('bash', [SCRIPT, '8', tmp, example('vhd_from_raw'), example('vhdx_from_raw')], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
  const kind = (k) => {
    if (!existsSync(join(dir, `${k}.vhdx`))) return null;
    const txt = Object.fromEntries(readFileSync(join(dir, `${k}.txt`), 'utf8').trim().split('\n').map((l) => l.split(' ')));
    const chain = (f) => [join(dir, `${k}-child.${f}`), join(dir, `${k}-base.${f}`)];
    return { vhd: join(dir, `${k}.vhd`), vhdx: join(dir, `${k}.vhdx`), kept: Number(txt.kept), deleted: Number(txt.deleted), chains: { vhd: chain('vhd'), vhdx: chain('vhdx') } };
  };
  return { dir, ext4: kind('ext4'), fat32: kind('fat32'), ntfs: kind('ntfs') };
}

const BIG_RECIPE = 'four kept files, one deleted with debugfs; 256G; mkfs.ext4 -b 4096 lazy_itable_init=1,nodiscard; qemu-img vhdx block_size=2M';

/** The 256 GiB dynamic VHDX with ext4 on the whole disk: `{ vhdx, kept, deleted }`. */
export function bigDisk() {
  const kept = Number(process.env.TRIM_BIG_KEPT_MIB || 1024) * MIB;
  // Named by how it is made (change BIG_RECIPE with the steps below), so that no other change here makes it again.
  const dir = join(ROOT, 'tests/work/web-trim', `big-${version(BIG_RECIPE, String(kept))}`);
  const deleted = kept / 2;
  once(dir, 'big.vhdx', (tmp) => {
    const run = (cmd, args) => execFileSync(cmd, args, { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    mkdirSync(join(tmp, 'src/gone'), { recursive: true });
    // The kept data in four files, so that it is not all one run; random, so that no block of it is zeros.
    for (let i = 0; i < 4; i++) run('sh', ['-c', `head -c ${kept / 4} /dev/urandom > src/kept-${i}.bin`]);
    run('sh', ['-c', `head -c ${deleted} /dev/urandom > src/gone/deleted.bin`]);
    run('truncate', ['-s', '256G', 'big.raw']);
    run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-E', 'lazy_itable_init=1,nodiscard', '-d', 'src', 'big.raw']);
    run('debugfs', ['-w', '-R', 'rm /gone/deleted.bin', 'big.raw']);
    run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic,block_size=2M', 'big.raw', 'big.vhdx']);
    rmSync(join(tmp, 'src'), { recursive: true });
    rmSync(join(tmp, 'big.raw'));
    writeFileSync(join(tmp, 'sizes.json'), JSON.stringify({ kept, deleted }));
  });
  return { vhdx: join(dir, 'big.vhdx'), kept, deleted };
}

/** `vhd-viewer compact --trim --json IN OUT [--parent P]...` (OUT replaced): `{ report, volumes }`, as the page's copy report has them. */
export function cliTrim(input, out, parents = []) {
  rmSync(out, { force: true });
  const args = ['compact', '--trim', '--json', input, out, ...parents.flatMap((p) => ['--parent', p])];
  const r = spawnSync(cliPath(), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `vhd-viewer ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

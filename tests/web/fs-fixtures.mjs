// Shared by the files view's tests: VHDs holding real file systems (made by mkfs.vfat + mtools,
// mkntfs + ntfs-3g, mkfs.ext4 -d; tests/web/fixtures/make-fs-vhds.sh), the Windows 10 sample,
// the Linux and Windows disks of `inspect` (make-linux-vhds.sh, make-windows-vhds.sh), and the
// core opened on them in Node with synchronous reads (fs.readSync), as a Worker would.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, readSync, fstatSync, closeSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { ROOT, cliPath } from './helpers.mjs';

/** The fixture folder (built once per version of the script): base.vhd, child.vhd, win10.vhd. */
export function fsVhds() {
  const dir = scriptFolder('make-fs-vhds.sh', 'web-files', 'win10.vhd', (tmp) => {
    writeFileSync(join(tmp, 'win10.vhd'), execFileSync('xz', ['-dc', join(ROOT, 'tests/data/win10-dynamic-2G.vhd.xz')], { maxBuffer: 1 << 30 }));
  });
  return paths(dir);
}

/**
 * The disks with a system on them, made by `tests/web/fixtures/make-{linux,windows}-vhds.sh`
 * (the scripts of `inspect`'s Rust tests): `{ dir, parent, child }` (linux.vhd and
 * linux-child.vhd, or windows.vhd and windows-child.vhd).
 * @param {'linux' | 'windows'} os
 */
export function systemVhds(os) {
  const dir = scriptFolder(`make-${os}-vhds.sh`, `web-${os}`, `${os}-child.vhd`);
  return { dir, parent: join(dir, `${os}.vhd`), child: join(dir, `${os}-child.vhd`) };
}

/** The disk of tests/web/fixtures/make-timeline-vhd.sh (ext4, 50,000 files: 200,000 times), made once. */
export function timelineVhd() {
  return join(scriptFolder('make-timeline-vhd.sh', 'web-timeline', 'many.vhd'), 'many.vhd');
}

/**
 * The XFS and exFAT disks of `tests/xfs.rs` and `tests/exfat.rs` (make-xfs-vhds.sh,
 * make-exfat-vhds.sh, in the same folders): `{ xfs, exfat }`. `xfs` is `{ dir, vhd, vhdx, tree, deleted }`: the GPT
 * disk as a VHD and as qemu-img's VHDX, tree.txt's "path sha256" lines, and whether the kernel
 * mounted it to delete files (else `deleted` is false). `exfat` is `{ dir, vhd, manifest,
 * deletedSha }` (the driver's "sha256  size  /path" lines), or null where the machine refused
 * FUSE (its reason printed).
 */
export function linuxDataVhds() {
  const x = rustFixture('xfs', 'disks', 'make-xfs-vhds.sh', ['vhd_from_raw'], 'v4.vhd', ['m', 'src']);
  const e = rustFixture('exfat', 'data', 'make-exfat-vhds.sh', ['vhd_from_raw', 'vhdx_from_raw'], 'done', ['m']);
  const skip = join(e, 'SKIP');
  if (existsSync(skip)) console.log(`exFAT skipped: ${readFileSync(skip, 'utf8').trim()}`);
  return {
    xfs: { dir: x, vhd: join(x, 'gpt.vhd'), vhdx: join(x, 'gpt.vhdx'), tree: readFileSync(join(x, 'tree.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')), deleted: !existsSync(join(x, 'nomount')) },
    exfat: existsSync(skip) ? null : {
      dir: e,
      vhd: join(e, 'exfat.vhd'),
      manifest: readFileSync(join(e, 'manifest.txt'), 'utf8').trim().split('\n').map((l) => l.split('  ')),
      deletedSha: readFileSync(join(e, 'deleted.txt'), 'utf8').trim(),
    },
  };
}

/**
 * The folder the Rust tests' `script_image` (tests/common) makes from `tests/web/fixtures/FILE`
 * run with the `examples`' binaries as its arguments, under tests/work/SUB/NAME-KEY: the same key
 * (FNV-1a of the script as it runs), so that the Rust and the web tests make it once between them.
 * @param {string} sub
 * @param {string} name
 * @param {string} file
 * @param {string[]} examples
 * @param {string} done
 * @param {string[]} junk folders removed once made
 */
function rustFixture(sub, name, file, examples, done, junk) {
  const bins = examples.map((x) => join(ROOT, 'target/debug/examples', x));
  const script = `set -- ${bins.join(' ')}\n${readFileSync(join(ROOT, 'tests/web/fixtures', file), 'utf8')}`;
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(`${script}[] v1`)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  const dir = join(ROOT, 'tests/work', sub, `${name}-${h.toString(16).padStart(16, '0')}`);
  if (existsSync(join(dir, done)) || existsSync(join(dir, 'SKIP'))) return dir;
  execFileSync('cargo', ['build', '--quiet', ...examples.flatMap((x) => ['--example', x])], { cwd: ROOT, stdio: 'inherit' });
  const tmp = `${dir}.building${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'make.sh'), script);
  execFileSync('bash', ['make.sh'], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
  for (const j of junk) rmSync(join(tmp, j), { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(join(dir, done)) && !existsSync(join(dir, 'SKIP'))) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The LVM2 disks of `tests/lvm.rs` (make-lvm-vhds.sh: lvm2's own tools on loop devices, in the
 * same folder): `{ dir, skipped }`, `skipped` the reason where the machine refuses
 * (no root, no loop devices), else lvm.vhd, child.vhd, rhel.vhd and rhel.vhdx in `dir`.
 */
export function lvmVhds() {
  const dir = rustFixture('lvm', 'lvm', 'make-lvm-vhds.sh', ['vhd_from_raw'], 'done', ['lvm-etc']);
  const why = join(dir, 'skipped');
  return { dir, skipped: existsSync(why) ? readFileSync(why, 'utf8').trim() : null };
}

/**
 * The folder `tests/web/fixtures/SCRIPT` fills (run with the vhd_from_raw example's binary), made
 * once per version of the script under tests/work/SUB/: `done` is a file it holds once made;
 * `more(folder)` adds files of the tests' own before the folder appears whole, by a rename.
 * @param {string} script
 * @param {string} sub
 * @param {string} done
 * @param {(folder: string) => void} [more]
 */
function scriptFolder(script, sub, done, more) {
  const path = join(ROOT, 'tests/web/fixtures', script);
  const dir = join(ROOT, 'tests/work', sub, createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16));
  if (existsSync(join(dir, done))) return dir;
  execFileSync('cargo', ['build', '--quiet', '--example', 'vhd_from_raw'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = `${dir}.building${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('bash', [path, join(ROOT, 'target/debug/examples/vhd_from_raw')], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
  more?.(tmp);
  // A test running beside this one may have made it first.
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(join(dir, done))) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

function paths(dir) {
  // Without FUSE, the NTFS volume holds only a few files copied in with ntfscp (no streams,
  // sparse or compressed files): the tests of those skip.
  return { dir, base: join(dir, 'base.vhd'), child: join(dir, 'child.vhd'), win10: join(dir, 'win10.vhd'), ntfsFull: existsSync(join(dir, 'ntfs-full')) };
}

/** The core's bindings, instantiated from the built .wasm. */
export async function coreBindings() {
  const bindings = await import('../../www/pkg/vhd_viewer.js');
  bindings.initSync({ module: readFileSync(join(ROOT, 'www/pkg/vhd_viewer_bg.wasm')) });
  return bindings;
}

/**
 * Opens the chain `files` (top first) with the core, every read synchronous (fs.readSync).
 * Returns { disk, read(layer, offset, len), close(), reads }.
 */
export function openChain(b, files) {
  const fds = files.map((f) => openSync(f, 'r'));
  const stats = { reads: 0, bytes: 0 };
  const readFd = (fd, offset, len) => {
    const buf = Buffer.alloc(len);
    let n = 0;
    while (n < len) {
      const k = readSync(fd, buf, n, len - n, offset + n);
      if (k === 0) break;
      n += k;
    }
    stats.reads++;
    stats.bytes += n;
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  };
  const set = new b.WasmFiles();
  for (const fd of fds) {
    const opener = new b.WasmOpener(fstatSync(fd).size);
    for (let need = opener.poll(); need; need = opener.poll()) {
      for (const r of need) opener.provide(r.offset, readFd(fd, r.offset, r.len));
    }
    set.add(opener.finish());
  }
  const disk = set.disk(Uint32Array.from(files.map((_, i) => i)), false);
  return {
    disk,
    stats,
    /** The read function of the disk as of layer `k` (its layer 0 is layer k of the chain). */
    reader: (k = 0) => (layer, offset, len) => readFd(fds[layer + k], offset, len),
    close: () => fds.forEach((fd) => closeSync(fd)),
  };
}

/** Runs the command line in `file`'s folder; stdout as a Buffer. */
export function cli(args, file) {
  return execFileSync(cliPath(), args.map((a) => (a === file ? basename(file) : a)), { cwd: dirname(file), maxBuffer: 1 << 30 });
}

/**
 * `vhd-viewer search DISK ARGS... --json`'s hits (none when it exits 1, no hit), each line parsed.
 * @param {string} disk
 * @param {string[]} args
 */
export function cliSearch(disk, args) {
  let out;
  try {
    out = cli(['search', disk, '--json', ...args], disk);
  } catch (e) {
    if (e.status !== 1) throw e;
    out = e.stdout;
  }
  return out.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

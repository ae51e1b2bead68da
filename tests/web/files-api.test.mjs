// The files view's binding, WasmVolumes, on the real WebAssembly in Node with synchronous reads
// (fs.readSync, as a Worker's FileReaderSync): its partitions, listings, bytes, stat and owner
// compared with the command line's `parts --json`, `ls --json`, `get`, `cat` and `owner --json`
// on the same files: FAT16, NTFS and ext4 made by the real tools, a differencing chain read
// through and as of its parent, and the Windows 10 sample (GPT: FAT32, NTFS, FAT16).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../www/js/common/format.js';
import { fsVhds, coreBindings, openChain, cli } from './fs-fixtures.mjs';

const vhds = fsVhds();
const NTFS_FULL = { skip: vhds.ntfsFull ? false : 'the NTFS volume was made without FUSE (ntfs-3g): no streams, sparse or compressed files' };
let b;
const opened = [];
before(async () => {
  b = await coreBindings();
});
after(() => opened.forEach((c) => c.close()));

/** WasmVolumes on `files` (top first), as of layer `k`. */
function volumes(files, k = 0) {
  const c = openChain(b, files);
  opened.push(c);
  const disk = k ? c.disk.asOfLayer(k) : c.disk;
  return { vols: new b.WasmVolumes(disk, c.reader(k)), chain: c };
}

/** Every entry under `dir`, as `ls -r` walks (each directory's entries right after it). */
function walk(vols, part, dir, deleted, seen = new Set()) {
  const out = [];
  for (const e of normalize(vols.list(part, dir, deleted))) {
    out.push(e);
    if (e.type === 'dir' && !e.deleted && !seen.has(e.id)) {
      seen.add(e.id);
      out.push(...walk(vols, part, e.path, deleted, seen));
    }
  }
  return out;
}

/** `ls / -r --json` lines of one partition. */
function cliLs(file, part, extra = []) {
  const text = cli(['ls', file, '/', '-r', '--json', '--partition', String(part), ...extra], file).toString('utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** A file's bytes read window by window. */
function readAll(vols, part, path, stream, deleted, size, window = 65536) {
  const pieces = [];
  for (let at = 0; ; at += window) {
    const piece = vols.read(part, path, stream, deleted, at, window);
    pieces.push(piece);
    if (piece.length < window) break;
  }
  const all = Buffer.concat(pieces);
  assert.equal(all.length, size, `${path}: ${all.length} bytes read, the size is ${size}`);
  return all;
}

test('partitions() is `parts --json`: MBR with FAT16, NTFS and ext4; the Windows 10 GPT sample', () => {
  for (const file of [vhds.base, vhds.child, vhds.win10]) {
    const { vols } = volumes(file === vhds.child ? [vhds.child, vhds.base] : [file]);
    const mine = normalize(vols.partitions());
    const theirs = JSON.parse(cli(['parts', '--json', file], file).toString('utf8'));
    assert.deepEqual(mine, theirs, file);
  }
  const { vols } = volumes([vhds.base]);
  const t = normalize(vols.partitions());
  assert.deepEqual(t.partitions.map((p) => [p.index, p.filesystem, p.label, p.aligned_4k]), [
    [1, 'fat16', 'FAT16VOL', true],
    [2, 'ntfs', 'NTFSVOL', true],
    [3, 'ext4', 'EXT4VOL', true],
  ]);
});

test('list() walks every directory as `ls -r --json` lists it, deleted entries too, and read() gives the bytes of `get`', () => {
  const { vols } = volumes([vhds.base]);
  for (const part of [1, 2, 3]) {
    for (const deleted of [false, true]) {
      const mine = walk(vols, part, '/', deleted);
      const theirs = cliLs(vhds.base, part, deleted ? ['--deleted'] : []);
      assert.deepEqual(mine, theirs, `partition ${part}${deleted ? ' with deleted entries' : ''}`);
      assert.ok(mine.length > 10, `partition ${part}: ${mine.length} entries`);
    }
    const files = walk(vols, part, '/', false).filter((e) => e.type === 'file' && !e.path.startsWith('/$') && !/\/Many\/.*[02-9]\.txt$/.test(e.path));
    for (const e of files) {
      const mine = readAll(vols, part, e.path, undefined, false, e.size, e.size > 200000 ? 1 << 20 : 4096);
      const theirs = cli(['get', vhds.base, e.path, '--partition', String(part)], vhds.base);
      assert.ok(mine.equals(theirs), `partition ${part} ${e.path}: the bytes differ from get's`);
    }
  }
  // The FAT deleted files are marked and read back as their first cluster's bytes (the caveat).
  const fat = walk(vols, 1, '/', true);
  const gone = fat.find((e) => e.path === '/Deleted long name.txt');
  assert.ok(gone?.deleted, 'a deleted long name is recovered');
});

test('read() windows: any offset and length, short at the end, empty past it; NTFS streams and compressed files; the window is bounded', NTFS_FULL, () => {
  const { vols } = volumes([vhds.base]);
  const big = cli(['get', vhds.base, '/big.bin', '--partition', '2'], vhds.base);
  assert.ok(Buffer.from(vols.read(2, '/big.bin', undefined, false, 1000, 5000)).equals(big.subarray(1000, 6000)));
  assert.ok(Buffer.from(vols.read(2, '/big.bin', undefined, false, big.length - 10, 100)).equals(big.subarray(big.length - 10)));
  assert.equal(vols.read(2, '/big.bin', undefined, false, big.length + 10, 100).length, 0);
  // Reading it whole in odd windows.
  assert.ok(readAll(vols, 2, '/big.bin', undefined, false, big.length, 777777).equals(big));
  const secret = cli(['get', vhds.base, '/with stream.txt:secret', '--partition', '2'], vhds.base);
  assert.equal(Buffer.from(vols.read(2, '/with stream.txt', 'secret', false, 0, 1 << 20)).toString(), secret.toString());
  assert.equal(secret.toString(), 'hidden data\n');
  const sparse = cli(['get', vhds.base, '/sparse.bin', '--partition', '2'], vhds.base);
  assert.ok(readAll(vols, 2, '/sparse.bin', undefined, false, sparse.length, 1 << 20).equals(sparse));
  // A compressed file, in windows that start and end inside compression units.
  const packed = cli(['get', vhds.base, '/Packed/text.txt', '--partition', '2'], vhds.base);
  assert.ok(packed.length > 900000);
  for (const w of [4096, 65536, 100000, 777777]) assert.ok(readAll(vols, 2, '/Packed/text.txt', undefined, false, packed.length, w).equals(packed), `windows of ${w}`);
  assert.ok(Buffer.from(vols.read(2, '/Packed/text.txt', undefined, false, 70000, 200000)).equals(packed.subarray(70000, 270000)));
  const ps = normalize(vols.stat(2, '/Packed/text.txt', false));
  assert.equal(ps.storage, 'compressed');
  assert.equal(ps.compression_unit, 65536);
  assert.ok(ps.attributes.includes('compressed'));
  assert.ok(ps.runs.reduce((n, r) => n + (r.sparse ? 0 : r.len), 0) < packed.length, 'stored in fewer clusters than its size');
  assert.throws(() => vols.read(2, '/big.bin', undefined, false, 0, 2 ** 30), (e) => e.code === 'api-misuse');
  assert.throws(() => vols.read(2, '/Docs', undefined, false, 0, 10), (e) => e.code === 'is-a-directory');
});

test('stat(): the entry, its runs as virtual-disk byte ranges that hold its bytes, streams, sparse runs', NTFS_FULL, () => {
  const { vols } = volumes([vhds.base]);
  const s = normalize(vols.stat(2, '/fragmented.bin', false));
  const line = cliLs(vhds.base, 2).find((e) => e.path === '/fragmented.bin');
  for (const k of ['partition', 'path', 'type', 'size', 'modified', 'deleted', 'id', 'attributes']) assert.deepEqual(s[k], line[k], k);
  assert.equal(s.name, 'fragmented.bin');
  // Its times: NTFS keeps four; modified is the listing's.
  assert.equal(s.times.modified, line.modified);
  for (const k of ['created', 'accessed', 'changed']) assert.match(s.times[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, k);
  const e4 = normalize(vols.stat(3, '/big.bin', false));
  assert.equal(e4.times.modified, cliLs(vhds.base, 3).find((e) => e.path === '/big.bin').modified);
  assert.ok(e4.times.created && e4.times.accessed && e4.times.changed, JSON.stringify(e4.times));
  const fat = normalize(vols.stat(1, '/a.bin', false));
  assert.equal(fat.times.changed, null, 'FAT keeps no change time');
  assert.match(fat.times.accessed ?? '', /T00:00:00Z$/, 'FAT keeps the access day');
  assert.equal(s.storage, 'runs');
  assert.equal(s.runs.reduce((n, r) => n + r.len, 0), s.size);
  const bytes = cli(['get', vhds.base, '/fragmented.bin', '--partition', '2'], vhds.base);
  for (const r of s.runs) {
    assert.equal(r.sparse, false);
    const onDisk = cli(['cat', vhds.base, '--offset', String(r.disk_offset), '--length', String(r.len)], vhds.base);
    assert.ok(onDisk.equals(bytes.subarray(r.file_offset, r.file_offset + r.len)), `run at file byte ${r.file_offset}`);
  }
  assert.ok(s.entry_disk_offset >= 43008 * 512, 'the MFT record is on the NTFS partition');
  const ws = normalize(vols.stat(2, '/with stream.txt', false));
  assert.deepEqual(ws.streams, [{ name: 'secret', size: 12 }]);
  // 100 streams, most in extension records: all listed with ls --json's sizes, each readable.
  const ms = normalize(vols.stat(2, '/many streams.txt', false));
  const msLine = cliLs(vhds.base, 2).find((e) => e.path === '/many streams.txt');
  assert.equal(ms.streams.length, 100);
  assert.deepEqual(ms.streams, msLine.streams);
  assert.deepEqual(normalize(vols.list(2, '/', false)).find((e) => e.path === '/many streams.txt').streams, msLine.streams);
  for (const k of [1, 50, 99, 100]) {
    const want = cli(['get', vhds.base, `/many streams.txt:s${k}`, '--partition', '2'], vhds.base);
    assert.equal(Buffer.from(vols.read(2, '/many streams.txt', `s${k}`, false, 0, 4096)).toString(), want.toString(), `s${k}`);
    assert.equal(ms.streams.find((x) => x.name === `s${k}`).size, want.length);
  }
  const sp = normalize(vols.stat(2, '/sparse.bin', false));
  assert.ok(sp.runs.some((r) => r.sparse && r.disk_offset === null), 'a hole');
  assert.ok(sp.supply.some((p) => p.kind === 'sparse' && p.layer === null), 'the hole in the supply');
  assert.ok(sp.attributes.includes('sparse'), sp.attributes.join());
  const small = normalize(vols.stat(1, '/Deep/a/b/bottom file.txt', false));
  assert.equal(small.storage, 'runs');
  assert.equal(small.size, 6);
  const root = normalize(vols.stat(3, '/', false));
  assert.equal(root.type, 'dir');
});

test('owner() is `owner --json` (but for the layer file name, which the page knows)', () => {
  const { vols } = volumes([vhds.base]);
  const s = normalize(vols.stat(3, '/big.bin', false));
  const sectors = [0, 1, 2048, 43008, 124928 + 2, s.runs[0].disk_offset / 512 + 3, 163839];
  for (const sector of sectors) {
    const mine = normalize(vols.owner(sector * 512));
    const theirs = JSON.parse(cli(['owner', vhds.base, String(sector), '--json'], vhds.base).toString('utf8'));
    assert.deepEqual({ ...mine, layer_file: theirs.layer_file }, theirs, `sector ${sector}`);
  }
  const o = normalize(vols.owner(s.runs[0].disk_offset + 3 * 512 + 17));
  assert.equal(o.path, '/big.bin');
  assert.equal(o.file_offset, s.runs[0].file_offset + 3 * 512 + 17, 'the byte\'s own place in the file');
});

test('owner() keeps the partition open: a second lookup on NTFS reads far less than the first (which reads the MFT)', () => {
  const { vols } = volumes([vhds.base]);
  vols.partitions();
  const big = normalize(vols.stat(2, '/big.bin', false));
  const frag = normalize(vols.stat(2, '/fragmented.bin', false));
  let before = vols.bytesRead();
  const first = normalize(vols.owner(big.runs[0].disk_offset + 8192));
  const firstRead = vols.bytesRead() - before;
  assert.equal(first.path, '/big.bin');
  before = vols.bytesRead();
  const second = normalize(vols.owner(frag.runs[0].disk_offset + 1024));
  const secondRead = vols.bytesRead() - before;
  assert.equal(second.path, '/fragmented.bin');
  assert.equal(second.file_offset, frag.runs[0].file_offset + 1024);
  assert.ok(secondRead * 8 < firstRead, `the second owner() read ${secondRead} bytes, the first ${firstRead}`);
  const theirs = JSON.parse(cli(['owner', vhds.base, String((frag.runs[0].disk_offset + 1024) / 512), '--json'], vhds.base).toString('utf8'));
  assert.deepEqual({ ...second, layer_file: theirs.layer_file }, theirs);
});

test('through a differencing chain, and as of its parent, the listings and bytes are the command line\'s', () => {
  for (const k of [0, 1]) {
    const { vols } = volumes([vhds.child, vhds.base], k);
    const extra = k ? ['--layer', String(k)] : [];
    assert.deepEqual(normalize(vols.partitions()), JSON.parse(cli(['parts', '--json', vhds.child, ...extra], vhds.child).toString('utf8')));
    for (const deleted of [false, true]) {
      assert.deepEqual(walk(vols, 1, '/', deleted), cliLs(vhds.child, 1, [...extra, ...(deleted ? ['--deleted'] : [])]), `as of layer ${k}`);
    }
    const names = walk(vols, 1, '/', false).map((e) => e.path);
    assert.equal(names.includes('/Added in child.txt'), k === 0);
    assert.equal(names.includes('/c.bin'), k === 1);
    const a = normalize(vols.stat(1, '/a.bin', false));
    assert.equal(a.size, k === 0 ? 4000 : 3000);
    // Which layer supplies the file: a.bin was rewritten in the child (layer 0), the big file
    // comes from the base (layer 1; layer 0 of the disk as of layer 1).
    assert.deepEqual([...new Set(a.supply.map((p) => `${p.kind}:${p.layer}`))], ['data:0']);
    assert.equal(a.supply.reduce((n, p) => n + p.len, 0), a.size, 'up to the size, not the last cluster\'s slack');
    const old = normalize(vols.stat(1, '/A fragmented file with a long name.bin', false));
    const by = (/** @type {number} */ l) => old.supply.filter((p) => p.kind === 'data' && p.layer === l).reduce((n, p) => n + p.len, 0);
    if (k === 1) assert.equal(by(0), old.size);
    // (The child copied the 4 KiB pieces it changed, and a few of this file's sectors with them.)
    else assert.ok(by(1) > 0.9 * old.size && by(0) + by(1) === old.size, JSON.stringify(old.supply));
    assert.equal(old.supply_truncated, false);
    const mine = readAll(vols, 1, '/a.bin', undefined, false, a.size, 1024);
    assert.ok(mine.equals(cli(['get', vhds.child, '/a.bin', '--partition', '1', ...extra], vhds.child)), `a.bin as of layer ${k}`);
    // The NTFS partition, which the child does not change, through the chain.
    const big = normalize(vols.stat(2, '/big.bin', false));
    assert.ok(readAll(vols, 2, '/big.bin', undefined, false, big.size, 1 << 20).equals(cli(['get', vhds.child, '/big.bin', '--partition', '2', ...extra], vhds.child)));
  }
});

test('the Windows 10 sample: every readable partition\'s listing is `ls --json`\'s', () => {
  const { vols } = volumes([vhds.win10]);
  const t = normalize(vols.partitions());
  const readable = t.partitions.filter((p) => p.filesystem);
  assert.equal(readable.length, 3);
  for (const p of readable) {
    assert.deepEqual(walk(vols, p.index, '/', false), cliLs(vhds.win10, p.index), `partition ${p.index}`);
  }
});

test('opened file systems are kept: listing again reads at most a directory block; the NTFS root reads little', () => {
  const { vols } = volumes([vhds.base]);
  vols.partitions();
  const afterTable = vols.bytesRead();
  assert.ok(afterTable > 0);
  vols.list(2, '/', false);
  const afterRoot = vols.bytesRead();
  assert.ok(afterRoot - afterTable < 4 << 20, `listing the NTFS root read ${afterRoot - afterTable} bytes`);
  vols.list(2, '/', false);
  vols.list(1, '/', false);
  vols.list(3, '/', false);
  const afterAll = vols.bytesRead();
  vols.list(2, '/', false);
  vols.list(1, '/', false);
  vols.list(3, '/', false);
  // (ext reads a directory's blocks each time, past the cache: here one 1 KiB block.)
  assert.ok(vols.bytesRead() - afterAll <= 4096, `the second listings came from the cache (${vols.bytesRead() - afterAll} bytes read)`);
});

test('errors are JavaScript Errors with the core\'s code (and offset), the read function\'s failures too', () => {
  const { vols } = volumes([vhds.base]);
  assert.throws(() => vols.list(1, '/no such dir', false), (e) => e instanceof Error && e.code === 'no-such-file' && /no such file/.test(e.message));
  assert.throws(() => vols.list(9, '/', false), (e) => e.code === 'no-such-partition');
  assert.throws(() => vols.list(1, '/a.bin', false), (e) => e.code === 'not-a-directory');
  assert.throws(() => vols.owner(2 ** 40), (e) => e.code === 'api-misuse');
  const c = openChain(b, [vhds.base]);
  opened.push(c);
  let fail = false;
  const good = c.reader(0);
  const flaky = new b.WasmVolumes(c.disk, (layer, offset, len) => {
    if (fail) throw new Error('the file could not be read (NotReadableError)');
    return good(layer, offset, len);
  });
  flaky.list(3, '/', false);
  fail = true;
  // Another partition: bytes the core has not read (and kept) yet.
  assert.throws(() => flaky.list(2, '/', false), (e) => e.code === 'io' && /NotReadableError/.test(e.message) && typeof e.offset === 'number');
  // A child without its parent: what the parent holds cannot be read, and the error says so.
  const alone = openChain(b, [vhds.child]);
  opened.push(alone);
  assert.throws(() => new b.WasmVolumes(alone.disk, alone.reader(0)).partitions(), (e) => e.code === 'parent-unavailable' && e.offset === 0);
  const short = new b.WasmVolumes(c.disk, () => new Uint8Array(3));
  assert.throws(() => short.partitions(), (e) => e.code === 'io' && /3 given/.test(e.message));
});

test('the view\'s sort: folders first, names with numbers in number order, sizes and times, either way', async () => {
  const { sortEntries } = await import('../../www/js/page/views/files.js');
  const e = (path, type, size, modified, deleted = false) => ({ partition: 1, path, type, size, modified, deleted, id: 0, attributes: [] });
  const list = [e('/f10.txt', 'file', 5, '2024-01-02T00:00:00Z'), e('/f9.txt', 'file', 50, '2024-01-01T00:00:00Z'), e('/Zdir', 'dir', 0, null), e('/adir', 'dir', 0, null), e('/F9.txt', 'file', 1, null, true)];
  assert.deepEqual(sortEntries(list, 'name', true).map((x) => x.path), ['/adir', '/Zdir', '/f9.txt', '/F9.txt', '/f10.txt']);
  assert.deepEqual(sortEntries(list, 'size', false).map((x) => x.path), ['/Zdir', '/adir', '/f9.txt', '/f10.txt', '/F9.txt']);
  assert.deepEqual(sortEntries(list, 'modified', true).map((x) => x.path).slice(2), ['/F9.txt', '/f9.txt', '/f10.txt']);
});

// Unit tests of the page's JavaScript modules that have logic of their own, and of the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, humanSize, normalize, valueText, getPath, hexRows, parseNumber, baseName } from '../../www/js/common/format.js';
import { mergeRanges, readRanges, bytesSource, urlSource, parseContentRange, RemoteError } from '../../www/js/common/source.js';
import { layout, itemsOf, cellAt, rgba, patternTile, layerPattern } from '../../www/js/page/cellmap.js';
import { parseRange, serve, ifRangeMatches } from '../../scripts/serve.mjs';
import { parseFragment, formatFragment, fromAttributes, toAttributes, viewName } from '../../www/js/page/location.js';
import { mkdtempSync, writeFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';

test('format: hex, sizes like the command line, typed numbers, names', () => {
  assert.equal(hex(512), '0x200');
  assert.equal(hex(255, 4), '0x00ff');
  assert.equal(humanSize(512), '512 bytes');
  assert.equal(humanSize(2 ** 31), '2 GiB');
  assert.equal(humanSize(1536), '1.50 KiB');
  assert.equal(humanSize(2040 * 2 ** 30), '1.99 TiB');
  assert.equal(parseNumber('0x1F'), 31);
  assert.equal(parseNumber(' 4096 '), 4096);
  assert.equal(parseNumber('2M'), 2 ** 21);
  assert.equal(parseNumber('1GiB'), 2 ** 30);
  assert.ok(Number.isNaN(parseNumber('sector 5')));
  assert.ok(Number.isNaN(parseNumber('')));
  assert.equal(baseName('C:\\Projects\\fat-parent.vhd'), 'fat-parent.vhd');
  assert.equal(baseName('./base.vhd'), 'base.vhd');
});

test('format: BigInts from the WebAssembly side become numbers, or digits when not exact', () => {
  const v = normalize({ a: 5n, b: [1n, { c: 2n ** 60n }], m: new Map([['k', 3n]]), s: 'x', n: null, u8: new Uint8Array([1]) });
  assert.deepEqual(v.a, 5);
  assert.deepEqual(v.b, [1, { c: '1152921504606846976' }]);
  assert.deepEqual(v.m, { k: 3 });
  assert.equal(v.s, 'x');
  assert.equal(v.n, null);
  assert.ok(v.u8 instanceof Uint8Array);
});

test('format: data-field text and paths', () => {
  assert.equal(valueText('win '), 'win ');
  assert.equal(valueText(2147483648), '2147483648');
  assert.equal(valueText(false), 'false');
  assert.equal(valueText(null), '');
  assert.equal(valueText(['a', 'b']), 'a, b');
  const info = { parent_locators: [{ path: '.\\p.vhd' }], chain: [{ x: 0 }] };
  assert.equal(getPath(info, 'parent_locators.0.path'), '.\\p.vhd');
  assert.equal(getPath(info, 'chain.0.x'), 0);
  assert.equal(getPath(info, 'chain.3.x'), undefined);
});

test('format: hex dump rows', () => {
  const rows = hexRows(new Uint8Array([0x41, 0x00, 0x7f, ...new Array(15).fill(0x62)]), 0x200);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].offset, 0x200);
  assert.equal(rows[0].hex[0], '41');
  assert.equal(rows[0].ascii.slice(0, 4), 'A..b');
  assert.equal(rows[1].hex.length, 2);
});

test('location: a place as a URL fragment and as attributes, both ways; what is not a place is left out', () => {
  const place = { disk: '6c0e2d4a-1b1f-4c2e-9f0a-0d7e5b1c2a33', view: 'files', layer: 1, block: 12, sector: 2048, partition: 1, path: '/Docs/a b+c.txt', changes: 'é&=#' };
  const hash = formatFragment(place);
  assert.equal(hash, '#disk=6c0e2d4a-1b1f-4c2e-9f0a-0d7e5b1c2a33&view=files&layer=1&block=12&sector=2048&partition=1&path=/Docs/a+b%2Bc.txt&changes=%C3%A9%26%3D%23');
  assert.deepEqual(parseFragment(hash), place);
  assert.deepEqual(parseFragment(hash.slice(1)), place);
  assert.equal(formatFragment({}), '');
  assert.deepEqual(parseFragment(''), {});
  // Numbers as the hex view's field takes them; negative, fractional, huge and unknown values dropped.
  assert.deepEqual(parseFragment('#sector=0x10&block=2M&layer=-1&partition=1.5&view=nowhere&bat'), { sector: 16, block: 2 ** 21 });
  assert.deepEqual(parseFragment(`#sector=${'9'.repeat(400)}&view=volumes`), { view: 'files' });
  assert.equal(viewName('volumes'), 'files');
  assert.equal(viewName('bitmap'), 'bitmap');
  assert.equal(viewName('toString'), undefined);
  assert.equal(viewName(null), undefined);

  // Attributes: the same keys (no disk); set to a place, only those that differ change.
  const attrs = new Map([['block', '3'], ['view', 'volumes'], ['src', 'x.vhd']]);
  const el = /** @type {Element} */ (/** @type {unknown} */ ({
    getAttribute: (/** @type {string} */ k) => attrs.get(k) ?? null,
    setAttribute: (/** @type {string} */ k, /** @type {string} */ v) => attrs.set(k, v),
    removeAttribute: (/** @type {string} */ k) => attrs.delete(k),
  }));
  assert.deepEqual(fromAttributes(el), { view: 'files', block: 3 });
  assert.deepEqual(toAttributes(el, { view: 'files', layer: 0, block: 3, path: '/x' }), ['layer', 'path']);
  assert.deepEqual(Object.fromEntries(attrs), { block: '3', view: 'volumes', src: 'x.vhd', layer: '0', path: '/x' });
  assert.deepEqual(toAttributes(el, { view: 'hex' }), ['view', 'layer', 'block', 'path']);
  assert.deepEqual(Object.fromEntries(attrs), { view: 'hex', src: 'x.vhd' });
});

test('source: adjacent and overlapping ranges merge into one read, results in the order asked', async () => {
  const spans = mergeRanges([{ offset: 1024, len: 512 }, { offset: 0, len: 512 }, { offset: 512, len: 512 }, { offset: 4096, len: 10 }, { offset: 1100, len: 4 }]);
  assert.deepEqual(spans.map((s) => [s.start, s.end]), [[0, 1536], [4096, 4106]]);
  assert.deepEqual(spans[0].members.sort(), [0, 1, 2, 4]);
  assert.deepEqual(mergeRanges([{ offset: 0, len: 10 }, { offset: 20, len: 10 }], 10).map((s) => [s.start, s.end]), [[0, 30]]);

  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
  const src = bytesSource(bytes);
  const ranges = [{ offset: 1024, len: 512 }, { offset: 0, len: 512 }, { offset: 512, len: 512 }, { offset: 4990, len: 100 }];
  const parts = await readRanges(src, ranges);
  assert.equal(src.stats.reads, 2);
  assert.equal(src.stats.bytes, 1536 + 10);
  ranges.forEach((r, i) => assert.deepEqual(parts[i], bytes.subarray(r.offset, Math.min(r.offset + r.len, bytes.length))));
  assert.equal(parts[3].length, 10, 'short at the end of the file');

  const ctrl = new AbortController();
  ctrl.abort();
  await assert.rejects(readRanges(src, ranges, ctrl.signal));
});

test('cell map: layout fits the box, aggregates past one pixel per item, hit-tests', () => {
  const small = layout(100, 400, 300);
  assert.equal(small.per, 1);
  assert.ok(small.height <= 300 && small.width <= 400);
  assert.equal(small.cell, 14);
  const million = layout(1_044_480, 1000, 420);
  assert.equal(million.cell, 1);
  assert.ok(million.per >= 3);
  assert.ok(million.rows <= 420, `rows ${million.rows}`);
  assert.ok(million.cells * million.per >= 1_044_480);
  const [a, b] = itemsOf(million.cells - 1, million, 1_044_480);
  assert.ok(a < 1_044_480 && b === 1_044_480);
  const mid = layout(5000, 600, 400);
  assert.ok(Math.ceil(5000 / mid.cols) * mid.cell <= 400);
  assert.equal(cellAt(0, 0, mid), 0);
  assert.equal(cellAt(mid.cell * 2 + 1, mid.cell + 1, mid), mid.cols + 2);
  assert.equal(cellAt(-1, 0, mid), -1);
  assert.equal(layout(0, 600, 400).cells, 0);
  assert.equal(rgba('#102030'), 0xff302010);
});

test('cell map: the patterns are the SVG pictures\' (solid, then seven tiles all different), a layer\'s as draw gives it', () => {
  const tiles = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => [...patternTile(p)].map((a) => (a ? 1 : 0)).join(''));
  assert.equal(tiles[0], '0'.repeat(36), 'pattern 0 is solid');
  assert.equal(new Set(tiles).size, 8, 'each pattern its own tile');
  for (const t of tiles.slice(1)) assert.ok(t.includes('1') && t.includes('0'), t);
  // The diagonals as drawn: 1 rises (x + y = 5), 4 falls (x = y).
  assert.equal(patternTile(1)[0 * 6 + 5], Math.fround(0.6));
  assert.equal(patternTile(4)[3 * 6 + 3], Math.fround(0.6));
  assert.equal(patternTile(8).join(), patternTile(0).join(), 'numbers cycle after eight');
  // src/draw/provenance.rs: layer k's pattern is (k + k / 8) % 8, so the ninth layer differs from the first.
  assert.deepEqual([0, 1, 2, 7, 8, 9, 15, 16].map(layerPattern), [0, 1, 2, 7, 1, 2, 0, 2]);
});

test('server: Range requests answer 206 with the bytes asked, content types are right', async () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=990-', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), 'invalid');
  assert.equal(parseRange(undefined, 1000), null);
  assert.equal(parseRange('bytes=0-1,5-6', 1000), null);

  const dir = mkdtempSync(join(tmpdir(), 'vhd-serve-'));
  const data = Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 0xff));
  writeFileSync(join(dir, 'x.vhd'), data);
  writeFileSync(join(dir, 'm.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  writeFileSync(join(dir, 'a.mjs'), 'export {}');
  const { server, url } = await serve({ root: dir, port: 0 });
  try {
    let r = await fetch(url + 'x.vhd', { headers: { Range: 'bytes=100-199' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), 'bytes 100-199/4096');
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(100, 200));
    r = await fetch(url + 'x.vhd', { headers: { Range: 'bytes=-512' } });
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(4096 - 512));
    r = await fetch(url + 'x.vhd', { headers: { Range: 'bytes=5000-' } });
    assert.equal(r.status, 416);
    r = await fetch(url + 'x.vhd');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.equal((await r.arrayBuffer()).byteLength, 4096);
    assert.equal((await fetch(url + 'm.wasm')).headers.get('content-type'), 'application/wasm');
    assert.match((await fetch(url + 'a.mjs')).headers.get('content-type'), /^text\/javascript/);
    assert.equal((await fetch(url + '../etc/passwd')).status, 404);
    // A raw path that fetch() would normalise: encoded slashes climbing out of the folder.
    const status = await new Promise((ok, fail) => get(url + '..%2f..%2f..%2fetc%2fpasswd', (res) => { res.resume(); ok(res.statusCode); }).on('error', fail));
    assert.equal(status, 403);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server: ETag and If-Range (the part of the same version, else the whole file), CORS, no-Range mode, bytes sent', async () => {
  assert.equal(ifRangeMatches(undefined, '"a"', 'x'), true);
  assert.equal(ifRangeMatches('"a"', '"a"', 'x'), true);
  assert.equal(ifRangeMatches('"b"', '"a"', 'x'), false);
  assert.equal(ifRangeMatches('W/"a"', '"a"', 'x'), false);
  assert.equal(ifRangeMatches('Tue, 01 Jan 2030 00:00:00 GMT', '"a"', 'Tue, 01 Jan 2030 00:00:00 GMT'), true);
  const dir = mkdtempSync(join(tmpdir(), 'vhd-serve-'));
  writeFileSync(join(dir, 'x.vhd'), Buffer.alloc(100000, 7));
  const log = [];
  const a = await serve({ root: dir, port: 0, onResponse: (e) => log.push(e) });
  const b = await serve({ root: dir, port: 0, cors: true, ranges: false });
  try {
    let r = await fetch(a.url + 'x.vhd', { headers: { Range: 'bytes=0-9' } });
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    await r.arrayBuffer();
    r = await fetch(a.url + 'x.vhd', { headers: { Range: 'bytes=10-19', 'If-Range': etag } });
    assert.equal(r.status, 206);
    await r.arrayBuffer();
    r = await fetch(a.url + 'x.vhd', { headers: { Range: 'bytes=10-19', 'If-Range': '"other"' } });
    assert.equal(r.status, 200, 'a stale If-Range gets the whole file');
    assert.equal((await r.arrayBuffer()).byteLength, 100000);
    await new Promise((ok) => setTimeout(ok, 50));
    assert.deepEqual(log.map((e) => [e.status, e.bytes]), [[206, 10], [206, 10], [200, 100000]]);
    r = await fetch(b.url + 'x.vhd', { headers: { Range: 'bytes=0-9' } });
    assert.equal(r.status, 200, '--no-range sends the whole file');
    assert.equal(r.headers.get('accept-ranges'), null);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-expose-headers'), /Content-Range/);
    await r.arrayBuffer();
    r = await fetch(b.url + 'x.vhd', { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.match(r.headers.get('access-control-allow-headers'), /Range/);
  } finally {
    a.server.close();
    b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('url source: only the bytes asked for travel, adjacent ranges in one request; 200, 404 and a changed file are named', async () => {
  assert.deepEqual(parseContentRange('bytes 0-511/4096'), { start: 0, end: 512, total: 4096 });
  assert.deepEqual(parseContentRange('bytes 5-5/*'), { start: 5, end: 6, total: null });
  assert.equal(parseContentRange(null), null);
  const dir = mkdtempSync(join(tmpdir(), 'vhd-url-'));
  const data = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff));
  writeFileSync(join(dir, 'd.vhd'), data);
  const log = [];
  const a = await serve({ root: dir, port: 0, onResponse: (e) => log.push(e) });
  const b = await serve({ root: dir, port: 0, ranges: false, onResponse: (e) => log.push({ ...e, b: true }) });
  try {
    const src = await urlSource(a.url + 'd.vhd');
    assert.equal(src.byteLength, 1 << 20);
    assert.equal(src.name, 'd.vhd');
    assert.equal(src.stats.requests, 1);
    // The first 512 bytes came with the first request; reading them again costs nothing.
    assert.deepEqual(await src.slice(0, 512), new Uint8Array(data.subarray(0, 512)));
    assert.equal(src.stats.requests, 1);
    const ranges = [{ offset: 4096, len: 512 }, { offset: 4608, len: 1024 }, { offset: 5632, len: 100 }, { offset: (1 << 20) - 512, len: 1024 }];
    const parts = await readRanges(src, ranges);
    assert.equal(src.stats.requests, 3, 'three adjacent ranges in one request, the last in another');
    ranges.forEach((r, i) => assert.deepEqual(parts[i], new Uint8Array(data.subarray(r.offset, Math.min(r.offset + r.len, data.length)))));
    assert.equal(src.stats.transferred, 512 + 512 + 1024 + 100 + 512);
    await new Promise((ok) => setTimeout(ok, 50));
    // The probe first; the two spans after it are requested at once, so they may arrive in either order.
    assert.equal(log[0].range, 'bytes=0-511');
    assert.deepEqual(log.slice(1).map((e) => e.range).sort(), ['bytes=1048064-1048575', 'bytes=4096-5731']);
    assert.equal(log.reduce((n, e) => n + e.bytes, 0), src.stats.transferred);

    // The file changes: its ETag and modification time differ from the first answer's.
    utimesSync(join(dir, 'd.vhd'), new Date(), new Date(Date.now() + 5000));
    await assert.rejects(src.slice(8192, 9000), (e) => e instanceof RemoteError && e.code === 'changed' && /d\.vhd changed on the server while it was being read/.test(e.message));

    await assert.rejects(urlSource(a.url + 'nope.vhd'), (e) => e.code === 'not-found' && /nope\.vhd was not found on the server \(HTTP 404/.test(e.message));
    log.length = 0;
    await assert.rejects(urlSource(b.url + 'd.vhd'), (e) => e.code === 'no-range' && /ignored the request for a part of the file/.test(e.message) && /stopped at once/.test(e.message));
    await new Promise((ok) => setTimeout(ok, 100));
    assert.ok(log[0].bytes < data.length, `the whole file was not sent (${log[0].bytes} bytes)`);
    await assert.rejects(urlSource('http://127.0.0.1:9/x.vhd'), (e) => e.code === 'network');
  } finally {
    a.server.close();
    b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The core's bindings, instantiated from the built .wasm (Node has no fetch of file: URLs). */
async function coreBindings() {
  const { readFileSync } = await import('node:fs');
  const bindings = await import('../../www/pkg/vhd_viewer.js');
  bindings.initSync({ module: readFileSync(new URL('../../www/pkg/vhd_viewer_bg.wasm', import.meta.url)) });
  return bindings;
}

test('core errors reach JavaScript as Errors with a stable code and the byte offset', async () => {
  const bindings = await coreBindings();
  const { openLayer } = await import('../../www/js/worker/driver.js');
  const failure = async (bytes) => {
    try {
      await openLayer(bindings, bytesSource(bytes, 'x'));
    } catch (e) {
      return e;
    }
    assert.fail('the file opened, but an error was wanted');
  };
  // 4096 bytes of text: no footer at the end (byte 4096 - 512) nor a copy at 0.
  const text = new Uint8Array(4096).fill(0x61);
  let e = await failure(text);
  assert.ok(e instanceof Error);
  assert.equal(e.code, 'no-footer');
  assert.equal(e.offset, 4096 - 512);
  assert.match(e.message, /conectix/);
  e = await failure(new Uint8Array(6));
  assert.equal(e.code, 'too-small');
  assert.equal(e.offset, null);
  // A VHDX whose two headers are both missing (zeros where they belong, at 64 KiB and 128 KiB):
  // read as a VHDX, refused with the core's code and the first header's place.
  const vhdx = new Uint8Array(1 << 20);
  vhdx.set(new TextEncoder().encode('vhdxfile'), 0);
  e = await failure(vhdx);
  assert.equal(e.code, 'vhdx-no-valid-header');
  assert.equal(e.offset, 64 * 1024);
  // A call out of order is a misuse, not a disk's condition.
  const opener = new bindings.WasmOpener(4096);
  assert.throws(() => opener.finish(), (err) => err.code === 'api-misuse');
});

test("a file that is not a VHD: the Worker's session says why, and openVhd's error carries the core code and offset", async () => {
  const bindings = await coreBindings();
  const { Session } = await import('../../www/js/worker/session.js');
  const { noDiskError } = await import('../../www/js/page/api.js');
  const text = new Uint8Array(4096).fill(0x61);
  const session = new Session(bindings, [bytesSource(text, 'notes.vhd')]);
  const opened = await session.open(new AbortController().signal);
  assert.deepEqual(opened.chains, []);
  const e = noDiskError(opened.files);
  assert.equal(e.code, 'no-footer');
  assert.equal(e.offset, 4096 - 512);
  assert.match(e.message, /^notes\.vhd: not a VHD/);
  session.close();
});

test("one file's structures reach onStructures before its block table is read, equal to info --json's", async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { cliPath } = await import('./helpers.mjs');
  const bindings = await coreBindings();
  const { Session } = await import('../../www/js/worker/session.js');
  const dir = mkdtempSync(join(tmpdir(), 'vhd-structures-'));
  try {
    // 2040 GiB: a 4 MiB block table (1044480 entries).
    const path = join(dir, 'big.vhd');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', path, '2040G']);
    const want = JSON.parse(execFileSync(cliPath(), ['info', '--json', path], { encoding: 'utf8' }));
    const inner = bytesSource(readFileSync(path), 'big.vhd');
    /** @type {string[]} */
    const order = [];
    /** @type {() => void} */
    let release = () => {};
    const gate = new Promise((r) => {
      release = () => r(undefined);
      setTimeout(release, 5000);
    });
    // The block table's read answers only once the structures were told (or after 5 s).
    const source = {
      ...inner,
      async slice(/** @type {number} */ start, /** @type {number} */ end, /** @type {AbortSignal} */ signal) {
        if (end - start >= 1 << 20) {
          await gate;
          order.push('block table read');
        }
        return inner.slice(start, end, signal);
      },
    };
    /** @type {any} */
    let early = null;
    const session = new Session(bindings, [source]);
    await session.open(new AbortController().signal, (s) => {
      order.push('structures');
      early = s;
      release();
    });
    assert.deepEqual(order, ['structures', 'block table read']);
    const info = session.chain(0).info;
    session.close();
    for (const k of ['fields', 'footer_offset', 'footer_source', 'checksum_valid', 'footer_copy', 'header_offset', 'header_checksum_valid', 'parent_locators', 'disk_type', 'format', 'current_size', 'block_size', 'max_table_entries']) {
      assert.deepEqual(early[k], want[k], k);
      assert.deepEqual(info[k], want[k], k);
    }
    // What needs the block table comes with the disk.
    assert.equal(early.bat_entries, 0);
    assert.equal(info.bat_entries, 1044480);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the disk read window by window equals cat: zeros where no layer has data, in new buffers or ones filled again', async () => {
  const { readFileSync } = await import('node:fs');
  const { cliCat, SAMPLES } = await import('./helpers.mjs');
  const { diskWindows } = await import('../../www/js/worker/driver.js');
  const { writeRaw } = await import('../../www/js/worker/save.js');
  const { Session } = await import('../../www/js/worker/session.js');
  const bindings = await coreBindings();
  const files = ['grandchild.vhd', 'child.vhd', 'base.vhd'];
  const want = cliCat(join(SAMPLES, files[0]), files.slice(1).map((f) => join(SAMPLES, f)));
  const session = new Session(bindings, files.map((f) => bytesSource(readFileSync(join(SAMPLES, f)), f)));
  await session.open(new AbortController().signal);
  const { size } = session.chain(0);
  assert.equal(size, want.length);
  const MIB = 1 << 20;
  for (const windowSize of [MIB, 8 * MIB]) {
    for (const reuse of [false, true]) {
      // Buffers given back hold the last window's bytes: here, garbage.
      const pool = reuse ? Array.from({ length: 64 }, () => new Uint8Array(windowSize).fill(0xee)) : undefined;
      const got = new Uint8Array(size);
      let windows = 0;
      for await (const { start, bytes } of diskWindows(session.core, session.sources, session.names, windowSize, { pool })) {
        assert.equal(start % windowSize, 0);
        got.set(bytes, start);
        windows++;
      }
      assert.ok(windows >= 3 && windows < size / windowSize, `${windows} windows of ${windowSize} hold data`);
      assert.ok(Buffer.from(got).equals(want), `window ${windowSize}, ${reuse ? 'buffers filled again' : 'new buffers'}`);
      if (pool) assert.equal(pool.length, 64 - windows);
    }
  }
  session.close();
  // writeRaw fills a buffer given back by a write again, for a later window: a disk with data in
  // every 8 MiB window, made by qemu-img and qemu-io (a pattern of a different length in each).
  const { execFileSync } = await import('node:child_process');
  const { cliPath } = await import('./helpers.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'vhd-windows-'));
  try {
    const path = join(dir, 'spread.vhd');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic', path, '96M']);
    const cmds = Array.from({ length: 12 }, (_, w) => ['-c', `write -P ${0x11 * (w + 1)} ${w * 8 * MIB + w * 4096 + 512 * w} ${(w + 1) * 61440}`]).flat();
    execFileSync('qemu-io', ['-f', 'vpc', ...cmds, path], { stdio: 'ignore' });
    const raw = execFileSync(cliPath(), ['cat', path], { maxBuffer: 1 << 28 });
    const one = new Session(bindings, [bytesSource(readFileSync(path), 'spread.vhd')]);
    await one.open(new AbortController().signal);
    const disk = one.chain(0);
    assert.equal(disk.size, raw.length);
    for (const copies of [false, true]) {
      const got = new Uint8Array(disk.size);
      const seen = new Set();
      let writes = 0;
      const writable = {
        async truncate(/** @type {number} */ n) {
          assert.equal(n, disk.size);
        },
        async write(/** @type {{ position: number, data: Uint8Array }} */ { position, data }) {
          seen.add(data.buffer);
          writes++;
          await new Promise((r) => setTimeout(r, 1));
          got.set(data, position);
          if (!copies) return undefined; // a writable that may keep `data`: a buffer of its own each time
          data.fill(0xee); // what a writable may leave in a buffer it gives back
          return data;
        },
      };
      await writeRaw(one.core, one.sources, one.names, writable);
      assert.ok(Buffer.from(got).equals(raw), copies ? 'buffers given back' : 'buffers kept');
      assert.equal(writes, 12);
      if (copies) assert.ok(seen.size < writes, `${seen.size} buffers for ${writes} writes`);
      else assert.equal(seen.size, writes);
    }
    one.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The asynchronous driver of the sans-IO core: it asks the WebAssembly objects which byte ranges
// they need, reads them from the sources (Blob.slice) and hands them back. Every long call takes
// an AbortSignal and yields to the event loop, so the page stays responsive and a new file
// cancels the old work.

import { readRanges } from '../common/source.js';
import { normalize } from '../common/format.js';

/**
 * @import { WasmDisk, WasmLayer } from '../../pkg/vhd_viewer.js'
 * @import { Source } from '../common/source.js'
 * @import { BitmapNeed, ByteRange, CheckRead, Extent, Finding, LayerStructures, MissingExtent, Plan, ScanStep } from '../common/types.js'
 * @import { Bindings } from './types.js'
 */

/**
 * Opens one file: returns a `WasmLayer` (throws the core's message when it is not a VHD).
 * `onStructures(info)`, when given, is called once with the file's structures (its footers,
 * dynamic header and parent locators: the keys of `info --json` about them) as soon as they are
 * known, while the block table is still being read (a dynamic disk's BAT is 4 MiB at 2040 GiB).
 * @param {Bindings} wasm
 * @param {Source} source
 * @param {AbortSignal} [signal]
 * @param {(info: LayerStructures) => void} [onStructures]
 * @returns {Promise<WasmLayer>}
 */
export async function openLayer(wasm, source, signal, onStructures) {
  const opener = new wasm.WasmOpener(source.byteLength);
  try {
    for (let round = 0; round < 16; round++) {
      signal?.throwIfAborted();
      const need = /** @type {ByteRange[] | null} */ (opener.poll());
      if (need === null) return opener.finish();
      const reading = readRanges(source, need, signal);
      // While the browser reads (the BAT, say), the structures already read are made for the page.
      if (onStructures) {
        const s = opener.structures(source.name);
        if (s) {
          onStructures(/** @type {LayerStructures} */ (normalize(s)));
          onStructures = undefined;
        }
      }
      const parts = await reading;
      need.forEach((r, i) => opener.provide(r.offset, parts[i]));
    }
    throw new Error('the file could not be opened: the reader kept asking for bytes the file does not have');
  } catch (e) {
    // finish() consumes the opener; free it on every other path.
    try { opener.free(); } catch { /* already consumed */ }
    throw e;
  }
}

/**
 * `items` by their `layer`.
 * @template {{ layer: number }} T
 * @param {readonly T[]} items
 * @returns {Map<number, T[]>}
 */
function byLayer(items) {
  /** @type {Map<number, T[]>} */
  const out = new Map();
  for (const x of items) {
    const list = out.get(x.layer);
    if (list) list.push(x);
    else out.set(x.layer, [x]);
  }
  return out;
}

/** A part of a layer's file already read: `bytes` from byte `start`. @typedef {{ layer: number, start: number, bytes: Uint8Array }} Held */

/**
 * Reads the bitmaps `needs` ([{layer, block, offset, len}]) into the disk's cache. With
 * `withData`, a bitmap is read in the same `slice()` as its block's data where the data follows
 * it (a VHD block of at most `upTo` bytes), and what was read is pushed onto `held`: a browser's
 * small read costs about as much as a big one (1 ms per bitmap read beside 8 MiB reads in
 * Chromium, measured), so a window of a dynamic disk is one read, not one plus one per block.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {BitmapNeed[]} needs
 * @param {AbortSignal} [signal]
 * @param {{ upTo: number, held: Held[] }} [withData]
 */
export async function fetchBitmaps(disk, sources, needs, signal, withData) {
  /** How much to read from a bitmap's offset: the bitmap, or the bitmap and its block's data. */
  const span = (/** @type {BitmapNeed} */ n) => {
    if (!withData || disk.bitmapSize(n.layer) === 0) return n.len;
    const data = disk.blockData(n.layer, n.block);
    const bs = disk.blockSize(n.layer);
    return data != null && data >= n.offset + n.len && data - n.offset <= 4096 && bs <= withData.upTo ? data + bs - n.offset : n.len;
  };
  // Every layer's at once, many reads in flight: a browser's cost per read falls with them
  // (Firefox's most).
  await Promise.all(
    [...byLayer(needs)].map(async ([layer, list]) => {
      const parts = await readRanges(sources[layer], list.map((n) => ({ offset: n.offset, len: span(n) })), signal, 0, 32);
      list.forEach((n, i) => {
        if (parts[i].length < n.len) {
          throw new Error(`block ${n.block} of ${sources[layer].name} cannot be read: its sector bitmap at byte 0x${n.offset.toString(16)} lies past the end of the file (${sources[layer].byteLength} bytes)`);
        }
        disk.provideBitmap(layer, n.block, parts[i].subarray(0, n.len));
        if (parts[i].length > n.len) withData?.held.push({ layer, start: n.offset, bytes: parts[i] });
      });
    }),
  );
}

/**
 * The extents of virtual `[offset, offset + len)`, len at most `disk.chunkSize()` times a few.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {number} offset
 * @param {number} len
 * @param {AbortSignal} [signal]
 * @param {{ upTo: number, held: Held[] }} [withData] see fetchBitmaps
 * @returns {Promise<Extent[]>}
 */
export async function planRange(disk, sources, offset, len, signal, withData) {
  for (let round = 0; round <= disk.layerCount() + 1; round++) {
    signal?.throwIfAborted();
    const p = /** @type {Plan} */ (disk.plan(offset, len));
    if (p.extents) return p.extents;
    await fetchBitmaps(disk, sources, p.need, signal, withData);
  }
  throw new Error(`planning bytes ${offset}..${offset + len} needed more bitmaps than fit in memory`);
}

/**
 * How many bytes to plan at once: a few hundred blocks, within what the bitmap cache holds.
 * @param {WasmDisk} disk
 */
export function planSpan(disk) {
  return disk.chunkSize() * Math.max(1, Math.floor(512 / disk.layerCount()));
}

/**
 * Every extent of the whole virtual disk, span by span (`planSpan`); a stretch that no layer
 * allocates is planned in one step (as the command line does), so that a disk whose footer claims
 * an absurd size with few blocks is walked quickly. The next span is planned (its bitmaps read)
 * while the consumer works on this one's extents.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {AbortSignal} [signal]
 * @returns {AsyncGenerator<Extent>}
 */
export async function* allExtents(disk, sources, signal) {
  const size = disk.size();
  const span = planSpan(disk);
  let pos = 0;
  const planNext = () => {
    if (pos >= size) return null;
    const stop = Math.max(Math.min(pos + span, size), disk.stepEnd(pos));
    const planned = planRange(disk, sources, pos, stop - pos, signal);
    planned.catch(() => {}); // awaited below; one the consumer never asks for is of no interest
    pos = stop;
    return planned;
  };
  for (let planned = planNext(); planned; ) {
    const extents = await planned;
    planned = planNext();
    yield* extents;
  }
}

/**
 * Why the disk cannot be saved whole: `e` comes from a parent not given.
 * @param {MissingExtent} e
 * @param {string[]} names
 */
export function missingError(e, names) {
  return new Error(
    `virtual bytes ${e.offset}..${e.offset + e.len} cannot be read: they come from the parent of ${names[e.layer] ?? 'layer ' + e.layer}, which was not given (or the file is cut short). Add the parent file to save the whole disk.`,
  );
}

/**
 * Data of one file lying at most this far apart is read with one `slice()`: a browser's read
 * costs about as much as reading 256 KiB more (0.5-1 ms in Chromium, at 400-500 MB/s).
 */
const READ_GAP = 256 * 1024;

/**
 * Reads window `[start, end)`: plans it (its bitmaps read with their blocks' data), then copies
 * its data extents into a buffer (one of `pool`'s, or new; parts no extent covers read as
 * zeros), from what planning read or else read now, each layer's neighbouring pieces in one
 * read, the layers at once.
 * Null when the window holds no data.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {number} start
 * @param {number} end
 * @param {AbortSignal | undefined} signal
 * @param {Uint8Array<ArrayBuffer>[] | undefined} pool buffers done with, filled again
 */
async function readWindow(disk, sources, names, start, end, signal, pool) {
  /** @type {Held[]} */
  const held = [];
  const extents = await planRange(disk, sources, start, end - start, signal, { upTo: end - start, held });
  /** @type {{ offset: number, len: number, layer: number, fileOffset: number }[]} */
  const pieces = [];
  for (const e of extents) {
    if (e.kind === 'missing') throw missingError(e, names);
    if (e.kind === 'data') pieces.push({ offset: e.offset, len: e.len, layer: e.layer, fileOffset: e.fileOffset });
  }
  if (pieces.length === 0) return null;
  const len = end - start;
  const used = pool?.length && pool[pool.length - 1].length === len ? pool.pop() : undefined;
  const buf = used ?? new Uint8Array(len);
  if (used) {
    // What no piece covers reads as zeros (the pieces are in order and apart).
    let at = start;
    for (const p of pieces) {
      buf.fill(0, at - start, p.offset - start);
      at = p.offset + p.len;
    }
    buf.fill(0, at - start);
  }
  /** @type {typeof pieces} */
  const toRead = [];
  for (const p of pieces) {
    const h = held.find((h) => h.layer === p.layer && h.start <= p.fileOffset && p.fileOffset + p.len <= h.start + h.bytes.length);
    if (h) buf.set(h.bytes.subarray(p.fileOffset - h.start, p.fileOffset - h.start + p.len), p.offset - start);
    else toRead.push(p);
  }
  await Promise.all(
    [...byLayer(toRead)].map(async ([layer, list]) => {
      const parts = await readRanges(sources[layer], list.map((p) => ({ offset: p.fileOffset, len: p.len })), signal, READ_GAP);
      list.forEach((p, i) => {
        if (parts[i].length < p.len) throw new Error(`${names[layer]} is cut short: byte ${p.fileOffset + parts[i].length} of its file is missing`);
        buf.set(parts[i], p.offset - start);
      });
    }),
  );
  return { start, bytes: buf };
}

/**
 * The whole virtual disk, window by window, for writing it out: yields `{ start, bytes }` for
 * each window of `windowSize` bytes (aligned; the last one may be shorter) that holds data, in
 * order, its bytes read from the layers' files (parts that read as zeros left zero; windows
 * without data are skipped, and a stretch that no layer allocates is passed in one step however
 * long). Up to `depth` windows are planned and read at once, ahead of the consumer, so the
 * browser's reads are never waiting on the consumer's writes. Throws when a part of the disk
 * comes from a parent not given. `onProgress(done, size)` follows the walk. Buffers the consumer
 * is done with may be put in `pool` to be filled again: a new 8 MiB buffer costs its first
 * writes' page faults, measured at 10 ms a window in Chromium here, more than the copy into it.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {number} windowSize
 * @param {ProgressOptions & { depth?: number, pool?: Uint8Array<ArrayBuffer>[] }} [options]
 * @returns {AsyncGenerator<{ start: number, bytes: Uint8Array<ArrayBuffer> }>}
 */
export async function* diskWindows(disk, sources, names, windowSize, { signal, onProgress, depth = 3, pool } = {}) {
  const size = disk.size();
  /** @type {Promise<{ start: number, bytes: Uint8Array<ArrayBuffer> } | null>[]} */
  const reading = [];
  let last = 0;
  // Where the last stretch found not to be all zeros ends: it is not asked about again.
  let mixedUntil = 0;
  try {
    for (let pos = 0; pos < size; ) {
      signal?.throwIfAborted();
      const end = Math.min(size, (Math.floor(pos / windowSize) + 1) * windowSize);
      // A stretch no layer allocates, past this window: nothing to read there (but a parent
      // that was not given, or a fixed layer's data, is planned window by window).
      const step = disk.stepEnd(pos);
      if (step > end && pos >= mixedUntil) {
        const p = /** @type {Plan} */ (disk.plan(pos, step - pos));
        if (p.extents?.every((e) => e.kind === 'zero')) {
          pos = Math.max(end, Math.floor(step / windowSize) * windowSize); // windows stay aligned
          continue;
        }
        mixedUntil = step;
      }
      const r = readWindow(disk, sources, names, pos, end, signal, pool);
      r.catch(() => {}); // awaited in order below
      reading.push(r);
      pos = end;
      while (reading.length >= depth) {
        const w = await reading.shift();
        if (w) yield w;
      }
      const now = performance.now();
      if (now - last > 100) {
        last = now;
        onProgress?.(pos, size);
      }
    }
    while (reading.length) {
      const w = await reading.shift();
      if (w) yield w;
    }
  } finally {
    for (const r of reading) r.catch(() => {});
  }
}

/**
 * Reads virtual bytes through the chain. Returns `{ bytes, extents }`; bytes of `missing`
 * extents are left zero (the extents say which they are).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {number} offset
 * @param {number} len
 * @param {AbortSignal} [signal]
 * @returns {Promise<{ bytes: Uint8Array, extents: Extent[] }>}
 */
export async function readVirtual(disk, sources, offset, len, signal) {
  const end = Math.min(offset + len, disk.size());
  const bytes = new Uint8Array(Math.max(0, end - offset));
  /** @type {Extent[]} */
  const extents = [];
  const chunk = disk.chunkSize();
  for (let pos = offset; pos < end; ) {
    const stop = Math.min((Math.floor(pos / chunk) + 1) * chunk, end);
    extents.push(...(await planRange(disk, sources, pos, stop - pos, signal)));
    pos = stop;
  }
  for (const e of extents) {
    if (e.kind !== 'data') continue;
    const part = await sources[e.layer].slice(e.fileOffset, e.fileOffset + e.len, signal);
    bytes.set(part, e.offset - offset);
    if (part.length < e.len) e.short = e.len - part.length;
  }
  return { bytes, extents };
}

/**
 * A macrotask: lets reads that completed deliver their bytes and start the next ones. Through a
 * MessageChannel, which no browser delays (a `setTimeout(0)` waits at least 4 ms once nested);
 * one per call, closed when used, so that no open port keeps a process alive (Node).
 */
const tick = () =>
  new Promise((/** @type {(v?: unknown) => void} */ r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(0);
  });

/**
 * @typedef {{ signal?: AbortSignal, onProgress?: (done: number, total: number, masks?: Uint32Array | null) => void }} ProgressOptions
 */

/**
 * The exact provenance map: reads every bitmap the cells need. `onProgress(done, total, masks)`
 * is called now and then; returns the final masks (Uint32Array).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {number} cellSize
 * @param {ProgressOptions} [options]
 */
export async function scanProvenance(disk, sources, cellSize, { signal, onProgress } = {}) {
  disk.scanStart(cellSize);
  let last = 0;
  // The next bitmaps are read while the core works out the cells whose bitmaps it has: one batch
  // asked ahead (two at once made WebKit's and Firefox's reads slower, measured).
  /** @type {{ done: Promise<void>, keys: Set<string> }[]} */
  const reading = [];
  const key = (/** @type {BitmapNeed} */ n) => `${n.layer}:${n.block}`;
  const askAhead = () => {
    while (reading.length < 1) {
      const ahead = /** @type {BitmapNeed[]} */ (disk.scanAhead());
      if (!ahead.length) return;
      reading.push({ done: fetchBitmaps(disk, sources, ahead, signal), keys: new Set(ahead.map(key)) });
    }
  };
  try {
    for (;;) {
      signal?.throwIfAborted();
      // A few cells at a time, so that reads keep flowing while the core works.
      const s = /** @type {ScanStep} */ (disk.scanStep(64));
      if (s.need) {
        // What it needs is being read (it was asked ahead), or is read now.
        const first = reading[0];
        if (first && s.need.every((n) => first.keys.has(key(n)))) {
          await first.done;
          reading.shift();
        } else await fetchBitmaps(disk, sources, s.need, signal);
        askAhead();
        continue;
      }
      if (s.finished) {
        const masks = disk.scanMasks();
        onProgress?.(s.total, s.total, masks);
        return masks;
      }
      const now = performance.now();
      if (now - last > 150) {
        last = now;
        onProgress?.(s.done, s.total, null);
      }
      await tick();
    }
  } finally {
    // A read ahead that fails after the scan stopped is of no interest.
    for (const r of reading) r.done.catch(() => {});
  }
}

/**
 * The deep check `vhd-viewer check` runs after the open-time checks: every allocated block's
 * sector bitmap and, in dynamic disks, the sectors marked unused (left-over data). The core asks
 * for one read at a time; a read that fails becomes a finding. Returns the findings it adds
 * (normalized as the open-time ones in info: their layer and offset are numbers, not BigInts).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {ProgressOptions} [options]
 * @returns {Promise<Finding[]>}
 */
export async function deepCheck(disk, sources, { signal, onProgress } = {}) {
  disk.checkStart();
  let last = 0;
  for (let r = /** @type {CheckRead | null} */ (disk.checkNext()); r !== null; r = disk.checkNext()) {
    signal?.throwIfAborted();
    const src = sources[Number(r.layer)];
    if (r.offset + r.len > src.byteLength) {
      disk.checkFailed(r.offset, `it lies past the end of the file (${src.byteLength} bytes)`);
    } else {
      let bytes;
      try {
        [bytes] = await readRanges(src, [r], signal);
      } catch (e) {
        if (signal?.aborted) throw e;
        disk.checkFailed(r.offset, /** @type {Error} */ (e).message);
        continue;
      }
      disk.checkProvide(bytes);
    }
    const now = performance.now();
    if (now - last > 150) {
      last = now;
      onProgress?.(r.done, r.total);
    }
  }
  const findings = /** @type {Finding[]} */ (normalize(disk.checkFindings()));
  onProgress?.(1, 1);
  return findings;
}


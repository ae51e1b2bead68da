// "Save as VHD…": the virtual disk, read through its chain, as a new standalone VHD, dynamic
// (blocks allocated only where the disk holds non-zero data) or fixed, like
// `vhd-viewer convert IN OUT --to dynamic|fixed [--layer K]`. The core's `WasmNewVhd` lays the file
// out (the same layout the command line writes); this module, run in the Worker (session.js),
// walks the disk and moves the bytes: streamed block by block into the file the main thread saves
// into (save.js), or, for a download, as a Blob. A fixed disk's Blob is composed of slices of the
// dropped files (no copy, as for the raw image). A dynamic disk's blocks are assembled from
// several files, so the download holds them in memory until it is saved: it is refused past
// DOWNLOAD_LIMIT bytes of allocated data (use a browser with the File System Access API, or the
// command line).

import { planRange, planSpan } from './driver.js';
import { readRanges } from './source.js';
import { writeRaw, composeRaw } from './export.js';
import { loadWasm } from './wasm.js';

/**
 * @import { WasmDisk, WasmNewVhd } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { ProgressOptions } from './driver.js'
 * @import { MissingExtent, Writable } from './types.js'
 */

/** One piece of a block to read: virtual `offset`, `len` bytes, from `layer`'s file at `fileOffset`.
 * @typedef {{ offset: number, len: number, layer: number, fileOffset: number }} Piece */
/** A write the core's layout asks for: `bytes` at file offset `offset`.
 * @typedef {{ offset: number, bytes: Uint8Array<ArrayBuffer> }} LayoutWrite */
/** What saving wrote.
 * @typedef {{ size: number, blocks: number }} Saved */

const MIB = 1 << 20;
/** Block size of a dynamic VHD saved by the page (as Hyper-V and qemu write them). */
export const BLOCK_SIZE = 2 * MIB;
/** The most allocated data a dynamic VHD saved as a download may hold (it is held in memory). */
export const DOWNLOAD_LIMIT = 512 * MIB;
/** Data of one file lying at most this far apart is read with one `slice()`. */
const GAP = 64 * 1024;
/** Seconds from 1970-01-01 to 2000-01-01, where VHD time stamps start. */
const VHD_EPOCH = 946684800;

/**
 * Bytes the core handed over: wasm-bindgen copies them out of the module's memory into an
 * ArrayBuffer of their own (never a SharedArrayBuffer), which is what writes and Blobs take.
 * @param {Uint8Array} bytes
 */
const owned = (bytes) => /** @type {Uint8Array<ArrayBuffer>} */ (bytes);

/** A random unique id (RFC 4122 version 4) for the new disk. */
function randomId() {
  const id = crypto.getRandomValues(new Uint8Array(16));
  id[6] = (id[6] & 0x0f) | 0x40;
  id[8] = (id[8] & 0x3f) | 0x80;
  return id;
}

/**
 * The layout of the new disk (throws the core's reason when the disk cannot be saved so).
 * @param {WasmDisk} disk
 * @param {'dynamic' | 'fixed'} kind
 * @returns {Promise<WasmNewVhd>}
 */
export async function newVhd(disk, kind) {
  const wasm = await loadWasm();
  return new wasm.WasmNewVhd(disk, kind, BLOCK_SIZE, randomId(), Math.max(0, Math.floor(Date.now() / 1000) - VHD_EPOCH));
}

/**
 * @param {MissingExtent} e
 * @param {string[]} names
 */
function missingError(e, names) {
  return new Error(
    `virtual bytes ${e.offset}..${e.offset + e.len} cannot be read: they come from the parent of ${names[e.layer] ?? 'layer ' + e.layer}, which was not given (or the file is cut short). Add the parent file to save the whole disk.`,
  );
}

/**
 * The disk's blocks of `bs` bytes that hold data, in order: yields `[block, bytes]` for each
 * block with a non-zero byte (its bytes assembled from the layers' files; zero-filled parts left
 * zero). A stretch no layer allocates is planned in one step.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {number} bs
 * @param {AbortSignal | undefined} signal
 * @param {ProgressOptions['onProgress']} onProgress
 * @returns {AsyncGenerator<[number, Uint8Array<ArrayBuffer>]>}
 */
async function* dataBlocks(disk, sources, names, bs, signal, onProgress) {
  const size = disk.size();
  const span = planSpan(disk);
  let block = -1;
  /** @type {Piece[]} */
  let pending = [];
  let last = 0;
  const assemble = async () => {
    const start = block * bs;
    const buf = new Uint8Array(Math.min(bs, size - start));
    /** @type {Map<number, Piece[]>} */
    const byLayer = new Map();
    for (const p of pending) {
      if (!byLayer.has(p.layer)) byLayer.set(p.layer, []);
      byLayer.get(p.layer)?.push(p);
    }
    for (const [layer, list] of byLayer) {
      const parts = await readRanges(sources[layer], list.map((p) => ({ offset: p.fileOffset, len: p.len })), signal, GAP);
      list.forEach((p, i) => {
        if (parts[i].length < p.len) throw new Error(`${names[layer]} is cut short: byte ${p.fileOffset + parts[i].length} of its file is missing`);
        buf.set(parts[i], p.offset - start);
      });
    }
    pending = [];
    return buf.some((b) => b !== 0) ? buf : null;
  };
  for (let pos = 0; pos < size; ) {
    const stop = Math.max(Math.min(pos + span, size), disk.stepEnd(pos));
    for (const e of await planRange(disk, sources, pos, stop - pos, signal)) {
      if (e.kind === 'missing') throw missingError(e, names);
      if (e.kind !== 'data') continue;
      for (let off = e.offset, end = e.offset + e.len; off < end; ) {
        const b = Math.floor(off / bs);
        if (b !== block) {
          if (pending.length) {
            const bytes = await assemble();
            if (bytes) yield [block, bytes];
          }
          block = b;
        }
        const n = Math.min(end, (b + 1) * bs) - off;
        pending.push({ offset: off, len: n, layer: e.layer, fileOffset: e.fileOffset + (off - e.offset) });
        off += n;
      }
    }
    pos = stop;
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      onProgress?.(pos, size);
    }
  }
  if (pending.length) {
    const bytes = await assemble();
    if (bytes) yield [block, bytes];
  }
  onProgress?.(size, size);
}

/**
 * Writes the new VHD to a FileSystemWritableFileStream: a fixed disk as the raw image then its
 * footer; a dynamic disk block by block, then its metadata.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {WasmNewVhd} vhd
 * @param {Writable} writable
 * @param {ProgressOptions} [options]
 * @returns {Promise<Saved>}
 */
export async function writeVhd(disk, sources, names, vhd, writable, { signal, onProgress } = {}) {
  const size = disk.size();
  if (vhd.blockSize() === 0) {
    await writeRaw(disk, sources, names, writable, { signal, onProgress });
    await writable.write({ type: 'write', position: size, data: owned(vhd.footer()) });
    return { size: size + 512, blocks: 0 };
  }
  const bitmap = owned(vhd.bitmap());
  for await (const [block, bytes] of dataBlocks(disk, sources, names, vhd.blockSize(), signal, onProgress)) {
    const at = vhd.place(block);
    await writable.write({ type: 'write', position: at, data: bitmap.slice() }); // its own copy: a write may take its buffer
    await writable.write({ type: 'write', position: at + bitmap.length, data: bytes });
  }
  for (const w of /** @type {LayoutWrite[]} */ (vhd.finish())) await writable.write({ type: 'write', position: w.offset, data: w.bytes });
  const len = vhd.fileLen(disk);
  await writable.truncate(len);
  return { size: len, blocks: vhd.placed() };
}

/**
 * The new VHD as a Blob, for a download. A fixed disk: the raw image composed of file slices
 * and the footer. A dynamic disk: its blocks held in memory (refused past DOWNLOAD_LIMIT).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {WasmNewVhd} vhd
 * @param {ProgressOptions} [options]
 * @returns {Promise<{ blob: Blob, blocks: number }>}
 */
export async function composeVhd(disk, sources, names, vhd, { signal, onProgress } = {}) {
  if (vhd.blockSize() === 0) {
    const raw = await composeRaw(disk, sources, names, { signal, onProgress });
    return { blob: new Blob([raw, owned(vhd.footer())], { type: 'application/octet-stream' }), blocks: 0 };
  }
  const bitmap = owned(vhd.bitmap());
  const bs = vhd.blockSize();
  /** @type {Uint8Array<ArrayBuffer>[]} */
  const parts = [];
  let held = 0;
  /** @type {number | null} */
  let first = null;
  /** @type {number | null} */
  let next = null;
  for await (const [block, bytes] of dataBlocks(disk, sources, names, bs, signal, onProgress)) {
    held += bytes.length;
    if (held > DOWNLOAD_LIMIT) {
      throw new Error(
        `this disk holds more than ${DOWNLOAD_LIMIT / MIB} MiB of data: saved as a download, the whole VHD would have to be held in memory first. Use a browser with the File System Access API (Chrome, Edge), which writes it to the file as it goes, or the command line: vhd-viewer convert IN OUT`,
      );
    }
    const at = vhd.place(block);
    if (next !== null && at !== next) throw new Error(`block ${block} was placed at ${at}, not after the block before it (a bug)`);
    first ??= at;
    // Whole blocks: the last block of a disk that ends inside it is padded with zeros.
    let data = bytes;
    if (data.length < bs) {
      data = new Uint8Array(bs);
      data.set(bytes);
    }
    parts.push(bitmap, data);
    next = at + bitmap.length + bs;
  }
  // The footer copy, header and BAT come before the blocks, the footer after them.
  const meta = /** @type {LayoutWrite[]} */ (vhd.finish());
  const head = meta.slice(0, -1);
  const headEnd = head.reduce((e, w) => Math.max(e, w.offset + w.bytes.length), 0);
  if (first !== null && first !== headEnd) throw new Error(`the first block is at ${first}, not right after the BAT at ${headEnd} (a bug)`);
  const blob = new Blob([...head.map((w) => w.bytes), ...parts, meta[meta.length - 1].bytes], { type: 'application/octet-stream' });
  if (blob.size !== vhd.fileLen(disk)) throw new Error(`the VHD came out ${blob.size} bytes long instead of ${vhd.fileLen(disk)} (a bug)`);
  return { blob, blocks: vhd.placed() };
}

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

import { diskWindows } from './driver.js';
import { writeRaw, composeRaw } from './export.js';
import { loadWasm } from './wasm.js';

/**
 * @import { WasmDisk, WasmNewVhd } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { ProgressOptions } from './driver.js'
 * @import { Writable } from './types.js'
 */

/** A write the core's layout asks for: `bytes` at file offset `offset`.
 * @typedef {{ offset: number, bytes: Uint8Array<ArrayBuffer> }} LayoutWrite */
/** What saving wrote.
 * @typedef {{ size: number, blocks: number }} Saved */

const MIB = 1 << 20;
/** Block size of a dynamic VHD saved by the page (as Hyper-V and qemu write them). */
export const BLOCK_SIZE = 2 * MIB;
/** The most allocated data a dynamic VHD saved as a download may hold (it is held in memory). */
export const DOWNLOAD_LIMIT = 512 * MIB;
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

/** Whether `bytes` are all zero (a word at a time where aligned). */
function isZero(/** @type {Uint8Array} */ bytes) {
  const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : new Uint32Array(0);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = words.length * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The disk's blocks of `bs` bytes that hold data, in order: yields `[block, bytes]` for each
 * block with a non-zero byte (read ahead by `diskWindows`, which takes the options).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {number} bs
 * @param {ProgressOptions & { pool?: Uint8Array<ArrayBuffer>[] }} options
 * @returns {AsyncGenerator<[number, Uint8Array<ArrayBuffer>]>}
 */
async function* dataBlocks(disk, sources, names, bs, options) {
  for await (const { start, bytes } of diskWindows(disk, sources, names, bs, options)) {
    if (!isZero(bytes)) yield [start / bs, bytes];
    else options.pool?.push(bytes);
  }
  options.onProgress?.(disk.size(), disk.size());
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
  /** @type {Uint8Array<ArrayBuffer>[]} blocks written, given back to be filled again */
  const pool = [];
  for await (const [block, bytes] of dataBlocks(disk, sources, names, vhd.blockSize(), { signal, onProgress, pool })) {
    const at = vhd.place(block);
    await writable.write({ type: 'write', position: at, data: bitmap.slice() }); // its own copy: a write may take its buffer
    const back = await writable.write({ type: 'write', position: at + bitmap.length, data: bytes });
    if (back instanceof Uint8Array && back.length === bytes.length) pool.push(/** @type {Uint8Array<ArrayBuffer>} */ (back));
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
  for await (const [block, bytes] of dataBlocks(disk, sources, names, bs, { signal, onProgress })) {
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

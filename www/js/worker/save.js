// What the Worker writes when the page saves something (session.js runs it; the main thread
// chooses the file, page/save.js): the bytes of a new file, streamed into the file the main
// thread saves into (the File System Access API's writable, reached through the Worker's
// stand-in for it), or, for a download, as a Blob. Three kinds of file:
// - the flattened raw image (`vhd-viewer cat`), in constant memory: the file is sized first (so
//   zero-filled stretches cost nothing) and the data extents are written at their offsets; the
//   download is a Blob composed of slices of the dropped files and shared zero-filled Blobs
//   (the browser streams it from the files as it saves, nothing is copied first);
// - "Save as…": the virtual disk, read through its chain, as a new standalone VHD or VHDX,
//   dynamic (blocks allocated only where the disk holds non-zero data) or fixed, like
//   `vhd-viewer convert IN OUT --to dynamic|fixed|vhdx|vhdx-fixed [--layer K]`; or an
//   Azure-ready copy, `vhd-viewer convert --for azure`: a fixed VHD whose size the core rounds up
//   to a whole MiB, the tail past the disk's end zeros (a truncated file's, or shared zero-filled
//   Blobs in a download: nothing held in memory). The core's
//   `WasmNewDisk` lays the file out (the same layouts the command line writes); this module walks
//   the disk and moves the bytes, window by window. A fixed VHD's Blob is composed of slices of
//   the dropped files (no copy, as for the raw image). The others' blocks are assembled from
//   several files, so the download holds them in memory until it is saved: it is refused past
//   DOWNLOAD_LIMIT bytes of data (use a browser with the File System Access API, or the command
//   line);
// - "Compact…", "Repaired copy…" and "Relinked child…": the core's writers that copy a disk's own
//   structures, in its own format (`vhd-viewer compact [--trim]`, `repair`, `relink`). The core (WasmCopy) reads the files
//   synchronously and hands over the copy's bytes a few windows at a time; they are written
//   before more are asked for, so that memory stays flat whatever the disk's size, and a stop is
//   heard between two steps. As a download the copy is held in memory, so one larger than
//   DOWNLOAD_LIMIT is refused.

import { allExtents, diskWindows, missingError } from './driver.js';
import { normalize } from '../common/format.js';
import { loadWasm, wasmMemoryBytes } from '../common/wasm.js';

/**
 * @import { WasmCopy, WasmDisk, WasmNewDisk } from '../../pkg/vhd_viewer.js'
 * @import { Source } from '../common/source.js'
 * @import { ProgressOptions } from './driver.js'
 * @import { CopyReport, SaveKind, Writable } from '../common/types.js'
 */

/** A write the core's layout asks for: `bytes` at file offset `offset`.
 * @typedef {{ offset: number, bytes: Uint8Array<ArrayBuffer> }} LayoutWrite */
/** What saving wrote.
 * @typedef {{ size: number, blocks: number }} Saved */

const MIB = 1 << 20;
/** Block size of a dynamic VHD saved by the page (as Hyper-V and qemu write them). */
export const BLOCK_SIZE = 2 * MIB;
/** Block size of a VHDX saved by the page (as Hyper-V writes them). */
export const VHDX_BLOCK_SIZE = 32 * MIB;
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
 * The layout of the new disk (throws the core's reason when the disk cannot be saved so; `azure`:
 * a fixed VHD of the size Azure takes, as `vhd-viewer convert --for azure`): blocks
 * of `blockSize` bytes (0: a VHD's of BLOCK_SIZE, a VHDX's of VHDX_BLOCK_SIZE), a VHDX's logical
 * sectors of `sectorSize` bytes (0: the disk's own), as `vhd-viewer convert --block-size
 * --sector-size`.
 * @param {WasmDisk} disk
 * @param {SaveKind} kind
 * @param {number} [blockSize]
 * @param {number} [sectorSize]
 * @returns {Promise<WasmNewDisk>}
 */
export async function newDisk(disk, kind, blockSize = 0, sectorSize = 0) {
  const wasm = await loadWasm();
  const bs = blockSize || (kind.startsWith('vhdx') ? VHDX_BLOCK_SIZE : BLOCK_SIZE);
  return new wasm.WasmNewDisk(disk, kind, bs, sectorSize, randomId(), Math.max(0, Math.floor(Date.now() / 1000) - VHD_EPOCH));
}

/** Whether `bytes` are all zero (a word at a time where aligned). */
function isZero(/** @type {Uint8Array} */ bytes) {
  const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : new Uint32Array(0);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = words.length * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The disk's windows of WINDOW bytes (read ahead by `diskWindows`, which takes the options) cut
 * at the new disk's blocks of `bs` bytes (powers of two: a window lies in one block, or holds
 * whole blocks), in order: yields each window's `bytes` with its `parts`, `[start, bytes]` for
 * each piece of a block with a non-zero byte (the whole window when it lies in one block). A
 * window with no such piece goes back to the pool.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {number} bs
 * @param {ProgressOptions & { pool?: Uint8Array<ArrayBuffer>[] }} options
 * @returns {AsyncGenerator<{ bytes: Uint8Array<ArrayBuffer>, parts: [number, Uint8Array<ArrayBuffer>][] }>}
 */
async function* dataWindows(disk, sources, names, bs, options) {
  for await (const { start, bytes } of diskWindows(disk, sources, names, WINDOW, options)) {
    /** @type {[number, Uint8Array<ArrayBuffer>][]} */
    const parts = [];
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, (Math.floor((start + at) / bs) + 1) * bs - start);
      const part = at === 0 && end === bytes.length ? bytes : bytes.subarray(at, end);
      if (!isZero(part)) parts.push([start + at, part]);
      at = end;
    }
    if (parts.length) yield { bytes, parts };
    else options.pool?.push(bytes);
  }
  options.onProgress?.(disk.size(), disk.size());
}

/**
 * Places the block of the window at `start` when it is the first window of it seen, and gives
 * the file offset of the window's bytes with the layout's own writes (a VHD block's bitmap).
 * @param {WasmNewDisk} layout
 * @param {{ block: number, at: number }} current the block placed last
 * @param {number} start
 * @returns {{ at: number, writes: LayoutWrite[] }}
 */
function placeWindow(layout, current, start) {
  const bs = layout.blockSize();
  const block = Math.floor(start / bs);
  /** @type {LayoutWrite[]} */
  let writes = [];
  if (block !== current.block) {
    current.block = block;
    current.at = layout.place(block);
    writes = layout.writes();
  }
  return { at: current.at + (start - block * bs), writes };
}

/**
 * Writes the new disk to a FileSystemWritableFileStream: a fixed VHD as the raw image then its
 * footer; the others window by window where the layout places their blocks, then their
 * structures.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {WasmNewDisk} layout
 * @param {Writable} writable
 * @param {ProgressOptions} [options]
 * @returns {Promise<Saved>}
 */
export async function writeVhd(disk, sources, names, layout, writable, { signal, onProgress } = {}) {
  if (layout.flat()) {
    await writeRaw(disk, sources, names, writable, { signal, onProgress, size: layout.size() });
    for (const w of /** @type {LayoutWrite[]} */ (layout.finish())) await writable.write({ type: 'write', position: w.offset, data: w.bytes });
    return { size: layout.fileLen(), blocks: 0 };
  }
  /** @type {Uint8Array<ArrayBuffer>[]} windows written, given back to be filled again */
  const pool = [];
  /** @type {Uint8Array<ArrayBuffer>[]} buffers that joined a window's writes, the same */
  const joined = [];
  const sink = new FileSink(writable);
  const current = { block: -1, at: 0 };
  for await (const { bytes, parts } of dataWindows(disk, sources, names, layout.blockSize(), { signal, onProgress, pool })) {
    /** @type {LayoutWrite[]} */
    const writes = [];
    for (const [start, part] of parts) {
      const placed = placeWindow(layout, current, start);
      writes.push(...placed.writes, { offset: placed.at, bytes: part });
    }
    if (writes.length === 1 && writes[0].bytes === bytes) {
      await sink.write(writes[0], pool);
      continue;
    }
    // Several blocks, or a block with its bitmap: each run of writes that follow each other in
    // the file is joined into one write (a window of a VHD's 2 MiB blocks, whose blocks are
    // placed one after the other, is one write instead of eight), each a buffer of its own.
    for (let i = 0; i < writes.length; ) {
      let j = i + 1;
      let len = writes[i].bytes.length;
      while (j < writes.length && writes[j].offset === writes[j - 1].offset + writes[j - 1].bytes.length) len += writes[j++].bytes.length;
      const buf = joined.length && joined[joined.length - 1].length === len ? /** @type {Uint8Array<ArrayBuffer>} */ (joined.pop()) : new Uint8Array(len);
      for (let k = i, at = 0; k < j; at += writes[k++].bytes.length) buf.set(writes[k].bytes, at);
      await sink.write({ offset: writes[i].offset, bytes: buf }, joined);
      i = j;
    }
    pool.push(bytes);
  }
  for (const w of /** @type {LayoutWrite[]} */ (layout.finish())) await sink.write(w);
  const len = layout.fileLen();
  await sink.close(len);
  return { size: len, blocks: layout.placed() };
}

/**
 * The new disk as a Blob, for a download. A fixed VHD: the raw image composed of file slices
 * and the footer. The others: their data held in memory (refused past DOWNLOAD_LIMIT), put in
 * file order with the layout's structures, the gaps shared zero-filled Blobs.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {WasmNewDisk} layout
 * @param {ProgressOptions} [options]
 * @returns {Promise<{ blob: Blob, blocks: number }>}
 */
export async function composeVhd(disk, sources, names, layout, { signal, onProgress } = {}) {
  if (layout.flat()) {
    const raw = await composeRaw(disk, sources, names, { signal, onProgress });
    // Past the disk's end, an Azure-ready copy's zeros.
    const tail = zeroBlobs()(layout.size() - disk.size());
    const blob = new Blob([raw, ...tail, ...(/** @type {LayoutWrite[]} */ (layout.finish())).map((w) => w.bytes)], { type: 'application/octet-stream' });
    if (blob.size !== layout.fileLen()) throw new Error(`the VHD came out ${blob.size} bytes long instead of ${layout.fileLen()} (a bug)`);
    return { blob, blocks: 0 };
  }
  /** @type {LayoutWrite[]} */
  const parts = [];
  let held = 0;
  const current = { block: -1, at: 0 };
  for await (const window of dataWindows(disk, sources, names, layout.blockSize(), { signal, onProgress })) {
    for (const [start, part] of window.parts) {
      // A block's part of a window is copied, so that the window's other blocks are not held.
      const bytes = part === window.bytes ? part : part.slice();
      held += bytes.length;
      if (held > DOWNLOAD_LIMIT) {
        throw new Error(
          `this disk holds more than ${DOWNLOAD_LIMIT / MIB} MiB of data: saved as a download, the whole ${layout.format().toUpperCase()} would have to be held in memory first. Use a browser with the File System Access API (Chrome, Edge), which writes it to the file as it goes, or the command line: vhd-viewer convert IN OUT`,
        );
      }
      const { at, writes } = placeWindow(layout, current, start);
      parts.push(...writes, { offset: at, bytes });
    }
  }
  parts.push(.../** @type {LayoutWrite[]} */ (layout.finish()));
  parts.sort((a, b) => a.offset - b.offset);
  const zeros = zeroBlobs();
  const len = layout.fileLen();
  /** @type {BlobPart[]} */
  const pieces = [];
  let pos = 0;
  for (const w of parts) {
    if (w.offset < pos) throw new Error(`a write at ${w.offset} overlaps the one before it, which ends at ${pos} (a bug)`);
    pieces.push(...zeros(w.offset - pos), w.bytes);
    pos = w.offset + w.bytes.length;
  }
  pieces.push(...zeros(len - pos));
  const blob = new Blob(pieces, { type: 'application/octet-stream' });
  if (blob.size !== len) throw new Error(`the ${layout.format().toUpperCase()} came out ${blob.size} bytes long instead of ${len} (a bug)`);
  return { blob, blocks: layout.placed() };
}

// ------------------------------------------------------------ the raw image

/** Bytes of the virtual disk assembled in memory before one write: bounds memory and writes. */
const WINDOW = 8 * MIB;

/**
 * Writes the raw image to a FileSystemWritableFileStream, window by window (8 MiB, read ahead by
 * `diskWindows`), a few writes in flight. Windows that hold no data are not written: the file
 * was sized first, so they already read as zeros. A write that gives its buffer back (the
 * Worker's stand-in for a writable that copies) has it filled again. With `size` larger than the
 * disk's, the file is that long, zeros past the disk's end (an Azure-ready copy's data).
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {Writable} writable
 * @param {ProgressOptions & { size?: number }} [options]
 */
export async function writeRaw(disk, sources, names, writable, { signal, onProgress, size: len } = {}) {
  const size = disk.size();
  await writable.truncate(Math.max(size, len ?? size)); // zero-filled; data windows overwrite their part
  /** @type {Promise<unknown>[]} */
  const writing = [];
  /** @type {Uint8Array<ArrayBuffer>[]} windows written, given back to be filled again */
  const pool = [];
  for await (const { start, bytes } of diskWindows(disk, sources, names, WINDOW, { signal, onProgress, pool })) {
    const p = writable.write({ type: 'write', position: start, data: bytes }).then((back) => {
      if (back instanceof Uint8Array && back.length === WINDOW) pool.push(/** @type {Uint8Array<ArrayBuffer>} */ (back));
    });
    p.catch(() => {}); // awaited below, where a failure is thrown
    writing.push(p);
    if (writing.length > 2) await writing.shift();
  }
  for (const p of writing.splice(0)) await p;
  onProgress?.(size, size);
}

/** Zero-filled Blobs of sizes 1 MiB, 64 MiB, 4 GiB, ... composed from each other, not allocated. */
function zeroBlobs() {
  const levels = [{ size: MIB, blob: new Blob([new Uint8Array(MIB)]) }];
  for (let i = 0; i < 3; i++) {
    const prev = levels[levels.length - 1];
    levels.push({ size: prev.size * 64, blob: new Blob(new Array(64).fill(prev.blob)) });
  }
  /** @param {number} len */
  return (len) => {
    /** @type {Blob[]} */
    const parts = [];
    for (let l = levels.length - 1; l >= 0 && len > 0; l--) {
      while (len >= levels[l].size) {
        parts.push(levels[l].blob);
        len -= levels[l].size;
      }
    }
    if (len > 0) parts.push(levels[0].blob.slice(0, len));
    return parts;
  };
}

/**
 * The raw image as a Blob made of slices of the layers' Blobs and shared zero Blobs (no bytes
 * copied). Needs every source to have a `blob`.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {ProgressOptions} [options]
 */
export async function composeRaw(disk, sources, names, { signal, onProgress } = {}) {
  const zeros = zeroBlobs();
  const size = disk.size();
  /** @type {Blob[]} */
  let parts = [];
  /** @type {Blob[]} */
  const groups = [];
  let last = 0;
  for await (const e of allExtents(disk, sources, signal)) {
    if (e.kind === 'missing') throw missingError(e, names);
    if (e.kind === 'zero') parts.push(...zeros(e.len));
    else {
      const src = sources[e.layer];
      if (e.fileOffset + e.len > src.byteLength) throw new Error(`layer ${names[e.layer]} is cut short: byte ${src.byteLength} of its file is missing`);
      parts.push(/** @type {Blob} */ (src.blob).slice(e.fileOffset, e.fileOffset + e.len));
    }
    if (parts.length >= 4096) {
      groups.push(new Blob(parts));
      parts = [];
    }
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      onProgress?.(e.offset + e.len, size);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  groups.push(new Blob(parts));
  onProgress?.(size, size);
  const blob = new Blob(groups, { type: 'application/octet-stream' });
  if (blob.size !== size) throw new Error(`the image came out ${blob.size} bytes long instead of ${size} (a bug)`);
  return blob;
}

// ------------------------------------------------------------ copies by the core's writers

/** A write the core hands over: `bytes` at file offset `offset`.
 * @typedef {{ offset: number, bytes: Uint8Array<ArrayBuffer> }} CopyWrite */

/** Bytes the core hands over per step at least (fewer at the end). */
const STEP_BYTES = 4 * MIB;

/** Writes into a file being saved. */
class FileSink {
  /** @param {Writable} writable */
  constructor(writable) {
    this.writable = writable;
    /** @type {Promise<unknown>[]} writes not yet done (a few in flight while the core works on) */
    this.writing = [];
  }
  /**
   * Hands `w` to the file and comes back once at most WRITES_IN_FLIGHT writes are pending (each
   * is a round trip to the main thread and the file: waiting for every one left the core idle,
   * 36 s instead of 20 s for the 256 GiB test disk's 1.3 GiB copy into a Chromium file). The bytes are
   * the write's own; when the writable gives them back (the Worker's stand-in for a writable that
   * copies), they go into `pool`, if given, to be filled again.
   * @param {CopyWrite} w
   * @param {Uint8Array<ArrayBuffer>[]} [pool]
   */
  async write(w, pool) {
    const len = w.bytes.length; // the bytes move to the main thread: w.bytes is empty once written
    const p = this.writable.write({ type: 'write', position: w.offset, data: w.bytes }).then((back) => {
      if (pool && back instanceof Uint8Array && back.length === len) pool.push(/** @type {Uint8Array<ArrayBuffer>} */ (back));
    });
    p.catch(() => {}); // awaited below, where a failure is thrown
    this.writing.push(p);
    while (this.writing.length > WRITES_IN_FLIGHT) await this.writing.shift();
  }
  /** @param {number} len */
  async close(len) {
    for (const p of this.writing.splice(0)) await p;
    await this.writable.truncate(len);
    return null;
  }
}

/** Writes of a copy pending at once. */
const WRITES_IN_FLIGHT = 4;

/** Holds the copy in memory for a download (refused past DOWNLOAD_LIMIT bytes). */
class MemorySink {
  constructor() {
    /** @type {CopyWrite[]} */
    this.writes = [];
    this.held = 0;
  }
  /** @param {CopyWrite} w */
  async write(w) {
    this.held += w.bytes.length;
    if (this.held > DOWNLOAD_LIMIT) {
      throw new Error(
        `the copy holds more than ${DOWNLOAD_LIMIT / MIB} MiB: saved as a download, it would have to be held in memory first. Use a browser with the File System Access API (Chrome, Edge), which writes it to the file as it goes, or the command line (vhd-viewer compact, repair, relink)`,
      );
    }
    this.writes.push(w);
  }
  /**
   * The copy as a Blob of exactly `len` bytes: the writes in order, zeros between them.
   * @param {number} len
   */
  async close(len) {
    const writes = this.writes.sort((a, b) => a.offset - b.offset);
    /** @type {BlobPart[]} */
    const parts = [];
    const zeros = new Uint8Array(MIB);
    let at = 0;
    const pad = (/** @type {number} */ to) => {
      for (; at < to; ) {
        const n = Math.min(to - at, zeros.length);
        parts.push(zeros.subarray(0, n));
        at += n;
      }
    };
    for (const w of writes) {
      if (w.offset < at) throw new Error(`two writes of the copy overlap at byte ${w.offset} (a bug)`);
      pad(w.offset);
      parts.push(w.bytes);
      at += w.bytes.length;
    }
    if (at > len) throw new Error(`the copy was written to byte ${at}, past its length ${len} (a bug)`);
    pad(len);
    this.writes = [];
    return new Blob(parts, { type: 'application/octet-stream' });
  }
}

/**
 * Runs `job` to its end, writing the copy into `writable` (or, without one, into a Blob).
 * Progress is `(done, total)` in the job's units (blocks; bytes for a fixed disk's repair).
 * @param {WasmCopy} job
 * @param {Writable | null} writable
 * @param {ProgressOptions} [options]
 * @returns {Promise<CopyReport & { blob?: Blob }>}
 */
export async function runCopy(job, writable, { signal, onProgress } = {}) {
  const sink = writable ? new FileSink(writable) : new MemorySink();
  let last = 0;
  for (;;) {
    signal?.throwIfAborted();
    const writes = /** @type {CopyWrite[] | null} */ (job.step(STEP_BYTES));
    if (writes === null) break;
    for (const w of writes) await sink.write(w);
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      const [done, total] = job.progress();
      onProgress?.(done, total);
      // A macrotask, so that a stop sent to the Worker is heard even when nothing was written.
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  const { writes, ...report } = /** @type {Omit<CopyReport, 'bytes_read' | 'memory'> & { writes: CopyWrite[] }} */ (normalize(job.finish()));
  for (const w of writes) await sink.write(w);
  const blob = await sink.close(report.file_len);
  const [done, total] = job.progress();
  onProgress?.(done, total);
  const counted = { ...report, bytes_read: job.bytesRead(), memory: wasmMemoryBytes() };
  return blob ? { ...counted, blob } : counted;
}

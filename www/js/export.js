// The flattened raw image of the virtual disk (`vhd-viewer cat`), made in the Worker (session.js),
// in constant memory, in one of two ways:
// - written into a file the main thread saves into (save.js: the File System Access API's
//   writable, reached through the Worker's stand-in for it): the file is sized first (so
//   zero-filled stretches cost nothing) and the data extents are written at their offsets;
// - as a Blob composed of slices of the dropped files and shared zero-filled Blobs, for a
//   download: the browser streams it from the files as it saves, nothing is copied first.

import { planRange, planSpan } from './driver.js';
import { readRanges } from './source.js';

/**
 * @import { WasmDisk } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { Extent, MissingExtent, Writable } from './types.js'
 * @import { ProgressOptions } from './driver.js'
 */

const MIB = 1 << 20;

/**
 * Walks the whole virtual disk's extents, span by span; a stretch that no layer allocates is
 * planned in one step (as the command line does), so that a disk whose footer claims an absurd
 * size with few blocks is walked quickly.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {AbortSignal} [signal]
 * @returns {AsyncGenerator<Extent>}
 */
async function* allExtents(disk, sources, signal) {
  const size = disk.size();
  const span = planSpan(disk);
  for (let pos = 0; pos < size; ) {
    const stop = Math.max(Math.min(pos + span, size), disk.stepEnd(pos));
    for (const e of await planRange(disk, sources, pos, stop - pos, signal)) yield e;
    pos = stop;
  }
}

/**
 * @param {MissingExtent} e
 * @param {string[]} names
 */
function missingError(e, names) {
  return new Error(
    `virtual bytes ${e.offset}..${e.offset + e.len} cannot be read: they come from the parent of ${names[e.layer] ?? 'layer ' + e.layer}, which was not given (or the file is cut short). Add the parent file to export the whole disk.`,
  );
}

/** Bytes of the virtual disk assembled in memory before one write: bounds memory and writes. */
const WINDOW = 8 * MIB;
/** Data of one file lying at most this far apart is read with one `slice()`. */
const GAP = 64 * 1024;

/**
 * Writes the raw image to a FileSystemWritableFileStream. The disk is assembled window by window
 * (8 MiB): the window's data extents are read with their neighbours in the same file merged into
 * one `slice()` (several in flight), copied into place, and the window is written once. Windows
 * that hold no data are not written: the file was sized first, so they already read as zeros.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {Writable} writable
 * @param {ProgressOptions} [options]
 */
export async function writeRaw(disk, sources, names, writable, { signal, onProgress } = {}) {
  const size = disk.size();
  await writable.truncate(size); // zero-filled; data windows overwrite their part
  let last = 0;
  let winStart = 0;
  /** @type {{ offset: number, len: number, layer: number, fileOffset: number }[]} */
  let pending = []; // the current window's data extents
  /** @type {Promise<unknown>[]} windows being written: reading the next overlaps writing these */
  const writing = [];
  /** @param {{ type: 'write', position: number, data: Uint8Array<ArrayBuffer> }} w */
  const put = async (w) => {
    const p = writable.write(w);
    p.catch(() => {}); // awaited below, where a failure is thrown
    writing.push(p);
    if (writing.length > 2) await writing.shift();
  };
  const flush = async () => {
    if (pending.length === 0) return;
    const buf = new Uint8Array(Math.min(winStart + WINDOW, size) - winStart);
    /** @type {Map<number, typeof pending>} */
    const byLayer = new Map();
    for (const p of pending) {
      let list = byLayer.get(p.layer);
      if (!list) byLayer.set(p.layer, (list = []));
      list.push(p);
    }
    await Promise.all(
      [...byLayer].map(async ([layer, list]) => {
        const parts = await readRanges(sources[layer], list.map((p) => ({ offset: p.fileOffset, len: p.len })), signal, GAP);
        list.forEach((p, i) => {
          if (parts[i].length < p.len) throw new Error(`layer ${names[layer]} is cut short: byte ${p.fileOffset + parts[i].length} of its file is missing`);
          buf.set(parts[i], p.offset - winStart);
        });
      }),
    );
    pending = [];
    await put({ type: 'write', position: winStart, data: buf });
  };
  for await (const e of allExtents(disk, sources, signal)) {
    if (e.kind === 'missing') throw missingError(e, names);
    // Split the extent at window boundaries; a window is written when the walk leaves it.
    for (let off = e.offset, end = e.offset + e.len; off < end; ) {
      if (off >= winStart + WINDOW) {
        await flush();
        winStart = Math.floor(off / WINDOW) * WINDOW;
      }
      const n = Math.min(end, winStart + WINDOW) - off;
      if (e.kind === 'data') pending.push({ offset: off, len: n, layer: e.layer, fileOffset: e.fileOffset + (off - e.offset) });
      off += n;
    }
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      onProgress?.(e.offset + e.len, size);
    }
  }
  await flush();
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

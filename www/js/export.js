// The flattened raw image of the virtual disk (`vhd-viewer cat`), made in the Worker (session.js),
// in constant memory, in one of two ways:
// - written into a file the main thread saves into (save.js: the File System Access API's
//   writable, reached through the Worker's stand-in for it): the file is sized first (so
//   zero-filled stretches cost nothing) and the data extents are written at their offsets;
// - as a Blob composed of slices of the dropped files and shared zero-filled Blobs, for a
//   download: the browser streams it from the files as it saves, nothing is copied first.

import { allExtents, diskWindows, missingError } from './driver.js';

/**
 * @import { WasmDisk } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { Writable } from './types.js'
 * @import { ProgressOptions } from './driver.js'
 */

const MIB = 1 << 20;

/** Bytes of the virtual disk assembled in memory before one write: bounds memory and writes. */
const WINDOW = 8 * MIB;

/**
 * Writes the raw image to a FileSystemWritableFileStream, window by window (8 MiB, read ahead by
 * `diskWindows`), a few writes in flight. Windows that hold no data are not written: the file
 * was sized first, so they already read as zeros. A write that gives its buffer back (the
 * Worker's stand-in for a writable that copies) has it filled again.
 * @param {WasmDisk} disk
 * @param {Source[]} sources
 * @param {string[]} names
 * @param {Writable} writable
 * @param {ProgressOptions} [options]
 */
export async function writeRaw(disk, sources, names, writable, { signal, onProgress } = {}) {
  const size = disk.size();
  await writable.truncate(size); // zero-filled; data windows overwrite their part
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

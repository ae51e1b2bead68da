// "Compact…", "Repaired copy…" and "Relinked child…": the core's writers that copy a disk's own
// structures (`vhd-viewer compact`, `repair`, `relink`), run in the Worker (session.js). The core
// (WasmCopy) reads the files synchronously and hands over the copy's bytes a few windows at a
// time; this module writes them into the file the main thread saves into (save.js) before it asks
// for more, so that memory stays flat whatever the disk's size, and a stop is heard between two
// steps. Without the File System Access API the copy is a download: its bytes are held in memory
// until it is saved, so a copy larger than DOWNLOAD_LIMIT is refused.

import { normalize } from './format.js';
import { DOWNLOAD_LIMIT } from './save-vhd.js';

/**
 * @import { WasmCopy } from '../pkg/vhd_viewer.js'
 * @import { ProgressOptions } from './driver.js'
 * @import { CopyReport, Writable } from './types.js'
 */

/** A write the core hands over: `bytes` at file offset `offset`.
 * @typedef {{ offset: number, bytes: Uint8Array<ArrayBuffer> }} CopyWrite */

const MIB = 1 << 20;
/** Bytes the core hands over per step at least (fewer at the end). */
const STEP_BYTES = 4 * MIB;

/** Writes into a file being saved. */
class FileSink {
  /** @param {Writable} writable */
  constructor(writable) {
    this.writable = writable;
  }
  /** @param {CopyWrite} w */
  async write(w) {
    await this.writable.write({ type: 'write', position: w.offset, data: w.bytes });
  }
  /** @param {number} len */
  async close(len) {
    await this.writable.truncate(len);
    return null;
  }
}

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
  const { writes, ...report } = /** @type {CopyReport & { writes: CopyWrite[] }} */ (normalize(job.finish()));
  for (const w of writes) await sink.write(w);
  const blob = await sink.close(report.file_len);
  const [done, total] = job.progress();
  onProgress?.(done, total);
  return blob ? { ...report, blob } : report;
}

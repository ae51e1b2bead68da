// One opened set of files in the Worker (worker.js): the WebAssembly objects, the sources, and
// every question the page and the element ask about the disk. No DOM here: this runs off the main
// thread, and what it answers is plain data (or Blobs) that crosses to it by postMessage.

import { openFiles, chainDisk, layerInfo } from './open.js';
import { readVirtual, planRange, scanProvenance, deepCheck } from './driver.js';
import { normalize } from '../common/format.js';
import { writeRaw, composeRaw } from './save.js';
import { newDisk, writeVhd, composeVhd } from './save.js';
import { runCopy } from './save.js';

/**
 * @import { WasmCopy, WasmDisk, WasmVolumes } from '../../pkg/vhd_viewer.js'
 * @import { Source } from '../common/source.js'
 * @import { BlockTable, ByteRange, ChainView, CopyRequest, Extent, LayerStructures, OpenedSummary, ResizePlan, SaveKind, Survey, Unreadable, Writable } from '../common/types.js'
 * @import { Bindings, Opened } from './types.js'
 */

/**
 * The synchronous `read(layer, offset, len)` the core's file-system readers, diff and copies take,
 * over `sources` (the file-system readers want Read + Seek; blocking is allowed in a Worker).
 * @param {Source[]} sources
 */
function syncReader(sources) {
  return (/** @type {number} */ layer, /** @type {number} */ offset, /** @type {number} */ len) => {
    const src = sources[layer];
    if (!src.sliceSync) throw new Error(`${src.name} is read by the page, not by its worker (a source with its own slice(), or a file this browser lets only the page read), so its file systems cannot be read here`);
    return src.sliceSync(offset, offset + len);
  };
}

/**
 * The core's progress function for a long synchronous job: tells `progress` at most every 100 ms
 * (and at the end); never stops the job (a Worker of its own is terminated to stop it).
 * @param {(p: { done: number, total: number }) => void} progress
 */
function throttled(progress) {
  let last = 0;
  return (/** @type {number} */ done, /** @type {number} */ total) => {
    const now = performance.now();
    if (now - last > 100 || done === total) {
      last = now;
      progress({ done, total });
    }
    return true;
  };
}

export class Session {
  /**
   * @param {Bindings} wasm
   * @param {Source[]} sources one per input, in the order given
   */
  constructor(wasm, sources) {
    this.wasm = wasm;
    this.inputs = sources;
    /** @type {Opened | null} */
    this.opened = null;
    /** @type {WasmDisk | null} */
    this.disk = null;
    this.chainIndex = 0;
    /** @type {string[]} */
    this.names = [];
    /** @type {Source[]} */
    this.sources = [];
    /** @type {Map<number, WasmVolumes>} the file systems as of each layer asked about */
    this.volumes = new Map();
    /** @type {Uint8Array[]} a job's session: the keys of the volumes unlocked in the page's (takeKeys) */
    this.keys = [];
  }

  /** Frees the WebAssembly objects (the session ends). */
  close() {
    this.dropVolumes();
    for (const o of [this.disk, this.opened?.wfiles]) {
      try {
        o?.free();
      } catch {
        /* already freed */
      }
    }
    this.disk = null;
    this.opened = null;
  }

  /** What every source has read so far, in the order given. */
  stats() {
    return this.inputs.map((s) => ({ ...s.stats }));
  }

  /**
   * Opens every input and sorts them into chains. One input's structures are told to
   * `onStructures` before its block table is read.
   * @param {AbortSignal} signal
   * @param {(info: LayerStructures) => void} [onStructures]
   * @returns {Promise<OpenedSummary>}
   */
  async open(signal, onStructures) {
    const opened = await openFiles(this.wasm, this.inputs, { signal, onStructures });
    this.opened = opened;
    const files = opened.files.map(({ source: _s, blob: _b, wi: _w, ...f }) => f);
    return { files, chains: opened.chains, best: opened.best };
  }

  /**
   * The survey of the inputs as one folder's files (`vhd-viewer chains --json`): each file's
   * identifying structures only, read synchronously, exactly the bytes the core asks. The inputs'
   * names are their paths under the folder. Blocks the Worker: the page runs it in a Worker of
   * its own, stopped by ending it. `progress` is told how many files were reached.
   * @param {(p: { done: number, total: number }) => void} progress
   * @returns {Survey}
   */
  survey(progress) {
    const read = syncReader(this.inputs);
    const total = this.inputs.length;
    const tell = throttled(progress);
    let at = -1;
    const survey = this.wasm.surveyFiles(
      this.inputs.map((s) => s.name),
      (/** @type {number} */ i, /** @type {number} */ offset, /** @type {number} */ len) => {
        if (i !== at) {
          at = i;
          tell(i, total);
        }
        return read(i, offset, len);
      },
      Float64Array.from(this.inputs, (s) => s.byteLength),
    );
    tell(total, total);
    return /** @type {Survey} */ (normalize(survey));
  }

  /** @returns {Opened} */
  get live() {
    if (!this.opened) throw new Error('no files were opened');
    return this.opened;
  }

  /** @returns {WasmDisk} */
  get core() {
    if (!this.disk) throw new Error('no disk is open');
    return this.disk;
  }

  /**
   * Makes chain `k` the disk every later question is about.
   * @param {number} k
   * @returns {ChainView}
   */
  chain(k) {
    const made = chainDisk(this.live, k);
    this.dropVolumes();
    this.disk?.free();
    this.disk = made.disk;
    this.chainIndex = k;
    this.names = made.names;
    this.sources = made.sources;
    const d = made.disk;
    const layers = made.files.map((f, i) => {
      const order = /** @type {{ lsb_first: boolean, sector_size: number }} */ (d.bitmapOrder(i));
      return {
        name: f.name,
        byteLength: f.size,
        diskType: f.identity.diskType,
        format: /** @type {'vhd' | 'vhdx'} */ (d.format(i)),
        blockSize: d.blockSize(i),
        bitmapSize: d.bitmapSize(i),
        bitmapLsbFirst: order.lsb_first,
        bitmapSectorSize: order.sector_size,
        refusals: { compact: d.writerRefusal(i, 'compact') ?? null, repair: d.writerRefusal(i, 'repair') ?? null, relink: d.writerRefusal(i, 'relink') ?? null, resize: d.writerRefusal(i, 'resize') ?? null },
        size: d.layerSize(i),
        azureSize: d.azureSize(i),
        azureRefusal: d.azureRefusal(i) ?? null,
      };
    });
    // Each file's own view (the chain from it down), for the structures of any layer at once.
    const layerInfos = made.names.map((_, i) => (i === 0 ? made.info : layerInfo(this.live, k, i, made.names)));
    // Whether Azure takes the disk, rule by rule (`check --for azure`).
    const fit = /** @type {import('../common/types.js').FitReport} */ (normalize(d.fit('azure')));
    return { info: made.info, names: made.names, missing: made.missing, size: d.size(), sectorSize: d.sectorSize(), chunkSize: d.chunkSize(), layers, layerInfos, fit };
  }

  /**
   * The info of layer `i`'s own file (the chain from it down).
   * @param {number} i
   */
  layerInfo(i) {
    return layerInfo(this.live, this.chainIndex, i, this.names);
  }

  /**
   * Layer `layer`'s block table as the core gives it, whatever the format and size.
   * @param {number} layer
   * @returns {BlockTable}
   */
  bat(layer) {
    return /** @type {BlockTable} */ (this.core.blockTable(layer));
  }

  /**
   * Virtual bytes with where they come from; a `missing` extent says why it cannot be read.
   * @param {number} offset
   * @param {number} len
   * @param {AbortSignal} signal
   */
  async read(offset, len, signal) {
    const d = this.core;
    const { bytes, extents } = await readVirtual(d, this.sources, offset, len, signal);
    /** @type {(Extent & { why?: Unreadable | null })[]} */
    const out = extents.map((e) => (e.kind === 'missing' ? { ...e, why: /** @type {Unreadable | null} */ (normalize(d.unreadable(e.layer, e.offset, e.len))) } : e));
    return { bytes, extents: out };
  }

  /**
   * Bytes `[start, end)` of layer `layer`'s file.
   * @param {number} layer
   * @param {number} start
   * @param {number} end
   * @param {AbortSignal} signal
   */
  fileBytes(layer, start, end, signal) {
    return this.sources[layer].slice(start, end, signal);
  }

  /**
   * Virtual `[start, start + len)` sector by sector: which layer each sector comes from
   * (255 zeros, 254 missing); with `layer` and `block`, that block's sector bitmap too.
   * @param {{ layer: number | null, block: number | null, start: number, len: number }} what
   * @param {AbortSignal} signal
   */
  async sectors({ layer, block, start, len }, signal) {
    const d = this.core;
    /** @type {ByteRange | null} */
    let range = null;
    /** @type {Uint8Array | null} */
    let bitmap = null;
    if (layer !== null && block !== null) {
      range = d.bitmapRange(layer, block);
      if (range) {
        bitmap = d.bitmap(layer, block) ?? null;
        if (!bitmap) {
          bitmap = await this.sources[layer].slice(range.offset, range.offset + range.len, signal);
          d.provideBitmap(layer, block, bitmap);
        }
      }
    }
    await planRange(d, this.sources, start, len, signal);
    // Planned just above: the bitmaps it needs are in the cache.
    const sources = /** @type {Uint8Array} */ (d.sectorSources(start, len));
    const dataOffset = layer !== null && block !== null ? (d.blockData(layer, block) ?? null) : null;
    return { range, bitmap, sources, dataOffset };
  }

  /**
   * The provenance map's first picture, from the block tables alone: `{ masks, needed }`, where
   * `needed` counts the cells whose block bitmaps decide it.
   * @param {number} cellSize
   */
  estimate(cellSize) {
    const d = this.core;
    const masks = d.scanStart(cellSize);
    const needed = /** @type {import('../common/types.js').ScanStep} */ (d.scanStep(0)).total;
    d.scanStart(cellSize);
    return { masks, needed };
  }

  /**
   * The exact provenance map: every block bitmap read. Progress: `{ done, total, masks? }`.
   * Stopped, it answers the masks as far as it got (`{ stopped: true, masks }`) to the next call.
   * @param {number} cellSize
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number, masks?: Uint32Array }) => void} progress
   */
  async scan(cellSize, signal, progress) {
    const d = this.core;
    let lastMasks = 0;
    return scanProvenance(d, this.sources, cellSize, {
      signal,
      onProgress: (done, total, masks) => {
        const now = performance.now();
        if (!masks && now - lastMasks > 400) {
          lastMasks = now;
          progress({ done, total, masks: d.scanMasks() });
        } else progress({ done, total });
      },
    });
  }

  /** The masks as far as a stopped scan got (exact where read), and a fresh start for the next. */
  scanStopped(/** @type {number} */ cellSize) {
    const d = this.core;
    const masks = d.scanMasks();
    d.scanStart(cellSize);
    return masks;
  }

  /**
   * The deep check: every allocated block's bitmap and left-over data. Progress `{ done, total }`.
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number }) => void} progress
   */
  check(signal, progress) {
    return deepCheck(this.core, this.sources, { signal, onProgress: (done, total) => progress({ done, total }) });
  }

  /**
   * The flattened raw image: into `writable` (on the main thread), or as a Blob composed of slices
   * of the files given (`writable` null). Progress `{ done, total }` in bytes.
   * @param {Writable | null} writable
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number }) => void} progress
   */
  async raw(writable, signal, progress) {
    const opts = { signal, onProgress: (/** @type {number} */ done, /** @type {number} */ total) => progress({ done, total }) };
    if (writable) {
      await writeRaw(this.core, this.sources, this.names, writable, opts);
      return { size: this.core.size() };
    }
    const blob = await composeRaw(this.core, this.sources, this.names, opts);
    return { size: blob.size, blob };
  }

  /**
   * A new standalone VHD or VHDX of the disk as of layer `layer` (0: the whole chain), `kind`
   * dynamic or fixed, VHD or VHDX, with blocks of `blockSize` bytes and a VHDX's logical sectors
   * of `sectorSize` (0: the defaults, `newDisk`): into `writable`, or as a Blob (`writable` null).
   * Progress `{ done, total }` in bytes.
   * @param {SaveKind} kind
   * @param {number} layer
   * @param {number} blockSize
   * @param {number} sectorSize
   * @param {Writable | null} writable
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number }) => void} progress
   */
  async vhd(kind, layer, blockSize, sectorSize, writable, signal, progress) {
    const cut = layer > 0 ? this.core.asOfLayer(layer) : null;
    const disk = cut ?? this.core;
    const sources = this.sources.slice(layer);
    const names = this.names.slice(layer);
    const vhd = await newDisk(disk, kind, blockSize, sectorSize);
    // A copy whose sectors are not the ones the partition table counts in is refused, as
    // `vhd-viewer convert` refuses it.
    const why = this.files(layer).sectorSizeRefusal(vhd.sectorSize());
    if (why) {
      vhd.free();
      cut?.free();
      throw new Error(why);
    }
    const opts = { signal, onProgress: (/** @type {number} */ done, /** @type {number} */ total) => progress({ done, total }) };
    try {
      if (writable) return await writeVhd(disk, sources, names, vhd, writable, opts);
      const { blob, blocks } = await composeVhd(disk, sources, names, vhd, opts);
      return { size: blob.size, blocks, blob };
    } finally {
      vhd.free();
      cut?.free();
    }
  }

  /**
   * The core's writer of a copy of layer `k`'s file (the disk as of that layer: the file and its
   * chain below), made by `make` from that disk and a synchronous reader of its files.
   * @param {number} k
   * @param {(disk: WasmDisk, read: (i: number, offset: number, len: number) => Uint8Array) => WasmCopy} make
   */
  copyJob(k, make) {
    if (!Number.isInteger(k) || k < 0 || k >= this.names.length) throw new Error(`there is no layer ${k}: the chain has layers 0 to ${this.names.length - 1}`);
    const cut = k > 0 ? this.core.asOfLayer(k) : null;
    try {
      return make(cut ?? this.core, syncReader(this.sources.slice(k)));
    } finally {
      cut?.free();
    }
  }

  /**
   * A copy of layer `req.layer`'s file made by the core's writers (`vhd-viewer compact`, `repair`,
   * `relink`, `resize`): into `writable`, or as a Blob (`writable` null). Reads synchronously.
   * Progress `{ done, total }` in blocks (bytes for a fixed disk's repair or resize).
   * @param {CopyRequest} req
   * @param {Writable | null} writable
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number }) => void} progress
   */
  async copy(req, writable, signal, progress) {
    const k = req.layer ?? 0;
    const { WasmCopy } = this.wasm;
    const job = this.copyJob(k, (disk, read) => {
      if (req.op === 'compact') return WasmCopy.compact(disk, read, !!req.trim);
      if (req.op === 'repair') return WasmCopy.repair(disk, read, !!req.scrub);
      if (req.op === 'relink') return WasmCopy.relink(disk, read, this.names[k], this.names[k + 1] ?? '', req.relative, req.absolute ?? '');
      if (req.op === 'resize') return WasmCopy.resize(disk, read, req.size, req.gptFix ?? true);
      throw new Error(`no copy is called ${/** @type {{ op: string }} */ (req).op}`);
    });
    try {
      return await runCopy(job, writable, { signal, onProgress: (done, total) => progress({ done, total }) });
    } finally {
      job.free();
    }
  }

  /**
   * What resizing layer `k`'s file to `size` bytes would do (`vhd-viewer resize`), or the core's
   * refusal, thrown (a shrink past a partition or a file system): the plan the copy follows,
   * worked out without writing anything.
   * @param {number} k
   * @param {number} size
   * @param {boolean} gptFix
   * @returns {ResizePlan}
   */
  resizePlan(k, size, gptFix) {
    const { WasmCopy } = this.wasm;
    const job = this.copyJob(k, (disk, read) => WasmCopy.resize(disk, read, size, gptFix));
    try {
      return /** @type {ResizePlan} */ (normalize(job.plan()));
    } finally {
      job.free();
    }
  }

  // ------------------------------------------------------------ files on the disk

  /** Frees the file systems opened (another chain is shown, or the session ends). */
  dropVolumes() {
    for (const v of this.volumes.values()) v.free();
    this.volumes.clear();
  }

  /**
   * The partitions and file systems of the disk as of layer `k` (0: the whole chain), opened once.
   * @param {number} k
   * @returns {WasmVolumes}
   */
  files(k) {
    let v = this.volumes.get(k);
    if (!v) {
      const cut = k > 0 ? this.core.asOfLayer(k) : null;
      try {
        v = new this.wasm.WasmVolumes(cut ?? this.core, syncReader(this.sources.slice(k)));
      } finally {
        cut?.free();
      }
      this.volumes.set(k, v);
    }
    return v;
  }

  /**
   * What opens, without their keys' stretch, every BitLocker volume unlocked in this session
   * (in the volumes of any layer) or handed to it (`takeKeys`): copies, free to transfer.
   * @returns {Uint8Array[]}
   */
  heldKeys() {
    const keys = this.keys.map((k) => k.slice());
    for (const v of this.volumes.values()) for (const k of v.volumeKeys()) keys.push(k);
    return keys;
  }

  /**
   * `files(k)` with every BitLocker volume this session holds the key of (`heldKeys`) opened: a
   * search as of a layer, and the timeline's job, see inside the volumes unlocked in the page
   * whatever layer they were unlocked in.
   * @param {number} k
   */
  unlockedFiles(k) {
    const v = this.files(k);
    const keys = this.heldKeys();
    if (keys.length > 0) v.unlockWith(keys);
    return v;
  }

  /**
   * Unlocks BitLocker partition `partition` of the disk as of layer `k` with a password, a
   * recovery password or a startup key file's bytes: the key stretch runs here, a step at a time
   * (progress `{ done, total }` in rounds; `signal` stops it between steps). The secret stays in
   * this Worker: the answer is the partition table, which names no key; what decrypts the volume
   * lives in the layer's WasmVolumes until the disk is closed.
   * @param {number} k
   * @param {number} partition
   * @param {'password' | 'recovery-password' | 'key-file'} kind
   * @param {string | Uint8Array} secret
   * @param {AbortSignal} signal
   * @param {(p: { done: number, total: number }) => void} progress
   */
  async unlock(k, partition, kind, secret, signal, progress) {
    const v = this.files(k);
    const job = v.unlockStart(partition, kind, secret);
    try {
      while (!v.unlockStep(job, 1 << 15)) {
        progress({ done: job.done(), total: job.total() });
        // Lets the Worker hear a Stop between steps.
        await new Promise((r) => setTimeout(r, 0));
        signal.throwIfAborted();
      }
    } finally {
      job.free();
    }
    return /** @type {import('../common/types.js').PartsTable} */ (normalize(v.partitions()));
  }

  /**
   * Posts on `port` (to a job's Worker: engine.js, job) what opens the BitLocker volumes unlocked
   * in this session again, without their keys' stretch; the answer to the main thread is null.
   * @param {MessagePort} port
   * @returns {null}
   */
  handKeys(port) {
    const keys = this.heldKeys();
    // Not closed here: Firefox may drop a message still in flight on a port closed at once (the
    // job's Worker then waited for its keys for ever); the receiver closes the channel.
    port.postMessage(keys, keys.map((k) => k.buffer));
    return null;
  }

  /**
   * A job's session: keeps the keys another Worker's `handKeys` posts on `port`, for its diff or
   * report to open the volumes unlocked in the page.
   * @param {MessagePort} port
   * @returns {Promise<null>}
   */
  takeKeys(port) {
    return new Promise((resolve) => {
      port.onmessage = (e) => {
        this.keys = e.data;
        port.close();
        resolve(null);
      };
    });
  }

  /**
   * Every place `pattern` occurs on the disk (`vhd-viewer search --json`), a step of about 4 MiB
   * of the layers' files at a time: each step's hits go to `progress` with the bytes searched,
   * and `signal` stops it between steps. The disk is the chain as of `layer`, its file systems
   * (`unlockedFiles(layer)`: every BitLocker volume whose key this session holds opened) name
   * each hit's owner; hits and `onlyLayer` are numbered in the whole chain.
   * @param {string} pattern
   * @param {import('../common/types.js').SearchOptions} options
   * @param {AbortSignal} signal
   * @param {(p: import('../common/types.js').SearchStep) => void} progress
   */
  async search(pattern, { hex, utf16, ignoreCase, layer, onlyLayer }, signal, progress) {
    const v = this.unlockedFiles(layer);
    const job = new this.wasm.WasmSearch(v, pattern, hex, utf16, ignoreCase, onlyLayer ?? undefined, layer);
    const total = this.core.size();
    try {
      for (;;) {
        const s = /** @type {{ hits: import('../common/types.js').SearchHit[], position: number, data_bytes: number, done: boolean }} */ (normalize(v.searchStep(job, 4 << 20)));
        progress({ done: s.position, total, read: s.data_bytes, hits: s.hits });
        if (s.done) return { searched: s.position, read: s.data_bytes };
        // Lets the Worker hear a Stop between steps.
        await new Promise((r) => setTimeout(r, 0));
        signal.throwIfAborted();
      }
    } finally {
      job.free();
    }
  }

  /**
   * What layers `to`..`from` - 1 of the chain changed over layer `from`, file by file (`vhd-viewer
   * diff --from FROM --to TO --json`). Reads synchronously: run it in a Worker of its own.
   * Progress `{ done, total }` (bytes compared, then one step per partition).
   * @param {number} from
   * @param {number} to
   * @param {(p: { done: number, total: number }) => void} progress
   */
  diff(from, to, progress) {
    const report = this.wasm.diffLayers(this.core, syncReader(this.sources), from, to, this.keys, throttled(progress));
    return /** @type {import('../common/types.js').DiffReport} */ (normalize(report));
  }

  /**
   * Every file's and directory's times on the disk as of layer `k` (`vhd-viewer timeline --json`,
   * deleted entries too with `deleted`), as the core's columns (src/wasm_timeline.rs). Reads
   * synchronously: run it in a Worker of its own. Progress `{ done, total }`: lines read, total 0.
   * @param {number} k
   * @param {boolean} deleted
   * @param {(p: { done: number, total: number }) => void} progress
   * @returns {import('../common/types.js').TimelineColumns}
   */
  timeline(k, deleted, progress) {
    return this.unlockedFiles(k).timeline(deleted, throttled(progress));
  }

  /**
   * The timeline as the file `vhd-viewer timeline --bodyfile` (`body`) or `--csv` (`csv`) writes,
   * as of layer `k`. Reads synchronously, as `timeline`.
   * @param {number} k
   * @param {boolean} deleted
   * @param {'body' | 'csv'} format
   * @param {(p: { done: number, total: number }) => void} progress
   * @returns {string}
   */
  timelineText(k, deleted, format, progress) {
    return this.unlockedFiles(k).timelineText(deleted, format, throttled(progress));
  }

  /**
   * The report (`vhd-viewer report`): one static HTML file with each file's SHA-256 (every byte is
   * read), the summary, the findings, the pictures, the partitions, what a child changed and every
   * structure's fields. Reads synchronously: run it in a Worker of its own. Progress `{ done, total }`
   * in thousandths.
   * @param {(p: { done: number, total: number }) => void} progress
   * @returns {string}
   */
  report(progress) {
    return this.wasm.report(this.core, syncReader(this.sources), this.names, this.keys, throttled(progress));
  }

  /**
   * A picture of the disk as SVG: the bytes `vhd-viewer draw` writes for the same files (file
   * names as given, top first). A bitmap, the provenance map and the partitions read the files
   * synchronously (the provenance map every block's bitmap); the Changes bar is drawn from the
   * report the page holds. Progress `{ done, total }`: bytes of the disk the provenance map has
   * worked out.
   * @param {import('../common/types.js').PictureRequest} what
   * @param {(p: { done: number, total: number }) => void} progress
   * @returns {string}
   */
  draw({ kind, layer, block, report, theme, width }, progress) {
    if (kind === 'changes') {
      if (!report) throw new Error('compare the layers first: the Changes bar is drawn from their report');
      return this.wasm.drawChanges(report, theme, width);
    }
    return this.wasm.drawPicture(this.core, syncReader(this.sources), kind, layer, block ?? 0, this.names, theme, width, throttled(progress));
  }

  /**
   * Where the held bytes of `report` went: files, file-system structures, free space, outside
   * the partitions, elsewhere (the core's sums, as its Changes bar draws them).
   * @param {import('../common/types.js').DiffReport} report
   * @returns {[string, number][]}
   */
  destinations(report) {
    return /** @type {[string, number][]} */ (normalize(this.wasm.changesDestinations(report)));
  }

  /**
   * Chain `k` of the files given, another than the one shown, made a disk (free it after use).
   * @param {number} k
   */
  otherChain(k) {
    if (k === this.chainIndex || !this.live.chains[k]) throw new Error(`there is no other disk ${k} among the files given`);
    const c = chainDisk(this.live, k);
    if (c.missing) {
      c.disk.free();
      throw new Error(`the parent of ${c.names[c.names.length - 1]} was not given: add it to use ${c.names[0]}`);
    }
    return c;
  }

  /**
   * Whether the child (layer 0, a differencing disk; its parent the old base) can move onto chain
   * `onto` of the files given, the new base (`vhd-viewer rebase-check CHILD --onto NEW --json`):
   * per file, changed by the child only, by the new base only, or by both. Reads synchronously: run
   * it in a Worker of its own.
   * @param {number} onto
   * @param {(p: { done: number, total: number }) => void} progress
   */
  rebaseCheck(onto, progress) {
    const nb = this.otherChain(onto);
    try {
      const r = this.wasm.rebaseCheck(this.core, syncReader(this.sources), nb.disk, syncReader(nb.sources), throttled(progress));
      return /** @type {import('../common/types.js').Rebase} */ (normalize(r));
    } finally {
      nb.disk.free();
    }
  }

  /**
   * What the disk as of layer `to` of this chain changed over chain `other` of the files given, two
   * disks that are not one chain (`vhd-viewer diff OLD NEW --json`: every allocated sector of both
   * is read). Reads synchronously: run it in a Worker of its own. Progress as for `diff`.
   * @param {number} other
   * @param {number} to
   * @param {(p: { done: number, total: number }) => void} progress
   */
  diffWith(other, to, progress) {
    const old = this.otherChain(other);
    const cut = to > 0 ? this.core.asOfLayer(to) : null;
    try {
      const report = this.wasm.diffDisks(old.disk, syncReader(old.sources), cut ?? this.core, syncReader(this.sources.slice(to)), this.keys, throttled(progress));
      return /** @type {import('../common/types.js').DiffReport} */ (normalize(report));
    } finally {
      cut?.free();
      old.disk.free();
    }
  }
}

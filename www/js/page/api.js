// The JavaScript API: open a VHD (and its parents) from URLs, Files/Blobs or any source with
// `{ byteLength, slice(start, end) }`, look at what the command line's `info --json` says, and read
// the virtual disk. The page and the <vhd-viewer> element are built on it. The core runs in a
// Worker (engine.js, worker.js), one per opened disk: every method here asks it and returns a
// promise, and the main thread stays free to render.
import { urlSource, blobSource, RemoteError } from '../common/source.js';
import { Engine } from './engine.js';

/**
 * @import { Source } from '../common/source.js'
 * @import { ChainView, CopyReport, CopyRequest, DiffReport, Rebase, DiskLayer, Extent, FileEntry, FileStat, Finding, FitReport, Info, LayerStructures, MissingParent, OpenedSummary, PartsTable, PublicFile, ResizePlan, SaveKind, Survey, System, TimelineColumns, Unreadable, Writable } from '../common/types.js'
 * @import { Args, Method, Progress, Result } from '../common/calls.js'
 * @import { CallOptions } from './engine.js'
 */

/**
 * Anything with byteLength and slice() (a Source among them).
 * @typedef {{ byteLength: number, name?: string, blob?: Blob, stats?: Source['stats'],
 *   slice(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array | ArrayBuffer> | Uint8Array | ArrayBuffer }} SourceLike
 */
/**
 * What a disk can be opened from: a URL, a File or Blob, or a SourceLike.
 * @typedef {string | URL | Blob | SourceLike} DiskInput
 */
/** @typedef {{ signal?: AbortSignal, onProgress?: (done: number, total: number) => void }} TaskOptions */

/**
 * A source for one input, read on this thread: a URL (string or URL) is read with HTTP Range,
 * a Blob with slice().
 * @param {DiskInput} input
 * @param {{ signal?: AbortSignal, fetch?: typeof globalThis.fetch, name?: string }} [options]
 * @returns {Promise<Source>}
 */
export async function toSource(input, { signal, fetch, name } = {}) {
  if (typeof input === 'string' || input instanceof URL) return urlSource(input, { signal, fetch, name });
  if (typeof Blob !== 'undefined' && input instanceof Blob) return blobSource(input, name ?? /** @type {Blob & { name?: string }} */ (input).name ?? 'disk');
  const like = /** @type {SourceLike} */ (input); // neither a URL nor a Blob
  if (like && typeof like.slice === 'function' && Number.isFinite(like.byteLength)) {
    const stats = like.stats ?? { reads: 0, bytes: 0 };
    return { name: name ?? like.name ?? 'disk', stats, byteLength: like.byteLength, blob: like.blob, slice: (a, b, s) => Promise.resolve(like.slice(a, b, s)).then((v) => (v instanceof Uint8Array ? v : new Uint8Array(v))) };
  }
  throw new TypeError('a disk is given as a URL, a File or Blob, or an object with byteLength and slice(start, end)');
}

/**
 * What the Worker is given for an input: a URL or a Blob it reads itself; a Source read on this
 * thread otherwise (an object with its own slice(), or a URL with a custom fetch).
 * @param {DiskInput} input
 * @param {{ signal?: AbortSignal, fetch?: typeof globalThis.fetch }} options
 * @returns {Promise<Source | { blob: Blob, name: string } | { url: string }>}
 */
async function given(input, { signal, fetch }) {
  if ((typeof input === 'string' || input instanceof URL) && !fetch) {
    return { url: new URL(input, globalThis.document?.baseURI ?? globalThis.location?.href).href };
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) return { blob: input, name: /** @type {Blob & { name?: string }} */ (input).name ?? 'disk' };
  return toSource(input, { signal, fetch });
}

/**
 * An Error of the Worker as thrown here: a RemoteError again when it was one.
 * @param {unknown} e
 */
function rethrown(e) {
  const err = /** @type {Error & { code?: string, status?: number, url?: string }} */ (e);
  if (err && err.name === 'RemoteError') {
    return new RemoteError(/** @type {import('../common/source.js').RemoteErrorCode} */ (err.code), err.message, { status: err.status, url: err.url });
  }
  return e;
}

/** An opened virtual disk: the top file and the parents found among the files given. */
export class VhdDisk {
  /**
   * Made by openVhd().
   * @param {Engine} engine
   * @param {OpenedSummary} opened
   */
  constructor(engine, opened) {
    this.engine = engine;
    /** Every file given, with what it is or why it cannot be read. */
    this.files = /** @type {PublicFile[]} */ (opened.files);
    /** The chains the files make: lists of indices into `files`, top first. */
    this.chains = opened.chains;
    this.chainCount = opened.chains.length;
    /** The chain of the files given that was opened first (the longest). */
    this.best = opened.best;
    // Set by selectChain():
    /** @type {number} */ this.chainIndex = -1;
    /** @type {string[]} the chain's file names, top first */ this.names = [];
    /** @type {Info} the same object as `vhd-viewer info --json` */ this.info;
    /** @type {MissingParent | null} what the last file's parent is called when it was not given */ this.missingParent = null;
    /** @type {FitReport | null} whether Azure takes the disk, rule by rule (`check --for azure --json`) */ this.fit = null;
    /** The virtual disk's size in bytes. */
    this.size = 0;
    /** Its logical sector size in bytes, as the core reads the opened file: 512 (every VHD), or a VHDX's 4096. */
    this.sectorSize = 512;
    /** The span of the virtual disk planned at once (a block, or 2 MiB for a fixed disk). */
    this.chunkSize = 0;
    /** @type {DiskLayer[]} each file of the chain: name, size, type, block and bitmap sizes */
    this.layers = [];
    /** @type {Info[]} each file's own info (the chain from it down) */
    this.layerInfos = [];
    /** @type {Source[]} the chain's files, read through the Worker */
    this.sources = [];
  }

  /** How many files the chain has. */
  get layerCount() {
    return this.layers.length;
  }

  /** What has been read from each file given so far: `[{ reads, bytes }]`, in the order given. */
  get stats() {
    return this.engine.stats;
  }

  /**
   * Shows chain `k` of the files given (several unrelated disks make several chains).
   * @param {number} k
   * @param {{ signal?: AbortSignal }} [options]
   */
  async selectChain(k, { signal } = {}) {
    /** @type {ChainView} */
    const v = await this.ask('chain', [k], { signal });
    this.chainIndex = k;
    this.info = v.info;
    this.names = v.names;
    this.missingParent = v.missing;
    this.fit = v.fit;
    this.size = v.size;
    this.sectorSize = v.sectorSize;
    this.chunkSize = v.chunkSize;
    this.layers = v.layers;
    /** @type {Info[]} */
    this.layerInfos = v.layerInfos;
    this.sources = v.layers.map((l, i) => {
      // The Worker's figures for that file (requests and bytes transferred too, for a URL), kept up to date.
      const stats = (this.engine.stats[this.chains[k][i]] ??= { reads: 0, bytes: 0 });
      return {
        name: l.name,
        byteLength: l.byteLength,
        stats,
        /** @type {(start: number, end: number, signal?: AbortSignal) => Promise<Uint8Array>} */
        slice: (start, end, signal) => this.readFile(i, start, end, { signal }),
      };
    });
  }

  /**
   * Asks the Worker's session (engine.call), a RemoteError rethrown as one.
   * @template {Method} M
   * @param {M} method
   * @param {Args<M>} args
   * @param {CallOptions<M>} [options]
   * @returns {Promise<Result<M>>}
   */
  async ask(method, args, options) {
    try {
      return await this.engine.call(method, args, options);
    } catch (e) {
      throw rethrown(e);
    }
  }

  /**
   * The info of layer `i`'s own file (the chain from it down).
   * @param {number} i
   * @returns {Promise<Info>}
   */
  async layerInfo(i) {
    return this.layerInfos[i] ?? this.ask('layerInfo', [i]);
  }

  /**
   * Reads virtual bytes `[offset, offset + length)` through the chain.
   * @param {number} offset
   * @param {number} length
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {Promise<Uint8Array>}
   */
  async read(offset, length, { signal } = {}) {
    return (await this.readWithExtents(offset, length, { signal })).bytes;
  }

  /**
   * Reads virtual bytes with where they come from: `{ bytes, extents: [{ offset, len, kind, layer,
   * fileOffset }] }`; a `missing` extent has `why`, the core's reason it cannot be read.
   * @param {number} offset
   * @param {number} length
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {Promise<{ bytes: Uint8Array, extents: (Extent & { why?: Unreadable | null })[] }>}
   */
  readWithExtents(offset, length, { signal } = {}) {
    return this.ask('read', [offset, length], { signal });
  }

  /**
   * Bytes `[start, end)` of layer `layer`'s file (shorter at its end).
   * @param {number} layer
   * @param {number} start
   * @param {number} end
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {Promise<Uint8Array>}
   */
  readFile(layer, start, end, { signal } = {}) {
    return this.ask('fileBytes', [layer, start, end], { signal });
  }

  /**
   * Layer `layer`'s block table: each block's state and place in the file, as the core says.
   * @param {number} layer
   * @returns {Promise<import('../common/types.js').BlockTable>}
   */
  bat(layer) {
    return this.ask('bat', [layer]);
  }

  /**
   * A picture of the disk as SVG, the bytes `vhd-viewer draw` writes for the same files: the
   * chain, a layer's block map (`bat`), a block's sector bitmap (`bitmap`), the provenance map,
   * the partitions, or the Changes bar of a report `diff` gave (`changes`, with `report`). The
   * provenance map reads every block's bitmap: it runs in a Worker of its own, so that cancelling
   * stops it at once, and tells `onProgress(done, total)` the bytes of the disk worked out.
   * @param {import('../common/types.js').PictureRequest} what
   * @param {TaskOptions} [options]
   * @returns {Promise<string>}
   */
  picture(what, { signal, onProgress } = {}) {
    const options = { signal, onProgress: (/** @type {Progress<'draw'>} */ p) => onProgress?.(p.done, p.total) };
    if (what.kind !== 'provenance') return this.ask('draw', [what], options);
    return this.engine.job(this.chainIndex, 'draw', [what], options).catch((e) => {
      throw rethrown(e);
    });
  }

  /**
   * Where the bytes a `diff` report's newer layers hold went, as the core sums them: five
   * `[label, bytes]`, in order (files, file-system structures, free space, outside the
   * partitions, elsewhere: partitions not read).
   * @param {DiffReport} report
   * @returns {Promise<[string, number][]>}
   */
  destinations(report) {
    return this.ask('destinations', [report]);
  }

  /**
   * Virtual `[start, start + len)` sector by sector, in the disk's logical sectors (`sectorSize`
   * bytes each): `sources[i]` is the layer sector i is read
   * from (255: zeros, 254: a missing parent); with `layer` and `block`, that block's sector bitmap
   * (`bitmap`, read at `range`) and where its data starts in the file (`dataOffset`) too.
   * @param {{ layer?: number | null, block?: number | null, start: number, len: number }} what
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {Promise<{ range: { offset: number, len: number } | null, bitmap: Uint8Array | null, sources: Uint8Array, dataOffset: number | null }>}
   */
  sectors({ layer = null, block = null, start, len }, { signal } = {}) {
    return this.ask('sectors', [{ layer, block, start, len }], { signal });
  }

  /**
   * The provenance map from the block tables alone: a mask per cell of `cellSize` bytes (bit k:
   * layer k may supply part of it) and how many cells need their block bitmaps to be exact.
   * @param {number} cellSize
   * @returns {Promise<{ masks: Uint32Array, needed: number }>}
   */
  estimate(cellSize) {
    return this.ask('estimate', [cellSize]);
  }

  /**
   * The exact provenance map: every block bitmap read. `onProgress(done, total, masks?)`; stopped
   * by `signal`, the masks as far as it got are `scanStopped()`'s.
   * @param {number} cellSize
   * @param {{ signal?: AbortSignal, onProgress?: (done: number, total: number, masks?: Uint32Array) => void }} [options]
   * @returns {Promise<Uint32Array>}
   */
  scan(cellSize, { signal, onProgress } = {}) {
    return this.ask('scan', [cellSize], { signal, onProgress: (p) => onProgress?.(p.done, p.total, p.masks) });
  }

  /**
   * After a stopped scan: the masks as far as it got (exact where read, estimates elsewhere).
   * @param {number} cellSize
   * @returns {Promise<Uint32Array>}
   */
  scanStopped(cellSize) {
    return this.ask('scanStopped', [cellSize]);
  }

  /**
   * The deep check `vhd-viewer check` runs after the open-time checks. Returns the findings it adds.
   * @param {TaskOptions} [options]
   * @returns {Promise<Finding[]>}
   */
  check({ signal, onProgress } = {}) {
    return this.ask('check', [], { signal, onProgress: (p) => onProgress?.(p.done, p.total) });
  }

  /**
   * The flattened raw image (`vhd-viewer cat`): written into `writable` (a
   * FileSystemWritableFileStream), or, without one, as a Blob composed of slices of the files.
   * @param {Writable | null} writable
   * @param {TaskOptions} [options]
   * @returns {Promise<{ size: number, blob?: Blob }>}
   */
  saveRaw(writable, { signal, onProgress } = {}) {
    return this.ask('raw', [!!writable], { signal, writable: writable ?? undefined, onProgress: (p) => onProgress?.(p.done, p.total) });
  }

  /**
   * A new standalone VHD or VHDX (`vhd-viewer convert --to KIND [--layer K] [--block-size]
   * [--sector-size]`) of the disk as of layer `layer` (0: the whole chain), or with `kind`
   * `azure` a fixed VHD Azure takes (`vhd-viewer convert --for azure`: its size the layer's
   * `azureSize`, zeros added at the end): into `writable`, or as a Blob without one. `blockSize`: bytes per block (a power of two; a dynamic VHD's 512 bytes to
   * 256 MiB, 2 MiB if not given; a VHDX's 1 to 256 MiB, 32 MiB if not given); `sectorSize`: a
   * VHDX's logical sector size, 512 or 4096 (the disk's own if not given).
   * @param {SaveKind} kind
   * @param {number} layer
   * @param {Writable | null} writable
   * @param {TaskOptions & { blockSize?: number, sectorSize?: number }} [options]
   * @returns {Promise<{ size: number, blocks: number, blob?: Blob }>}
   */
  saveVhd(kind, layer, writable, { signal, onProgress, blockSize = 0, sectorSize = 0 } = {}) {
    return this.ask('vhd', [kind, layer, !!writable, blockSize, sectorSize], { signal, writable: writable ?? undefined, onProgress: (p) => onProgress?.(p.done, p.total) });
  }

  /**
   * A copy of one file of the chain made by the core's writers, as the command line makes it:
   * `{op: 'compact'}` (`vhd-viewer compact`: a dynamic disk without its all-zero blocks, a
   * differencing disk without the sectors it holds identical to its parent; same identity;
   * `{op: 'compact', trim: true}`, `vhd-viewer compact --trim`: nor what the file systems mark
   * free, each volume said in `volumes`),
   * `{op: 'repair', scrub}` (`vhd-viewer repair [--scrub]`: each recoverable defect fixed, reported
   * with its offset), `{op: 'relink', relative, absolute}` (`vhd-viewer relink`: a
   * differencing disk's copy whose parent locators point to `relative` (to the copy's folder, e.g.
   * `.\\base.vhd`) and `absolute` (optional); the parent is the next layer of the chain, the disk
   * whose unique id the child names), `{op: 'resize', size, gptFix}` (`vhd-viewer resize --size
   * [--no-gpt-fix]`: the file with a virtual size of `size` bytes, a GPT's backup moved to the new
   * end unless `gptFix` is false; see `resizePlan`). `layer`
   * picks the file (0, the default: the file opened). Into `writable`, or as a Blob without one.
   * The copy has the file's format (a VHD's copy is a VHD, a VHDX's a VHDX).
   * @param {CopyRequest} req
   * @param {Writable | null} writable
   * @param {TaskOptions} [options]
   * @returns {Promise<CopyReport & { blob?: Blob }>}
   */
  saveCopy(req, writable, { signal, onProgress } = {}) {
    return this.ask('copy', [req, !!writable], { signal, writable: writable ?? undefined, onProgress: (p) => onProgress?.(p.done, p.total) });
  }

  /**
   * What `saveCopy({op: 'resize', layer, size, gptFix})` would do, worked out without writing
   * anything (`ResizePlan`: the old and new sizes, whether a GPT's backup moves to the new end,
   * the space no partition covers at the end); rejects with the core's refusal when the file cannot
   * be resized so (a shrink past a partition or a file system names it and the byte where it ends).
   * @param {number} layer
   * @param {number} size the new virtual size in bytes
   * @param {boolean} [gptFix] move a GPT's backup to the new end (the default), as `vhd-viewer resize` does without `--no-gpt-fix`
   * @returns {Promise<ResizePlan>}
   */
  resizePlan(layer, size, gptFix = true) {
    return this.ask('resizePlan', [layer, size, gptFix]);
  }

  // ------------------------------------------------------------ files on the disk
  // Each takes `layer`: the disk as of that layer of the chain (0, the default: the whole chain).

  /**
   * The partition table and the file system of each partition (`vhd-viewer parts --json`).
   * @param {{ layer?: number }} [options]
   * @returns {Promise<PartsTable>}
   */
  partitions({ layer = 0 } = {}) {
    return this.ask('partitions', [layer]);
  }

  /**
   * The operating system on each volume that holds one (`vhd-viewer inspect --json`'s
   * `systems`): Windows from its registry hives, Linux from `/etc`; each answer with its source.
   * @param {{ layer?: number }} [options]
   * @returns {Promise<System[]>}
   */
  systems({ layer = 0 } = {}) {
    return this.ask('systems', [layer]);
  }

  /**
   * A folder's entries (`vhd-viewer ls PATH --partition N --json`; with `deleted`, deleted ones too).
   * @param {import('../common/types.js').VolumeRef} partition a partition's number, or an LVM2 logical volume's `VG/LV`
   * @param {string} path
   * @param {{ deleted?: boolean, layer?: number }} [options]
   * @returns {Promise<FileEntry[]>}
   */
  list(partition, path, { deleted = false, layer = 0 } = {}) {
    return this.ask('list', [layer, partition, path, deleted]);
  }

  /**
   * One file or folder: its entry, times, streams, data runs on the virtual disk and which layer
   * holds each part of it.
   * @param {import('../common/types.js').VolumeRef} partition a partition's number, or an LVM2 logical volume's `VG/LV`
   * @param {string} path
   * @param {{ deleted?: boolean, layer?: number }} [options]
   * @returns {Promise<FileStat>}
   */
  stat(partition, path, { deleted = false, layer = 0 } = {}) {
    return this.ask('stat', [layer, partition, path, deleted]);
  }

  /**
   * Bytes of a file (`vhd-viewer get`): at most `length` (64 MiB at most) from `offset`, of its
   * NTFS stream `stream` if given.
   * @param {import('../common/types.js').VolumeRef} partition a partition's number, or an LVM2 logical volume's `VG/LV`
   * @param {string} path
   * @param {{ offset?: number, length?: number, stream?: string, deleted?: boolean, layer?: number, signal?: AbortSignal }} [options]
   * @returns {Promise<Uint8Array>}
   */
  readPath(partition, path, { offset = 0, length = 1 << 20, stream, deleted = false, layer = 0, signal } = {}) {
    return this.ask('readPath', [layer, partition, path, stream, deleted, offset, length], { signal });
  }

  /**
   * Unlocks BitLocker partition `partition` with a password, a 48-digit recovery password or a
   * startup key file's bytes. The key goes to the Worker and stays there (never stored, never
   * sent back); `onProgress(done, total)` follows its key stretch, `signal` stops it. Resolves to
   * the partition table with the volume's file system named; its files then read as any other's.
   * @param {number} partition
   * @param {import('../common/types.js').UnlockKind} kind
   * @param {string | Uint8Array} secret
   * @param {TaskOptions & { layer?: number }} [options]
   * @returns {Promise<PartsTable>}
   */
  unlock(partition, kind, secret, { layer = 0, signal, onProgress } = {}) {
    return this.ask('unlock', [layer, partition, kind, secret], { signal, onProgress: (p) => onProgress?.(p.done, p.total) });
  }

  /**
   * What owns virtual byte `offset`: the partition, and the file or file-system structure there.
   * @param {number} offset
   * @param {{ layer?: number }} [options]
   */
  owner(offset, { layer = 0 } = {}) {
    return this.ask('owner', [layer, offset]);
  }

  /**
   * Every place a word or bytes occur on the disk (`vhd-viewer search PATTERN --json`): a text
   * found as UTF-8 and UTF-16LE (only UTF-16LE with `utf16`; ASCII letters in either case with
   * `ignoreCase`), or with `hex` the bytes written in hexadecimal; in the disk as of `layer` (the
   * BitLocker volumes unlocked in any layer opened with their keys), and with `onlyLayer`, only
   * what that layer of the chain holds. Each hit says its layer, partition and owner (a file and the
   * offset in it, a deleted file, a structure, free space, outside the partitions). Runs in the
   * disk's Worker a step at a time: `onHits(hits, done, total)` gets each step's hits and the
   * virtual bytes searched; `signal` stops it between steps. Resolves to the bytes searched and
   * the bytes of the files read; a refused pattern (empty, zeros only, bad hexadecimal) rejects.
   * @param {string} pattern
   * @param {{ hex?: boolean, utf16?: boolean, ignoreCase?: boolean, layer?: number, onlyLayer?: number | null, signal?: AbortSignal,
   *   onHits?: (hits: import('../common/types.js').SearchHit[], done: number, total: number) => void }} [options]
   * @returns {Promise<{ searched: number, read: number }>}
   */
  search(pattern, { hex = false, utf16 = false, ignoreCase = false, layer = 0, onlyLayer = null, signal, onHits } = {}) {
    return this.ask('search', [pattern, { hex, utf16, ignoreCase, layer, onlyLayer }], { signal, onProgress: (p) => onHits?.(p.hits, p.done, p.total) });
  }

  /**
   * What a differencing disk changed, file by file (`vhd-viewer diff --from FROM --to TO --json`):
   * layer `from` (older; default 1, the parent) against layer `to` (newer; default 0, the file
   * opened). With `other`, the index of another chain of the files given (`chains`): that disk
   * (older) against this one as of layer `to`, two disks that are not one chain (`vhd-viewer diff
   * OLD NEW --json`; every allocated sector of both is read). Runs in a Worker of its own, so that
   * cancelling stops it at once.
   * @param {{ from?: number, to?: number, other?: number } & TaskOptions} [options]
   * @returns {Promise<DiffReport>}
   */
  diff({ from = 1, to = 0, other, signal, onProgress } = {}) {
    const options = { signal, onProgress: (/** @type {Progress<'diff'>} */ p) => onProgress?.(p.done, p.total) };
    const job = other === undefined ? this.engine.job(this.chainIndex, 'diff', [from, to], options) : this.engine.job(this.chainIndex, 'diffWith', [other, to], options);
    return job.catch((e) => {
      throw rethrown(e);
    });
  }

  /**
   * Whether this child (a differencing disk; its parent the old base) can move onto another disk
   * given, the new base: chain `onto` of `chains` (`vhd-viewer rebase-check CHILD --onto NEW
   * --json`). Per file: `child_only` (can be carried over), `base_only`, `conflicts` (changed by
   * both). Runs in a Worker of its own.
   * @param {{ onto: number } & TaskOptions} options
   * @returns {Promise<Rebase>}
   */
  rebaseCheck({ onto, signal, onProgress }) {
    return this.engine.job(this.chainIndex, 'rebaseCheck', [onto], { signal, onProgress: (p) => onProgress?.(p.done, p.total) }).catch((e) => {
      throw rethrown(e);
    });
  }

  /**
   * Every file's and directory's times as of layer `layer` (`vhd-viewer timeline --json`, deleted
   * entries too with `deleted`), as the core's columns (`TimelineColumns`), sorted by time. Runs
   * in a Worker of its own, so that cancelling stops it at once; progress: lines read (total 0).
   * The BitLocker volumes unlocked in the page are read there too (their keys handed to that
   * Worker by the page's, never through this thread).
   * @param {{ layer?: number, deleted?: boolean } & TaskOptions} [options]
   * @returns {Promise<TimelineColumns>}
   */
  timeline({ layer = 0, deleted = false, signal, onProgress } = {}) {
    return this.engine.job(this.chainIndex, 'timeline', [layer, deleted], { signal, onProgress: (p) => onProgress?.(p.done, p.total) }).catch((e) => {
      throw rethrown(e);
    });
  }

  /**
   * The timeline as the text `vhd-viewer timeline --bodyfile` (`body`) or `--csv` (`csv`) writes,
   * as of layer `layer`. Runs in a Worker of its own, as `timeline`.
   * @param {{ format: 'body' | 'csv', layer?: number, deleted?: boolean } & TaskOptions} options
   * @returns {Promise<string>}
   */
  timelineText({ format, layer = 0, deleted = false, signal, onProgress }) {
    return this.engine.job(this.chainIndex, 'timelineText', [layer, deleted, format], { signal, onProgress: (p) => onProgress?.(p.done, p.total) }).catch((e) => {
      throw rethrown(e);
    });
  }

  /**
   * The report (`vhd-viewer report`): one self-contained static HTML file, to file or print, with
   * the tool's version and each file's SHA-256, the summary, the findings (the check's too), the
   * pictures, the partitions, what a child changed and every structure's fields. Every byte of
   * every file is read: it runs in a Worker of its own, so that cancelling stops it at once.
   * Progress in thousandths.
   * @param {TaskOptions} [options]
   * @returns {Promise<string>}
   */
  report({ signal, onProgress } = {}) {
    return this.engine.job(this.chainIndex, 'report', [], { signal, onProgress: (p) => onProgress?.(p.done, p.total) }).catch((e) => {
      throw rethrown(e);
    });
  }

  /** Ends its session in the Worker: stops what it was doing and frees its memory. */
  close() {
    this.engine.close();
  }
}

/**
 * Why no disk could be opened from `files`: an Error with `code` and `offset` (one file given: the
 * core's, e.g. `no-footer` at the end footer's place; else `no-disk` or `nothing-given`).
 * @param {PublicFile[]} files
 * @returns {Error & { code: string | null, offset: number | null }}
 */
export function noDiskError(files) {
  const bad = files.filter((f) => f.error);
  const e = new Error(bad.length ? bad.map((f) => `${f.name}: ${f.error}`).join('\n') : 'no disk was given');
  return Object.assign(e, bad.length === 1 ? { code: bad[0].errorCode ?? null, offset: bad[0].errorOffset ?? null } : { code: bad.length ? 'no-disk' : 'nothing-given', offset: null });
}

/**
 * Opens a disk: `inputs` is one input or a list (the top file and its parents, in any order: they
 * are matched by the unique ids inside them). Rejects with the reason when an input cannot be
 * read (a RemoteError for a URL: not found, no Range support, CORS, changed) or nothing given is
 * a VHD. Options: `signal`, `fetch`, `wasm` (the .wasm bytes or URL, for the first call only).
 * With `all: true` it resolves even when no file is a VHD (the files say why each is not), and
 * no chain is selected yet: call selectChain() (it rejects when a chain cannot be made a disk).
 * `onStructures(info)`: when one input is given, called with its structures (the keys of
 * `info` about its footers, dynamic header and parent locators) as soon as they are read, before
 * its block table is (a dynamic disk's; not for a VHDX); `info` itself comes with the disk.
 * @param {DiskInput | DiskInput[]} inputs
 * @param {{ signal?: AbortSignal, fetch?: typeof globalThis.fetch, wasm?: import('../common/wasm.js').WasmInput, all?: boolean, onStructures?: (info: LayerStructures) => void }} [options]
 * @returns {Promise<VhdDisk>}
 */
export async function openVhd(inputs, { signal, fetch, wasm, all = false, onStructures } = {}) {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const engine = await Engine.start(wasm);
  try {
    const sources = await Promise.all(list.map((i) => given(i, { signal, fetch })));
    const onProgress = onStructures && ((/** @type {{ structures?: LayerStructures }} */ p) => p.structures && !signal?.aborted && onStructures(p.structures));
    /** @type {OpenedSummary} */
    const opened = await engine.call('open', [engine.inputs(sources)], { signal, onProgress }).catch((e) => {
      throw rethrown(e);
    });
    const disk = new VhdDisk(engine, opened);
    if (all) return disk;
    if (!opened.chains.length) throw noDiskError(opened.files);
    await disk.selectChain(opened.best, { signal });
    return disk;
  } catch (e) {
    engine.close();
    throw e;
  }
}

/**
 * Surveys a folder's files as `vhd-viewer chains --json` does: `files` are `{ name, blob }`, each
 * name the file's path under the folder (`/` between folders). Only each file's identifying
 * structures are read (never a block table or data). The survey blocks the Worker it runs in:
 * with `alone` (the default) it runs in a Worker of its own, ended when the survey answers or at
 * once when `signal` aborts; without, in the page's Worker (no Worker to start, nothing to fetch:
 * for a few files), where an abort rejects at once and the answer is dropped. `onProgress(done,
 * total)` counts the files reached. Resolves `{ survey, stats }`: the core's answer, and what was
 * read of each file (`{ reads, bytes }`, in the order given).
 * @param {{ name: string, blob: Blob }[]} files
 * @param {TaskOptions & { wasm?: import('../common/wasm.js').WasmInput, alone?: boolean }} [options]
 * @returns {Promise<{ survey: Survey, stats: { reads: number, bytes: number }[] }>}
 */
export async function surveyFolder(files, { signal, onProgress, wasm, alone = true } = {}) {
  signal?.throwIfAborted();
  const engine = alone ? await Engine.alone(0, 'vhd-viewer folder', wasm) : await Engine.start(wasm);
  const end = () => (alone ? engine.worker.terminate() : engine.close());
  const stop = () => {
    engine.fail(/** @type {Error} */ (signal?.reason ?? new DOMException('cancelled', 'AbortError')));
    end();
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    signal?.throwIfAborted();
    const survey = await engine.call('survey', [engine.inputs(files)], { signal, onProgress: onProgress && ((p) => onProgress(p.done, p.total)) });
    return { survey, stats: engine.stats.map((s) => ({ reads: s.reads, bytes: s.bytes })) };
  } finally {
    signal?.removeEventListener('abort', stop);
    end();
  }
}

// The JavaScript API: open a VHD (and its parents) from URLs, Files/Blobs or any source with
// `{ byteLength, slice(start, end) }`, look at what the command line's `info --json` says, and read
// the virtual disk. The <vhd-viewer> element is built on it.
import { loadWasm } from './wasm.js';
import { blobSource, urlSource } from './source.js';
import { openFiles, chainDisk, layerInfo } from './open.js';
import { readVirtual } from './driver.js';

/**
 * @import { WasmDisk } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { Opened } from './types.js'
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

/**
 * A source for one input: a URL (string or URL) is read with HTTP Range, a Blob with slice().
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

/** An opened virtual disk: the top file and the parents found among the files given. */
export class VhdDisk {
  /**
   * @param {Opened} opened what openFiles() returned
   * @param {number} k the chain to show
   */
  constructor(opened, k) {
    this.opened = opened;
    this.files = opened.files;
    this.chainCount = opened.chains.length;
    // Set by selectChain():
    /** @type {number} */ this.chainIndex;
    /**
     * The WebAssembly disk the views read through (null once closed).
     * @type {WasmDisk | null}
     */
    this.core;
    /** @type {string[]} */ this.names;
    /** @type {Source[]} */ this.sources;
    /** @type {import('./types.js').Info} */ this.info;
    /** @type {import('./types.js').MissingParent | null} */ this.missingParent;
    this.selectChain(k);
  }

  /**
   * Shows chain `k` of the files given (several unrelated disks make several chains).
   * @param {number} k
   */
  selectChain(k) {
    const made = chainDisk(this.opened, k);
    this.core?.free();
    this.chainIndex = k;
    this.core = made.disk;
    this.names = made.names;
    this.sources = made.sources;
    /** The same object as `vhd-viewer info --json`. */
    this.info = made.info;
    /** `{ names, paths, id }` of the parent the last file needs and was not given, or null. */
    this.missingParent = made.missing;
  }

  /** The virtual disk's size in bytes. */
  get size() {
    return live(this).size();
  }

  /**
   * The info of layer `i`'s own file (the chain from it down).
   * @param {number} i
   */
  layerInfo(i) {
    return i === 0 ? this.info : layerInfo(this.opened, this.chainIndex, i, this.names);
  }

  /**
   * Reads virtual bytes `[offset, offset + length)` through the chain.
   * @param {number} offset
   * @param {number} length
   * @param {{ signal?: AbortSignal }} [options]
   */
  async read(offset, length, { signal } = {}) {
    return (await readVirtual(live(this), this.sources, offset, length, signal)).bytes;
  }

  /**
   * Reads virtual bytes with where they come from: `{ bytes, extents: [{ offset, len, kind, layer, fileOffset }] }`.
   * @param {number} offset
   * @param {number} length
   * @param {{ signal?: AbortSignal }} [options]
   */
  readWithExtents(offset, length, { signal } = {}) {
    return readVirtual(live(this), this.sources, offset, length, signal);
  }

  /** Frees the WebAssembly objects. */
  close() {
    for (const o of [this.core, this.opened.wfiles]) {
      try {
        o?.free();
      } catch {
        /* already freed */
      }
    }
    this.core = null;
  }
}

/**
 * The WebAssembly disk of `disk`, until it is closed.
 * @param {VhdDisk} disk
 */
function live(disk) {
  if (!disk.core) throw new Error('the disk was closed');
  return disk.core;
}

/**
 * Opens a disk: `inputs` is one input or a list (the top file and its parents, in any order: they
 * are matched by the unique ids inside them). Rejects with the reason when an input cannot be
 * read (a RemoteError for a URL: not found, no Range support, CORS, changed) or nothing given is
 * a VHD. Options: `signal`, `fetch`, `wasm` (the .wasm bytes or URL, for the first call only).
 * @param {DiskInput | DiskInput[]} inputs
 * @param {{ signal?: AbortSignal, fetch?: typeof globalThis.fetch, wasm?: Parameters<typeof loadWasm>[0] }} [options]
 * @returns {Promise<VhdDisk>}
 */
export async function openVhd(inputs, { signal, fetch, wasm } = {}) {
  const bindings = await loadWasm(wasm);
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const sources = await Promise.all(list.map((i) => toSource(i, { signal, fetch })));
  const opened = await openFiles(bindings, sources, { signal });
  if (!opened.chains.length) {
    opened.wfiles.free();
    const bad = opened.files.filter((f) => f.error);
    const e = new Error(bad.length ? bad.map((f) => `${f.name}: ${f.error}`).join('\n') : 'no disk was given');
    // One file given: its code and offset (the core's, e.g. `no-footer` at the end footer's place).
    throw Object.assign(e, bad.length === 1 ? { code: bad[0].errorCode ?? null, offset: bad[0].errorOffset ?? null } : { code: bad.length ? 'no-disk' : 'nothing-given', offset: null });
  }
  return new VhdDisk(opened, opened.best);
}

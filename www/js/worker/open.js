// Opening files, shared by the page and the <vhd-viewer> element: open each source with the core,
// sort them into chains by their unique ids (whatever the files are called or in which order they
// are given), and make the disk of one chain. No DOM here.
import { openLayer } from './driver.js';
import { normalize, baseName } from '../common/format.js';

/**
 * @import { Source } from '../common/source.js'
 * @import { Arranged, Identity, Info, LayerStructures, MissingParent } from '../common/types.js'
 * @import { Bindings, ChainFile, Opened, OpenedFile } from './types.js'
 */

/**
 * Opens `sources` and sorts them into chains. Returns `{ wfiles, files, chains, best }`:
 * `files[i]` is `{ name, size, source, blob, identity, wi }` or `{ ..., error }` when it is not a
 * readable VHD (`onFileError(file)` is told at once); `duplicateOf` marks a file given twice;
 * `chains` are lists of indices into `files`, top first; `best` the longest chain. Throws only
 * when `signal` aborts (the WebAssembly objects are freed then). With one source,
 * `onStructures(info)` is told its structures before its block table is read (openLayer).
 * @param {Bindings} wasm
 * @param {Source[]} sources
 * @param {{ signal?: AbortSignal, onFileError?: (file: OpenedFile) => void, onStructures?: (info: LayerStructures) => void }} [options]
 * @returns {Promise<Opened>}
 */
export async function openFiles(wasm, sources, { signal, onFileError, onStructures } = {}) {
  const wfiles = new wasm.WasmFiles();
  /** @type {OpenedFile[]} */
  const files = [];
  try {
    for (const source of sources) {
      /** @type {OpenedFile} */
      const f = { name: source.name, size: source.byteLength, blob: source.blob, source };
      files.push(f);
      try {
        const layer = await openLayer(wasm, source, signal, sources.length === 1 ? onStructures : undefined);
        f.identity = /** @type {Identity} */ (normalize(layer.identity()));
        f.wi = wfiles.add(layer);
      } catch (e) {
        if (signal?.aborted) throw e;
        // A later piece of a Virtual PC split disk says so by its name, as on the command line.
        const err = /** @type {Error & { code?: string, offset?: number | null }} */ (e);
        f.error = err.message + wasm.splitPieceNote(source.name);
        f.errorCode = err.code ?? null;
        f.errorOffset = err.offset ?? null;
        onFileError?.(f);
      }
    }
    signal?.throwIfAborted();
  } catch (e) {
    wfiles.free();
    throw e;
  }
  /** @type {number[]} */
  const byWi = [];
  files.forEach((f, i) => {
    if (f.wi !== undefined) byWi[f.wi] = i;
  });
  const arranged = /** @type {Arranged} */ (normalize(wfiles.arrange()));
  const chains = arranged.chains.map((c) => c.map((wi) => byWi[wi]));
  for (const [dup, first] of arranged.duplicates) files[byWi[dup]].duplicateOf = byWi[first];
  // The longest chain first: usually what was meant when several files are given.
  let best = 0;
  chains.forEach((c, k) => {
    if (c.length > chains[best].length) best = k;
  });
  return { wfiles, files, chains, best };
}

/**
 * The disk of chain `k` of `opened` (from openFiles): `{ disk, files, names, sources, info,
 * missing }`; `missing` says what the last layer's absent parent is called (or null). Throws the
 * core's message when the chain cannot be made a disk.
 * @param {Opened} opened
 * @param {number} k
 */
export function chainDisk(opened, k) {
  // The files of a chain were all opened.
  const files = /** @type {ChainFile[]} */ (opened.chains[k].map((i) => opened.files[i]));
  const names = files.map((f) => f.name);
  const disk = opened.wfiles.disk(Uint32Array.from(files.map((f) => f.wi)), false);
  const info = /** @type {Info} */ (normalize(disk.info(names)));
  const last = files[files.length - 1];
  /** @type {MissingParent | null} */
  const missing = info.parent_missing ? neededParentText(last.identity) : null;
  if (missing) {
    // The parent it names is a file of this chain (the chain loops), or a file given under the
    // parent's name is another disk: both are said, as the command line says them.
    const want = last.identity.parentUniqueId;
    missing.loop = files.find((f) => f.identity.uniqueId === want)?.name ?? null;
    missing.impostors = opened.files
      .filter((f) => f.identity && f.identity.uniqueId !== want && missing.names.some((n) => n.toLowerCase() === baseName(f.name).toLowerCase()))
      .map((f) => ({ name: f.name, id: /** @type {Identity} */ (f.identity).uniqueId })); // kept by the filter: opened
    missing.at = last.identity.parentUniqueIdOffset;
    missing.severity = missing.loop || missing.impostors.length ? 'error' : 'warning';
  }
  return { disk, files, names, sources: files.map((f) => f.source), info, missing };
}

/**
 * The info of the chain from layer `i` of `opened`'s chain `k` down (that file's own view).
 * @param {Opened} opened
 * @param {number} k
 * @param {number} i
 * @param {string[]} names
 * @returns {Info}
 */
export function layerInfo(opened, k, i, names) {
  const chain = opened.chains[k].slice(i);
  const sub = opened.wfiles.disk(Uint32Array.from(chain.map((j) => /** @type {ChainFile} */ (opened.files[j]).wi)), false);
  try {
    return /** @type {Info} */ (normalize(sub.info(names.slice(i))));
  } finally {
    sub.free();
  }
}

/**
 * What a child whose parent is missing needs, in words.
 * @param {Identity} identity
 * @returns {MissingParent}
 */
export function neededParentText(identity) {
  /** @type {string[]} */
  const names = [];
  /** @param {string | null} n */
  const add = (n) => {
    if (n && !names.includes(n)) names.push(n);
  };
  add(identity.parentUnicodeName && baseName(identity.parentUnicodeName));
  for (const c of identity.parentCandidates || []) add(baseName(c));
  return {
    names,
    paths: /** @type {string[]} */ ([identity.parentUnicodeName, ...(identity.parentCandidates || [])].filter((p, i, a) => p && a.indexOf(p) === i)),
    id: identity.parentUniqueId,
  };
}

// Saving what the viewer makes, on the main thread: the file is chosen here (the File System
// Access API's save dialog where the browser has it, else a download) and the bytes come from the
// Worker (VhdDisk.saveRaw, saveVhd), streamed into the file or composed as a Blob there.

/**
 * @import { VhdDisk } from './api.js'
 * @import { CopyReport, CopyRequest, Info } from './types.js'
 */

/** @typedef {{ signal?: AbortSignal, onProgress?: (done: number, total: number) => void }} TaskOptions */
/** @typedef {{ cancelled: true } | { cancelled?: undefined, method: 'file-system-access' | 'download', name: string, size: number, blocks?: number }} SaveResult */

/**
 * Saves a Blob under `name` as a download.
 * @param {Blob} blob
 * @param {string} name
 */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Into a file chosen with the File System Access API where the browser has it (`write` streams
 * into its writable; cancelling or a failure discards it), else as a download (`compose` makes the
 * Blob).
 * @param {string} fileName
 * @param {{ description: string, accept: Record<string, string[]> }} type
 * @param {(writable: FileSystemWritableFileStream) => Promise<{ size: number, blocks?: number }>} write
 * @param {() => Promise<{ size: number, blocks?: number, blob?: Blob }>} compose
 * @returns {Promise<SaveResult>}
 */
async function save(fileName, type, write, compose) {
  if (typeof window.showSaveFilePicker === 'function') {
    let handle;
    try {
      handle = await window.showSaveFilePicker({ suggestedName: fileName, types: [type] });
    } catch (e) {
      if (/** @type {Error} */ (e).name === 'AbortError') return { cancelled: true };
      throw e;
    }
    const writable = await handle.createWritable();
    try {
      const r = await write(writable);
      await writable.close();
      return { method: 'file-system-access', name: handle.name, size: r.size, blocks: r.blocks };
    } catch (e) {
      await writable.abort().catch(() => {});
      throw e;
    }
  }
  const r = await compose();
  if (!r.blob) throw new Error('the worker made no file (a bug)');
  download(r.blob, fileName);
  return { method: 'download', name: fileName, size: r.blob.size, blocks: r.blocks };
}

/**
 * Saves the flattened raw image (`vhd-viewer cat`).
 * @param {VhdDisk} disk
 * @param {string} fileName
 * @param {TaskOptions} [opts]
 */
export function exportRaw(disk, fileName, opts = {}) {
  return save(fileName, { description: 'Raw disk image', accept: { 'application/octet-stream': ['.img', '.raw'] } },
    (w) => disk.saveRaw(w, opts),
    () => disk.saveRaw(null, opts));
}

/**
 * "Save as VHD…": a new standalone VHD of the disk as of layer `layer` (0: the whole chain).
 * @param {VhdDisk} disk
 * @param {string} fileName
 * @param {'dynamic' | 'fixed'} kind
 * @param {TaskOptions & { layer?: number }} [opts]
 */
export function exportVhd(disk, fileName, kind, opts = {}) {
  const layer = opts.layer ?? 0;
  return save(fileName, { description: 'VHD disk image', accept: { 'application/octet-stream': ['.vhd'] } },
    (w) => disk.saveVhd(kind, layer, w, opts),
    () => disk.saveVhd(kind, layer, null, opts));
}

/**
 * "Compact…", "Repaired copy…", "Relinked child…": a copy of one file of the chain made by the
 * core's writers (`VhdDisk.saveCopy`).
 * @param {VhdDisk} disk
 * @param {string} fileName
 * @param {CopyRequest} req
 * @param {TaskOptions} [opts]
 */
export function exportCopy(disk, fileName, req, opts = {}) {
  /** @type {CopyReport | null} */
  let report = null;
  const keep = (/** @type {CopyReport & { blob?: Blob }} */ r) => {
    report = r;
    return { size: r.file_len, blob: r.blob };
  };
  return save(fileName, { description: 'VHD disk image', accept: { 'application/octet-stream': ['.vhd'] } },
    async (w) => keep(await disk.saveCopy(req, w, opts)),
    async () => keep(await disk.saveCopy(req, null, opts)),
  ).then((r) => (r.cancelled ? r : { ...r, report: /** @type {CopyReport} */ (/** @type {unknown} */ (report)) }));
}

/**
 * Saves the info JSON (the same object as `vhd-viewer info --json`).
 * @param {Info} info
 * @param {string} fileName
 */
export function exportInfo(info, fileName) {
  download(new Blob([JSON.stringify(info, null, 2) + '\n'], { type: 'application/json' }), fileName);
}

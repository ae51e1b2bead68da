// A folder given to the page: dropped (its entries walked through DataTransferItem.webkitGetAsEntry)
// or chosen (`<input type=file webkitdirectory>`, or showDirectoryPicker where the browser has
// it). Each file is named by its path under the folder's parent, `/` between folders (as
// `webkitRelativePath` names it), so that the survey resolves the parent locators' relative paths
// as the command line does. The walk is bounded in depth and in files; symbolic links are not
// offered by these interfaces.

/** Files more folders deep than this under the folder given are left out, however the folder
 * comes (dropped, an input's files, a picked handle); `vhd-viewer chains` walks 32 deep. */
export const MAX_DEPTH = 16;
/** Files given at most: beyond, the walk stops and says so. */
export const MAX_FILES = 10000;

/** @typedef {{ name: string, blob: File }} Named */

/**
 * The files of a drop: `{ files, folder }`, `folder` true when a folder was among them (each
 * file then named by its path). Reads the entries at once (a drop's items are readable only
 * during its event), then walks the folders.
 * @param {DataTransfer} dt
 * @returns {Promise<{ files: Named[], folder: boolean, bounded: boolean }>}
 */
export async function droppedFiles(dt) {
  const entries = [...dt.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.() ?? null);
  if (!entries.some((e) => e?.isDirectory)) return { files: [...dt.files].map((f) => ({ name: f.name, blob: f })), folder: false, bounded: false };
  /** @type {Named[]} */
  const files = [];
  let bounded = false;
  for (const e of entries) {
    if (!e) continue;
    if (await walkEntry(e, 0, files)) {
      bounded = true;
      break;
    }
  }
  return { files, folder: true, bounded };
}

/**
 * Adds the files under `entry` to `files`; true when a bound stopped the walk.
 * @param {FileSystemEntry} entry
 * @param {number} depth
 * @param {Named[]} files
 * @returns {Promise<boolean>}
 */
async function walkEntry(entry, depth, files) {
  if (files.length >= MAX_FILES) return true;
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => /** @type {FileSystemFileEntry} */ (entry).file(resolve, reject));
    files.push({ name: entry.fullPath.replace(/^\/+/, ''), blob: file });
    return false;
  }
  if (!entry.isDirectory || depth > MAX_DEPTH) return false;
  const reader = /** @type {FileSystemDirectoryEntry} */ (entry).createReader();
  // readEntries answers a batch at a time (Chromium: 100), and an empty batch at the end.
  for (;;) {
    /** @type {FileSystemEntry[]} */
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return false;
    for (const e of batch.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) if (await walkEntry(e, depth + 1, files)) return true;
  }
}

/**
 * The files of a `webkitdirectory` input, named by their `webkitRelativePath` (the folder chosen
 * first), within the bounds.
 * @param {FileList} list
 * @returns {{ files: Named[], bounded: boolean }}
 */
export function chosenFiles(list) {
  const all = [...list]
    .map((f) => ({ name: f.webkitRelativePath || f.name, blob: f }))
    .filter((f) => f.name.split('/').length - 2 <= MAX_DEPTH);
  return { files: all.slice(0, MAX_FILES), bounded: all.length > MAX_FILES };
}

/**
 * A folder's handle, as `showDirectoryPicker()` gives it.
 * @typedef {{ kind: 'directory', name: string, values(): AsyncIterable<Handle> }} DirHandle
 * @typedef {DirHandle | { kind: 'file', name: string, getFile(): Promise<File> }} Handle
 */

/**
 * The files under a folder chosen with `showDirectoryPicker()`, named as `webkitRelativePath`
 * names them (the folder's own name first).
 * @param {DirHandle} dir
 * @returns {Promise<{ files: Named[], bounded: boolean }>}
 */
export async function pickedFiles(dir) {
  /** @type {Named[]} */
  const files = [];
  /**
   * @param {DirHandle} d
   * @param {string} path
   * @param {number} depth
   * @returns {Promise<boolean>} true when a bound stopped the walk
   */
  const walk = async (d, path, depth) => {
    /** @type {Handle[]} */
    const kids = [];
    for await (const k of d.values()) kids.push(k);
    kids.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const k of kids) {
      if (files.length >= MAX_FILES) return true;
      if (k.kind === 'file') files.push({ name: `${path}/${k.name}`, blob: await k.getFile() });
      else if (depth < MAX_DEPTH && (await walk(k, `${path}/${k.name}`, depth + 1))) return true;
    }
    return false;
  };
  const bounded = await walk(dir, dir.name, 0);
  return { files, bounded };
}

// Saving, on the main thread: the Save view (what the viewer writes as new files, never touching
// the ones given: the whole disk as a raw image or a standalone VHD, as of the file chosen, or as
// a fixed VHD Azure takes, `vhd-viewer convert --for azure`; one
// file of the chain rewritten, compacted, repaired or relinked to a parent that moved, as
// `vhd-viewer compact`, `repair`, `relink` do; the info as JSON), and the file each is saved
// into: chosen here (the File System Access API's save dialog where the browser has it, else a
// download), its bytes made by the Worker (VhdDisk.saveRaw, saveVhd, saveCopy; worker/save.js),
// streamed into the file or composed as a Blob there. The view lays out the choices and says
// which apply to the file chosen and why not; the controller runs the work (`SaveActions`) and
// the view shows what it reports. "Resize…" (`vhd-viewer resize`) says what the size typed does
// as it is typed, and shows the core's plan (or its refusal) before anything is written.
import { h, fill } from './dom.js';
import { FS_WORDS, humanSize, parseNumber } from '../common/format.js';

/**
 * @import { TaskOptions, VhdDisk } from './api.js'
 * @import { CopyReport, CopyRequest, DiskLayer, Info, RepairAction, ResizePlan, SaveKind } from '../common/types.js'
 */

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
 * The save dialog's file type of a VHDX (`vhdx`) or a VHD.
 * @param {boolean} vhdx
 */
const diskFileType = (vhdx) =>
  vhdx ? { description: 'VHDX disk image', accept: { 'application/octet-stream': ['.vhdx'] } } : { description: 'VHD disk image', accept: { 'application/octet-stream': ['.vhd'] } };

/**
 * "Save as…": a new standalone VHD or VHDX of the disk as of layer `layer` (0: the whole chain).
 * @param {VhdDisk} disk
 * @param {string} fileName
 * @param {SaveKind} kind
 * @param {TaskOptions & { layer?: number, blockSize?: number, sectorSize?: number }} [opts] the block and
 *   sector sizes as `VhdDisk.saveVhd` takes them
 */
export function exportVhd(disk, fileName, kind, opts = {}) {
  const layer = opts.layer ?? 0;
  return save(fileName, diskFileType(kind.startsWith('vhdx')),
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
  // The copy has the file's own format.
  return save(fileName, diskFileType(disk.layers[req.layer ?? 0]?.format === 'vhdx'),
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

/**
 * "Save report…": the report (`vhd-viewer report`, `VhdDisk.report`), an HTML file.
 * @param {VhdDisk} disk
 * @param {string} fileName
 * @param {TaskOptions} [opts]
 */
export function exportReport(disk, fileName, opts = {}) {
  const made = async () => new Blob([await disk.report(opts)], { type: 'text/html' });
  return save(fileName, { description: 'HTML report', accept: { 'text/html': ['.html'] } },
    async (w) => {
      const blob = await made();
      await w.write(blob);
      return { size: blob.size };
    },
    async () => {
      const blob = await made();
      return { size: blob.size, blob };
    });
}

/**
 * What the controller does for the view. Each resolves with a sentence to show (or null when
 * nothing was saved: cancelled, or failed and said elsewhere).
 * @typedef {{
 *   raw(): Promise<string | null>,
 *   vhd(kind: SaveKind, layer: number, sizes: { blockSize: number, sectorSize: number }): Promise<string | null>,
 *   copy(req: CopyRequest, fileName: string): Promise<{ text: string, report: CopyReport } | null>,
 *   resizePlan(layer: number, size: number, gptFix: boolean): Promise<{ plan: ResizePlan } | { refusal: string, code: string | null }>,
 *   info(): void,
 *   report(): Promise<string | null>,
 * }} SaveActions
 */

/**
 * A file's name without its `.vhd`, `.vhdx`, `.avhd` or `.avhdx`: the stem of the names of what is saved from it.
 * @param {string} n
 */
export const stem = (n) => n.replace(/\.(a?vhdx?)$/i, '');

/** The words for what a repair did. */
const ACTION_WORDS = { fixed: 'fixed', lost: 'lost', not_fixed: 'not fixed' };

/** The kind the dialog's choice names (`dynamic` unless it names another). */
function saveKind(/** @type {string} */ v) {
  return /** @type {SaveKind} */ (['fixed', 'vhdx', 'vhdx-fixed'].includes(v) ? v : 'dynamic');
}

const MIB = 1 << 20;
/**
 * The block sizes a new disk of `kind` may have (powers of two: a dynamic VHD's from 512 bytes, a
 * VHDX's from 1 MiB, both to 256 MiB; none for a fixed VHD) and the one it gets by default (as
 * Hyper-V writes them; qemu-img too for a VHD).
 * @param {SaveKind} kind
 * @returns {{ sizes: number[], dflt: number }}
 */
function blockSizes(kind) {
  if (kind === 'fixed') return { sizes: [], dflt: 0 };
  const vhdx = kind.startsWith('vhdx');
  const sizes = [];
  for (let s = vhdx ? MIB : 512; s <= 256 * MIB; s *= 2) sizes.push(s);
  return { sizes, dflt: vhdx ? 32 * MIB : 2 * MIB };
}

export class SaveView {
  /**
   * @param {HTMLElement} root where the view is laid out
   * @param {string} prefix of the ids of its controls (the page's tests and scripts use them)
   * @param {SaveActions} actions
   */
  constructor(root, prefix, actions) {
    this.root = root;
    this.actions = actions;
    /** @type {VhdDisk | null} */
    this.disk = null;
    const id = (/** @type {string} */ s) => prefix + s;
    const button = (/** @type {string} */ s, /** @type {string} */ label, /** @type {() => void} */ onclick) => h('button', { type: 'button', id: id(s), onclick }, label);
    this.layer = h('select', { id: id('layer'), onchange: () => this.update() });
    this.layerRow = h('label', { class: 'save-layer' }, 'File: ', this.layer);
    this.kind = h('select', { id: id('vhd-kind'), 'aria-label': 'Type of the saved disk' },
      h('option', { value: 'dynamic' }, 'VHD, dynamic (only blocks with data)'), h('option', { value: 'fixed' }, 'VHD, fixed'),
      h('option', { value: 'vhdx' }, 'VHDX, dynamic (only blocks with data)'), h('option', { value: 'vhdx-fixed' }, 'VHDX, fixed'));
    this.kind.addEventListener('change', () => this.sizeChoices());
    // The new disk's block size and a VHDX's sector size (`vhd-viewer convert --block-size
    // --sector-size`), each offered where the kind chosen has one, the default chosen first.
    this.blockSize = h('select', { id: id('vhd-block-size') });
    this.blockRow = h('label', null, 'Block size: ', this.blockSize);
    this.sectorSize = h('select', { id: id('vhd-sector-size') });
    this.sectorRow = h('label', null, 'Sector size: ', this.sectorSize);
    /** Whether the block sizes offered are a VHDX's. */
    this.sizesOfVhdx = false;
    this.rawButton = button('raw', 'Save raw image…', () => void this.run(() => actions.raw()));
    this.vhdButton = button('vhd', 'Save as VHD/VHDX…', () => void this.run(() => actions.vhd(saveKind(this.kind.value), this.chosen(), this.sizes())));
    this.azureButton = button('azure', 'Save an Azure-ready copy…', () => void this.run(() => actions.vhd('azure', this.chosen(), { blockSize: 0, sectorSize: 0 })));
    /** What the Azure-ready copy of the file chosen will be, said before it is written. */
    this.azureWhat = h('span', { id: id('azure-what') });
    this.infoButton = button('info', 'Save info as JSON', () => actions.info());
    this.reportButton = button('report', 'Save report…', () => void this.run(() => actions.report()));
    this.trim = h('input', { type: 'checkbox', id: id('compact-trim') });
    this.compactButton = button('compact', 'Compact…', () => void this.copy({ op: 'compact', layer: this.chosen(), trim: this.trim.checked }, 'compact'));
    this.compactWhy = h('span', { class: 'why' });
    this.scrub = h('input', { type: 'checkbox', id: id('repair-scrub') });
    this.repairButton = button('repair', 'Repaired copy…', () => void this.copy({ op: 'repair', layer: this.chosen(), scrub: this.scrub.checked }, 'repaired'));
    this.repairWhy = h('span', { class: 'why' });
    this.relative = h('input', { type: 'text', id: id('relink-relative'), size: 28, spellcheck: 'false', autocomplete: 'off' });
    this.absolute = h('input', { type: 'text', id: id('relink-absolute'), size: 36, spellcheck: 'false', autocomplete: 'off', placeholder: 'e.g. D:\\VMs\\base.vhd (optional)' });
    this.relinkButton = button('relink', 'Relinked child…', () =>
      void this.copy({ op: 'relink', layer: this.chosen(), relative: this.relative.value, absolute: this.absolute.value }, 'relinked'),
    );
    this.relinkWhy = h('span', { class: 'why' });
    this.relinkFields = h('div', { class: 'save-relink-fields' },
      h('label', null, 'Where the parent will be, from the new copy\'s folder: ', this.relative),
      h('label', null, 'Its full path: ', this.absolute));
    // "Resize…": the new size typed (bytes, or with K, M, G, T), what it does said in words as it
    // is typed, and the core's plan or refusal, asked a moment after the typing stops.
    this.resizeSize = h('input', { type: 'text', id: id('resize-size'), size: 16, spellcheck: 'false', autocomplete: 'off', placeholder: 'e.g. 128G or +16G', 'aria-describedby': id('resize-words') });
    this.resizeSize.addEventListener('input', () => this.resizeTyped());
    this.resizeSize.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !this.resizeButton.disabled) void this.resize();
    });
    this.gptFix = h('input', { type: 'checkbox', id: id('resize-gpt-fix'), checked: true });
    this.gptFix.addEventListener('change', () => this.resizeTyped());
    this.resizeButton = button('resize', 'Resize…', () => void this.resize());
    this.resizeNow = h('span', { id: id('resize-now') });
    this.resizeWords = h('span', { id: id('resize-words'), class: 'resize-words' });
    this.resizePlan = h('div', { id: id('resize-plan'), class: 'resize-plan', 'aria-live': 'polite' });
    this.resizeWhy = h('span', { class: 'why' });
    /** The plan asked last (a later one makes an earlier answer stale), and its timer. */
    this.planAsked = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.planTimer = undefined;
    this.note = h('p', { id: id('note'), 'aria-live': 'polite' });
    this.details = h('div', { id: id('details') });
    fill(root,
      this.layerRow,
      h('h3', null, 'The whole disk'),
      h('p', null, 'The virtual disk read through its chain, as of the file chosen: every sector in order as a raw image (', h('code', null, 'vhd-viewer cat'), '), or merged into one standalone VHD or VHDX (', h('code', null, 'vhd-viewer convert --layer K'), ').'),
      h('div', { class: 'controls' }, this.rawButton, this.vhdButton, this.kind, this.blockRow, this.sectorRow),
      h('p', null, 'Smaller blocks make a smaller file when the data is scattered; larger ones, a smaller block table. The default sector size is the disk\'s own; a VHDX with 4096-byte sectors is for systems that use 4K-native disks.'),
      h('div', { class: 'save-row' },
        h('div', { class: 'controls' }, this.azureButton),
        h('p', null, 'Azure takes an uploaded disk only as a fixed VHD whose size is a whole number of MiB, at least 20 MiB (', h('code', null, 'vhd-viewer convert --for azure'), '). ', this.azureWhat)),
      h('h3', null, 'This file, rewritten'),
      h('p', null, 'A new file made from the file chosen, with the same disk inside; the file itself is never changed.'),
      h('div', { class: 'save-row' },
        h('div', { class: 'controls' }, this.compactButton, h('label', { class: 'check' }, this.trim, ' also give back the file systems\' free space')),
        h('p', null, 'Leaves out what the file holds for nothing: a dynamic disk\'s blocks that hold only zeros, a differencing disk\'s sectors identical to its parent\'s. Same unique id and format (a VHD stays a VHD, a VHDX a VHDX): its children still link to it (', h('code', null, 'vhd-viewer compact'), '). ', this.compactWhy),
        h('p', null, 'With the free space given back (', h('code', null, 'vhd-viewer compact --trim'), '): what the FAT, exFAT, NTFS, ext and XFS file systems on the disk mark as free is not kept either, so the space of deleted files comes back without running anything inside the virtual machine. Free sectors in a block that is kept are written as zeros: the copy holds nothing of the deleted files, and compresses well. Partitions whose file system is not recognised, and the space outside any partition, are kept as they are. On a differencing disk, what the child holds in free space is left to its parent.')),
      h('div', { class: 'save-row' }, h('div', { class: 'controls' }, this.repairButton, h('label', { class: 'check' }, this.scrub, ' also zero the left-over bytes behind clear bitmap bits')), h('p', null, 'Fixes each defect that can be fixed (a footer from its copy, checksums, a cut-off end, block table entries pointing outside the file; in a VHDX, a damaged header or region table from the other one, and a log left by a disk not closed cleanly, replayed into the copy) and lists what was fixed, what was lost and what was left, with offsets (', h('code', null, 'vhd-viewer repair'), '). ', this.repairWhy)),
      h('div', { class: 'save-row' }, h('div', { class: 'controls' }, this.relinkButton), h('p', null, 'For a differencing disk whose parent moved: a copy whose parent locators point to the parent\'s new place. Give the files side by side to keep the default (', h('code', null, 'vhd-viewer relink'), '). ', this.relinkWhy), this.relinkFields),
      h('div', { class: 'save-row' },
        h('div', { class: 'controls' }, this.resizeButton,
          h('label', { class: 'resize-size' }, 'New size: ', this.resizeSize), this.resizeNow,
          h('label', { class: 'check' }, this.gptFix, ' fix the GPT')),
        h('p', { class: 'resize-words-row' }, this.resizeWords),
        this.resizePlan,
        h('p', null, 'A copy of the file with a larger or smaller virtual disk, in its own format and type (', h('code', null, 'vhd-viewer resize'), '). Type the size in bytes, or with K, M, G or T (binary: 1G is 1024 MiB); with a + before it, the size it has now grown by that much. Growing adds zeros at the end; the partitions and file systems keep their size, so the new space is unpartitioned until the system inside the virtual machine extends a partition into it. Shrinking is refused when a partition or a file system reaches past the new end. ', this.resizeWhy),
        h('p', null, 'Fix the GPT: a GPT disk keeps a backup of its partition table at its very end. Growing moves that backup to the new end and sets the protective MBR to the new size, so that the disk needs no repair when it is next used; unchecked, they stay where they were (', h('code', null, '--no-gpt-fix'), ').')),
      h('h3', null, 'What this page shows'),
      h('div', { class: 'controls' }, this.infoButton, h('span', null, 'the same object as ', h('code', null, 'vhd-viewer info --json'))),
      h('div', { class: 'save-row' }, h('div', { class: 'controls' }, this.reportButton),
        h('p', null, 'One web page to file or print to PDF, readable without scripts: each file\'s SHA-256 (every byte is read), the summary, the findings, the pictures, the partitions, what a child changed and every structure\'s fields (', h('code', null, 'vhd-viewer report'), ').')),
      this.note,
      this.details);
    this.show(null);
  }

  /** The block and sector sizes chosen for "Save as VHD/VHDX…" (0: none offered, the default). */
  sizes() {
    return { blockSize: this.blockRow.hidden ? 0 : Number(this.blockSize.value), sectorSize: this.sectorRow.hidden ? 0 : Number(this.sectorSize.value) };
  }

  /**
   * Offers the block and sector sizes of the kind chosen, the default block size of its format
   * (VHD or VHDX) when the format changed, else keeping the sizes chosen (unless `reset`: a new
   * disk shown).
   * @param {boolean} [reset]
   */
  sizeChoices(reset = false) {
    const kind = saveKind(this.kind.value);
    const { sizes, dflt } = blockSizes(kind);
    const vhdx = kind.startsWith('vhdx');
    const was = reset || vhdx !== this.sizesOfVhdx ? 0 : Number(this.blockSize.value);
    this.sizesOfVhdx = vhdx;
    fill(this.blockSize, sizes.map((s) => h('option', { value: s }, s === dflt ? `${humanSize(s)} (default)` : humanSize(s))));
    this.blockSize.value = String(sizes.includes(was) ? was : dflt);
    this.blockRow.hidden = !sizes.length;
    const own = this.disk?.sectorSize ?? 512;
    const sector = reset ? '' : this.sectorSize.value;
    fill(this.sectorSize, [512, 4096].map((s) => h('option', { value: s }, s === own ? `${s} bytes (default)` : `${s} bytes`)));
    this.sectorSize.value = sector || String(own);
    this.sectorRow.hidden = !vhdx;
  }

  /** The file chosen (0: the file opened). */
  chosen() {
    return Number(this.layer.value) || 0;
  }

  /**
   * Shows the choices for `disk` (null: nothing open, every button off).
   * @param {VhdDisk | null} disk
   */
  show(disk) {
    this.disk = disk;
    const names = disk?.names ?? [];
    fill(this.layer, names.map((n, i) => h('option', { value: i }, i === 0 ? n : `layer ${i}: ${n}`)));
    this.sizeChoices(true);
    this.layerRow.hidden = names.length < 2;
    fill(this.note);
    fill(this.details);
    this.update();
  }

  /**
   * Chooses file `k` of the chain (as the Footer and header view does).
   * @param {number} k
   */
  choose(k) {
    if (this.disk && k >= 0 && k < this.disk.names.length && this.chosen() !== k) {
      this.layer.value = String(k);
      this.update();
    }
  }

  /** Turns each choice on or off for the file chosen, and says why not. */
  update() {
    const d = this.disk;
    const k = this.chosen();
    const layer = d?.layers[k];
    const all = [this.rawButton, this.vhdButton, this.azureButton, this.kind, this.blockSize, this.sectorSize, this.infoButton, this.reportButton, this.compactButton, this.trim, this.repairButton, this.scrub, this.relinkButton, this.relative, this.absolute, this.resizeButton, this.resizeSize, this.gptFix];
    if (!d || !layer) {
      for (const c of all) c.disabled = true;
      this.relinkFields.hidden = true;
      this.azureWhat.textContent = '';
      fill(this.resizeNow);
      this.resizeTyped();
      return;
    }
    // The whole disk needs every layer; one file's copy needs that file (and its parent to compact or relink a child).
    const missing = !!d.missingParent;
    for (const c of [this.rawButton, this.vhdButton, this.azureButton, this.kind, this.blockSize, this.sectorSize]) c.disabled = missing;
    this.infoButton.disabled = this.reportButton.disabled = false;
    if (missing) this.note.textContent = 'The raw image needs the missing parent: add it to export the whole disk.';
    const parent = k + 1 < d.names.length ? d.names[k + 1] : null;
    // What each writer accepts is the core's rule (the same the command line applies), said as a sentence.
    const why = (/** @type {string | null} */ r) => (r ? sentence(r) : '');
    // What the copy will be, or why it cannot be made (the core's reason).
    const azureWhy = why(layer.azureRefusal);
    if (azureWhy) this.azureButton.disabled = true;
    this.azureWhat.textContent = azureWhy || azureWhat(layer.size, layer.azureSize, k > 0);
    const compactWhy = why(layer.refusals.compact);
    this.compactButton.disabled = this.trim.disabled = !!compactWhy;
    this.compactWhy.textContent = compactWhy;
    const repairWhy = why(layer.refusals.repair);
    this.repairButton.disabled = this.scrub.disabled = !!repairWhy;
    this.repairWhy.textContent = repairWhy;
    const relinkWhy = why(layer.refusals.relink);
    this.relinkButton.disabled = this.relative.disabled = this.absolute.disabled = !!relinkWhy;
    this.relinkWhy.textContent = relinkWhy;
    this.relinkFields.hidden = !!relinkWhy;
    if (!relinkWhy && parent) this.relative.value = `.\\${parent}`;
    const resizeWhy = why(layer.refusals.resize);
    this.resizeButton.disabled = this.resizeSize.disabled = this.gptFix.disabled = !!resizeWhy;
    this.resizeWhy.textContent = resizeWhy;
    const now = this.currentSize();
    this.resizeNow.textContent = `now ${humanSize(now)}${now >= 1024 ? ` (${now} bytes)` : ''}`;
    this.resizeTyped();
  }

  /** The virtual size of the file chosen, in bytes. */
  currentSize() {
    const d = this.disk;
    return Number(d?.layerInfos[this.chosen()]?.current_size ?? d?.size ?? 0);
  }

  /**
   * The size typed for "Resize…" in bytes (`+N`: the size it has now grown by N, as `vhd-viewer
   * resize --size +N`), or why it is not one.
   * @returns {{ size: number } | { problem: string }}
   */
  typedSize() {
    const text = this.resizeSize.value.trim();
    if (!text) return { problem: 'Type the new size: in bytes, or with K, M, G or T, e.g. 128G (+16G: 16 GiB more).' };
    const grow = text.startsWith('+');
    const n = parseNumber(grow ? text.slice(1) : text);
    const size = grow ? this.currentSize() + n : n;
    if (!Number.isSafeInteger(size) || size <= 0) return { problem: `"${text}" is not a size: type a whole number of bytes, or a number with K, M, G or T, e.g. 128G (+16G: 16 GiB more).` };
    return { size };
  }

  /**
   * Says what the size typed does (grows or shrinks, by how much), and asks the core for its
   * plan a moment after the typing stops.
   */
  resizeTyped() {
    clearTimeout(this.planTimer);
    this.planAsked++;
    fill(this.resizePlan);
    const d = this.disk;
    const t = this.typedSize();
    if (!d || this.resizeSize.disabled || !this.resizeSize.value.trim()) {
      fill(this.resizeWords);
      return;
    }
    if (!('size' in t)) {
      this.resizeWords.textContent = t.problem;
      this.resizeWords.dataset.change = 'none';
      return;
    }
    const now = this.currentSize();
    const change = t.size > now ? 'grows' : t.size < now ? 'shrinks' : 'same';
    this.resizeWords.dataset.change = change;
    this.resizeWords.textContent =
      change === 'same' ? `${humanSize(t.size)}: the size it has now.` : `${humanSize(t.size)} (${t.size} bytes): the disk ${change} by ${humanSize(Math.abs(t.size - now))}.`;
    if (change === 'same') return;
    const asked = this.planAsked;
    this.planTimer = setTimeout(() => void this.askPlan(asked, t.size), 300);
  }

  /**
   * The core's plan for the size typed (or its refusal), shown unless something else was typed
   * since it was asked (`asked`).
   * @param {number} asked
   * @param {number} size
   */
  async askPlan(asked, size) {
    const r = await this.actions.resizePlan(this.chosen(), size, this.gptFix.checked);
    if (asked === this.planAsked) showPlan(this.resizePlan, r);
    return r;
  }

  /**
   * "Resize…": the plan first (a refusal is shown, and nothing is written), then the copy.
   */
  async resize() {
    const t = this.typedSize();
    if (!('size' in t)) {
      this.resizeWords.textContent = t.problem;
      this.resizeSize.focus();
      return;
    }
    if (t.size === this.currentSize()) {
      this.resizeWords.textContent = `${humanSize(t.size)}: the size it has now. Type another size.`;
      this.resizeSize.focus();
      return;
    }
    clearTimeout(this.planTimer);
    const r = await this.askPlan(++this.planAsked, t.size);
    if ('refusal' in r) {
      this.note.textContent = 'Nothing was written.';
      fill(this.details);
      return;
    }
    await this.copy({ op: 'resize', layer: this.chosen(), size: t.size, gptFix: this.gptFix.checked }, 'resized');
  }

  /**
   * Runs one of the actions, showing what it says.
   * @param {() => Promise<string | null>} job
   */
  async run(job) {
    const text = await job();
    if (text !== null) {
      this.note.textContent = text;
      fill(this.details);
    }
  }

  /**
   * Saves a copy of the file chosen, and shows its report.
   * @param {CopyRequest} req
   * @param {string} suffix of the file name suggested
   */
  async copy(req, suffix) {
    const d = this.disk;
    if (!d) return;
    const k = req.layer ?? 0;
    const name = `${stem(d.names[k])}-${suffix}.${d.layers[k]?.format ?? 'vhd'}`;
    const r = await this.actions.copy(req, name);
    if (!r) return;
    this.note.textContent = r.text;
    fill(this.details, ...r.report.warnings.map((w) => h('p', { class: 'message warning' }, w)), reportDetails(r.report), volumesTable(r.report));
    if ('new_size' in r.report.report) showPlan(this.resizePlan, { plan: r.report.report }, true);
  }
}

/**
 * What the Azure-ready copy of a disk of `size` bytes is (`azureSize`, the core's): said before it
 * is written.
 * @param {number} size
 * @param {number} azureSize
 * @param {boolean} asOfLayer whether the disk is the chain as of a file below the one opened
 */
export function azureWhat(size, azureSize, asOfLayer) {
  const disk = `${asOfLayer ? 'the disk as of the file chosen' : 'the disk'} (${size.toLocaleString('en')} bytes)`;
  const added = azureSize - size;
  const tail = added > 0 ? `${disk}, then ${humanSize(added)} of zeros added at its end` : `${disk} as it is, no zeros added: its size is a whole number of MiB already`;
  return `This writes a fixed VHD of ${humanSize(azureSize)} (${azureSize.toLocaleString('en')} bytes; the file 512 bytes more): ${tail}. The copy passes vhd-viewer check --for azure.`;
}

/**
 * The sentence that says what a copy saved.
 * @param {CopyRequest} req
 * @param {CopyReport} r
 * @param {boolean} differencing whether the file copied is a differencing disk (what it drops
 *   without a file system's word is then what its parent supplies, not zeros)
 */
export function copySummary(req, r, differencing) {
  const rep = r.report;
  if ('new_size' in rep) return `Resized ${resizeWords(rep)}; ${rep.blocks_before} blocks before, ${rep.blocks_after} in the copy`;
  if ('blocks_before' in rep) {
    const saved = rep.file_len_before - rep.file_len;
    const parts = [`${rep.blocks_before} blocks before, ${rep.blocks_after} now`];
    parts.push(`${humanSize(rep.file_len_before)} before, ${humanSize(rep.file_len)} now (${saved >= 0 ? `${humanSize(saved)} smaller` : `${humanSize(-saved)} larger: the file's layout was tighter`})`);
    const data = [];
    if (r.volumes) data.push(`${humanSize(rep.bytes_free)} free in the file systems`);
    data.push(`${humanSize(rep.bytes_zero)} ${differencing ? 'left to the parent' : 'of zeros'}`, `${humanSize(rep.bytes_kept)} kept`);
    parts.push(`of the data the file held: ${data.join(', ')}`);
    if (rep.sectors_cleared) parts.push(`${rep.sectors_cleared} sectors identical to the parent left to the parent`);
    parts.push(`${humanSize(r.bytes_read)} read from the files`);
    return parts.join('; ');
  }
  if ('actions' in rep) {
    const count = (/** @type {RepairAction['kind']} */ k) => rep.actions.filter((a) => a.kind === k).length;
    const [fixed, lost, left] = [count('fixed'), count('lost'), count('not_fixed')];
    if (!rep.actions.length) return `nothing to repair: no defect was found; the copy holds the same disk, laid out anew (${humanSize(rep.file_len)})`;
    return `${fixed} fixed, ${lost} with data lost, ${left} not fixed (${humanSize(rep.file_len)}${req.op === 'repair' && req.scrub ? `, ${rep.sectors_scrubbed} sectors scrubbed` : ''})`;
  }
  return `${rep.blocks} blocks copied (${humanSize(rep.file_len)}); the copy keeps the child's own unique id, so disks made from it still link to it`;
}

/**
 * What a compaction with the free space given back did with each volume: trimmed, or kept whole
 * and why (`FreeSpace::volumes`); nothing for the other copies.
 * @param {CopyReport} r
 */
function volumesTable(r) {
  if (!r.volumes) return null;
  if (!r.volumes.length) return h('p', { class: 'trim-none' }, 'No partition or file system was found on the disk: it was kept whole.');
  return h('table', { class: 'trim-volumes' },
    h('thead', null, h('tr', null, h('th', null, 'Partition'), h('th', null, 'Start'), h('th', null, 'Size'), h('th', null, 'File system'), h('th', null, 'Free'), h('th', null, 'Free space'))),
    h('tbody', null, r.volumes.map((v) =>
      h('tr', { dataset: { trimmed: String(v.trimmed) } },
        h('td', null, v.partition === null ? 'whole disk' : String(v.partition)),
        h('td', { class: 'num' }, `0x${v.start.toString(16)}`),
        h('td', { class: 'num' }, humanSize(v.len)),
        h('td', null, v.filesystem === null ? 'not recognised' : FS_WORDS[v.filesystem] || v.filesystem),
        h('td', { class: 'num' }, v.filesystem === null ? '—' : humanSize(v.free_bytes)),
        h('td', null, v.trimmed ? 'given back' : `kept: ${v.reason ?? 'not trimmed'}`)))));
}

/**
 * A repair's actions as a table (offsets in the damaged file); nothing for the other copies.
 * @param {CopyReport} r
 */
function reportDetails(r) {
  if (!('actions' in r.report) || !r.report.actions.length) return null;
  return h('table', { class: 'repair-actions' },
    h('thead', null, h('tr', null, h('th', null, 'What'), h('th', null, 'Offset'), h('th', null, 'Code'), h('th', null, 'In plain words'))),
    h('tbody', null, r.report.actions.map((a) =>
      h('tr', { dataset: { kind: a.kind } },
        h('td', null, ACTION_WORDS[a.kind]),
        h('td', { class: 'num' }, a.offset === null ? '—' : `0x${a.offset.toString(16)}`),
        h('td', null, h('code', null, a.code)),
        h('td', null, a.message)))));
}

/**
 * The core's words (a refusal, a note: no capital, no full stop) as a sentence.
 * @param {string} words
 */
const sentence = (words) => words[0].toUpperCase() + words.slice(1) + (words.endsWith('.') ? '' : '.');

/**
 * Shows a resize's plan (what the copy will be, or, `done`, what it is) or the core's refusal in
 * `box`, with the core's notes.
 * @param {HTMLElement} box
 * @param {{ plan: ResizePlan } | { refusal: string, code: string | null }} r
 * @param {boolean} [done]
 */
function showPlan(box, r, done = false) {
  if ('refusal' in r) {
    // The command line's --no-gpt-fix is the checkbox here.
    const gpt = r.code === 'gpt-damaged' ? ' Here: uncheck "fix the GPT" to copy the table as it is.' : '';
    fill(box, h('p', { class: 'message error', dataset: { refused: 'true', code: r.code ?? '' } }, `Refused: ${r.refusal}.${gpt}`));
    return;
  }
  const p = r.plan;
  // The unpartitioned space is said in the sentence; the core's note of it is left out.
  const notes = p.notes.filter((n) => !n.includes('of unpartitioned space'));
  fill(box, h('p', { dataset: { refused: 'false' } }, `${done ? 'The copy was' : 'The copy will be'} resized ${resizeWords(p)}.`), notes.map((n) => h('p', { class: 'note' }, sentence(n))));
}

/**
 * What a resize does, in words: the sizes, the GPT's backup, the space no partition covers.
 * @param {ResizePlan} p
 */
function resizeWords(p) {
  const by = humanSize(Math.abs(p.new_size - p.old_size));
  const parts = [`from ${humanSize(p.old_size)} to ${humanSize(p.new_size)} (${by} ${p.grows ? 'larger' : 'smaller'})`];
  if (p.gpt_moved) parts.push('the GPT\'s backup header and partition entries at the new end, the protective MBR sized to it');
  parts.push(
    p.unpartitioned_bytes > 0
      ? `${humanSize(p.unpartitioned_bytes)} of unpartitioned space at the end (to use it, grow a partition into it inside the virtual machine: diskpart extend, growpart, resize2fs)`
      : 'no unpartitioned space at the end',
  );
  return parts.join('; ');
}

/**
 * The unit of a copy's progress: bytes for a fixed disk's repair, 1 MiB stretches for a fixed
 * VHD's resize, else blocks.
 * @param {CopyRequest} req
 * @param {DiskLayer | undefined} layer the file copied
 */
export function copyUnit(req, layer) {
  if (layer?.diskType !== 'fixed') return 'blocks';
  if (req.op === 'repair') return 'bytes';
  return req.op === 'resize' && layer.format === 'vhd' ? 'MiB' : 'blocks';
}

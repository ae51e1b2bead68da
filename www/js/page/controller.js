// The viewer's controller, one for the page (app.js) and the <vhd-viewer> element (element.js):
// it opens the files given (through the public API, openVhd), shows a chain in every view, and
// answers the views' clicks: a layer's structures, the block map and its blocks up close, the
// provenance map and its exact scan, the hex view and its stepping, a place named by a finding,
// the full check, and long tasks with progress and cancel. The page and the element only lay the
// views out (`Parts`) and say how to reveal one (`Host`); a view added here appears in both.
import { openVhd, noDiskError } from './api.js';
import { hex, humanSize, parseNumber } from '../common/format.js';
import { h, fill } from './dom.js';
import { renderSummary, renderStructures, highlightOffset } from './views/structures.js';
import { renderFiles, renderChain, missingParentText } from './views/chain.js';
import { BatView, ProvenanceView } from './views/maps.js';
import { CloseupView } from './views/closeup.js';
import { showVirtualSector, showFileBytes, showOwner } from './views/hex.js';
import { renderFindings } from './views/findings.js';
import { filesView } from './views/files.js';
import { ChangesView } from './views/changes.js';
import { TimelineView } from './views/timeline.js';
import { VIEW_OF } from './location.js';
import { PictureBar } from './views/picture.js';
import { renderSystems, renderHealth } from './views/system.js';
import { SearchView } from './views/search.js';
import { download, exportRaw, exportVhd, exportCopy, exportInfo, exportReport, SaveView, stem, copySummary, copyUnit } from './save.js';

/**
 * @import { DiskInput, VhdDisk } from './api.js'
 * @import { LayerStructures } from '../common/types.js'
 * @import { ViewContext } from './types.js'
 * @import { Place } from './location.js'
 */

/**
 * The elements the controller fills and listens to (`systems` and `health`: the first screen's
 * System cards and health verdict). `partsPicture`, optional: where the partitions' picture goes
 * instead of above their list (the page's first screen). `hexLayer`, `hexModes` and `hexAtLabel` are
 * optional (the element's hex view shows virtual sectors only).
 * @typedef {{ messages: HTMLElement, fileList: HTMLElement, chain: HTMLElement, summary: HTMLElement, systems: HTMLElement, health: HTMLElement,
 *   layerSelect: HTMLSelectElement, structures: HTMLElement, batLayer: HTMLSelectElement, batLegend: HTMLElement,
 *   batCanvas: HTMLCanvasElement, batHover: HTMLElement, provLead: HTMLElement, scan: HTMLButtonElement, provState: HTMLElement,
 *   provLegend: HTMLElement, provCanvas: HTMLCanvasElement, provHover: HTMLElement, closeup: HTMLElement, hexForm: HTMLFormElement,
 *   hexAt: HTMLInputElement, hexPrev: HTMLButtonElement, hexNext: HTMLButtonElement, hexSource: HTMLElement, hexOwner?: HTMLElement, hexDump: HTMLElement,
 *   hexLayer?: HTMLSelectElement, hexModes?: HTMLInputElement[], hexAtLabel?: HTMLElement, partsPicture?: HTMLElement,
 *   findings: HTMLElement, checkRun: HTMLButtonElement, checkBody: HTMLElement, files: HTMLElement, filesLayer: HTMLSelectElement,
 *   changes: HTMLElement, changesFrom: HTMLSelectElement, changesTo: HTMLSelectElement, changesRun: HTMLButtonElement, save: HTMLElement,
 *   rebaseOnto: HTMLSelectElement, rebaseRun: HTMLButtonElement, search: HTMLElement,
 *   timeline: HTMLElement, timelineRun: HTMLButtonElement, timelineBody: HTMLButtonElement, timelineCsv: HTMLButtonElement,
 *   task: HTMLElement, taskLabel: HTMLElement, taskProgress: HTMLProgressElement, taskCount: HTMLElement, taskCancel: HTMLButtonElement }} Parts
 */

/**
 * What the page or the element does around the views. `place`: where a disk opens (its unique
 * id given: the top file's); `moved`: the reader moved (the place shown, keys of location.js);
 * `view`: show a view by its name (location.js: VIEWS); `filesAtOnce`: the files view and the
 * System cards are read as soon as a disk is shown (the page), not when their view is (the element).
 * @typedef {{
 *   state(s: 'idle' | 'loading' | 'ready' | 'error'): void,
 *   scanState(s: 'running' | 'done' | 'stopped' | null): void,
 *   reveal(view: 'structures' | 'bat' | 'provenance' | 'closeup' | 'hex' | 'findings' | 'files' | 'changes' | 'chain' | 'search', el?: HTMLElement): void,
 *   shown?(disk: VhdDisk): void,
 *   structuresShown?(): void,
 *   failed?(error: Error & { code?: string | null }): void,
 *   place?(disk: string): Place,
 *   moved?(place: Place, disk: string): void,
 *   view?(view: string): void,
 *   filesAtOnce?: boolean,
 *   saveIds?: string,
 * }} Host
 */

/** @typedef {'virtual' | 'file'} HexMode */

/** The words of the provenance map's lead, for one file or a chain. */
/** How often a long task's progress is drawn, in ms (the provenance map during a scan: four times less often). */
const PROGRESS_MS = 500;

const PROV_LEAD = {
  chain: 'Each square is a stretch of the virtual disk, coloured by the file of the chain that supplies it: a differencing disk holds only what changed, the rest is read from its parent. Click a square for its sectors.',
  one: 'Each square is a stretch of the virtual disk: coloured where the file holds data, grey where the disk reads as zeros because nothing was ever written there. Click a square for its sectors.',
};

export class Viewer {
  /**
   * @param {Parts} parts
   * @param {Host} host
   */
  constructor(parts, host) {
    this.$ = parts;
    this.host = host;
    /** @type {VhdDisk | null} the disk shown */
    this.disk = null;
    /** @type {AbortController | null} the files given: new files abort everything of the old */
    this.ctrl = null;
    /** @type {AbortController | null} the long task running */
    this.taskCtrl = null;
    this.cellSize = 0;
    this.scanned = false;
    /** @type {{ mode: HexMode, at: number, layer: number }} */
    this.hexState = { mode: 'virtual', at: 0, layer: 0 };
    /** @type {{ disk: VhdDisk, at: number } | null} the sector whose owner the hex view says (or is asking) */
    this.ownerOf = null;
    /** @type {Place} where the reader is (location.js), reported to the host as it changes */
    this.place = {};
    /** Whether the disk is opening at a place: the moves are not reported, nor the views revealed. */
    this.restoring = false;
    /** @type {{ view: import('./types.js').FilesView, disk: VhdDisk, layer: number } | null} the files view shown */
    this.files = null;
    const $ = parts;

    this.closeupView = new CloseupView($.closeup, { onSector: (s) => this.hexShow({ mode: 'virtual', at: s }, true) });
    this.bat = new BatView({
      canvas: $.batCanvas,
      hoverEl: $.batHover,
      legendEl: $.batLegend,
      onPick: (layer, block) => {
        const d = this.disk;
        if (!d) return; // other files are loading
        const bs = d.layers[layer].blockSize;
        this.showCloseup({ layer, block, start: block * bs, len: bs });
      },
    });
    this.prov = new ProvenanceView({
      canvas: $.provCanvas,
      hoverEl: $.provHover,
      legendEl: $.provLegend,
      onPick: (start, len) => this.showCloseup({ start, len }),
    });

    $.layerSelect.addEventListener('change', () => this.selectLayer(Number($.layerSelect.value)));
    $.batLayer.addEventListener('change', () => {
      const i = Number($.batLayer.value);
      if (this.disk) this.bat.show(this.disk, i, this.disk.names[i]);
      this.moved({ layer: i, block: undefined });
      this.refreshPictures();
    });
    $.filesLayer.addEventListener('change', () => {
      void this.showFiles();
      void this.showSystems();
    });
    /** @type {{ disk: VhdDisk, layer: number } | null} the disk and layer the System cards are read from */
    this.systemsOf = null;
    this.changesView = new ChangesView($.changes, {
      onPick: (row) => this.pickChange(row),
      onSave: (blob, name) => download(blob, name),
      onFilter: (text) => this.moved({ changes: text || undefined }),
      // A system's change: its file as of the newer layer compared.
      onSource: (partition, src) => this.openSource(partition, src, this.changed?.to),
    });
    /** @type {{ disk: VhdDisk, from: number, to: number, other?: string } | null} what the Changes view shows (`other`: another disk, `from` -1) */
    this.changed = null;
    $.changesRun.addEventListener('click', () => this.compare());
    // The Timeline: every time as of the files view's layer; a row opens its file.
    this.timelineView = new TimelineView($.timeline, { onPick: (r) => this.openTimelineRow(r) });
    /** @type {{ disk: VhdDisk, layer: number } | null} what the Timeline shows */
    this.timed = null;
    $.timelineRun.addEventListener('click', () => this.timeline());
    $.timelineBody.addEventListener('click', () => this.saveTimeline('body'));
    $.timelineCsv.addEventListener('click', () => this.saveTimeline('csv'));
    $.rebaseRun.addEventListener('click', () => this.rebase());
    this.saveView = new SaveView($.save, host.saveIds ?? 'save-', this.saveActions());
    // The disk searched as of the files view's layer; a hit: its bytes in the hex view, and a
    // file's in the file browser (as of the layer searched).
    this.searchView = new SearchView($.search, {
      layer: () => Number($.filesLayer.value) || 0,
      show: (hit, layer) => this.showHit(hit, layer, false),
      open: (hit, layer) => this.showHit(hit, layer, true),
    });
    /** @type {{ layer: number, block: number } | null} the block whose sector bitmap the close-up shows */
    this.closeupAt = null;
    this.pictures = this.pictureBars();
    $.scan.addEventListener('click', () => this.scan());
    $.checkRun.addEventListener('click', () => this.check());
    $.taskCancel.addEventListener('click', () => this.taskCtrl?.abort(new DOMException('cancelled', 'AbortError')));
    $.hexForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.hexSubmit();
    });
    $.hexPrev.addEventListener('click', () => this.step(-1));
    $.hexNext.addEventListener('click', () => this.step(1));
    for (const r of $.hexModes ?? []) r.addEventListener('change', () => this.hexShow({ mode: /** @type {HexMode} */ (r.value), at: 0 }));
    $.hexLayer?.addEventListener('change', () => this.hexShow({ mode: 'file', layer: Number($.hexLayer?.value), at: 0 }));
  }

  /**
   * "Save picture" and "Copy as SVG" under each of the six pictures, each saying which picture
   * is shown now (`vhd-viewer draw`'s arguments).
   */
  pictureBars() {
    const $ = this.$;
    /** The provenance map reads every block's bitmap: with progress and Stop. */
    const draw = (/** @type {VhdDisk} */ d, /** @type {import('../common/types.js').PictureRequest} */ r) =>
      r.kind === 'provenance'
        ? this.runTask('Drawing the provenance map', (signal, progress) => d.picture(r, { signal, onProgress: (done, total) => progress(done, total, 'bytes') }))
        : d.picture(r);
    /**
     * @param {HTMLElement} after
     * @param {string} kind
     * @param {(d: VhdDisk) => Omit<import('../common/types.js').PictureRequest, 'theme' | 'width'> | null} request
     */
    const bar = (after, kind, request) => {
      const b = new PictureBar(kind, () => {
        const d = this.disk;
        const r = d && d.names.length ? request(d) : null;
        if (!d || !r) return null;
        const at = [r.layer ? `layer${r.layer}` : '', r.block !== undefined && r.block !== null ? `block${r.block}` : ''].filter(Boolean);
        return { disk: d, request: r, name: [stem(d.names[0]), r.kind, ...at].join('-') };
      }, draw);
      after.after(b.el);
      return b;
    };
    return [
      bar($.chain, 'chain diagram', () => ({ kind: 'chain', layer: 0 })),
      bar($.batHover, 'block map', (d) => {
        const layer = Number($.batLayer.value) || 0;
        return d.layers[layer]?.blockSize ? { kind: 'bat', layer } : null;
      }),
      bar($.provHover, 'provenance map', () => ({ kind: 'provenance', layer: 0 })),
      bar($.closeup, 'sector bitmap', () => (this.closeupAt ? { kind: 'bitmap', ...this.closeupAt } : null)),
      bar($.files, 'partition layout', () => ({ kind: 'partitions', layer: Number($.filesLayer.value) || 0 })),
      bar($.changes, 'Changes bar', (d) => {
        const report = this.changesView.report;
        return this.changed?.disk === d && report ? { kind: 'changes', layer: this.changed.to, report } : null;
      }),
    ];
  }

  /** Shows or hides each picture's buttons after what is shown changed. */
  refreshPictures() {
    for (const b of this.pictures) b.refresh();
  }

  // ------------------------------------------------------------ messages and tasks

  /**
   * @param {string} text
   * @param {string} [kind]
   */
  message(text, kind = 'info') {
    this.$.messages.append(h('p', { class: `message ${kind}` }, text));
  }

  clearMessages() {
    fill(this.$.messages);
  }

  /**
   * Runs a long job with a progress bar and a Cancel button; new files cancel it too. Resolves
   * undefined when it was cancelled or failed (said in a message).
   * @template T
   * @param {string} label
   * @param {(signal: AbortSignal, progress: (done: number, total: number, unit?: string) => void) => Promise<T>} job
   * @returns {Promise<T | undefined>}
   */
  async runTask(label, job) {
    if (!this.ctrl) return undefined; // no files given yet
    const $ = this.$;
    this.taskCtrl?.abort(new DOMException('another task began', 'AbortError'));
    const ctrl = new AbortController();
    this.taskCtrl = ctrl;
    const parent = this.ctrl.signal;
    const onParent = () => ctrl.abort(parent.reason);
    parent.addEventListener('abort', onParent, { once: true });
    $.task.hidden = false;
    $.taskLabel.textContent = label;
    $.taskProgress.removeAttribute('value');
    $.taskCount.textContent = '';
    let shown = 0;
    /** @type {(done: number, total: number, unit?: string) => void} */
    const progress = (done, total, unit = '') => {
      // Twice a second: each update is a rendering pass, and WebKit's Worker reads wait for
      // its main thread (the scan's reads slowed by half with updates every 150 ms, measured).
      const now = performance.now();
      if ((done < total || !total) && now - shown < PROGRESS_MS) return;
      shown = now;
      // A total not known (0): the bar stays indeterminate, the count says how far.
      if (!total) {
        $.taskCount.textContent = `${done.toLocaleString('en')} ${unit}`;
        return;
      }
      $.taskProgress.max = total || 1;
      $.taskProgress.value = done;
      $.taskCount.textContent = unit === 'bytes' ? `${humanSize(done)} of ${humanSize(total)}` : unit === '%' ? `${Math.floor((done * 100) / (total || 1))}%` : `${done} of ${total}${unit ? ' ' + unit : ''}`;
    };
    try {
      return await job(ctrl.signal, progress);
    } catch (e) {
      if (ctrl.signal.aborted) {
        if (parent === this.ctrl?.signal && !parent.aborted) this.message(`${label}: cancelled.`);
        return undefined;
      }
      this.message(`${label}: ${/** @type {Error} */ (e).message}`, 'error');
      this.host.failed?.(/** @type {Error} */ (e));
      return undefined;
    } finally {
      parent.removeEventListener('abort', onParent);
      if (this.taskCtrl === ctrl) {
        this.taskCtrl = null;
        $.task.hidden = true;
      }
    }
  }

  // ------------------------------------------------------------ opening files

  /** Closes the disk shown, and stops what it was doing (other files are looked at). */
  close() {
    this.ctrl?.abort(new DOMException('other files were given', 'AbortError'));
    this.ctrl = null;
    this.disk?.close();
    this.disk = null;
    this.saveView.show(null);
    this.searchView.show(null);
    this.clearMessages();
    this.host.scanState(null);
  }

  /**
   * Opens `inputs` (Files, Blobs, URLs) as the new set of files; resolves when they are shown.
   * @param {DiskInput[]} inputs
   */
  async load(inputs) {
    this.ctrl?.abort(new DOMException('other files were given', 'AbortError'));
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    const signal = ctrl.signal;
    this.disk?.close();
    this.disk = null;
    this.saveView.show(null);
    this.searchView.show(null);
    this.clearMessages();
    this.host.scanState(null);
    this.host.state('loading');
    let disk;
    try {
      // One file: its footer and header are drawn while its block table is still being read
      // (where the host shows them apart from the rest), then again with everything else.
      const onStructures = inputs.length === 1 && this.host.structuresShown ? (/** @type {LayerStructures} */ s) => this.earlyStructures(s, signal) : undefined;
      disk = await openVhd(inputs, { signal, all: true, onStructures });
    } catch (e) {
      if (signal.aborted) return;
      const err = /** @type {Error} */ (e);
      for (const line of String(err.message).split('\n')) this.message(line, 'error');
      this.host.state('error');
      this.host.failed?.(err);
      return;
    }
    if (signal.aborted) {
      disk.close();
      return;
    }
    this.disk = disk;
    for (const f of disk.files) if (f.error) this.message(`${f.name}: ${f.error}`, 'error');
    if (!disk.chainCount) {
      renderFiles(this.$.fileList, disk.files, [], 0, () => {});
      fill(this.$.chain);
      this.host.state('error');
      if (!disk.files.length) this.message('No files were given.');
      this.host.failed?.(noDiskError(disk.files));
      return;
    }
    await this.showChain(disk.best);
  }

  /**
   * Draws the structures of the one file given before its block table is read; showChain draws
   * them again from the file's info.
   * @param {LayerStructures} s
   * @param {AbortSignal} signal
   */
  earlyStructures(s, signal) {
    if (signal.aborted || signal !== this.ctrl?.signal) return;
    const $ = this.$;
    $.structures.dataset.layer = '0';
    $.structures.dataset.file = s.file;
    renderStructures($.structures, s);
    this.host.structuresShown?.();
  }

  /**
   * Shows chain `k` of the files given in every view.
   * @param {number} k
   */
  async showChain(k) {
    const disk = this.disk;
    if (!disk || !this.ctrl) return;
    const $ = this.$;
    this.taskCtrl?.abort(new DOMException('another chain was chosen', 'AbortError'));
    const choose = (/** @type {number} */ j) => {
      this.clearMessages();
      this.showChain(j);
    };
    try {
      await disk.selectChain(k, { signal: this.ctrl.signal });
    } catch (e) {
      if (disk !== this.disk) return;
      // Not a disk (a chain too deep, say): say why, list the files, and show nothing stale.
      const top = disk.files[disk.chains[k][0]].name;
      this.message(`${top}: ${/** @type {Error} */ (e).message}`, 'error');
      renderFiles($.fileList, disk.files, disk.chains, k, choose);
      fill($.chain);
      this.host.state('error');
      this.host.failed?.(/** @type {Error} */ (e));
      return;
    }
    if (disk !== this.disk) return;
    const { names, info, missingParent, fit } = disk;
    // Where to open it (the page's URL, the element's attributes): the moves meanwhile are not reported.
    const place = this.host.place?.(this.diskId()) ?? {};
    this.restoring = true;
    this.place = {};
    if (missingParent) this.message(missingParentText(names[names.length - 1], missingParent), missingParent.severity);
    renderFiles($.fileList, disk.files, disk.chains, k, choose);
    renderChain($.chain, info, names, missingParent, (i) => {
      this.selectLayer(i);
      this.reveal('structures');
    });
    renderSummary($.summary, info, fit);
    renderHealth($.health, info, names, { findings: () => this.reveal('findings'), chain: () => this.reveal('chain') });
    this.systemsOf = null;
    fill($.systems);
    const options = () => names.map((n, i) => h('option', { value: i }, `${i === 0 ? '' : `layer ${i}: `}${n}`));
    for (const sel of [$.layerSelect, $.batLayer, $.hexLayer]) if (sel) fill(sel, options());
    fill($.filesLayer, names.map((n, i) => h('option', { value: i }, i === 0 ? (names.length > 1 ? `the whole chain (as ${n} has it)` : n) : `as of layer ${i}: ${n}`)));
    /** @type {HTMLLabelElement | null} */ ($.filesLayer.closest('label'))?.toggleAttribute('hidden', names.length < 2);
    this.files?.view.destroy();
    this.files = null;
    fill($.files, h('p', { class: 'empty' }, 'The partitions and files are read when this part is shown.'));
    const layerOption = (/** @type {string} */ n, /** @type {number} */ i) => h('option', { value: i }, `${i === 0 ? 'the file opened' : `layer ${i}`}: ${n}`);
    // The other disks given (not of this chain) can be compared with too.
    const others = disk.chains.map((c, j) => [j, disk.files[c[0]].name]).filter(([j]) => j !== k);
    fill($.changesFrom, names.map(layerOption), others.map(([j, n]) => h('option', { value: `other:${j}` }, `another disk: ${n}`)));
    fill($.changesTo, names.map(layerOption));
    $.changesFrom.value = names.length > 1 ? '1' : others.length ? `other:${others[0][0]}` : '0';
    $.changesTo.value = '0';
    $.changesRun.disabled = names.length < 2 && !others.length;
    // A child and another disk given: can the child move onto it?
    fill($.rebaseOnto, others.map(([j, n]) => h('option', { value: j }, n)));
    /** @type {HTMLElement} */ ($.rebaseOnto.closest('.controls')).hidden = names.length < 2 || !others.length;
    this.changed = null;
    this.changesView.message(
      names.length > 1
        ? 'Compare a layer of the chain with an older one (by default the file opened with its parent) to see which files it added, deleted, modified or renamed, and where every byte it holds went.'
        : others.length
          ? `This disk has no parent. It can be compared with another disk given (${others.map(([, n]) => n).join(', ')}): two disks that are not one chain, so every allocated sector of both is read.`
          : 'This disk has no parent: what a differencing disk changed is shown when one is given with its parent, or with another disk to compare with.',
    );
    this.selectLayer(0);
    renderFindings($.findings, info.all_findings, names, (layer, offset) => this.showPlace(layer, offset));
    fill($.checkBody);
    $.checkRun.disabled = false;
    this.saveView.show(disk);
    this.searchView.show(disk);
    this.closeupAt = null;
    this.refreshPictures();
    this.host.shown?.(disk);

    // Let the structures and findings show before the maps, which take a while at a million
    // blocks; newer files given meanwhile win.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    if (disk !== this.disk) return;
    // The page's System cards first: they answer what the disk is (read in the Worker, said
    // meanwhile); the element reads them when its Summary tab is shown.
    if (this.host.filesAtOnce) void this.showSystems();
    const firstSparse = Math.max(0, disk.layers.findIndex((l) => l.blockSize > 0));
    const mapLayer = place.layer !== undefined && disk.layers[place.layer]?.blockSize ? place.layer : firstSparse;
    $.batLayer.value = String(mapLayer);
    this.refreshPictures();
    const maps = this.bat.show(disk, mapLayer, names[mapLayer]).catch((e) => this.message(`Block map: ${/** @type {Error} */ (e).message}`, 'error'));

    // Provenance: the estimate now, the exact map on request.
    this.cellSize = disk.chunkSize;
    this.scanned = false;
    this.host.scanState(null);
    $.provLead.textContent = names.length > 1 || missingParent ? PROV_LEAD.chain : PROV_LEAD.one;
    try {
      const { masks, needed } = await disk.estimate(this.cellSize);
      if (disk !== this.disk) return;
      this.prov.show(disk, names, this.cellSize, masks);
      $.provState.textContent = needed
        ? `Estimate from the block tables: ${needed} squares hold blocks whose sector bitmaps decide which file each sector comes from.`
        : 'Exact: no block bitmaps are needed for this disk.';
      $.scan.disabled = needed === 0;
    } catch (e) {
      if (disk !== this.disk) return;
      this.message(`Provenance map: ${/** @type {Error} */ (e).message}`, 'error');
      $.scan.disabled = true;
    }
    fill($.closeup, h('p', { class: 'empty' }, 'Click a square of the map above, or a block in the block map, to see its sectors and its sector bitmap here.'));
    const first = place.sector ?? 0;
    await Promise.all([
      maps,
      this.hexShow({ mode: 'virtual', at: Math.max(0, Math.min(first, Math.ceil(disk.size / disk.sectorSize) - 1)), layer: 0 }),
      // The page shows the files with everything else, before it says it is ready (so that nothing moves after).
      this.host.filesAtOnce ? this.showFiles() : null,
    ]);
    if (disk !== this.disk) return;
    await this.goTo(place);
    if (disk !== this.disk) return;
    this.restoring = false;
    this.place = { ...place };
    delete this.place.disk;
    this.host.moved?.(this.place, this.diskId());
    this.host.state('ready');
  }

  // ------------------------------------------------------------ where the reader is (location.js)

  /** The unique id of the file shown (the top of its chain), as the core reads it; '' for none. */
  diskId() {
    const d = this.disk;
    if (!d || d.chainIndex < 0) return '';
    return d.files[d.chains[d.chainIndex][0]].identity?.uniqueId ?? '';
  }

  /**
   * The reader moved: `patch` (undefined values remove their keys) joins the place shown, told
   * to the host (the page's URL fragment, the element's attributes and event).
   * @param {Place} patch
   */
  moved(patch) {
    if (!this.disk || this.restoring) return;
    /** @type {Record<string, unknown>} */
    const place = { ...this.place, ...patch };
    for (const [k, v] of Object.entries(place)) if (v === undefined) delete place[k];
    this.place = /** @type {Place} */ (place);
    this.host.moved?.(this.place, this.diskId());
  }

  /**
   * Shows a part of the viewer (`host.reveal`): its view is where the reader is.
   * @param {keyof typeof VIEW_OF} view
   * @param {HTMLElement} [el]
   */
  reveal(view, el) {
    this.moved({ view: VIEW_OF[view] });
    if (!this.restoring) this.host.reveal(view, el);
  }

  /**
   * Moves to `place`, the keys it has (location.js): the block map's layer, a block up close, a
   * virtual sector in the hex view, a folder or file of the files view, the Changes filter, then
   * the view. A place the disk does not have (a block past its end) is left out, said nowhere:
   * the place was written for this disk's id, or for none.
   * @param {Place} place
   */
  async goTo(place) {
    const d = this.disk;
    if (!d) return;
    const $ = this.$;
    /** @type {Promise<unknown>[]} */
    const jobs = [];
    const layer = place.layer !== undefined && place.layer < d.layerCount ? place.layer : undefined;
    const bs = layer === undefined ? 0 : d.layers[layer].blockSize;
    if (layer !== undefined && bs && $.batLayer.value !== String(layer)) {
      $.batLayer.value = String(layer);
      jobs.push(this.bat.show(d, layer, d.names[layer]).catch((e) => this.readFailed('Block map', e)));
    }
    if (place.block !== undefined) {
      if (bs && place.block < Math.ceil(d.size / bs)) jobs.push(this.showCloseup({ layer, block: place.block, start: place.block * bs, len: bs }));
      else if (!bs && place.block * d.chunkSize < d.size) jobs.push(this.showCloseup({ start: place.block * d.chunkSize, len: d.chunkSize }));
    }
    const sectors = Math.ceil(d.size / d.sectorSize);
    if (place.sector !== undefined && place.sector < sectors && (this.hexState.mode !== 'virtual' || this.hexState.at !== place.sector)) {
      jobs.push(this.hexShow({ mode: 'virtual', at: place.sector }));
    }
    if (place.partition !== undefined) jobs.push(this.openPath(place.partition, place.path ?? '/').catch((e) => this.readFailed(place.path ?? `Partition ${place.partition}`, e)));
    if (place.changes !== undefined) {
      this.changesView.filter.text = place.changes;
      // A link to the Changes view compares at once (a task with progress and Stop).
      if (place.view === 'changes' && d.layerCount > 1 && !$.changesRun.disabled) void this.compare();
    }
    await Promise.all(jobs);
    if (d === this.disk && place.view) {
      this.moved({ view: place.view });
      this.host.view?.(place.view);
    }
  }

  /**
   * Shows layer `i`'s own footer and header (the info of the chain from that layer down).
   * @param {number} i
   */
  async selectLayer(i) {
    const disk = this.disk;
    if (!disk) return; // no files opened yet
    const $ = this.$;
    $.layerSelect.value = String(i);
    this.saveView.choose(i);
    $.structures.dataset.layer = String(i);
    $.structures.dataset.file = disk.names[i];
    const info = await disk.layerInfo(i);
    if (disk !== this.disk || $.structures.dataset.layer !== String(i)) return;
    renderStructures($.structures, info);
  }

  // ------------------------------------------------------------ saving new files

  /**
   * What the Save view's buttons do: each a task with progress and cancel.
   * @returns {import('./save.js').SaveActions}
   */
  saveActions() {
    /** @param {{ cancelled?: true, method?: string, name?: string, size?: number } | undefined} r @param {string} [more] */
    const said = (r, more = '') => {
      if (!r || r.cancelled) return null;
      const size = humanSize(r.size ?? 0);
      return r.method === 'download' ? `Saving ${r.name} (${size}${more}): your browser saves it as a download.` : `Saved ${r.name} (${size}${more}).`;
    };
    return {
      raw: async () => {
        const d = this.disk;
        if (!d) return null;
        return said(await this.runTask('Saving the raw image', (signal, progress) => exportRaw(d, stem(d.names[0]) + '.img', { signal, onProgress: (done, total) => progress(done, total, 'bytes') })));
      },
      vhd: async (kind, layer, sizes) => {
        const d = this.disk;
        if (!d) return null;
        const [format, type] = kind.startsWith('vhdx') ? ['VHDX', kind === 'vhdx' ? 'dynamic' : 'fixed'] : ['VHD', kind];
        const label = kind === 'azure' ? 'Saving an Azure-ready copy (a fixed VHD)' : `Saving a ${type} ${format}`;
        const r = await this.runTask(label, (signal, progress) =>
          exportVhd(d, `${stem(d.names[layer])}-${type}.${format.toLowerCase()}`, kind, { layer, ...sizes, signal, onProgress: (done, total) => progress(done, total, 'bytes') }),
        );
        if (kind === 'azure') return said(r, ', a fixed VHD for Azure');
        return said(r, r && !r.cancelled && r.blocks ? `, ${r.blocks} blocks allocated` : '');
      },
      copy: async (req, fileName) => {
        const d = this.disk;
        if (!d) return null;
        const label = { compact: 'Compacting', repair: 'Repairing', relink: 'Relinking', resize: 'Resizing' }[req.op];
        const trim = req.op === 'compact' && req.trim ? ', giving back the free space' : '';
        const r = await this.runTask(`${label} ${d.names[req.layer ?? 0]}${trim}`, (signal, progress) =>
          exportCopy(d, fileName, req, { signal, onProgress: (done, total) => progress(done, total, copyUnit(req, d.layers[req.layer ?? 0])) }),
        );
        if (!r || r.cancelled) return null;
        return { text: `${said(r)} ${copySummary(req, r.report, d.layers[req.layer ?? 0].diskType === 'differencing')}.`, report: r.report };
      },
      resizePlan: async (layer, size, gptFix) => {
        const d = this.disk;
        if (!d) return { refusal: 'no disk is open', code: null };
        try {
          return { plan: await d.resizePlan(layer, size, gptFix) };
        } catch (e) {
          const err = /** @type {Error & { code?: string }} */ (e);
          return { refusal: err.message, code: err.code ?? null };
        }
      },
      info: () => {
        const d = this.disk;
        if (d?.info) exportInfo(d.info, stem(d.names[0]) + '.info.json');
      },
      report: async () => {
        const d = this.disk;
        if (!d) return null;
        return said(await this.runTask('Writing the report (every byte is read for its SHA-256)', (signal, progress) => exportReport(d, stem(d.names[0]) + '.report.html', { signal, onProgress: (done, total) => progress(done, total, '%') })));
      },
    };
  }

  // ------------------------------------------------------------ files on the disk

  /**
   * The partitions, file systems and files of the disk, as of the layer chosen (the whole chain
   * by default): the page shows them with everything else, the element when its tab is chosen.
   * Resolves when the partitions are drawn and the first readable one listed.
   * @returns {Promise<void>}
   */
  async showFiles() {
    const d = this.disk;
    if (!d || !d.names.length) return;
    const layer = Number(this.$.filesLayer.value) || 0;
    if (this.files && this.files.disk === d && this.files.layer === layer) return this.files.view.ready.catch(() => {});
    this.files?.view.destroy();
    /** @type {import('./types.js').FilesApi} */
    const api = {
      partitions: () => d.partitions({ layer }),
      list: (p, path, deleted) => d.list(p, path, { deleted, layer }),
      stat: (p, path, deleted) => d.stat(p, path, { deleted, layer }),
      read: (p, path, stream, deleted, offset, len) => d.readPath(p, path, { stream, deleted, offset, length: len, layer }),
      // An unlocked volume's sectors are owned by its files now: the hex view's owner asked again.
      unlock: async (p, kind, secret, signal, onProgress) => {
        const table = await d.unlock(p, kind, secret, { layer, signal, onProgress });
        this.sayOwner(this.hexState.mode === 'virtual' ? this.hexState.at : null, true);
        return table;
      },
    };
    const view = filesView(this.$.files, api, {
      onPlace: (offset, len) => this.showOnDisk(offset, len),
      onMove: (partition, path) => this.moved({ partition, path }),
      diskSize: d.size,
      layerNames: d.names.slice(layer),
      pictureRoot: this.$.partsPicture,
      onPicture: () => this.reveal('files'),
    });
    this.files = { view, disk: d, layer };
    return view.ready.catch(() => {
      /* the view says why */
    });
  }

  /**
   * The System card of each volume holding an operating system, as of the layer the files view
   * shows (the whole chain by default): "reading" at once, then what the core's inspect found.
   */
  async showSystems() {
    const d = this.disk;
    if (!d || !d.names.length) return;
    const $ = this.$;
    const layer = Number($.filesLayer.value) || 0;
    if (this.systemsOf?.disk === d && this.systemsOf.layer === layer) return;
    const of = { disk: d, layer };
    this.systemsOf = of;
    const asOf = layer ? `layer ${layer} (${d.names[layer]})` : undefined;
    /** @type {import('./views/system.js').SystemActions} */
    const actions = { source: (partition, src) => this.openSource(partition, src) };
    renderSystems($.systems, { systems: null, asOf }, actions);
    try {
      const systems = await d.systems({ layer });
      if (this.systemsOf === of) renderSystems($.systems, { systems, asOf }, actions);
    } catch (e) {
      if (this.systemsOf === of && d === this.disk) renderSystems($.systems, { systems: null, error: /** @type {Error} */ (e).message, asOf }, actions);
    }
  }

  /**
   * Opens the file a system's answer was read from in the files view (as of layer `layer`, when
   * given: the files view's layer otherwise).
   * @param {import('../common/types.js').VolumeRef} partition
   * @param {import('../common/types.js').SystemSource} src
   * @param {number} [layer]
   */
  openSource(partition, src, layer) {
    this.openIn(partition, src.path, { layer });
  }

  /**
   * Opens `path` of partition `partition` in the files view as of layer `layer` (when given: the
   * files view's layer otherwise), revealed unless `reveal` is false; `deleted` for a deleted one.
   * @param {import('../common/types.js').VolumeRef} partition
   * @param {string} path
   * @param {{ layer?: number, deleted?: boolean, reveal?: boolean }} [options]
   */
  openIn(partition, path, { layer, deleted = false, reveal = true } = {}) {
    if (layer !== undefined && this.$.filesLayer.value !== String(layer)) {
      this.$.filesLayer.value = String(layer);
      void this.showSystems();
    }
    if (reveal) this.reveal('files');
    this.openPath(partition, path, deleted).catch((e) => this.readFailed(path, e));
  }

  /**
   * Virtual bytes `[offset, offset + len)` a file view points at: their first sector in the hex
   * view, and their sectors (the first block's worth) up close; in the disk's logical sectors.
   * @param {number} offset
   * @param {number} len
   */
  async showOnDisk(offset, len) {
    const d = this.disk;
    if (!d) return;
    const ss = d.sectorSize;
    const span = Math.max(ss, Math.min(len, d.chunkSize));
    this.closeupAt = null;
    this.refreshPictures();
    await this.closeupView.show(this.ctx(), { start: Math.floor(offset / ss) * ss, len: span }).catch((e) => this.readFailed('Sectors', e));
    await this.hexShow({ mode: 'virtual', at: Math.floor(offset / ss) }, true);
  }

  /**
   * A search's hit: its first sector in the hex view with its bytes marked (not a decrypted
   * hit's, which the disk holds encrypted), and a file that owns it in the file browser (as of
   * `layer`, where the search looked); with `file`, the file browser is revealed instead of the
   * hex view.
   * @param {import('../common/types.js').SearchHit} hit
   * @param {number} layer
   * @param {boolean} file
   */
  async showHit(hit, layer, file) {
    const d = this.disk;
    if (!d) return;
    const o = hit.owner;
    if (o.path && hit.partition !== null && (o.kind === 'file' || o.kind === 'deleted file')) {
      this.openIn(hit.volume ?? hit.partition, o.path, { layer, deleted: o.kind === 'deleted file', reveal: file });
    }
    // The hex view shows the disk's bytes: a hit in an unlocked volume's plain bytes is not
    // marked on its encrypted sector.
    const mark = hit.decrypted ? undefined : /** @type {[number, number]} */ ([hit.offset, hit.offset + hit.length]);
    await this.hexShow({ mode: 'virtual', at: Math.floor(hit.offset / d.sectorSize), mark }, !file);
  }

  // ------------------------------------------------------------ what a differencing disk changed

  /** Every file's times as of the files view's layer, in the Timeline; with progress and Stop. */
  async timeline() {
    const d = this.disk;
    const $ = this.$;
    if (!d) return;
    const layer = Number($.filesLayer.value) || 0;
    const t = await this.runTask(`Reading every file's times on ${d.names[layer]}`, (signal, progress) =>
      d.timeline({ layer, deleted: true, signal, onProgress: (done) => progress(done, 0, 'entries') }));
    if (!t || d !== this.disk) return;
    this.timed = { disk: d, layer };
    this.timelineView.show(t);
    for (const b of [$.timelineBody, $.timelineCsv]) b.disabled = false;
  }

  /**
   * The Timeline saved as the core writes it (`timeline --bodyfile` or `--csv`), deleted entries
   * as the view's toggle says.
   * @param {'body' | 'csv'} format
   */
  async saveTimeline(format) {
    const d = this.disk;
    const shown = this.timed;
    if (!d || !shown || shown.disk !== d) return;
    const deleted = this.timelineView.filter.deleted;
    const text = await this.runTask(format === 'body' ? 'Writing the body file' : 'Writing the CSV', (signal, progress) =>
      d.timelineText({ format, layer: shown.layer, deleted, signal, onProgress: (done) => progress(done, 0, 'entries') }));
    if (text === undefined) return;
    download(new Blob([text], { type: format === 'body' ? 'text/plain' : 'text/csv' }), `${stem(d.names[shown.layer])}.timeline.${format === 'body' ? 'body.txt' : 'csv'}`);
  }

  /**
   * A Timeline row picked: its file in the files view, as of the layer the Timeline shows.
   * @param {{ partition: import('../common/types.js').VolumeRef, path: string, deleted: boolean }} row
   */
  openTimelineRow(row) {
    const shown = this.timed;
    if (!shown || shown.disk !== this.disk) return;
    this.openIn(row.partition, row.path, { layer: shown.layer, deleted: row.deleted });
  }

  /** What the newer layer chosen changed over the older one, file by file; with progress and Stop. */
  async compare() {
    const d = this.disk;
    if (!d) return;
    const $ = this.$;
    const to = Number($.changesTo.value);
    const other = /^other:(\d+)$/.exec($.changesFrom.value);
    if (other) return this.compareWith(Number(other[1]), to);
    const from = Number($.changesFrom.value);
    if (from <= to) {
      this.changesView.message('Choose an older layer (further down the chain) to compare the newer one with.', 'bad');
      return;
    }
    if (d.missingParent && from === d.layerCount - 1) {
      this.changesView.message(`The parent of ${d.names[from]} was not given: add it to compare.`, 'bad');
      return;
    }
    $.changesRun.disabled = true;
    this.changes('running');
    /** @type {import('../common/types.js').DiffReport | undefined} */
    const report = await this.runTask(`Comparing ${d.names[to]} with ${d.names[from]}`, (signal, progress) => d.diff({ from, to, signal, onProgress: (done, total) => progress(done, total) }));
    if (d !== this.disk) return;
    $.changesRun.disabled = false;
    if (!report) {
      this.changes('stopped');
      return;
    }
    const what = `${d.names[to]}${to ? ` (layer ${to})` : ''} against ${d.names[from]} (layer ${from}): ${report.partitions.reduce((n, p) => n + p.changes.length, 0)} changes.`;
    const sums = await d.destinations(report);
    if (d !== this.disk) return;
    this.changesView.show(report, what, stem(d.names[to]), sums);
    this.changed = { disk: d, from, to };
    this.changes('done');
  }

  /**
   * The Changes view for two disks that are not one chain: another disk given (chain `other`,
   * older) against this one as of layer `to`.
   * @param {number} other
   * @param {number} to
   */
  async compareWith(other, to) {
    const d = this.disk;
    if (!d) return;
    const $ = this.$;
    const oldName = d.files[d.chains[other][0]].name;
    $.changesRun.disabled = true;
    this.changes('running');
    /** @type {import('../common/types.js').DiffReport | undefined} */
    const report = await this.runTask(`Comparing ${d.names[to]} with ${oldName} (every allocated sector of both)`, (signal, progress) =>
      d.diff({ other, to, signal, onProgress: (done, total) => progress(done, total) }),
    );
    if (d !== this.disk) return;
    $.changesRun.disabled = false;
    if (!report) {
      this.changes('stopped');
      return;
    }
    const n = report.partitions.reduce((k, p) => k + p.changes.length, 0);
    const what = `${d.names[to]}${to ? ` (layer ${to})` : ''} against ${oldName}, another disk (not of this chain: every allocated sector of both was compared): ${n} changes.`;
    const sums = await d.destinations(report);
    if (d !== this.disk) return;
    this.changesView.show(report, what, `${stem(d.names[to])}-vs-${stem(oldName)}`, sums);
    this.changed = { disk: d, from: -1, to, other: oldName };
    this.changes('done');
  }

  /**
   * Whether this child can move onto the other disk chosen (`vhd-viewer rebase-check`).
   */
  async rebase() {
    const d = this.disk;
    if (!d) return;
    const $ = this.$;
    const onto = Number($.rebaseOnto.value);
    const newBase = d.files[d.chains[onto][0]].name;
    $.rebaseRun.disabled = true;
    this.changes('running');
    /** @type {import('../common/types.js').Rebase | undefined} */
    const r = await this.runTask(`Checking whether ${d.names[0]} can move onto ${newBase}`, (signal, progress) => d.rebaseCheck({ onto, signal, onProgress: (done, total) => progress(done, total) }));
    if (d !== this.disk) return;
    $.rebaseRun.disabled = false;
    if (!r) {
      this.changes('stopped');
      return;
    }
    const what = `${d.names[0]}, made from ${d.names[1]}, onto ${newBase}: what the child changed (against ${d.names[1]}) beside what the new base changed (against ${d.names[1]}).`;
    this.changesView.showRebase(r, what, stem(d.names[0]));
    this.changed = null;
    this.changes('done');
  }

  /**
   * For scripts and tests: `data-changes` is running, then done or stopped.
   * @param {'running' | 'done' | 'stopped'} s
   */
  changes(s) {
    this.$.changes.dataset.changes = s;
    this.refreshPictures();
  }

  /**
   * A changed file picked in the Changes view: its panel in the files view (as of the layer it
   * is in: the older one for a deleted file) and its sectors outlined on the provenance map.
   * @param {import('./views/changes.js').Row} row
   */
  async pickChange(row) {
    const d = this.disk;
    const c = this.changed;
    if (!d || !c || c.disk !== d) return;
    const gone = row.kind === 'deleted';
    if (gone && c.other) {
      this.message(`${row.path} is on ${c.other}, the other disk, not on this one: open ${c.other} to see it.`);
      return;
    }
    const deleted = gone || row.kind === 'transient';
    const layer = gone ? c.from : c.to;
    this.$.filesLayer.value = String(layer);
    this.reveal('files');
    try {
      const st = await this.openPath(row.partition, row.path, deleted);
      /** @type {[number, number][]} */
      const ranges = [];
      for (const r of st?.runs ?? []) if (!r.sparse && r.disk_offset !== null) ranges.push([r.disk_offset, r.disk_offset + r.len]);
      this.prov.mark(ranges);
    } catch (e) {
      this.readFailed(row.path, e);
    }
  }

  /**
   * Shows `path` of partition `partition` (or LVM2 logical volume `VG/LV`) in the files view (as
   * of the layer chosen there): a folder listed, or a file's row picked (its panel) in its
   * folder. Resolves its stat (null for the root).
   * @param {import('../common/types.js').VolumeRef} partition
   * @param {string} path
   * @param {boolean} [deleted] deleted entries shown too (a deleted file)
   */
  async openPath(partition, path, deleted = false) {
    const d = this.disk;
    void this.showFiles();
    const files = this.files;
    if (!d || !files) return null;
    await files.view.ready;
    const box = /** @type {HTMLInputElement | null} */ (this.$.files.querySelector('[data-action="deleted"]'));
    if (box && box.checked !== deleted) {
      box.checked = deleted;
      box.dispatchEvent(new Event('change'));
    }
    const st = path === '/' ? null : await d.stat(partition, path, { deleted, layer: files.layer });
    if (!st || (st.type === 'dir' && !st.deleted)) {
      await files.view.open(partition, path);
      return st;
    }
    await files.view.open(partition, path.slice(0, path.lastIndexOf('/')) || '/');
    const open = /** @type {HTMLElement | null} */ (this.$.files.querySelector(`tr[data-path="${CSS.escape(path)}"] [data-action="open"]`));
    open?.click();
    return st;
  }

  // ------------------------------------------------------------ maps, close-up, scan, check

  /**
   * The context the views read through.
   * @returns {ViewContext}
   */
  ctx() {
    const d = this.disk;
    if (!d || !this.ctrl) throw new Error('no disk is open');
    return { disk: d, names: d.names, signal: this.ctrl.signal, parentMissing: !!d.missingParent };
  }

  /** @param {{ layer?: number, block?: number, start: number, len: number }} opts */
  async showCloseup(opts) {
    const d = this.disk;
    if (!d) return; // other files are loading
    const c = this.ctx();
    // A block of a file, or the provenance map's square (a multiple of the chunk size).
    this.moved(opts.block === undefined ? { layer: undefined, block: Math.floor(opts.start / d.chunkSize) } : { layer: opts.layer, block: opts.block });
    this.reveal('closeup');
    this.closeupAt = opts.layer !== undefined && opts.block !== undefined ? { layer: opts.layer, block: opts.block } : null;
    this.refreshPictures();
    try {
      await this.closeupView.show(c, opts);
      this.reveal('closeup');
    } catch (e) {
      if (!c.signal.aborted) this.readFailed('Sectors', e);
    }
  }

  /**
   * Shows a failure of reading (a changed remote file, a cut-short file) as a message.
   * @param {string} what
   * @param {unknown} e
   */
  readFailed(what, e) {
    const err = /** @type {Error} */ (e);
    this.message(`${what}: ${err.message}`, 'error');
    this.host.failed?.(err);
  }

  /** The exact provenance map: reads every block bitmap, with progress; stoppable. */
  async scan() {
    const disk = this.disk;
    if (!disk) return; // other files are loading
    const $ = this.$;
    $.scan.disabled = true;
    // For scripts and tests: running, then done or stopped.
    this.host.scanState('running');
    let lastDraw = 0;
    const masks = await this.runTask('Reading every block bitmap', (signal, progress) =>
      disk.scan(this.cellSize, {
        signal,
        onProgress: (done, total, partial) => {
          progress(done, total, 'squares');
          const now = performance.now();
          if (partial && now - lastDraw > 4 * PROGRESS_MS) {
            lastDraw = now;
            this.prov.update(partial);
          }
        },
      }),
    );
    if (disk !== this.disk) return;
    if (masks) {
      this.prov.update(masks);
      this.scanned = true;
      $.provState.textContent = 'Exact: every block bitmap was read.';
      this.host.scanState('done');
    } else {
      this.host.scanState('stopped');
      $.scan.disabled = false;
      $.provState.textContent = 'Scan stopped: squares already read are exact, the rest are estimates.';
      try {
        this.prov.update(await disk.scanStopped(this.cellSize));
      } catch {
        /* closed meanwhile */
      }
    }
  }

  /** The full check `vhd-viewer check` runs: every block's bitmap and left-over data. */
  async check() {
    const disk = this.disk;
    if (!disk) return; // other files are loading
    this.$.checkRun.disabled = true;
    const found = await this.runTask('Checking every block', (signal, progress) => disk.check({ signal, onProgress: (done, total) => progress(done, total, 'blocks') }));
    if (disk !== this.disk) return;
    this.$.checkRun.disabled = false;
    if (found) {
      renderFindings(this.$.checkBody, found, disk.names, (layer, offset) => this.showPlace(layer, offset), [], 'check_findings', 'Every block was read: nothing more is wrong.');
    }
  }

  // ------------------------------------------------------------ hex view

  /**
   * Shows virtual sector `at` (in the disk's logical sectors, `disk.sectorSize` bytes each) or
   * bytes of a file from byte `at`; `mark`, virtual bytes `[from, to)` marked (a search's hit).
   * @param {{ mode?: HexMode, at?: number, layer?: number, markLen?: number, mark?: [from: number, to: number] }} [where]
   * @param {boolean} [reveal]
   */
  async hexShow({ mode = this.hexState.mode, at = this.hexState.at, layer = this.hexState.layer, markLen = 1, mark } = {}, reveal = false) {
    if (!this.disk) return; // other files are loading
    const $ = this.$;
    Object.assign(this.hexState, { mode, at, layer });
    this.moved({ sector: mode === 'virtual' ? at : undefined });
    for (const r of $.hexModes ?? []) r.checked = r.value === mode;
    if ($.hexLayer) {
      $.hexLayer.value = String(layer);
      $.hexLayer.disabled = mode !== 'file';
    }
    const ss = this.disk.sectorSize;
    if ($.hexAtLabel) $.hexAtLabel.textContent = mode === 'virtual' ? (ss === 512 ? 'Sector' : `Sector (${ss} bytes)`) : 'Byte offset';
    const [prev, next] = mode === 'virtual' ? [`Previous sector (${ss} bytes back)`, `Next sector (${ss} bytes on)`] : ['512 bytes back', '512 bytes on'];
    $.hexPrev.setAttribute('aria-label', prev);
    $.hexNext.setAttribute('aria-label', next);
    $.hexAt.value = mode === 'virtual' ? String(at) : hex(at);
    if (reveal) this.reveal('hex');
    const c = this.ctx();
    this.sayOwner(mode === 'virtual' ? at : null);
    try {
      if (mode === 'virtual') await showVirtualSector(c, at, $.hexSource, $.hexDump, mark);
      else await showFileBytes(c, layer, at, $.hexSource, $.hexDump, markLen);
    } catch (e) {
      if (c.signal.aborted) return;
      fill($.hexSource, h('span', { class: 'bad' }, /** @type {Error} */ (e).message));
      this.readFailed(mode === 'virtual' ? `Sector ${at}` : `Bytes of ${this.disk?.names[layer]}`, e);
    }
  }

  /**
   * Says under the hex view who owns virtual sector `at` (none: a file's bytes are shown), as of
   * the whole chain, as the hex view reads it; asked once per sector shown and never awaited: an
   * answer for a sector no longer shown is dropped. A file's or folder's name opens it in the
   * files view. `again`: asked even when the sector is the one shown (a volume was unlocked).
   * @param {number | null} at
   * @param {boolean} [again]
   */
  sayOwner(at, again = false) {
    const el = this.$.hexOwner;
    const d = this.disk;
    if (!el || !d) return;
    el.hidden = at === null;
    if (at === null) {
      this.ownerOf = null;
      return;
    }
    if (!again && this.ownerOf?.disk === d && this.ownerOf.at === at) return;
    const asked = { disk: d, at };
    this.ownerOf = asked;
    el.dataset.state = 'asking';
    fill(el, h('strong', {}, 'Owner: '), 'looking…');
    d.owner(at * d.sectorSize).then(
      (o) => {
        if (this.ownerOf !== asked) return;
        showOwner(el, o, (o) => {
          if (o.partition !== null && o.path) this.openIn(o.volume ?? o.partition, o.path, { layer: 0, deleted: o.deleted });
        });
      },
      (e) => {
        if (this.ownerOf !== asked) return;
        el.dataset.state = 'failed';
        fill(el, h('strong', {}, 'Owner: '), h('span', { class: 'bad' }, `cannot be said: ${/** @type {Error} */ (e).message}`));
      });
  }

  hexSubmit() {
    const d = this.disk;
    if (!d) return; // other files are loading
    const $ = this.$;
    const mode = this.hexState.mode;
    const layer = $.hexLayer ? Number($.hexLayer.value) : 0;
    const at = parseNumber($.hexAt.value);
    const limit = mode === 'virtual' ? Math.ceil(d.size / d.sectorSize) : d.layers[layer].byteLength;
    if (!Number.isFinite(at) || at < 0 || at >= limit) {
      fill($.hexSource, h('span', { class: 'bad' }, mode === 'virtual' ? `Give a sector number from 0 to ${limit - 1}${d.sectorSize === 512 ? '' : ` (sectors of ${d.sectorSize} bytes)`}.` : `Give a byte offset from 0 to ${limit - 1} (decimal or 0x…).`));
      return;
    }
    this.hexShow({ mode, layer, at });
  }

  /**
   * One sector on (or back): a logical sector of the disk (512 or 4096 bytes), or 512 bytes of a file.
   * @param {number} d
   */
  step(d) {
    const disk = this.disk;
    if (!disk) return;
    if (this.hexState.mode === 'virtual') {
      const n = Math.ceil(disk.size / disk.sectorSize);
      this.hexShow({ at: Math.max(0, Math.min(n - 1, this.hexState.at + d)) });
    } else {
      const len = disk.layers[this.hexState.layer].byteLength;
      this.hexShow({ at: Math.max(0, Math.min(len - 1, this.hexState.at + d * 512)) });
    }
  }

  /**
   * Shows a place in a file: the field row there (if any) and its bytes in the hex view.
   * @param {number} layer
   * @param {number} offset
   */
  async showPlace(layer, offset) {
    const $ = this.$;
    if (Number($.layerSelect.value) !== layer || !$.structures.firstChild) await this.selectLayer(layer);
    const row = highlightOffset($.structures, offset);
    const markLen = row ? Math.min(Number(row.dataset.size), 64) : 1;
    await this.hexShow({ mode: 'file', layer, at: offset, markLen }, !row);
    if (row) {
      this.reveal('structures', row);
      row.tabIndex = -1;
      row.focus({ preventScroll: true });
    }
  }
}

// <vhd-viewer>: the viewer as a custom element to put in any page, e.g. next to a tutorial.
//
//   <vhd-viewer src="disks/child.vhd" parent="disks/base.vhd" view="bitmap"></vhd-viewer>
//
// Attributes: `src` (the disk's URL, read with HTTP Range requests), `parent` (the URLs of its
// parent, grandparent… separated by spaces, in any order: files are matched by the ids inside
// them), `view` (the tab shown: summary, footer, chain, bat, bitmap, hex, findings), `views` (the
// tabs offered, separated by spaces; all by default), `sector` (the virtual sector the hex tab
// shows first). Without `src` it asks for files to be dropped on it or picked; files can be
// dropped on it at any time. Each element is independent: its own files, work and cancellation.
// Styles live in its shadow root; theme it with --vhd-* custom properties (see element-css.js).
// Reflects its state in `data-state` (idle, loading, ready, error) and fires `vhd-load` and
// `vhd-error` events.
import { openVhd } from './api.js';
import { scanProvenance } from './driver.js';
import { hex, humanSize, parseNumber } from './format.js';
import { h, fill } from './dom.js';
import { missingParentText } from './open.js';
import { viewsSheet } from './views/css.js';
import { ELEMENT_CSS } from './element-css.js';
import { renderSummary, renderStructures, highlightOffset } from './views/structures.js';
import { renderFiles, renderChain } from './views/chain.js';
import { BatView, ProvenanceView } from './views/maps.js';
import { CloseupView } from './views/closeup.js';
import { showVirtualSector, showFileBytes } from './views/hex.js';
import { renderFindings } from './views/findings.js';

/**
 * @import { DiskInput, VhdDisk } from './api.js'
 * @import { ViewContext } from './types.js'
 */

/**
 * The parts of the shadow DOM that build() makes.
 * @typedef {{ title: HTMLSpanElement, sub: HTMLSpanElement, input: HTMLInputElement, openButton: HTMLButtonElement,
 *   drop: HTMLDivElement, messages: HTMLDivElement, tabs: HTMLDivElement, panels: Record<string, HTMLElement>,
 *   summary: HTMLDivElement, layerSelect: HTMLSelectElement, explain: HTMLInputElement, structures: HTMLDivElement,
 *   fileList: HTMLDivElement, chain: HTMLDivElement, batLayer: HTMLSelectElement, batLegend: HTMLDivElement,
 *   batCanvas: HTMLCanvasElement, batHover: HTMLParagraphElement, provLead: HTMLParagraphElement, scan: HTMLButtonElement,
 *   scanStop: HTMLButtonElement, scanProgress: HTMLProgressElement, provState: HTMLSpanElement, provLegend: HTMLDivElement,
 *   provCanvas: HTMLCanvasElement, provHover: HTMLParagraphElement, closeup: HTMLDivElement, hexAt: HTMLInputElement,
 *   hexSource: HTMLParagraphElement, hexDump: HTMLDivElement, findings: HTMLDivElement, frame: HTMLDivElement }} Parts
 */

/**
 * The tabs, in order: [name, label].
 * @type {[view: string, label: string][]}
 */
export const VIEWS = [
  ['summary', 'Summary'],
  ['footer', 'Footer and header'],
  ['chain', 'Chain'],
  ['bat', 'Block map'],
  ['bitmap', 'Sector bitmaps'],
  ['hex', 'Hex'],
  ['findings', 'Findings'],
];
const VIEW_NAMES = VIEWS.map(([v]) => v);

/** @type {CSSStyleSheet | null} */
let elementSheet = null;
function sheets() {
  if (!elementSheet) {
    elementSheet = new CSSStyleSheet();
    elementSheet.replaceSync(ELEMENT_CSS);
  }
  return [viewsSheet(), elementSheet];
}

let ids = 0;

export class VhdViewerElement extends HTMLElement {
  static observedAttributes = ['src', 'parent', 'view', 'views', 'sector'];

  /**
   * Registers the element as `tag` (once); returns the class registered.
   * @returns {typeof VhdViewerElement}
   */
  static define(tag = 'vhd-viewer', registry = customElements) {
    const existing = registry.get(tag);
    if (existing) return /** @type {typeof VhdViewerElement} */ (existing);
    // One class can be registered under one name only: another name gets a subclass.
    const ctor = registry.getName?.(this) ? class extends this {} : this;
    registry.define(tag, ctor);
    return ctor;
  }

  constructor() {
    super();
    this.uid = `vhd${++ids}`;
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = sheets();
    /** @type {AbortController | null} */
    this.ctrl = null;
    /** @type {AbortController | undefined} */
    this.scanCtrl;
    /** @type {DiskInput[] | null} */
    this.given = null; // files given by drop, picker or open(), instead of src
    /** @type {VhdDisk | null} */
    this.vdisk = null;
    /** @type {string | null} */
    this.current = null;
    this.queued = false;
    /** @type {number} */
    this.cellSize; // set by showChain()
    // Set by build():
    /** @type {Parts} */ this.$;
    /** @type {CloseupView} */ this.closeupView;
    /** @type {BatView} */ this.bat;
    /** @type {ProvenanceView} */ this.prov;
    /** @type {{ mode: 'virtual' | 'file', at: number, layer: number }} */ this.hexState;
    this.build(root);
  }

  // ------------------------------------------------------------ attributes and properties

  get src() {
    return this.getAttribute('src') ?? '';
  }
  /** @param {string} v */
  set src(v) {
    this.setAttribute('src', v);
  }
  get parent() {
    return this.getAttribute('parent') ?? '';
  }
  /** @param {string} v */
  set parent(v) {
    this.setAttribute('parent', v);
  }
  get view() {
    return this.current ?? this.getAttribute('view') ?? 'summary';
  }
  /** @param {string} v */
  set view(v) {
    this.setAttribute('view', v);
  }
  /** The opened disk (a VhdDisk of the JavaScript API), or null. */
  get disk() {
    return this.vdisk;
  }
  /** idle, loading, ready or error. */
  get state() {
    return this.dataset.state ?? 'idle';
  }

  /** The URLs this element reads: src, then the parents. */
  urls() {
    const base = this.ownerDocument.baseURI;
    const list = [this.src, ...this.parent.split(/\s+/)].filter(Boolean);
    return list.map((u) => new URL(u, base).href);
  }

  /**
   * @param {string} name
   * @param {string | null} old
   * @param {string | null} value
   */
  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'src' || name === 'parent') {
      this.given = null;
      this.reload();
    } else if (name === 'view') {
      if (value !== null && VIEW_NAMES.includes(value)) this.select(value);
    } else if (name === 'views') {
      this.renderTabs();
    } else if (name === 'sector' && this.vdisk) {
      const s = parseNumber(value ?? '0');
      if (Number.isFinite(s)) this.hexShow({ mode: 'virtual', at: s });
    }
  }

  connectedCallback() {
    this.renderTabs();
    if (!this.vdisk && !this.ctrl) this.reload();
  }

  disconnectedCallback() {
    // Moved within the page: keep everything. Removed: stop the work and free the memory.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.ctrl?.abort(new DOMException('the viewer was removed', 'AbortError'));
      this.ctrl = null;
      this.vdisk?.close();
      this.vdisk = null;
    });
  }

  /**
   * Opens files, Blobs or URLs given by a script (or dropped): they replace `src`.
   * @param {DiskInput | DiskInput[]} inputs
   */
  open(inputs) {
    this.given = Array.isArray(inputs) ? inputs : [inputs];
    return this.load();
  }

  /** Loads src and parent once, after every attribute set in the same task. */
  reload() {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (this.isConnected) this.load();
    });
  }

  // ------------------------------------------------------------ the shadow DOM

  /** @param {ShadowRoot} root */
  build(root) {
    /** @type {typeof h} */
    const q = (tag, attrs, ...kids) => h(tag, attrs, ...kids);
    /** @param {string} s */
    const id = (s) => `${this.uid}-${s}`;
    this.$ = /** @type {Parts} */ ({}); // filled just below
    const $ = this.$;
    $.title = q('span', { class: 'title' });
    $.sub = q('span', { class: 'sub' });
    $.input = q('input', { type: 'file', multiple: true, accept: '.vhd,.avhd,application/octet-stream', class: 'visually-hidden', tabindex: '-1' });
    $.input.addEventListener('change', () => {
      const files = [.../** @type {FileList} */ ($.input.files)]; // a file input's files
      $.input.value = '';
      if (files.length) this.open(files);
    });
    $.openButton = q('button', { type: 'button', class: 'open', onclick: () => $.input.click() }, 'Open files…');
    $.drop = q('div', { class: 'drop', part: 'drop' },
      q('p', {}, 'Drop one or more ', q('code', {}, '.vhd'), ' files here, or'),
      q('button', { type: 'button', class: 'primary', onclick: () => $.input.click() }, 'Choose files…'),
      q('p', { class: 'small' }, 'For a differencing disk, give its parents too. The files stay on your computer.'));
    $.messages = q('div', { class: 'messages', role: 'status', 'aria-live': 'polite' });
    $.tabs = q('div', { class: 'tabs', role: 'tablist', part: 'tabs', 'aria-label': 'Views' });
    $.panels = {};
    /**
     * @param {string} v
     * @param {...import('./types.js').Child} kids
     */
    const panel = (v, ...kids) => ($.panels[v] = q('section', { class: 'panel', role: 'tabpanel', part: 'panel', id: id(v), 'data-view': v, hidden: true }, ...kids));

    $.summary = q('div', { class: 'summary-body' });
    $.layerSelect = q('select', { 'aria-label': 'File', onchange: () => this.showLayer(Number($.layerSelect.value)) });
    $.explain = q('input', { type: 'checkbox', onchange: () => $.frame.classList.toggle('show-explain', $.explain.checked) });
    $.structures = q('div', { class: 'structures-body' });
    $.fileList = q('div');
    $.chain = q('div', { class: 'chain-body' });
    $.batLayer = q('select', {
      'aria-label': 'File',
      onchange: () => {
        const v = this.vdisk; // null while other files load
        if (v?.core) this.bat.show(v.core, Number($.batLayer.value), v.names[Number($.batLayer.value)]);
      },
    });
    $.batLegend = q('div', { class: 'legend' });
    $.batCanvas = q('canvas', { 'aria-label': 'Block map' });
    $.batHover = q('p', { class: 'hover', 'aria-live': 'polite' });
    $.provLead = q('p', { class: 'lead' });
    $.scan = q('button', { type: 'button', 'data-action': 'scan', onclick: () => this.scan() }, 'Read every block bitmap for an exact map');
    $.scanStop = q('button', { type: 'button', hidden: true, onclick: () => this.scanCtrl?.abort(new DOMException('cancelled', 'AbortError')) }, 'Stop');
    $.scanProgress = q('progress', { max: 1, value: 0, hidden: true });
    $.provState = q('span', { class: 'prov-state' });
    $.provLegend = q('div', { class: 'legend' });
    $.provCanvas = q('canvas', { 'aria-label': 'Provenance map' });
    $.provHover = q('p', { class: 'hover', 'aria-live': 'polite' });
    $.closeup = q('div', { class: 'closeup-body' });
    $.hexAt = q('input', { type: 'text', inputmode: 'numeric', value: '0', size: '12', 'aria-label': 'Sector' });
    $.hexSource = q('p', { class: 'source' });
    $.hexDump = q('div', { class: 'dump', tabindex: '0', 'aria-label': 'Hex dump' });
    $.findings = q('div', { class: 'findings-body' });

    const hexForm = q('form', { class: 'controls' },
      q('label', {}, 'Virtual sector ', $.hexAt),
      q('button', { type: 'submit' }, 'Show'),
      q('button', { type: 'button', 'aria-label': 'Previous sector', onclick: () => this.step(-1) }, '◀'),
      q('button', { type: 'button', 'aria-label': 'Next sector', onclick: () => this.step(1) }, '▶'));
    hexForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!this.vdisk) return; // other files are loading
      const at = parseNumber($.hexAt.value);
      const n = Math.ceil(this.vdisk.size / 512);
      if (!Number.isFinite(at) || at < 0 || at >= n) fill($.hexSource, h('span', { class: 'bad' }, `Give a sector number from 0 to ${n - 1}.`));
      else this.hexShow({ mode: 'virtual', at });
    });

    $.frame = q('div', { class: 'frame', part: 'frame' },
      q('div', { class: 'bar', part: 'header' }, $.title, $.sub, $.openButton, $.input),
      $.drop, $.messages, $.tabs,
      panel('summary', $.summary),
      panel('footer', q('div', { class: 'controls' }, q('label', { class: 'layer' }, 'File ', $.layerSelect), q('label', {}, $.explain, ' Show what each field means')), $.structures),
      panel('chain', $.fileList, $.chain),
      panel('bat', q('p', { class: 'lead' }, 'Where each block of the virtual disk is stored in the file: one square per block. Point at one for details, click it (or Enter) for its sectors.'),
        q('div', { class: 'controls' }, q('label', {}, 'File ', $.batLayer)), $.batLegend, q('div', { class: 'mapbox' }, $.batCanvas), $.batHover),
      panel('bitmap', $.provLead, q('div', { class: 'controls' }, $.scan, $.scanStop, $.scanProgress, $.provState), $.provLegend, q('div', { class: 'mapbox' }, $.provCanvas), $.provHover, $.closeup),
      panel('hex', hexForm, $.hexSource, $.hexDump),
      panel('findings', $.findings));
    root.append($.frame);

    // Drops on this element only, so that several viewers on a page each take their own files.
    let depth = 0;
    this.addEventListener('dragenter', (e) => {
      e.preventDefault();
      depth++;
      $.frame.classList.add('dragging');
    });
    this.addEventListener('dragleave', () => {
      if (--depth <= 0) {
        depth = 0;
        $.frame.classList.remove('dragging');
      }
    });
    this.addEventListener('dragover', (e) => e.preventDefault());
    this.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      depth = 0;
      $.frame.classList.remove('dragging');
      const files = [...(e.dataTransfer?.files || [])];
      if (files.length) this.open(files);
    });

    this.closeupView = new CloseupView($.closeup, { onSector: (s) => this.hexShow({ mode: 'virtual', at: s }, true) });
    this.bat = new BatView({
      canvas: $.batCanvas,
      hoverEl: $.batHover,
      legendEl: $.batLegend,
      onPick: (layer, block) => {
        const core = this.vdisk?.core; // null while other files load
        if (!core) return;
        const bs = core.blockSize(layer);
        this.showCloseup({ layer, block, start: block * bs, len: bs });
      },
    });
    this.prov = new ProvenanceView({
      canvas: $.provCanvas,
      hoverEl: $.provHover,
      legendEl: $.provLegend,
      onPick: (start, len) => this.showCloseup({ start, len }),
    });
    this.hexState = { mode: 'virtual', at: 0, layer: 0 };
  }

  offered() {
    const list = (this.getAttribute('views') ?? '').split(/[\s,]+/).filter((v) => VIEW_NAMES.includes(v));
    return list.length ? list : VIEW_NAMES;
  }

  renderTabs() {
    const offered = this.offered();
    fill(this.$.tabs, VIEWS.filter(([v]) => offered.includes(v)).map(([v, label]) =>
      h('button', { type: 'button', role: 'tab', 'data-view': v, 'aria-controls': `${this.uid}-${v}`, 'aria-selected': 'false', onclick: () => this.select(v), onkeydown: (/** @type {KeyboardEvent} */ e) => this.tabKey(e, v) }, label)));
    this.$.tabs.hidden = offered.length < 2 || !this.vdisk;
    const want = this.current ?? this.getAttribute('view');
    this.select(want !== null && offered.includes(want) ? want : offered[0], false);
  }

  /**
   * @param {KeyboardEvent} e
   * @param {string} v
   */
  tabKey(e, v) {
    const offered = this.offered();
    const i = offered.indexOf(v);
    const to = /** @type {Record<string, number>} */ ({ ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: offered.length - 1 })[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = offered[(to + offered.length) % offered.length];
    this.select(next);
    /** @type {HTMLButtonElement | null} */ (this.$.tabs.querySelector(`[data-view="${next}"]`))?.focus();
  }

  /**
   * Shows tab `v`.
   * @param {string} v
   * @param {boolean} [_focus]
   */
  select(v, _focus) {
    if (!this.offered().includes(v)) return;
    this.current = v;
    for (const b of this.$.tabs.querySelectorAll('button')) {
      const on = b.dataset.view === v;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    for (const [name, p] of Object.entries(this.$.panels)) p.hidden = !this.vdisk || name !== v;
  }

  // ------------------------------------------------------------ loading

  /** @param {string} s */
  setState(s) {
    this.dataset.state = s;
  }

  /**
   * @param {string} text
   * @param {string} [kind]
   */
  message(text, kind = 'info') {
    this.$.messages.append(h('p', { class: `message ${kind}` }, text));
  }

  async load() {
    this.ctrl?.abort(new DOMException('other files were given', 'AbortError'));
    this.scanCtrl?.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    const signal = ctrl.signal;
    this.vdisk?.close();
    this.vdisk = null;
    fill(this.$.messages);
    const inputs = this.given ?? this.urls();
    const showEmpty = () => {
      this.$.drop.hidden = false;
      this.$.tabs.hidden = true;
      for (const p of Object.values(this.$.panels)) p.hidden = true;
    };
    if (!inputs.length) {
      this.$.title.textContent = 'VHD viewer';
      this.$.sub.textContent = 'no disk yet';
      showEmpty();
      this.setState('idle');
      return;
    }
    const label = inputs.map((i) => (typeof i === 'string' ? decodeURIComponent(/** @type {string} */ (new URL(i).pathname.split('/').pop())) : /** @type {{ name?: string }} */ (i).name ?? 'disk'));
    this.$.title.textContent = label[0];
    this.$.sub.textContent = 'opening…';
    this.$.drop.hidden = true;
    this.setState('loading');
    let vdisk;
    try {
      vdisk = await openVhd(inputs, { signal });
    } catch (e) {
      if (signal.aborted) return;
      this.$.sub.textContent = 'cannot be shown';
      const err = /** @type {Error & { code?: string }} */ (e);
      for (const line of String(err.message).split('\n')) this.message(line, 'error');
      showEmpty();
      this.$.drop.hidden = !this.given && this.urls().length > 0;
      this.setState('error');
      this.dispatchEvent(new CustomEvent('vhd-error', { detail: { error: e, code: err.code ?? null, message: err.message } }));
      return;
    }
    if (signal.aborted) {
      vdisk.close();
      return;
    }
    this.vdisk = vdisk;
    for (const f of vdisk.files) if (f.error) this.message(`${f.name}: ${f.error}`, 'error');
    this.showChain(vdisk.chainIndex);
    this.setState('ready');
    this.dispatchEvent(new CustomEvent('vhd-load', { detail: { info: vdisk.info, names: vdisk.names } }));
  }

  /**
   * Shows chain `k` of the files given in every view.
   * @param {number} k
   */
  showChain(k) {
    const v = this.vdisk;
    if (!v) return; // other files are loading
    if (k !== v.chainIndex) v.selectChain(k);
    const { core, names, info, missingParent } = v;
    if (!core) return; // closed
    const $ = this.$;
    if (missingParent) this.message(missingParentText(names[names.length - 1], missingParent), missingParent.severity);
    $.title.textContent = names[0];
    $.sub.textContent = `${info.disk_type} disk, ${humanSize(info.current_size)}${names.length > 1 ? `, a chain of ${names.length} files` : ''}${missingParent ? ', parent missing' : ''}`;
    this.renderTabs();
    this.select(this.current ?? this.offered()[0]);

    renderSummary($.summary, info);
    renderFiles($.fileList, v.files, v.opened.chains, k, (j) => {
      fill($.messages);
      this.showChain(j);
    });
    renderChain($.chain, info, names, missingParent, (i) => {
      this.showLayer(i);
      this.select('footer');
    });
    const options = () => names.map((n, i) => h('option', { value: i }, `${i === 0 ? '' : `layer ${i}: `}${n}`));
    fill($.layerSelect, options());
    fill($.batLayer, options());
    // Both selects are in labels (build()).
    /** @type {HTMLLabelElement} */ ($.layerSelect.closest('label')).hidden = names.length < 2;
    /** @type {HTMLLabelElement} */ ($.batLayer.closest('label')).hidden = names.length < 2;
    this.showLayer(0);
    // The files of a chain were opened: they have their identity.
    const firstSparse = Math.max(0, v.opened.chains[k].findIndex((i) => /** @type {import('./types.js').Identity} */ (v.files[i].identity).diskType !== 'fixed'));
    $.batLayer.value = String(firstSparse);
    this.bat.show(core, firstSparse, names[firstSparse]);

    this.cellSize = core.chunkSize();
    delete this.dataset.scan;
    const masks = core.scanStart(this.cellSize);
    this.prov.show(core, names, this.cellSize, masks);
    const needed = /** @type {import('./types.js').ScanStep} */ (core.scanStep(0)).total;
    core.scanStart(this.cellSize);
    $.scan.disabled = needed === 0;
    $.provState.textContent = needed ? `Estimate from the block tables: ${needed} squares hold blocks whose sector bitmaps decide where each sector comes from.` : 'Exact: no block bitmaps are needed for this disk.';
    $.provLead.textContent = names.length > 1 || missingParent
      ? 'Each square is a stretch of the virtual disk, coloured by the file of the chain that supplies it. Click a square for its sectors.'
      : 'Each square is a stretch of the virtual disk: coloured where the file holds data, grey where the disk reads as zeros. Click a square for its sectors.';
    fill($.closeup, h('p', { class: 'empty' }, 'Click a square above, or a block in the block map, to see its sectors and its sector bitmap here.'));
    renderFindings($.findings, info.all_findings, names, (layer, offset) => this.showPlace(layer, offset));
    const s = parseNumber(this.getAttribute('sector') ?? '0');
    this.hexShow({ mode: 'virtual', at: Number.isFinite(s) ? Math.min(s, Math.ceil(v.size / 512) - 1) : 0 });
  }

  /** @param {number} i */
  showLayer(i) {
    if (!this.vdisk) return; // other files are loading
    this.$.layerSelect.value = String(i);
    this.$.structures.dataset.layer = String(i);
    renderStructures(this.$.structures, this.vdisk.layerInfo(i));
  }

  /**
   * The context the views read through.
   * @returns {ViewContext}
   */
  ctx() {
    const v = this.vdisk;
    if (!v?.core || !this.ctrl) throw new Error('no disk is open');
    return { disk: v.core, sources: v.sources, names: v.names, signal: this.ctrl.signal, parentMissing: !!v.missingParent };
  }

  /**
   * Shows a failure of reading (a changed remote file, a cut-short file) as a message.
   * @param {string} what
   * @param {unknown} e
   * @param {{ signal: AbortSignal }} c
   */
  readFailed(what, e, c) {
    if (c.signal.aborted) return;
    const err = /** @type {Error & { code?: string }} */ (e);
    this.message(`${what}: ${err.message}`, 'error');
    this.dispatchEvent(new CustomEvent('vhd-error', { detail: { error: e, code: err.code ?? null, message: err.message } }));
  }

  /** @param {{ layer?: number, block?: number, start: number, len: number }} opts */
  async showCloseup(opts) {
    if (!this.vdisk) return; // other files are loading
    this.select('bitmap');
    const c = this.ctx();
    try {
      await this.closeupView.show(c, opts);
    } catch (e) {
      this.readFailed('Sectors', e, c);
    }
  }

  async scan() {
    const v = this.vdisk;
    const core = v?.core;
    if (!v || !core || !this.ctrl) return; // other files are loading
    const $ = this.$;
    this.scanCtrl?.abort();
    const ctrl = new AbortController();
    this.scanCtrl = ctrl;
    const parent = this.ctrl.signal;
    const onParent = () => ctrl.abort(parent.reason);
    parent.addEventListener('abort', onParent, { once: true });
    $.scan.disabled = true;
    $.scanStop.hidden = false;
    $.scanProgress.hidden = false;
    // For scripts and tests, as the page's body has it: running, then done or stopped.
    this.dataset.scan = 'running';
    let last = 0;
    try {
      const masks = await scanProvenance(core, v.sources, this.cellSize, {
        signal: ctrl.signal,
        onProgress: (done, total) => {
          $.scanProgress.max = total || 1;
          $.scanProgress.value = done;
          $.provState.textContent = `${done} of ${total} squares`;
          if (performance.now() - last > 500) {
            last = performance.now();
            this.prov.update(core.scanMasks());
          }
        },
      });
      this.prov.update(masks);
      $.provState.textContent = 'Exact: every block bitmap was read.';
      this.dataset.scan = 'done';
    } catch (e) {
      if (v !== this.vdisk) return;
      this.prov.update(core.scanMasks());
      core.scanStart(this.cellSize);
      $.scan.disabled = false;
      this.dataset.scan = 'stopped';
      $.provState.textContent = ctrl.signal.aborted ? 'Scan stopped: squares already read are exact, the rest are estimates.' : `The scan stopped: ${/** @type {Error} */ (e).message}`;
      if (!ctrl.signal.aborted) this.readFailed('Reading the block bitmaps', e, { signal: parent });
    } finally {
      parent.removeEventListener('abort', onParent);
      $.scanStop.hidden = true;
      $.scanProgress.hidden = true;
    }
  }

  /**
   * @param {{ mode?: 'virtual' | 'file', at?: number, layer?: number, markLen?: number }} [where]
   * @param {boolean} [reveal]
   */
  async hexShow({ mode = this.hexState.mode, at = this.hexState.at, layer = this.hexState.layer, markLen = 1 } = {}, reveal = false) {
    if (!this.vdisk) return; // other files are loading
    Object.assign(this.hexState, { mode, at, layer });
    if (reveal) this.select('hex');
    const $ = this.$;
    $.hexAt.value = String(mode === 'virtual' ? at : '');
    const c = this.ctx();
    try {
      if (mode === 'virtual') await showVirtualSector(c, at, $.hexSource, $.hexDump);
      else await showFileBytes(c, layer, at, $.hexSource, $.hexDump, markLen);
    } catch (e) {
      if (c.signal.aborted) return;
      fill($.hexSource, h('span', { class: 'bad' }, /** @type {Error} */ (e).message));
      this.readFailed(mode === 'virtual' ? `Sector ${at}` : `Bytes of ${this.vdisk.names[layer]}`, e, c);
    }
  }

  /** @param {number} d */
  step(d) {
    if (!this.vdisk) return;
    const n = Math.ceil(this.vdisk.size / 512);
    this.hexShow({ mode: 'virtual', at: Math.max(0, Math.min(n - 1, (this.hexState.mode === 'virtual' ? this.hexState.at : 0) + d)) });
  }

  /**
   * @param {number} layer
   * @param {number} offset
   */
  showPlace(layer, offset) {
    this.showLayer(layer);
    const row = highlightOffset(this.$.structures, offset);
    const markLen = row ? Math.min(Number(row.dataset.size), 64) : 1;
    this.hexShow({ mode: 'file', layer, at: offset, markLen }, true);
  }
}

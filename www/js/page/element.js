// <vhd-viewer>: the viewer as a custom element to put in any page, e.g. next to a tutorial.
//
//   <vhd-viewer src="disks/child.vhd" parent="disks/base.vhd" view="bitmap"></vhd-viewer>
//
// Attributes: `src` (the disk's URL, read with HTTP Range requests), `parent` (the URLs of its
// parent, grandparent… separated by spaces, in any order: files are matched by the ids inside
// them), `view` (the tab shown: summary, files (or volumes), changes, timeline, footer, chain, bat, bitmap, hex, search, findings, save), `views` (the
// tabs offered, separated by spaces; all by default), and where it is (location.js, the keys of
// the page's URL fragment): `sector` (the virtual sector the hex tab shows, in the disk's logical
// sectors: 512 bytes, or 4096 for a VHDX that has them), `layer` and `block` (a block up close),
// `partition` and `path` (a folder or file in the Files tab), `changes` (the Changes filter).
// They move it when set, and are set as the reader moves, with a `vhd-navigate` event. Without
// `src` it asks for files to be dropped on it or picked; files can be dropped on it at any time.
// Each element is independent: its own files, work and cancellation.
// Styles live in its shadow root; theme it with --vhd-* custom properties (see element-css.js).
// Reflects its state in `data-state` (idle, loading, ready, error) and fires `vhd-load` and
// `vhd-error` events. The views and what they do are the controller's (controller.js), the same
// one the page uses; this file is the element's attributes, tabs and shadow DOM.
import { humanSize } from '../common/format.js';
import { h, fill } from './dom.js';
import { viewsSheet } from './views/css.js';
import { ELEMENT_CSS } from './element-css.js';
import { Viewer } from './controller.js';
import { startWorker } from './engine.js';
import { VIEWS, VIEW_OF, viewName, KEYS, fromAttributes, toAttributes } from './location.js';

export { VIEWS };

/**
 * @import { DiskInput } from './api.js'
 * @import { Parts } from './controller.js'
 */

/**
 * The parts of the shadow DOM that build() makes, besides the controller's.
 * @typedef {{ title: HTMLSpanElement, sub: HTMLSpanElement, input: HTMLInputElement, openButton: HTMLButtonElement,
 *   drop: HTMLDivElement, tabs: HTMLDivElement, panels: Record<string, HTMLElement>, explain: HTMLInputElement, frame: HTMLDivElement }} Own
 */

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
  static observedAttributes = ['src', 'parent', 'views', ...KEYS];

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
    /** @type {DiskInput[] | null} */
    this.given = null; // files given by drop, picker or open(), instead of src
    /** @type {string | null} */
    this.current = null;
    this.queued = false;
    this.loading = false;
    /** Whether the element is setting its own attributes (the reader moved): they move nothing. */
    this.reflecting = false;
    /** @type {Set<string>} the place's attributes changed, to move to once (after every one set in the same task) */
    this.moves = new Set();
    // Set by build():
    /** @type {Own} */ this.$;
    /** @type {Viewer} */ this.viewer;
    this.build(root);
    // The core's Worker starts with the first viewer on a page, so that files given later fetch nothing.
    startWorker().catch(() => {
      /* said when a disk is opened */
    });
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
    return this.viewer.disk?.names.length ? this.viewer.disk : null;
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
    if (old === value || this.reflecting) return;
    if (name === 'src' || name === 'parent') {
      this.given = null;
      this.reload();
    } else if (name === 'view') {
      const v = viewName(value);
      if (v) this.select(v);
    } else if (name === 'views') {
      this.renderTabs();
    } else {
      // Before files are shown, the controller reads the attributes (`place`) when it shows them.
      if (!this.moves.size) queueMicrotask(() => this.move());
      this.moves.add(name);
    }
  }

  /**
   * Moves to the place the attributes changed name (a block with its layer, a path with its
   * partition); while files load, when they are shown (those changed since the controller read
   * them).
   */
  move() {
    if (!this.disk || this.loading) return;
    const keys = this.moves;
    this.moves = new Set();
    const all = fromAttributes(this);
    /** @type {Record<string, unknown>} */
    const place = {};
    const want = new Set(keys);
    if (want.has('block')) want.add('layer');
    if (want.has('path')) want.add('partition');
    for (const k of want) place[k] = all[/** @type {keyof typeof all} */ (k)];
    void this.viewer.goTo(place);
  }

  connectedCallback() {
    this.renderTabs();
    if (!this.viewer.disk && !this.viewer.ctrl) this.reload();
  }

  disconnectedCallback() {
    // Moved within the page: keep everything. Removed: stop the work and free the memory.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.viewer.ctrl?.abort(new DOMException('the viewer was removed', 'AbortError'));
      this.viewer.ctrl = null;
      this.viewer.disk?.close();
      this.viewer.disk = null;
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
    this.$ = /** @type {Own} */ ({}); // filled just below
    const $ = this.$;
    $.title = q('span', { class: 'title' });
    $.sub = q('span', { class: 'sub' });
    $.input = q('input', { type: 'file', multiple: true, accept: '.vhd,.avhd,application/octet-stream', class: 'visually-hidden', tabindex: '-1', 'aria-label': 'Disk files to open' });
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
    $.tabs = q('div', { class: 'tabs', role: 'tablist', part: 'tabs', 'aria-label': 'Views' });
    $.panels = {};
    /**
     * @param {string} v
     * @param {...import('./types.js').Child} kids
     */
    const panel = (v, ...kids) => ($.panels[v] = q('section', { class: 'panel', role: 'tabpanel', part: 'panel', id: id(v), 'data-view': v, hidden: true }, ...kids));

    /** @type {Parts} */
    const p = {
      messages: q('div', { class: 'messages', role: 'status', 'aria-live': 'polite' }),
      fileList: q('div'),
      chain: q('div', { class: 'chain-body' }),
      summary: q('div', { class: 'summary-body' }),
      systems: q('div', { class: 'systems' }),
      health: q('div', { class: 'health' }),
      layerSelect: q('select', { 'aria-label': 'File' }),
      structures: q('div', { class: 'structures-body' }),
      batLayer: q('select', { 'aria-label': 'File' }),
      batLegend: q('div', { class: 'legend' }),
      batCanvas: q('canvas', { 'aria-label': 'Block map' }),
      batHover: q('p', { class: 'hover', 'aria-live': 'polite' }),
      provLead: q('p', { class: 'lead' }),
      scan: q('button', { type: 'button', 'data-action': 'scan' }, 'Read every block bitmap for an exact map'),
      provState: q('span', { class: 'prov-state' }),
      provLegend: q('div', { class: 'legend' }),
      provCanvas: q('canvas', { 'aria-label': 'Provenance map' }),
      provHover: q('p', { class: 'hover', 'aria-live': 'polite' }),
      closeup: q('div', { class: 'closeup-body' }),
      hexForm: q('form', { class: 'controls' }),
      hexAt: q('input', { type: 'text', inputmode: 'numeric', value: '0', size: '12', 'aria-label': 'Sector' }),
      hexPrev: q('button', { type: 'button', 'aria-label': 'Previous sector' }, '◀'),
      hexNext: q('button', { type: 'button', 'aria-label': 'Next sector' }, '▶'),
      hexSource: q('p', { class: 'source' }),
      hexDump: q('div', { class: 'dump', tabindex: '0', 'aria-label': 'Hex dump' }),
      findings: q('div', { class: 'findings-body' }),
      checkRun: q('button', { type: 'button', 'data-action': 'check' }, 'Check every block'),
      checkBody: q('div', { class: 'check-body', 'aria-live': 'polite' }),
      files: q('div', { class: 'files-body' }),
      filesLayer: q('select', { 'aria-label': 'Disk as of' }),
      changes: q('div', { class: 'changes-body' }),
      changesFrom: q('select', { 'aria-label': 'Older layer' }),
      changesTo: q('select', { 'aria-label': 'Newer layer' }),
      changesRun: q('button', { type: 'button', 'data-action': 'diff' }, 'Compare'),
      rebaseOnto: q('select', { 'aria-label': 'New base' }),
      rebaseRun: q('button', { type: 'button', 'data-action': 'rebase' }, 'Check'),
      save: q('div', { class: 'save-body' }),
      search: q('div', { class: 'search-view' }),
      timeline: q('div', { class: 'timeline-view' }),
      timelineRun: q('button', { type: 'button', 'data-action': 'timeline' }, 'List every time'),
      timelineBody: q('button', { type: 'button', 'data-action': 'timeline-body', disabled: true }, 'Save as body file'),
      timelineCsv: q('button', { type: 'button', 'data-action': 'timeline-csv', disabled: true }, 'Save as CSV'),
      // The task's name is announced, not each count (the progress bar holds the value).
      task: q('div', { class: 'task', hidden: true }),
      taskLabel: q('span', { role: 'status' }),
      taskProgress: q('progress', { max: 1, value: 0 }),
      taskCount: q('span'),
      taskCancel: q('button', { type: 'button' }, 'Stop'),
    };
    p.hexForm.append(q('label', {}, 'Virtual sector ', p.hexAt), q('button', { type: 'submit' }, 'Show'), p.hexPrev, p.hexNext);
    p.task.append(p.taskLabel, ' ', p.taskProgress, ' ', p.taskCount, ' ', p.taskCancel);
    $.explain = q('input', { type: 'checkbox', onchange: () => $.frame.classList.toggle('show-explain', $.explain.checked) });
    const files = q('label', { class: 'layer' }, 'File ', p.layerSelect);
    const batFiles = q('label', {}, 'File ', p.batLayer);

    $.frame = q('div', { class: 'frame', part: 'frame' },
      q('div', { class: 'bar', part: 'header' }, $.title, $.sub, $.openButton, $.input),
      $.drop, p.messages, p.task, $.tabs,
      panel('summary', p.health, p.systems, p.summary),
      panel('files', q('div', { class: 'controls' }, q('label', {}, 'Disk ', p.filesLayer)), p.files),
      panel('changes', q('div', { class: 'controls' }, q('label', {}, 'Newer ', p.changesTo), q('label', {}, ' against older ', p.changesFrom), p.changesRun),
        q('div', { class: 'controls', hidden: true }, q('label', {}, 'Can this child move to a new base? Onto ', p.rebaseOnto), p.rebaseRun), p.changes),
      panel('timeline', q('p', { class: 'lead' }, 'Every file\'s and directory\'s times, as of the disk chosen in the Files tab, with the layer that last wrote each entry.'),
        q('div', { class: 'controls' }, p.timelineRun, p.timelineBody, p.timelineCsv), p.timeline),
      panel('footer', q('div', { class: 'controls' }, files, q('label', {}, $.explain, ' Show what each field means')), p.structures),
      panel('chain', p.fileList, p.chain),
      panel('bat', q('p', { class: 'lead' }, 'Where each block of the virtual disk is stored in the file: one square per block. Point at one for details, click it (or Enter) for its sectors.'),
        q('div', { class: 'controls' }, batFiles), p.batLegend, q('div', { class: 'mapbox' }, p.batCanvas), p.batHover),
      panel('bitmap', p.provLead, q('div', { class: 'controls' }, p.scan, p.provState), p.provLegend, q('div', { class: 'mapbox' }, p.provCanvas), p.provHover, p.closeup),
      panel('hex', p.hexForm, p.hexSource, p.hexDump),
      panel('search', p.search),
      panel('findings', p.findings,
        q('p', { class: 'small' }, 'The full check also reads every block’s sector bitmap and the sectors a dynamic disk marks unused (left-over data), as vhd-viewer check does.'),
        q('div', { class: 'controls' }, p.checkRun), p.checkBody),
      panel('save', p.save));
    root.append($.frame);

    this.viewer = new Viewer(p, {
      state: (s) => {
        this.loading = s === 'loading';
        this.dataset.state = s;
        if (s === 'loading') {
          $.drop.hidden = true;
          this.$.sub.textContent = 'opening…';
        }
        if (s === 'error' && !this.disk) this.showEmpty();
        if (s === 'ready' && this.viewer.disk) {
          const d = this.viewer.disk;
          this.dispatchEvent(new CustomEvent('vhd-load', { detail: { info: d.info, names: d.names } }));
          if (this.moves.size) this.move();
        }
      },
      scanState: (s) => {
        if (s) this.dataset.scan = s;
        else delete this.dataset.scan;
      },
      reveal: (view) => this.select(VIEW_OF[view]),
      view: (v) => this.select(v),
      place: () => {
        this.moves.clear();
        return fromAttributes(this);
      },
      moved: (place) => {
        // The tab shown (a view revealed may not be offered).
        const now = place.view === undefined ? place : { ...place, view: this.current ?? place.view };
        this.reflecting = true;
        let changed;
        try {
          changed = toAttributes(this, now);
        } finally {
          this.reflecting = false;
        }
        if (changed.length) this.dispatchEvent(new CustomEvent('vhd-navigate', { detail: now }));
      },
      shown: (d) => {
        $.title.textContent = d.names[0];
        $.sub.textContent = `${d.info.disk_type} disk, ${humanSize(Number(d.info.current_size))}${d.names.length > 1 ? `, a chain of ${d.names.length} files` : ''}${d.missingParent ? ', parent missing' : ''}`;
        files.hidden = d.names.length < 2;
        batFiles.hidden = d.names.length < 2;
        this.renderTabs();
      },
      failed: (e) => {
        if (this.state === 'error' && !this.disk) this.$.sub.textContent = 'cannot be shown';
        this.dispatchEvent(new CustomEvent('vhd-error', { detail: { error: e, code: e.code ?? null, message: e.message } }));
      },
      saveIds: id('save-'),
    });

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
  }

  offered() {
    const list = [...new Set((this.getAttribute('views') ?? '').split(/[\s,]+/).map(viewName).filter((v) => v !== undefined))];
    return list.length ? list : VIEW_NAMES;
  }

  renderTabs() {
    const offered = this.offered();
    fill(this.$.tabs, VIEWS.filter(([v]) => offered.includes(v)).map(([v, label]) =>
      h('button', { type: 'button', role: 'tab', 'data-view': v, 'aria-controls': `${this.uid}-${v}`, 'aria-selected': 'false', onclick: () => this.select(v), onkeydown: (/** @type {KeyboardEvent} */ e) => this.tabKey(e, v) }, label)));
    this.$.tabs.hidden = offered.length < 2 || !this.disk;
    const attr = this.getAttribute('view');
    const want = this.current ?? viewName(attr);
    this.select(want !== undefined && offered.includes(want) ? want : offered[0]);
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
   */
  select(v) {
    if (!this.offered().includes(v)) return;
    this.current = v;
    this.viewer?.moved({ view: v });
    for (const b of this.$.tabs.querySelectorAll('button')) {
      const on = b.dataset.view === v;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    const shown = !!this.disk;
    for (const [name, p] of Object.entries(this.$.panels)) p.hidden = !shown || name !== v;
    // The files on the disk, and the systems on it, are read when their tab is shown.
    if (shown && v === 'files') void this.viewer.showFiles();
    if (shown && v === 'summary') void this.viewer.showSystems();
  }

  showEmpty() {
    this.$.drop.hidden = !!this.viewer.ctrl && !this.given && this.urls().length > 0;
    this.$.tabs.hidden = true;
    for (const p of Object.values(this.$.panels)) p.hidden = true;
  }

  // ------------------------------------------------------------ loading

  async load() {
    const inputs = this.given ?? this.urls();
    if (!inputs.length) {
      this.viewer.ctrl?.abort(new DOMException('the files were taken away', 'AbortError'));
      this.viewer.disk?.close();
      this.viewer.disk = null;
      this.viewer.clearMessages();
      this.$.title.textContent = 'VHD viewer';
      this.$.sub.textContent = 'no disk yet';
      this.showEmpty();
      this.$.drop.hidden = false;
      this.dataset.state = 'idle';
      return;
    }
    const label = inputs.map((i) => (typeof i === 'string' ? decodeURIComponent(/** @type {string} */ (new URL(i).pathname.split('/').pop())) : /** @type {{ name?: string }} */ (i).name ?? 'disk'));
    this.$.title.textContent = label[0];
    for (const p of Object.values(this.$.panels)) p.hidden = true;
    this.$.tabs.hidden = true;
    await this.viewer.load(inputs);
  }
}

// The Timeline view: every file's and directory's times (the core's timeline, the rows of
// `vhd-viewer timeline --json`, as columns: common/types.d.ts's TimelineColumns). A histogram of
// activity over time (a canvas; mouse drag or the arrow keys narrow the range, down to a day;
// Reset widens it again), under it the rows in the range, filtered by path, by kind of time and
// by deleted entries, in a virtual list (only the rows in sight are in the DOM, so 200,000 stay
// smooth). A row picked is shown by the caller (its file in the file browser).
import { h, fill, cssColor } from '../dom.js';
import { humanSize } from '../../common/format.js';

/** @import { TimelineColumns } from '../../common/types.js' */

/** The kinds of time, in the core's order (TimelineColumns.kind), in plain words. */
export const KIND_WORDS = ['modified', 'accessed', 'metadata changed', 'created'];
/** The NTFS sets of times (TimelineColumns.attribute). */
const ATTRIBUTE_WORDS = ['', ' ($STANDARD_INFORMATION)', ' ($FILE_NAME)'];
/** The narrowest range a brush gives: one day, in seconds. */
export const DAY = 86400;
/** Bins of the histogram. */
const BINS = 120;
/** A list row's height in pixels. */
const ROW = 24;

/**
 * @typedef {{ lo: number, hi: number, path: string, kinds: boolean[], attributes: boolean[], deleted: boolean }} Filter
 * `lo` <= unix < `hi`; `path` a part of the path (any case); `kinds[k]` shows kind k;
 * `attributes[a]` shows NTFS set a (0 the others); `deleted` shows deleted entries.
 */

/**
 * The rows (indexes into the row columns, in time order) that `f` lets through.
 * @param {TimelineColumns} t
 * @param {Filter} f
 * @returns {Uint32Array}
 */
export function filterRows(t, f) {
  const needle = f.path.toLowerCase();
  const pathOk = needle ? t.path.map((p) => p.toLowerCase().includes(needle)) : null;
  const out = new Uint32Array(t.line.length);
  let n = 0;
  for (let r = 0; r < t.line.length; r++) {
    const i = t.line[r];
    const s = t.unix[r];
    if (s < f.lo || s >= f.hi || !f.kinds[t.kind[r]] || !f.attributes[t.attribute[i]]) continue;
    if (!f.deleted && t.deleted[i]) continue;
    if (pathOk && !pathOk[i]) continue;
    out[n++] = r;
  }
  return out.slice(0, n);
}

/**
 * The histogram of `rows` over [lo, hi): `bins` counts of equal width (at least a second).
 * @param {TimelineColumns} t
 * @param {Uint32Array} rows
 * @param {number} lo
 * @param {number} hi
 * @param {number} bins
 * @returns {Uint32Array}
 */
export function histogram(t, rows, lo, hi, bins) {
  const counts = new Uint32Array(bins);
  const width = Math.max(1, (hi - lo) / bins);
  for (const r of rows) counts[Math.min(bins - 1, Math.floor((t.unix[r] - lo) / width))]++;
  return counts;
}

/**
 * The range [lo, hi) of the rows' times (the first and last, hi one past), at least a day wide.
 * @param {TimelineColumns} t
 * @returns {[number, number]}
 */
export function fullRange(t) {
  if (!t.unix.length) return [0, DAY];
  const lo = t.unix[0];
  return [lo, Math.max(t.unix[t.unix.length - 1] + 1, lo + DAY)];
}

/**
 * [a, b] of [lo, hi) narrowed to the fractions a..b of its width, at least a day wide.
 * @param {number} lo
 * @param {number} hi
 * @param {number} a
 * @param {number} b
 * @returns {[number, number]}
 */
export function narrowed(lo, hi, a, b) {
  const [x, y] = a <= b ? [a, b] : [b, a];
  let from = Math.floor(lo + (hi - lo) * x);
  let to = Math.ceil(lo + (hi - lo) * y);
  if (to - from < DAY) {
    const mid = (from + to) / 2;
    from = Math.floor(mid - DAY / 2);
    to = from + DAY;
  }
  return [from, to];
}

/**
 * A time as ISO 8601 UTC, as the core writes it.
 * @param {number} seconds since 1970
 * @param {number} nanos past it
 */
function iso(seconds, nanos) {
  const s = new Date(seconds * 1000).toISOString().slice(0, 19);
  return nanos ? `${s}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z` : `${s}Z`;
}

export class TimelineView {
  /**
   * @param {HTMLElement} root where the view draws
   * @param {{ onPick: (row: { partition: import('../../common/types.js').VolumeRef, path: string, deleted: boolean }) => void }} hooks
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    /** @type {TimelineColumns | null} */
    this.t = null;
    /** @type {Filter} */
    this.filter = { lo: 0, hi: DAY, path: '', kinds: [true, true, true, true], attributes: [true, true, true], deleted: false };
    /** @type {Uint32Array} */
    this.rows = new Uint32Array(0);
    this.canvas = h('canvas', { class: 'tl-histogram', tabIndex: 0, role: 'img', 'aria-label': 'Activity over time' });
    this.rangeText = h('p', { class: 'tl-range', 'aria-live': 'polite' });
    this.reset = h('button', { type: 'button' }, 'Show all times');
    this.pathInput = h('input', { type: 'search', placeholder: 'Filter by path', 'aria-label': 'Filter by path' });
    this.kindBoxes = KIND_WORDS.map((w, k) => this.box(w, () => (this.filter.kinds[k] = this.kindBoxes[k].checked)));
    this.attributeBoxes = ['other file systems', 'NTFS $STANDARD_INFORMATION', 'NTFS $FILE_NAME'].map((w, a) =>
      this.box(w, () => (this.filter.attributes[a] = this.attributeBoxes[a].checked)));
    this.deletedBox = this.box('deleted entries', () => (this.filter.deleted = this.deletedBox.checked), false);
    this.list = h('div', { class: 'tl-list', tabIndex: 0, role: 'list', 'aria-label': 'Times' });
    this.spacer = h('div', { class: 'tl-spacer' });
    this.list.append(this.spacer);
    this.count = h('p', { class: 'tl-count', 'aria-live': 'polite' });
    /** @type {number | null} where a mouse drag started, as a fraction of the width */
    this.dragFrom = null;
    this.cursor = 0;
    this.reset.addEventListener('click', () => this.setRange(...fullRange(/** @type {TimelineColumns} */ (this.t))));
    this.pathInput.addEventListener('input', () => {
      this.filter.path = this.pathInput.value;
      this.update();
    });
    this.canvas.addEventListener('pointerdown', (e) => {
      this.dragFrom = this.fraction(e);
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener('pointerup', (e) => {
      if (this.dragFrom === null) return;
      const a = this.dragFrom;
      this.dragFrom = null;
      const b = this.fraction(e);
      // A click (no drag) narrows to the bin clicked.
      const [x, y] = Math.abs(b - a) < 1 / BINS ? [Math.floor(a * BINS) / BINS, (Math.floor(a * BINS) + 1) / BINS] : [a, b];
      this.setRange(...narrowed(this.filter.lo, this.filter.hi, x, y));
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.list.addEventListener('scroll', () => this.paint());
    this.list.addEventListener('keydown', (e) => this.listKey(e));
    this.list.addEventListener('click', (e) => {
      const el = /** @type {HTMLElement} */ (e.target).closest('[data-row]');
      if (el) this.pick(Number(/** @type {HTMLElement} */ (el).dataset.row));
    });
    fill(root,
      h('p', { class: 'hint' }, 'Drag across the picture, or use the arrow keys on it (Left and Right move, Enter narrows to the middle half, Backspace widens), to see only the times in a range, down to a day. A row opens its file.'),
      this.canvas, h('div', { class: 'tl-controls' }, this.rangeText, this.reset),
      h('div', { class: 'tl-controls' }, this.pathInput, ...[...this.kindBoxes, ...this.attributeBoxes, this.deletedBox].map((b) => b.parentElement ?? b)),
      this.count, this.list);
  }

  /**
   * A labelled check box that updates the list when changed.
   * @param {string} words
   * @param {() => void} changed
   * @param {boolean} [checked]
   */
  box(words, changed, checked = true) {
    const input = h('input', { type: 'checkbox', checked });
    input.addEventListener('change', () => {
      changed();
      this.update();
    });
    h('label', {}, input, ` ${words}`);
    return /** @type {HTMLInputElement} */ (input);
  }

  /**
   * Shows `t` (the core's timeline), every time in range.
   * @param {TimelineColumns} t
   */
  show(t) {
    this.t = t;
    this.setRange(...fullRange(t));
  }

  /**
   * @param {number} lo
   * @param {number} hi
   */
  setRange(lo, hi) {
    this.filter.lo = lo;
    this.filter.hi = hi;
    this.update();
  }

  /** The filter applied again: the histogram, the count, the list. */
  update() {
    const t = this.t;
    if (!t) return;
    this.rows = filterRows(t, this.filter);
    this.rangeText.textContent = `From ${iso(this.filter.lo, 0)} to ${iso(this.filter.hi, 0)}`;
    this.count.textContent = `${this.rows.length.toLocaleString('en')} times shown of ${t.line.length.toLocaleString('en')}`;
    this.spacer.style.height = `${this.rows.length * ROW}px`;
    this.cursor = Math.min(this.cursor, Math.max(0, this.rows.length - 1));
    this.draw();
    this.paint();
  }

  /** The histogram of the rows shown. */
  draw() {
    const t = /** @type {TimelineColumns} */ (this.t);
    const c = /** @type {HTMLCanvasElement} */ (this.canvas);
    const width = c.clientWidth || 600;
    const height = 120;
    const ratio = globalThis.devicePixelRatio || 1;
    c.width = Math.round(width * ratio);
    c.height = Math.round(height * ratio);
    const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, height);
    const counts = histogram(t, this.rows, this.filter.lo, this.filter.hi, BINS);
    const most = Math.max(1, ...counts);
    g.fillStyle = cssColor('--accent', this.root) || '#36c';
    const w = width / BINS;
    counts.forEach((n, i) => {
      if (!n) return;
      const bar = Math.max(1, (n / most) * (height - 2));
      g.fillRect(i * w, height - bar, Math.max(1, w - 1), bar);
    });
    c.setAttribute('aria-label', `Activity over time: ${this.rows.length} times from ${iso(this.filter.lo, 0)} to ${iso(this.filter.hi, 0)}`);
  }

  /** The list's rows in sight (and a few more). */
  paint() {
    const t = this.t;
    if (!t) return;
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW) - 5);
    const last = Math.min(this.rows.length, first + Math.ceil((this.list.clientHeight || 400) / ROW) + 10);
    const items = [];
    for (let n = first; n < last; n++) {
      const r = this.rows[n];
      const i = t.line[r];
      const layer = t.layer[i] < 0 ? '' : ` · layer ${t.layer[i]}`;
      items.push(h('div', { class: n === this.cursor ? 'tl-row tl-cursor' : 'tl-row', role: 'listitem', 'data-row': String(n), style: `top:${n * ROW}px` },
        h('span', { class: 'tl-time' }, iso(t.unix[r], t.nanos[r])),
        h('span', { class: 'tl-kind' }, `${KIND_WORDS[t.kind[r]]}${ATTRIBUTE_WORDS[t.attribute[i]]}`),
        h('span', { class: 'tl-path' }, `${t.path[i]}${t.deleted[i] ? ' (deleted)' : ''}`),
        h('span', { class: 'tl-size' }, `${humanSize(t.size[i])} · ${t.volume[i] ? `volume ${t.volume[i]}` : `partition ${t.partition[i]}`}${layer}`)));
    }
    fill(this.spacer, ...items);
  }

  /** @param {PointerEvent} e */
  fraction(e) {
    const r = this.canvas.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width)));
  }

  /**
   * The histogram's keys: Left and Right move the range by a quarter, Enter narrows to its middle
   * half, Backspace doubles it, Home shows every time.
   * @param {KeyboardEvent} e
   */
  key(e) {
    const { lo, hi } = this.filter;
    const w = hi - lo;
    /** @type {Record<string, () => [number, number]>} */
    const moves = {
      ArrowLeft: () => [lo - Math.ceil(w / 4), hi - Math.ceil(w / 4)],
      ArrowRight: () => [lo + Math.ceil(w / 4), hi + Math.ceil(w / 4)],
      Enter: () => narrowed(lo, hi, 0.25, 0.75),
      Backspace: () => [lo - Math.ceil(w / 2), hi + Math.ceil(w / 2)],
      Home: () => fullRange(/** @type {TimelineColumns} */ (this.t)),
    };
    if (!moves[e.key] || !this.t) return;
    e.preventDefault();
    this.setRange(...moves[e.key]());
  }

  /**
   * The list's keys: Up, Down, Page Up, Page Down move the row picked; Enter opens its file.
   * @param {KeyboardEvent} e
   */
  listKey(e) {
    const page = Math.max(1, Math.floor(this.list.clientHeight / ROW));
    /** @type {Record<string, number>} */
    const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key === 'Enter' && this.rows.length) {
      e.preventDefault();
      this.pick(this.cursor);
    } else if (steps[e.key] !== undefined) {
      e.preventDefault();
      this.cursor = Math.min(this.rows.length - 1, Math.max(0, this.cursor + steps[e.key]));
      const top = this.cursor * ROW;
      if (top < this.list.scrollTop) this.list.scrollTop = top;
      else if (top + ROW > this.list.scrollTop + this.list.clientHeight) this.list.scrollTop = top + ROW - this.list.clientHeight;
      this.paint();
    }
  }

  /** @param {number} n the row shown at place n */
  pick(n) {
    const t = /** @type {TimelineColumns} */ (this.t);
    const i = t.line[this.rows[n]];
    this.cursor = n;
    this.hooks.onPick({ partition: t.volume[i] ?? t.partition[i], path: t.path[i].replace(/:[^/]*$/, ''), deleted: t.deleted[i] === 1 });
  }
}

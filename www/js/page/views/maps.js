// The block map (one layer's BAT) and the provenance map (which layer supplies each part of the
// virtual disk), both on canvas.
import { h, fill, legend, cssColor, layerColor } from '../dom.js';
import { CellMap, rgba, layerPattern } from '../cellmap.js';
import { hex, humanSize } from '../../common/format.js';

/** @import { VhdDisk } from '../api.js' */
/** @import { BlockTable } from '../../common/types.js' */

// A block state code (see BlockTable) to its colour's index in BatView's colours: not present,
// undefined, zero, unmapped, invalid (4, 5), fully present (or a VHD's block in the file),
// partially present.
const STATE_COLOR = [1, 4, 5, 6, 8, 8, 2, 7];
// Each colour index's pattern, as the block map's SVG picture draws the same kinds
// (src/draw/blocks.rs): out of order dotted, undefined vertical lines, zero and unmapped lined,
// partially present hatched, invalid a grid.
const STATE_PATTERN = [0, 0, 0, 2, 6, 3, 4, 1, 5];
// Each colour index in words, where the core's legend does not name it (a VHD's table).
const STATE_WORDS = ['', 'not allocated', 'stored in the file', 'stored out of file order', 'undefined', 'reads as zeros', 'unmapped', 'partially present', 'invalid'];
/** A state code whose block is stored in the file. */
const inFile = (/** @type {number} */ s) => s === 6 || s === 7;

/**
 * Where a map is drawn and said in words; `onPick` is told of a click or Enter.
 * @template {(a: number, b: number) => void} P
 * @typedef {{ canvas: HTMLCanvasElement, hoverEl: HTMLElement, legendEl: HTMLElement, onPick?: P }} MapElements
 */

/** The block map of one layer. */
export class BatView {
  /** @param {MapElements<(layer: number, block: number) => void>} elements */
  constructor({ canvas, hoverEl, legendEl, onPick }) {
    this.hoverEl = hoverEl;
    this.legendEl = legendEl;
    this.onPick = onPick;
    /** @type {BlockTable} */
    this.table = { blocks: 0, states: new Uint8Array(0), offsets: new Uint32Array(0), unit: 512, bitmapBefore: 0, ooo: new Uint8Array(0), legend: [] };
    // Set by show(), before the map draws anything:
    /** @type {VhdDisk} */ this.disk;
    /** @type {number} */ this.layer;
    /** @type {number | undefined} */ this.ticket;
    /** @type {string} */ this.name;
    /** @type {number} */ this.blockSize;
    /** @type {Uint32Array} */ this.colors;
    this.map = new CellMap(canvas, {
      maxHeight: 420,
      state: (i) => (this.table.ooo[i] ? 3 : STATE_COLOR[this.state(i)]),
      colors: () => this.colors,
      patterns: () => STATE_PATTERN,
      kind: (s) => (s === 3 ? STATE_WORDS[3] : this.table.legend.find(([code]) => STATE_COLOR[code & 7] === s)?.[1] ?? STATE_WORDS[s]),
      items: 'blocks',
      onHover: (a, b) => this.hover(a, b),
      onPick: (a) => this.pick(a),
    });
  }

  /**
   * Shows layer `layer` of `disk`; `name` is its file name. Resolves false when another
   * show() began meanwhile.
   * @param {VhdDisk} disk
   * @param {number} layer
   * @param {string} name
   */
  async show(disk, layer, name) {
    const ticket = (this.ticket = (this.ticket ?? 0) + 1);
    const table = await disk.bat(layer);
    if (ticket !== this.ticket) return false;
    this.disk = disk;
    this.layer = layer;
    this.name = name;
    this.blockSize = disk.layers[layer].blockSize;
    this.table = table;
    const c = layerColor(layer, this.map.canvas);
    const css = (/** @type {string} */ v) => cssColor(v, this.map.canvas);
    // Indexed as STATE_COLOR says: background, not present, in the file, out of file order,
    // undefined, zero, unmapped, partially present, invalid.
    const swatches = [css('--bg'), css('--unalloc'), c, css('--ooo'), css('--mixed'), css('--zero'), css('--zero'), c, css('--missing')];
    this.colors = new Uint32Array(swatches.map((s, i) => rgba(s, i === 6 || i === 7 ? 110 : 255)));
    const blocks = table.blocks;
    let allocated = 0;
    let ooo = 0;
    for (const [code, , n] of table.legend) if (inFile(code)) allocated += n;
    for (let i = 0; i < table.ooo.length; i++) if (table.ooo[i]) ooo++;
    const vhdx = disk.layers[layer]?.format === 'vhdx';
    if (!this.blockSize) {
      fill(this.legendEl, h('p', {}, `${name} is a fixed disk: it has no block table. Its data is stored as it is, in order, followed by the footer.`));
    } else if (vhdx) {
      // A VHDX's payload blocks in their states, as the core names them.
      fill(this.legendEl,
        legend(table.legend.map(([code, what, n]) => [swatches[STATE_COLOR[code & 7]], `${what}: ${n}`, '', STATE_PATTERN[STATE_COLOR[code & 7]]])),
        h('span', { class: 'key' }, `${blocks} blocks of ${humanSize(this.blockSize)}; stored in the file: ${allocated}`));
    } else {
      fill(this.legendEl,
        legend([[css('--unalloc'), `not allocated: ${blocks - allocated}`], [c, `stored in the file: ${allocated - ooo}`], [css('--ooo'), `stored out of file order: ${ooo}`, '', STATE_PATTERN[3]]]),
        h('span', { class: 'key' }, `${blocks} blocks of ${humanSize(this.blockSize)}`));
    }
    this.map.canvas.setAttribute('aria-label', `Block map of ${name}: ${blocks} blocks, ${allocated} stored in the file. Use the arrow keys to move, Enter to see a block's sectors.`);
    this.map.setCount(blocks);
    this.hoverEl.textContent = blocks ? 'Point at a block (or focus the map and use the arrow keys).' : '';
    return true;
  }

  /**
   * Block i's state code (blocks past the table's entries are not present).
   * @param {number} i
   */
  state(i) {
    return i < this.table.states.length ? this.table.states[i] : 0;
  }

  /** @param {number} i */
  describe(i) {
    const s = this.state(i);
    const start = i * this.blockSize;
    const end = start + this.blockSize;
    const range = `virtual bytes ${hex(start)}–${hex(end - 1)} (${humanSize(start)} to ${humanSize(end)})`;
    const at = (this.table.offsets[i] ?? 0) * this.table.unit;
    if (this.disk.layers[this.layer]?.format === 'vhdx') {
      const what = this.table.legend.find(([code]) => code === s)?.[1] ?? 'not present';
      return `Block ${i}: ${range}; ${what}${inFile(s) ? `: its data is stored at file offset ${hex(at)} (its sector bitmap, if any, in a block of bitmaps of its own)` : ''}.`;
    }
    if (!inFile(s)) return `Block ${i}: ${range}; not allocated in ${this.name} (reads as zeros, or from the parent in a differencing disk).`;
    return `Block ${i}: ${range}; stored at file offset ${hex(at)} (sector bitmap), data from ${hex(at + this.table.bitmapBefore)}${this.table.ooo[i] ? '; stored before a block with a lower number (out of file order)' : ''}.`;
  }

  /**
   * @param {number} first
   * @param {number | null} last
   */
  hover(first, last) {
    if (first < 0 || last === null) return;
    if (last - first <= 1) this.hoverEl.textContent = this.describe(first);
    else {
      let n = 0;
      for (let i = first; i < last; i++) if (inFile(this.state(i))) n++;
      this.hoverEl.textContent = `Blocks ${first}–${last - 1} (${last - first} per square at this size): ${n} allocated. ${this.describe(first)}`;
    }
  }

  /** @param {number} first */
  pick(first) {
    this.onPick?.(this.layer, first);
  }
}

// Provenance masks, as the core makes them.
const ZERO = 1 << 29;
const MISSING = 1 << 30;
const ESTIMATE = 1 << 31;
const LAYER_MASK = (1 << 29) - 1;

/**
 * The state (colour index) of a provenance mask: see `provenanceColors`.
 * @param {number} mask
 * @param {number} layers
 */
export function maskState(mask, layers) {
  if (mask === 0) return 0;
  if (mask & MISSING) return 3 + 2 * layers;
  const bits = mask & LAYER_MASK;
  if (bits === 0) return 1;
  if (bits & (bits - 1)) return 2 + 2 * layers; // more than one layer: mixed
  const k = 31 - Math.clz32(bits);
  return (mask & ESTIMATE) >>> 0 ? 2 + k : 2 + layers + k;
}

/**
 * What a mask means, in words.
 * @param {number} mask
 * @param {string[]} names
 */
export function maskText(mask, names) {
  const from = [];
  for (let k = 0; k < 29; k++) if (mask & (1 << k)) from.push(names[k] ?? `layer ${k}`);
  const parts = [];
  if (from.length) parts.push(`from ${from.join(' and ')}`);
  if (mask & ZERO) parts.push('zeros (never written)');
  if (mask & MISSING) parts.push('the missing parent (cannot be read)');
  return parts.join('; ') + ((mask & ESTIMATE) >>> 0 ? ' (from the block tables only: some sectors may come from below; run the exact scan)' : '');
}

/** The provenance map of a disk. */
export class ProvenanceView {
  /** @param {MapElements<(start: number, len: number) => void>} elements */
  constructor({ canvas, hoverEl, legendEl, onPick }) {
    this.hoverEl = hoverEl;
    this.legendEl = legendEl;
    this.onPick = onPick;
    /** @type {Uint32Array} */
    this.masks = new Uint32Array(0);
    // Set by show(), before the map draws anything:
    /** @type {VhdDisk} */ this.disk;
    /** @type {string[]} */ this.names;
    /** @type {number} */ this.cellSize;
    /** @type {number} */ this.layers;
    /** @type {Uint32Array} */ this.colors;
    /** @type {Uint8Array} */ this.states;
    /** @type {number[]} */ this.patterns;
    /** @type {string[]} */ this.kinds;
    this.map = new CellMap(canvas, {
      maxHeight: 420,
      state: (i) => this.states[i],
      colors: () => this.colors,
      patterns: () => this.patterns,
      kind: (s) => this.kinds[s],
      items: 'squares',
      onHover: (a, b) => this.hover(a, b),
      onPick: (a) => this.onPick?.(a * this.cellSize, this.cellSize),
    });
  }

  /**
   * @param {VhdDisk} disk
   * @param {string[]} names
   * @param {number} cellSize
   * @param {Uint32Array} masks
   */
  show(disk, names, cellSize, masks) {
    this.disk = disk;
    this.names = names;
    this.cellSize = cellSize;
    const L = disk.layerCount;
    this.layers = L;
    const colors = [rgba(cssColor('--bg', this.map.canvas)), rgba(cssColor('--zero', this.map.canvas))];
    for (let k = 0; k < L; k++) colors.push(rgba(layerColor(k, this.map.canvas), 110));
    for (let k = 0; k < L; k++) colors.push(rgba(layerColor(k, this.map.canvas)));
    colors.push(rgba(cssColor('--mixed', this.map.canvas)), rgba(cssColor('--missing', this.map.canvas)));
    this.colors = new Uint32Array(colors);
    // Patterns and words in the order of the colours (see maskState), as the provenance map's
    // SVG picture has them (src/draw/provenance.rs).
    const layers = Array.from({ length: L }, (_, k) => k);
    this.patterns = [0, 3, ...layers.map(layerPattern), ...layers.map(layerPattern), 7, 5];
    // (As the legend names them.)
    this.kinds = ['', 'zeros', ...names.map((n) => `${n}, maybe partly from below`), ...names, 'several files', 'missing parent'];
    this.update(masks);
  }

  /** @param {Uint32Array} masks */
  update(masks) {
    this.masks = masks;
    const L = this.layers;
    this.states = new Uint8Array(masks.length);
    const counts = new Array(4 + 2 * L).fill(0);
    for (let i = 0; i < masks.length; i++) {
      const s = maskState(masks[i], L);
      this.states[i] = s;
      counts[s]++;
    }
    const cell = humanSize(this.cellSize);
    /** @type {Parameters<typeof legend>[0]} */
    const items = [[cssColor('--zero', this.map.canvas), `zeros: ${counts[1]}`, '', 3]];
    for (let k = 0; k < L; k++) {
      if (counts[2 + L + k]) items.push([layerColor(k, this.map.canvas), `${this.names[k]}: ${counts[2 + L + k]}`, '', layerPattern(k)]);
      if (counts[2 + k]) items.push([layerColor(k, this.map.canvas), `${this.names[k]}, maybe partly from below: ${counts[2 + k]}`, 'pale', layerPattern(k)]);
    }
    if (counts[2 + 2 * L]) items.push([cssColor('--mixed', this.map.canvas), `several files: ${counts[2 + 2 * L]}`, '', 7]);
    if (counts[3 + 2 * L]) items.push([cssColor('--missing', this.map.canvas), `missing parent: ${counts[3 + 2 * L]}`, '', 5]);
    fill(this.legendEl, legend(items), h('span', { class: 'key' }, `one square = ${cell} of the virtual disk`));
    this.map.canvas.setAttribute('aria-label', `Map of which file supplies each ${cell} of the virtual disk. Arrow keys move, Enter shows the sectors.`);
    if (this.map.count !== masks.length) this.map.setCount(masks.length);
    else this.map.draw();
  }

  /**
   * Outlines the squares holding virtual byte ranges `ranges` ([start, end) pairs; none: clears).
   * @param {[number, number][]} ranges
   */
  mark(ranges) {
    /** @type {number[]} */
    const cells = [];
    for (const [start, end] of ranges) {
      for (let c = Math.floor(start / this.cellSize); c < Math.ceil(end / this.cellSize) && cells.length < 1 << 20; c++) cells.push(c);
    }
    this.map.mark(cells);
  }

  /**
   * @param {number} first
   * @param {number | null} last
   */
  hover(first, last) {
    if (first < 0 || last === null) return;
    const start = first * this.cellSize;
    const end = Math.min(last * this.cellSize, this.disk.size);
    let mask = 0;
    for (let i = first; i < last; i++) mask |= this.masks[i];
    this.hoverEl.textContent = `Virtual bytes ${hex(start)}–${hex(end - 1)} (${humanSize(start)} to ${humanSize(end)}): ${maskText(mask, this.names)}.`;
  }
}

// A map of many cells on one canvas (a BAT of a million blocks, a provenance map, a sector
// bitmap): no DOM node per cell. Cells are squares laid out in rows; when there are more cells
// than pixels, several items share a cell and it shows the strongest state among them. Hover and
// click report the items under the pointer; arrow keys move a cursor, Enter picks.
//
// Colour is never the only difference between kinds: each state may have a pattern drawn over
// its colour (the patterns of the SVG pictures, src/draw/mod.rs's `Svg::fill`, numbered alike),
// and a visually hidden table beside the canvas names the runs of cells of one kind, for screen
// readers (at most MAX_RUNS rows however many cells: the rest summarised in its last row).

/**
 * Where cells go: `count` items in a box `width` pixels wide and at most `maxHeight` high.
 * Returns { cell (px), cols, rows, per (items per cell), cells, width, height }.
 * @param {number} count
 * @param {number} width
 * @param {number} maxHeight
 * @returns {Layout}
 */
export function layout(count, width, maxHeight, maxCell = 14) {
  width = Math.max(1, Math.floor(width));
  count = Math.max(0, count);
  if (count === 0) return { cell: maxCell, cols: 1, rows: 0, per: 1, cells: 0, width, height: 0 };
  // The largest cell size at which every item gets a cell of its own.
  let cell = Math.min(maxCell, Math.floor(Math.sqrt((width * maxHeight) / count)));
  let per = 1;
  if (cell < 1) {
    cell = 1;
    per = Math.ceil(count / (width * Math.floor(maxHeight)));
  }
  for (; cell > 1; cell--) {
    const cols = Math.floor(width / cell);
    if (Math.ceil(count / cols) * cell <= maxHeight) break;
  }
  const cols = Math.max(1, Math.floor(width / cell));
  const cells = Math.ceil(count / per);
  const rows = Math.ceil(cells / cols);
  return { cell, cols, rows, per, cells, width: cols * cell, height: rows * cell };
}

/**
 * @typedef {{ cell: number, cols: number, rows: number, per: number, cells: number, width: number, height: number }} Layout
 */

/**
 * The item range [first, last) of cell `c`.
 * @param {number} c
 * @param {Layout} lay
 * @param {number} count
 * @returns {[first: number, last: number]}
 */
export function itemsOf(c, lay, count) {
  const first = c * lay.per;
  return [first, Math.min(count, first + lay.per)];
}

/**
 * The cell at pixel (x, y), or -1.
 * @param {number} x
 * @param {number} y
 * @param {Layout} lay
 */
export function cellAt(x, y, lay) {
  const col = Math.floor(x / lay.cell);
  const row = Math.floor(y / lay.cell);
  if (col < 0 || col >= lay.cols || row < 0 || row >= lay.rows) return -1;
  const c = row * lay.cols + col;
  return c < lay.cells ? c : -1;
}

/**
 * A CSS colour (#rrggbb) as the little-endian RGBA word ImageData's Uint32Array holds.
 * @param {string} css
 */
export function rgba(css, alpha = 255) {
  const n = parseInt(css.replace('#', ''), 16);
  return ((alpha << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0;
}

/** The most rows a map's table of runs has: the runs past them are counted in one more row. */
export const MAX_RUNS = 200;

/**
 * Pattern `p`'s 6 by 6 tile as the SVG pictures draw it (src/draw/mod.rs, `Svg::fill`, whose
 * numbers these are): for each pixel of the tile, how much of the background is laid over the
 * colour there (0: none). 0 is solid; 1 diagonal rising, 2 dots, 3 horizontal lines, 4
 * diagonal falling, 5 a grid, 6 vertical lines, 7 a checkerboard.
 * @param {number} p
 * @returns {Float32Array}
 */
export function patternTile(p) {
  const tile = new Float32Array(36);
  if (!p) return tile;
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 6; x++) {
      const on = [
        false,
        (x + y) % 6 === 5,
        (x === 2 || x === 3) && (y === 2 || y === 3),
        y === 3,
        x === y,
        x === 3 || y === 3,
        x === 3,
        x < 3 === y < 3,
      ][p % 8];
      if (on) tile[y * 6 + x] = p % 8 === 2 ? 0.7 : p % 8 === 7 ? 0.5 : 0.6;
    }
  }
  return tile;
}

/**
 * The pattern of layer `k` of a chain, as the SVG pictures give it (src/draw/provenance.rs).
 * @param {number} k
 */
export const layerPattern = (k) => (k + (k >> 3)) % 8;

/**
 * Colour `color` with `a` of colour `over` laid on it (both as rgba() gives them).
 * @param {number} color
 * @param {number} over
 * @param {number} a
 */
function blend(color, over, a) {
  let out = color & 0xff000000;
  for (const shift of [0, 8, 16]) {
    const c = (color >>> shift) & 0xff;
    const o = (over >>> shift) & 0xff;
    out |= Math.round(c + (o - c) * a) << shift;
  }
  return out >>> 0;
}

/**
 * What a CellMap shows and whom it tells. state(i): a small integer per item, higher wins when
 * items share a cell; colors()[state]; patterns()[state] the pattern over it (see patternTile;
 * none: solid); kind(state) the state in words, for the table of runs, and `items` what an item
 * are, plural ("blocks", "sectors", "squares of 1 MiB").
 * @typedef {{ state(i:number):number, colors: () => Uint32Array, patterns?: () => ArrayLike<number>,
 *   kind(state:number):string, items:string, onHover?(first:number,last:number|null):void,
 *   onPick?(first:number,last:number):void, maxHeight?:number, maxCell?:number, label?:string }} CellMapOptions
 */

export class CellMap {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {CellMapOptions} opts
   */
  constructor(canvas, opts) {
    this.canvas = canvas;
    this.opts = opts;
    this.count = 0;
    this.cursor = -1;
    /** @type {number[]} items outlined (a file's sectors, say) */
    this.marked = [];
    this.lay = layout(0, 1, 1);
    /** @type {ImageData | null} */
    this.image = null;
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    // The map in words: the runs of cells of one kind, read by screen readers, not shown.
    // (In a hidden box of its own: a table is as wide as its text whatever width it is given,
    // and would widen the page.)
    this.runs = document.createElement('table');
    this.runsBox = document.createElement('div');
    this.runsBox.className = 'visually-hidden';
    this.runsBox.append(this.runs);
    this.box().after(this.runsBox);
    canvas.addEventListener('mousemove', (ev) => this.hover(this.eventCell(ev)));
    canvas.addEventListener('mouseleave', () => this.hover(-1));
    canvas.addEventListener('click', (ev) => {
      const c = this.eventCell(ev);
      if (c >= 0) this.pick(c);
    });
    canvas.addEventListener('keydown', (ev) => this.key(ev));
    canvas.addEventListener('focus', () => {
      if (this.cursor < 0 && this.lay.cells > 0) this.moveCursor(0);
    });
    this.resizeObserver = new ResizeObserver(() => {
      if (this.count && Math.floor(this.box().clientWidth) !== this.lastWidth) this.draw();
    });
    this.resizeObserver.observe(this.box());
  }

  /** The box the canvas is drawn in: it is in one when the map is made, and stays there. */
  box() {
    return /** @type {HTMLElement} */ (this.canvas.parentElement);
  }

  /** The canvas's 2D context (it never has another kind). */
  context() {
    return /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
  }

  /** @param {MouseEvent} ev */
  eventCell(ev) {
    const r = this.canvas.getBoundingClientRect();
    const sx = this.canvas.width / r.width || 1;
    const sy = this.canvas.height / r.height || 1;
    // The event is the canvas's, so the point is on it: a box at a fractional place (296.25)
    // with the pointer's whole pixels (296) would put its first row of pixels above it.
    const x = Math.min(Math.max(0, (ev.clientX - r.left) * sx), this.canvas.width - 1);
    const y = Math.min(Math.max(0, (ev.clientY - r.top) * sy), this.canvas.height - 1);
    return cellAt(x, y, this.lay);
  }

  /** @param {number} c */
  hover(c) {
    if (c < 0) this.opts.onHover?.(-1, null);
    else this.opts.onHover?.(...itemsOf(c, this.lay, this.count));
  }

  /** @param {number} c */
  pick(c) {
    this.moveCursor(c, false);
    this.opts.onPick?.(...itemsOf(c, this.lay, this.count));
  }

  /** @param {KeyboardEvent} ev */
  key(ev) {
    const { cols, cells } = this.lay;
    if (!cells) return;
    let c = this.cursor < 0 ? 0 : this.cursor;
    /** @type {Record<string, number>} */
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, PageUp: -cols * 8, PageDown: cols * 8 };
    if (ev.key in moves) c = Math.max(0, Math.min(cells - 1, c + moves[ev.key]));
    else if (ev.key === 'Home') c = 0;
    else if (ev.key === 'End') c = cells - 1;
    else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      if (this.cursor >= 0) this.pick(this.cursor);
      return;
    } else return;
    ev.preventDefault();
    this.moveCursor(c);
  }

  /** @param {number} c */
  moveCursor(c, announce = true) {
    this.cursor = c;
    this.paint();
    if (announce) this.hover(c);
  }

  /**
   * Sets the number of items and redraws.
   * @param {number} n
   */
  setCount(n) {
    this.count = n;
    if (this.cursor >= n) this.cursor = -1;
    this.draw();
  }

  /** Recomputes every cell's colour (call after the states changed). */
  draw() {
    const width = Math.max(120, Math.floor(this.box().clientWidth || 600));
    this.lastWidth = width;
    const lay = (this.lay = layout(this.count, width, this.opts.maxHeight ?? 480, this.opts.maxCell ?? 14));
    const { cell, cols, per, cells } = lay;
    const w = Math.max(1, lay.width);
    const h = Math.max(1, lay.height);
    // Resized only when the size changes: a resize reallocates the canvas and lays the page
    // out again, which a redraw during a scan does not need.
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.width = w + 'px';
      this.canvas.style.height = h + 'px';
    }
    // The layout, for whoever reads the picture (the tests find a kind's squares by it).
    Object.assign(this.canvas.dataset, { cell: String(cell), cols: String(cols), per: String(per), gap: String(cell >= 4 ? 1 : 0) });
    const ctx = this.context();
    const image = ctx.createImageData(w, h);
    const px = new Uint32Array(image.data.buffer);
    const colors = this.opts.colors();
    const state = this.opts.state;
    const gap = cell >= 4 ? 1 : 0; // a hairline between cells when they are big enough
    // Patterns where a cell is big enough to show one (4 px and more); the background laid over
    // the colour, blended once per state and tile pixel.
    const patterns = this.opts.patterns?.() ?? [];
    const bg = colors[0];
    /** @type {(Uint32Array | null)[]} */
    const tiles = Array.from(colors, (color, s) => {
      const tile = patternTile(cell >= 4 ? patterns[s] ?? 0 : 0);
      return tile.some((a) => a) ? Uint32Array.from(tile, (a) => blend(color, bg, a)) : null;
    });
    /** @type {[first: number, last: number, state: number][]} */
    const runs = [];
    let more = 0;
    for (let c = 0; c < cells; c++) {
      let s = 0;
      const first = c * per;
      const last = Math.min(this.count, first + per);
      for (let i = first; i < last; i++) {
        const v = state(i);
        if (v > s) s = v;
      }
      const run = runs[runs.length - 1];
      // Once the table is full, a run that resumes past the cells left out is not stretched over them.
      if (run && run[2] === s && !more) run[1] = last;
      else if (runs.length < MAX_RUNS) runs.push([first, last, s]);
      else more++;
      const color = colors[s];
      const tile = tiles[s];
      const x0 = (c % cols) * cell;
      const y0 = Math.floor(c / cols) * cell;
      for (let y = y0; y < y0 + cell - gap; y++) {
        const row = y * w;
        if (tile) for (let x = x0; x < x0 + cell - gap; x++) px[row + x] = tile[(y % 6) * 6 + (x % 6)];
        else for (let x = x0; x < x0 + cell - gap; x++) px[row + x] = color;
      }
    }
    this.image = image;
    this.paint();
    this.describeRuns(runs, more, per);
  }

  /**
   * Fills the table of runs: one row per run of cells of one kind (the first MAX_RUNS), and a
   * last row counting the cells past them.
   * @param {[first: number, last: number, state: number][]} runs
   * @param {number} more cells not in a run of the table
   * @param {number} per items per cell
   */
  describeRuns(runs, more, per) {
    const { items, kind } = this.opts;
    const cell = (/** @type {string} */ tag, /** @type {string} */ text) => {
      const td = document.createElement(tag);
      td.textContent = text;
      return td;
    };
    const row = (/** @type {HTMLElement[]} */ ...cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    };
    const caption = document.createElement('caption');
    caption.textContent = `${this.canvas.getAttribute('aria-label') ?? ''} In words: ${this.count} ${items}, in ${more ? `more than ${MAX_RUNS}` : runs.length} runs of one kind${per > 1 ? `; each square holds ${per} of them and is named by the strongest kind among them` : ''}.`;
    const head = document.createElement('thead');
    const th = (/** @type {string} */ t) => Object.assign(cell('th', t), { scope: 'col' });
    head.append(row(th(items[0].toUpperCase() + items.slice(1)), th('Count'), th('Kind')));
    const body = document.createElement('tbody');
    for (const [first, last, s] of runs) {
      body.append(row(Object.assign(cell('th', last - first > 1 ? `${first}–${last - 1}` : String(first)), { scope: 'row' }), cell('td', String(last - first)), cell('td', kind(s))));
    }
    if (more) body.append(row(cell('th', 'the rest'), cell('td', String(Math.max(0, this.count - (runs.at(-1)?.[1] ?? 0)))), cell('td', `${more} more squares, not listed here: the legend counts every kind`)));
    this.runs.replaceChildren(caption, head, body);
  }

  /**
   * Outlines the cells holding items `items` (none: nothing outlined).
   * @param {number[]} items
   */
  mark(items) {
    this.marked = items;
    this.paint();
  }

  /** Puts the cached image back and draws the marks and the cursor. */
  paint() {
    if (!this.image) return;
    const ctx = this.context();
    ctx.putImageData(this.image, 0, 0);
    if (this.marked.length) {
      const { cell, cols, per } = this.lay;
      ctx.lineWidth = 2;
      ctx.strokeStyle = getComputedStyle(this.canvas).getPropertyValue('--marked') || '#fc0';
      for (const c of new Set(this.marked.map((i) => Math.floor(i / per)))) {
        ctx.strokeRect((c % cols) * cell, Math.floor(c / cols) * cell, Math.max(cell, 3), Math.max(cell, 3));
      }
    }
    if (this.cursor >= 0 && this.cursor < this.lay.cells) {
      const { cell, cols } = this.lay;
      const x = (this.cursor % cols) * cell;
      const y = Math.floor(this.cursor / cols) * cell;
      const size = Math.max(cell, 3);
      ctx.lineWidth = 2;
      ctx.strokeStyle = getComputedStyle(this.canvas).getPropertyValue('--cursor') || '#f0a';
      ctx.strokeRect(x - 1, y - 1, size + 1, size + 1);
    }
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.runsBox.remove();
  }
}

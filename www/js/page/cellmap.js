// A map of many cells on one canvas (a BAT of a million blocks, a provenance map, a sector
// bitmap): no DOM node per cell. Cells are squares laid out in rows; when there are more cells
// than pixels, several items share a cell and it shows the strongest state among them. Hover and
// click report the items under the pointer; arrow keys move a cursor, Enter picks.

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

/**
 * What a CellMap shows and whom it tells. state(i): a small integer per item, higher wins when
 * items share a cell; colors()[state].
 * @typedef {{ state(i:number):number, colors: () => Uint32Array, onHover?(first:number,last:number|null):void,
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
    const ctx = this.context();
    const image = ctx.createImageData(w, h);
    const px = new Uint32Array(image.data.buffer);
    const colors = this.opts.colors();
    const state = this.opts.state;
    const gap = cell >= 4 ? 1 : 0; // a hairline between cells when they are big enough
    for (let c = 0; c < cells; c++) {
      let s = 0;
      const first = c * per;
      const last = Math.min(this.count, first + per);
      for (let i = first; i < last; i++) {
        const v = state(i);
        if (v > s) s = v;
      }
      const color = colors[s];
      const x0 = (c % cols) * cell;
      const y0 = Math.floor(c / cols) * cell;
      for (let y = y0; y < y0 + cell - gap; y++) {
        const row = y * w;
        for (let x = x0; x < x0 + cell - gap; x++) px[row + x] = color;
      }
    }
    this.image = image;
    this.paint();
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
  }
}

// A block up close: one cell per sector. Its sector bitmap in one file (bit set: the file holds
// the sector), and for the virtual disk which file each sector is read from.
import { h, fill, legend, cssColor, layerColor } from '../dom.js';
import { CellMap, rgba, layerPattern } from '../cellmap.js';
import { hex, humanSize } from '../../common/format.js';

/**
 * @import { CellMapOptions } from '../cellmap.js'
 * @import { ViewContext } from '../types.js'
 */

const SECTOR_ZERO = 255;
const SECTOR_MISSING = 254;

/**
 * Whether bit `s` of a sector bitmap is set: a VHD's bits run from the most significant bit of
 * each byte, a VHDX's from the least.
 * @param {Uint8Array} bitmap
 * @param {number} s
 * @param {boolean} [lsbFirst]
 */
function bitSet(bitmap, s, lsbFirst = false) {
  return (bitmap[s >> 3] & (lsbFirst ? 1 << (s & 7) : 0x80 >> (s & 7))) !== 0;
}

export class CloseupView {
  /**
   * @param {HTMLElement} el
   * @param {{ onSector: (sector: number) => void }} options
   */
  constructor(el, { onSector }) {
    this.el = el;
    this.onSector = onSector;
    /** @type {CellMap[] | undefined} */ this.maps;
    /** @type {[HTMLCanvasElement, number, CellMapOptions] | null | undefined} */ this.pending;
  }

  /**
   * Shows virtual `[start, start + len)` (`start` a multiple of the disk's sector size); with `layer` and `block`, also that block's bitmap in
   * that layer. `ctx`: { disk, names, signal }.
   * @param {ViewContext} ctx
   * @param {{ layer?: number | null, block?: number | null, start: number, len: number }} what
   */
  async show(ctx, { layer = null, block = null, start, len }) {
    const { disk, names, signal } = ctx;
    len = Math.min(len, disk.size - start);
    // Sectors are the disk's logical sectors (512 bytes, or a VHDX's 4096), as in the hex view
    // and in the core's answer of where each comes from.
    const ss = disk.sectorSize;
    const sectors = Math.ceil(len / ss);
    /** @type {HTMLElement[]} */
    const parts = [];
    const { range, bitmap, sources: src, dataOffset } = await disk.sectors({ layer, block, start, len }, { signal });
    if (signal?.aborted) return;
    const first = Math.floor(start / ss);
    const title = layer !== null && block !== null ? `Block ${block} of ${names[layer]}` : `Virtual bytes ${hex(start)}–${hex(start + len - 1)}`;
    parts.push(h('h3', {}, `${title}: virtual sectors ${first}–${first + sectors - 1}${ss === 512 ? '' : ` of ${ss} bytes`} (${humanSize(len)})`));

    if (layer !== null && block !== null) {
      const l = disk.layers[layer];
      // One bit per sector of the file's own size (a VHDX may have 4096-byte sectors).
      const bss = l.bitmapSectorSize;
      const bitsN = Math.ceil(len / bss);
      const lsb = l.bitmapLsbFirst;
      if (!range && dataOffset !== null) {
        parts.push(h('p', { class: 'verdict' }, `Block ${block} is stored whole in ${names[layer]} at file offset ${hex(dataOffset)}: every sector of it is in that file (it has no sector bitmap to read).`));
      } else if (!range) {
        parts.push(h('p', { class: 'verdict' }, `Block ${block} is not allocated in ${names[layer]}: none of its sectors are stored in that file.`));
      } else {
        const bits = /** @type {Uint8Array} */ (bitmap); // read with its range above
        const data = dataOffset ?? range.offset + range.len;
        let set = 0;
        for (let s = 0; s < bitsN; s++) if (bitSet(bits, s, lsb)) set++;
        const what = bss !== ss ? `${bss}-byte sectors` : 'sectors';
        parts.push(h('p', {}, `Sector bitmap at file offset ${hex(range.offset)} (${range.len} bytes): `, h('strong', {}, `${set} of ${bitsN}`), ` ${what} are stored in ${names[layer]}${set < bitsN ? '; the others read as ' + (disk.layerCount > layer + 1 || ctx.parentMissing ? 'the parent’s' : 'zeros') : ''}. One square per sector; ${lsb ? 'least' : 'most'} significant bit of the first byte first.`));
        parts.push(h('div', { class: 'legend' }, legend([[layerColor(layer, this.el), 'bit set: stored in this file'], [cssColor('--unalloc', this.el), 'bit clear', '', 1]])));
        const canvas = h('canvas', { 'aria-label': `Sector bitmap of block ${block}` });
        const hover = h('p', { class: 'hover', 'aria-live': 'polite' });
        parts.push(h('div', { class: 'mapbox' }, canvas), hover);
        this.pending = [canvas, bitsN, {
          maxHeight: 260,
          state: (s) => (bitSet(bits, s, lsb) ? 2 : 1),
          colors: () => new Uint32Array([rgba(cssColor('--bg', this.el)), rgba(cssColor('--unalloc', this.el)), rgba(layerColor(layer, this.el))]),
          // As the bitmap's SVG picture (src/draw/bitmap.rs): a clear bit hatched.
          patterns: () => [0, 1, 0],
          kind: (s) => (s === 2 ? 'bit set: stored in this file' : 'bit clear: not in this file'),
          items: 'sectors of the block',
          onHover: (a) => {
            if (a >= 0) hover.textContent = `Sector ${a} of the block (virtual sector ${Math.floor((start + a * bss) / ss)}): bit ${bitSet(bits, a, lsb) ? 'set: stored at file offset ' + hex(data + a * bss) : 'clear: not in this file'}. Click for its bytes.`;
          },
          onPick: (a) => this.onSector(Math.floor((start + a * bss) / ss)),
        }];
      }
    }

    const L = disk.layerCount;
    /** @type {Map<number, number>} */
    const counts = new Map();
    /** @param {number} s sector s of the range: where it comes from */
    const at = (s) => src[s];
    for (let s = 0; s < sectors; s++) counts.set(at(s), (counts.get(at(s)) || 0) + 1);
    /** @param {number} v */
    const name = (v) => (v === SECTOR_ZERO ? 'zeros' : v === SECTOR_MISSING ? 'missing parent' : names[v] ?? `layer ${v}`);
    parts.push(h('h4', {}, 'Where each sector is read from'));
    /** @type {Parameters<typeof legend>[0]} */
    const items = [];
    for (let k = 0; k < L; k++) if (counts.get(k)) items.push([layerColor(k, this.el), `${names[k]}: ${counts.get(k)}`, '', layerPattern(k)]);
    if (counts.get(SECTOR_ZERO)) items.push([cssColor('--zero', this.el), `zeros: ${counts.get(SECTOR_ZERO)}`, '', 3]);
    if (counts.get(SECTOR_MISSING)) items.push([cssColor('--missing', this.el), `missing parent: ${counts.get(SECTOR_MISSING)}`, '', 5]);
    parts.push(h('div', { class: 'legend' }, legend(items)));
    const canvas2 = h('canvas', { 'aria-label': 'Which file each sector comes from' });
    const hover2 = h('p', { class: 'hover', 'aria-live': 'polite' });
    parts.push(h('div', { class: 'mapbox' }, canvas2), hover2);
    /** @param {number} v */
    const stateOf = (v) => (v === SECTOR_ZERO ? 1 : v === SECTOR_MISSING ? 2 + L : 2 + Math.min(v, L - 1));
    const colors = [rgba(cssColor('--bg', this.el)), rgba(cssColor('--zero', this.el))];
    for (let k = 0; k < L; k++) colors.push(rgba(layerColor(k, this.el)));
    colors.push(rgba(cssColor('--missing', this.el)));
    fill(this.el, parts);
    if (this.maps) this.maps.forEach((m) => m.destroy());
    this.maps = [];
    if (this.pending) {
      const [c, n, opts] = this.pending;
      this.pending = null;
      const m = new CellMap(c, opts);
      m.setCount(n);
      this.maps.push(m);
    }
    const m2 = new CellMap(canvas2, {
      maxHeight: 260,
      state: (s) => stateOf(at(s)),
      colors: () => new Uint32Array(colors),
      // As the provenance map's: zeros lined, each layer its pattern, the missing parent a grid.
      patterns: () => [0, 3, ...Array.from({ length: L }, (_, k) => layerPattern(k)), 5],
      kind: (s) => (s === 1 ? 'zeros' : s === 2 + L ? 'missing parent' : names[s - 2] ?? `layer ${s - 2}`),
      items: 'sectors',
      onHover: (a) => {
        if (a >= 0) hover2.textContent = `Virtual sector ${first + a}: ${name(at(a))}. Click for its bytes.`;
      },
      onPick: (a) => this.onSector(first + a),
    });
    m2.setCount(sectors);
    this.maps.push(m2);
  }
}

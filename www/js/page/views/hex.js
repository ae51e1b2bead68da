// Hex view: a virtual disk sector read through the chain, with the file it came from; or any
// bytes of one of the files (where the findings point).
import { h, fill } from '../dom.js';
import { hex, hexRows, FS_WORDS } from '../../common/format.js';

/**
 * @import { DiskOwner, MissingExtent, Unreadable } from '../../common/types.js'
 * @import { ViewContext } from '../types.js'
 */
/** @typedef {MissingExtent & { why?: Unreadable | null }} ExplainedMissing */

/**
 * Renders a dump of `bytes` starting at `base`; bytes in [markFrom, markTo) are highlighted.
 * @param {Element} el
 * @param {Uint8Array} bytes
 * @param {number} base
 * @param {{ markFrom?: number, markTo?: number, missing?: [start: number, end: number][] }} [marks]
 */
export function dump(el, bytes, base, { markFrom = -1, markTo = -1, missing = [] } = {}) {
  /** @param {number} o */
  const isMissing = (o) => missing.some(([a, b]) => o >= a && o < b);
  const rows = hexRows(bytes, base).map((r) =>
    h('div', { class: 'row' },
      h('span', { class: 'off' }, r.offset.toString(16).padStart(12, '0')),
      h('span', { class: 'hexes' }, r.hex.map((x, i) => {
        const o = r.offset + i;
        const cls = (o >= markFrom && o < markTo ? 'mark ' : '') + (isMissing(o) ? 'gone' : '');
        return h('span', cls ? { class: cls } : {}, isMissing(o) ? '··' : x);
      })),
      h('span', { class: 'ascii' }, r.ascii)));
  fill(el, rows);
}

/**
 * Why a `missing` extent cannot be read, as the core answers it (a block of a file cut short: its
 * bitmap or data lies past the end of the file; or the parent of a differencing disk, not given),
 * in words with the files' names.
 * @param {ViewContext} ctx
 * @param {ExplainedMissing} e
 */
function missingWords(ctx, e) {
  const { names } = ctx;
  const u = e.why ?? null;
  if (!u) return 'cannot be read';
  const name = names[u.layer];
  switch (u.why) {
    case 'parent': return `cannot be read: it is in the parent of ${name}, which was not given`;
    case 'bitmap': return `block ${u.block} of ${name} cannot be read: its sector bitmap at byte ${hex(u.file_offset)} lies past the end of the file`;
    case 'data': return `block ${u.block} of ${name} cannot be read: its data at byte ${hex(u.file_offset)} lies past the end of the file`;
    default: return `cannot be read: ${name} is cut short (its data at byte ${hex(u.file_offset)} lies past the end of the file)`;
  }
}

/**
 * Reads and shows virtual sector `sector`, in the disk's logical sectors (`disk.sectorSize`: 512,
 * or a VHDX's 4096). Returns the extents.
 * @param {ViewContext} ctx
 * @param {number} sector
 * @param {HTMLElement} sourceEl
 * @param {Element} dumpEl
 * @param {[from: number, to: number]} [mark] virtual bytes marked
 */
export async function showVirtualSector(ctx, sector, sourceEl, dumpEl, mark) {
  const { disk, names, signal } = ctx;
  const size = disk.sectorSize;
  const offset = sector * size;
  const { bytes, extents } = await disk.readWithExtents(offset, size, { signal });
  const words = extents.map((e) => {
    const span = extents.length > 1 ? `bytes ${e.offset - offset}–${e.offset - offset + e.len - 1}: ` : '';
    if (e.kind === 'zero') return `${span}zeros (never written${disk.layerCount > 1 ? ' in any file of the chain' : ''})`;
    if (e.kind === 'missing') return `${span}${missingWords(ctx, e)}`;
    return `${span}read from ${names[e.layer]}${disk.layerCount > 1 ? ` (layer ${e.layer})` : ''} at file offset ${hex(e.fileOffset)}${e.short ? `, but the file ends ${e.short} bytes early` : ''}`;
  });
  // A sector other than 512 bytes says its size (a VHDX's 4096-byte logical sectors).
  const unit = size === 512 ? '' : `${size}-byte sector, `;
  fill(sourceEl, h('strong', {}, `Virtual sector ${sector}`), ` (${unit}bytes ${hex(offset)}–${hex(offset + size - 1)}): `, words.join('; '), '.');
  sourceEl.dataset.sectorSize = String(size);
  sourceEl.dataset.offset = String(offset);
  sourceEl.dataset.layer = String(extents.find((e) => e.kind === 'data')?.layer ?? '');
  sourceEl.dataset.kind = extents.map((e) => e.kind).join(',');
  const missing = extents.filter((e) => e.kind === 'missing').map((e) => /** @type {[number, number]} */ ([e.offset, e.offset + e.len]));
  dump(dumpEl, bytes, offset, { missing, markFrom: mark?.[0], markTo: mark?.[1] });
  return extents;
}

/**
 * Reads and shows 512 bytes of a file around `offset` (aligned down to 16), marking `mark`.
 * @param {ViewContext} ctx
 * @param {number} layer
 * @param {number} offset
 * @param {HTMLElement} sourceEl
 * @param {Element} dumpEl
 */
export async function showFileBytes(ctx, layer, offset, sourceEl, dumpEl, markLen = 1) {
  const { disk, names, signal } = ctx;
  const src = disk.layers[layer];
  const start = Math.max(0, Math.min(Math.floor(offset / 16) * 16 - 128, Math.max(0, src.byteLength - 512)));
  const bytes = await disk.readFile(layer, start, start + 512, { signal });
  fill(sourceEl, h('strong', {}, names[layer]), `: file bytes ${hex(start)}–${hex(start + bytes.length - 1)} of ${src.byteLength}`, offset >= 0 ? `; byte ${hex(offset)} highlighted` : '', '.');
  sourceEl.dataset.layer = String(layer);
  sourceEl.dataset.kind = 'file';
  dump(dumpEl, bytes, start, { markFrom: offset, markTo: offset + markLen });
}

/**
 * The volume an owner lies in, in words: "the NTFS volume in partition 2", "the ext4 volume in
 * logical volume vg/root (partition 3)".
 * @param {DiskOwner} o
 */
function volumeWords(o) {
  const fs = o.filesystem ? `${FS_WORDS[o.filesystem] ?? o.filesystem} volume` : 'volume';
  return `the ${fs} in ${o.volume ? `logical volume ${o.volume} (partition ${o.partition})` : `partition ${o.partition}`}`;
}

/**
 * Says in `el` who owns the sector shown, as `vhd-viewer owner --json` answers it (`o`): a file
 * with the sector's bytes in it, a folder, a file-system structure, free space, or no partition;
 * a file's or folder's path is a button that `open` opens in the files view (in its partition or
 * logical volume). The answer's fields are kept in `el.dataset`.
 * @param {HTMLElement} el
 * @param {DiskOwner} o
 * @param {(o: DiskOwner) => void} open
 */
export function showOwner(el, o, open) {
  const gone = o.deleted ? 'deleted ' : '';
  const link = () => h('button', { type: 'button', class: 'link', 'data-action': 'open-owner', 'aria-label': `Open ${o.path} in the file browser`, onclick: () => open(o) }, o.path);
  const bytes = o.file_offset === null ? '' : `, bytes ${o.file_offset}–${o.file_offset + o.sector_size - 1} of it`;
  const lead = h('strong', {}, 'Owner: ');
  switch (o.kind) {
    case 'file':
    case 'dir':
      fill(el, lead, `the ${gone}${o.kind === 'dir' ? 'folder' : 'file'} `, o.path && o.partition !== null ? link() : o.what, `${bytes}, in ${volumeWords(o)}.`);
      break;
    case 'structure':
      fill(el, lead, o.partition === null ? `${o.what} (outside any partition).` : `${o.what}${bytes}: a structure of ${volumeWords(o)}.`);
      break;
    case 'free':
      fill(el, lead, `free space of ${volumeWords(o)} (${o.what}).`);
      break;
    case 'outside':
      fill(el, lead, `none: ${o.what}.`);
      break;
    default:
      fill(el, lead, `unknown: ${o.what}.`);
  }
  const n = (/** @type {number | null} */ v) => (v === null ? '' : String(v));
  Object.assign(el.dataset, {
    state: 'done', kind: o.kind, path: o.path ?? '', what: o.what, partition: n(o.partition), volume: o.volume ?? '',
    filesystem: o.filesystem ?? '', fileOffset: n(o.file_offset), deleted: String(o.deleted), sector: String(o.sector),
  });
}

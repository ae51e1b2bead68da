// Summary, footer, footer copy, dynamic header and parent locators: every field with its offset,
// raw bytes, decoded value and a one-line explanation.
import { h, field, fill } from '../dom.js';
import { hex, humanSize } from '../../common/format.js';
import { fitPart } from './fit.js';

/** @import { Field, FitReport, Info, LayerStructures } from '../../common/types.js' */

const SIZE_KEYS = new Set(['file_size', 'current_size', 'original_size', 'geometry_size', 'block_size', 'bitmap_size']);
const OFFSET_KEYS = new Set(['footer_offset', 'header_offset', 'table_offset']);

/**
 * [key, label, what it means] for the summary, in the order shown.
 * @type {[key: keyof Info, label: string, what: string][]}
 */
const SUMMARY = [
  ['file', 'File', 'The file as you gave it.'],
  ['file_size', 'File size', 'How many bytes the file takes on disk.'],
  ['disk_type', 'Disk type', 'Fixed: all space reserved up front. Dynamic: grows as data is written. Differencing: only the changes to a parent disk.'],
  ['current_size', 'Virtual disk size', 'How big the disk looks to the computer using it.'],
  ['original_size', 'Size when created', 'The size the disk was made with.'],
  ['geometry_size', 'Size by the CHS geometry', 'Old programs size the disk by cylinders × heads × sectors; it may be a little less.'],
  ['timestamp', 'Created', 'When the disk was made (UTC).'],
  ['creator_application', 'Made by', 'A four-letter code of the program that made the disk.'],
  ['creator_version', 'Program version', ''],
  ['creator_host_os', 'On system', '“Wi2k” means Windows, “Mac ” a Macintosh.'],
  ['unique_id', 'Unique id', 'The disk’s identity; a differencing disk names its parent by it.'],
  ['checksum_valid', 'Footer checksum correct', 'Whether the footer is intact.'],
  ['footer_source', 'Footer read from', '“end”: the normal place. “copy”: the end is damaged, the copy at the start was used.'],
  ['footer_offset', 'Footer at byte', ''],
  ['saved_state', 'Saved state', '1 when a virtual machine was suspended while using the disk.'],
  ['header_offset', 'Dynamic header at byte', ''],
  ['header_checksum_valid', 'Header checksum correct', 'Whether the dynamic header is intact.'],
  ['block_size', 'Block size', 'The disk is stored in blocks of this size, each allocated the first time something is written to it.'],
  ['table_offset', 'Block table (BAT) at byte', ''],
  ['max_table_entries', 'Block table entries', ''],
  ['bat_entries', 'Block table entries read', 'As many as the disk needs.'],
  ['allocated_blocks', 'Blocks stored in this file', ''],
  ['out_of_order_blocks', 'Blocks out of file order', 'Blocks stored before a block with a lower number: normal for a disk written in random order.'],
  ['bitmap_size', 'Sector bitmap per block', 'Before each block’s data: one bit per sector saying whether this file holds it.'],
  ['parent_unique_id', 'Parent’s unique id', 'The disk this differencing disk records changes to.'],
  ['parent_unicode_name', 'Parent’s file name', ''],
  ['parent_timestamp', 'Parent changed', 'When the parent was last changed, as the child recorded it.'],
  ['parent_missing', 'Parent missing', 'Whether this differencing disk’s parent was not among the files given.'],
];

/**
 * @param {string} key
 * @param {unknown} v
 */
function extra(key, v) {
  if (SIZE_KEYS.has(key) && typeof v === 'number') return ` bytes (${humanSize(v)})`;
  if (OFFSET_KEYS.has(key) && typeof v === 'number') return ` (${hex(v)})`;
  if (typeof v === 'boolean') return v ? ' ✓' : ' ✗';
  return '';
}

/**
 * The summary's fields (folded: the first screen is the System card and the verdicts), then
 * whether Azure takes the disk (when `fit` is given).
 * @param {Element} el
 * @param {Info} info
 * @param {FitReport | null} [fit]
 */
export function renderSummary(el, info, fit = null) {
  const isDiff = info.disk_type === 'differencing';
  const rows = SUMMARY.filter(([k]) => info[k] !== undefined && (isDiff || !k.startsWith('parent_')));
  fill(
    el,
    h('details', { class: 'fold summary-fields' },
      h('summary', {}, `The disk’s ${rows.length} fields: type, sizes, creator, ids, checksums…`),
      h('dl', { class: 'summary' }, rows.map(([k, label, what]) =>
      h('div', { class: 'row' + (info[k] === false && k.endsWith('valid') ? ' bad' : '') },
        h('dt', { title: what }, label),
        h('dd', {}, field(k, info[k]), extra(k, info[k]), what ? h('span', { class: 'explain' }, what) : null))))),
    fit ? fitPart(fit) : null,
  );
}

/**
 * A table of field rows (from `fields` arrays); `prefix` is their path in the info JSON.
 * @param {{ f: Field, i: number }[]} rows
 * @param {string} prefix
 * @param {string} caption
 * @param {{ differs?: string[], base?: number }} [options]
 */
function fieldTable(rows, prefix, caption, { differs = [], base = 0 } = {}) {
  return h('table', { class: 'fields' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Offset'), h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Raw bytes (hex)'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', {}, rows.map(({ f, i }) =>
      h('tr', { class: (f.ok ? '' : 'bad ') + (differs.includes(f.key) ? 'differs' : ''), dataset: { offset: f.offset, size: f.size } },
        h('td', { class: 'mono' }, hex(f.offset, 8), h('span', { class: 'rel' }, ` +${f.offset - base}`)),
        h('th', { scope: 'row', title: f.explain }, f.name, h('span', { class: 'explain' }, f.explain)),
        h('td', { class: 'mono raw' }, field(`${prefix}.${i}.raw`, f.raw, 'span', { class: 'bytes' })),
        h('td', {}, field(`${prefix}.${i}.value`, f.value),
          f.ok ? null : h('span', { class: 'flag', title: 'wrong by the spec' }, ' ⚠ wrong by the spec'),
          differs.includes(f.key) ? h('span', { class: 'flag' }, ' ≠ differs from the footer at the end') : null)))));
}

/**
 * @param {Element} el
 * @param {LayerStructures} info the file's info, or its structures before its block table is read
 */
export function renderStructures(el, info) {
  if (info.format === 'vhdx') {
    renderVhdxStructures(el, info);
    return;
  }
  const fo = info.footer_offset;
  const indexed = info.fields.map((f, i) => ({ f, i }));
  const footer = indexed.filter(({ f }) => f.offset >= fo && f.offset < fo + 512);
  const header = indexed.filter(({ f }) => !(f.offset >= fo && f.offset < fo + 512));
  const parts = [];
  parts.push(h('h3', {}, `Footer (${info.footer_source === 'end' ? 'at the end of the file' : info.footer_source === 'copy' ? 'the copy at the start: the end one is damaged' : '511 bytes at the end, as early Virtual PC wrote it'})`));
  parts.push(h('p', { class: 'verdict ' + (info.checksum_valid ? 'good' : 'bad') }, 'Checksum: ', field('checksum_valid', info.checksum_valid, 'span', {}, ['correct', 'WRONG: the footer is damaged; its values may be wrong'])));
  parts.push(fieldTable(footer, 'fields', `The 512-byte footer at byte ${hex(fo)}`, { base: fo }));

  const copy = info.footer_copy;
  if (copy) {
    const diffs = copy.differences || [];
    parts.push(h('h3', {}, 'Copy of the footer at the start of the file'));
    parts.push(h('p', { class: 'verdict ' + (copy.identical ? 'good' : 'bad') },
      copy.identical ? 'Identical to the footer at the end' : diffs.length ? 'Differs from the footer at the end in: ' : 'Not identical to the footer at the end',
      diffs.length ? field('footer_copy.differences', diffs) : null,
      ' (', field('footer_copy.identical', copy.identical, 'span', {}, ['identical to the footer', 'different from the footer']), '; its checksum is ', field('footer_copy.checksum_valid', copy.checksum_valid, 'span', {}, ['correct', 'wrong']), ')'));
    // Identical to the footer: its table folded, a click away; different: open, its differences marked.
    parts.push(h('details', { class: 'fold footer-copy', open: !copy.identical },
      h('summary', {}, copy.identical ? 'Identical to the footer: show its fields anyway' : 'Its fields'),
      fieldTable(copy.fields.map((f, i) => ({ f, i })), 'footer_copy.fields', 'The copy at byte 0', { differs: diffs, base: 0 })));
  }
  if (info.header_offset !== undefined) {
    parts.push(h('h3', {}, 'Dynamic disk header'));
    parts.push(h('p', { class: 'verdict ' + (info.header_checksum_valid ? 'good' : 'bad') }, 'Checksum: ', field('header_checksum_valid', info.header_checksum_valid, 'span', {}, ['correct', 'WRONG: the header is damaged'])));
    parts.push(fieldTable(header, 'fields', `The 1024-byte header at byte ${hex(info.header_offset)}`, { base: info.header_offset }));
    const locs = info.parent_locators || [];
    if (locs.length) {
      parts.push(h('h3', {}, 'Parent locators'));
      parts.push(h('p', { class: 'lead' }, 'Where the parent disk was when this disk was made, written in several ways.'));
      locs.forEach((l, n) => {
        parts.push(h('div', { class: 'locator' },
          h('h4', {}, `Locator ${l.index}: `, field(`parent_locators.${n}.platform_code`, l.platform_code, 'code'), ' → ',
            l.path === null ? h('span', { class: 'bad' }, 'unreadable') : field(`parent_locators.${n}.path`, l.path, 'code', { class: 'path' }),
            l.path_valid ? '' : h('span', { class: 'flag' }, ' ⚠ not valid text')),
          fieldTable(l.fields.map((f, i) => ({ f, i })), `parent_locators.${n}.fields`, `Entry at byte ${hex(l.offset)}`, { base: l.offset })));
      });
    } else if (info.disk_type === 'differencing') {
      parts.push(h('p', { class: 'verdict bad' }, 'This differencing disk has no parent locators: its parent can only be found by its name.'));
    }
  }
  fill(el, parts);
}

/**
 * Marks the field rows that contain file offset `offset`; returns the first.
 * @param {Element} el
 * @param {number | null} offset
 */
export function highlightOffset(el, offset) {
  /** @type {HTMLTableRowElement | null} */
  let first = null;
  for (const tr of /** @type {NodeListOf<HTMLTableRowElement>} */ (el.querySelectorAll('tr[data-offset]'))) {
    const o = Number(tr.dataset.offset);
    const hit = offset !== null && offset >= o && offset < o + Number(tr.dataset.size);
    tr.classList.toggle('here', hit);
    if (hit && !first) {
      first = tr;
      // A folded table (the footer copy's) opens to show it.
      const fold = tr.closest('details');
      if (fold) fold.open = true;
    }
  }
  return first;
}

/**
 * A VHDX's structures, each as a table of its fields (the file type identifier, both headers,
 * both region tables, the metadata table and its items), as `info --json` lists them.
 * @param {Element} el
 * @param {LayerStructures} info
 */
function renderVhdxStructures(el, info) {
  const list = info.structures ?? [];
  const parts = [
    h('p', { class: 'verdict ' + (info.headers_valid?.every(Boolean) ? 'good' : 'bad') },
      `Header ${Number(info.current_header) + 1} is current (the valid one with the larger sequence number). `,
      info.log_dirty ? (info.log_replayed ? 'The log was not empty (the disk was not closed cleanly): it was replayed in memory, the file was not changed.' : 'The log was not empty and could not be replayed: the disk is read as stored.') : 'The log is empty: the disk was closed cleanly.'),
  ];
  list.forEach((st, n) => {
    parts.push(h('h3', {}, st.name));
    parts.push(fieldTable(st.fields.map((f, i) => ({ f, i })), `structures.${n}.fields`, `At byte ${hex(st.offset)}`, { base: st.offset }));
  });
  fill(el, parts);
}

// The Changes view: what a differencing disk changed, file by file (the core's diff, the same
// answer as `vhd-viewer diff --json`): a bar of where the child's bytes went, and a table of the
// changed files that sorts and filters; a row picked is shown by the caller (its file panel, its
// sectors on the provenance map). Exports the answer as JSON and the table as CSV.
import { h, fill, cssColor } from '../dom.js';
import { humanSize } from '../../common/format.js';

/** @import { DiffChange, DiffReport, Rebase, SystemSource } from '../../common/types.js' */

/** The table's columns: [key, heading]. */
const COLUMNS = /** @type {const} */ ([
  ['kind', 'Change'],
  ['path', 'Path'],
  ['size', 'Size'],
  ['bytes_held', 'Bytes held'],
  ['identical_bytes', 'Identical to the parent'],
]);

/** Plain words for each kind of change. */
const KIND_WORDS = {
  added: 'added',
  deleted: 'deleted',
  modified: 'modified',
  renamed: 'renamed',
  metadata: 'times or attributes only',
  transient: 'created and deleted meanwhile',
};

/** @typedef {DiffChange & { partition: number, filesystem: string | null }} Row */

/**
 * The rows of a report: every change of every partition.
 * @param {DiffReport} report
 * @returns {Row[]}
 */
export function changeRows(report) {
  return report.partitions.flatMap((p) => p.changes.map((c) => ({ ...c, partition: p.index, filesystem: p.filesystem })));
}

/**
 * The rows as CSV (RFC 4180: fields quoted where they need it).
 * @param {Row[]} rows
 */
export function changesCsv(rows) {
  /** @param {unknown} v */
  const q = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const keys = ['partition', 'filesystem', 'kind', 'type', 'path', 'old_path', 'content_changed', 'size', 'old_size', 'bytes_held', 'identical_bytes', 'noise', 'links'];
  const cell = (/** @type {unknown} */ v) => q(Array.isArray(v) ? v.join(' ') : v);
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell(/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (r))[k])).join(','))].join('\r\n') + '\r\n';
}

/**
/**
 * Where the held bytes went (the core's five sums, VhdDisk.destinations, in its order), those not
 * empty: [label, bytes, css colour variable, pattern], the colours and patterns of the core's
 * Changes bar (src/draw/changes.rs; the patterns numbered as cellmap.js's patternTile).
 * @param {[string, number][]} sums
 * @returns {[string, number, string, number][]}
 */
export function destinations(sums) {
  const colours = ['--layer-0', '--layer-1', '--layer-2', '--layer-3', '--unalloc'];
  return sums.map(([label, bytes], i) => /** @type {[string, number, string, number]} */ ([label, bytes, colours[i], i])).filter(([, b]) => b > 0);
}

/**
 * What the newer layer changed in the operating systems (a program installed, a user added, the
 * computer name), as the core's diff says them, each with a link to the file it was read from;
 * nothing when the systems' files did not change.
 * @param {DiffReport} report
 * @param {((partition: number, source: SystemSource) => void) | undefined} onSource
 */
function systemChanges(report, onSource) {
  const list = report.systems ?? [];
  if (!list.length) return null;
  return h('section', { class: 'system-changes', 'data-field': 'systems', 'aria-label': 'What changed in the systems' },
    h('h3', {}, `In the system${new Set(list.map((c) => c.partition)).size > 1 ? 's' : ''} (${list.length})`),
    h('ul', {}, list.map((c) => {
      const src = c.source;
      return h('li', { 'data-kind': c.kind, 'data-partition': String(c.partition) },
        c.message, ` (partition ${c.partition})`,
        src && onSource ? [' ', h('button', { type: 'button', class: 'link', 'data-action': 'source', 'data-path': src.path, title: [src.path, src.key, src.value].filter(Boolean).join(' › '), onclick: () => onSource(c.partition, src) }, 'show the file')] : null);
    })));
}

export class ChangesView {
  /**
   * @param {HTMLElement} root
   * @param {{ onPick: (row: Row) => void, onSave: (blob: Blob, name: string) => void, onFilter?: (text: string) => void, onSource?: (partition: number, source: SystemSource) => void }} options
   */
  constructor(root, { onPick, onSave, onFilter, onSource }) {
    this.root = root;
    this.onSource = onSource;
    this.onPick = onPick;
    this.onSave = onSave;
    this.onFilter = onFilter;
    /** @type {Row[]} */ this.rows = [];
    /** @type {DiffReport | null} */ this.report = null;
    this.sort = { key: 'bytes_held', asc: false };
    this.filter = { text: '', kind: '' };
    this.baseName = 'changes';
  }

  /**
   * Says something instead of a report (before the first comparison, or why it failed).
   * @param {string} text
   * @param {string} [kind]
   */
  message(text, kind = 'empty') {
    this.report = null;
    fill(this.root, h('p', { class: kind }, text));
    this.root.dataset.state = kind === 'empty' ? 'idle' : 'error';
  }

  /**
   * Shows `report`, what layer `to` changed over layer `from` (`what` says it in words), and where
   * its held bytes went (`sums`: VhdDisk.destinations).
   * @param {DiffReport} report
   * @param {string} what
   * @param {string} baseName for the files saved
   * @param {[string, number][]} sums
   */
  show(report, what, baseName, sums) {
    this.report = report;
    this.rows = changeRows(report);
    this.baseName = baseName;
    const el = this.root;
    const total = Math.max(1, report.held_bytes);
    const dest = destinations(sums);
    // Two disks that are not one chain: the bytes are those allocated in either, and "identical" compares the two disks.
    const unrelated = report.mode === 'unrelated';
    const held = unrelated ? 'allocated in either disk' : 'the newer layers hold';
    const bar = h('div', { class: 'stack', role: 'img', 'data-field': 'destinations', 'aria-label': `Where the ${humanSize(report.held_bytes)} ${held} went: ${dest.map(([l, b]) => `${l} ${humanSize(b)}`).join(', ')}` },
      dest.map(([label, bytes, color, p]) => h('span', { class: `seg p${p}`, title: `${label}: ${humanSize(bytes)}`, style: `flex-grow:${bytes / total};background-color:${cssColor(color, el)}` })));
    const legend = h('ul', { class: 'legend' }, dest.map(([label, bytes, color, p]) =>
      h('li', {}, h('span', { class: `swatch p${p}`, style: `background-color:${cssColor(color, el)}` }), `${label}: ${humanSize(bytes)} (${Math.round((bytes / total) * 100)} %)`)));
    const identical = h('p', { 'data-field': 'identical' },
      unrelated
        ? `${humanSize(report.identical_bytes)} of the ${humanSize(report.held_bytes)} allocated in either disk (${Math.round((report.identical_bytes / total) * 100)} %) are the same in both. `
        : `${humanSize(report.identical_bytes)} of the ${humanSize(report.held_bytes)} held (${Math.round((report.identical_bytes / total) * 100)} %) are identical to what the older layer has there: written again unchanged. `,
      `To answer, ${humanSize(report.bytes_read)} of the disks were read.`);
    const errors = report.partitions.filter((p) => p.error).map((p) => h('p', { class: 'message warning' }, `Partition ${p.index}: ${p.error}`));
    const textFilter = h('input', { type: 'search', placeholder: 'Filter by path', 'aria-label': 'Filter by path', 'data-action': 'filter', value: this.filter.text });
    textFilter.addEventListener('input', () => {
      this.filter.text = textFilter.value;
      this.onFilter?.(textFilter.value);
      this.renderRows();
    });
    const kinds = [...new Set(this.rows.map((r) => r.kind))].sort();
    const kindFilter = h('select', { 'aria-label': 'Kind of change', 'data-action': 'kind' }, h('option', { value: '' }, 'every kind'), kinds.map((k) => h('option', { value: k }, `${KIND_WORDS[k] ?? k} (${this.rows.filter((r) => r.kind === k).length})`)));
    kindFilter.value = this.filter.kind;
    kindFilter.addEventListener('change', () => {
      this.filter.kind = kindFilter.value;
      this.renderRows();
    });
    const saveJson = h('button', { type: 'button', 'data-action': 'save-json' }, 'Save as JSON');
    saveJson.addEventListener('click', () => this.onSave(new Blob([JSON.stringify(report, null, 2) + '\n'], { type: 'application/json' }), `${this.baseName}.changes.json`));
    const saveCsv = h('button', { type: 'button', 'data-action': 'save-csv' }, 'Save the table as CSV');
    saveCsv.addEventListener('click', () => this.onSave(new Blob([changesCsv(this.rows)], { type: 'text/csv' }), `${this.baseName}.changes.csv`));
    this.head = h('tr');
    this.body = h('tbody');
    this.count = h('p', { class: 'small', 'data-field': 'count', 'aria-live': 'polite' });
    fill(el,
      h('p', { 'data-field': 'what' }, what),
      systemChanges(report, this.onSource),
      bar, legend, identical, errors,
      h('div', { class: 'controls' }, textFilter, kindFilter, saveJson, saveCsv),
      this.count,
      h('div', { class: 'table-wrap' }, h('table', { class: 'changes' }, h('caption', { class: 'visually-hidden' }, 'Changed files; click a heading to sort, a path to see the file'), h('thead', {}, this.head), this.body)));
    el.dataset.state = 'ready';
    this.renderRows();
  }

  /**
   * Shows whether a child can move to a new base (`vhd-viewer rebase-check --json`): the files
   * changed by the child only (they can be carried over), by the new base only, and by both.
   * @param {Rebase} r
   * @param {string} what
   * @param {string} baseName for the file saved
   */
  showRebase(r, what, baseName) {
    this.report = null;
    const save = h('button', { type: 'button', 'data-action': 'save-rebase' }, 'Save as JSON');
    save.addEventListener('click', () => this.onSave(new Blob([JSON.stringify(r, null, 2) + '\n'], { type: 'application/json' }), `${baseName}.rebase.json`));
    const words = (/** @type {string | null} */ k) => (k ? (KIND_WORDS[/** @type {keyof typeof KIND_WORDS} */ (k)] ?? k) : '—');
    const groups = /** @type {const} */ ([
      ['child_only', 'Changed by the child only: these can be carried onto the new base'],
      ['base_only', 'Changed by the new base only'],
      ['conflicts', 'Changed by both: conflicts, to be settled by hand'],
    ]);
    const verdict = r.conflicts.length
      ? `${r.conflicts.length} file${r.conflicts.length === 1 ? '' : 's'} changed by both: the child cannot simply move onto the new base.`
      : 'No file was changed by both: what the child changed can be carried onto the new base (this viewer reports; it does not write the rebased disk).';
    fill(this.root,
      h('p', { 'data-field': 'what' }, what),
      h('p', { 'data-field': 'verdict', class: r.conflicts.length ? 'bad' : '' }, verdict),
      h('div', { class: 'controls' }, save),
      groups.map(([key, label]) => h('section', { 'data-group': key },
        h('h3', {}, `${label} (${r[key].length})`),
        r[key].length
          ? h('div', { class: 'table-wrap' }, h('table', { class: 'changes' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col' }, 'The child'), h('th', { scope: 'col' }, 'The new base'))),
            h('tbody', {}, r[key].map((i) => h('tr', { 'data-path': i.path, 'data-partition': i.partition, class: i.noise ? 'noise' : '' },
              h('td', {}, i.path, i.noise ? h('span', { class: 'small noise-note' }, ` — ${i.noise}`) : null),
              h('td', { 'data-label': 'The child' }, words(i.child)),
              h('td', { 'data-label': 'The new base' }, words(i.base)))))))
          : h('p', { class: 'empty' }, 'None.'))));
    this.root.dataset.state = 'rebase';
  }

  /** The table's rows, filtered and sorted. */
  renderRows() {
    const { key, asc } = this.sort;
    fill(/** @type {HTMLElement} */ (this.head), COLUMNS.map(([k, label]) => {
      const b = h('button', { type: 'button', 'data-action': 'sort', 'data-sort': k }, label, k === key ? (asc ? ' ▲' : ' ▼') : '');
      b.addEventListener('click', () => {
        this.sort = { key: k, asc: k === key ? !asc : k === 'path' || k === 'kind' };
        this.renderRows();
      });
      return h('th', { scope: 'col', 'aria-sort': k === key ? (asc ? 'ascending' : 'descending') : 'none' }, b);
    }));
    const text = this.filter.text.toLowerCase();
    const rows = this.rows
      .filter((r) => (!this.filter.kind || r.kind === this.filter.kind) && (!text || r.path.toLowerCase().includes(text) || (r.old_path ?? '').toLowerCase().includes(text)))
      .sort((a, b) => {
        const x = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (a))[key];
        const y = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (b))[key];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return (asc ? c : -c) || a.path.localeCompare(b.path);
      });
    /** @type {HTMLElement} */ (this.count).textContent = `${rows.length} of ${this.rows.length} changes shown.`;
    fill(/** @type {HTMLElement} */ (this.body), rows.slice(0, 5000).map((r) => {
      const open = h('button', { type: 'button', class: 'link', 'data-action': 'pick' }, r.path);
      open.addEventListener('click', () => this.onPick(r));
      return h('tr', { 'data-path': r.path, 'data-kind': r.kind, 'data-partition': r.partition, class: r.noise ? 'noise' : '' },
        h('td', {}, KIND_WORDS[r.kind] ?? r.kind, r.kind === 'renamed' && r.content_changed ? ' and modified' : ''),
        h('td', {}, open, r.old_path && r.old_path !== r.path ? h('span', { class: 'small' }, ` (was ${r.old_path})`) : null,
          r.noise ? h('span', { class: 'small noise-note' }, ` — ${r.noise}`) : null,
          r.name_complete === false ? h('span', { class: 'small' }, ' — name partly recovered') : null,
          r.links?.length ? h('span', { class: 'small', 'data-field': 'links' }, ` — also ${r.links.join(', ')}`) : null),
        h('td', { title: `${r.size} bytes`, 'data-label': 'Size' }, r.type === 'dir' ? '' : humanSize(r.size)),
        h('td', { title: `${r.bytes_held} bytes`, 'data-field': 'bytes_held', 'data-label': 'Bytes held' }, humanSize(r.bytes_held)),
        h('td', { title: `${r.identical_bytes} bytes`, 'data-label': 'Identical to the parent' }, humanSize(r.identical_bytes)));
    }));
  }
}

// The search box: every place a word or bytes occur on the disk (`vhd-viewer search`), run in the
// disk's Worker a step at a time with progress and Stop, the hits listed as they come with the
// layer that supplies each and what owns it (a file and the offset in it, a deleted file, a
// file-system structure, free space, outside the partitions). A BitLocker volume unlocked in the
// file browser is searched in its plain bytes (its hits say "decrypted"). The disk is searched as
// of the layer its caller says (the file browser's). A hit's offset shows it in the hex view (and
// its file in the file browser, as of that layer); its path opens the file there.
import { h, fill } from '../dom.js';
import { hex, humanSize } from '../../common/format.js';

/**
 * @import { VhdDisk } from '../api.js'
 * @import { SearchHit } from '../../common/types.js'
 */

/**
 * `layer`: the layer of the chain the disk is searched as of (0: the whole chain). What the hits'
 * buttons do: `show` the hit in the hex view (and its file in the file browser, as of the layer
 * searched), `open` its file in the file browser.
 * @typedef {{ layer(): number, show(hit: SearchHit, layer: number): void, open(hit: SearchHit, layer: number): void }} SearchActions
 */

/** The most hits drawn: the rest are counted, not listed (a common word can hit millions of times). */
export const DRAWN = 1000;

/** What owns a hit, in words. */
const KIND = /** @type {Record<string, string>} */ ({
  file: 'file',
  'deleted file': 'deleted file',
  dir: 'folder',
  'deleted dir': 'deleted folder',
  structure: 'file-system structure',
  free: 'free space',
  outside: 'outside any partition',
  unknown: 'not known',
});

/** The encodings, in words. */
const ENCODING = /** @type {Record<string, string>} */ ({ 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16', bytes: 'bytes' });

export class SearchView {
  /**
   * @param {HTMLElement} root
   * @param {SearchActions} actions
   */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    /** @type {VhdDisk | null} */
    this.disk = null;
    /** @type {AbortController | null} the search running */
    this.ctrl = null;
    /** @type {SearchHit[]} the hits drawn */
    this.drawn = [];
    this.count = 0;
    /** the layer the last search ran as of */
    this.asOf = 0;
    const id = (/** @type {string} */ n) => `search-${n}`;
    this.pattern = h('input', { type: 'search', id: id('pattern'), name: 'pattern', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'a word, or bytes in hex' });
    this.text = h('input', { type: 'radio', name: 'search-kind', value: 'text', checked: true });
    this.hexKind = h('input', { type: 'radio', name: 'search-kind', value: 'hex' });
    this.utf16 = h('input', { type: 'checkbox', name: 'utf16' });
    this.ignoreCase = h('input', { type: 'checkbox', name: 'ignore-case' });
    this.layer = h('select', { name: 'only-layer' });
    this.run = h('button', { type: 'submit' }, 'Search');
    this.stop = h('button', { type: 'button', 'data-action': 'stop', hidden: true, onclick: () => this.ctrl?.abort(new DOMException('stopped', 'AbortError')) }, 'Stop');
    this.progress = h('progress', { max: '1', value: '0', hidden: true, 'aria-label': 'Searched' });
    this.status = h('p', { class: 'search-status', role: 'status' });
    this.body = h('tbody');
    this.table = h('table', { class: 'fields search-hits', hidden: true },
      h('caption', {}, 'Where the pattern occurs'),
      h('thead', {}, h('tr', {}, ...['Offset on the disk', 'Layer', 'Partition', 'Owner', 'In the file', 'As'].map((t) => h('th', { scope: 'col' }, t)))),
      this.body);
    /** @type {HTMLFormElement} */
    this.form = h('form', { class: 'controls search-form', role: 'search', onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      void this.search();
    } },
    h('label', { for: id('pattern') }, 'Find '), this.pattern,
    h('fieldset', { class: 'inline' }, h('legend', { class: 'visually-hidden' }, 'The pattern is'),
      h('label', {}, this.text, ' text'), h('label', {}, this.hexKind, ' bytes in hex')),
    h('label', {}, this.utf16, ' UTF-16 only'),
    h('label', {}, this.ignoreCase, ' ignore case'),
    h('label', {}, 'in ', this.layer),
    this.run, this.stop);
    for (const r of [this.text, this.hexKind]) r.addEventListener('change', () => this.kindChanged());
    fill(root, this.form, h('div', { class: 'search-progress' }, this.progress, this.status), h('div', { class: 'table-wrap' }, this.table));
    this.state('idle');
  }

  /** Text options only for a text. */
  kindChanged() {
    const bytes = this.hexKind.checked;
    this.utf16.disabled = bytes;
    this.ignoreCase.disabled = bytes;
  }

  /**
   * The view's state, for the page and its tests: idle, running, done, stopped or failed.
   * @param {'idle' | 'running' | 'done' | 'stopped' | 'failed'} s
   */
  state(s) {
    this.root.dataset.state = s;
    this.root.dataset.hits = String(this.count);
    const running = s === 'running';
    this.run.disabled = running || !this.disk;
    this.stop.hidden = !running;
    this.progress.hidden = !running;
  }

  /**
   * The disk searched from now on (null: none); a search of the one before stops.
   * @param {VhdDisk | null} disk
   */
  show(disk) {
    this.ctrl?.abort(new DOMException('another disk is shown', 'AbortError'));
    this.ctrl = null;
    this.disk = disk;
    this.drawn = [];
    this.count = 0;
    fill(this.body);
    this.table.hidden = true;
    const names = disk?.names ?? [];
    fill(this.layer, h('option', { value: '' }, names.length > 1 ? 'the whole chain' : 'the whole disk'),
      names.length > 1 ? names.map((n, i) => h('option', { value: String(i) }, `only what layer ${i} holds: ${n}`)) : []);
    this.layer.closest('label')?.toggleAttribute('hidden', names.length < 2);
    fill(this.status, disk ? 'Search the whole disk for a word (as UTF-8 and UTF-16 text) or for bytes written in hexadecimal. Each hit says which file of the chain holds it and what owns it. A chain is searched as of the layer the file browser shows.' : '');
    this.state('idle');
  }

  /** Runs the search the form says; the hits drawn as they come. */
  async search() {
    const d = this.disk;
    const pattern = this.pattern.value;
    if (!d || !pattern) return;
    this.ctrl?.abort(new DOMException('another search began', 'AbortError'));
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.drawn = [];
    this.count = 0;
    fill(this.body);
    this.table.hidden = true;
    const onlyLayer = this.layer.value === '' ? null : Number(this.layer.value);
    const layer = this.actions.layer();
    this.asOf = layer;
    const asOf = layer > 0 ? ` as of ${d.names[layer]}` : '';
    const hexBytes = this.hexKind.checked;
    this.progress.max = d.size || 1;
    this.progress.value = 0;
    fill(this.status, `Searching${asOf}…`);
    this.state('running');
    const start = performance.now();
    try {
      const r = await d.search(pattern, {
        hex: hexBytes,
        utf16: !hexBytes && this.utf16.checked,
        ignoreCase: !hexBytes && this.ignoreCase.checked,
        layer,
        onlyLayer,
        signal: ctrl.signal,
        onHits: (hits, done, total) => {
          if (ctrl !== this.ctrl) return;
          this.add(hits);
          this.progress.max = total || 1;
          this.progress.value = done;
          fill(this.status, `Searched ${humanSize(done)} of ${humanSize(total)}${asOf}: ${this.counted()}.`);
          this.root.dataset.hits = String(this.count);
        },
      });
      if (ctrl !== this.ctrl) return;
      const secs = ((performance.now() - start) / 1000).toFixed(1);
      fill(this.status, `${this.counted()} in ${humanSize(r.searched)} of the disk${asOf} (${humanSize(r.read)} of the files read, ${secs} s).`);
      this.state('done');
    } catch (e) {
      if (ctrl !== this.ctrl) return;
      if (ctrl.signal.aborted) {
        fill(this.status, `Stopped: ${this.counted()} so far.`);
        this.state('stopped');
      } else {
        fill(this.status, h('span', { class: 'bad' }, /** @type {Error} */ (e).message));
        this.state('failed');
      }
    } finally {
      if (ctrl === this.ctrl) this.ctrl = null;
    }
  }

  /** The hits found, in words, and how many are listed. */
  counted() {
    if (!this.count) return 'no hit';
    const n = `${this.count.toLocaleString('en')} hit${this.count === 1 ? '' : 's'}`;
    return this.count > DRAWN ? `${n}; the first ${DRAWN.toLocaleString('en')} are listed` : n;
  }

  /**
   * Counts `hits` and draws them while fewer than DRAWN are.
   * @param {SearchHit[]} hits
   */
  add(hits) {
    this.count += hits.length;
    const room = DRAWN - this.drawn.length;
    if (room <= 0 || !hits.length) return;
    const rows = hits.slice(0, room);
    this.drawn.push(...rows);
    this.body.append(...rows.map((hit) => this.row(hit)));
    this.table.hidden = false;
  }

  /**
   * One hit's row.
   * @param {SearchHit} hit
   */
  row(hit) {
    const o = hit.owner;
    const layer = this.asOf;
    const file = o.kind === 'file' || o.kind === 'deleted file';
    const where = o.path ?? o.what;
    const n = (/** @type {number | null} */ v) => (v === null ? undefined : String(v));
    const data = { 'data-offset': String(hit.offset), 'data-length': String(hit.length), 'data-encoding': hit.encoding, 'data-layer': n(hit.layer), 'data-partition': n(hit.partition), 'data-kind': o.kind, 'data-path': o.path ?? undefined, 'data-file-offset': n(o.file_offset) };
    return h('tr', data,
      h('td', {}, h('button', { type: 'button', class: 'link mono', 'data-action': 'show', 'aria-label': `Show the hit at ${hex(hit.offset)} in the hex view${file ? ' and its file' : ''}`, onclick: () => this.actions.show(hit, layer) }, hex(hit.offset))),
      h('td', {}, hit.layer === null ? 'zeros' : String(hit.layer)),
      h('td', {}, hit.volume ?? (hit.partition === null ? '–' : String(hit.partition))),
      h('td', {}, `${KIND[o.kind] ?? o.kind}${where ? ': ' : ''}`, file && o.path
        ? h('button', { type: 'button', class: 'link', 'data-action': 'open', 'aria-label': `Open ${o.path} in the file browser`, onclick: () => this.actions.open(hit, layer) }, o.path)
        : where),
      h('td', { class: 'mono' }, o.file_offset === null ? '' : hex(o.file_offset)),
      h('td', {}, `${ENCODING[hit.encoding] ?? hit.encoding}${hit.decrypted ? ', decrypted' : ''}`));
  }
}

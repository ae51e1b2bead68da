// Where the reader is, as text that travels: the page's URL fragment and the <vhd-viewer>
// element's attributes. One place has the same keys in both:
//
//   #disk=<unique id>&view=bitmap&layer=1&block=12&sector=2048&partition=1&path=/docs/a.txt&changes=docs
//
// `disk` is the unique id of the file opened (the top of its chain): the page restores a place
// only on that disk (another disk opened ignores it, silently); a place without `disk` (a link
// written by hand in a tutorial) applies to the first disk opened. `view` is one of the element's
// tab names (VIEWS); `layer` and `block` a block of a file of the chain (its sectors up close;
// `block` without `layer`: the square of the provenance map at that multiple of the block size);
// `sector` the virtual sector of the hex view; `partition` (a number, or an LVM2 logical volume's
// `VG/LV`) and `path` a folder or file of the files view; `changes` the Changes view's path
// filter. The controller (controller.js) moves there and reports the reader's moves; this module
// only reads and writes the text.

import { parseNumber } from '../common/format.js';

/**
 * A place in the viewer: every key optional.
 * @typedef {{ disk?: string, view?: string, layer?: number, block?: number, sector?: number, partition?: number | string, path?: string, changes?: string }} Place
 */

/** The element's tabs, in order: [name, label]; a place's `view` is one of these names. */
export const VIEWS = /** @type {[view: string, label: string][]} */ ([
  ['summary', 'Summary'],
  ['files', 'Files'],
  ['changes', 'Changes'],
  ['timeline', 'Timeline'],
  ['footer', 'Footer and header'],
  ['chain', 'Chain'],
  ['bat', 'Block map'],
  ['bitmap', 'Sector bitmaps'],
  ['hex', 'Hex'],
  ['search', 'Search'],
  ['findings', 'Findings'],
  ['save', 'Save'],
]);
const VIEW_NAMES = VIEWS.map(([v]) => v);
/** Other names a view answers to: `volumes`, the partitions, is the Files tab's strip. */
const ALIASES = /** @type {Record<string, string>} */ ({ volumes: 'files' });

/**
 * The view named `v` (an alias resolved), or undefined when there is none of that name.
 * @param {string | null | undefined} v
 */
export function viewName(v) {
  if (v === null || v === undefined) return undefined;
  const name = Object.hasOwn(ALIASES, v) ? ALIASES[v] : v;
  return VIEW_NAMES.includes(name) ? name : undefined;
}

/**
 * The view (tab) that shows each part the controller reveals.
 * @type {Record<'structures' | 'bat' | 'provenance' | 'closeup' | 'hex' | 'findings' | 'files' | 'changes' | 'chain' | 'search', string>}
 */
export const VIEW_OF = { structures: 'footer', bat: 'bat', provenance: 'bitmap', closeup: 'bitmap', hex: 'hex', findings: 'findings', files: 'files', changes: 'changes', chain: 'chain', search: 'search' };

/** The keys of a place besides `disk`, in the order they are written; also the element's attributes. */
export const KEYS = /** @type {const} */ (['view', 'layer', 'block', 'sector', 'partition', 'path', 'changes']);
const NUMBERS = new Set(['layer', 'block', 'sector', 'partition']);

/**
 * The place `get(key)` gives (a key absent or unreadable is left out): from a fragment's
 * parameters or an element's attributes.
 * @param {(key: string) => string | null} get
 * @returns {Place}
 */
function readPlace(get) {
  /** @type {Record<string, string | number>} */
  const place = {};
  for (const key of ['disk', ...KEYS]) {
    const v = get(key);
    if (v === null || v === '') continue;
    if (NUMBERS.has(key)) {
      // As the hex view's field takes them: decimal, 0x…, 2M; whole numbers only.
      const n = parseNumber(v);
      if (Number.isSafeInteger(n)) place[key] = n;
      // An LVM2 logical volume is named `VG/LV`.
      else if (key === 'partition' && /^[^/]+\/[^/]+$/.test(v)) place[key] = v;
    } else if (key === 'view') {
      const name = viewName(v);
      if (name) place.view = name;
    } else place[key] = v;
  }
  return /** @type {Place} */ (place);
}

/**
 * The place a URL's fragment names (`#disk=…&view=…`); {} for none.
 * @param {string} hash `location.hash`, with or without its `#`
 * @returns {Place}
 */
export function parseFragment(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  return readPlace((k) => params.get(k));
}

/**
 * The fragment (with its `#`) that names `place`; '' for an empty place.
 * @param {Place} place
 */
export function formatFragment(place) {
  const params = new URLSearchParams();
  for (const key of /** @type {const} */ (['disk', ...KEYS])) {
    const v = place[key];
    if (v !== undefined) params.set(key, String(v));
  }
  // A path's slashes stay readable.
  const s = params.toString().replace(/%2F/gi, '/');
  return s ? `#${s}` : '';
}

/**
 * The place an element's attributes name (the keys of KEYS).
 * @param {Element} el
 * @returns {Place}
 */
export function fromAttributes(el) {
  return readPlace((k) => (k === 'disk' ? null : el.getAttribute(k)));
}

/**
 * Sets an element's attributes to `place` (removing those of keys it leaves out); returns the
 * keys changed.
 * @param {Element} el
 * @param {Place} place
 * @returns {string[]}
 */
export function toAttributes(el, place) {
  const changed = [];
  for (const key of KEYS) {
    const v = place[key];
    const want = v === undefined ? null : String(v);
    if (el.getAttribute(key) === want) continue;
    // The view shown stays named by an alias given (volumes) while it is the same view.
    if (key === 'view' && want !== null && viewName(el.getAttribute(key)) === want) continue;
    if (want === null) el.removeAttribute(key);
    else el.setAttribute(key, want);
    changed.push(key);
  }
  return changed;
}

// The files given and the chain as a diagram: each file with its creator, size and unique id, and
// between a child and its parent whether the link is verified (the parent's unique id is the one
// the child names). A missing parent is drawn too, with the names it can be found by.
import { h, field, fill } from '../dom.js';
import { humanSize } from '../../common/format.js';

/**
 * @import { ChainLink, Identity, Info, MissingParent, PublicFile } from '../../common/types.js'
 * @import { Child } from '../types.js'
 */

/**
 * The files given, each with what it is or why it cannot be read, and a chooser when they make
 * several chains.
 * @param {Element} el
 * @param {PublicFile[]} files
 * @param {number[][]} chains
 * @param {number} current
 * @param {(k: number) => void} onChoose
 */
export function renderFiles(el, files, chains, current, onChoose) {
  const rows = files.map((f, i) => {
    /** @type {HTMLElement | string} */
    let status;
    if (f.error) status = h('span', { class: 'bad' }, 'Cannot be read: ', f.error);
    else if (f.duplicateOf !== undefined) status = `the same disk as ${files[f.duplicateOf].name} (same unique id): left out`;
    else {
      const inChains = chains.map((c, k) => [c.indexOf(i), k]).filter(([p]) => p >= 0);
      status = inChains.map(([p, k]) => `${p === 0 ? 'top of' : `layer ${p} of`} chain ${k + 1}`).join(', ');
      const identity = /** @type {Identity} */ (f.identity); // no error: it was opened
      status = `${identity.diskType}, ${humanSize(identity.size)}; ${status}`;
    }
    return h('li', {}, h('strong', {}, f.name), ` (${humanSize(f.size)}): `, status);
  });
  /** @type {HTMLElement[]} */
  const parts = [h('ul', { class: 'file-list' }, rows)];
  if (chains.length > 1) {
    parts.push(h('div', { class: 'chooser', role: 'group', 'aria-label': 'Disks' }, 'Disks found: ',
      chains.map((c, k) => h('button', { type: 'button', 'aria-pressed': String(k === current), onclick: () => onChoose(k) },
        `${k + 1}: ${files[c[0]].name}${c.length > 1 ? ` (+${c.length - 1} parent${c.length > 2 ? 's' : ''})` : ''}`))));
  }
  fill(el, parts);
}

/**
 * The chain diagram. `info.chain` is absent for a single disk without parent: its one card then
 * takes the file's own fields (a VHD's creator application and unique id, a VHDX's creator and
 * DataWriteGuid, as the core's chain links name them).
 * `missing`: neededParentText() of the last layer when its parent is missing.
 * @param {Element} el
 * @param {Info} info
 * @param {string[]} names
 * @param {MissingParent | null} missing
 * @param {(layer: number) => void} onSelect
 */
export function renderChain(el, info, names, missing, onSelect) {
  /** @type {(ChainLink & { single?: boolean })[]} */
  const links = info.chain || [{ file: info.file, disk_type: info.disk_type, creator_application: info.creator_application ?? info.creator, current_size: info.current_size, unique_id: info.unique_id ?? info.data_write_guid, parent_unique_id: null, parent_verified: null, allocated_blocks: info.allocated_blocks ?? 0, single: true }];
  /** @type {HTMLElement[]} */
  const items = [];
  links.forEach((l, i) => {
    /** @param {string} k */
    const p = (k) => (l.single ? null : `chain.${i}.${k}`);
    /**
     * @param {string} k
     * @param {unknown} v
     * @param {keyof HTMLElementTagNameMap} [tag]
     */
    const f = (k, v, tag) => (l.single ? h(tag || 'span', {}, String(v)) : field(p(k), v, tag));
    items.push(h('li', { class: 'link' },
      h('button', { type: 'button', class: 'disk', style: `--c:var(--layer-${i % 8})`, onclick: () => onSelect(i), title: 'Show this file’s footer and header' },
        h('span', { class: 'layer-no' }, i === 0 ? 'top' : `layer ${i}`),
        f('file', l.file, 'strong'),
        h('span', {}, f('disk_type', l.disk_type), ' disk by “', f('creator_application', l.creator_application), '”'),
        h('span', {}, f('current_size', l.current_size), ` bytes (${humanSize(l.current_size)})`),
        h('span', { class: 'mono small' }, 'id ', f('unique_id', l.unique_id)),
        h('span', {}, f('allocated_blocks', l.allocated_blocks), ' blocks stored in this file'))));
    if (l.parent_unique_id) {
      const ok = l.parent_verified;
      const last = i === links.length - 1;
      items.push(h('li', { class: 'arrow ' + (ok ? 'good' : 'bad') },
        h('span', { class: 'glyph', 'aria-hidden': 'true' }, '↓'),
        h('span', {}, 'parent: id ', field(`chain.${i}.parent_unique_id`, l.parent_unique_id, 'span', { class: 'mono small' }), ' — ',
          ok === null || ok === undefined
            ? h('span', { 'data-field': `chain.${i}.parent_verified`, 'data-value': '' }, last ? 'parent not given ✗' : 'link not checked')
            : field(`chain.${i}.parent_verified`, ok, 'span', {}, ['link verified ✓', 'link BROKEN ✗']))));
    }
  });
  if (missing) {
    items.push(h('li', { class: 'link' },
      h('div', { class: 'disk missing' },
        h('span', { class: 'layer-no' }, 'missing'),
        h('strong', {}, missing.names.length ? missing.names.join(' or ') : 'a parent with no recorded name'),
        h('span', {}, 'Add this file too (drop it with the others) to read the whole disk.'),
        missing.paths.length ? h('span', { class: 'small' }, 'Recorded as: ', /** @type {Child[]} */ (missing.paths.map((p) => h('code', {}, p))).reduce((a, b) => [a, ', ', b])) : null,
        h('span', { class: 'mono small' }, 'must have id ', missing.id))));
  }
  fill(el,
    h('h3', {}, links.length > 1 || missing ? 'The chain, from the file you opened down to its base' : 'One disk, no parent'),
    h('p', { class: 'verdict ' + (info.parent_missing ? 'bad' : 'good') }, field('parent_missing', info.parent_missing, 'span', {}, ['The parent is missing: the disk cannot be read whole.', 'Nothing is missing: every file the disk needs was given.'])),
    h('ol', { class: 'chain' }, items));
}

/**
 * The words for a missing parent, shown by the page and the element alike.
 * @param {string} lastName
 * @param {MissingParent} missing
 */
export function missingParentText(lastName, missing) {
  const at = missing.at === null || missing.at === undefined ? '' : ` (its parent unique id field at byte 0x${missing.at.toString(16)})`;
  if (missing.loop) {
    return `the chain loops: ${missing.loop} is its own ancestor: ${lastName} names it as its parent by unique id ${missing.id}${at}. The chain is shown down to ${lastName}; what its parent would supply is shown as missing.`;
  }
  if (missing.impostors?.length) {
    const others = missing.impostors.map((f) => `${f.name}, given under the name of its parent, has unique id ${f.id}`).join('; ');
    return `${lastName} names its parent by unique id ${missing.id}${at}, but ${others}: it is not the disk the child was made from. Until the right parent is given, the parts that come from it are shown as missing.`;
  }
  const names = missing.names.length ? missing.names.map((n) => `“${n}”`).join(' or ') : 'its parent';
  return `${lastName} is a differencing disk whose parent was not given: it needs ${names} (unique id ${missing.id}). Add that file together with the others to read the whole disk; until then, the parts that come from the parent are shown as missing.`;
}

// A folder of disks (`vhd-viewer chains`): the core's survey drawn as an accessible tree (each
// base with its checkpoints, any depth; arrow keys move through it), each file's role, format and
// size, with "Open" (that file's chain in the viewer); then what is wrong, in words, with the fix
// offered: a moved parent's relinked copy, a checkpoint chain merged into one disk.
import { h, fill } from '../dom.js';
import { humanSize, baseName } from '../../common/format.js';

/**
 * @import { Survey, SurveyNode } from '../../common/types.js'
 * @import { Child } from '../types.js'
 */

/**
 * What the view asks of the page. `chain` is a file's chain as the survey found it by unique ids:
 * the file first, then its parent, its grandparent... (paths under the folder).
 * @typedef {{
 *   open(chain: string[]): void,
 *   relink(chain: string[], relative: string): void,
 *   merge(chain: string[]): void,
 *   stop(): void,
 * }} FolderActions
 */

/** Each role in words. */
const ROLE_WORDS = {
  base: 'base disk',
  checkpoint: 'checkpoint (has children)',
  leaf: 'newest (no children)',
};

/**
 * Where `to` is from the folder of `from` (both paths under the folder, `/` between folders), as
 * Windows writes a relative parent locator: `.\base.vhdx`, `..\Other\base.vhdx`.
 * @param {string} from
 * @param {string} to
 */
export function relativePath(from, to) {
  const a = from.split('/').slice(0, -1);
  const b = to.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => '..');
  return [...(up.length ? up : ['.']), ...b.slice(i)].join('\\');
}

/**
 * Each file's chain in `survey`'s trees: the file, then its ancestors as found by id.
 * @param {Survey} survey
 * @returns {Map<string, string[]>}
 */
export function chainsOf(survey) {
  /** @type {Map<string, string[]>} */
  const out = new Map();
  /** @type {{ node: SurveyNode, up: string[] }[]} */
  const stack = survey.trees.map((node) => ({ node, up: [] }));
  // Iteratively, whatever the depth; a file met twice keeps its first chain.
  while (stack.length) {
    const { node, up } = /** @type {{ node: SurveyNode, up: string[] }} */ (stack.pop());
    if (out.has(node.file)) continue;
    const chain = [node.file, ...up];
    out.set(node.file, chain);
    for (const c of node.children) stack.push({ node: c, up: chain });
  }
  return out;
}

export class FolderView {
  /**
   * @param {HTMLElement} root the folder's section (shown when there is something to show)
   * @param {FolderActions} actions
   */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.label = h('span', { role: 'status', 'data-field': 'folder-status' });
    this.progress = h('progress', { max: 1, value: 0, 'aria-label': 'Files read' });
    this.stopButton = h('button', { type: 'button', 'data-action': 'stop', onclick: () => actions.stop() }, 'Stop');
    this.count = h('span');
    this.task = h('div', { class: 'task', hidden: true }, this.label, this.progress, this.count, this.stopButton);
    this.summary = h('p', { 'data-field': 'folder-summary' });
    this.tree = h('ul', { role: 'tree', class: 'folder-tree', 'aria-label': 'The disks by parent' });
    this.tree.addEventListener('keydown', (e) => this.key(e));
    this.problems = h('div', { class: 'folder-problems' });
    fill(root,
      h('h2', { id: 'folder-title' }, 'The folder'),
      h('p', { class: 'lead' }, 'The disks given, by parent: each file\'s place is found by the unique ids inside the files, whatever they are called; only each file\'s headers are read (', h('code', null, 'vhd-viewer chains'), ').'),
      this.task, this.summary, this.tree, this.problems);
    root.setAttribute('aria-labelledby', 'folder-title');
  }

  /**
   * Shows that `total` files are being read (`done` so far).
   * @param {number} done
   * @param {number} total
   */
  busy(done, total) {
    this.root.hidden = false;
    this.root.dataset.state = 'busy';
    this.task.hidden = false;
    this.label.textContent = 'Reading the files\' headers…';
    this.progress.max = total || 1;
    this.progress.value = done;
    this.count.textContent = `${done} of ${total} files`;
    if (done === 0) {
      fill(this.summary, `${total} file${total === 1 ? '' : 's'} given.`);
      fill(this.tree);
      fill(this.problems);
    }
  }

  /**
   * Says why there is no answer (stopped, failed).
   * @param {string} text
   * @param {'stopped' | 'error'} state
   */
  failed(text, state) {
    this.root.hidden = false;
    this.task.hidden = true;
    this.root.dataset.state = state;
    fill(this.summary, h('span', { class: state === 'error' ? 'bad' : '' }, text));
  }

  /**
   * Adds a sentence under the summary (a bound the walk stopped at).
   * @param {string} text
   */
  note(text) {
    this.summary.append(' ', h('span', { class: 'warn' }, text));
  }

  /** Hides the view (one file or one chain given). */
  hide() {
    this.root.hidden = true;
    delete this.root.dataset.state;
    fill(this.tree);
    fill(this.problems);
  }

  /**
   * Draws `survey`.
   * @param {Survey} survey
   */
  show(survey) {
    this.root.hidden = false;
    this.task.hidden = true;
    const chains = chainsOf(survey);
    const chainOf = (/** @type {string} */ f) => chains.get(f) ?? [f];
    const disks = chains.size;
    const problems = survey.orphans.length + survey.moved.length + survey.modified.length + survey.duplicates.length + survey.unreadable.length;
    fill(this.summary,
      `${disks} disk${disks === 1 ? '' : 's'} in ${survey.trees.length} tree${survey.trees.length === 1 ? '' : 's'}`,
      problems ? `; ${problems} problem${problems === 1 ? '' : 's'}, listed below with the fix.` : '; nothing is wrong.');
    const changed = new Set(survey.modified.map((m) => m.file));
    fill(this.tree, survey.trees.map((t) => this.item(t, 1, chainOf, changed)));
    const first = /** @type {HTMLElement | null} */ (this.tree.querySelector('[role=treeitem]'));
    if (first) this.current(first);
    fill(this.problems, this.problemList(survey, chainOf));
    this.root.dataset.state = 'done';
  }

  /**
   * One file of the tree, with its children.
   * @param {SurveyNode} node
   * @param {number} level
   * @param {(f: string) => string[]} chainOf
   * @param {Set<string>} changed the children whose parent was written to since (a modified parent)
   * @returns {HTMLElement}
   */
  item(node, level, chainOf, changed) {
    const chain = chainOf(node.file);
    const kids = node.children.length;
    const orphan = node.orphan ? (changed.has(node.file) ? ', its parent was changed since' : ', its parent is missing') : '';
    const words = `${ROLE_WORDS[node.role] ?? node.role}${orphan}`;
    const label = h('span', { class: 'folder-label' },
      h('strong', { class: 'folder-name' }, baseName(node.file)),
      ' ', h('span', { class: `folder-role role-${node.role}${node.orphan ? ' bad' : ''}` }, words),
      ' · ', node.format.toUpperCase(), ' ', node.disk_type,
      ' · ', humanSize(node.size),
      node.file.includes('/') ? h('span', { class: 'folder-path small' }, ' in ', node.file.split('/').slice(0, -1).join('/')) : null,
      (node.notes ?? []).map((n) => h('span', { class: 'folder-note warn', 'data-field': 'note' }, ' ', n)));
    const buttons = h('span', { class: 'folder-actions' },
      h('button', { type: 'button', tabindex: -1, 'data-action': 'open', onclick: () => this.actions.open(chain), title: `Open ${node.file} with its parents` }, 'Open'),
      chain.length > 1 && !node.orphan
        ? h('button', { type: 'button', tabindex: -1, 'data-action': 'merge', onclick: () => this.actions.merge(chain), title: `Save ${node.file} and its parents as one standalone disk` }, 'Merge into one disk…')
        : null);
    const li = h('li', {
      role: 'treeitem',
      tabindex: -1,
      'aria-level': level,
      'aria-expanded': kids ? 'true' : undefined,
      dataset: { file: node.file, role: node.role, format: node.format, id: node.id, size: String(node.size), orphan: String(!!node.orphan) },
    }, h('div', { class: 'folder-row' }, label, buttons));
    if (kids) li.append(h('ul', { role: 'group' }, node.children.map((c) => this.item(c, level + 1, chainOf, changed))));
    return li;
  }

  /**
   * The problems, in words, each with its fix.
   * @param {Survey} s
   * @param {(f: string) => string[]} chainOf
   */
  problemList(s, chainOf) {
    /**
     * @param {string} kind
     * @param {string} title
     * @param {HTMLElement[]} items
     */
    const section = (kind, title, items) => (items.length ? h('section', { 'data-kind': kind }, h('h3', null, title), h('ul', { class: 'folder-problem-list' }, items)) : null);
    /**
     * @param {string} file
     * @param {...Child} parts
     */
    const li = (file, ...parts) => h('li', { dataset: { file } }, ...parts);
    const code = (/** @type {string} */ t) => h('code', null, t);
    /** @type {Map<string, number>} each file's children in the trees */
    const children = new Map();
    /** @type {SurveyNode[]} */
    const stack = [...s.trees];
    while (stack.length) {
      const n = /** @type {SurveyNode} */ (stack.pop());
      children.set(n.file, n.children.length);
      stack.push(...n.children);
    }
    return [
      section('orphans', 'Children whose parent is not here', s.orphans.map((o) =>
        li(o.file, h('strong', null, o.file), ` needs its parent${o.parent_id ? ` (the disk with unique id ${o.parent_id})` : ''}, which is none of the files given. `,
          o.looks_for.length ? ['Its parent locators look for ', o.looks_for.map((p, i) => [i ? ', ' : '', code(p)]), '. '] : 'It names no path to look for it. ',
          'Add that file (or its folder) to open it whole.'))),
      section('moved', 'Parents that moved', s.moved.map((m) => {
        const rel = relativePath(m.file, m.parent);
        return li(m.file, h('strong', null, m.file), '\'s parent is ', h('strong', null, m.parent), ' (found by its unique id), but its locators say ', code(m.locator_says),
          '. A relinked copy of the child points to where the parent is now; the files themselves are not changed. ',
          h('button', { type: 'button', 'data-action': 'relink', onclick: () => this.actions.relink(chainOf(m.file), rel) }, 'Open and relink…'),
          ' On the command line: ', code(m.relink));
      })),
      section('modified', 'Parents written to after their child was made', s.modified.map((m) =>
        li(m.file, h('strong', null, m.file), ' expects its parent to have the id ', code(m.expected_id), ', but ', h('strong', null, m.found),
          ', at the path its locators name, has ', code(m.found_id),
          ': it is another disk, or it was written to after the child was made, and the child read through it would show wrong data. Look for the parent\'s earlier copy (a backup) instead.'))),
      section('duplicates', 'Copies of one disk', s.duplicates.map((d) =>
        li(d[0], d.map((f, i) => [i ? (i === d.length - 1 ? ' and ' : ', ') : '', h('strong', null, f)]),
          ' have the same unique id: copies of one disk. A child opens the one its parent locators name: ',
          d.map((f, i) => {
            const n = children.get(f) ?? 0;
            return [i ? '; ' : '', baseName(f), ` in ${f.split('/').slice(0, -1).join('/') || 'the folder'}: `, n ? `${n} ${n === 1 ? 'child opens' : 'children open'} it` : 'no child opens it'];
          }),
          '. Keep the one its children open; a copy kept apart from them is best saved as a new disk (a new id).'))),
      section('unreadable', 'Files that are not disks, or too damaged to read', s.unreadable.map((u) =>
        li(u.file, h('strong', null, u.file), ': ', u.reason))),
    ];
  }

  /**
   * The tree's keys: up and down move through the items shown, right opens or goes to the first
   * child, left closes or goes to the parent, Home and End, Enter opens the file's chain.
   * @param {KeyboardEvent} e
   */
  key(e) {
    const item = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[role=treeitem]'));
    if (!item) return;
    const shown = /** @type {HTMLElement[]} */ ([...this.tree.querySelectorAll('[role=treeitem]')]).filter((x) => !x.parentElement?.closest('[aria-expanded=false]'));
    const at = shown.indexOf(item);
    /** @type {HTMLElement | null | undefined} */
    let to = null;
    const open = item.getAttribute('aria-expanded');
    switch (e.key) {
      case 'ArrowDown': to = shown[at + 1]; break;
      case 'ArrowUp': to = shown[at - 1]; break;
      case 'Home': to = shown[0]; break;
      case 'End': to = shown[shown.length - 1]; break;
      case 'ArrowRight':
        if (open === 'false') item.setAttribute('aria-expanded', 'true');
        else if (open === 'true') to = /** @type {HTMLElement | null} */ (item.querySelector('[role=treeitem]'));
        break;
      case 'ArrowLeft':
        if (open === 'true') item.setAttribute('aria-expanded', 'false');
        else to = /** @type {HTMLElement | null} */ (item.parentElement?.closest('[role=treeitem]'));
        break;
      case 'Enter':
        if (e.target === item) /** @type {HTMLButtonElement | null} */ (item.querySelector('[data-action=open]'))?.click();
        break;
      default:
        return;
    }
    e.preventDefault();
    if (to) {
      this.current(to);
      to.focus();
    }
  }

  /**
   * Makes `item` the tree's one stop of the Tab key, its buttons next.
   * @param {HTMLElement} item
   */
  current(item) {
    for (const x of this.tree.querySelectorAll('[role=treeitem]')) x.setAttribute('tabindex', x === item ? '0' : '-1');
    for (const b of this.tree.querySelectorAll('.folder-actions button')) b.setAttribute('tabindex', b.closest('[role=treeitem]') === item ? '0' : '-1');
  }
}

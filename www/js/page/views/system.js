// The first screen's answers to "what is this disk": the System card of each volume that holds an
// operating system (what the core's inspect read: its name, computer name, users, programs...,
// each answer with a link to the file it came from), and the health verdict (the findings by
// severity and the chain's verdict, each a link to its part).
import { h, fill } from '../dom.js';

/**
 * @import { Finding, Info, System, SystemSource } from '../../common/types.js'
 */

/**
 * What the card's links do: `source` opens a file of partition `partition` in the file browser.
 * @typedef {{ source(partition: import('../../common/types.js').VolumeRef, source: SystemSource): void }} SystemActions
 */

/** How a mount of fstab was found among the partitions, in words. */
const BY = /** @type {Record<string, string>} */ ({ uuid: 'file system UUID', label: 'label', partuuid: 'partition UUID', partlabel: 'partition name', device: 'device name', lvm: 'logical volume name' });

/** The operating system's name in words. */
const OS = { windows: 'Windows', linux: 'Linux' };

/**
 * What the system is, in words: "Windows 10 Pro 22H2, build 19045.3803", "Debian GNU/Linux 12
 * (bookworm)" (Linux's PRETTY_NAME says it whole).
 * @param {System} s
 */
function systemTitle(s) {
  const name = s.product ?? OS[s.os];
  if (s.os === 'linux') return s.product ? name : [name, s.version].filter(Boolean).join(' ');
  const version = s.version && !name.includes(s.version) ? ` ${s.version}` : '';
  return `${name}${version}${s.build ? `, build ${s.build}` : ''}`;
}

/**
 * A link to where an answer was read: the file opened in the file browser; the registry key and
 * value (or the file's field) named.
 * @param {System} s
 * @param {SystemSource | undefined} src
 * @param {SystemActions} actions
 */
function sourceLink(s, src, actions) {
  if (!src) return null;
  const file = src.path.slice(src.path.lastIndexOf('/') + 1) || src.path;
  const inside = [src.key, src.value].filter(Boolean).join(' › ');
  const full = `${src.path}${inside ? ` (${src.key ? `key ${src.key}` : ''}${src.key && src.value ? ', ' : ''}${src.value ? `value ${src.value}` : ''})` : ''}`;
  return h('button', {
    type: 'button', class: 'link source-link', 'data-action': 'source', 'data-path': src.path, title: `Read from ${file}${inside ? ` › ${inside}` : ''}: open ${src.path} in the file browser`,
    'aria-label': `Source: ${full}; open it in the file browser`, onclick: () => actions.source(s.volume ?? s.partition, src),
  }, h('span', { 'aria-hidden': 'true' }, '↗'));
}

/**
 * A date and time the core gives in ISO 8601 (UTC), for people: `2023-01-12 09:14:03 UTC`.
 * @param {string} v
 */
function when(v) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(v);
  return m ? `${m[1]} ${m[2]} UTC` : v;
}

/**
 * A row of the card's facts: its label, value and source, when the system says it.
 * @param {System} s
 * @param {keyof System & string} key
 * @param {string} label
 * @param {SystemActions} actions
 */
function fact(s, key, label, actions) {
  const v = s[key];
  if (v === null || v === undefined || v === '') return null;
  const text = key.endsWith('_date') || key === 'last_shutdown' ? when(String(v)) : String(v);
  return h('div', { class: 'row' },
    h('dt', {}, label),
    h('dd', {}, h('span', { 'data-sys': key, 'data-value': String(v) }, text), ' ', sourceLink(s, s.sources[key], actions)));
}

/**
 * A small table, with a caption.
 * @param {string} caption
 * @param {string[]} heads
 * @param {import('../types.js').Child[][]} rows
 * @param {string} [cls]
 */
function table(caption, heads, rows, cls = '') {
  return h('table', { class: `sys-table ${cls}` },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
}

/** Programs drawn at most at once (a system may list tens of thousands): the filter finds the others. */
const PROGRAM_ROWS = 500;

/**
 * The installed programs: their count, and the list (folded, drawn when unfolded) with a filter
 * box; at most PROGRAM_ROWS rows are drawn, so that a long list stays quick.
 * @param {System} s
 * @param {SystemActions} actions
 * @param {number} n the card's number, for unique ids
 */
function programs(s, actions, n) {
  const list = s.programs;
  const word = s.os === 'linux' ? 'package' : 'program';
  if (!list.length) return h('p', { class: 'small' }, `No installed ${word}s listed.`);
  const row = (/** @type {System['programs'][number]} */ p) =>
    h('tr', {},
      h('th', { scope: 'row' }, p.name, ' ', sourceLink(s, p.source, actions)),
      h('td', {}, p.version ?? ''),
      h('td', {}, p.publisher ?? ''),
      s.os === 'windows' ? h('td', {}, p.install_date ?? '') : null);
  const tbody = h('tbody');
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const filter = h('input', { type: 'search', id: `sys-filter-${n}`, placeholder: 'name', 'data-action': 'filter-programs' });
  const show = () => {
    const q = filter.value.trim().toLowerCase();
    const match = q ? list.filter((p) => p.name.toLowerCase().includes(q)) : list;
    fill(tbody, match.slice(0, PROGRAM_ROWS).map(row));
    count.textContent = match.length > PROGRAM_ROWS
      ? `the first ${PROGRAM_ROWS} of ${match.length}${q ? ' found' : ''}: filter to see the others`
      : q ? `${match.length} of ${list.length} shown` : '';
  };
  filter.addEventListener('input', show);
  const heads = ['Name', 'Version', s.os === 'linux' ? 'Maintainer' : 'Publisher', ...(s.os === 'windows' ? ['Installed'] : [])];
  const fold = h('details', { class: 'programs' },
    h('summary', {}, h('span', { 'data-sys': 'programs' }, String(list.length)), ` ${word}${list.length === 1 ? '' : 's'} installed`),
    h('div', { class: 'controls' }, h('label', { for: `sys-filter-${n}` }, 'Filter '), filter, ' ', count),
    h('div', { class: 'scroll' },
      h('table', { class: 'sys-table' },
        h('caption', { class: 'visually-hidden' }, `Installed ${word}s`),
        h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
        tbody)));
  fold.addEventListener('toggle', () => {
    if (fold.open && !tbody.firstChild) show();
  });
  return fold;
}

/**
 * One system's card.
 * @param {System} s
 * @param {SystemActions} actions
 * @param {number} n
 */
function card(s, actions, n) {
  const users = s.users.map((u) => [
    [h('span', { 'data-sys': 'user' }, u.name), ' ', sourceLink(s, u.source, actions)],
    s.os === 'windows' ? h('code', { class: 'small' }, u.sid ?? '') : String(u.uid ?? ''),
    u.home ?? '',
    ...(s.os === 'linux' ? [u.shell ?? ''] : []),
  ]);
  return h('article', { class: `system ${s.os}`, 'data-os': s.os, 'data-partition': String(s.partition), 'aria-labelledby': `sys-title-${n}` },
    h('h3', { id: `sys-title-${n}` }, h('span', { 'data-sys': 'title' }, systemTitle(s)), ' ', sourceLink(s, s.sources.product, actions), ' ',
      h('span', { class: 'small where' }, s.volume ? `on logical volume ${s.volume}` : s.partition ? `on partition ${s.partition}` : 'on the whole disk (no partition table)', s.edition ? `, edition ${s.edition}` : '')),
    // Its parts flow in as many columns as fit (CSS columns balance them), none split.
    h('div', { class: 'columns' },
    h('dl', { class: 'facts' },
      fact(s, 'hostname', 'Computer name', actions),
      fact(s, 'timezone', 'Time zone', actions),
      fact(s, 'install_date', 'Installed', actions),
      fact(s, 'last_shutdown', 'Last shut down', actions),
      fact(s, 'registered_owner', 'Registered owner', actions),
      s.os === 'linux' ? fact(s, 'version', 'Version', actions) : null),
    programs(s, actions, n),
    users.length ? table(`${users.length} user${users.length === 1 ? '' : 's'}`, ['Name', s.os === 'windows' ? 'SID' : 'UID', 'Home', ...(s.os === 'linux' ? ['Shell'] : [])], users, 'users') : null,
    s.interfaces.length
      ? table('Network interfaces (last addresses)', ['Interface', 'Addresses', 'From'], s.interfaces.map((i) => [[h('code', {}, i.name), ' ', sourceLink(s, i.source, actions)], i.addresses.join(', '), h('span', { class: 'nowrap' }, i.dhcp ? 'DHCP' : 'static')]), 'interfaces')
      : null,
    s.mounts.length
      ? table('Mounts (/etc/fstab)', ['Mounted at', 'What', 'Partition'], s.mounts.map((m) => [m.target, [h('code', {}, m.spec), ` (${m.fstype})`], m.partition === null ? 'not on this disk' : `${m.volume ?? m.partition}${m.by ? `, by ${BY[m.by] ?? m.by}` : ''}`]), 'mounts')
      : null),
    s.notes.length
      ? h('ul', { class: 'notes' }, s.notes.map((note) =>
        h('li', { class: `note ${note.severity}`, 'data-code': note.code }, note.message, note.offset === null ? '' : ` (at byte ${note.offset} of ${note.path})`)))
      : null);
}

/**
 * The System cards, or what is happening: `systems` null while they are read; `error` when they
 * could not be.
 * @param {Element} el
 * @param {{ systems: System[] | null, error?: string, asOf?: string }} state
 * @param {SystemActions} actions
 */
export function renderSystems(el, { systems, error, asOf }, actions) {
  const as = asOf ? ` as of ${asOf}` : '';
  if (error) {
    el.setAttribute('data-systems', 'error');
    fill(el, h('p', { class: 'verdict bad' }, `The systems on the disk could not be read${as}: ${error}`));
    return;
  }
  if (!systems) {
    el.setAttribute('data-systems', 'reading');
    fill(el, h('p', { class: 'reading', role: 'status' }, `Looking for an operating system on the volumes${as}…`));
    return;
  }
  el.setAttribute('data-systems', String(systems.length));
  fill(el, systems.length
    ? [asOf ? h('p', { class: 'small' }, `The disk${as}.`) : null, ...systems.map((s, n) => card(s, actions, n))]
    : h('p', { class: 'small none' }, `No volume holds a Windows or Linux system${as} (the page looks for Windows' registry and Linux's /etc/os-release).`));
}

const WORD = { error: ['error', 'errors'], warning: ['warning', 'warnings'], info: ['note', 'notes'] };

/**
 * The health verdict: the findings by severity (each count a link to the findings) and the
 * chain's verdict (a link to the chain).
 * @param {Element} el
 * @param {Info} info
 * @param {string[]} names the chain's files, top first
 * @param {{ findings(): void, chain(): void }} actions
 */
export function renderHealth(el, info, names, actions) {
  /** @type {Record<Finding['severity'], number>} */
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of info.all_findings) counts[f.severity]++;
  const sev = /** @type {Finding['severity'][]} */ (['error', 'warning', 'info']).map((k) =>
    h('button', { type: 'button', class: `link count ${k}`, 'data-severity': k, 'data-count': String(counts[k]), onclick: actions.findings },
      `${counts[k]} ${WORD[k][counts[k] === 1 ? 0 : 1]}`));
  const links = info.chain ?? [];
  const broken = links.some((l) => l.parent_verified === false);
  const chainOk = !info.parent_missing && !broken;
  const chainWords = names.length > 1
    ? chainOk ? `a chain of ${names.length} files, every one given and every link verified` : info.parent_missing ? `a chain of ${names.length} files whose last parent is missing: the disk cannot be read whole` : `a chain of ${names.length} files with a broken link`
    : info.parent_missing ? 'a differencing disk whose parent is missing' : 'one disk, no parent';
  fill(el,
    h('p', { class: `verdict health-verdict ${counts.error ? 'bad' : 'good'}` },
      h('strong', {}, 'Health: '), counts.error + counts.warning + counts.info === 0 ? 'nothing wrong was found in the structures' : 'found ',
      counts.error + counts.warning + counts.info === 0 ? null : [sev[0], ', ', sev[1], ', ', sev[2]], '.'),
    h('p', { class: `verdict chain-verdict ${chainOk ? 'good' : 'bad'}` },
      h('strong', {}, 'Chain: '), names.join(' → '), `: ${chainWords}. `,
      h('button', { type: 'button', class: 'link', 'data-action': 'chain', onclick: actions.chain }, 'See the chain')));
}

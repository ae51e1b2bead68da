// Files, not sectors: the disk's partitions drawn to scale, a file browser for the partition
// chosen (sortable, keyboard-driven, deleted entries on a toggle), a file's panel (its size, time,
// attributes, streams, and its runs on the virtual disk as buttons that show the place), and
// "Save file", read in windows with progress and cancel. Everything is read through an
// asynchronous `api` (the Worker's WasmVolumes), so this module does no reading of its own.
import { h, fill } from '../dom.js';
import { FS_WORDS, hex, humanSize } from '../../common/format.js';
import { dump } from './hex.js';

/**
 * @import { FileEntry, FileStat, FileSupply, FsName, LogicalVolume, Partition, PartsTable, VolumeRef } from '../../common/types.js'
 * @import { Child, FilesApi, FilesOptions, FilesView } from '../types.js'
 */

/** Bytes read per call when saving a file. */
const SAVE_WINDOW = 1 << 20;
/** Runs listed in the panel (the rest counted). */
const RUNS_SHOWN = 200;
/** Bytes shown in hex. */
const PEEK = 256;
/** Rows of a listing drawn at a time. */
const ROWS = 1000;

export const FILES_CSS = `
.files-view { display: flex; flex-direction: column; gap: 0.8rem; max-width: 100%; }
.files-view h3, .files-view h4 { margin: 0.2rem 0; }
/* The picture where the host shows it (the page's first screen): tight, its words above the strip. */
.files-view.picture { gap: 0.3rem; }
.files-view.picture p { margin: 0; }
.files-view .strip { position: relative; height: 3.2rem; border: 1px solid var(--border); border-radius: 4px; background: repeating-linear-gradient(135deg, transparent 0 6px, color-mix(in srgb, var(--muted) 14%, transparent) 6px 8px); overflow: hidden; }
.files-view .strip .seg { position: absolute; top: 0; bottom: 0; min-width: 6px; border: none; border-right: 1px solid var(--bg); padding: 0.15rem 0.3rem; overflow: hidden; text-align: left; font-size: 0.78em; line-height: 1.25; white-space: nowrap; background: color-mix(in srgb, var(--c) 35%, var(--bg)); color: var(--fg); cursor: pointer; }
.files-view .strip .seg[aria-pressed='true'] { outline: 3px solid var(--accent); outline-offset: -3px; font-weight: 600; }
.files-view .strip .seg:disabled { cursor: default; background: color-mix(in srgb, var(--muted) 20%, var(--bg)); }
.files-view .parts { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 17rem), 1fr)); gap: 0.4rem; }
.files-view .parts li { border: 1px solid var(--border); border-left: 8px solid var(--c); border-radius: 6px; padding: 0.35rem 0.6rem; overflow-wrap: anywhere; }
.files-view .parts li.current { border-color: var(--accent); border-left-color: var(--c); box-shadow: 0 0 0 1px var(--accent); }
.files-view .parts .misaligned { color: var(--warn); }
.files-view form.unlock { display: flex; flex-wrap: wrap; gap: 0.3rem 0.5rem; align-items: center; margin-top: 0.3rem; }
.files-view form.unlock input:not([type='file']) { flex: 1 1 9rem; min-width: 0; font-family: inherit; }
.files-view .toolbar { display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; align-items: center; }
.files-view nav.crumbs { display: flex; flex-wrap: wrap; gap: 0.1rem; align-items: center; overflow-wrap: anywhere; }
.files-view nav.crumbs button { font-family: inherit; }
.files-view .browser { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 0.8rem; align-items: start; }
.files-view .browser.no-panel { grid-template-columns: minmax(0, 1fr); }
.files-view .listing { max-height: 32rem; overflow: auto; border: 1px solid var(--border); border-radius: 4px; }
.files-view table.entries { border-collapse: collapse; width: 100%; table-layout: fixed; }
.files-view table.entries th, .files-view table.entries td { text-align: left; padding: 0.2rem 0.4rem; border-bottom: 1px solid var(--border); vertical-align: top; }
.files-view table.entries thead th { position: sticky; top: 0; background: var(--bg); font-size: 0.85em; }
.files-view table.entries thead button { background: none; border: none; padding: 0; font: inherit; color: var(--fg); cursor: pointer; text-align: left; }
.files-view table.entries .c-size { width: 6.5rem; text-align: right; }
.files-view table.entries .c-mod { width: 10.5rem; }
.files-view table.entries .c-kind { width: 5.5rem; }
.files-view table.entries td.c-name button { background: none; border: none; padding: 0; font: inherit; color: var(--fg); text-align: left; cursor: pointer; overflow-wrap: anywhere; width: 100%; }
.files-view table.entries tr.dir td.c-name button { font-weight: 600; }
.files-view table.entries tr.selected td { background: var(--mark); }
.files-view table.entries tr.deleted td { color: var(--bad); }
.files-view table.entries tr.deleted td.c-name button { color: var(--bad); text-decoration: line-through; text-decoration-thickness: 1px; }
.files-view .badge { display: inline-block; font-size: 0.75em; border: 1px solid currentColor; border-radius: 3px; padding: 0 0.25em; margin-left: 0.3em; text-decoration: none; }
.files-view .caveat { border-left: 4px solid var(--warn); padding: 0.2rem 0.6rem; margin: 0; font-size: 0.9em; }
.files-view .panel { border: 1px solid var(--border); border-radius: 6px; padding: 0.5rem 0.7rem; overflow-wrap: anywhere; min-width: 0; }
.files-view .panel dl { display: grid; grid-template-columns: 8rem minmax(0, 1fr); gap: 0.15rem 0.6rem; margin: 0.3rem 0; }
.files-view .panel dt { color: var(--muted); }
.files-view .panel dd { margin: 0; }
.files-view .panel table.runs { border-collapse: collapse; width: 100%; font-size: 0.88em; }
.files-view .panel table.runs th, .files-view .panel table.runs td { text-align: left; padding: 0.1rem 0.3rem; border-bottom: 1px solid var(--border); }
.files-view .panel .save { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin: 0.4rem 0; }
.files-view .panel progress { flex: 1 1 8rem; min-width: 6rem; }
.files-view .panel .dump { max-height: 14rem; overflow: auto; }
.files-view .status { min-height: 1.3em; margin: 0; }
.files-view .supply { display: flex; height: 1.2rem; border: 1px solid var(--border); border-radius: 3px; overflow: hidden; margin: 0.3rem 0; }
.files-view .supply .part { display: block; min-width: 1px; height: 100%; }
.files-view .supply .part.zero, .files-view .supply .part.sparse, .files-view .supply-legend .swatch.zero, .files-view .supply-legend .swatch.sparse { background-image: repeating-linear-gradient(135deg, transparent 0 4px, color-mix(in srgb, var(--muted) 40%, transparent) 4px 6px) !important; }
.files-view .supply-legend { list-style: none; padding: 0; margin: 0.2rem 0; font-size: 0.9em; }
@media (max-width: 720px) {
  .files-view .browser { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 560px) {
  .files-view table.entries .c-kind { display: none; }
  .files-view table.entries .c-mod { width: 6.2rem; }
  .files-view table.entries .c-size { width: 5rem; }
  .files-view .panel dl { grid-template-columns: minmax(0, 1fr); }
  .files-view .panel dt { margin-top: 0.2rem; }
}
`;

/** @type {CSSStyleSheet | null} */
let sheet = null;
/** The view's styles, adopted into the document or shadow root `root` lives in. */
function adoptStyles(/** @type {Node} */ root) {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(FILES_CSS);
  }
  const host = root.getRootNode();
  if ((host instanceof Document || host instanceof ShadowRoot) && !host.adoptedStyleSheets.includes(sheet)) {
    host.adoptedStyleSheets = [...host.adoptedStyleSheets, sheet];
  }
}

const METHOD_WORDS = /** @type {Record<string, string>} */ ({ 'aes-cbc-128': 'AES-CBC 128-bit', 'aes-cbc-256': 'AES-CBC 256-bit', 'aes-cbc-128-diffuser': 'AES-CBC 128-bit with the Elephant diffuser', 'aes-cbc-256-diffuser': 'AES-CBC 256-bit with the Elephant diffuser', 'aes-xts-128': 'AES-XTS 128-bit', 'aes-xts-256': 'AES-XTS 256-bit' });
const PROTECTOR_WORDS = /** @type {Record<string, string>} */ ({ 'clear-key': 'clear key (protection suspended)', tpm: 'TPM', 'startup-key': 'startup key file', 'tpm-pin': 'TPM and PIN', 'recovery-password': 'recovery password', password: 'password', other: 'other' });
const KIND_WORDS = /** @type {Record<string, string>} */ ({ file: 'file', dir: 'folder', symlink: 'link', other: 'other' });

/** What a file system calls a file's number. */
function idWords(/** @type {string | null} */ fs) {
  if (fs === 'ntfs') return 'MFT record';
  if (fs && (fs.startsWith('ext') || fs === 'xfs')) return 'Inode';
  return 'First cluster';
}

/** A partition in words: its type, or file system and label. */
function partTitle(/** @type {Partition} */ p) {
  const inner = p.bitlocker?.unlocked;
  const fs = p.filesystem ? FS_WORDS[p.filesystem] + (inner ? ` · ${FS_WORDS[inner] || inner}` : '') : null;
  return [`Partition ${p.index}`, fs || p.type_name, p.label ? `“${p.label}”` : null].filter(Boolean).join(' · ');
}

/**
 * What the browser shows: a partition or an LVM2 logical volume, `ref` naming it to the core.
 * @typedef {{ ref: VolumeRef, filesystem: FsName | null, label: string | null, name: string }} Browsed
 */

/** A partition as the browser shows it. */
function partBrowsed(/** @type {Partition} */ p) {
  return { ref: p.index, filesystem: p.filesystem, label: p.label, name: `Partition ${p.index}` };
}

/** An LVM2 logical volume's `VG/LV`. */
const lvName = (/** @type {LogicalVolume} */ v) => `${v.vg}/${v.lv}`;

/** A logical volume as the browser shows it. */
function lvBrowsed(/** @type {LogicalVolume} */ v) {
  return { ref: lvName(v), filesystem: v.filesystem, label: v.label, name: `Volume ${lvName(v)}` };
}

/** A logical volume in words: its name, file system and label. */
function lvTitle(/** @type {LogicalVolume} */ v) {
  return [`Logical volume ${lvName(v)}`, v.filesystem ? FS_WORDS[v.filesystem] : null, v.label ? `“${v.label}”` : null].filter(Boolean).join(' · ');
}

/** How a logical volume's segments lay its bytes out, in words. */
function lvLayout(/** @type {LogicalVolume} */ v) {
  const kinds = v.segments.map((s) => (s.type !== 'striped' ? `${s.type} (not read)` : s.stripes > 1 ? `striped (${s.stripes} stripes, ${humanSize(s.stripe_size)} chunks)` : 'linear'));
  const n = v.segments.length;
  return `${[...new Set(kinds)].join(', ')}; ${n} segment${n === 1 ? '' : 's'}`;
}

/** The partitions holding a logical volume's extents, in words. */
function lvPlaces(/** @type {LogicalVolume} */ v) {
  const pvs = v.segments.flatMap((s) => s.pvs);
  const parts = [...new Set(pvs.map((x) => x.partition).filter((n) => n !== null))];
  const absent = [...new Set(pvs.filter((x) => x.partition === null).map((x) => x.pv))];
  const on = parts.includes(0) ? ['the whole disk'] : parts.length ? [`partition${parts.length > 1 ? 's' : ''} ${parts.join(' and ')}`] : [];
  if (absent.length) on.push(`${absent.join(', ')} (not on this disk)`);
  return on.length ? `on ${on.join(', ')}` : '';
}

/** Why a logical volume's files cannot be browsed, or null when they can. */
function lvUnreadableWhy(/** @type {LogicalVolume} */ v) {
  if (v.unreadable) return v.unreadable;
  if (!v.filesystem || v.filesystem === 'bitlocker') return 'no file system this viewer reads';
  return null;
}

/** Why a partition's files cannot be browsed, or null when they can. */
function unreadableWhy(/** @type {Partition} */ p) {
  if (p.role === 'extended') return 'the container of the logical partitions';
  if (p.volume_group) return 'its logical volumes are listed below';
  if (p.filesystem === 'bitlocker' && p.cluster_size === null) return p.bitlocker?.unlocked === null ? 'the BitLocker volume is locked: unlock it with its key' : 'no file system this viewer reads inside the BitLocker volume';
  if (!p.filesystem || p.cluster_size === null) return 'no file system this viewer reads';
  return null;
}

/** `2024-05-01T12:00:00Z` as `2024-05-01 12:00` (UTC). */
function shortTime(/** @type {string | null} */ iso) {
  return iso ? iso.replace('T', ' ').replace(/:\d\dZ$/, '') : '—';
}

/** `2024-05-01T12:00:00Z` as `2024-05-01 12:00:00 UTC`. */
function longTime(/** @type {string | null} */ iso) {
  return iso ? iso.replace('T', ' ').replace('Z', ' UTC') : 'not recorded';
}

/** The parent of an absolute path. */
function parentOf(/** @type {string} */ path) {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last part of a path. */
function nameOf(/** @type {string} */ path) {
  return path.replace(/\/+$/, '').split('/').pop() || '/';
}

/**
 * Sorts entries: folders first, then by `key` (`name`, `size`, `modified`, `type`), ascending or not.
 * @param {FileEntry[]} entries
 * @param {string} key
 * @param {boolean} asc
 */
export function sortEntries(entries, key, asc) {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  /** @param {FileEntry} a @param {FileEntry} b */
  const by = (a, b) => {
    if (key === 'size') return a.size - b.size;
    if (key === 'modified') return (a.modified || '').localeCompare(b.modified || '');
    if (key === 'type') return a.type.localeCompare(b.type);
    return collator.compare(nameOf(a.path), nameOf(b.path));
  };
  return [...entries].sort((a, b) => {
    const dirs = Number(b.type === 'dir') - Number(a.type === 'dir');
    if (dirs) return dirs;
    const c = by(a, b) || collator.compare(nameOf(a.path), nameOf(b.path)) || Number(a.deleted) - Number(b.deleted);
    return asc ? c : -c;
  });
}

/**
 * The files view in `root`.
 * @param {HTMLElement} root
 * @param {FilesApi} api
 * @param {FilesOptions} [options]
 * @returns {FilesView}
 */
export function filesView(root, api, options = {}) {
  adoptStyles(root);
  const onPlace = options.onPlace || (() => {});
  /** @type {PartsTable | null} */
  let table = null;
  const state = {
    /** @type {Browsed | null} */ part: null,
    path: '/',
    deleted: false,
    /** @type {FileEntry[]} */ entries: [],
    sort: 'name',
    asc: true,
    /** @type {string | null} */ selected: null,
    /** Increases on every navigation, so that a late answer is dropped. */
    seq: 0,
    /** @type {{ cancelled: boolean } | null} */ saving: null,
    /** Rows drawn (a folder of 100,000 files is drawn a thousand rows at a time). */
    shown: ROWS,
  };

  const status = h('p', { class: 'status', 'data-field': 'status', role: 'status' });
  const strip = h('div', { class: 'strip', 'data-field': 'strip', role: 'group', 'aria-label': 'The disk from its first byte to its last' });
  const partList = h('ul', { class: 'parts', 'data-field': 'partitions' });
  const lvHead = h('h3', { hidden: true }, 'Logical volumes (LVM2)');
  const lvList = h('ul', { class: 'parts', 'data-field': 'volumes', hidden: true });
  const scheme = h('p', { 'data-field': 'scheme' });
  const crumbs = h('nav', { class: 'crumbs', 'data-field': 'breadcrumb', 'aria-label': 'Folder' });
  const deletedBox = h('input', { type: 'checkbox', 'data-action': 'deleted' });
  deletedBox.addEventListener('change', () => {
    state.deleted = deletedBox.checked;
    void list(state.path, false);
  });
  const caveat = h('p', { class: 'caveat', 'data-field': 'deleted-caveat', hidden: true },
    'Deleted entries (struck through, in red) are recovered from what the file system left behind. FAT forgets the first letter of a short name (shown as “_”) and where a deleted file’s later clusters were; exFAT, NTFS, ext and XFS keep more. The space of a deleted file may since have been reused, so its bytes may now belong to another file.');
  const tbody = h('tbody');
  const headRow = h('tr');
  const listing = h('div', { class: 'listing', 'data-field': 'listing' },
    h('table', { class: 'entries' }, h('caption', { class: 'visually-hidden' }, 'Folder contents; arrow keys move, Enter opens, Backspace goes up'), h('thead', {}, headRow), tbody));
  const panel = h('aside', { class: 'panel', 'data-field': 'panel', hidden: true, 'aria-live': 'polite' });
  const browser = h('div', { class: 'browser no-panel' }, h('div', {}, listing), panel);
  const browse = h('section', { 'data-field': 'browser', hidden: true },
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', 'data-action': 'up', title: 'The folder above (Backspace)', onclick: () => up() }, '↑ Up'),
      crumbs,
      h('label', {}, deletedBox, ' Show deleted files')),
    caveat,
    browser);
  // The picture of the partitions: above their list, or where the host shows it (the page's first screen).
  const picture = [h('h3', {}, 'Partitions'), scheme, strip];
  const view = h('div', { class: 'files-view' }, options.pictureRoot ? null : picture, partList, lvHead, lvList, browse, status);
  fill(root, view);
  if (options.pictureRoot) fill(options.pictureRoot, h('div', { class: 'files-view picture' }, picture));

  /** @param {unknown} e */
  const say = (e, bad = true) => {
    status.className = 'status' + (bad ? ' bad' : '');
    status.textContent = e instanceof Error ? e.message : String(e ?? '');
  };

  // ---- Partitions.
  function drawPartitions() {
    const t = /** @type {PartsTable} */ (table);
    const parts = t.partitions.filter((p) => p.role !== 'extended');
    // Sector numbers count the disk's logical sectors (512 bytes, or a VHDX's 4096).
    const ss = t.sector_size;
    const end = Math.max(options.diskSize || 0, ...t.partitions.map((p) => (p.start_sector + p.sector_count) * ss), 1);
    scheme.textContent =
      t.scheme === 'mbr' ? `An MBR partition table with ${parts.length} partition${parts.length === 1 ? '' : 's'}.`
        : t.scheme === 'gpt' ? `A GPT partition table (disk GUID ${t.disk_guid}) with ${parts.length} partition${parts.length === 1 ? '' : 's'}.`
          : parts.length ? 'No partition table: the file system starts at the disk’s first sector.' : t.volumes.length ? 'No partition table: the disk is an LVM2 physical volume.' : 'No partition table and no file system this viewer recognises.';
    for (const vg of new Set(t.volumes.map((v) => v.vg))) {
      const lvs = t.volumes.filter((v) => v.vg === vg);
      scheme.textContent += ` LVM2 volume group ${vg} with ${lvs.length} logical volume${lvs.length === 1 ? '' : 's'} (${lvs.map((v) => v.lv).join(', ')}).`;
    }
    const color = (/** @type {number} */ i) => `var(--layer-${i % 8})`;
    fill(strip, parts.map((p, i) => {
      const why = unreadableWhy(p);
      const seg = h('button', {
        type: 'button', class: 'seg', 'data-action': 'partition', 'data-partition': String(p.index), disabled: !!why,
        'aria-pressed': String(state.part?.ref === p.index),
        title: `${partTitle(p)}, ${humanSize(p.sector_count * ss)} from sector ${p.start_sector}${why ? ` (${why})` : ''}`,
        onclick: () => {
          options.onPicture?.();
          void open(p.index);
        },
      }, p.label || (p.filesystem ? FS_WORDS[p.filesystem] : p.volume_group ? `LVM2 ${p.volume_group}` : p.type_name), h('br'), humanSize(p.sector_count * ss));
      seg.style.left = `${(100 * p.start_sector * ss) / end}%`;
      seg.style.width = `${(100 * p.sector_count * ss) / end}%`;
      seg.style.setProperty('--c', color(i));
      return seg;
    }));
    fill(partList, parts.map((p, i) => {
      const why = unreadableWhy(p);
      const li = h('li', { class: state.part?.ref === p.index ? 'current' : '', 'data-partition': String(p.index) },
        h('strong', {}, partTitle(p)), h('br'),
        h('span', {}, `${humanSize(p.sector_count * ss)} from sector ${p.start_sector}${ss === 512 ? '' : ` of ${ss} bytes`} (byte ${hex(p.start_sector * ss)})`), h('br'),
        h('span', { class: 'small' }, `Type ${p.role === 'gpt' ? '' : p.type + ' '}${p.type_name}${p.name ? `, named “${p.name}”` : ''}`), h('br'),
        p.aligned_4k
          ? h('span', { 'data-field': 'aligned' }, '✓ 4 KiB aligned')
          : h('span', { class: 'misaligned', 'data-field': 'aligned' }, `⚠ Not 4 KiB aligned: it starts ${(p.start_sector * ss) % 4096} bytes past a 4 KiB boundary, so each of its clusters spans two 4 KiB pieces of the disk (slower on modern drives, and its clusters straddle bytes of the VHD’s sector bitmaps).`),
        p.cluster_size ? h('span', { class: 'small' }, h('br'), `Clusters of ${humanSize(p.cluster_size)}`) : null,
        h('br'),
        p.bitlocker ? bitlockerBox(p) : null,
        p.volume_group ? [h('span', { 'data-field': 'volume-group' }, `LVM2 physical volume of volume group ${p.volume_group}`), h('br')] : null,
        why ? h('span', { class: 'small' }, `Files not shown: ${why}.`)
          : h('button', { type: 'button', 'data-action': 'browse', 'data-partition': String(p.index), onclick: () => void open(p.index) }, 'Browse files'),
        ' ',
        h('button', { type: 'button', class: 'link', 'data-action': 'place', title: 'Show the partition on the disk’s maps and in the hex view', onclick: () => onPlace(p.start_sector * ss, p.sector_count * ss) }, 'show on the disk'));
      li.style.setProperty('--c', color(i));
      return li;
    }));
    lvHead.hidden = lvList.hidden = !t.volumes.length;
    fill(lvList, t.volumes.map((v, i) => {
      const why = lvUnreadableWhy(v);
      const name = lvName(v);
      const li = h('li', { class: state.part?.ref === name ? 'current' : '', 'data-volume': name },
        h('strong', { 'data-field': 'volume-title' }, lvTitle(v)), h('br'),
        h('span', { 'data-field': 'volume-size' }, `${humanSize(v.size)} ${lvPlaces(v)}`), h('br'),
        h('span', { class: 'small', 'data-field': 'volume-layout' }, lvLayout(v)), h('br'),
        why ? h('span', { class: 'small', 'data-field': 'volume-unreadable' }, `Files not shown: ${why}.`)
          : h('button', { type: 'button', 'data-action': 'browse', 'data-volume': name, onclick: () => void open(name) }, 'Browse files'));
      li.style.setProperty('--c', color(parts.length + i));
      return li;
    }));
  }

  /**
   * What a BitLocker partition is (method, state, protectors) and, while it is locked, the form
   * that unlocks it: the key goes to the Worker (the field is emptied at once) and stays there.
   * @param {Partition} p
   */
  function bitlockerBox(p) {
    const b = /** @type {import('../../common/types.js').BitLockerSummary} */ (p.bitlocker);
    const state = b.state === 'encrypted' || b.state === 'suspended' ? b.state.replace('-', ' ') : `${b.state.replace('-', ' ')}, ${b.percent_encrypted}% encrypted`;
    const about = h('span', { class: 'small', 'data-field': 'bitlocker' },
      `BitLocker, ${METHOD_WORDS[b.method] || b.method}, ${state}. Volume ${b.volume_id}${b.description ? `, “${b.description}”` : ''}. Protectors: `,
      b.protectors.map((k, i) => [i ? '; ' : '', `${PROTECTOR_WORDS[k.kind] || k.kind} ${k.id}`]), '.');
    if (b.unlocked !== null || b.suspended) return h('span', {}, h('br'), about, h('br'));
    const uid = `unlock-${p.index}`;
    const kind = h('select', { id: `${uid}-kind`, 'data-field': 'unlock-kind' },
      h('option', { value: 'password' }, 'Password'),
      h('option', { value: 'recovery-password' }, 'Recovery password (48 digits)'),
      h('option', { value: 'key-file' }, 'Startup key file (.BEK)'));
    const secret = h('input', { id: `${uid}-secret`, type: 'password', autocomplete: 'off', spellcheck: 'false', 'data-field': 'unlock-secret' });
    const file = h('input', { id: `${uid}-file`, type: 'file', accept: '.bek,.BEK', hidden: true, 'data-field': 'unlock-file' });
    const secretLabel = h('label', { for: `${uid}-secret` }, 'Key');
    const fileLabel = h('label', { for: `${uid}-file`, hidden: true }, 'Key file');
    kind.addEventListener('change', () => {
      const isFile = kind.value === 'key-file';
      for (const el of [secret, secretLabel]) el.hidden = isFile;
      for (const el of [file, fileLabel]) el.hidden = !isFile;
      secret.type = kind.value === 'password' ? 'password' : 'text';
    });
    const progress = h('progress', { max: '1', value: '0', hidden: true, 'data-field': 'unlock-progress' });
    const stop = h('button', { type: 'button', hidden: true, 'data-action': 'stop-unlock' }, 'Stop');
    const status = h('span', { role: 'status', 'data-field': 'unlock-status' });
    const go = h('button', { type: 'submit', 'data-action': 'unlock' }, 'Unlock');
    const form = h('form', { class: 'unlock', 'data-field': 'unlock', 'aria-label': `Unlock partition ${p.index}` },
      h('label', { for: `${uid}-kind` }, 'Unlock with'), ' ', kind, ' ', secretLabel, ' ', secret, fileLabel, ' ', file, ' ', go, ' ', progress, ' ', stop, ' ', status);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void (async () => {
        const how = /** @type {import('../../common/types.js').UnlockKind} */ (kind.value);
        const picked = file.files?.[0];
        const key = how === 'key-file' ? (picked ? new Uint8Array(await picked.arrayBuffer()) : null) : secret.value;
        secret.value = '';
        file.value = '';
        if (!key || !key.length) {
          status.textContent = how === 'key-file' ? 'Choose the .BEK file first.' : 'Type the key first.';
          return;
        }
        const ctrl = new AbortController();
        stop.onclick = () => ctrl.abort();
        go.disabled = true;
        progress.hidden = stop.hidden = false;
        progress.removeAttribute('value');
        status.className = '';
        status.textContent = how === 'key-file' ? 'Unlocking…' : 'Working out the key (about a million SHA-256 rounds)…';
        root.dataset.unlock = 'running';
        try {
          table = await api.unlock(p.index, how, key, ctrl.signal, (done, total) => {
            progress.max = total;
            progress.value = done;
          });
          root.dataset.unlock = 'done';
          drawPartitions();
          await open(p.index);
        } catch (e) {
          const stopped = ctrl.signal.aborted;
          status.className = stopped ? '' : 'bad';
          status.textContent = stopped ? 'Stopped.' : `Not unlocked: ${e instanceof Error ? e.message : String(e)}`;
          root.dataset.unlock = stopped ? 'stopped' : 'error';
        } finally {
          go.disabled = false;
          progress.hidden = stop.hidden = true;
        }
      })();
    });
    return h('span', {}, h('br'), about, h('br'), form);
  }

  /**
   * Opens partition `index` (or LVM2 logical volume `VG/LV`) at `path`; `focus` moves the
   * keyboard focus (and the page) to the listing's first row, as a reader's own choice of a
   * partition does.
   * @param {VolumeRef} index
   * @param {string} [path]
   * @param {boolean} [focus]
   */
  async function open(index, path = '/', focus = true) {
    const p = typeof index === 'string' ? table?.volumes.find((v) => lvName(v) === index) : table?.partitions.find((x) => x.index === index);
    if (!p) throw new Error(typeof index === 'string' ? `there is no logical volume ${index}` : `there is no partition ${index}`);
    state.part = 'vg' in p ? lvBrowsed(p) : partBrowsed(p);
    drawPartitions();
    browse.hidden = false;
    await list(path, focus);
  }

  // ---- The listing.
  const COLS = /** @type {const} */ ([['name', 'Name', 'c-name'], ['size', 'Size', 'c-size'], ['modified', 'Modified (UTC)', 'c-mod'], ['type', 'Kind', 'c-kind']]);
  function drawHead() {
    fill(headRow, COLS.map(([key, label, cls]) => h('th', { class: cls, scope: 'col', 'aria-sort': state.sort === key ? (state.asc ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', 'data-action': 'sort', 'data-sort': key, onclick: () => {
        state.asc = state.sort === key ? !state.asc : true;
        state.sort = key;
        drawList();
      } }, label, state.sort === key ? (state.asc ? ' ▲' : ' ▼') : ''))));
  }

  function drawCrumbs() {
    const parts = state.path.split('/').filter(Boolean);
    /** @type {Child[]} */
    const items = [h('button', { type: 'button', class: 'link', 'data-action': 'crumb', 'data-path': '/', onclick: () => void list('/') }, state.part ? `${state.part.label || state.part.name}` : '/')];
    parts.forEach((name, i) => {
      const p = '/' + parts.slice(0, i + 1).join('/');
      items.push(h('span', { 'aria-hidden': 'true' }, ' / '), i === parts.length - 1
        ? h('span', { 'aria-current': 'page', 'data-field': 'current-dir' }, name)
        : h('button', { type: 'button', class: 'link', 'data-action': 'crumb', 'data-path': p, onclick: () => void list(p) }, name));
    });
    fill(crumbs, items);
  }

  function drawList() {
    drawHead();
    const sorted = sortEntries(state.entries, state.sort, state.asc);
    // The selected row is always drawn, however far down.
    const at = sorted.findIndex((e) => e.path === state.selected);
    state.shown = Math.max(state.shown, at + 1);
    const rows = sorted.slice(0, state.shown).map((e) => {
      const name = nameOf(e.path);
      const btn = h('button', { type: 'button', 'data-action': 'open', tabindex: '-1', onclick: () => void activate(e) },
        name,
        e.type === 'dir' ? '/' : e.type === 'symlink' ? ' →' : '',
        e.deleted ? h('span', { class: 'badge' }, 'deleted') : null);
      const tr = h('tr', { class: `${e.type}${e.deleted ? ' deleted' : ''}${state.selected === e.path ? ' selected' : ''}`, 'data-path': e.path, 'data-type': e.type, 'data-deleted': String(e.deleted) },
        h('td', { class: 'c-name' }, btn),
        h('td', { class: 'c-size', 'data-field': 'size', title: `${e.size} bytes` }, e.type === 'dir' ? '' : humanSize(e.size)),
        h('td', { class: 'c-mod', 'data-field': 'modified' }, shortTime(e.modified)),
        h('td', { class: 'c-kind' }, KIND_WORDS[e.type] || e.type));
      return tr;
    });
    if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: '4', class: 'empty' }, state.deleted ? 'This folder is empty, and nothing deleted was found in it.' : 'This folder is empty.')));
    if (sorted.length > state.shown) {
      rows.push(h('tr', {}, h('td', { colspan: '4' },
        `${sorted.length - state.shown} more not drawn. `,
        h('button', { type: 'button', 'data-action': 'more', onclick: () => {
          state.shown += ROWS;
          drawList();
        } }, `Show ${Math.min(ROWS, sorted.length - state.shown)} more`))));
    }
    fill(tbody, rows);
    const buttons = rowButtons();
    const sel = buttons.find((b) => b.closest('tr')?.dataset.path === state.selected) || buttons[0];
    if (sel) sel.tabIndex = 0;
  }

  const rowButtons = () => /** @type {HTMLButtonElement[]} */ ([...tbody.querySelectorAll('button[data-action="open"]')]);

  /**
   * Lists folder `path` of the current partition.
   * @param {string} path
   * @param {boolean} [focus]
   */
  async function list(path, focus = true) {
    if (!state.part) return;
    const seq = ++state.seq;
    const part = state.part.ref;
    root.dataset.state = 'loading';
    say('Reading the folder…', false);
    try {
      const entries = await api.list(part, path, state.deleted);
      if (seq !== state.seq) return;
      const from = state.path;
      state.path = path;
      state.entries = entries;
      if (from !== path) state.shown = ROWS;
      state.selected = from === path ? state.selected : parentOf(from) === path ? from : null;
      caveat.hidden = !state.deleted;
      options.onMove?.(part, path);
      drawCrumbs();
      drawList();
      const n = entries.filter((e) => !e.deleted).length;
      const d = entries.length - n;
      say(`${n} item${n === 1 ? '' : 's'}${state.deleted ? `, ${d} deleted` : ''}.`, false);
      root.dataset.state = 'ready';
      if (focus) {
        const b = rowButtons().find((x) => x.tabIndex === 0);
        b?.focus();
      }
    } catch (e) {
      if (seq !== state.seq) return;
      say(e);
      root.dataset.state = 'error';
    }
  }

  /** Opens a folder, or shows a file's panel. */
  async function activate(/** @type {FileEntry} */ e) {
    state.selected = e.path;
    for (const tr of tbody.querySelectorAll('tr')) tr.classList.toggle('selected', /** @type {HTMLElement} */ (tr).dataset.path === e.path);
    if (e.type === 'dir' && !e.deleted) {
      await list(e.path);
      return;
    }
    if (state.part) options.onMove?.(state.part.ref, e.path);
    await showPanel(e);
  }

  async function up() {
    if (state.path !== '/') await list(parentOf(state.path));
  }

  listing.addEventListener('keydown', (ev) => {
    const buttons = rowButtons();
    // The focused element, in the document or in the shadow root of an element the view is in.
    const active = /** @type {Document | ShadowRoot} */ (root.getRootNode()).activeElement;
    const i = buttons.indexOf(/** @type {HTMLButtonElement} */ (active));
    const at = i >= 0 ? i : buttons.findIndex((b) => b.tabIndex === 0);
    /** @param {number} k */
    const go = (k) => {
      const b = buttons[Math.max(0, Math.min(buttons.length - 1, k))];
      if (!b) return;
      buttons.forEach((x) => (x.tabIndex = -1));
      b.tabIndex = 0;
      b.focus();
      b.scrollIntoView({ block: 'nearest' });
    };
    const key = /** @type {KeyboardEvent} */ (ev).key;
    if (key === 'ArrowDown') go(at + 1);
    else if (key === 'ArrowUp') go(at - 1);
    else if (key === 'Home') go(0);
    else if (key === 'End') go(buttons.length - 1);
    else if (key === 'PageDown') go(at + 10);
    else if (key === 'PageUp') go(at - 10);
    else if (key === 'Backspace') void up();
    else return;
    ev.preventDefault();
  });

  // ---- A file's panel.
  /** @param {FileEntry} e */
  async function showPanel(e) {
    const seq = state.seq;
    const part = /** @type {Browsed} */ (state.part);
    /** @type {FileStat} */
    let s;
    try {
      s = await api.stat(part.ref, e.path, e.deleted);
    } catch (err) {
      say(err);
      return;
    }
    if (seq !== state.seq) return;
    browser.classList.remove('no-panel');
    panel.hidden = false;
    const place = (/** @type {number} */ offset, /** @type {number} */ len, /** @type {Child} */ label, /** @type {string} */ title) =>
      h('button', { type: 'button', class: 'link', 'data-action': 'place', 'data-offset': String(offset), 'data-len': String(len), title, onclick: () => onPlace(offset, len) }, label);
    const runs = s.runs.slice(0, RUNS_SHOWN).map((r) =>
      h('tr', { 'data-field': 'run' },
        h('td', {}, `${r.file_offset.toLocaleString('en')}–${(r.file_offset + r.len).toLocaleString('en')}`),
        h('td', {}, humanSize(r.len)),
        h('td', {}, r.disk_offset === null ? h('span', { class: 'small' }, s.storage === 'compressed' ? 'not stored (compressed, or zeros)' : 'a hole: reads as zeros')
          : place(r.disk_offset, r.len, hex(r.disk_offset), 'Show this run on the disk’s maps and in the hex view'))));
    const storage = s.storage === 'inline' ? 'inside its directory entry or record (no clusters of its own)'
      : s.storage === 'compressed' ? `NTFS-compressed, in units of ${humanSize(s.compression_unit || 0)}: the runs hold compressed bytes`
        : s.storage === 'runs' ? (s.runs.length === 0 ? 'no clusters (empty)' : `${s.runs.length} run${s.runs.length === 1 ? '' : 's'} on the disk${s.runs.length > 1 ? ' (fragmented)' : ''}${s.runs.some((r) => r.sparse) ? ', with holes (sparse)' : ''}`)
          : 'cannot be located';
    // Focusable, so that a keyboard scrolls it too.
    const peek = h('div', { class: 'dump', 'data-field': 'peek', tabindex: '0', role: 'region', 'aria-label': 'The file’s first bytes' });
    const saveBox = h('div', { class: 'save' });
    const canRead = s.type !== 'dir' && s.storage !== null;
    fill(panel,
      h('h4', { 'data-field': 'name' }, s.name || '/'),
      s.deleted ? h('p', { class: 'caveat' }, 'This file is deleted: its name and bytes are what was left behind, and may be incomplete or belong to another file now.') : null,
      h('dl', {},
        h('dt', {}, 'Path'), h('dd', { 'data-field': 'path' }, s.path),
        h('dt', {}, 'Size'), h('dd', {}, h('span', { 'data-field': 'size' }, String(s.size)), ` bytes (${humanSize(s.size)})`),
        h('dt', {}, 'Modified'), h('dd', { 'data-field': 'modified' }, longTime(s.modified)),
        s.times?.created ? [h('dt', {}, 'Created'), h('dd', { 'data-field': 'created' }, longTime(s.times.created))] : null,
        s.times?.accessed ? [h('dt', {}, 'Last opened'), h('dd', { 'data-field': 'accessed' }, longTime(s.times.accessed), part.filesystem?.startsWith('fat') ? ' (FAT keeps the day only)' : '')] : null,
        s.times?.changed ? [h('dt', {}, part.filesystem === 'ntfs' ? 'Record changed' : 'Inode changed'), h('dd', { 'data-field': 'changed' }, longTime(s.times.changed))] : null,
        h('dt', {}, 'Kind'), h('dd', {}, KIND_WORDS[s.type] || s.type, s.deleted ? ' (deleted)' : ''),
        h('dt', {}, 'Attributes'), h('dd', { 'data-field': 'attributes' }, s.attributes.length ? s.attributes.join(', ') : 'none'),
        h('dt', {}, idWords(part.filesystem)), h('dd', { 'data-field': 'id' }, String(s.id)),
        s.entry_disk_offset !== null ? [h('dt', {}, part.filesystem === 'ntfs' ? 'Its record' : 'Its entry'), h('dd', {}, place(s.entry_disk_offset, part.filesystem === 'ntfs' ? 1024 : 32, hex(s.entry_disk_offset), 'Show it on the disk'))] : null,
        h('dt', {}, 'Stored'), h('dd', { 'data-field': 'storage' }, storage, s.data_error ? h('span', { class: 'bad' }, ` (${s.data_error})`) : null)),
      s.streams.length ? [h('h4', {}, 'Alternate data streams'), h('ul', { 'data-field': 'streams' }, s.streams.map((st) =>
        h('li', {}, h('code', {}, `${s.name}:${st.name}`), ` ${humanSize(st.size)} `,
          h('button', { type: 'button', 'data-action': 'save-stream', 'data-stream': st.name, onclick: () => void save(s, st.name, st.size) }, 'Save'))))] : null,
      supplyBar(s),
      s.runs.length ? [h('h4', {}, 'Where it is on the disk'),
        h('table', { class: 'runs', 'data-field': 'runs' },
          h('thead', {}, h('tr', {}, h('th', {}, 'File bytes'), h('th', {}, 'Length'), h('th', {}, 'Disk byte'))),
          h('tbody', {}, runs)),
        s.runs.length > RUNS_SHOWN ? h('p', { class: 'small' }, `… and ${s.runs.length - RUNS_SHOWN} more runs.`) : null] : null,
      canRead ? [saveBox, h('h4', {}, 'First bytes'), peek] : null);
    if (!canRead) return;
    drawSave(saveBox, s);
    try {
      const bytes = await api.read(part.ref, s.path, undefined, s.deleted, 0, Math.min(PEEK, s.size));
      if (seq === state.seq) {
        if (bytes.length) dump(peek, bytes, 0);
        else peek.textContent = 'The file is empty.';
      }
    } catch (err) {
      peek.textContent = `Cannot be read: ${err instanceof Error ? err.message : String(err)}`;
      peek.classList.add('bad');
    }
  }

  /**
   * A bar of the file's bytes by the layer of the chain that supplies them, with a legend.
   * @param {FileStat} s
   */
  function supplyBar(s) {
    const parts = s.supply || [];
    const total = parts.reduce((n, p) => n + p.len, 0);
    if (!total) return null;
    const names = options.layerNames || [];
    /** @param {FileSupply} p */
    const key = (p) => (p.kind === 'data' || p.kind === 'missing' ? `${p.kind}:${p.layer}` : p.kind);
    /** @param {FileSupply} p */
    const words = (p) => {
      const name = p.layer !== null && names[p.layer] ? ` (${names[p.layer]})` : '';
      if (p.kind === 'data') return `${p.layer === 0 ? 'the top layer' : `layer ${p.layer}`}${name}`;
      if (p.kind === 'missing') return `missing: the parent of layer ${p.layer}${name} is not given`;
      if (p.kind === 'zero') return 'zeros: no layer holds these bytes';
      return 'holes of the file (read as zeros)';
    };
    /** @param {FileSupply} p */
    const color = (p) => (p.kind === 'data' ? `var(--layer-${(p.layer || 0) % 8})` : p.kind === 'missing' ? 'var(--missing)' : 'transparent');
    /** @type {Map<string, { part: FileSupply, bytes: number }>} */
    const sums = new Map();
    for (const p of parts) {
      const k = key(p);
      const cur = sums.get(k);
      if (cur) cur.bytes += p.len;
      else sums.set(k, { part: p, bytes: p.len });
    }
    const bar = h('div', { class: 'supply', 'data-field': 'supply', role: 'img', 'aria-label': [...sums.values()].map((x) => `${humanSize(x.bytes)} from ${words(x.part)}`).join('; ') },
      parts.map((p) => {
        const seg = h('span', { class: `part ${p.kind}`, 'data-kind': p.kind, 'data-layer': p.layer === null ? '' : String(p.layer), title: `file bytes ${p.file_offset}–${p.file_offset + p.len}: ${words(p)}` });
        seg.style.width = `${(100 * p.len) / total}%`;
        seg.style.background = color(p);
        return seg;
      }));
    return [
      h('h4', {}, 'Which layer holds it'),
      bar,
      h('ul', { class: 'supply-legend' }, [...sums.values()].map((x) => {
        const sw = h('span', { class: `swatch ${x.part.kind}` });
        sw.style.background = color(x.part);
        return h('li', { 'data-field': 'supply-layer' }, sw, ` ${humanSize(x.bytes)} from ${words(x.part)}`);
      })),
      s.supply_truncated ? h('p', { class: 'small' }, 'Only the first 4096 parts are drawn.') : null,
    ];
  }

  /** The save button (or the progress of a save). */
  function drawSave(/** @type {HTMLElement} */ box, /** @type {FileStat} */ s, /** @type {Child} */ note = null) {
    fill(box, h('button', { type: 'button', 'data-action': 'save', onclick: () => void save(s, undefined, s.size, box) }, `Save file (${humanSize(s.size)})`), note);
  }

  /**
   * Reads the file (or its stream) window by window and offers it as a download.
   * @param {FileStat} s
   * @param {string | undefined} stream
   * @param {number} size
   * @param {HTMLElement} [box]
   */
  async function save(s, stream, size, box) {
    if (state.saving) state.saving.cancelled = true;
    const job = { cancelled: false };
    state.saving = job;
    const part = /** @type {Browsed} */ (state.part);
    const progress = h('progress', { max: String(Math.max(size, 1)), value: '0', 'data-field': 'save-progress' });
    const words = h('span', { 'data-field': 'save-status' }, 'Reading…');
    const cancel = h('button', { type: 'button', 'data-action': 'cancel-save', onclick: () => (job.cancelled = true) }, 'Cancel');
    const target = box || panel.querySelector('.save');
    if (target) fill(target, progress, words, cancel);
    root.dataset.save = 'running';
    /** @type {Uint8Array[]} */
    const pieces = [];
    let done = 0;
    try {
      while (done < size) {
        if (job.cancelled) break;
        const piece = await api.read(part.ref, s.path, stream, s.deleted, done, Math.min(SAVE_WINDOW, size - done));
        if (!piece.length) throw new Error(`the file ended at byte ${done} of ${size}`);
        pieces.push(piece);
        done += piece.length;
        progress.value = done;
        words.textContent = `${humanSize(done)} of ${humanSize(size)}`;
      }
      if (job.cancelled) {
        words.textContent = 'Cancelled.';
        root.dataset.save = 'cancelled';
      } else {
        const name = stream ? `${s.name}_${stream}` : s.name || 'file';
        const url = URL.createObjectURL(new Blob(/** @type {BlobPart[]} */ (pieces), { type: 'application/octet-stream' }));
        const a = h('a', { href: url, download: name, 'data-field': 'download' }, `Save “${name}” again`);
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        words.textContent = `Saved ${humanSize(size)}. `;
        words.append(a);
        root.dataset.save = 'done';
      }
    } catch (e) {
      words.textContent = `Cannot be read: ${e instanceof Error ? e.message : String(e)}`;
      words.classList.add('bad');
      root.dataset.save = 'error';
    } finally {
      cancel.remove();
      if (state.saving === job) state.saving = null;
      if (box && root.dataset.save !== 'done' && box.isConnected) drawSave(box, s, words);
    }
  }

  const ready = (async () => {
    root.dataset.state = 'loading';
    try {
      table = await api.partitions();
      drawPartitions();
      const first = table.partitions.find((p) => !unreadableWhy(p));
      const lv = table.volumes.find((v) => !lvUnreadableWhy(v));
      // Listed, not focused: the first screen stays on what the disk is (the overview above).
      if (first || lv) await open(first ? first.index : lvName(/** @type {LogicalVolume} */ (lv)), '/', false);
      else {
        say('No partition holds a file system this viewer reads (FAT12/16/32, exFAT, NTFS, ext2/3/4, XFS).', false);
        root.dataset.state = 'ready';
      }
    } catch (e) {
      say(e);
      root.dataset.state = 'error';
    }
  })();

  return {
    ready,
    open,
    destroy() {
      if (state.saving) state.saving.cancelled = true;
      state.seq++;
      root.replaceChildren();
      options.pictureRoot?.replaceChildren();
    },
  };
}

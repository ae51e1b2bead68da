// The page: its layout (index.html) and the files it is given (drop, file input, folder, samples).
// A folder is surveyed, not opened (the folder view: its trees of disks and what is wrong with
// them, views/folder.js); several files that are not one sound chain are opened and surveyed.
// Everything else (opening, every view, the scan, the check, tasks) is the controller's
// (controller.js), the same one the <vhd-viewer> element uses, over the public API (api.js),
// whose core runs in a Worker.
import { startWorker } from './engine.js';
import { humanSize, baseName } from '../common/format.js';
import { h, fill } from './dom.js';
import { viewsSheet } from './views/css.js';
import { Viewer } from './controller.js';
import { surveyFolder } from './api.js';
import { FolderView } from './views/folder.js';
import { droppedFiles, chosenFiles, pickedFiles, MAX_FILES } from './folders.js';
import { parseFragment, formatFragment } from './location.js';

/**
 * @import { Parts } from './controller.js'
 * @import { Survey } from '../common/types.js'
 * @import { DirHandle } from './folders.js'
 */

/**
 * An element of the page by id (index.html has every one asked for).
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, viewsSheet()];
const body = document.body;

/** @type {Parts} */
const parts = {
  messages: $('messages'),
  fileList: $('file-list'),
  chain: $('chain'),
  summary: $('summary-body'),
  systems: $('systems'),
  health: $('health'),
  partsPicture: $('parts-picture'),
  layerSelect: $('layer-select'),
  structures: $('structures-body'),
  batLayer: $('bat-layer'),
  batLegend: $('bat-legend'),
  batCanvas: $('bat-canvas'),
  batHover: $('bat-hover'),
  provLead: $('prov-lead'),
  scan: $('prov-scan'),
  provState: $('prov-state'),
  provLegend: $('prov-legend'),
  provCanvas: $('prov-canvas'),
  provHover: $('prov-hover'),
  closeup: $('closeup-body'),
  hexForm: $('hex-form'),
  hexAt: $('hex-at'),
  hexPrev: $('hex-prev'),
  hexNext: $('hex-next'),
  hexSource: $('hex-source'),
  hexOwner: $('hex-owner'),
  hexDump: $('hex-dump'),
  hexLayer: $('hex-layer'),
  hexModes: [.../** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="hex-mode"]'))],
  hexAtLabel: $('hex-at-label'),
  findings: $('findings-body'),
  checkRun: $('check-run'),
  checkBody: $('check-body'),
  search: $('search-view'),
  files: $('files-view'),
  filesLayer: $('files-layer'),
  timeline: $('timeline-body-view'),
  timelineRun: $('timeline-run'),
  timelineBody: $('timeline-body'),
  timelineCsv: $('timeline-csv'),
  changes: $('changes-body'),
  changesFrom: $('changes-from'),
  changesTo: $('changes-to'),
  changesRun: $('changes-run'),
  rebaseOnto: $('rebase-onto'),
  rebaseRun: $('rebase-run'),
  save: $('export-body'),
  task: $('task'),
  taskLabel: $('task-label'),
  taskProgress: $('task-progress'),
  taskCount: $('task-count'),
  taskCancel: $('task-cancel'),
};

/** @type {Record<string, string>} the page's section of each view the controller reveals */
const SECTIONS = { structures: 'structures', bat: 'bat', provenance: 'provenance', closeup: 'closeup', hex: 'hex', findings: 'findings', files: 'volumes', changes: 'changes', chain: 'files', search: 'search' };
/** @type {Record<string, string>} the page's section of each view a place names (location.js) */
const VIEW_SECTIONS = { summary: 'overview', files: 'volumes', changes: 'changes', timeline: 'timeline', footer: 'structures', chain: 'files', bat: 'bat', bitmap: 'provenance', hex: 'hex', search: 'search', findings: 'findings', save: 'export' };
/**
 * The place the URL's fragment named when the page opened (location.js): the first disk shown
 * goes there if it is the disk named (or none is named), and says nothing otherwise.
 * @type {import('./location.js').Place | null}
 */
let linked = location.hash ? parseFragment(location.hash) : null;

const viewer = new Viewer(parts, {
  state: (s) => {
    body.dataset.state = s;
    if (s === 'error' && !viewer.disk?.names.length) $('viewer').hidden = true;
  },
  scanState: (s) => {
    if (s) body.dataset.scan = s;
    else delete body.dataset.scan;
  },
  filesAtOnce: true,
  reveal: (view, el) => (el ?? $(SECTIONS[view])).scrollIntoView({ behavior: 'smooth', block: el ? 'center' : 'start' }),
  shown: () => {
    $('viewer').hidden = false;
  },
  structuresShown: () => {
    $('viewer').hidden = false;
  },
  saveIds: 'export-',
  place: (id) => {
    const p = linked;
    linked = null;
    return p && (p.disk === undefined || p.disk === id) ? p : {};
  },
  // The URL says where the reader is, without a history entry for each move.
  moved: (place, id) => writeFragment(formatFragment({ disk: id, ...place })),
  view: (v) => $(VIEW_SECTIONS[v])?.scrollIntoView({ block: 'start' }),
});

/** How often the URL's fragment is rewritten at most, in ms (Safari refuses more than 100 rewrites in 30 s). */
const FRAGMENT_MS = 400;
let fragmentAt = -Infinity;
/** @type {ReturnType<typeof setTimeout> | null} */
let fragmentTimer = null;
let fragment = '';
/**
 * Puts `hash` in the URL (history.replaceState): at once, or (moves in quick succession: the hex
 * view's arrows held down) the last one FRAGMENT_MS after the one before.
 * @param {string} hash
 */
function writeFragment(hash) {
  fragment = hash;
  if (fragmentTimer) return;
  const write = () => {
    fragmentTimer = null;
    fragmentAt = performance.now();
    history.replaceState(history.state, '', fragment || location.pathname + location.search);
  };
  const wait = fragmentAt + FRAGMENT_MS - performance.now();
  if (wait <= 0) write();
  else fragmentTimer = setTimeout(write, wait);
}

// A place pasted or followed on the page: the disk shown goes there if it is the disk named.
window.addEventListener('hashchange', () => {
  const p = parseFragment(location.hash);
  if (viewer.disk && Object.keys(p).length && (p.disk === undefined || p.disk === viewer.diskId())) void viewer.goTo(p);
});

/** What the page has read from the files given, and the disk shown: for users' scripts and the tests. */
window.vhdViewer = {
  get readStats() {
    const all = viewer.disk?.stats ?? [];
    return { reads: all.reduce((n, s) => n + s.reads, 0), bytes: all.reduce((n, s) => n + s.bytes, 0) };
  },
  get state() {
    return { disk: viewer.disk, cellSize: viewer.cellSize, scanned: viewer.scanned, masks: viewer.prov.masks, files: given, folder };
  },
  /**
   * Gives the page a folder's files, each named by its path (`/` between folders), as a drop
   * of the folder or "Choose a folder…" does.
   * @param {{ name: string, blob: Blob }[]} files
   */
  loadFolder: (files) => loadFolder(files.map(({ name, blob }) => ({ name, blob: blob instanceof File ? blob : new File([blob], baseName(name)) }))),
};

/** @type {{ name: string, blob: Blob }[]} the files given last */
let given = [];
/**
 * The folder (or the files) surveyed last: the survey, what was read of each file (in the order
 * of `names`), and the files by name.
 * @type {{ survey: Survey, stats: { reads: number, bytes: number }[], names: string[] } | null}
 */
let folder = null;
/** @type {Map<string, Blob>} the files of the folder view, by their path */
let folderFiles = new Map();
/** @type {AbortController | null} the survey under way */
let surveying = null;

/**
 * Settles when the core's Worker has started and opened its small disk (worker.js: warmUp), or
 * has failed to start (said in a message; files given then fail with the reason).
 */
const engineReady = startWorker().then(
  async (s) => {
    await s.warm;
    body.dataset.wasm = 'ready';
  },
  (e) => viewer.message(`The WebAssembly part of the page did not load: ${/** @type {Error} */ (e).message}`, 'error'),
);

/**
 * Opens `files` as the new set of files. Files given before the engine is ready wait for it
 * (the page shows that it is loading); of several given meanwhile, the latest are opened.
 * `fromFolder`: a chain chosen in the folder view (which stays).
 * @param {{ name: string, blob: Blob }[]} files
 * @param {{ fromFolder?: boolean }} [options]
 */
async function loadFiles(files, { fromFolder = false } = {}) {
  given = files;
  if (!fromFolder) {
    surveying?.abort(new DOMException('other files were given', 'AbortError'));
    folderView.hide();
  }
  if (body.dataset.wasm !== 'ready') {
    body.dataset.state = 'loading';
    await engineReady;
    if (given !== files) return;
  }
  await viewer.load(files.map(({ name, blob }) => (blob instanceof File && blob.name === name ? blob : new File([blob], name))));
  // Several files that are not one sound chain (several disks, a missing parent, a file that is
  // not a disk, a copy): the folder view says what they are, above the disk shown.
  const disk = viewer.disk;
  if (!fromFolder && given === files && files.length > 1) {
    const sound = disk && disk.chainCount === 1 && !disk.missingParent && disk.files.every((f) => !f.error && f.duplicateOf === undefined);
    // A few files, in the page's Worker: nothing to start or fetch.
    if (!sound) await survey(files, false);
  }
}

/**
 * Gives a folder's files (each named by its path under the folder's parent): the folder view,
 * with nothing opened until a disk is chosen in it.
 * @param {{ name: string, blob: File }[]} files
 * @param {boolean} [bounded] whether the walk stopped at its bound of files
 */
async function loadFolder(files, bounded = false) {
  given = files;
  viewer.close();
  $('viewer').hidden = true;
  body.dataset.state = 'folder';
  if (!files.length) {
    surveying?.abort(new DOMException('other files were given', 'AbortError'));
    folderView.failed('The folder given holds no files.', 'error');
    return;
  }
  await survey(files);
  if (bounded) folderView.note(`The folder holds more than ${MAX_FILES} files: only the first ${MAX_FILES} were read.`);
}

/**
 * Surveys `files` (each file's identifying structures only), with progress and Stop, and shows the
 * answer in the folder view; `alone`: in a Worker of its own, which Stop ends at once (a folder,
 * of any number of files), else in the page's Worker (a few files given).
 * @param {{ name: string, blob: Blob }[]} files
 * @param {boolean} [alone]
 */
async function survey(files, alone = true) {
  surveying?.abort(new DOMException('other files were given', 'AbortError'));
  const ctrl = new AbortController();
  surveying = ctrl;
  folder = null;
  folderFiles = new Map(files.map((f) => [f.name, f.blob]));
  folderView.busy(0, files.length);
  try {
    await engineReady;
    const r = await surveyFolder(files, { signal: ctrl.signal, alone, onProgress: (done, total) => surveying === ctrl && folderView.busy(done, total) });
    if (surveying !== ctrl) return;
    folder = { ...r, names: files.map((f) => f.name) };
    folderView.show(r.survey);
  } catch (e) {
    if (surveying !== ctrl) return;
    const err = /** @type {Error} */ (e);
    if (ctrl.signal.aborted) folderView.failed('Stopped: the files were not all read.', 'stopped');
    else folderView.failed(`The files could not be read: ${err.message}`, 'error');
  } finally {
    if (surveying === ctrl) surveying = null;
  }
}

/**
 * Opens one chain of the folder view in the viewer (the file and its ancestors as the survey
 * found them by id); resolves whether it is shown.
 * @param {string[]} chain
 */
async function openChain(chain) {
  const files = chain.flatMap((name) => {
    const blob = folderFiles.get(name);
    return blob ? [{ name: baseName(name), blob }] : [];
  });
  await loadFiles(files, { fromFolder: true });
  if (given !== files || body.dataset.state !== 'ready') return false;
  $('viewer').scrollIntoView({ behavior: 'smooth', block: 'start' });
  return true;
}

const folderView = new FolderView($('folder'), {
  open: (chain) => void openChain(chain),
  // A moved parent: the child's relinked copy, its parent's new path filled in.
  relink: async (chain, relative) => {
    if (!(await openChain(chain))) return;
    viewer.saveView.choose(0);
    viewer.saveView.relative.value = relative;
    viewer.saveView.absolute.value = '';
    viewer.message(`${baseName(chain[0])}: the relinked copy's parent path is filled in below (${relative}, from the child's folder). Choose "Relinked child…" to save it; the files are not changed.`);
    $('export').scrollIntoView({ behavior: 'smooth', block: 'start' });
    viewer.saveView.relative.focus({ preventScroll: true });
  },
  // A checkpoint chain merged into one standalone disk: "Save as VHD/VHDX…" of the whole chain.
  merge: async (chain) => {
    if (!(await openChain(chain))) return;
    viewer.saveView.choose(0);
    viewer.message(`${baseName(chain[0])} and its ${chain.length - 1 === 1 ? 'parent' : `${chain.length - 1} parents`}: "Save as VHD/VHDX…" below writes them merged into one standalone disk; the files are not changed.`);
    $('export').scrollIntoView({ behavior: 'smooth', block: 'start' });
    $('export-vhd').focus({ preventScroll: true });
  },
  stop: () => surveying?.abort(new DOMException('stopped', 'AbortError')),
});

$('explain-toggle').addEventListener('change', (/** @type {Event} */ e) => body.classList.toggle('show-explain', /** @type {HTMLInputElement} */ (e.target).checked));

// ---------------------------------------------------------------- input: files, drop, samples

/**
 * Opens the files of the page's file input, and empties it (so that the same files given again
 * open again).
 * @param {HTMLInputElement} input
 */
function takeInput(input) {
  const files = [.../** @type {FileList} */ (input.files)]; // a file input's files
  if (files.length) loadFiles(files.map((f) => ({ name: f.name, blob: f })));
  input.value = '';
}
$('file-input').addEventListener('change', (/** @type {Event} */ e) => takeInput(/** @type {HTMLInputElement} */ (e.target)));

// "Choose a folder…": showDirectoryPicker where the browser has it, else the folder input.
const folderInput = /** @type {HTMLInputElement} */ ($('folder-input'));
folderInput.addEventListener('click', (e) => {
  const pick = /** @type {{ showDirectoryPicker?: () => Promise<DirHandle> }} */ (/** @type {unknown} */ (window)).showDirectoryPicker;
  if (typeof pick !== 'function') return;
  e.preventDefault();
  pick.call(window).then(
    async (dir) => {
      const { files, bounded } = await pickedFiles(dir);
      await loadFolder(files, bounded);
    },
    (/** @type {Error} */ err) => {
      if (err.name !== 'AbortError') viewer.message(`The folder could not be read: ${err.message}`, 'error');
    },
  );
});
folderInput.addEventListener('change', () => {
  const { files, bounded } = chosenFiles(/** @type {FileList} */ (folderInput.files));
  folderInput.value = '';
  if (files.length) loadFolder(files, bounded);
});

let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    body.classList.remove('dragging');
  }
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  body.classList.remove('dragging');
  if (!e.dataTransfer) return;
  droppedFiles(e.dataTransfer).then(
    ({ files, folder: isFolder, bounded }) => {
      if (isFolder) return loadFolder(files, bounded);
      if (files.length) return loadFiles(files);
    },
    (/** @type {Error} */ err) => viewer.message(`The folder could not be read: ${err.message}`, 'error'),
  );
});

/**
 * An entry of samples/index.json (written by examples/make_samples.rs).
 * @typedef {{ title: string, description: string, file?: string, files?: string[] }} Sample
 */

async function loadSamples() {
  /** @type {Sample[] | undefined} */
  let list;
  try {
    const r = await fetch('samples/index.json');
    if (!r.ok) return;
    list = await r.json();
  } catch {
    return;
  }
  if (!Array.isArray(list) || !list.length) return;
  fill($('sample-list'), list.map((s) =>
    h('li', {},
      h('button', { type: 'button', onclick: () => openSample(s) }, s.title),
      ' ', h('span', { class: 'small' }, s.description))));
  $('samples').hidden = false;
}

/**
 * Opens the disks at `urls` (`?src=URL&parent=URL…`), read with HTTP Range requests as the
 * element's `src` is (the server must allow it: CORS, as package/README.md says).
 * @param {string[]} urls
 */
async function loadUrls(urls) {
  const files = /** @type {{ name: string, blob: Blob }[]} */ ([]);
  given = files;
  body.dataset.state = 'loading';
  await engineReady;
  if (given !== files) return;
  await viewer.load(urls.map((u) => new URL(u, location.href).href));
}

/** @param {Sample} s */
async function openSample(s) {
  const files = s.files || (s.file ? [s.file] : []);
  body.dataset.state = 'loading';
  try {
    const blobs = await Promise.all(files.map(async (f) => {
      const r = await fetch('samples/' + encodeURIComponent(f));
      if (!r.ok) throw new Error(`${f}: ${r.status} ${r.statusText}`);
      return { name: f, blob: await r.blob() };
    }));
    await loadFiles(blobs);
  } catch (e) {
    viewer.message(`Sample: ${/** @type {Error} */ (e).message}`, 'error');
    body.dataset.state = 'error';
  }
}

body.dataset.state = 'idle';
// Files given to the input before this module ran: the page is shown, and its file input works,
// as soon as the HTML is parsed, while its modules may still be loading (a slow network; WebKit's
// WebDriver gives files then, at readyState "interactive"). Their change event found no listener;
// the files are still in the input, and open now.
takeInput($('file-input'));
// Opened from disk (the self-contained file), there are no samples beside the page to offer.
if (location.protocol !== 'file:') loadSamples();
const search = new URLSearchParams(location.search);
const src = search.get('src');
if (src) void loadUrls([src, ...search.getAll('parent')]);

// The page: its layout (index.html) and the files it is given (drop, file input, samples).
// Everything else (opening, every view, the scan, the check, tasks) is the
// controller's (controller.js), the same one the <vhd-viewer> element uses, over the public API
// (api.js), whose core runs in a Worker.
import { startWorker } from './engine.js';
import { humanSize } from '../common/format.js';
import { h, fill } from './dom.js';
import { viewsSheet } from './views/css.js';
import { Viewer } from './controller.js';

/**
 * @import { Parts } from './controller.js'
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
  hexDump: $('hex-dump'),
  hexLayer: $('hex-layer'),
  hexModes: [.../** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="hex-mode"]'))],
  hexAtLabel: $('hex-at-label'),
  findings: $('findings-body'),
  checkRun: $('check-run'),
  checkBody: $('check-body'),
  files: $('files-view'),
  filesLayer: $('files-layer'),
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
const SECTIONS = { structures: 'structures', bat: 'bat', provenance: 'provenance', closeup: 'closeup', hex: 'hex', findings: 'findings', files: 'volumes', changes: 'changes' };

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
});

/** What the page has read from the files given, and the disk shown: for users' scripts and the tests. */
window.vhdViewer = {
  get readStats() {
    const all = viewer.disk?.stats ?? [];
    return { reads: all.reduce((n, s) => n + s.reads, 0), bytes: all.reduce((n, s) => n + s.bytes, 0) };
  },
  get state() {
    return { disk: viewer.disk, cellSize: viewer.cellSize, scanned: viewer.scanned, masks: viewer.prov.masks, files: given };
  },
};

/** @type {{ name: string, blob: Blob }[]} the files given last */
let given = [];

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
 * @param {{ name: string, blob: Blob }[]} files
 */
async function loadFiles(files) {
  given = files;
  if (body.dataset.wasm !== 'ready') {
    body.dataset.state = 'loading';
    await engineReady;
    if (given !== files) return;
  }
  return viewer.load(files.map(({ name, blob }) => (blob instanceof File && blob.name === name ? blob : new File([blob], name))));
}

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
  const files = [...(e.dataTransfer?.files || [])];
  if (files.length) loadFiles(files.map((f) => ({ name: f.name, blob: f })));
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

// The page: takes files (drop, file input, samples), opens them with the WebAssembly core, sorts
// them into chains, and shows every view. One AbortController per set of files: giving new
// files cancels whatever the old ones were doing.
import { loadWasm } from './wasm.js';
import { blobSource } from './source.js';
import { scanProvenance, deepCheck } from './driver.js';
import { openFiles, chainDisk, layerInfo, missingParentText } from './open.js';
import { hex, parseNumber, humanSize } from './format.js';
import { h, fill } from './dom.js';
import { viewsSheet } from './views/css.js';
import { renderSummary, renderStructures, highlightOffset } from './views/structures.js';
import { renderFiles, renderChain } from './views/chain.js';
import { BatView, ProvenanceView } from './views/maps.js';
import { CloseupView } from './views/closeup.js';
import { showVirtualSector, showFileBytes } from './views/hex.js';
import { renderFindings } from './views/findings.js';
import { exportRaw, exportInfo } from './export.js';
import { exportVhd } from './save-vhd.js';

/**
 * @import { WasmDisk, WasmFiles } from '../pkg/vhd_viewer.js'
 * @import { Source } from './source.js'
 * @import { Identity, Info, MissingParent, Opened, OpenedFile, ScanStep } from './types.js'
 */

/**
 * The elements of the page (index.html) that are read as more than an HTMLElement, by id.
 * @typedef {{ 'file-input': HTMLInputElement, 'task-progress': HTMLProgressElement, 'layer-select': HTMLSelectElement,
 *   'explain-toggle': HTMLInputElement, 'bat-layer': HTMLSelectElement, 'bat-canvas': HTMLCanvasElement,
 *   'prov-scan': HTMLButtonElement, 'prov-canvas': HTMLCanvasElement, 'hex-layer': HTMLSelectElement,
 *   'hex-at': HTMLInputElement, 'check-run': HTMLButtonElement, 'export-raw': HTMLButtonElement,
 *   'export-vhd': HTMLButtonElement, 'export-vhd-kind': HTMLSelectElement }} PageElements
 */

/**
 * An element of the page by id: index.html always has the ones asked for.
 * @template {string} K
 * @param {K} id
 * @returns {K extends keyof PageElements ? PageElements[K] : HTMLElement}
 */
const $ = (id) => /** @type {K extends keyof PageElements ? PageElements[K] : HTMLElement} */ (/** @type {unknown} */ (document.getElementById(id)));
const ready = loadWasm();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, viewsSheet()];

/** Everything read from the files given, for users' scripts and the tests. */
const readStats = { reads: 0, bytes: 0 };

/**
 * @typedef {{ ctrl: AbortController | null, gen: number, files: OpenedFile[], wfiles: WasmFiles | null, chains: number[][],
 *   chainIndex: number, disk: WasmDisk | null, names: string[], sources: Source[], info: Info | null,
 *   missing: MissingParent | null, cellSize: number, scanned: boolean, opened?: Opened }} PageState
 */

/** @type {PageState} */
const state = {
  ctrl: null,
  gen: 0,
  files: [], // { name, size, blob, source, wi, identity, error, duplicateOf }
  wfiles: null,
  chains: [], // indices into files
  chainIndex: 0,
  disk: null,
  names: [],
  sources: [],
  info: null,
  missing: null,
  cellSize: 0,
  scanned: false,
};

window.vhdViewer = { readStats, state };

/** @param {string} what */
function setBusy(what) {
  document.body.dataset.state = what;
}

/**
 * @param {string} text
 * @param {string} [kind]
 */
function message(text, kind = 'info') {
  $('messages').append(h('p', { class: `message ${kind}` }, text));
}

function clearMessages() {
  fill($('messages'));
}

// ---------------------------------------------------------------- tasks (progress, cancel)

/** @type {AbortController | null} */
let taskCtrl = null;

/**
 * Runs a long job with a progress bar and a Cancel button; cancelled too by new files.
 * @template T
 * @param {string} label
 * @param {(signal: AbortSignal, progress: (done: number, total: number, unit?: string) => void) => Promise<T>} job
 * @returns {Promise<T | undefined>}
 */
async function runTask(label, job) {
  if (!state.ctrl) return undefined; // no files given yet
  taskCtrl?.abort();
  const ctrl = new AbortController();
  taskCtrl = ctrl;
  const parent = state.ctrl.signal;
  const onParent = () => ctrl.abort(parent.reason);
  parent.addEventListener('abort', onParent, { once: true });
  $('task').hidden = false;
  $('task-label').textContent = label;
  $('task-progress').removeAttribute('value');
  $('task-count').textContent = '';
  /** @type {(done: number, total: number, unit?: string) => void} */
  const progress = (done, total, unit = '') => {
    $('task-progress').max = total || 1;
    $('task-progress').value = done;
    $('task-count').textContent = unit === 'bytes' ? `${humanSize(done)} of ${humanSize(total)}` : `${done} of ${total}${unit ? ' ' + unit : ''}`;
  };
  try {
    return await job(ctrl.signal, progress);
  } catch (e) {
    if (ctrl.signal.aborted) {
      if (parent === state.ctrl?.signal) message(`${label}: cancelled.`);
      return undefined;
    }
    message(`${label}: ${/** @type {Error} */ (e).message}`, 'error');
    return undefined;
  } finally {
    parent.removeEventListener('abort', onParent);
    if (taskCtrl === ctrl) {
      taskCtrl = null;
      $('task').hidden = true;
    }
  }
}

$('task-cancel').addEventListener('click', () => taskCtrl?.abort(new DOMException('cancelled', 'AbortError')));

// ---------------------------------------------------------------- opening files

function freeAll() {
  for (const o of [state.disk, state.wfiles]) {
    try {
      o?.free();
    } catch {
      /* already freed */
    }
  }
  state.disk = null;
  state.wfiles = null;
}

/**
 * Opens `given` ([{ name, blob }]) as the new set of files.
 * @param {{ name: string, blob: Blob }[]} given
 */
async function loadFiles(given) {
  state.ctrl?.abort(new DOMException('new files were given', 'AbortError'));
  const ctrl = new AbortController();
  state.ctrl = ctrl;
  const gen = ++state.gen;
  const signal = ctrl.signal;
  setBusy('loading');
  clearMessages();
  const wasm = await ready;
  if (gen !== state.gen) return;
  freeAll();
  const sources = given.map(({ name, blob }) =>
    blobSource(blob, name, (a, b) => {
      readStats.reads++;
      readStats.bytes += b - a;
    }),
  );
  let opened;
  try {
    opened = await openFiles(wasm, sources, { signal, onFileError: (f) => message(`${f.name}: ${f.error}`, 'error') });
  } catch {
    return; // cancelled by newer files
  }
  if (gen !== state.gen) {
    opened.wfiles.free();
    return;
  }
  state.opened = opened;
  state.wfiles = opened.wfiles;
  state.files = opened.files;
  state.chains = opened.chains;
  if (state.chains.length === 0) {
    renderFiles($('file-list'), state.files, [], 0, () => {});
    fill($('chain'));
    $('viewer').hidden = true;
    setBusy('error');
    if (!state.files.length) message('No files were given.');
    return;
  }
  showChain(opened.best);
}

/**
 * Shows chain `k` of the files given.
 * @param {number} k
 */
async function showChain(k) {
  if (!state.opened) return;
  state.chainIndex = k;
  const chain = state.chains[k];
  try {
    state.disk?.free();
  } catch {
    /* freed */
  }
  state.disk = null;
  taskCtrl?.abort();
  const files = chain.map((i) => state.files[i]);
  state.names = files.map((f) => f.name);
  state.sources = files.map((f) => f.source);
  let made;
  try {
    made = chainDisk(state.opened, k);
  } catch (e) {
    // Not a disk (a chain too deep, say): say why, list the files, and show nothing stale.
    message(`${state.names[0]}: ${/** @type {Error} */ (e).message}`, 'error');
    renderFiles($('file-list'), state.files, state.chains, k, (j) => {
      clearMessages();
      showChain(j);
    });
    fill($('chain'));
    $('viewer').hidden = true;
    setBusy('error');
    return;
  }
  const disk = (state.disk = made.disk);
  state.info = made.info;
  state.missing = made.missing;
  if (state.missing) message(missingParentText(files[files.length - 1].name, state.missing), state.missing.severity);

  $('viewer').hidden = false;
  renderFiles($('file-list'), state.files, state.chains, k, (j) => {
    clearMessages();
    showChain(j);
  });
  renderChain($('chain'), state.info, state.names, state.missing, (i) => selectLayer(i, true));
  renderSummary($('summary-body'), state.info);

  for (const sel of [$('layer-select'), $('bat-layer'), $('hex-layer')]) {
    fill(sel, state.names.map((n, i) => h('option', { value: i }, `${i === 0 ? '' : `layer ${i}: `}${n}`)));
  }
  selectLayer(0, false);
  renderFindings($('findings-body'), state.info.all_findings, state.names, showPlace);
  fill($('check-body'));
  $('check-run').disabled = false;
  $('export-raw').disabled = !!state.missing;
  $('export-vhd').disabled = !!state.missing;
  $('export-note').textContent = state.missing ? 'The raw image needs the missing parent: add it to export the whole disk.' : '';

  // Let the structures and findings show before the maps, which take a while at a million
  // blocks; a newer file given meanwhile wins.
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  if (state.disk !== disk) return;

  // The files of a chain were opened: they have their identity.
  const firstSparse = files.findIndex((f) => /** @type {Identity} */ (f.identity).diskType !== 'fixed');
  $('bat-layer').value = String(Math.max(0, firstSparse));
  bat.show(disk, Math.max(0, firstSparse), state.names[Math.max(0, firstSparse)]);

  // Provenance: the estimate now, the exact map on request.
  state.cellSize = disk.chunkSize();
  state.scanned = false;
  delete document.body.dataset.scan;
  try {
    const masks = disk.scanStart(state.cellSize);
    prov.show(disk, state.names, state.cellSize, masks);
    $('prov-scan').disabled = false;
    const needed = /** @type {ScanStep} */ (disk.scanStep(0)).total;
    $('prov-state').textContent = needed
      ? `Estimate from the block tables. ${needed} squares hold blocks whose bitmaps decide which sectors come from where.`
      : 'Exact: no block bitmaps are needed for this disk.';
    $('prov-scan').disabled = needed === 0;
    disk.scanStart(state.cellSize);
  } catch (e) {
    message(`Provenance map: ${/** @type {Error} */ (e).message}`, 'error');
    $('prov-scan').disabled = true;
  }
  $('prov-lead').textContent =
    state.names.length > 1 || state.missing
      ? 'Each square is a stretch of the virtual disk, coloured by the file of the chain that supplies it: a differencing disk holds only what changed, the rest is read from its parent.'
      : 'Each square is a stretch of the virtual disk: coloured where the file holds data, grey where the disk reads as zeros because nothing was ever written there.';

  fill($('closeup-body'), h('p', { class: 'empty' }, 'Click a block in the block map or a square in the map above to see its sectors here.'));
  hexShow({ mode: 'virtual', at: 0 }).then(() => setBusy('ready'));
}

/**
 * Shows layer `i`'s own footer and header (the info of the chain from that layer down).
 * @param {number} i
 * @param {boolean} scroll
 */
function selectLayer(i, scroll) {
  if (!state.opened || !state.info) return; // no files opened yet
  $('layer-select').value = String(i);
  const info = i > 0 ? layerInfo(state.opened, state.chainIndex, i, state.names) : state.info;
  const body = $('structures-body');
  body.dataset.layer = String(i);
  body.dataset.file = state.names[i];
  renderStructures(body, info);
  if (scroll) $('structures').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

$('layer-select').addEventListener('change', (e) => selectLayer(Number(/** @type {HTMLSelectElement} */ (e.target).value), false));
$('explain-toggle').addEventListener('change', (e) => document.body.classList.toggle('show-explain', /** @type {HTMLInputElement} */ (e.target).checked));

// ---------------------------------------------------------------- maps and close-up

/** @returns {import('./types.js').ViewContext} */
const ctx = () => {
  if (!state.disk || !state.ctrl) throw new Error('no disk is open');
  return { disk: state.disk, sources: state.sources, names: state.names, signal: state.ctrl.signal, parentMissing: !!state.missing };
};

const closeup = new CloseupView($('closeup-body'), {
  onSector: (s) => {
    hexShow({ mode: 'virtual', at: s });
    $('hex').scrollIntoView({ behavior: 'smooth', block: 'start' });
  },
});

/** @param {{ layer?: number, block?: number, start: number, len: number }} opts */
async function showCloseup(opts) {
  if (!state.disk) return; // other files are loading
  const c = ctx();
  try {
    await closeup.show(c, opts);
    $('closeup').scrollIntoView({ behavior: 'smooth', block: 'start' });
  } catch (e) {
    if (!c.signal.aborted) message(`Sectors: ${/** @type {Error} */ (e).message}`, 'error');
  }
}

const bat = new BatView({
  canvas: $('bat-canvas'),
  hoverEl: $('bat-hover'),
  legendEl: $('bat-legend'),
  onPick: (layer, block) => {
    if (!state.disk) return; // other files are loading
    const bs = state.disk.blockSize(layer);
    showCloseup({ layer, block, start: block * bs, len: bs });
  },
});
$('bat-layer').addEventListener('change', (e) => {
  const i = Number(/** @type {HTMLSelectElement} */ (e.target).value);
  if (state.disk) bat.show(state.disk, i, state.names[i]);
});

const prov = new ProvenanceView({
  canvas: $('prov-canvas'),
  hoverEl: $('prov-hover'),
  legendEl: $('prov-legend'),
  onPick: (start, len) => showCloseup({ start, len }),
});

$('prov-scan').addEventListener('click', async () => {
  const disk = state.disk;
  if (!disk) return; // other files are loading
  $('prov-scan').disabled = true;
  // For scripts and tests: document.body.dataset.scan is running, then done or stopped.
  document.body.dataset.scan = 'running';
  let lastDraw = 0;
  const masks = await runTask('Reading every block bitmap', (signal, progress) =>
    scanProvenance(disk, state.sources, state.cellSize, {
      signal,
      onProgress: (done, total) => {
        progress(done, total, 'squares');
        const now = performance.now();
        if (now - lastDraw > 500) {
          lastDraw = now;
          prov.update(disk.scanMasks());
        }
      },
    }),
  );
  if (disk !== state.disk) return;
  if (masks) {
    prov.update(masks);
    state.scanned = true;
    $('prov-state').textContent = 'Exact: every block bitmap was read.';
    document.body.dataset.scan = 'done';
  } else {
    prov.update(disk.scanMasks());
    $('prov-scan').disabled = false;
    $('prov-state').textContent = 'Scan stopped: squares already read are exact, the rest are estimates.';
    document.body.dataset.scan = 'stopped';
    disk.scanStart(state.cellSize);
  }
});

// ---------------------------------------------------------------- hex view

/** @typedef {'virtual' | 'file'} HexMode the values of the hex-mode radio buttons */

/** @type {{ mode: HexMode, at: number, layer: number }} */
const hexState = { mode: 'virtual', at: 0, layer: 0 };

/** @param {{ mode?: HexMode, at?: number, layer?: number, markLen?: number }} [where] */
async function hexShow({ mode = hexState.mode, at = hexState.at, layer = hexState.layer, markLen = 1 } = {}) {
  if (!state.disk) return; // other files are loading
  Object.assign(hexState, { mode, at, layer });
  /** @type {HTMLInputElement} */ (document.querySelector(`input[name="hex-mode"][value="${mode}"]`)).checked = true;
  $('hex-layer').value = String(layer);
  $('hex-layer').disabled = mode !== 'file';
  $('hex-at-label').textContent = mode === 'virtual' ? 'Sector' : 'Byte offset';
  $('hex-at').value = mode === 'virtual' ? String(at) : hex(at);
  const c = ctx();
  try {
    if (mode === 'virtual') await showVirtualSector(c, at, $('hex-source'), $('hex-dump'));
    else await showFileBytes(c, layer, at, $('hex-source'), $('hex-dump'), markLen);
  } catch (e) {
    if (!c.signal.aborted) fill($('hex-source'), h('span', { class: 'bad' }, /** @type {Error} */ (e).message));
  }
}

$('hex-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!state.disk) return; // other files are loading
  // One of the two radio buttons is always checked.
  const mode = /** @type {HexMode} */ (/** @type {HTMLInputElement} */ (document.querySelector('input[name="hex-mode"]:checked')).value);
  const layer = Number($('hex-layer').value);
  const at = parseNumber($('hex-at').value);
  const limit = mode === 'virtual' ? Math.ceil(state.disk.size() / 512) : state.sources[layer].byteLength;
  if (!Number.isFinite(at) || at < 0 || at >= limit) {
    fill($('hex-source'), h('span', { class: 'bad' }, mode === 'virtual' ? `Give a sector number from 0 to ${limit - 1}.` : `Give a byte offset from 0 to ${limit - 1} (decimal or 0x…).`));
    return;
  }
  hexShow({ mode, layer, at });
});
for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="hex-mode"]'))) {
  r.addEventListener('change', () => hexShow({ mode: /** @type {HexMode} */ (r.value), at: 0 }));
}
$('hex-layer').addEventListener('change', (e) => hexShow({ mode: 'file', layer: Number(/** @type {HTMLSelectElement} */ (e.target).value), at: 0 }));
/** @param {number} d */
const step = (d) => {
  if (!state.disk) return;
  if (hexState.mode === 'virtual') {
    const n = Math.ceil(state.disk.size() / 512);
    hexShow({ at: Math.max(0, Math.min(n - 1, hexState.at + d)) });
  } else {
    const len = state.sources[hexState.layer].byteLength;
    hexShow({ at: Math.max(0, Math.min(len - 1, hexState.at + d * 512)) });
  }
};
$('hex-prev').addEventListener('click', () => step(-1));
$('hex-next').addEventListener('click', () => step(1));

/**
 * Shows a place in a file: the field row there (if any) and its bytes in the hex view.
 * @param {number} layer
 * @param {number} offset
 */
function showPlace(layer, offset) {
  if (Number($('layer-select').value) !== layer) selectLayer(layer, false);
  const row = highlightOffset($('structures-body'), offset);
  const markLen = row ? Math.min(Number(row.dataset.size), 64) : 1;
  hexShow({ mode: 'file', layer, at: offset, markLen }).then(() => {
    const target = row || $('hex');
    target.scrollIntoView({ behavior: 'smooth', block: 'center' });
    if (row) {
      row.tabIndex = -1;
      row.focus({ preventScroll: true });
    }
  });
}

// ---------------------------------------------------------------- export

/** @param {string} n */
function baseNameNoExt(n) {
  return n.replace(/\.(a?vhd)$/i, '');
}

$('export-raw').addEventListener('click', async () => {
  const disk = state.disk;
  if (!disk) return; // other files are loading
  const result = await runTask('Saving the raw image', (signal, progress) =>
    exportRaw(disk, state.sources, state.names, baseNameNoExt(state.names[0]) + '.img', { signal, onProgress: (d, t) => progress(d, t, 'bytes') }),
  );
  if (result && !result.cancelled) {
    $('export-note').textContent =
      result.method === 'download'
        ? `Saving ${result.name} (${humanSize(result.size)}): your browser writes it from the files as it downloads.`
        : `Saved ${result.name}.`;
  }
});
$('export-info').addEventListener('click', () => state.info && exportInfo(state.info, baseNameNoExt(state.names[0]) + '.info.json'));
$('export-vhd').addEventListener('click', async () => {
  const disk = state.disk;
  if (!disk) return;
  const kind = $('export-vhd-kind').value === 'fixed' ? 'fixed' : 'dynamic';
  const layer = Number($('layer-select').value) || 0; // as of the layer chosen (0: the whole chain)
  const name = `${baseNameNoExt(state.names[layer])}-${kind}.vhd`;
  const result = await runTask(`Saving a ${kind} VHD`, (signal, progress) =>
    exportVhd(disk, state.sources, state.names, name, kind, { layer, signal, onProgress: (d, t) => progress(d, t, 'bytes') }),
  );
  if (result && !result.cancelled) {
    const what = result.blocks ? `, ${result.blocks} blocks allocated` : '';
    $('export-note').textContent =
      result.method === 'download' ? `Saving ${result.name} (${humanSize(result.size)}${what}).` : `Saved ${result.name} (${humanSize(result.size)}${what}).`;
  }
});

// ---------------------------------------------------------------- input: files, drop, samples

$('file-input').addEventListener('change', (e) => {
  const input = /** @type {HTMLInputElement} */ (e.target);
  const files = [.../** @type {FileList} */ (input.files)]; // a file input's files
  if (files.length) loadFiles(files.map((f) => ({ name: f.name, blob: f })));
  input.value = '';
});

let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    document.body.classList.remove('dragging');
  }
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
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
  setBusy('loading');
  try {
    const blobs = await Promise.all(files.map(async (f) => {
      const r = await fetch('samples/' + encodeURIComponent(f));
      if (!r.ok) throw new Error(`${f}: ${r.status} ${r.statusText}`);
      return { name: f, blob: await r.blob() };
    }));
    await loadFiles(blobs);
  } catch (e) {
    message(`Sample: ${/** @type {Error} */ (e).message}`, 'error');
    setBusy('error');
  }
}

setBusy('idle');
ready.then(
  () => {
    document.body.dataset.wasm = 'ready';
  },
  (e) => message(`The WebAssembly part of the page did not load: ${/** @type {Error} */ (e).message}`, 'error'),
);
// Opened from disk (the self-contained file), there are no samples beside the page to offer.
if (location.protocol !== 'file:') loadSamples();

// ---------------------------------------------------------------- the full check

$('check-run').addEventListener('click', async () => {
  const disk = state.disk;
  if (!disk) return; // other files are loading
  $('check-run').disabled = true;
  const found = await runTask('Checking every block', (signal, progress) =>
    deepCheck(disk, state.sources, { signal, onProgress: (done, total) => progress(done, total, 'blocks') }),
  );
  if (disk !== state.disk) return;
  $('check-run').disabled = false;
  if (found) {
    renderFindings($('check-body'), found, state.names, showPlace, [], 'check_findings', 'Every block was read: nothing more is wrong.');
  }
});


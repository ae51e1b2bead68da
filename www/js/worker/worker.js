// The Worker that runs the WebAssembly core for the page (page/engine.js starts it): one session
// per opened disk. It reads the files itself (Blob.slice for local files, HTTP Range requests for
// URLs) and answers the main thread's calls; the main thread only renders. The calls and their
// types are the table of common/calls.d.ts (`Calls`, and the Worker's `Asks`). Messages:
//   in:  { init: WebAssembly.Module, warm? }     first, once (warm: open a small disk first)
//        { id, sid, method, args }              a call to session sid (`open` or `survey` first)
//        { abort: id, sid }                     stop that call
//        { close: sid }                         end that session, free its memory
//        { rid, sid, result } | { rid, error }  the answer to one of our asks
//   out: { id, sid, result } | { id, sid, error } | { id, sid, progress }, each with `stats`
//        (`open`'s progress: { structures }, one file's structures before its block table)
//        (what the session has read, per input)
//        { warm: true }                         the small disk was opened (warmUp)
//        { ask: rid, sid, id, what, args }      a read of a source kept on the main thread, or a
//                                               write to the file the main thread saves into
import { loadWasm } from '../common/wasm.js';
import { blobSource, urlSource } from '../common/source.js';
import { Session } from './session.js';
import { normalize } from '../common/format.js';

/**
 * @import { Source } from '../common/source.js'
 * @import { DiskOwner, FileEntry, FileStat, PartsTable, System, Writable, WorkerInput } from '../common/types.js'
 * @import { AskMessage, AskName, Asks, Args, FromWorker, Handlers, Method, Progress, Result, ToWorker } from '../common/calls.js'
 */

/** @type {Promise<import('./types.js').Bindings> | null} */
let wasm = null;
/** @type {Map<number, Session>} */
const sessions = new Map();
/** @type {Map<number, { sid: number, ctrl: AbortController }>} */
const running = new Map();
/** @type {Map<number, { resolve: (v: Asks[AskName]['result']) => void, reject: (e: unknown) => void }>} */
const asks = new Map();
let nextAsk = 1;

/**
 * Posts `m` to the main thread: every message it is sent is one of the table's (common/calls.d.ts).
 * @param {FromWorker} m
 * @param {Transferable[]} [transfer]
 */
const reply = (m, transfer = []) => self.postMessage(m, { transfer });

/**
 * Asks the main thread (a read of a source kept there, a write to the file being saved).
 * @template {AskName} A
 * @param {number} sid the session
 * @param {number} id the call it is for
 * @param {A} what
 * @param {Asks[A]['args']} args
 * @param {AbortSignal} [signal]
 * @param {Transferable[]} [transfer]
 * @returns {Promise<Asks[A]['result']>}
 */
function ask(sid, id, what, args, signal, transfer = /** @type {Transferable[]} */ ([])) {
  const rid = nextAsk++;
  return new Promise((resolve, reject) => {
    // The main thread answers an ask with the result its name says.
    asks.set(rid, { resolve: /** @type {(v: Asks[AskName]['result']) => void} */ (resolve), reject });
    signal?.addEventListener('abort', () => {
      asks.delete(rid);
      reject(signal.reason);
    }, { once: true });
    reply(/** @type {AskMessage} */ ({ ask: rid, sid, id, what, args }), transfer);
  });
}

/**
 * A source the main thread reads for us (an object with its own slice(), a custom fetch).
 * @param {number} sid
 * @param {{ proxy: number, byteLength: number, name: string }} input
 * @returns {Source}
 */
function proxySource(sid, { proxy, byteLength, name }) {
  const stats = { reads: 0, bytes: 0 };
  return {
    name,
    byteLength,
    stats,
    async slice(start, end, signal) {
      start = Math.max(0, Math.min(start, byteLength));
      end = Math.max(start, Math.min(end, byteLength));
      stats.reads++;
      stats.bytes += end - start;
      return ask(sid, 0, 'read', [proxy, start, end], signal);
    },
  };
}

/**
 * The file being saved on the main thread, written from here.
 * @param {number} sid
 * @param {number} id
 * @returns {Writable}
 */
function remoteWritable(sid, id) {
  return {
    truncate: (size) => ask(sid, id, 'truncate', [size]),
    // The window's bytes move to the main thread (the writers give each write a buffer of its
    // own), and come back when the writable there copies them (`Writable.copies`).
    write: (w) => ask(sid, id, 'write', [w], undefined, movable(w.data)),
  };
}

/**
 * A Blob read here, or, when this Worker cannot read it (WebKit's cannot read a File given by a
 * page opened from disk), by the main thread when its first read fails.
 * @param {number} sid
 * @param {{ blob: Blob, name: string, proxy: number }} input
 * @returns {Source}
 */
function blobOrProxy(sid, { blob, name, proxy }) {
  const here = blobSource(blob, name);
  /** @type {Source | null} */
  let there = null;
  let readOnce = false;
  return {
    name,
    byteLength: blob.size,
    blob,
    get stats() {
      return there ? { reads: here.stats.reads + there.stats.reads, bytes: here.stats.bytes + there.stats.bytes } : here.stats;
    },
    get sliceSync() {
      return there ? undefined : here.sliceSync;
    },
    async slice(start, end, signal) {
      if (!there) {
        try {
          const bytes = await here.slice(start, end, signal);
          readOnce = true;
          return bytes;
        } catch (e) {
          // Only a first read that fails says this Worker cannot read the file at all.
          if (signal?.aborted || readOnce) throw e;
          there = proxySource(sid, { proxy, byteLength: blob.size, name });
        }
      }
      return there.slice(start, end, signal);
    },
  };
}

/**
 * The sources of the inputs given to `open`.
 * @param {number} sid
 * @param {WorkerInput[]} inputs
 * @param {AbortSignal} signal
 */
function sourcesOf(sid, inputs, signal) {
  return Promise.all(
    inputs.map((i) => {
      if ('url' in i) return urlSource(i.url, { name: i.name ?? undefined, headers: i.headers, signal });
      if ('blob' in i) return blobOrProxy(sid, i);
      return proxySource(sid, i);
    }),
  );
}

/**
 * What a handler may use besides its arguments: the call's signal, the file being saved on the
 * main thread (`toFile` calls), and (Handlers adds it, typed per call) its progress.
 * @typedef {{ signal: AbortSignal, writable: Writable }} CallContext
 */
/**
 * The handler of each call of the table (common/calls.d.ts) but `open` and `survey` (which make the session).
 * @type {Handlers<Session, CallContext>}
 */
const METHODS = {
  chain: (s, [k]) => s.chain(k),
  layerInfo: (s, [i]) => s.layerInfo(i),
  bat: (s, [layer]) => s.bat(layer),
  read: (s, [offset, len], c) => s.read(offset, len, c.signal),
  fileBytes: (s, [layer, start, end], c) => s.fileBytes(layer, start, end, c.signal),
  sectors: (s, [what], c) => s.sectors(what, c.signal),
  estimate: (s, [cellSize]) => s.estimate(cellSize),
  scan: (s, [cellSize], c) => s.scan(cellSize, c.signal, c.progress),
  scanStopped: (s, [cellSize]) => s.scanStopped(cellSize),
  check: (s, [], c) => s.check(c.signal, c.progress),
  raw: (s, [toFile], c) => s.raw(toFile ? c.writable : null, c.signal, c.progress),
  vhd: (s, [kind, layer, toFile, blockSize, sectorSize], c) => s.vhd(kind, layer, blockSize, sectorSize, toFile ? c.writable : null, c.signal, c.progress),
  // compact, repair, relink: the core's writers, reading synchronously.
  copy: (s, [req, toFile], c) => s.copy(req, toFile ? c.writable : null, c.signal, c.progress),
  // A resize's plan, or its refusal, before anything is written.
  resizePlan: (s, [layer, size, gptFix]) => s.resizePlan(layer, size, gptFix),
  // The files on the disk as of layer k (0: the whole chain): WasmVolumes, read synchronously;
  // what they answer is what src/wasm_files.rs serialises (the shapes of common/types.d.ts).
  partitions: (s, [k]) => /** @type {PartsTable} */ (normalize(s.files(k).partitions())),
  // The operating systems on the volumes (src/inspect): the hives and /etc files read synchronously.
  systems: (s, [k]) => /** @type {System[]} */ (normalize(s.files(k).systems())),
  list: (s, [k, partition, path, deleted]) => /** @type {FileEntry[]} */ (normalize(s.files(k).list(partition, path, deleted))),
  stat: (s, [k, partition, path, deleted]) => /** @type {FileStat} */ (normalize(s.files(k).stat(partition, path, deleted))),
  readPath: (s, [k, partition, path, stream, deleted, offset, len]) => s.files(k).read(partition, path, stream, deleted, offset, len),
  owner: (s, [k, offset]) => /** @type {DiskOwner} */ (normalize(s.files(k).owner(offset))),
  // A BitLocker partition unlocked; the secret stays here (the answer is the table).
  unlock: (s, [k, partition, kind, secret], c) => s.unlock(k, partition, kind, secret, c.signal, c.progress),
  // The unlocked volumes' keys go from this Worker to a job's over a channel of their own, never
  // through the main thread (engine.js: job).
  handKeys: (s, [port]) => s.handKeys(port),
  takeKeys: (s, [port]) => s.takeKeys(port),
  // Every place a word or bytes occur, a step at a time (Stop heard between steps).
  search: (s, [pattern, options], c) => s.search(pattern, options, c.signal, c.progress),
  // What layers `to`..`from` - 1 changed, file by file (a job in a Worker of its own: it blocks).
  diff: (s, [from, to], c) => s.diff(from, to, c.progress),
  diffWith: (s, [other, to], c) => s.diffWith(other, to, c.progress),
  rebaseCheck: (s, [onto], c) => s.rebaseCheck(onto, c.progress),
  // Every file's times as of layer k, or its body file / CSV (a job in a Worker of its own: it blocks).
  timeline: (s, [k, deleted], c) => s.timeline(k, deleted, c.progress),
  timelineText: (s, [k, deleted, format], c) => s.timelineText(k, deleted, format, c.progress),
  // The report: every byte hashed, the check, the diff (a job in a Worker of its own: it blocks).
  report: (s, [], c) => s.report(c.progress),
  // A picture as SVG (src/wasm_draw.rs): the bitmap, provenance and partitions read synchronously.
  draw: (s, [what], c) => s.draw(what, c.progress),
  destinations: (s, [report]) => s.destinations(report),
};

/**
 * The buffers of the typed arrays in `v` (one level deep) that can move instead of being copied.
 * @param {unknown} v
 * @returns {Transferable[]}
 */
function movable(v) {
  /** @type {Transferable[]} */
  const out = [];
  /** @param {unknown} x */
  const add = (x) => {
    if (ArrayBuffer.isView(x) && x.byteOffset === 0 && x.byteLength === x.buffer.byteLength && x.buffer instanceof ArrayBuffer && !out.includes(x.buffer)) out.push(x.buffer);
  };
  add(v);
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) for (const x of Object.values(v)) add(x);
  return out;
}

/**
 * Calls the handler of `name` on `session`.
 * @template {Exclude<Method, 'open' | 'survey'>} N
 * @param {Session} session
 * @param {N} name
 * @param {Args<N>} args
 * @param {CallContext & { progress: (p: unknown) => void }} c
 */
function handle(session, name, args, c) {
  return METHODS[name](session, args, c);
}

/**
 * Runs call `method` of session `sid` and posts its answer (or its error).
 * @template {Method} M
 * @param {number} sid
 * @param {number} id
 * @param {M} method
 * @param {Args<M>} args
 */
async function run(sid, id, method, args) {
  const ctrl = new AbortController();
  running.set(id, { sid, ctrl });
  const stats = () => sessions.get(sid)?.stats() ?? [];
  const c = {
    signal: ctrl.signal,
    /** @param {unknown} p */
    progress: (p) => reply({ id, sid, progress: /** @type {Progress<Method>} */ (p), stats: stats() }),
    writable: remoteWritable(sid, id),
  };
  try {
    const bindings = await /** @type {Promise<import('./types.js').Bindings>} */ (wasm);
    /** @type {Result<Method>} */
    let result;
    if (method === 'open' || method === 'survey') {
      const [inputs] = /** @type {Args<'open' | 'survey'>} */ (args);
      const session = new Session(bindings, await sourcesOf(sid, inputs, ctrl.signal));
      sessions.set(sid, session);
      // The structures of one file, before its block table is read, go ahead as progress; a
      // survey tells how many files it has reached.
      result = method === 'survey' ? session.survey(c.progress) : await session.open(ctrl.signal, (structures) => c.progress({ structures }));
    } else {
      const session = sessions.get(sid);
      if (!session) throw new Error('no files were opened');
      if (!Object.hasOwn(METHODS, method)) throw new Error(`the viewer's worker has no method ${method}`);
      result = await handle(session, /** @type {Exclude<M, 'open' | 'survey'>} */ (method), /** @type {Args<Exclude<M, 'open' | 'survey'>>} */ (args), c);
    }
    if (!ctrl.signal.aborted) reply({ id, sid, result, stats: stats() }, movable(result));
  } catch (e) {
    if (ctrl.signal.aborted) return;
    const err = /** @type {Error & { code?: string, offset?: number | null, status?: number, url?: string }} */ (e);
    reply({ id, sid, error: { message: err.message ?? String(e), name: err.name, code: err.code ?? null, offset: err.offset ?? null, status: err.status, url: err.url }, stats: stats() });
  } finally {
    running.delete(id);
  }
}

/**
 * Runs the open path once on a small disk the core makes, as the page's first file would be
 * opened and shown (its structures, the chain, the block table, the estimate, a sector). A
 * browser compiles each WebAssembly function on its first call: Chromium spent about 20 ms of
 * the first file's time to its header on that. The page waits for a file meanwhile.
 * @param {import('./types.js').Bindings} bindings
 */
async function warmUp(bindings) {
  // A Blob, read as a file given is (Blob.slice).
  const bytes = /** @type {Uint8Array<ArrayBuffer>} */ (bindings.warmUpDisk());
  const session = new Session(bindings, [blobSource(new Blob([bytes]), 'warm-up.vhd')]);
  try {
    const signal = new AbortController().signal;
    await session.open(signal, () => {});
    const view = session.chain(0);
    session.bat(0);
    session.estimate(view.chunkSize);
    await session.read(0, 4096, signal);
  } finally {
    session.close();
  }
}

self.onmessage = (/** @type {MessageEvent<ToWorker>} */ e) => {
  const m = e.data;
  if ('init' in m) {
    wasm = loadWasm(m.init);
    if (m.warm) {
      wasm
        .then(warmUp)
        .catch(() => {})
        .finally(() => reply({ warm: true }));
    }
  } else if ('abort' in m) {
    running.get(m.abort)?.ctrl.abort(new DOMException('cancelled', 'AbortError'));
  } else if ('close' in m) {
    for (const r of running.values()) if (r.sid === m.close) r.ctrl.abort(new DOMException('the disk was closed', 'AbortError'));
    sessions.get(m.close)?.close();
    sessions.delete(m.close);
  } else if ('rid' in m) {
    const a = asks.get(m.rid);
    asks.delete(m.rid);
    if (!a) return;
    if ('error' in m) a.reject(Object.assign(new Error(m.error.message), m.error));
    else a.resolve(m.result);
  } else {
    run(m.sid, m.id, m.method, m.args);
  }
};

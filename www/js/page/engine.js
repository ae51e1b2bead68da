// The main thread's side of the core: the WebAssembly core runs in a dedicated Worker
// (worker/worker.js), one per page, started with it; each opened disk is a session of it (an Engine
// here), and this module talks to it. The main thread only renders:
// opening, planning, reading, the scans, the deep check and the exports all run in the Worker.
//
// A call is `engine.call(method, args, { signal, onProgress })`: a promise of the answer, typed by
// the table of calls (common/calls.d.ts), which the Worker's handlers follow too. Aborting
// the signal rejects the promise at once and tells the Worker to stop that job. Sources the
// Worker cannot read itself (an object with a `slice()` function, a URL with a custom `fetch`) stay
// here: the Worker asks for their bytes (`read` messages) and this side answers.

import { compileWasm } from '../common/wasm.js';
import { blobSource } from '../common/source.js';

/**
 * @import { Source } from '../common/source.js'
 * @import { WorkerInput, Writable } from '../common/types.js'
 * @import { Args, AskMessage, AskName, Asks, CallMessage, FromWorker, Method, Progress, Result, ToWorker } from '../common/calls.js'
 */

/**
 * Posts `m` to `worker`: every message the Worker is sent is one of the table's (common/calls.d.ts).
 * @param {Worker} worker
 * @param {ToWorker} m
 * @param {Transferable[]} [transfer]
 */
const post = (worker, m, transfer = []) => worker.postMessage(m, transfer);

/**
 * A call's options: `signal` stops it, `onProgress` hears its progress messages, `transfer`
 * moves buffers of its arguments, `writable` is the file a `toFile` call saves into.
 * @template {Method} M
 * @typedef {{ signal?: AbortSignal, onProgress?: (p: Progress<M>) => void, transfer?: Transferable[], writable?: Writable }} CallOptions
 */

/**
 * Whether `w` is done with a write's bytes once the write settles: a FileSystemWritableFileStream
 * copies them, another writable says so with `copies: true`.
 * @param {Writable} w
 */
const copies = (w) => w.copies === true || (typeof FileSystemWritableFileStream === 'function' && w instanceof FileSystemWritableFileStream);

/** @type {string | URL | null} */
let workerUrl = null;
/** @type {WorkerType} */
let workerType = 'module';

/**
 * Where the Worker's script is; default: the module worker.js beside this one. The self-contained
 * page gives a classic script's `blob:` URL that imports it.
 * @param {string | URL} url
 * @param {WorkerType} [type]
 */
export function setWorkerUrl(url, type = 'module') {
  workerUrl = url;
  workerType = type;
}

/**
 * The Worker every disk of this page is opened in (each is a session of it), started once:
 * its modules load with the page, and nothing is fetched when files are given later. `warm`
 * resolves when it has run the open path once (worker.js: warmUp).
 * @type {{ worker: Worker, engines: Map<number, Engine>, dead: Error | null, warm: Promise<void> } | null}
 */
let shared = null;
let nextSession = 1;
let nextCall = 1;

/**
 * Starts the Worker now (idempotent): the page calls it when it loads. `wasm`: as loadWasm().
 * @param {Parameters<typeof compileWasm>[0]} [wasm]
 */
export async function startWorker(wasm) {
  const module = await compileWasm(wasm);
  if (shared && !shared.dead) return shared;
  const worker = new Worker(workerUrl ?? new URL('../worker/worker.js', import.meta.url), { type: workerType, name: 'vhd-viewer core' });
  /** @type {() => void} */
  let warmed = () => {};
  const warm = new Promise((/** @type {(v: void) => void} */ r) => (warmed = r));
  const s = (shared = { worker, engines: new Map(), dead: /** @type {Error | null} */ (null), warm });
  /** @param {Error} e */
  const fail = (e) => {
    s.dead = e;
    for (const engine of s.engines.values()) engine.fail(e);
  };
  worker.onmessage = (/** @type {MessageEvent<FromWorker>} */ e) => {
    if ('warm' in e.data) warmed();
    else s.engines.get(e.data.sid)?.receive(e.data);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    warmed();
    fail(new Error(`the viewer's worker stopped: ${e.message || 'it could not be started'}`));
  };
  worker.onmessageerror = () => fail(new Error("the viewer's worker sent a message that could not be read"));
  post(worker, { init: module, warm: true });
  return s;
}

/** One opened disk's session in the Worker, and the calls in flight to it. */
export class Engine {
  /**
   * A new session in the Worker (started first if need be). `wasm`: as loadWasm().
   * @param {Parameters<typeof compileWasm>[0]} [wasm]
   */
  static async start(wasm) {
    const s = await startWorker(wasm);
    const engine = new Engine(s.worker, nextSession++);
    s.engines.set(engine.sid, engine);
    return engine;
  }

  /**
   * A session `sid` in a Worker of its own, for one long synchronous job (a diff, a folder's
   * survey): the caller ends it with `worker.terminate()`. `wasm`: as loadWasm().
   * @param {number} sid
   * @param {string} name the Worker's name (shown in browsers' tools)
   * @param {Parameters<typeof compileWasm>[0]} [wasm]
   */
  static async alone(sid, name, wasm) {
    const module = await compileWasm(wasm);
    const worker = new Worker(workerUrl ?? new URL('../worker/worker.js', import.meta.url), { type: workerType, name });
    const engine = new Engine(worker, sid);
    worker.onmessage = (/** @type {MessageEvent<FromWorker>} */ e) => 'sid' in e.data && engine.receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      engine.fail(new Error(`the viewer's worker stopped: ${e.message || 'it could not be started'}`));
    };
    post(worker, { init: module });
    return engine;
  }

  /**
   * A Worker of its own for one long synchronous job (a diff: its reads block the Worker, so a
   * cancel cannot reach it there). It opens the same inputs as `this` (as `open` was given them;
   * sources kept here are shared), shows chain `chain`, takes the keys of the BitLocker volumes
   * unlocked in this session from its Worker (over a channel between the two Workers: they never
   * come to this thread) and runs `method`, and is stopped when that answers, or at once when
   * `signal` aborts. Resolves its answer.
   * @template {Method} M
   * @param {number} chain
   * @param {M} method
   * @param {Args<M>} args
   * @param {{ signal?: AbortSignal, onProgress?: (p: Progress<M>) => void }} [options]
   * @returns {Promise<Result<M>>}
   */
  async job(chain, method, args, { signal, onProgress } = {}) {
    const job = await Engine.alone(this.sid, 'vhd-viewer job');
    const worker = job.worker;
    job.proxied = this.proxied;
    const stop = () => {
      job.fail(new DOMException('cancelled', 'AbortError'));
      worker.terminate();
    };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      signal?.throwIfAborted();
      await job.call('open', [this.given], { signal });
      await job.call('chain', [chain], { signal });
      const { port1, port2 } = new MessageChannel();
      await Promise.all([this.call('handKeys', [port1], { signal, transfer: [port1] }), job.call('takeKeys', [port2], { signal, transfer: [port2] })]);
      return await job.call(method, args, { signal, onProgress });
    } finally {
      signal?.removeEventListener('abort', stop);
      worker.terminate();
    }
  }

  /**
   * @param {Worker} worker
   * @param {number} sid
   */
  constructor(worker, sid) {
    this.worker = worker;
    this.sid = sid;
    /**
     * The calls in flight (each settled with the answer its method's entry of the table says).
     * @type {Map<number, { resolve: (v: Result<Method>) => void, reject: (e: unknown) => void, onProgress?: (p: Progress<Method>) => void, writable?: Writable }>}
     */
    this.calls = new Map();
    /** @type {Source[]} sources read on this side for the Worker (index = the input's `proxy`) */
    this.proxied = [];
    /** Statistics of the Worker's reads, per input: `{ reads, bytes, requests?, transferred? }`. */
    /** @type {{ reads: number, bytes: number, requests?: number, transferred?: number }[]} */
    this.stats = [];
    /** @type {Error | null} */
    this.dead = null;
    /** @type {WorkerInput[]} */
    this.given = [];
  }

  /** @param {Error} e */
  fail(e) {
    this.dead = e;
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }

  /** @param {Exclude<FromWorker, { warm: true }>} m */
  receive(m) {
    if ('ask' in m) {
      this.answer(m);
      return;
    }
    if (m.stats) {
      m.stats.forEach((s, i) => {
        this.stats[i] ??= { reads: 0, bytes: 0 };
        Object.assign(this.stats[i], s);
      });
    }
    const c = this.calls.get(m.id);
    if (!c) return; // aborted meanwhile
    if ('progress' in m) {
      c.onProgress?.(m.progress);
      return;
    }
    this.calls.delete(m.id);
    if ('error' in m) c.reject(Object.assign(new Error(m.error.message), m.error));
    else c.resolve(m.result);
  }

  /**
   * What the Worker asks of this side (its `Asks`): the bytes of a source kept here, or a write
   * to the file a call saves into.
   * @param {AskMessage} m
   */
  async answer(m) {
    const { ask: rid, id } = m;
    try {
      /** @type {unknown} */
      let result;
      /** @type {Transferable[]} */
      let transfer = [];
      if (m.what === 'read') {
        const [input, start, end] = m.args;
        result = await this.proxied[input].slice(start, end);
      } else {
        const w = this.calls.get(id)?.writable;
        if (!w) throw new DOMException('the save was stopped', 'AbortError');
        if (m.what === 'truncate') result = await w.truncate(m.args[0]);
        else {
          const [write] = m.args;
          await w.write(write);
          // A writable that copied the bytes gives the buffer back, to be filled again.
          const data = write.data;
          if (copies(w) && data.buffer.byteLength) [result, transfer] = [data, [data.buffer]];
        }
      }
      post(this.worker, { rid, sid: this.sid, result: /** @type {Asks[AskName]['result']} */ (result) }, transfer);
    } catch (e) {
      const err = /** @type {Error & { code?: string }} */ (e);
      post(this.worker, { rid, sid: this.sid, error: { message: err.message, code: err.code ?? null, name: err.name } });
    }
  }

  /**
   * Asks the Worker. Rejects with the core's Error (with `code` and `offset`) or the signal's reason.
   * @template {Method} M
   * @param {M} method
   * @param {Args<M>} args
   * @param {CallOptions<M>} [options]
   * @returns {Promise<Result<M>>}
   */
  call(method, args, { signal, onProgress, transfer = [], writable } = {}) {
    if (this.dead) return Promise.reject(this.dead);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = nextCall++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.calls.delete(id);
        post(this.worker, { abort: id, sid: this.sid });
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.calls.set(id, {
        resolve: (v) => {
          done();
          // The Worker answers call `id` with what its method's entry of the table says.
          resolve(/** @type {Result<M>} */ (v));
        },
        reject: (e) => {
          done();
          reject(e);
        },
        onProgress: /** @type {((p: Progress<Method>) => void) | undefined} */ (onProgress),
        writable,
      });
      post(this.worker, /** @type {CallMessage} */ ({ id, sid: this.sid, method, args }), transfer);
    });
  }

  /**
   * What the Worker is given for `inputs`: Blobs and plain URLs go to it (it reads them itself);
   * other sources stay here and are read on its request.
   * @param {(Source | { blob: Blob, name: string } | { url: string, name?: string, headers?: HeadersInit })[]} inputs
   * @returns {WorkerInput[]}
   */
  inputs(inputs) {
    /** @type {WorkerInput[]} */
    const out = inputs.map((i) => {
      if ('url' in i && typeof i.url === 'string' && !('slice' in i)) return { url: i.url, name: i.name ?? null, headers: i.headers ? [...new Headers(i.headers)] : [] };
      if ('blob' in i && i.blob instanceof Blob && !('slice' in i)) {
        // Kept here too: WebKit cannot read a File in a Worker of a page opened from disk, and then
        // the Worker asks this side for its bytes.
        this.proxied.push(blobSource(i.blob, i.name));
        return { blob: i.blob, name: i.name, proxy: this.proxied.length - 1 };
      }
      const s = /** @type {Source} */ (i);
      this.proxied.push(s);
      return { proxy: this.proxied.length - 1, byteLength: s.byteLength, name: s.name };
    });
    /** What `open` was given, for jobs in Workers of their own. */
    this.given = out;
    return out;
  }

  /** Ends the session: stops what it was doing and frees its memory in the Worker. */
  close() {
    if (this.dead) return;
    this.fail(new Error('the disk was closed'));
    post(this.worker, { close: this.sid });
    shared?.engines.delete(this.sid);
  }
}

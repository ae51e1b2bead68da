// The WebAssembly core, compiled once per page and given to every Worker (worker.js) that runs it,
// and instantiated on this thread only where a script asks for the bindings themselves
// (loadWasm). By default the .wasm is fetched from beside the bindings module, so it works from
// any static host without a bundler. A page that has the bytes already (the self-contained HTML
// file) passes them on the first call.
import init, * as bindings from '../../pkg/vhd_viewer.js';

/**
 * What the core can be loaded from: its bytes, a compiled module, a URL or a Response.
 * @typedef {import('../../pkg/vhd_viewer.js').InitInput} WasmInput
 */

/** @type {Promise<WebAssembly.Module> | null} */
let compiled = null;
/** @type {Promise<typeof bindings> | null} */
let ready = null;
/** @type {WebAssembly.Memory | null} the instance's memory, once instantiated */
let memory = null;

/** Bytes of memory the core's instance on this thread holds (it grows, never shrinks: its peak). */
export const wasmMemoryBytes = () => memory?.buffer.byteLength ?? 0;

/**
 * The compiled core, for Workers. `wasm`: as loadWasm(); only the first call's argument is used.
 * @param {WasmInput | Promise<WasmInput>} [wasm]
 * @returns {Promise<WebAssembly.Module>}
 */
export function compileWasm(wasm) {
  compiled ??= (async () => {
    const input = (await wasm) ?? new URL('../../pkg/vhd_viewer_bg.wasm', import.meta.url);
    if (input instanceof WebAssembly.Module) return input;
    if (input instanceof Response) return WebAssembly.compile(await input.arrayBuffer());
    if (typeof input === 'string' || input instanceof URL || input instanceof Request) {
      const res = await fetch(input);
      if (!res.ok) throw new Error(`the core (${res.url}) could not be loaded: HTTP ${res.status}`);
      return WebAssembly.compile(await res.arrayBuffer());
    }
    return WebAssembly.compile(/** @type {BufferSource} */ (input));
  })();
  return compiled;
}

/**
 * The bindings on this thread, once the core is instantiated. `wasm`: the module's bytes, a
 * `WebAssembly.Module`, a URL or a Response; only the first call's argument is used.
 * @param {WasmInput | Promise<WasmInput>} [wasm]
 * @returns {Promise<typeof bindings>}
 */
export function loadWasm(wasm) {
  ready ??= compileWasm(wasm)
    .then((module) => init({ module_or_path: module }))
    .then((exports) => {
      memory = exports.memory;
      return bindings;
    });
  return ready;
}

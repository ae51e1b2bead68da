// Loads the WebAssembly core once per page, shared by the page and every <vhd-viewer> element.
// By default the .wasm is fetched from beside the bindings module (`new URL(..., import.meta.url)`
// in wasm-bindgen's glue), so it works from any static host without a bundler. A page that has
// the bytes already (the self-contained HTML file) passes them on the first call.
import init, * as bindings from '../pkg/vhd_viewer.js';

/** @type {Promise<typeof bindings> | null} */
let ready = null;

/**
 * The bindings, once the core is instantiated. `wasm`: the module's bytes, a `WebAssembly.Module`,
 * a URL or a Response; only the first call's argument is used.
 * @param {import('../pkg/vhd_viewer.js').InitInput | Promise<import('../pkg/vhd_viewer.js').InitInput>} [wasm]
 * @returns {Promise<typeof bindings>}
 */
export function loadWasm(wasm) {
  ready ??= init(wasm === undefined ? undefined : { module_or_path: wasm }).then(() => bindings);
  return ready;
}

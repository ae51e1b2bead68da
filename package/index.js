// vhd-viewer: the <vhd-viewer> element class (not registered: import 'vhd-viewer/define' for
// that, or call VhdViewerElement.define()) and the JavaScript API.
export { VhdViewerElement, VIEWS } from './js/element.js';
export { openVhd, VhdDisk, toSource } from './js/api.js';
export { urlSource, blobSource, bytesSource, readRanges, mergeRanges, RemoteError } from './js/source.js';
export { loadWasm } from './js/wasm.js';
export { startWorker } from './js/engine.js';

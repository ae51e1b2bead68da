// vhd-viewer: the <vhd-viewer> element class (not registered: import 'vhd-viewer/define' for
// that, or call VhdViewerElement.define()) and the JavaScript API.
export { VhdViewerElement, VIEWS } from './js/page/element.js';
export { openVhd, VhdDisk, toSource, surveyFolder } from './js/page/api.js';
export { urlSource, blobSource, bytesSource, readRanges, mergeRanges, RemoteError } from './js/common/source.js';
export { loadWasm } from './js/common/wasm.js';
export { startWorker } from './js/page/engine.js';

// Importing this module registers <vhd-viewer>.
export { VhdViewerElement } from './index.js';

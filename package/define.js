// Registers <vhd-viewer>: `import 'vhd-viewer/define'` or <script type="module" src=".../define.js">.
export { VhdViewerElement } from './js/page/define.js';

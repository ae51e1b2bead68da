// Registers <vhd-viewer> (a side effect: import this module once, e.g. with
// <script type="module" src=".../define.js">). To choose another name, import the class from
// element.js and call VhdViewerElement.define('my-name').
import { VhdViewerElement } from './element.js';

VhdViewerElement.define();

export { VhdViewerElement };

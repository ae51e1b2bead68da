// The page and the <vhd-viewer> element in webkit: the suite of page-suite.mjs.
import { pageTests } from './page-suite.mjs';

pageTests('webkit');

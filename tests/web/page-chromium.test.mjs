// The page and the <vhd-viewer> element in chromium: the suite of page-suite.mjs.
import { pageTests } from './page-suite.mjs';

pageTests('chromium');

// The page and the <vhd-viewer> element in firefox: the suite of page-suite.mjs.
import { pageTests } from './page-suite.mjs';

pageTests('firefox');

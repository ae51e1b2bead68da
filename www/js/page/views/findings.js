// The integrity findings: severity, plain words, the file and the byte offset. Clicking the
// offset shows the place (the field in the structure tables and the bytes in the hex view).
import { h, field, fill } from '../dom.js';
import { hex } from '../../common/format.js';

/**
 * @import { Finding } from '../../common/types.js'
 * @import { Child } from '../types.js'
 */

const ICON = { error: '✖', warning: '▲', info: 'ℹ' };
const WORD = { error: 'Error', warning: 'Warning', info: 'Note' };

/**
 * `prefix` is the JSON path of the list: `all_findings` (info --json) or `check_findings` (what
 * the deep check adds, as `vhd-viewer check --json` lists them after the open-time ones).
 * @param {Element} el
 * @param {Finding[]} findings
 * @param {string[]} names
 * @param {(layer: number, offset: number) => void} onPlace
 * @param {Child[]} [extra]
 */
export function renderFindings(el, findings, names, onPlace, extra = [], prefix = 'all_findings', empty = 'Nothing wrong was found in the footer, header and block table.') {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const items = findings.map((f, i) =>
    h('li', { class: `finding ${f.severity}` },
      h('span', { class: 'sev' }, h('span', { 'aria-hidden': 'true' }, ICON[f.severity] + ' '), field(`${prefix}.${i}.severity`, f.severity, 'span', { class: 'visually-hidden' }), WORD[f.severity]),
      h('span', { class: 'msg' }, field(`${prefix}.${i}.message`, f.message)),
      h('span', { class: 'where' },
        names.length > 1 ? `${names[f.layer]} · ` : '',
        field(`${prefix}.${i}.code`, f.code, 'code'),
        f.offset !== null && f.offset !== undefined
          ? [' · ', h('button', { type: 'button', class: 'link', onclick: () => onPlace(f.layer, /** @type {number} */ (f.offset)), title: 'Show this place' }, 'at byte ', hex(f.offset), h('span', { class: 'visually-hidden' }, ' ('), field(`${prefix}.${i}.offset`, f.offset, 'span', { class: 'visually-hidden' }), h('span', { class: 'visually-hidden' }, ')'))]
          : null)));
  fill(el,
    h('p', { class: 'verdict ' + (counts.error ? 'bad' : 'good') },
      findings.length === 0 ? empty : `${counts.error} error(s), ${counts.warning} warning(s), ${counts.info} note(s).`),
    h('ol', { class: 'findings' }, items),
    extra);
}

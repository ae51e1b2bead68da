// "Ready for Azure?": the summary's verdict on whether Azure takes the disk, and each of its
// rules with a PASS or FAIL in words (not colour alone), the failing ones first, each with what
// was found, what Azure expects and where the field is; folded away when every rule passes.
import { h } from '../dom.js';
import { hex } from '../../common/format.js';

/** @import { FitReport, FitRule } from '../../common/types.js' */

/** What a rule's scope says beside it: the uses it is for. */
const SCOPE = { always: '', 'os-disk': 'for an OS disk', 'gen1-boot': "for a generation 1 VM's boot disk", 'gen2-boot': "for a generation 2 VM's boot disk" };

/**
 * One rule as a list item.
 * @param {FitRule} r
 */
function ruleItem(r) {
  const scope = SCOPE[r.scope];
  return h('li', { class: r.pass ? 'pass' : 'fail', 'data-code': r.code, 'data-pass': String(r.pass) },
    h('strong', { class: r.pass ? 'mark good' : 'mark bad' }, r.pass ? '✓ PASS' : '✗ FAIL'), ' ',
    r.rule, scope ? h('em', {}, ` (${scope})`) : null,
    h('br'),
    h('span', { class: 'found' }, `Found ${r.found}; expected ${r.expected}.`), ' ',
    h('span', { class: 'where' }, r.offset === null ? `(${r.field})` : `(${r.field} at byte ${hex(r.offset)})`), ' ',
    h('a', { href: r.source, target: '_blank', rel: 'noopener' }, 'Source'));
}

/**
 * The "Ready for Azure?" part of the summary.
 * @param {FitReport} fit
 */
export function fitPart(fit) {
  const failing = fit.rules.filter((r) => !r.pass);
  const ordered = [...failing.filter((r) => r.scope === 'always'), ...failing.filter((r) => r.scope !== 'always'), ...fit.rules.filter((r) => r.pass)];
  const fix = fit.fits
    ? null
    : h('p', { class: 'hint' }, 'To make a copy Azure takes (a fixed VHD of the whole chain, its size rounded up to a whole MiB), use “Save an Azure-ready copy…” in the Save part. This file is not changed.');
  return h('section', { class: 'fit', 'aria-labelledby': 'fit-title', 'data-fits': String(fit.fits) },
    h('h3', { id: 'fit-title' }, 'Ready for Azure?'),
    h('p', { class: `verdict fit-verdict ${fit.fits ? 'good' : 'bad'}` }, fit.verdict),
    fix,
    h('details', { open: failing.length > 0 },
      h('summary', {}, `The ${fit.rules.length} rules Azure states for an uploaded disk`),
      h('ul', { class: 'fit-rules' }, ordered.map(ruleItem))));
}

// A few DOM helpers.
import { valueText } from '../common/format.js';

/** @typedef {import('./types.js').Child} Child */

/**
 * Creates an element: h('p', { class: 'x', onclick: f }, 'text', child).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'class') el.className = String(v);
    // Through the CSSOM: the Content-Security-Policy forbids style attributes.
    else if (k === 'style') el.style.cssText = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of /** @type {unknown[]} */ (children).flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/**
 * An element showing the `info --json` value at `key`, marked `data-field="key"`. A yes-or-no
 * value reads as words (`words`: [when true, when false]; default yes, no) and keeps its machine
 * value in `data-value` (`true`, `false`), which scripts and tests read.
 * @param {string | null} key
 * @param {unknown} value
 * @param {keyof HTMLElementTagNameMap} [tag]
 * @param {Record<string, unknown>} [attrs]
 * @param {[yes: string, no: string]} [words]
 */
export function field(key, value, tag = 'span', attrs = {}, words = ['yes', 'no']) {
  if (typeof value === 'boolean') return h(tag, { ...attrs, 'data-field': key, 'data-value': String(value) }, value ? words[0] : words[1]);
  return h(tag, { ...attrs, 'data-field': key }, valueText(value));
}

/**
 * Empties an element and puts children in.
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren(
    .../** @type {unknown[]} */ (children)
      .flat(Infinity)
      .filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (c instanceof Node ? c : String(c))),
  );
  return el;
}

/**
 * A colour of the current scheme, from the CSS custom property `name` as it applies at `el`
 * (the page's root by default; inside a <vhd-viewer> element, its own theme).
 * @param {string} name
 * @param {Element} [el]
 */
export function cssColor(name, el = document.documentElement) {
  return getComputedStyle(el).getPropertyValue(name).trim() || '#888888';
}

/**
 * Colour of layer `i` of a chain (cycles after eight), as it applies at `el`.
 * @param {number} i
 * @param {Element} [el]
 */
export function layerColor(i, el) {
  return cssColor(`--layer-${i % 8}`, el);
}

/**
 * A legend: [[cssColor, label, extra class, pattern]]; the pattern (see cellmap.js's
 * patternTile) drawn over the swatch's colour as on the map.
 * @param {[color: string, label: string, cls?: string, pattern?: number][]} items
 */
export function legend(items) {
  return items.map(([color, label, cls, pattern]) => h('span', { class: 'key' }, h('span', { class: `swatch ${cls || ''} ${pattern ? 'p' + (pattern % 8) : ''}`, style: `background-color:${color}` }), label));
}

// A few DOM helpers.
import { valueText } from './format.js';

/** Creates an element: h('p', { class: 'x', onclick: f }, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    // Through the CSSOM: the Content-Security-Policy forbids style attributes.
    else if (k === 'style') el.style.cssText = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** An element showing the `info --json` value at `key`, marked `data-field="key"`. */
export function field(key, value, tag = 'span', attrs = {}) {
  return h(tag, { ...attrs, 'data-field': key }, valueText(value));
}

/** Empties an element and puts children in. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/**
 * A colour of the current scheme, from the CSS custom property `name` as it applies at `el`
 * (the page's root by default; inside a <vhd-viewer> element, its own theme).
 */
export function cssColor(name, el = document.documentElement) {
  return getComputedStyle(el).getPropertyValue(name).trim() || '#888888';
}

/** Colour of layer `i` of a chain (cycles after eight), as it applies at `el`. */
export function layerColor(i, el) {
  return cssColor(`--layer-${i % 8}`, el);
}

/** A legend: [[cssColor, label, extra class]]. */
export function legend(items) {
  return items.map(([color, label, cls]) => h('span', { class: 'key' }, h('span', { class: 'swatch ' + (cls || ''), style: `background:${color}` }), label));
}

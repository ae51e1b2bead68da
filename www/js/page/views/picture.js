// "Save picture" (SVG or PNG) and "Copy as SVG" under each of the six pictures (the chain, the
// block map, the provenance map, a block's sector bitmap, the partitions, the Changes bar). The
// SVG is the core's (`vhd-viewer draw`, through the Worker: VhdDisk.picture), so the page saves
// the bytes the command line writes; the PNG is that SVG drawn on a canvas, at twice its size.
import { h } from '../dom.js';
import { download } from '../save.js';

/**
 * @import { VhdDisk } from '../api.js'
 * @import { PictureRequest } from '../../common/types.js'
 */

/** The width the pictures are drawn at: the command line's default. */
export const PICTURE_WIDTH = 640;

/** The colours the reader sees: the page's scheme. */
function theme() {
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/**
 * An SVG drawn on a canvas, as PNG, at `scale` times its size.
 * @param {string} svg
 * @param {number} scale
 * @returns {Promise<Blob>}
 */
export async function svgToPng(svg, scale = 2) {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(img.naturalWidth * scale);
    canvas.height = Math.round(img.naturalHeight * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser cannot draw on a canvas');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the picture could not be made a PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * The buttons of one picture. `what()` says which picture is shown now (null: none, and the
 * buttons are hidden), with the disk it is of and the name its file is saved under.
 */
export class PictureBar {
  /**
   * @param {string} kind the picture's name in words, for the buttons' labels
   * @param {() => { disk: VhdDisk, request: Omit<PictureRequest, 'theme' | 'width'>, name: string } | null} what
   * @param {(disk: VhdDisk, request: PictureRequest) => Promise<string | undefined>} draw draws it
   *   (a long one with progress and Stop; undefined when stopped)
   */
  constructor(kind, what, draw) {
    this.what = what;
    this.draw = draw;
    this.status = h('span', { class: 'small', role: 'status' });
    /** @param {string} action @param {string} label @param {string} title @param {() => Promise<void>} run */
    const button = (action, label, title, run) =>
      h('button', { type: 'button', 'data-action': action, title, onclick: () => void this.run(run) }, label);
    this.el = h(
      'div',
      { class: 'controls picture-bar', 'data-picture': kind, hidden: true },
      button('picture-svg', 'Save picture (SVG)', `Save the ${kind} as an SVG file: the picture vhd-viewer draw makes`, () => this.save('svg')),
      button('picture-png', 'Save picture (PNG)', `Save the ${kind} as a PNG image`, () => this.save('png')),
      button('picture-copy', 'Copy as SVG', `Copy the ${kind}'s SVG to the clipboard`, () => this.copy()),
      this.status,
    );
  }

  /** Shows the buttons when there is a picture to save. */
  refresh() {
    this.el.hidden = !this.what();
    this.status.textContent = '';
  }

  /** The picture shown now, as the core draws it: `{ svg, name }`. */
  async svg() {
    const w = this.what();
    if (!w) throw new Error('there is no picture here yet');
    const svg = await this.draw(w.disk, { ...w.request, theme: theme(), width: PICTURE_WIDTH });
    if (svg === undefined) throw new Error('stopped');
    return { svg, name: w.name };
  }

  /** @param {'svg' | 'png'} as */
  async save(as) {
    const { svg, name } = await this.svg();
    const blob = as === 'svg' ? new Blob([svg], { type: 'image/svg+xml' }) : await svgToPng(svg);
    download(blob, `${name}.${as}`);
    this.status.textContent = `Saved ${name}.${as}.`;
  }

  async copy() {
    const { svg } = await this.svg();
    await navigator.clipboard.writeText(svg);
    this.status.textContent = 'Copied the SVG.';
  }

  /** @param {() => Promise<void>} job */
  async run(job) {
    this.status.textContent = 'Drawing…';
    try {
      await job();
    } catch (e) {
      this.status.textContent = `Not done: ${/** @type {Error} */ (e).message}`;
    }
  }
}

// Shared by the end-to-end tests: the server, Chromium, the command line to compare with.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync, createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = join(ROOT, 'www');
export const SAMPLES = join(WWW, 'samples');
export const SCREENSHOTS = join(ROOT, 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The command line binary: release if built, else debug. */
export function cliPath() {
  for (const p of ['target/release/vhd-viewer', 'target/debug/vhd-viewer']) if (existsSync(join(ROOT, p))) return join(ROOT, p);
  throw new Error('build the command line first: cargo build --release');
}

/** `vhd-viewer info FILE --parent P... --json`, run in the file's folder with bare names. */
export function cliInfo(file, parents = []) {
  const args = ['info', basename(file), ...parents.flatMap((p) => ['--parent', basename(p)]), '--json'];
  return JSON.parse(execFileSync(cliPath(), args, { cwd: dirname(file), encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/** `vhd-viewer cat` of a chain, as bytes. */
export function cliCat(file, parents = []) {
  const args = ['cat', basename(file), ...parents.flatMap((p) => ['--parent', basename(p)])];
  return execFileSync(cliPath(), args, { cwd: dirname(file), maxBuffer: 1 << 30 });
}

export function tempDir(prefix = 'vhd-web-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts the server and Chromium with a fresh profile. Returns { url, browser, newPage, close }.
 * Every page records the network requests it makes in page.requests.
 */
export async function start() {
  const { server, url } = await serve({ root: WWW, port: 0 });
  const profile = tempDir('vhd-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
  });
  const newPage = async ({ colorScheme = 'light', viewport } = {}) => {
    const page = await context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme });
    page.requests = [];
    page.errors = [];
    page.on('request', (r) => page.requests.push(r.url()));
    page.on('pageerror', (e) => page.errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') page.errors.push(m.text());
    });
    return page;
  };
  return {
    url,
    context,
    newPage,
    async close() {
      await context.close();
      await new Promise((r) => server.close(r));
      profile.remove();
    },
  };
}

/** Loads the page and waits until the WebAssembly is ready. */
export async function openPage(env, opts) {
  const page = await env.newPage(opts);
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  return page;
}

/** Waits until the page has shown the files given (or failed to). */
export async function settled(page) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state));
  return page.evaluate(() => document.body.dataset.state);
}

/** Every data-field in `scope` as [key, text]. */
export async function dataFields(page, scope = 'body') {
  return page.$$eval(`${scope} [data-field]`, (els) => els.map((e) => [e.dataset.field, e.dataset.value ?? e.textContent]));
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name + '.png');
}

/** The text the page puts in a data-field for a JSON value (independent of the page's code). */
export function text(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(text).join(', ');
  return String(v);
}

/** The value at a dotted `path` (`all_findings.0.code`) of a JSON object. */
export function at(obj, path) {
  return path.split('.').reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), obj);
}

/** Gives files to the page by a drop event carrying a DataTransfer built in the page. */
export async function drop(page, paths) {
  const files = paths.map((p) => ({ name: p.split('/').pop(), b64: readFileSync(p).toString('base64') }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    const target = document.getElementById('drop');
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

/**
 * A stand-in for showSaveFilePicker keeping the file in memory (`window.__saved`: writes, then
 * `base64` when closed or `aborted`); `delay` ms per write. Run in the page: `page.addInitScript(standIn, { delay })`.
 */
export function standIn({ delay }) {
  window.__saved = { writes: 0 };
  window.showSaveFilePicker = async (opts) => ({
    name: opts.suggestedName,
    async createWritable() {
      let buf = new Uint8Array(0);
      let queue = Promise.resolve();
      const grow = (n) => {
        if (n > buf.length) {
          const b = new Uint8Array(n);
          b.set(buf);
          buf = b;
        }
      };
      return {
        async truncate(n) {
          await queue;
          grow(n);
          buf = buf.subarray(0, n);
        },
        // One write after the other, as a FileSystemWritableFileStream does them, however many
        // are handed over at once.
        write({ type, position, data }) {
          const done = queue.then(async () => {
            if (type !== 'write') throw new Error('unexpected ' + type);
            if (delay) await new Promise((r) => setTimeout(r, delay));
            grow(position + data.length);
            buf.set(data, position);
            window.__saved.writes++;
          });
          queue = done.catch(() => {});
          return done;
        },
        async close() {
          await queue;
          let s = '';
          for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
          window.__saved.base64 = btoa(s);
        },
        async abort() {
          window.__saved.aborted = true;
        },
        copies: true, // it copies each write's bytes, as a FileSystemWritableFileStream does
      };
    },
  });
}

/**
 * A page of `env` with `files` given, ready; without `fsa` the browser has no File System Access
 * API (saves are downloads), with it the stand-in file picker (`standIn`, each write `delay` ms).
 */
export async function pageWith(env, files, { fsa = false, delay = 0 } = {}) {
  const page = await env.newPage();
  if (fsa) await page.addInitScript(standIn, { delay });
  else {
    await page.addInitScript(() => {
      delete Window.prototype.showSaveFilePicker;
      delete window.showSaveFilePicker;
    });
  }
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', files);
  assert.equal(await settled(page), 'ready');
  return page;
}

/** The SHA-256 of a file, read as a stream (the large copies do not fit a Buffer comfortably). */
export async function shaFile(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) h.update(chunk);
  return h.digest('hex');
}

/**
 * A stand-in for the save dialog that gives a file of the origin's private file system (OPFS):
 * its writable is a real FileSystemWritableFileStream, written to disk as the page goes. Run in
 * the page: `page.addInitScript(opfsPicker)`.
 */
export function opfsPicker() {
  window.__opfs = { picked: null };
  window.showSaveFilePicker = async (opts) => {
    const root = await navigator.storage.getDirectory();
    window.__opfs.picked = opts.suggestedName;
    return root.getFileHandle(opts.suggestedName, { create: true });
  };
}

/** Saves the file `name` of the page's private file system (opfsPicker's) at `path`, as a download. */
export async function fromOpfs(page, name, path) {
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 180_000 }),
    page.evaluate(async (name) => {
      const root = await navigator.storage.getDirectory();
      const file = await (await root.getFileHandle(name)).getFile();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(file);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
    }, name),
  ]);
  await download.saveAs(path);
}

/**
 * Runs the command line; returns its stdout (its status must be `status`).
 * @param {string[]} args
 */
export function vv(args, status = 0) {
  const r = spawnSync(cliPath(), args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  assert.equal(r.status, status, `vhd-viewer ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * Starts a save with `start` (a click), stops it once the file has had a write (the picker's
 * stand-in, `fsa`), and checks that the file was discarded and the page said `said`.
 * @param {import('playwright-core').Page} page
 * @param {() => Promise<void>} start
 * @param {RegExp} [said]
 */
export async function stopSave(page, start, said = /cancelled/) {
  await start();
  await page.waitForSelector('#task:not([hidden])');
  await page.waitForFunction(() => window.__saved.writes >= 1);
  await page.click('#task-cancel');
  await page.waitForFunction(() => window.__saved.aborted === true);
  await page.waitForSelector('#task', { state: 'hidden' });
  assert.equal(await page.evaluate(() => window.__saved.base64), undefined, 'the file was not closed (kept)');
  assert.match(await page.textContent('#messages'), said);
}

/**
 * The hits the page's search view lists (`root`: its element), each with the fields of a line of
 * `search --json` it shows (read through its rows' data attributes).
 * @param {{ evaluate: Function }} page
 */
export function shownHits(page, root = '#search-view') {
  return page.evaluate((r) => [...document.querySelectorAll(`${r} tbody tr[data-offset]`)].map((tr) => {
    const d = tr.dataset;
    const num = (v) => (v === undefined ? null : Number(v));
    return { offset: Number(d.offset), length: Number(d.length), encoding: d.encoding, layer: num(d.layer), partition: num(d.partition), kind: d.kind, path: d.path ?? null, file_offset: num(d.fileOffset) };
  }), root);
}

/**
 * A line of `search --json` as shownHits gives it.
 * @param {{ offset: number, length: number, encoding: string, layer: number | null, partition: number | null, owner: { kind: string, path: string | null, file_offset: number | null } }} h
 */
export function hitFields(h) {
  return { offset: h.offset, length: h.length, encoding: h.encoding, layer: h.layer, partition: h.partition, kind: h.owner.kind, path: h.owner.path, file_offset: h.owner.file_offset };
}

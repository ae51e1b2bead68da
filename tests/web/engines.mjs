// One way to drive a page in each of the three browser engines, for the tests that run in all of
// them (tests/web/page-*.test.mjs) and for the benchmark's page part:
//
//   chromium  Debian's `chromium`, through playwright-core (the Chrome DevTools Protocol)
//   firefox   Debian's `firefox-esr`, through puppeteer-core over WebDriver BiDi
//   webkit    WebKitGTK's MiniBrowser (the engine of Safari), through Debian's `WebKitWebDriver`
//             (WebDriver classic, spoken here over fetch) under `xvfb-run`: it has no headless mode
//
// `launch(engine)` gives a browser with `newPage()`; every page has the same small interface:
// goto, gotoWithFiles (files given to a file input as soon as the page's DOM has it, before its
// scripts may have run), evaluate, setFiles (a file input), click, fill, select, waitFor / waitForSelector /
// waitForText, text, screenshot, download (click, then the file as it landed on disk), errors,
// close. Everything a test asserts is read from the page with `evaluate` (data-field values,
// visible text) or from the disk (downloads), the same way in every engine.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync, deflateSync } from 'node:zlib';
import { CHROMIUM_ARGS, tempDir } from './helpers.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** Where each engine's browser is, and what to install when it is not there. */
export const BINARIES = {
  chromium: { path: process.env.CHROMIUM || '/usr/bin/chromium', apt: 'chromium' },
  firefox: { path: process.env.FIREFOX || '/usr/bin/firefox-esr', apt: 'firefox-esr' },
  webkit: { path: process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', apt: 'webkit2gtk-driver xvfb xauth' },
};

/**
 * The features the page uses differently by engine, as each engine has them. A test that needs
 * one runs only where it is, and first checks that the engine really has it (or really lacks
 * it), so that a change in a browser shows up as a failure rather than as a silent skip.
 */
export const FEATURES = {
  // window.showSaveFilePicker: the raw export streams into a file; elsewhere it is a download.
  fileSystemAccess: { chromium: true, firefox: false, webkit: false },
};

/** The window every page gets, in CSS pixels. */
export const VIEWPORT = { width: 1200, height: 900 };
const DOWNLOAD_TEMP = /\.(part|crdownload|download|wkdownload)$/;

/** Starts the browser of `engine`. Returns { engine, version, downloads, newPage(), close() }. */
export async function launch(engine, { viewport = VIEWPORT } = {}) {
  if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${engine}: one of ${ENGINES.join(', ')}`);
  const bin = BINARIES[engine];
  if (!existsSync(bin.path)) throw new Error(`${engine}: ${bin.path} is missing: run scripts/setup.sh (apt-get install ${bin.apt})`);
  const downloads = tempDir(`vhd-${engine}-downloads-`);
  let browser;
  try {
    browser = engine === 'chromium' ? await launchChromium(viewport, downloads.dir) : engine === 'firefox' ? await launchFirefox(viewport, downloads.dir) : await launchWebKit(viewport, downloads.dir);
  } catch (e) {
    downloads.remove();
    throw e;
  }
  const close = browser.close;
  browser.engine = engine;
  browser.downloads = downloads.dir;
  browser.close = async () => {
    try {
      await close();
    } finally {
      downloads.remove();
    }
  };
  return browser;
}

// ------------------------------------------------------------------ what every engine shares

/** The part of a page's interface written once, on top of an engine's goto/evaluate/click. */
class CommonPage {
  /** Polls `fn(arg)` in the page until it returns something truthy; returns that. */
  async waitFor(fn, arg = null, { timeout = 30_000, interval = 50, what } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
      const v = await this.evaluate(fn, arg);
      if (v) return v;
      if (Date.now() > end) throw new Error(`${this.engine}: timed out after ${timeout} ms waiting for ${what || String(fn)} (${JSON.stringify(arg)})`);
      await sleep(interval);
    }
  }

  waitForSelector(selector, opts) {
    return this.waitFor((s) => !!document.querySelector(s), selector, { what: selector, ...opts });
  }

  /** Waits until the text of `selector` matches `re`; returns the text. */
  waitForText(selector, re, opts) {
    return this.waitFor(
      ([s, src, flags]) => {
        const t = document.querySelector(s)?.textContent;
        return t != null && new RegExp(src, flags).test(t) ? t : null;
      },
      [selector, re.source, re.flags],
      { what: `${selector} ~ ${re}`, ...opts },
    );
  }

  /** The textContent of the first element matching `selector` (null if there is none). */
  text(selector) {
    return this.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
  }

  /** Sets a text input's value as typing would (input and change events). */
  fill(selector, value) {
    return this.evaluate(([s, v]) => {
      const el = document.querySelector(s);
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  /** Chooses an option of a <select> (or checks a radio button or checkbox) with its events. */
  select(selector, value) {
    return this.evaluate(([s, v]) => {
      const el = document.querySelector(s);
      if (el.type === 'radio' || el.type === 'checkbox') el.checked = v ?? true;
      else el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  /**
   * Clicks `selector` and waits for the download it starts; returns { name, path } of the file
   * once the browser has finished writing it into the browser's downloads folder.
   */
  async download(selector, { timeout = 60_000 } = {}) {
    const dir = this.downloadsDir;
    const before = new Set(readdirSync(dir));
    await this.click(selector);
    const end = Date.now() + timeout;
    let last = null;
    for (;;) {
      await sleep(100);
      const names = readdirSync(dir);
      // (Hidden names are the browser's own: MiniBrowser's home is this folder.)
      const fresh = names.filter((n) => !before.has(n) && !n.startsWith('.') && !DOWNLOAD_TEMP.test(n));
      const busy = names.some((n) => DOWNLOAD_TEMP.test(n));
      if (fresh.length === 1 && !busy) {
        const path = join(dir, fresh[0]);
        const size = statSync(path).size;
        // Done when no partial file is left and the size held still for one poll.
        if (last === size) return { name: fresh[0], path };
        last = size;
      } else if (fresh.length > 1) {
        throw new Error(`${this.engine}: one click started ${fresh.length} downloads: ${fresh.join(', ')}`);
      }
      if (Date.now() > end) throw new Error(`${this.engine}: no download finished within ${timeout} ms of clicking ${selector} (in ${dir}: ${names.join(', ') || 'nothing'})`);
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Errors the page reports, gathered in the page: for drivers that give no page events. */
function watchErrors() {
  if (window.__engineErrors) return;
  const errors = (window.__engineErrors = []);
  addEventListener('error', (e) => errors.push(String(e.error?.stack || e.message)));
  addEventListener('unhandledrejection', (e) => errors.push('unhandled rejection: ' + String(e.reason?.stack || e.reason)));
  const log = console.error;
  console.error = (...a) => {
    errors.push(a.map(String).join(' '));
    log.apply(console, a);
  };
}

// ------------------------------------------------------------------ Chromium: playwright-core

async function launchChromium(viewport, downloadsDir) {
  const { chromium } = await import('playwright-core');
  const profile = tempDir('vhd-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: BINARIES.chromium.path,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
  });
  return {
    version: await versionOf(BINARIES.chromium.path),
    async newPage() {
      const p = await context.newPage();
      const page = new ChromiumPage(p, downloadsDir);
      p.on('pageerror', (e) => page.pageErrors.push(String(e)));
      p.on('console', (m) => m.type() === 'error' && page.pageErrors.push(m.text()));
      return page;
    },
    async close() {
      await context.close();
      profile.remove();
    },
  };
}

class ChromiumPage extends CommonPage {
  constructor(page, downloadsDir) {
    super();
    this.engine = 'chromium';
    this.page = page;
    this.downloadsDir = downloadsDir;
    this.pageErrors = [];
  }
  async goto(url) {
    await this.page.goto(url);
  }
  async gotoWithFiles(url, selector, paths) {
    // Back once the document is there; setInputFiles waits for the element only.
    await this.page.goto(url, { waitUntil: 'commit' });
    await this.page.setInputFiles(selector, paths);
  }
  evaluate(fn, arg = null) {
    return this.page.evaluate(fn, arg);
  }
  setFiles(selector, paths) {
    return this.page.setInputFiles(selector, paths);
  }
  click(selector, { nth = 0 } = {}) {
    return this.page.locator(selector).nth(nth).click();
  }
  async download(selector, { timeout = 60_000 } = {}) {
    const [d] = await Promise.all([this.page.waitForEvent('download', { timeout }), this.page.click(selector)]);
    const path = join(this.downloadsDir, d.suggestedFilename());
    await d.saveAs(path);
    return { name: d.suggestedFilename(), path };
  }
  async screenshot(path, { selector, fullPage = false } = {}) {
    if (selector) await this.page.locator(selector).screenshot({ path });
    else await this.page.screenshot({ path, fullPage });
  }
  async errors() {
    return [...this.pageErrors];
  }
  close() {
    return this.page.close();
  }
}

// ------------------------------------------------------------------ Firefox: puppeteer-core, BiDi

async function launchFirefox(viewport, downloadsDir) {
  const { default: puppeteer } = await import('puppeteer-core');
  const profile = tempDir('vhd-firefox-');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: BINARIES.firefox.path,
    headless: true,
    userDataDir: profile.dir,
    defaultViewport: viewport,
    extraPrefsFirefox: {
      // Downloads go straight into the folder, without a dialog or the downloads panel.
      'browser.download.dir': downloadsDir,
      'browser.download.folderList': 2,
      'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false,
      'browser.download.alwaysOpenPanel': false,
      'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream,application/json',
    },
  });
  return {
    version: await browser.version(),
    async newPage() {
      const p = await browser.newPage();
      const page = new FirefoxPage(p, downloadsDir);
      p.on('pageerror', (e) => page.pageErrors.push(String(e)));
      p.on('console', (m) => m.type() === 'error' && page.pageErrors.push(m.text()));
      return page;
    },
    async close() {
      await browser.close();
      profile.remove();
    },
  };
}

class FirefoxPage extends CommonPage {
  constructor(page, downloadsDir) {
    super();
    this.engine = 'firefox';
    this.page = page;
    this.downloadsDir = downloadsDir;
    this.pageErrors = [];
  }
  async goto(url) {
    await this.page.goto(url, { waitUntil: 'load' });
  }
  async gotoWithFiles(url, selector, paths) {
    // The navigation is not waited for: the element is looked for while the page loads.
    const loaded = this.page.goto(url, { waitUntil: 'load' });
    const end = Date.now() + 30_000;
    let input = null;
    while (!input) {
      if (Date.now() > end) throw new Error(`firefox: no ${selector} within 30 s of going to ${url}`);
      input = await this.page.$(selector).catch(() => null);
      if (!input) await sleep(5);
    }
    await input.uploadFile(...paths);
    await loaded;
  }
  evaluate(fn, arg = null) {
    return this.page.evaluate(fn, arg);
  }
  async setFiles(selector, paths) {
    const input = await this.page.$(selector);
    if (!input) throw new Error(`firefox: no ${selector}`);
    await input.uploadFile(...paths);
  }
  async click(selector, { nth = 0 } = {}) {
    const el = (await this.page.$$(selector))[nth];
    if (!el) throw new Error(`firefox: no ${selector} number ${nth}`);
    // In view at once (the page scrolls smoothly, and a click during the scroll lands elsewhere).
    await el.evaluate((e) => e.scrollIntoView({ block: 'center', behavior: 'instant' }));
    await el.click();
  }
  async screenshot(path, { selector, fullPage = false } = {}) {
    if (selector) {
      const el = await this.page.$(selector);
      await el.screenshot({ path });
    } else await this.page.screenshot({ path, fullPage });
  }
  async errors() {
    return [...this.pageErrors];
  }
  close() {
    return this.page.close();
  }
}

// ------------------------------------------------------------------ WebKit: WebDriver classic

const MINIBROWSER_ARGS = ['--automation'];

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function versionOf(path) {
  return new Promise((resolve) => {
    const p = spawn(path, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => resolve(out.trim()));
    p.on('error', () => resolve(''));
  });
}

async function launchWebKit(viewport, downloadsDir) {
  const port = await freePort();
  // MiniBrowser saves downloads into the XDG download folder, which is $HOME when none is set:
  // the driver (and so every MiniBrowser it starts) gets the downloads folder as its home.
  const driver = spawn('xvfb-run', ['-a', '-s', '-screen 0 1600x8192x24', 'WebKitWebDriver', `--port=${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, HOME: downloadsDir, XDG_CONFIG_HOME: join(downloadsDir, '.config'), XDG_CACHE_HOME: join(downloadsDir, '.cache') },
  });
  let stderr = '';
  driver.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((r) => driver.on('exit', r));
  // If this process ends without closing the browser (a crash, a timeout), its group goes too.
  const orphan = () => killGroup(driver);
  process.once('exit', orphan);
  const wd = new WebDriver(`http://127.0.0.1:${port}`);
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await wd.call('GET', '/status')).ready !== undefined) break;
    } catch {
      /* not listening yet */
    }
    if (driver.exitCode !== null || Date.now() > end) {
      killGroup(driver);
      throw new Error(`webkit: WebKitWebDriver did not start (is xvfb-run there? apt-get install ${BINARIES.webkit.apt}): ${stderr}`);
    }
    await sleep(100);
  }
  // One WebDriver session (one MiniBrowser window) for the whole browser: the driver allows one
  // at a time. A new page is that window on a blank page; pages are used one after the other.
  let s;
  try {
    s = await wd.call('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: BINARIES.webkit.path, args: MINIBROWSER_ARGS } } },
    });
  } catch (e) {
    killGroup(driver);
    throw e;
  }
  const session = `/session/${s.sessionId}`;
  await wd.call('POST', `${session}/timeouts`, { script: 300_000, pageLoad: 60_000, implicit: 0 });
  await wd.call('POST', `${session}/window/rect`, { width: viewport.width, height: viewport.height });
  let current = null;
  return {
    version: `MiniBrowser (WebKitGTK ${s.capabilities.browserVersion})`,
    async newPage() {
      if (current) current.closed = true;
      current = new WebKitPage(wd, session, downloadsDir);
      await wd.call('POST', `${session}/url`, { url: 'about:blank' });
      // Each page starts with a viewport of the size asked: MiniBrowser gives part of its
      // window to a bar per download, so after a dozen downloads the page had 93 px left and
      // the sticky section links lay over every button ("element click intercepted"). The
      // window is made taller by what the bars take.
      await wd.call('POST', `${session}/window/rect`, { width: viewport.width, height: viewport.height });
      const inner = await wd.call('POST', `${session}/execute/sync`, { script: 'return innerHeight', args: [] });
      if (inner < viewport.height) {
        await wd.call('POST', `${session}/window/rect`, { width: viewport.width, height: Math.min(8192, 2 * viewport.height - inner) });
      }
      return current;
    },
    async close() {
      await wd.call('DELETE', session).catch(() => {});
      killGroup(driver);
      process.off('exit', orphan);
      await Promise.race([exited, sleep(5000)]);
    },
  };
}

/** Ends the process group started with `detached` (xvfb-run, Xvfb, the driver, MiniBrowser). */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

/** WebDriver classic over fetch: just the commands the pages use. */
class WebDriver {
  constructor(base) {
    this.base = base;
  }
  async call(method, path, body) {
    const r = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`webkit: ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  }
}

/** CRC-32 (the PNG chunks' checksum; zlib.crc32 is only in newer Node versions). */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The pixels of an 8-bit RGB or RGBA PNG (not interlaced): { width, height, bpp (3 or 4), rows
 * (one Buffer of width * bpp bytes each), ihdr }.
 */
export function decodePng(png) {
  let at = 8;
  let ihdr;
  const idat = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [depth, color, , , interlace] = ihdr.subarray(8);
  if (depth !== 8 || (color !== 2 && color !== 6) || interlace) throw new Error(`decodePng: a PNG of depth ${depth}, colour type ${color}, interlace ${interlace}`);
  const bpp = color === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const rows = [];
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const add = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      line[i] = (line[i] + add) & 0xff;
    }
    rows.push(line);
    prev = line;
  }
  return { width, height, bpp, rows, ihdr };
}

/** Cuts `box` out of an 8-bit RGB or RGBA PNG (not interlaced), as a new PNG. */
export function cropPng(png, box) {
  const { width, height, bpp, rows, ihdr } = decodePng(png);
  // A box WebKit measured as NaN (seen with a section far down a very tall page) is taken from 0.
  const n = (/** @type {number} */ v) => (Number.isFinite(v) ? v : 0);
  const x0 = Math.max(0, Math.min(width - 1, n(box.x))), y0 = Math.max(0, Math.min(height - 1, n(box.y)));
  const w = Math.max(1, Math.min(width - x0, n(box.width) || width)), h = Math.max(1, Math.min(height - y0, n(box.height) || height));
  const out = Buffer.alloc(h * (w * bpp + 1));
  for (let y = 0; y < h; y++) rows[y0 + y].copy(out, y * (w * bpp + 1) + 1, x0 * bpp, (x0 + w) * bpp);
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
    return Buffer.concat([head, data, crc]);
  };
  const hdr = Buffer.from(ihdr);
  hdr.writeUInt32BE(w, 0);
  hdr.writeUInt32BE(h, 4);
  return Buffer.concat([png.subarray(0, 8), chunk('IHDR', hdr), chunk('IDAT', deflateSync(out)), chunk('IEND', Buffer.alloc(0))]);
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

class WebKitPage extends CommonPage {
  constructor(wd, session, downloadsDir) {
    super();
    this.engine = 'webkit';
    this.wd = wd;
    this.s = session;
    this.downloadsDir = downloadsDir;
  }
  async goto(url) {
    await this.wd.call('POST', `${this.s}/url`, { url });
    // No event reaches a WebDriver classic client: the page gathers its own errors from here on.
    await this.evaluate(watchErrors);
  }
  async gotoWithFiles(url, selector, paths) {
    // The driver is back from a navigation at readyState "interactive": the DOM is there, the
    // page's module scripts may not have run yet.
    await this.wd.call('POST', `${this.s}/url`, { url });
    await this.setFiles(selector, paths);
    await this.evaluate(watchErrors);
  }
  async evaluate(fn, arg = null) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn})(arguments[0])).then(
        (v) => done({ value: v === undefined ? null : v }),
        (e) => done({ error: String((e && e.stack) || e) }));`;
    const r = await this.wd.call('POST', `${this.s}/execute/async`, { script, args: [arg] });
    if (r.error !== undefined) throw new Error(`webkit: evaluate: ${r.error}`);
    return r.value;
  }
  async element(selector, nth = 0) {
    const els = await this.wd.call('POST', `${this.s}/elements`, { using: 'css selector', value: selector });
    if (!els[nth]) throw new Error(`webkit: no ${selector} number ${nth}`);
    return els[nth][ELEMENT];
  }
  async setFiles(selector, paths) {
    // A file input takes the paths as typed text, one a line.
    await this.wd.call('POST', `${this.s}/element/${await this.element(selector)}/value`, { text: paths.join('\n') });
  }
  async click(selector, { nth = 0 } = {}, again = 3) {
    try {
      const id = await this.element(selector, nth);
      // The driver scrolls the element into view and clicks at once; the page scrolls smoothly
      // (scroll-behavior: smooth), so the element would not be there yet: scroll it there first.
      await this.evaluate(([s, n]) => document.querySelectorAll(s)[n].scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' }), [selector, nth]);
      await this.wd.call('POST', `${this.s}/element/${id}/click`, {});
    } catch (e) {
      // An element the page drew again between finding and clicking it: found again, as
      // Playwright's locators are.
      if (again > 0 && /stale element/.test(String(/** @type {Error} */ (e).message))) {
        await sleep(100);
        return this.click(selector, { nth }, again - 1);
      }
      if (!/click intercepted/.test(String(/** @type {Error} */ (e).message))) throw e;
      // Say what lies on the element's middle, and the window's size.
      const over = await this.evaluate(([s, n]) => {
        const r = document.querySelectorAll(s)[n].getBoundingClientRect();
        const o = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return `${o ? `${o.tagName.toLowerCase()}#${o.id}.${[...o.classList].join('.')}` : 'nothing'} at ${Math.round(r.left + r.width / 2)},${Math.round(r.top + r.height / 2)} (window ${innerWidth}x${innerHeight})`;
      }, [selector, nth]);
      throw new Error(`${/** @type {Error} */ (e).message} ${selector} is under ${over}`);
    }
  }
  async screenshot(path, { selector, fullPage = false } = {}) {
    let png;
    if (selector || fullPage) {
      // Only what is in the window is drawn, and the driver's element pictures come out black
      // here: the window is made as tall as the page (the X screen is 8192 pixels tall), the
      // page put at its top, the whole window taken, and the element cut out of it.
      const rect = await this.wd.call('GET', `${this.s}/window/rect`);
      const [inner, height] = await this.evaluate(() => {
        window.scrollTo({ top: 0, left: 0, behavior: 'instant' });
        return [innerHeight, document.documentElement.scrollHeight];
      });
      await this.wd.call('POST', `${this.s}/window/rect`, { width: rect.width, height: Math.min(8192, rect.height - inner + height) });
      try {
        const box = await this.evaluate(async (s) => {
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          window.scrollTo({ top: 0, left: 0, behavior: 'instant' });
          if (!s) return null;
          const r = document.querySelector(s).getBoundingClientRect();
          return { x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY), width: Math.round(r.width), height: Math.round(r.height) };
        }, selector ?? null);
        png = Buffer.from(await this.wd.call('GET', `${this.s}/screenshot`), 'base64');
        if (box) png = cropPng(png, box);
      } finally {
        await this.wd.call('POST', `${this.s}/window/rect`, { width: rect.width, height: rect.height });
      }
    } else png = Buffer.from(await this.wd.call('GET', `${this.s}/screenshot`), 'base64');
    writeFileSync(path, png);
  }
  async errors() {
    return (await this.evaluate(() => window.__engineErrors || [])) ?? [];
  }
  async close() {
    // The window stays for the next page: this page's document is left for a blank one.
    if (this.closed) return;
    this.closed = true;
    await this.wd.call('POST', `${this.s}/url`, { url: 'about:blank' });
  }
}

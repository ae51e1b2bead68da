// The benchmark's page part (bench/run.mjs): the page's figures for each input in each browser
// engine (Chromium, Firefox ESR, WebKitGTK), driven through tests/web/engines.mjs: opening (to
// the header and block map drawn), the engine alone opening the same Files, the exact bitmap scan,
// flattening (the page's raw export, into a stand-in save-file that throws the bytes away, in
// every engine the same writeRaw path: Firefox and WebKit, which lack showSaveFilePicker, are
// handed the same stand-in) and the page reading the files themselves.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/web/engines.mjs';

/** In the page: the wasm instance's memory size. */
const heapFn = async () => {
  const m = await import(new URL('pkg/vhd_viewer.js', location.href).href);
  return (await m.default()).memory.buffer.byteLength;
};


/** The Worker that times bare reads where the page's scan runs (written into the page's folder
 * while the bench runs: the page's Content-Security-Policy allows Workers of its own origin only). */
const PROBE_WORKER = `onmessage = async ({ data: { all, capMs, sync } }) => {
  const t0 = performance.now();
  let reads = 0;
  if (sync) {
    const r = new FileReaderSync();
    for (const [b, at] of all) {
      if (performance.now() - t0 > capMs) break;
      r.readAsArrayBuffer(b.slice(at, at + 512));
      reads++;
    }
  } else {
    let next = 0;
    const one = async () => {
      while (next < all.length && performance.now() - t0 < capMs) {
        const [b, at] = all[next++];
        await b.slice(at, at + 512).arrayBuffer();
        reads++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, one));
  }
  postMessage({ ms: performance.now() - t0, reads });
};
`;

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs every input in every engine; returns one result per (engine, input), and the engines'
 * versions. `inputs`: [{ key, label, files, size, cold }].
 */
export async function benchPage({ www, engines, inputs, runs, capS, log = () => {}, load = () => '', warm = () => {} }) {
  if (!existsSync(join(www, 'pkg/vhd_viewer_bg.wasm'))) throw new Error('www/pkg is not built: run make wasm');
  const { server, url } = await serve({ root: www, port: 0 });
  const results = [];
  const versions = {};
  const probe = join(www, 'bench-probe-worker.js');
  writeFileSync(probe, PROBE_WORKER);
  try {
    for (const engine of engines) {
      let browser;
      try {
        browser = await launch(engine);
      } catch (e) {
        log(`page: ${engine} could not be started: ${e.message}`);
        results.push({ engine, failed: String(e.message) });
        continue;
      }
      versions[engine] = browser.version;
      try {
        for (const input of inputs) {
          log(`page: ${engine}: ${input.label} (load ${load()})`);
          // A warm page cache, as for the native rows (the 127 GiB file cannot be: its holes are made on the fly).
          if (!input.cold) execFileSync('cat', input.files, { stdio: ['ignore', 'ignore', 'inherit'] });
          // The huge file: what it stores (bitmaps, a few bytes per block) read back in, as for
          // the native rows, so that the scan and the bare reads it is compared with (which come
          // after it) both read cached bitmaps.
          else warm(input);
          try {
            results.push({ engine, ...(await pageInput(browser, url, input, runs, capS)) });
          } catch (e) {
            log(`page: ${engine}: ${input.label} failed: ${e.stack || e}`);
            results.push({ engine, input: input.key, label: input.label, failed: String(e.message) });
          }
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    rmSync(probe, { force: true });
    await new Promise((r) => server.close(r));
  }
  return { results, versions };
}

/**
 * The page's listing of a volume of many files (issue 11), in each engine: the VHD given to the
 * page, then through the page's API (the files view's calls, in the core's Worker): the root's
 * first listing (opening the file system included), and every folder listed, walking the tree as
 * `ls -r` does. `inputs`: [{ key, label, vhd }]. Median of `runs` fresh pages.
 */
export async function benchPageListing({ www, engines, inputs, runs, log = () => {}, load = () => '' }) {
  const { server, url } = await serve({ root: www, port: 0 });
  const results = [];
  try {
    for (const engine of engines) {
      let browser;
      try {
        browser = await launch(engine);
      } catch (e) {
        results.push({ engine, failed: String(e.message) });
        continue;
      }
      try {
        for (const input of inputs) {
          log(`page: ${engine}: listing ${input.label} (load ${load()})`);
          execFileSync('cat', [input.vhd], { stdio: ['ignore', 'ignore', 'inherit'] });
          const walks = [];
          for (let k = 0; k < Math.max(1, runs); k++) {
            const page = await newPage(browser, url);
            await page.setFiles('#file-input', [input.vhd]);
            await page.waitFor(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
            walks.push(
              await page.evaluate(async () => {
                const d = window.vhdViewer.state.disk;
                const part = (await d.partitions()).partitions.find((p) => p.filesystem)?.index;
                const t0 = performance.now();
                const root = await d.list(part, '/');
                const rootMs = performance.now() - t0;
                let entries = 0;
                let folders = 0;
                const todo = ['/'];
                let first = root;
                while (todo.length) {
                  const path = /** @type {string} */ (todo.pop());
                  const list = first ?? (await d.list(part, path));
                  first = null;
                  folders++;
                  for (const e of list) {
                    entries++;
                    if (e.type === 'dir') todo.push(e.path);
                  }
                }
                return { rootMs, allMs: performance.now() - t0, entries, folders, reads: window.vhdViewer.readStats };
              }),
            );
            await page.close();
          }
          results.push({
            engine,
            input: input.key,
            label: input.label,
            rootMs: median(walks.map((w) => w.rootMs)),
            allMs: median(walks.map((w) => w.allMs)),
            entries: walks[0].entries,
            folders: walks[0].folders,
            bytesRead: walks[0].reads.bytes,
          });
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
  return results;
}

async function newPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-wasm="ready"]');
  // A save-file stand-in that throws the bytes away: the page's own flatten (writeRaw) runs, and
  // writing costs nothing, like `> /dev/null`. The page looks for showSaveFilePicker when the
  // export is asked for, so it can be put in after loading, in every engine. It is done with a
  // write's bytes when the write settles (`copies`), as a FileSystemWritableFileStream is.
  await page.evaluate(() => {
    window.__bench = { written: 0, writes: 0, t: {} };
    window.showSaveFilePicker = async (o) => ({
      name: o.suggestedName,
      async createWritable() {
        return {
          async truncate() {},
          async write({ data }) {
            window.__bench.written += data.length;
            window.__bench.writes++;
          },
          async close() {},
          async abort() {},
          copies: true,
        };
      },
    });
  });
  return page;
}

/** Gives the files to the page and times it to the header, the BAT map and "ready". */
async function openInPage(page, input) {
  await page.evaluate(() => {
    const B = window.__bench;
    B.t = {};
    const stats = () => ({ ...window.vhdViewer.readStats });
    document.addEventListener('change', () => (B.t.given = performance.now()), { capture: true, once: true });
    const obs = new MutationObserver(() => {
      const now = performance.now();
      if (!B.t.header && document.querySelector('#structures-body [data-field]')) {
        B.t.header = now;
        B.readsAtHeader = stats();
        requestAnimationFrame(() => (B.t.headerFrame = performance.now()));
      }
      if (!B.t.bat && document.querySelector('#bat-legend .key')) {
        B.t.bat = now;
        requestAnimationFrame(() => (B.t.batFrame = performance.now()));
      }
      if (!B.t.ready && document.body.dataset.state === 'ready') B.t.ready = now;
      if (B.t.header && B.t.bat && B.t.ready) obs.disconnect();
    });
    obs.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
  await page.setFiles('#file-input', input.files);
  await page.waitFor(() => ['ready', 'error'].includes(document.body.dataset.state) && window.__bench.t.batFrame && window.__bench.t.headerFrame, null, { timeout: 60_000 });
  return page.evaluate(() => {
    const B = window.__bench;
    const t = B.t;
    return {
      state: document.body.dataset.state,
      headerMs: t.headerFrame - t.given,
      headerDomMs: t.header - t.given,
      batMs: t.batFrame - t.given,
      readyMs: t.ready - t.given,
      readsAtHeader: B.readsAtHeader,
    };
  });
}

/**
 * Clicks `button` and times it until the text of `selector` matches `pattern`, or the cap; then
 * cancels the task. The end is seen in the page (a MutationObserver notes the time), and asked
 * for only twice a second: asking a WebDriver or BiDi page every 50 ms costs its main thread
 * enough to slow the task measured (WebKit's scan most).
 */
async function timedTask(page, button, selector, pattern, capS) {
  const t0 = await page.evaluate(
    ([selector, pattern]) => {
      const B = window.__bench;
      B.doneAt = null;
      const re = new RegExp(pattern);
      const el = document.querySelector(selector);
      const obs = new MutationObserver(() => {
        if (B.doneAt === null && re.test(el.textContent)) {
          B.doneAt = performance.now();
          obs.disconnect();
        }
      });
      obs.observe(el, { childList: true, subtree: true, characterData: true });
      return performance.now();
    },
    [selector, pattern],
  );
  await page.click(button);
  let finished = true;
  try {
    await page.waitFor(() => window.__bench.doneAt !== null, null, { timeout: capS * 1000, interval: 500 });
  } catch {
    finished = false;
  }
  const r = await page.evaluate((t0) => {
    const p = document.getElementById('task-progress');
    const end = window.__bench.doneAt ?? performance.now();
    return { ms: end - t0, value: Number(p.value), max: Number(p.max) };
  }, t0);
  if (!finished) {
    await page.click('#task-cancel').catch(() => {});
    await page.waitFor(() => document.getElementById('task').hidden, null, { timeout: 10_000 }).catch(() => {});
  }
  return { ...r, finished };
}

async function pageInput(browser, url, input, runs, capS) {
  const res = { input: input.key, label: input.label, size: input.size };
  // Opening: `runs` fresh pages, median.
  const opens = [];
  let page;
  for (let k = 0; k < Math.max(1, runs); k++) {
    if (page) await page.close();
    page = await newPage(browser, url);
    if (k === 0) res.heapBeforeOpen = await page.evaluate(heapFn);
    opens.push(await openInPage(page, input));
  }
  res.state = opens[0].state;
  res.openRuns = opens.map((o) => Math.round(o.headerMs * 10) / 10);
  res.headerMs = median(opens.map((o) => o.headerMs));
  res.headerDomMs = median(opens.map((o) => o.headerDomMs));
  res.batMs = median(opens.map((o) => o.batMs));
  res.readyMs = median(opens.map((o) => o.readyMs));
  res.readsAtHeader = opens[opens.length - 1].readsAtHeader;
  res.heapAfterOpen = await page.evaluate(heapFn);

  // The engine alone, on the same Files: the page's own driver (openLayer) and the core's info,
  // without drawing anything. What the page could show a header in if it drew the maps later.
  const core = [];
  for (let k = 0; k < Math.max(1, runs); k++) {
    core.push(
      await page.evaluate(async () => {
        const base = location.href;
        const m = await import(new URL('pkg/vhd_viewer.js', base).href);
        await m.default();
        const { openLayer } = await import(new URL('js/worker/driver.js', base).href);
        const { blobSource } = await import(new URL('js/common/source.js', base).href);
        const given = window.vhdViewer.state.files;
        const t0 = performance.now();
        const files = new m.WasmFiles();
        for (const f of given) files.add(await openLayer(m, blobSource(f.blob, f.name), null));
        const t1 = performance.now();
        const chain = files.arrange().chains[0].map(Number);
        const disk = files.disk(Uint32Array.from(chain), false);
        disk.info(chain.map((i) => given[i].name));
        const t2 = performance.now();
        disk.free();
        files.free();
        return { openMs: t1 - t0, infoMs: t2 - t1 };
      }),
    );
  }
  res.coreOpenMs = median(core.map((c) => c.openMs));
  res.coreInfoMs = median(core.map((c) => c.infoMs));

  // The full bitmap scan (exact provenance map).
  const scanNeeded = !(await page.evaluate(() => document.getElementById('prov-scan').disabled));
  if (scanNeeded) {
    const before = await page.evaluate(async () => {
      const d = window.vhdViewer.state.disk;
      let blocks = 0;
      for (let l = 0; l < d.layerCount; l++) if (d.layers[l].blockSize) for (const st of (await d.bat(l)).states) if (st === 6 || st === 7) blocks++;
      return { reads: window.vhdViewer.readStats.reads, blocks };
    });
    const s = await timedTask(page, '#prov-scan', '#prov-state', '^Exact', capS);
    res.scan = { ...s, reads: (await page.evaluate(() => window.vhdViewer.readStats.reads)) - before.reads, blocks: before.blocks };
    // The browser's own cost of those reads: the same 512-byte slices at the blocks' bitmaps,
    // 32 in flight, on the main thread (what the scan cannot go below).
    res.scanBare = await page.evaluate(async (capMs) => {
      const d = window.vhdViewer.state.disk;
      const blobs = window.vhdViewer.state.files.map((f) => f.blob);
      const byName = new Map(blobs.map((b, i) => [window.vhdViewer.state.files[i].name, b]));
      /** @type {[Blob, number][]} */
      const all = [];
      for (let l = 0; l < d.layerCount; l++) {
        if (!d.layers[l].blockSize) continue;
        const blob = byName.get(d.names[l]);
        const t = await d.bat(l);
        t.states.forEach((st, i) => { if (st === 6 || st === 7) all.push([blob, t.offsets[i] * t.unit]); });
      }
      window.__bench.bitmaps = all;
      const t0 = performance.now();
      let next = 0;
      let reads = 0;
      const worker = async () => {
        while (next < all.length && performance.now() - t0 < capMs) {
          const [b, at] = all[next++];
          await b.slice(at, at + 512).arrayBuffer();
          reads++;
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      return { ms: performance.now() - t0, reads };
    }, capS * 1000);
    // The same scan through the API (disk.scan, as a user's script runs it): the Worker's work
    // without the page drawing the map as it goes.
    res.scanApi = await page.evaluate(async (capMs) => {
      const d = window.vhdViewer.state.disk;
      const before = window.vhdViewer.readStats.reads;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), capMs);
      const t0 = performance.now();
      let finished = true;
      try {
        await d.scan(d.chunkSize, { signal: ac.signal });
      } catch {
        finished = false;
      }
      clearTimeout(timer);
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 300)); // the Worker's read counts reach the page
      return { ms, finished, reads: window.vhdViewer.readStats.reads - before };
    }, capS * 1000);
    // The same reads in a Worker, where the page's scan runs: async slices 32 in flight, and
    // FileReaderSync one after another (each engine's cost of a read there).
    res.scanBareWorker = await page.evaluate(async (capMs) => {
      const all = window.__bench.bitmaps; // listed by the loop above
      // Served beside the page (its Content-Security-Policy allows Workers of its own origin only).
      const url = new URL('bench-probe-worker.js', location.href).href;
      const run = (sync) =>
        new Promise((resolve, reject) => {
          const w = new Worker(url);
          w.onmessage = (e) => {
            w.terminate();
            resolve(e.data);
          };
          w.onerror = (e) => reject(new Error(e.message));
          w.postMessage({ all, capMs: capMs / 2, sync });
        });
      try {
        return { async: await run(false), sync: await run(true) };
      } catch (e) {
        return { error: String(e.message) };
      }
    }, capS * 1000);
  } else res.scan = { ms: 0, finished: true, note: 'no bitmaps needed' };
  res.heapAfterScan = await page.evaluate(heapFn);

  // Flatten: the page's raw export into a stand-in file that throws the bytes away.
  const statsFn = () => ({ ...window.vhdViewer.readStats });
  const before = await page.evaluate(statsFn);
  const f = await timedTask(page, '#export-raw', '#export-note', 'Saved ', capS);
  const after = await page.evaluate(statsFn);
  const doneBytes = f.finished ? input.size : f.value;
  res.flatten = {
    ...f,
    bytes: doneBytes,
    bytesPerS: (doneBytes / f.ms) * 1000,
    written: await page.evaluate(() => window.__bench.written),
    // What the flatten read from the files: its reads and their bytes.
    read: { reads: after.reads - before.reads, bytes: after.bytes - before.bytes },
  };
  res.heapAfterFlatten = await page.evaluate(heapFn);

  // Rewriting (issue 22's target with the flatten): the page's "Save as…" a dynamic VHD, and a
  // VHDX where its dialog offers one, into the same stand-in file. The disk's bytes per second, as
  // for the flatten.
  res.rewrite = {};
  for (const kind of ['dynamic', 'vhdx']) {
    const offered = await page.evaluate((k) => {
      const s = document.getElementById('export-vhd-kind');
      if (!s || ![...s.options].some((o) => o.value === k)) return false;
      s.value = k;
      s.dispatchEvent(new Event('change'));
      return true;
    }, kind);
    if (!offered) continue;
    const w0 = await page.evaluate(() => window.__bench.written);
    const t = await timedTask(page, '#export-vhd', '#export-note', 'Saved ', capS);
    const bytes = t.finished ? input.size : t.value;
    res.rewrite[kind] = { ...t, bytes, bytesPerS: (bytes / t.ms) * 1000, written: (await page.evaluate(() => window.__bench.written)) - w0 };
  }

  // The page's limit: reading the files themselves, Blob.slice by 8 MiB, in order.
  res.readFiles = await page.evaluate(async (capMs) => {
    const files = window.vhdViewer.state.files.map((f) => f.blob);
    const t0 = performance.now();
    let bytes = 0;
    for (const b of files) {
      for (let at = 0; at < b.size && performance.now() - t0 < capMs; at += 8 << 20) {
        bytes += (await b.slice(at, Math.min(b.size, at + (8 << 20))).arrayBuffer()).byteLength;
      }
    }
    const ms = performance.now() - t0;
    const whole = bytes === files.reduce((n, b) => n + b.size, 0);
    return { ms, bytes, bytesPerS: (bytes / ms) * 1000, whole };
  }, capS * 1000);
  res.heapPeak = Math.max(res.heapBeforeOpen, res.heapAfterOpen, res.heapAfterScan, res.heapAfterFlatten);
  res.errors = await page.errors();
  await page.close();
  return res;
}

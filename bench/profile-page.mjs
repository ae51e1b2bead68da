#!/usr/bin/env node
// Where the page spends the time it takes to open files: gives FILE... to the page in headless
// Chromium under the V8 CPU profiler and prints the functions with the most self time (wasm
// functions by their names in the name section, JavaScript by file:line). With --after, the
// opening is left out and what is profiled, on the main thread and in the Worker, is the scan,
// the flatten, or "Save as" a dynamic VHD (`save-dynamic`) or another kind (`save-vhdx`, ...),
// each into a stand-in file that throws the bytes away.
//
//   node bench/profile-page.mjs bench-out/inputs/sparse-2040g.vhd [--after scan|flatten|save-KIND]
import { chromium } from 'playwright-core';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdirSync } from 'node:fs';
import { serve } from '../scripts/serve.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const after = args.includes('--after') ? args[args.indexOf('--after') + 1] : null;
const files = args.filter((a, i) => !a.startsWith('--') && !['--after', '--www'].includes(args[i - 1])).map((f) => resolve(f));
if (!files.length) {
  console.error('usage: node bench/profile-page.mjs FILE... [--after scan|flatten]');
  process.exit(2);
}

const www = args.includes('--www') ? resolve(args[args.indexOf('--www') + 1]) : join(ROOT, 'www');
const { server, url } = await serve({ root: www, port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.showSaveFilePicker = async (o) => ({ name: o.suggestedName, createWritable: async () => ({ truncate: async () => {}, write: async () => {}, close: async () => {}, abort: async () => {}, copies: true }) });
  });
  await page.goto(url);
  await page.waitForSelector('body[data-wasm="ready"]');
  const cdp = await page.context().newCDPSession(page);
  // The Worker's own profiler, reached through the page's session (Target.sendMessageToTarget).
  /** @type {string[]} */
  const workers = [];
  let nextId = 1;
  const waiting = new Map();
  cdp.on('Target.attachedToTarget', (e) => e.targetInfo.type === 'worker' && workers.push(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const inWorker = (sessionId, method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  if (!after) await cdp.send('Profiler.start');
  const t0 = Date.now();
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 120_000 });
  if (after) {
    await cdp.send('Profiler.start');
    for (const w of workers) {
      await inWorker(w, 'Profiler.enable');
      await inWorker(w, 'Profiler.setSamplingInterval', { interval: 100 });
      await inWorker(w, 'Profiler.start');
    }
    if (after.startsWith('save-')) {
      await page.selectOption('#export-vhd-kind', after.slice(5));
      await page.click('#export-vhd');
      await page.waitForFunction(() => /Saved /.test(document.getElementById('export-note').textContent), null, { timeout: 120_000 }).catch(() => {});
    } else if (after === 'scan') {
      await page.click('#prov-scan');
      await page.waitForFunction(() => /^Exact/.test(document.getElementById('prov-state').textContent), null, { timeout: 120_000 }).catch(() => {});
    } else {
      await page.click('#export-raw');
      await page.waitForFunction(() => /Saved /.test(document.getElementById('export-note').textContent), null, { timeout: 30_000 }).catch(() => {});
    }
  }
  const ms = Date.now() - t0;
  const { profile } = await cdp.send('Profiler.stop');
  mkdirSync(join(ROOT, 'bench-out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-out/page.cpuprofile'), JSON.stringify(profile));
  console.log(`${ms} ms wall (${after ? after : 'open'})`);
  top('main thread', profile);
  for (const w of after ? workers : []) {
    const r = await inWorker(w, 'Profiler.stop');
    if (!r.result) continue;
    writeFileSync(join(ROOT, 'bench-out/worker.cpuprofile'), JSON.stringify(r.result.profile));
    top('Worker', r.result.profile);
  }
  console.log(`full profile${after ? 's' : ''}: bench-out/page.cpuprofile${after ? ', bench-out/worker.cpuprofile' : ''} (open in Chrome DevTools, Performance)`);
} finally {
  await browser.close();
  await new Promise((r) => server.close(r));
}

/** Prints the functions of `profile` with the most self time. */
function top(label, profile) {
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) || 0) + (profile.timeDeltas[i] || 0)));
  const self = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const us = dt.get(n.id) || 0;
    total += us;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').pop() + ':' + (f.lineNumber + 1) : ''}`.trim();
    self.set(key, (self.get(key) || 0) + us);
  }
  console.log(`${label}: ${(total / 1000).toFixed(0)} ms sampled; top self time:`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
}

#!/usr/bin/env node
// Builds, from www/ and package/, into dist/:
// - the npm package `vhd-viewer` (package.json, ES modules, the .wasm, .d.ts, README): no runtime
//   dependencies, no bundler needed; the .wasm is found beside the modules (import.meta.url);
// - dist/vhd-viewer.html: the whole viewer page as one file (styles, modules and the .wasm inside)
//   that works opened from disk (file://).
// Run by `make package` after `make wasm`.
import { readFileSync, writeFileSync, mkdirSync, rmSync, copyFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, posix } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WWW = join(ROOT, 'www');
const DIST = join(ROOT, 'dist');
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'Cargo.toml'), 'utf8'))[1];

/** The modules the element and the API need: every module of www/js but the page's own (its
 * layout's script and the embedding demo's), the Worker's among them. */
const PAGE_ONLY = ['page/app.js', 'page/embed-page.js'];
/**
 * The files under `dir` (relative to it, with `/`), depth first.
 * @param {string} dir
 * @returns {string[]}
 */
const filesUnder = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)).map((g) => `${f}/${g}`) : [f]));
const MODULES = filesUnder(join(WWW, 'js')).filter((m) => m.endsWith('.js') && !PAGE_ONLY.includes(m));
const PKG = ['vhd_viewer.js', 'vhd_viewer_bg.wasm', 'vhd_viewer.d.ts'];

for (const f of PKG) statSync(join(WWW, 'pkg', f)); // fails clearly when `make wasm` was not run

// ------------------------------------------------------------------ the npm package
rmSync(DIST, { recursive: true, force: true });
const copy = (from, to) => {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
};
for (const m of MODULES) copy(join(WWW, 'js', m), join(DIST, 'js', m));
// The data shapes, declared once for the page and the package: its index.d.ts re-exports them.
copy(join(WWW, 'js/common/types.d.ts'), join(DIST, 'js/common/types.d.ts'));
for (const f of PKG) copy(join(WWW, 'pkg', f), join(DIST, 'pkg', f));
for (const f of ['index.js', 'define.js', 'index.d.ts', 'define.d.ts', 'README.md']) copy(join(ROOT, 'package', f), join(DIST, f));

const pkg = {
  name: 'vhd-viewer',
  version,
  description: 'Look inside Microsoft VHD disk images (fixed, dynamic, differencing) in the browser: a <vhd-viewer> element and a JavaScript API, reading local files or remote disks with HTTP Range requests. Rust compiled to WebAssembly, no dependencies.',
  license: 'MIT OR Apache-2.0',
  type: 'module',
  main: './index.js',
  types: './index.d.ts',
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './define': { types: './define.d.ts', default: './define.js' },
    './define.js': { types: './define.d.ts', default: './define.js' },
    './vhd_viewer_bg.wasm': './pkg/vhd_viewer_bg.wasm',
    './package.json': './package.json',
  },
  files: ['index.js', 'index.d.ts', 'define.js', 'define.d.ts', 'js/', 'pkg/', 'README.md'],
  sideEffects: ['./define.js', './js/page/define.js'],
  keywords: ['vhd', 'virtual-hard-disk', 'disk-image', 'web-component', 'custom-element', 'webassembly', 'http-range'],
};
writeFileSync(join(DIST, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');

// ------------------------------------------------------------------ the self-contained page
// Every module becomes a data: URL under a bare name (@vhd/js/…) in an import map, its relative
// imports rewritten to those names; the .wasm travels as base64 and is given to the loader as
// bytes. The page's Content-Security-Policy stays strict: the inline parts are allowed by hash.
const sha = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const pageModules = filesUnder(join(WWW, 'js')).filter((m) => m.endsWith('.js')).map((m) => `js/${m}`);
pageModules.push('pkg/vhd_viewer.js');
/**
 * `m`'s text with each relative import rewritten by `to(target)`.
 * @param {string} m
 * @param {(target: string) => string} to
 */
const rewritten = (m, to) =>
  readFileSync(join(WWW, m), 'utf8').replace(/(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\2/g, (all, kw, q, spec) => {
    const target = posix.normalize(posix.join(posix.dirname(m), spec));
    if (!pageModules.includes(target)) {
      // A type in a JSDoc comment (`import('./types.js')`, `@import ... from`) naming a .d.ts: not a module.
      if (existsSync(join(WWW, target.replace(/\.js$/, '.d.ts')))) return all;
      throw new Error(`${m} imports ${spec}, which is not a module of www/`);
    }
    return `${kw}${q}${to(target)}${q}`;
  });
const dataUrl = (text) => `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`;
const imports = {};
for (const m of pageModules) imports[`@vhd/${m}`] = dataUrl(rewritten(m, (target) => `@vhd/${target}`));
// The Worker gets no import map, and a module Worker does not start in a page opened from disk
// (neither from a data: nor a blob: URL; WebKit refuses a Worker's blob: imports there too): it is
// one classic script, its modules bundled here, each in its own scope (its imports read from the
// modules before it, its exports returned), and started from a blob: URL the page makes.
const bundled = new Map();
/**
 * The Worker's modules from `m` down, each once, dependencies first.
 * @param {string} m
 * @param {string[]} out
 */
const order = (m, out = []) => {
  if (out.includes(m)) return out;
  const text = readFileSync(join(WWW, m), 'utf8');
  for (const [, spec] of text.matchAll(/^import [^;]*?from '(\.{1,2}\/[^']+)';$/gm)) order(posix.normalize(posix.join(posix.dirname(m), spec)), out);
  out.push(m);
  return out;
};
const scopeName = (m) => `__m_${m.replace(/[^a-z0-9]/gi, '_')}`;
const workerModules = order('js/worker/worker.js');
for (const m of workerModules) {
  /** @type {string[]} */
  const exported = [];
  const body = readFileSync(join(WWW, m), 'utf8')
    .replace(/^import ([^;]*?) from '(\.{1,2}\/[^']+)';$/gm, (all, what, spec) => {
      const dep = scopeName(posix.normalize(posix.join(posix.dirname(m), spec)));
      const parts = [];
      for (const piece of what.split(/,(?![^{]*})/).map((x) => x.trim())) {
        if (piece.startsWith('{')) parts.push(`const ${piece.replace(/\bas\b/g, ':')} = ${dep};`);
        else if (piece.startsWith('* as ')) parts.push(`const ${piece.slice(5)} = ${dep};`);
        else parts.push(`const ${piece} = ${dep}.default;`);
      }
      return parts.join(' ');
    })
    .replace(/^export \{([^}]*)\};?$/gm, (all, names) => {
      for (const n of names.split(',').map((x) => x.trim()).filter(Boolean)) {
        const [local, as = local] = n.split(/\s+as\s+/);
        exported.push(`${as}: ${local}`);
      }
      return '';
    })
    .replace(/^export ((?:async )?function\*? |class |const |let )([A-Za-z_$][\w$]*)/gm, (all, kind, name) => {
      exported.push(name);
      return `${kind}${name}`;
    })
    .replace(/\bimport\.meta\.url\b/g, 'self.location.href');
  if (/^\s*(import|export)\s/m.test(body)) throw new Error(`${m}: an import or export the Worker's bundler does not know`);
  bundled.set(m, `const ${scopeName(m)} = (() => {\n${body}\nreturn { ${exported.join(', ')} };\n})();\n`);
}
const workerShim = `// vhd-viewer's Worker, bundled by scripts/package.mjs\n${workerModules.map((m) => bundled.get(m)).join('\n')}`;
const worker = Buffer.from(workerShim).toString('base64');
const importMap = JSON.stringify({ imports });
const boot = `
import { compileWasm } from '@vhd/js/common/wasm.js';
import { setWorkerUrl } from '@vhd/js/page/engine.js';
const b64 = document.getElementById('vhd-viewer-wasm').textContent.trim();
const bin = atob(b64);
const bytes = new Uint8Array(bin.length);
for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
compileWasm(bytes);
setWorkerUrl(URL.createObjectURL(new Blob([Uint8Array.from(atob(document.getElementById('vhd-viewer-worker').textContent.trim()), (c) => c.charCodeAt(0))], { type: 'text/javascript' })), 'classic');
await import('@vhd/js/page/app.js');
`;
const css = readFileSync(join(WWW, 'css/style.css'), 'utf8');
const wasmB64 = readFileSync(join(WWW, 'pkg/vhd_viewer_bg.wasm')).toString('base64');
let html = readFileSync(join(WWW, 'index.html'), 'utf8');
const csp = `default-src 'none'; script-src ${sha(importMap)} ${sha(boot)} data: 'wasm-unsafe-eval'; worker-src blob:; style-src ${sha(css)}; img-src data: blob:; connect-src 'none'; base-uri 'none'; form-action 'none'; object-src 'none'`;
const replace = (re, by) => {
  if (!re.test(html)) throw new Error(`index.html no longer has ${re}`);
  html = html.replace(re, () => by);
};
replace(/<meta http-equiv="Content-Security-Policy" content="[^"]*">/, `<meta http-equiv="Content-Security-Policy" content="${csp}">`);
replace(/<link rel="stylesheet" href="css\/style.css">/, `<style>${css}</style>`);
replace(
  /<script type="module" src="js\/page\/app.js"><\/script>/,
  `<script type="importmap">${importMap}</script>\n<script type="module">${boot}</script>\n<script type="application/octet-stream" id="vhd-viewer-wasm">${wasmB64}</script>\n<script type="text/plain" id="vhd-viewer-worker">${worker}</script>`,
);
html = html.replace('<title>', `<!-- The VHD viewer ${version} as one file: open it from disk, no server needed. Built by make package. -->\n<title>`);
writeFileSync(join(DIST, 'vhd-viewer.html'), html);

const size = (p) => statSync(join(DIST, p)).size;
console.log(`dist/: npm package vhd-viewer ${version} (pack it with: cd dist && npm pack); dist/vhd-viewer.html ${(size('vhd-viewer.html') / 1024).toFixed(0)} KiB`);

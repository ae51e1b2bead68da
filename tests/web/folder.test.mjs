// A folder of disks (issue 24): the core's survey as the page's Worker calls it (`surveyFiles`, the
// real WebAssembly in Node with synchronous reads, as FileReaderSync in a Worker) and the page's
// folder view in Chromium, both compared with `vhd-viewer chains --json` on the test folder of
// examples/folder_fixture.rs: the same answer, exactly the bytes the core asks read per file,
// bounded (a VHD's footers, header and locators; a VHDX's headers, region tables and metadata),
// 500 files, a node opened in the viewer, the fixes offered (a moved parent's relinked copy, a
// checkpoint chain merged into one disk), Stop. The page's main path for a folder also runs in
// Firefox and WebKit (page-suite.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync, fstatSync, statSync, copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { normalize } from '../../www/js/common/format.js';
import { coreBindings } from './fs-fixtures.mjs';
import { start, openPage, cliPath, tempDir } from './helpers.mjs';
import { droppedFiles, chosenFiles, MAX_DEPTH } from '../../www/js/page/folders.js';
import { folderFixture, cliChains, treeShape, shownTree, shownProblems, expectedProblems, siteWithFolder, giveFolder, FOLDER } from './folder-fixture.mjs';

/** The most a VHD's survey reads: both footers, the dynamic header, the locators' data (a few KiB). */
const VHD_MOST = 8 << 10;
/** The most a VHDX's survey reads: two probes, the headers and region tables (320 KiB), the metadata region (1 MiB as written). */
const VHDX_MOST = (320 << 10) + (1 << 20) + 1024;

let fx;
let b;
let env;
let tmp;
/** The site with the folder beside the page. */
let site;

before(async () => {
  fx = folderFixture();
  b = await coreBindings();
  env = await start();
  tmp = tempDir('vhd-folder-');
  site = await siteWithFolder(fx.top);
});

after(async () => {
  await env?.close();
  await site?.close();
  tmp?.remove();
});

/**
 * `surveyFiles` on `paths` (files under `top`, named by those paths), every read synchronous and
 * counted: `{ survey, asked }`, `asked[i]` the bytes the core asked of file i.
 */
function survey(top, paths) {
  const fds = paths.map((p) => openSync(join(top, p), 'r'));
  const asked = paths.map(() => 0);
  try {
    const read = (i, offset, len) => {
      const buf = Buffer.alloc(len);
      let n = 0;
      while (n < len) {
        const k = readSync(fds[i], buf, n, len - n, offset + n);
        if (k === 0) break;
        n += k;
      }
      asked[i] += len;
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    };
    const sizes = Float64Array.from(fds, (fd) => fstatSync(fd).size);
    return { survey: normalize(b.surveyFiles(paths, read, sizes)), asked };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

/** Each file's bytes read is within its format's bound; returns the files by format. */
function checkBounds(answer) {
  const vhds = [];
  const vhdxs = [];
  const formats = new Map();
  const walk = (n) => {
    formats.set(n.file, n.format);
    n.children.forEach(walk);
  };
  answer.trees.forEach(walk);
  for (const { file, bytes } of answer.bytes_read) {
    const f = formats.get(file);
    if (f === 'vhd') vhds.push(file);
    if (f === 'vhdx') vhdxs.push(file);
    const most = f === 'vhd' ? VHD_MOST : VHDX_MOST;
    assert.ok(bytes <= most, `${file} (${f ?? 'not a disk'}): ${bytes} bytes read, at most ${most}`);
  }
  return { vhds, vhdxs };
}

test('surveyFiles: the test folder answered as vhd-viewer chains --json, reading exactly the bytes it says, bounded per file', () => {
  const { answer, status } = cliChains(fx.top);
  assert.equal(status, 1, 'the folder has problems: chains says so by its status');
  const { survey: got, asked } = survey(fx.top, fx.files);
  assert.deepEqual(got, answer);
  // The fixture is what the issue asks for.
  assert.ok(answer.trees.some((t) => t.format === 'vhdx' && t.role === 'base' && t.children.length === 1 && t.children[0].children.length === 2), 'a VHDX base with two branches');
  assert.ok(answer.trees.some((t) => t.format === 'vhd' && t.children.length === 1), 'a VHD chain');
  for (const kind of ['orphans', 'moved', 'modified', 'duplicates', 'unreadable']) assert.ok(answer[kind].length >= 1, `${kind}: ${JSON.stringify(answer[kind])}`);
  assert.ok(answer.unreadable.some((u) => u.file.endsWith('notes.txt')), 'the text file is not a disk');
  // What each file was asked for is what the survey says it read, within its format's bound.
  assert.deepEqual(answer.bytes_read.map((r) => r.file).sort(), [...fx.files].sort());
  for (const { file, bytes } of answer.bytes_read) assert.equal(asked[fx.files.indexOf(file)], bytes, `${file}: the bytes asked of the page's read()`);
  const { vhds, vhdxs } = checkBounds(answer);
  assert.ok(vhds.length >= 3 && vhdxs.length >= 6, `${vhds.length} VHDs, ${vhdxs.length} VHDXs read`);
});

test('surveyFiles: 500 files (the folder copied over and over) sorted, each file read no more than alone', () => {
  const paths = [];
  for (let k = 0; paths.length < 500; k++) {
    for (const f of fx.files) {
      if (paths.length >= 500) break;
      const p = `many/copy${String(k).padStart(3, '0')}/${f}`;
      mkdirSync(join(tmp.dir, p, '..'), { recursive: true });
      copyFileSync(join(fx.top, f), join(tmp.dir, p));
      paths.push(p);
    }
  }
  const started = performance.now();
  const { survey: got, asked } = survey(tmp.dir, paths);
  const ms = performance.now() - started;
  assert.equal(got.bytes_read.length, 500);
  const alone = new Map(survey(fx.top, fx.files).survey.bytes_read.map((r) => [r.file, r.bytes]));
  paths.forEach((p, i) => assert.equal(asked[i], alone.get(p.replace(/^many\/copy\d+\//, '')), `${p}: read as alone`));
  // Every copy of a disk has the same id as the first: the copies are duplicates.
  assert.ok(got.duplicates.length >= 9, `${got.duplicates.length} sets of copies`);
  assert.deepEqual(got, normalize(JSON.parse(spawnSync(cliPath(), ['chains', 'many', '--json'], { cwd: tmp.dir, encoding: 'utf8', maxBuffer: 1 << 28 }).stdout)));
  console.log(`500 files: ${asked.reduce((a, n) => a + n, 0)} bytes read in ${ms.toFixed(0)} ms`);
});

test('surveyFiles: hostile input is a line in unreadable, never a stop; a read() that fails says why', () => {
  const dir = join(tmp.dir, 'hostile');
  mkdirSync(dir, { recursive: true });
  const names = ['empty.vhd', 'short.vhdx', 'zeros.avhdx', 'junk.avhd'];
  writeFileSync(join(dir, names[0]), Buffer.alloc(0));
  writeFileSync(join(dir, names[1]), Buffer.from('vhdxfile'));
  writeFileSync(join(dir, names[2]), Buffer.alloc(1 << 20));
  writeFileSync(join(dir, names[3]), Buffer.from('conectix'.repeat(64)));
  const { survey: got } = survey(dir, names);
  assert.deepEqual(got.trees, []);
  assert.deepEqual(got.unreadable.map((u) => u.file).sort(), [...names].sort());
  for (const u of got.unreadable) assert.ok(u.reason.length > 10, `${u.file}: ${u.reason}`);
  // The page's read() failing (a file gone) is that file's reason, and the others are answered.
  const first = fx.files.find((f) => f.endsWith('.vhd'));
  const answer = normalize(
    b.surveyFiles([first, 'gone.vhd'], (i, offset, len) => {
      if (i === 1) throw new Error('NotFoundError: the file was moved');
      const fd = openSync(join(fx.top, first), 'r');
      try {
        const buf = Buffer.alloc(len);
        readSync(fd, buf, 0, len, offset);
        return new Uint8Array(buf);
      } finally {
        closeSync(fd);
      }
    }, Float64Array.from([statSync(join(fx.top, first)).size, 1 << 20])),
  );
  assert.equal(answer.trees.length, 1);
  assert.deepEqual(answer.unreadable.map((u) => u.file), ['gone.vhd']);
  assert.match(answer.unreadable[0].reason, /the file was moved/);
  // Names and sizes that do not pair are the caller's mistake.
  assert.throws(() => b.surveyFiles(['a', 'b'], () => new Uint8Array(0), Float64Array.from([1])), /2 names but 1 sizes/);
});

/** A page of the viewer, given the fixture folder through "Choose a folder…" (a webkitdirectory input). */
async function folderPage() {
  const page = await env.newPage();
  // Saved files come as downloads (without the File System Access dialog).
  await page.addInitScript(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
  });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  // Where showDirectoryPicker exists the page uses it on a click; a test gives the input files directly.
  await page.setInputFiles('#folder-input', fx.dir);
  await page.waitForFunction(() => document.getElementById('folder')?.dataset.state === 'done', null, { timeout: 60_000 });
  return page;
}

test('the page, given the folder: the tree and the problems of vhd-viewer chains --json, the bytes read per file bounded, keyboard-navigable', async () => {
  const { answer } = cliChains(fx.top);
  const page = await folderPage();
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'folder');
  assert.equal(await page.isHidden('#viewer'), true, 'nothing is opened until a disk is chosen');
  assert.deepEqual(await page.evaluate(shownTree), treeShape(answer.trees));
  assert.deepEqual(await page.evaluate(shownProblems), expectedProblems(answer));
  // The page's own answer, and what its Worker read of each file: exactly the survey's bytes_read.
  const state = await page.evaluate(() => window.vhdViewer.state.folder);
  assert.deepEqual(state.survey, answer);
  assert.deepEqual([...state.names].sort(), [...fx.files].sort(), 'each file named by its path under the folder chosen');
  for (const { file, bytes } of answer.bytes_read) assert.equal(state.stats[state.names.indexOf(file)].bytes, bytes, `${file}: bytes the page read`);
  checkBounds(answer);
  console.log(`folder: ${state.stats.reduce((a, s) => a + s.bytes, 0)} bytes read of ${fx.files.length} files`);
  // The moved child's fix names the command line's relink command.
  for (const m of answer.moved) assert.ok((await page.textContent(`#folder section[data-kind=moved] li[data-file="${m.file}"]`)).includes(m.relink));
  // Arrow keys: right goes into a tree, left closes it, down then skips its children, Home.
  const first = answer.trees[0];
  assert.ok(first.children.length, 'the first tree has children');
  const focused = () => page.evaluate(() => document.activeElement?.dataset.file);
  await page.focus('#folder [role=treeitem]');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), first.children[0].file, 'right: the first child');
  await page.keyboard.press('Home');
  assert.equal(await focused(), first.file, 'Home: the first item');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute(`#folder [data-file="${first.file}"]`, 'aria-expanded'), 'false', 'left: closed');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), answer.trees[1].file, 'closed: down skips its children');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute(`#folder [data-file="${first.file}"]`, 'aria-expanded'), 'true', 'right: open again');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'open', 'Tab: the item\'s Open');
  await page.screenshot({ path: join(tmp.dir, 'folder.png'), fullPage: true });
  await page.setViewportSize({ width: 400, height: 900 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 400, `readable at 400 px: the page is ${wide} px wide`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

/** The node of `file` in `trees`, and its ancestors' files (file first). */
function chainOf(trees, file, up = []) {
  for (const n of trees) {
    if (n.file === file) return [n.file, ...up];
    const found = chainOf(n.children, file, [n.file, ...up]);
    if (found) return found;
  }
  return null;
}

test('the page: Open shows a checkpoint with its ancestors in the viewer; Merge goes to Save as VHD/VHDX; the moved child\'s relinked copy fixes it', async () => {
  const { answer } = cliChains(fx.top);
  const page = await folderPage();
  // The deepest checkpoint of the VHDX tree.
  const deepest = (n) => (n.children.length ? deepest(n.children[n.children.length - 1]) : n);
  const base = answer.trees.find((t) => t.format === 'vhdx' && t.children.length);
  const leaf = deepest(base);
  const chain = chainOf(answer.trees, leaf.file);
  assert.ok(chain.length >= 4, `${chain.join(' < ')}`);
  await page.click(`#folder [data-file="${leaf.file}"] > .folder-row [data-action=open]`);
  await page.waitForFunction((n) => document.body.dataset.state === 'ready' && window.vhdViewer.state.disk?.names.length === n, chain.length);
  const base_ = (p) => p.split('/').pop();
  assert.deepEqual(await page.evaluate(() => window.vhdViewer.state.disk.names), chain.map(base_), 'the chain, top first, as found by id');
  assert.equal(await page.isHidden('#folder'), false, 'the folder stays, to open another');
  // Merge into one disk…: the same chain, and Save as VHD/VHDX… offered for the whole of it.
  await page.click(`#folder [data-file="${leaf.file}"] > .folder-row [data-action=merge]`);
  await page.waitForFunction(() => document.activeElement?.id === 'export-vhd');
  assert.equal(await page.isEnabled('#export-vhd'), true);
  assert.equal(await page.inputValue('#export-layer'), '0');
  // Open and relink…: the moved child with its parent found by id, the new path filled in; the copy saved fixes it.
  const m = answer.moved[0];
  await page.click(`#folder section[data-kind=moved] li[data-file="${m.file}"] [data-action=relink]`);
  await page.waitForFunction(() => document.activeElement?.id === 'export-relink-relative');
  assert.deepEqual(await page.evaluate(() => window.vhdViewer.state.disk.names), [base_(m.file), base_(m.parent)]);
  const rel = await page.inputValue('#export-relink-relative');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-relink')]);
  // The copy put in the child's place, in a copy of the folder: nothing is moved any more.
  const copy = join(tmp.dir, 'fixed');
  cpSync(fx.top, copy, { recursive: true });
  await download.saveAs(join(copy, m.file));
  const after = JSON.parse(spawnSync(cliPath(), ['chains', FOLDER, '--json'], { cwd: copy, encoding: 'utf8' }).stdout);
  assert.deepEqual(after.moved, [], `relinked to ${rel}: ${JSON.stringify(after.moved)}`);
  assert.deepEqual(chainOf(after.trees, m.file), [m.file, m.parent]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the page: 500 files surveyed in a Worker of their own with progress; Stop ends it at once', async () => {
  const page = await env.newPage();
  await page.goto(site.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  const names = fx.files.filter((f) => /\.a?vhd$/.test(f));
  const state = () => page.evaluate(() => document.getElementById('folder').dataset.state);
  // The same few small disks under 500 names (copies of each other); Stop at once.
  assert.equal(await page.evaluate(giveFolder, { names, count: 500, stop: true }), 500);
  await page.waitForFunction(() => document.getElementById('folder').dataset.state !== 'busy');
  assert.equal(await state(), 'stopped');
  assert.match(await page.textContent('#folder'), /Stopped/);
  // Again to the end: the progress bar counted the files.
  await page.evaluate(giveFolder, { names, count: 500 });
  await page.waitForFunction(() => document.getElementById('folder').dataset.state === 'done', null, { timeout: 60_000 });
  assert.equal(await page.getAttribute('#folder progress', 'max'), '500');
  const got = await page.evaluate(() => window.vhdViewer.state.folder);
  assert.equal(got.survey.bytes_read.length, 500);
  for (const { file, bytes } of got.survey.bytes_read) assert.ok(bytes <= VHD_MOST, `${file}: ${bytes}`);
  got.survey.bytes_read.forEach(({ bytes }, i) => assert.equal(got.stats[i].bytes, bytes));
  assert.equal(got.survey.duplicates.length, names.length, 'each disk\'s copies are one set');
  assert.deepEqual(page.errors, []);
  await page.close();
});

/**
 * A dropped folder as the browser's entries give it (FileSystemDirectoryEntry: readEntries in
 * batches of at most `batch`, then an empty one), over `tree` ({ name: File | subtree }).
 */
function entryOf(name, node, path = `/${name}`, batch = 2) {
  if (node instanceof Blob) return { isFile: true, isDirectory: false, name, fullPath: path, file: (ok) => setTimeout(() => ok(node)) };
  const kids = Object.entries(node).map(([n, v]) => entryOf(n, v, `${path}/${n}`, batch));
  return {
    isFile: false,
    isDirectory: true,
    name,
    fullPath: path,
    createReader() {
      let at = 0;
      return { readEntries: (ok) => setTimeout(() => ok(kids.slice(at, (at += batch)))) };
    },
  };
}

test('a dropped folder is walked whole (every batch of entries), each file named by its path, bounded in depth; dropped files stay files', async () => {
  const blob = (t) => new File([t], 'x');
  const tree = { 'b.vhdx': blob('b'), 'a.avhdx': blob('a'), sub: { 'c.vhd': blob('c'), 'd.avhd': blob('d'), 'e.txt': blob('e'), deeper: { 'f.vhd': blob('f') } } };
  const drop = (entries, files = []) => ({ items: entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e })), files });
  const got = await droppedFiles(drop([entryOf('vm', tree)]));
  assert.equal(got.folder, true);
  assert.equal(got.bounded, false);
  assert.deepEqual(got.files.map((f) => f.name), ['vm/a.avhdx', 'vm/b.vhdx', 'vm/sub/c.vhd', 'vm/sub/d.avhd', 'vm/sub/deeper/f.vhd', 'vm/sub/e.txt']);
  assert.equal(await got.files[4].blob.text(), 'f');
  // Deeper than the bound: not walked.
  let deep = { 'z.vhd': blob('z') };
  for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { d: deep };
  const bounded = await droppedFiles(drop([entryOf('deep', deep)]));
  assert.deepEqual(bounded.files, []);
  // The bound is the same however the folder comes: a file MAX_DEPTH folders under the folder
  // given is kept, one more deep is left out.
  const nested = (n) => {
    let t = { 'z.vhd': blob('z') };
    for (let i = 0; i < n; i++) t = { d: t };
    return t;
  };
  const path = (n) => ['deep', ...Array(n).fill('d'), 'z.vhd'].join('/');
  assert.deepEqual((await droppedFiles(drop([entryOf('deep', nested(MAX_DEPTH))]))).files.map((f) => f.name), [path(MAX_DEPTH)]);
  assert.deepEqual((await droppedFiles(drop([entryOf('deep', nested(MAX_DEPTH + 1))]))).files, []);
  const input = [MAX_DEPTH, MAX_DEPTH + 1].map((n) => {
    const f = new File(['z'], 'z.vhd');
    Object.defineProperty(f, 'webkitRelativePath', { value: path(n) });
    return f;
  });
  assert.deepEqual(chosenFiles(input).files.map((f) => f.name), [path(MAX_DEPTH)]);
  // Files only (no folder among them): the drop's files, by their names, as before.
  const plain = [new File(['1'], 'one.vhd'), new File(['2'], 'two.vhd')];
  const files = await droppedFiles(drop([entryOf('one.vhd', plain[0]), null], plain));
  assert.deepEqual(files, { files: plain.map((f) => ({ name: f.name, blob: f })), folder: false, bounded: false });
  // A folder input's files are named by webkitRelativePath.
  const chosen = [new File(['1'], 'a.vhd'), new File(['2'], 'b.vhd')];
  Object.defineProperty(chosen[0], 'webkitRelativePath', { value: 'vm/x/a.vhd' });
  assert.deepEqual(chosenFiles(chosen).files.map((f) => f.name), ['vm/x/a.vhd', 'b.vhd']);
});

test('the page: several files given that are not one sound chain show the folder view above the disk; one chain does not', async () => {
  const page = await openPage(env);
  const pick = (re) => fx.files.filter((f) => re.test(f)).map((f) => join(fx.top, f));
  // The VHD tree and the text file: the folder view (by the files' names), and the chain opened as before.
  await page.setInputFiles('#file-input', [...pick(/Virtual PC\//), ...pick(/notes\.txt$/)]);
  await page.waitForFunction(() => document.getElementById('folder')?.dataset.state === 'done', null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
  const tree = await page.evaluate(shownTree);
  assert.deepEqual(tree.map((t) => [t.file, t.children.length]), [['xp.vhd', 1]]);
  assert.deepEqual((await page.evaluate(shownProblems)).unreadable, ['notes.txt']);
  assert.equal((await page.evaluate(() => window.vhdViewer.state.disk.names)).length, 3);
  // One sound chain: no folder view.
  await page.setInputFiles('#file-input', pick(/Virtual PC\//));
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && window.vhdViewer.state.disk?.names.length === 3);
  assert.equal(await page.isHidden('#folder'), true);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the page: "Choose a folder…" uses showDirectoryPicker where the browser has it: the folder walked, each file named by its path, answered as chains --json', async () => {
  const { answer } = cliChains(fx.top);
  const page = await env.newPage();
  await page.goto(site.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  // The picker answers the folder's handle (its files fetched from beside the page).
  await page.evaluate(async (names) => {
    const dir = (name) => ({ kind: 'directory', name, kids: new Map(), async *values() { yield* this.kids.values(); } });
    const top = dir(names[0].split('/')[0]);
    for (const n of names) {
      const parts = n.split('/').slice(1);
      let d = top;
      for (const p of parts.slice(0, -1)) d = d.kids.get(p) ?? d.kids.set(p, dir(p)).get(p);
      const blob = await (await fetch('folder-fixture/' + n.split('/').map(encodeURIComponent).join('/'))).blob();
      const name = parts[parts.length - 1];
      d.kids.set(name, { kind: 'file', name, getFile: async () => new File([blob], name) });
    }
    window.showDirectoryPicker = async () => top;
  }, fx.files);
  await page.click('#folder-choose');
  await page.waitForFunction(() => document.getElementById('folder')?.dataset.state === 'done', null, { timeout: 60_000 });
  const state = await page.evaluate(() => window.vhdViewer.state.folder);
  assert.deepEqual([...state.names].sort(), [...fx.files].sort());
  assert.deepEqual(state.survey, answer);
  assert.deepEqual(await page.evaluate(shownTree), treeShape(answer.trees));
  // An empty folder says so.
  await page.evaluate(() => window.vhdViewer.loadFolder([]));
  assert.equal(await page.evaluate(() => document.getElementById('folder').dataset.state), 'error');
  assert.match(await page.textContent('#folder'), /holds no files/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

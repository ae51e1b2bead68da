// The test folder of issue 24 (examples/folder_fixture.rs: a VHDX base with two branches of
// checkpoints, a VHD chain, an orphan, a moved parent, a modified parent, a copied base, a text
// file, a truncated disk), built once per version of the example, and the command line's answer
// for it (`vhd-viewer chains --json`). The folder is `vm` in its own directory; its files are named
// by their paths from there (`vm/...`), as a page names a dropped or chosen folder's files.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, WWW, cliPath } from './helpers.mjs';
import { serve } from '../../scripts/serve.mjs';

/** The folder's name, as dropped. */
export const FOLDER = 'vm';

/** Builds the folder (once per version of the example); returns `{ top, dir, files }`: `files` its paths from `top`, sorted. */
export function folderFixture() {
  const example = readFileSync(join(ROOT, 'examples/folder_fixture.rs'));
  const top = join(ROOT, 'tests/work/web-folder', createHash('sha256').update(example).digest('hex').slice(0, 16));
  const dir = join(top, FOLDER);
  if (!existsSync(join(top, 'done'))) {
    const tmp = `${top}.building${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('cargo', ['run', '--quiet', '--example', 'folder_fixture', '--', join(tmp, FOLDER)], { cwd: ROOT, stdio: 'inherit' });
    execFileSync('touch', [join(tmp, 'done')]);
    try {
      renameSync(tmp, top);
    } catch (e) {
      if (!existsSync(join(top, 'done'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { top, dir, files: walk(top, FOLDER) };
}

/** The files under `top/rel`, as paths from `top` with `/`, sorted. */
function walk(top, rel) {
  return readdirSync(join(top, rel))
    .sort()
    .flatMap((n) => (statSync(join(top, rel, n)).isDirectory() ? walk(top, `${rel}/${n}`) : [`${rel}/${n}`]));
}

/** `vhd-viewer chains FOLDER --json`, run in the folder's directory: `{ status, answer }`. */
export function cliChains(top) {
  const r = spawnSync(cliPath(), ['chains', FOLDER, '--json'], { cwd: top, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`vhd-viewer chains: status ${r.status}: ${r.stderr}`);
  return { status: r.status, answer: JSON.parse(r.stdout) };
}

/**
 * A survey's trees as the page's tree draws them: each node's file, role, format, id, size and
 * whether it is an orphan, with its children, in order.
 * @param {any[]} trees
 * @returns {any[]}
 */
export function treeShape(trees) {
  return trees.map((n) => ({ file: n.file, role: n.role, format: n.format, id: n.id, size: n.size, orphan: !!n.orphan, children: treeShape(n.children) }));
}

/** The tree the page shows in `#folder` (run in the page). */
export function shownTree() {
  /** @param {Element} ul */
  const items = (ul) =>
    [...ul.children].filter((li) => li.getAttribute('role') === 'treeitem').map((li) => ({
      file: li.dataset.file,
      role: li.dataset.role,
      format: li.dataset.format,
      id: li.dataset.id,
      size: Number(li.dataset.size),
      orphan: li.dataset.orphan === 'true',
      children: li.querySelector(':scope > [role=group]') ? items(li.querySelector(':scope > [role=group]')) : [],
    }));
  return items(document.querySelector('#folder [role=tree]'));
}

/** The problems the page lists in `#folder`: for each kind, the files it names (run in the page). */
export function shownProblems() {
  const out = {};
  for (const kind of ['orphans', 'moved', 'modified', 'duplicates', 'unreadable']) {
    out[kind] = [...document.querySelectorAll(`#folder section[data-kind=${kind}] li`)].map((li) => li.dataset.file);
  }
  return out;
}

/** What the page should list for `answer`: for each kind, the files it names. */
export function expectedProblems(answer) {
  return {
    orphans: answer.orphans.map((o) => o.file),
    moved: answer.moved.map((m) => m.file),
    modified: answer.modified.map((m) => m.file),
    duplicates: answer.duplicates.map((d) => d[0]),
    unreadable: answer.unreadable.map((u) => u.file),
  };
}

/**
 * The page's site with the folder beside it (`folder-fixture/`, same origin: the page's
 * Content-Security-Policy lets it fetch only its own): `{ url, close() }`.
 * @param {string} top the folder's directory (folderFixture().top)
 * @param {Parameters<typeof serve>[0]} [options]
 */
export async function siteWithFolder(top, options = {}) {
  const root = mkdtempSync(join(tmpdir(), 'vhd-site-'));
  for (const n of readdirSync(WWW)) symlinkSync(join(WWW, n), join(root, n));
  symlinkSync(top, join(root, 'folder-fixture'));
  const site = await serve({ ...options, root, port: 0 });
  return {
    url: site.url,
    close: () => new Promise((r) => site.server.close(r)).then(() => rmSync(root, { recursive: true, force: true })),
  };
}

/**
 * Run in the page: fetches the folder's files from `folder-fixture/` and gives them to the page as
 * a dropped folder's (`vhdViewer.loadFolder`), each `names[i]` `count` times over under
 * `prefix` + a number when `count` is given; clicks Stop at once when `stop`. Resolves when the
 * files are given (the survey goes on).
 * @param {{ names: string[], count?: number, stop?: boolean }} arg
 */
export async function giveFolder({ names, count, stop }) {
  const blobs = await Promise.all(names.map(async (n) => {
    const r = await fetch('folder-fixture/' + n.split('/').map(encodeURIComponent).join('/'));
    if (!r.ok) throw new Error(`${n}: ${r.status}`);
    return r.blob();
  }));
  const files = count
    ? Array.from({ length: count }, (_, i) => ({ name: `many/${String(i).padStart(3, '0')}/${names[i % names.length].split('/').pop()}`, blob: blobs[i % names.length] }))
    : names.map((name, i) => ({ name, blob: blobs[i] }));
  window.vhdViewer.loadFolder(files);
  if (stop) document.querySelector('#folder [data-action=stop]').click();
  return files.length;
}

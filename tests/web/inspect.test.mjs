// The page's first screen and its System card (www/js/page/views/system.js), in Chromium, on the
// disks `inspect`'s Rust tests use (tests/web/fixtures/make-{linux,windows}-vhds.sh: a Debian-like
// ext4 root, and NTFS with hives written by hivexsh -w; each with a child that renamed the
// computer and installed a program): the card's values equal `vhd-viewer inspect --json`, as of
// the child and of its parent; a source link opens the file in the file browser; the Changes view
// names what the child changed in the system as `diff --json` does; the first 1400x900 viewport
// holds the card, the partitions' picture, the chain's verdict and the health verdict; the footer
// copy is folded when identical to the footer and open when it differs; 400 px wide, nothing
// sticks out; a hive not closed cleanly is said to be; the element's Summary tab shows the card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, settled, tempDir, SAMPLES, ROOT } from './helpers.mjs';
import { systemVhds, cli } from './fs-fixtures.mjs';

const linux = systemVhds('linux');
const windows = systemVhds('windows');
let env;
before(async () => {
  env = await start();
});
after(async () => env && env.close());

/** `vhd-viewer inspect --json` of `child` on `parent`, as of layer `layer`. */
function inspect({ parent, child }, layer = 0) {
  return JSON.parse(cli(['inspect', child, '--parent', parent, '--json', ...(layer ? ['--layer', String(layer)] : [])], child).toString('utf8')).systems;
}

/** A page at `viewport` with `files` open, ready. */
async function opened(files, viewport = { width: 1400, height: 900 }) {
  const page = await env.newPage({ viewport });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', files);
  assert.equal(await settled(page), 'ready');
  return page;
}

/** Waits until the System cards are read (as of the layer chosen). */
function read(page) {
  return page.waitForFunction(() => !['reading', null].includes(document.getElementById('systems').getAttribute('data-systems')), null, { timeout: 120_000 });
}

/** Waits until the System cards are read; returns what each card shows (its programs' list unfolded). */
async function cards(page) {
  await read(page);
  await page.$$eval('#systems details.programs', (list) => list.forEach((d) => (d.open = true)));
  await page.waitForFunction(() => [...document.querySelectorAll('#systems details.programs')].every((d) => d.querySelector('tbody tr')));
  return page.$$eval('#systems article.system', (list) => list.map((a) => {
    const facts = Object.fromEntries([...a.querySelectorAll('dl.facts [data-sys]')].map((e) => [e.dataset.sys, e.dataset.value]));
    return {
      partition: Number(a.dataset.partition),
      os: a.dataset.os,
      title: a.querySelector('[data-sys="title"]')?.textContent,
      facts,
      users: [...a.querySelectorAll('[data-sys="user"]')].map((e) => e.textContent),
      programs: a.querySelector('[data-sys="programs"]') ? Number(a.querySelector('[data-sys="programs"]')?.textContent) : 0,
      programNames: [...a.querySelectorAll('details.programs tbody tr')].map((r) => r.querySelector('th')?.firstChild?.textContent),
    };
  }));
}

/** What the card must show of `systems` (inspect --json's). */
function expected(systems) {
  const facts = ['hostname', 'timezone', 'install_date', 'last_shutdown', 'registered_owner'];
  return systems.map((s) => ({
    partition: s.partition,
    os: s.os,
    facts: Object.fromEntries([...facts.filter((k) => s[k] !== null && s[k] !== undefined).map((k) => [k, s[k]]), ...(s.os === 'linux' && s.version ? [['version', s.version]] : [])]),
    users: s.users.map((u) => u.name),
    programs: s.programs.length,
    programNames: s.programs.map((p) => p.name),
  }));
}

/** The card's values beside inspect's, the title aside (checked on its own). */
function compare(shown, want, what) {
  assert.deepEqual(shown.map(({ title, ...rest }) => rest), want, what);
}

for (const [os, disks] of /** @type {const} */ ([['linux', linux], ['windows', windows]])) {
  test(`${os}: the System card equals inspect --json as of the child and of its parent; the Changes view names what the child changed in it`, async () => {
    const page = await opened([disks.child, disks.parent]);
    const child = inspect(disks);
    const parent = inspect(disks, 1);
    assert.equal(child.length, 1, 'the fixture holds one system');
    assert.notEqual(child[0].hostname, parent[0].hostname, 'the fixture: the child renamed the computer');
    const shown = await cards(page);
    compare(shown, expected(child), 'as of the child');
    // The title in words: the product (Linux's PRETTY_NAME), Windows' version and build.
    assert.ok(shown[0].title?.startsWith(child[0].product), shown[0].title);
    if (os === 'windows') assert.ok(shown[0].title?.includes(`build ${child[0].build}`), shown[0].title);
    await page.selectOption('#files-layer', '1');
    compare(await cards(page), expected(parent), 'as of the parent');
    assert.match(await page.textContent('#systems'), /as of layer 1/);

    // What the child changed in the system: diff --json's messages, above the changed files.
    await page.selectOption('#files-layer', '0');
    await page.click('#changes-run');
    await page.waitForFunction(() => document.getElementById('changes-body').dataset.changes === 'done', null, { timeout: 120_000 });
    const diff = JSON.parse(cli(['diff', disks.child, '--parent', disks.parent, '--json'], disks.child).toString('utf8'));
    assert.ok(diff.systems.some((c) => c.kind === 'field' && c.name === 'hostname'), 'the diff names the new computer name');
    assert.ok(diff.systems.some((c) => c.kind === 'program-added'), 'the diff names the program installed');
    const said = await page.$$eval('#changes-body [data-field="systems"] li', (l) => l.map((li) => [li.dataset.kind, li.firstChild?.textContent]));
    assert.deepEqual(said, diff.systems.map((c) => [c.kind, c.message]));
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('a source link opens the file in the file browser, as of the layer the card is read from', async () => {
  const page = await opened([windows.child, windows.parent]);
  const [system] = inspect(windows);
  await cards(page);
  // The programs' filter: the rows whose name holds what is typed.
  const word = system.programs[0].name.slice(1, 4).toLowerCase();
  await page.fill('#systems [data-action="filter-programs"]', word);
  const rows = await page.$$eval('#systems details.programs tbody tr th', (t) => t.map((th) => th.firstChild?.textContent));
  assert.deepEqual(rows, system.programs.filter((p) => p.name.toLowerCase().includes(word)).map((p) => p.name));
  assert.ok(rows.length < system.programs.length || system.programs.every((p) => p.name.toLowerCase().includes(word)));
  const source = system.sources.hostname;
  const link = page.locator('#systems dl.facts [data-sys="hostname"] + [data-action="source"]');
  assert.equal(await link.getAttribute('data-path'), source.path);
  assert.match(await link.getAttribute('aria-label'), new RegExp(`key ${source.key.replaceAll('\\', '\\\\')}, value ${source.value}`));
  await link.click();
  const name = source.path.slice(source.path.lastIndexOf('/') + 1);
  await page.waitForFunction((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });
  // The files view is where the reader is: the hive's folder on the card's partition.
  await page.waitForFunction((want) => decodeURIComponent(location.hash).includes(want), `partition=${system.partition}&path=${source.path}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

for (const [os, disks] of /** @type {const} */ ([['linux', linux], ['windows', windows]])) test(`${os}: the first 1400x900 screen holds the System card, the partitions' picture, the chain's verdict and the health verdict`, async () => {
  const page = await opened([disks.child, disks.parent]);
  await read(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  const boxes = await page.evaluate(() => Object.fromEntries(['#systems article.system', '#parts-picture [data-field="strip"]', '#health .chain-verdict', '#health .health-verdict'].map((sel) => {
    const b = document.querySelector(sel)?.getBoundingClientRect();
    return [sel, b ? { top: b.top, bottom: b.bottom, height: b.height } : null];
  })));
  for (const [sel, b] of Object.entries(boxes)) {
    assert.ok(b && b.height > 0, `${sel} is shown`);
    assert.ok(b.top >= 0 && b.bottom <= 900, `${sel} is within the first screen: ${JSON.stringify(b)}`);
  }
  // The health verdict's counts lead to the findings.
  await page.click('#health [data-severity="info"]');
  await page.waitForFunction(() => {
    const b = document.getElementById('findings').getBoundingClientRect();
    return b.top >= 0 && b.top < 200;
  });
  await page.close();
});

test('the footer copy\'s table is folded when it is identical to the footer, and open when it differs', async () => {
  const t = tempDir();
  try {
    const page = await opened([join(SAMPLES, 'dynamic.vhd')]);
    assert.equal(await page.$eval('#structures-body details.footer-copy', (d) => d.open), false);
    assert.match(await page.textContent('#structures-body details.footer-copy > summary'), /Identical to the footer/);
    await page.click('#structures-body details.footer-copy > summary');
    assert.equal(await page.locator('#structures-body details.footer-copy table.fields').isVisible(), true);
    // A copy whose creator application (bytes 28..32 of the copy at byte 0) differs from the footer's.
    const odd = join(t.dir, 'odd-copy.vhd');
    copyFileSync(join(SAMPLES, 'dynamic.vhd'), odd);
    const bytes = readFileSync(odd);
    bytes.write('abcd', 28, 'latin1');
    writeFileSync(odd, bytes);
    await page.setInputFiles('#file-input', [odd]);
    await page.waitForFunction(() => document.querySelector('#summary-body [data-field="file"]')?.textContent === 'odd-copy.vhd');
    assert.equal(await settled(page), 'ready');
    assert.equal(await page.$eval('#structures-body details.footer-copy', (d) => d.open), true);
    assert.match(await page.textContent('#structures-body'), /Differs from the footer at the end/);
    await page.close();
  } finally {
    t.remove();
  }
});

test('400 px wide: the first screen with a System card has nothing sticking out', async () => {
  const page = await opened([linux.child, linux.parent], { width: 400, height: 800 });
  await cards(page);
  await page.click('#systems details.programs > summary');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 400, `the page is ${wide} px wide at 400`);
  await page.close();
});

test('the <vhd-viewer> element shows the System card in its Summary tab', async () => {
  const page = await env.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.evaluate(async () => {
    await import('./js/page/define.js');
    const input = Object.assign(document.createElement('input'), { type: 'file', multiple: true, id: 'el-files' });
    const el = Object.assign(document.createElement('vhd-viewer'), { id: 'el' });
    document.body.prepend(input, el);
    input.addEventListener('change', () => el.open([...input.files]));
  });
  await page.setInputFiles('#el-files', [linux.child, linux.parent]);
  await page.waitForFunction(() => {
    const root = document.getElementById('el')?.shadowRoot;
    return root?.querySelector('[role=tabpanel][data-view="summary"]:not([hidden]) article.system') !== null && root?.querySelector('.systems')?.getAttribute('data-systems') === '1';
  }, null, { timeout: 60_000 });
  const title = await page.evaluate(() => document.getElementById('el').shadowRoot.querySelector('article.system [data-sys="title"]')?.textContent);
  assert.equal(title, inspect(linux)[0].product);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a hive not closed cleanly: the card says so (its logs named) and still answers, as inspect --json does', async () => {
  const t = tempDir();
  try {
    // The parent's raw disk with SYSTEM's second sequence number one past its first: its base
    // block (the file's first 4 KiB, found in the raw disk) edited, its checksum set right.
    const raw = cli(['cat', windows.parent], windows.parent);
    const hive = cli(['get', windows.parent, '/Windows/System32/config/SYSTEM', '--partition', '1'], windows.parent);
    const at = raw.indexOf(hive.subarray(0, 4096));
    assert.ok(at > 0 && at % 512 === 0, 'the hive\'s base block is on the disk');
    raw.writeUInt32LE(raw.readUInt32LE(at + 4) + 1, at + 8);
    let sum = 0;
    for (let i = 0; i < 0x1fc; i += 4) sum ^= raw.readUInt32LE(at + i);
    raw.writeUInt32LE(sum >>> 0, at + 0x1fc);
    writeFileSync(join(t.dir, 'dirty.raw'), raw);
    const dirty = join(t.dir, 'dirty.vhd');
    execFileSync('cargo', ['build', '--quiet', '--example', 'vhd_from_raw'], { cwd: ROOT, stdio: 'inherit' });
    execFileSync(join(ROOT, 'target/debug/examples/vhd_from_raw'), ['dynamic', join(t.dir, 'dirty.raw'), dirty]);
    const [want] = JSON.parse(cli(['inspect', dirty, '--json'], dirty).toString('utf8')).systems;
    assert.deepEqual(want.notes.map((n) => n.code), ['hive-dirty']);
    const page = await opened([dirty]);
    const [shown] = await cards(page);
    assert.equal(shown.facts.hostname, want.hostname, 'read as stored');
    const notes = await page.$$eval('#systems li.note', (l) => l.map((li) => [li.dataset.code, li.textContent]));
    assert.deepEqual(notes.map(([code]) => code), ['hive-dirty']);
    assert.ok(notes[0][1].startsWith(want.notes[0].message), notes[0][1]);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    t.remove();
  }
});

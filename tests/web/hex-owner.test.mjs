// The hex view says who owns the sector it shows (WasmVolumes.owner through the Worker), in
// Chromium: for sectors of the FAT16, NTFS and ext4 fixtures (a file's, a file-system structure,
// free space, outside any partition) and of the exFAT one (a deleted file's, its clusters free) its fields are those of the command
// line's `owner --json`, its words name them, and a file's name opens the file in the file
// browser; as of the parent and of the child, over a sector the child gave to a new file; stepping
// through sectors quickly leaves the last sector's owner shown; a BitLocker volume unlocked in the
// files view: the sector shown is owned by its file, as owner --password says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fsVhds, linuxDataVhds, cli, cliSearch } from './fs-fixtures.mjs';
import { bitlockerVhds } from './bitlocker-fixtures.mjs';
import { launch } from './engines.mjs';
import { serve } from '../../scripts/serve.mjs';
import { WWW } from './helpers.mjs';

const vhds = fsVhds();
let site;
let browser;
before(async () => {
  site = await serve({ root: WWW, port: 0 });
  browser = await launch('chromium');
});
after(async () => {
  await browser?.close();
  await new Promise((r) => site?.server.close(r));
});

/** `owner DISK SECTOR --json`. */
const cliOwner = (disk, sector, more = []) => JSON.parse(cli(['owner', disk, String(sector), '--json', ...more], disk).toString('utf8'));

/** A page with `files` (top first) open. */
async function opened(files) {
  const page = await browser.newPage();
  await page.goto(site.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setFiles('#file-input', files);
  await page.waitFor(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  return page;
}

/** Shows virtual sector `sector` in the hex view; resolves the owner line's fields and words once answered. */
async function ownerShown(page, sector) {
  await page.evaluate((s) => {
    document.querySelector('#hex-at').value = String(s);
    document.querySelector('#hex-form').requestSubmit();
  }, sector);
  await page.waitFor((s) => {
    const d = document.getElementById('hex-owner').dataset;
    return d.sector === String(s) && d.state === 'done';
  }, sector, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.getElementById('hex-owner');
    return { fields: { ...el.dataset }, words: el.textContent, link: el.querySelector('[data-action=open-owner]')?.textContent ?? null };
  });
}

/** The fields the page keeps of `owner --json`'s answer `o`, as it writes them. */
function fieldsOf(o) {
  const n = (v) => (v === null || v === undefined ? '' : String(v));
  return {
    state: 'done', kind: o.kind, path: n(o.path), what: o.what, partition: n(o.partition), volume: n(o.volume),
    filesystem: n(o.filesystem), fileOffset: n(o.file_offset), deleted: String(o.deleted), sector: String(o.sector),
  };
}

/** Checks the owner shown of `sector` against `owner --json` on `disk`; returns the CLI's answer. */
async function same(page, disk, sector) {
  const theirs = cliOwner(disk, sector);
  const shown = await ownerShown(page, sector);
  assert.deepEqual(shown.fields, fieldsOf(theirs), `sector ${sector}`);
  const want = theirs.kind === 'file' || theirs.kind === 'dir' ? theirs.path : theirs.what;
  assert.ok(shown.words.includes(want), `${shown.words} names ${want}`);
  if (theirs.partition !== null && theirs.filesystem) assert.match(shown.words, new RegExp(`volume in partition ${theirs.partition}`), shown.words);
  if (theirs.file_offset !== null) assert.ok(shown.words.includes(`bytes ${theirs.file_offset}–${theirs.file_offset + 511} of it`), shown.words);
  if (theirs.kind === 'free') assert.match(shown.words, /^Owner: free space of the /);
  assert.equal(shown.link, theirs.path && (theirs.kind === 'file' || theirs.kind === 'dir') ? theirs.path : null);
  return theirs;
}

/** Clicks the owner's name; resolves once the files view shows the file's panel. */
async function openOwner(page, path) {
  await page.click('#hex-owner [data-action=open-owner]');
  const name = path.split('/').pop();
  await page.waitFor((n) => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]')?.textContent === n, name, { timeout: 60_000 });
}

test('chromium: the hex view says who owns the sector shown, as owner --json; a file opens in the file browser', { timeout: 300_000 }, async () => {
  const { child, base } = vhds;
  const page = await opened([child, base]);
  // Structures and space outside the partitions; each file system's boot sector and free space.
  const kinds = [];
  for (const sector of [0, 1, 2048, 43008, 124928, 2048 + 40960 - 1, 124928 + 38912 - 1]) kinds.push((await same(page, child, sector)).kind);
  for (const k of ['structure', 'outside', 'free']) assert.ok(kinds.includes(k), `${k} among ${kinds.join()}`);
  // A file's sector on the FAT16 volume ("hello") and on the ext4 one ("bottom"): its name opens it.
  for (const [word, fs] of [['hello', 'fat16'], ['bottom', 'ext4']]) {
    const hit = cliSearch(child, [word]).find((x) => x.owner.kind === 'file' && x.owner.filesystem === fs);
    assert.ok(hit, `${word} in a file on ${fs}`);
    const o = await same(page, child, Math.floor(hit.offset / 512));
    assert.equal(o.kind, 'file');
    await openOwner(page, o.path);
  }
  // Sectors stepped through quickly: the last one's owner is the one shown.
  const last = await page.evaluate(() => {
    for (let k = 0; k < 5; k++) document.getElementById('hex-next').click();
    return Number(document.getElementById('hex-at').value);
  });
  await page.waitFor((s) => document.getElementById('hex-owner').dataset.sector === String(s) && document.getElementById('hex-owner').dataset.state === 'done', last, { timeout: 60_000 });
  assert.deepEqual((await ownerShown(page, last)).fields, fieldsOf(cliOwner(child, last)));
  assert.deepEqual(await page.errors(), []);
  await page.close();
});

test('chromium: as of the parent and of the child, the owner of a sector the child gave to a new file', { timeout: 300_000 }, async () => {
  const { child, base } = vhds;
  const hit = cliSearch(child, ['made in the child']).find((x) => x.owner.path === '/Added in child.txt');
  const sector = Math.floor(hit.offset / 512);
  const ofChild = cliOwner(child, sector);
  const ofParent = cliOwner(base, sector);
  assert.equal(ofChild.path, '/Added in child.txt');
  assert.notDeepEqual(fieldsOf(ofParent), fieldsOf(ofChild));
  const parent = await opened([base]);
  assert.equal((await same(parent, base, sector)).kind, ofParent.kind);
  assert.deepEqual(await parent.errors(), []);
  await parent.close();
  const chain = await opened([child, base]);
  await same(chain, child, sector);
  await openOwner(chain, ofChild.path);
  assert.deepEqual(await chain.errors(), []);
  await chain.close();
});

test('chromium: a deleted file whose clusters are free (exFAT): its sector owned by it, as owner --json, and opened', { timeout: 300_000 }, async (t) => {
  const { exfat } = linuxDataVhds();
  if (!exfat) return t.skip('no exFAT fixture on this machine');
  const disk = exfat.vhd;
  const entry = cli(['ls', disk, '/', '--deleted', '--json'], disk).toString('utf8').trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.path === '/deleted.bin');
  const part = JSON.parse(cli(['parts', disk, '--json'], disk).toString('utf8')).partitions[0];
  // Its second sector: cluster `id` (the first), 512 bytes in.
  const sector = part.start_sector + (part.data_offset + (entry.id - 2) * part.cluster_size) / 512 + 1;
  const page = await opened([disk]);
  const o = await same(page, disk, sector);
  assert.deepEqual([o.kind, o.deleted, o.path, o.file_offset], ['file', true, '/deleted.bin', 512]);
  assert.match(await page.text('#hex-owner'), /the deleted file \/deleted\.bin, bytes 512–1023 of it, in the exFAT volume in partition 1/);
  await openOwner(page, o.path);
  assert.deepEqual(await page.errors(), []);
  await page.close();
});

test('chromium: a BitLocker volume unlocked in the files view: the sector shown is owned by its file, as owner --password', { timeout: 300_000 }, async () => {
  const vhd = bitlockerVhds().cases.find((c) => c.name === 'fat').vhd;
  const [hit] = cliSearch(vhd, ['--password', 'bde-TEST', 'hello from a BitLocker volume']);
  const sector = Math.floor(hit.offset / 512);
  const locked = cliOwner(vhd, sector);
  const unlocked = cliOwner(vhd, sector, ['--password', 'bde-TEST']);
  assert.equal(unlocked.kind, 'file');
  assert.notDeepEqual(fieldsOf(locked), fieldsOf(unlocked));
  const page = await opened([vhd]);
  assert.deepEqual((await ownerShown(page, sector)).fields, fieldsOf(locked));
  await page.evaluate(() => document.getElementById('volumes').scrollIntoView());
  const card = `#files-view li[data-partition="${hit.partition}"]`;
  await page.waitFor((sel) => !!document.querySelector(`${sel} form[data-field="unlock"]`), card, { timeout: 60_000 });
  await page.select(`${card} [data-field="unlock-kind"]`, 'password');
  await page.fill(`${card} [data-field="unlock-secret"]`, 'bde-TEST');
  await page.click(`${card} [data-action="unlock"]`);
  await page.waitFor((s) => document.getElementById('hex-owner').dataset.kind === 'file' && document.getElementById('hex-owner').dataset.sector === String(s), sector, { timeout: 120_000 });
  assert.deepEqual((await ownerShown(page, sector)).fields, fieldsOf(unlocked));
  await openOwner(page, unlocked.path);
  assert.deepEqual(await page.errors(), []);
  await page.close();
});

// The search box's binding, WasmSearch stepped by WasmVolumes.searchStep, on the real WebAssembly
// in Node with synchronous reads (fs.readSync, as a Worker's FileReaderSync): step by step, its
// hits and their owners are the lines of the command line's `search --json` on the same chain
// (FAT16, NTFS and ext4 made by the real tools, a child over them), `--only-layer` too; a
// refused pattern is an error in words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../www/js/common/format.js';
import { fsVhds, coreBindings, openChain, cli } from './fs-fixtures.mjs';

const vhds = fsVhds();
let b;
const opened = [];
before(async () => {
  b = await coreBindings();
});
after(() => opened.forEach((c) => c.close()));

/** Every hit of a search stepped `budget` bytes at a time, and the number of steps. */
function stepped(args, budget) {
  const c = openChain(b, [vhds.child, vhds.base]);
  opened.push(c);
  const vols = new b.WasmVolumes(c.disk, c.reader(0));
  const search = new b.WasmSearch(vols, ...args);
  const hits = [];
  let steps = 0;
  let position = 0;
  for (;;) {
    const s = normalize(vols.searchStep(search, budget));
    assert.ok(s.position >= position, 'the position goes forward');
    position = s.position;
    hits.push(...s.hits);
    steps += 1;
    if (s.done) break;
  }
  search.free();
  return { hits, steps, position, size: c.disk.size() };
}

/** `search --json` lines. */
function cliSearch(args) {
  let out;
  try {
    out = cli(['search', vhds.child, '--json', ...args], vhds.child);
  } catch (e) {
    // Exit status 1: no hit.
    out = e.stdout;
  }
  return out.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('searchStep, a step at a time, finds the hits and owners of `search --json`', () => {
  for (const word of ['bottom', 'made in the child']) {
    const theirs = cliSearch([word]);
    assert.ok(theirs.length > 0, word);
    const { hits, steps, position, size } = stepped([word, false, false, false, undefined], 256 * 1024);
    assert.deepEqual(hits, theirs, word);
    assert.equal(position, size);
    assert.ok(steps > 4, `${steps} steps`);
  }
  const owned = cliSearch(['bottom']).map((h) => h.owner.kind);
  assert.ok(owned.includes('file'), owned.join());
});

test('only a layer, UTF-16 only, ignoring case, bytes: as the command line', () => {
  for (const [args, cliArgs] of [
    [['made in the child', false, false, false, 0], ['made in the child', '--only-layer', '0']],
    [['bottom', false, false, false, 1], ['bottom', '--only-layer', '1']],
    [['BOTTOM', false, false, true, undefined], ['BOTTOM', '-i']],
    [['bottom', false, true, false, undefined], ['bottom', '--utf16']],
    [['626f74746f6d', true, false, false, undefined], ['626f74746f6d', '--hex']],
  ]) {
    const theirs = cliSearch(cliArgs);
    assert.ok(theirs.length > 0, `${cliArgs.join(' ')}: no hit`);
    assert.deepEqual(stepped(args, 1 << 20).hits, theirs, cliArgs.join(' '));
  }
});

test('a refused pattern is an error in words', () => {
  const c = openChain(b, [vhds.base]);
  opened.push(c);
  const vols = new b.WasmVolumes(c.disk, c.reader(0));
  assert.throws(() => new b.WasmSearch(vols, '', false, false, false, undefined), /empty/);
  assert.throws(() => new b.WasmSearch(vols, '00 00', true, false, false, undefined), /zero bytes only/);
  assert.throws(() => new b.WasmSearch(vols, 'xyz', true, false, false, undefined), /hexadecimal/);
  assert.throws(() => new b.WasmSearch(vols, 'a', false, false, false, 5), /layer/);
});

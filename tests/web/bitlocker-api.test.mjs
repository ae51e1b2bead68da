// BitLocker through the WebAssembly build, in Node (the page's Worker calls the same bindings):
// every case of the fixture (tests/web/fixtures/make-bitlocker-vhds.sh: each method, each
// protector kind a case has, suspended, encrypting, decryption paused, Vista, FAT, a damaged
// metadata block) described as `parts --json` says, unlocked with each of its keys, listed as
// `ls -r --json` with that key lists it, its files' bytes those written; a wrong key refused.
// The page itself unlocks in the three engines in page-suite.mjs (one case: AES-XTS 128 by its
// recovery password); bitlocker-changes.test.mjs compares a child in the Changes view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalize } from '../../www/js/common/format.js';
import { coreBindings, openChain, cli } from './fs-fixtures.mjs';
import { bitlockerVhds } from './bitlocker-fixtures.mjs';

const { dir, cases } = bitlockerVhds();
let b;
const opened = [];
before(async () => {
  b = await coreBindings();
});
after(() => opened.forEach((c) => c.close()));

/** WasmVolumes on one case's VHD. */
function volumes(vhd) {
  const c = openChain(b, [vhd]);
  opened.push(c);
  return new b.WasmVolumes(c.disk, c.reader(0));
}

/** Every entry under `path`, as `ls -r` walks (each directory's entries right after it). */
function walk(vols, part, path, seen = new Set()) {
  const out = [];
  for (const e of normalize(vols.list(part, path, false))) {
    out.push(e);
    if (e.type === 'dir' && !seen.has(e.id)) {
      seen.add(e.id);
      out.push(...walk(vols, part, e.path, seen));
    }
  }
  return out;
}

/** Each protector of a case that a secret opens: [the bindings' kind and secret, the command line's flags]. */
function keysOf(c) {
  return c.manifest.protectors.flatMap((p) => {
    if (p.kind === 'password') return [[['password', p.password], ['--password', p.password]]];
    if (p.kind === 'recovery-password') return [[['recovery-password', p.recovery_password], ['--recovery-password', p.recovery_password]]];
    if (p.kind === 'startup-key') return [[['key-file', new Uint8Array(readFileSync(join(dir, p.bek_path)))], ['--key-file', p.bek_path]]];
    return [];
  });
}

/** Runs an unlock to its end. */
function unlock(vols, part, kind, secret) {
  const job = vols.unlockStart(part, kind, secret);
  try {
    while (!vols.unlockStep(job, 1 << 20));
  } finally {
    job.free();
  }
}

/** The plain files a case's volume holds (path on the volume, file written). */
const PLAIN = {
  'ntfs.img': [['/hello.txt', 'hello.txt'], ['/numbers.txt', 'numbers.txt'], ['/random.bin', 'random.bin']],
  'fat.img': [['/HELLO.TXT', 'hello.txt'], ['/Docs/Deeper/NOTE.TXT', 'note.txt'], ['/NUMBERS.TXT', 'numbers.txt']],
};

/** `vols`' partition `part` against the command line with `flags`: its listing, and each plain file's bytes. */
function readsAsWritten(c, vols, part, flags, what) {
  const theirs = cli(['ls', c.vhd, '/', '-r', '--json', '--partition', String(part), ...flags], c.vhd)
    .toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(walk(vols, part, '/'), theirs, `${what}: the listing is ls -r --json's`);
  for (const [path, file] of PLAIN[c.plain]) {
    const want = readFileSync(join(dir, file));
    assert.deepEqual(Buffer.from(vols.read(part, path, undefined, false, 0, want.length + 1)), want, `${what}: ${path} is the file written`);
  }
}

/** `parts --json` of a case (exit status 1 when the table has errors: the damaged metadata). */
function parts(c, flags = []) {
  try {
    return JSON.parse(cli(['parts', '--json', c.vhd, ...flags], c.vhd).toString('utf8'));
  } catch (e) {
    if (e.status !== 1) throw e;
    return JSON.parse(e.stdout.toString('utf8'));
  }
}

for (const c of cases) {
  test(`${c.name} (${c.manifest.method}, ${c.manifest.state}): described as parts --json, unlocked by each key as the command line unlocks it`, () => {
    const table = parts(c);
    const vols = volumes(c.vhd);
    assert.deepEqual(normalize(vols.partitions()), table, 'partitions() is parts --json');
    const p = table.partitions.find((x) => x.filesystem === 'bitlocker');
    assert.ok(p, 'a BitLocker partition');
    assert.equal(p.bitlocker.method, c.manifest.method);
    const keys = keysOf(c);
    if (p.bitlocker.unlocked) {
      // A clear key opens it without one.
      assert.ok(c.manifest.protectors.some((x) => x.kind === 'clear-key'), 'only a clear key opens a volume unasked');
      readsAsWritten(c, vols, p.index, [], 'by its clear key');
    }
    for (const [[kind, secret], flags] of keys) {
      const v = volumes(c.vhd);
      unlock(v, p.index, kind, secret);
      assert.deepEqual(normalize(v.partitions()), parts(c, flags), `${kind}: partitions() is parts --json ${flags[0]}`);
      readsAsWritten(c, v, p.index, flags, kind);
    }
    assert.ok(keys.length || p.bitlocker.unlocked, 'every case opens somehow');
    if (c.name === 'damaged') {
      const f = table.findings.filter((x) => x.code.startsWith('bitlocker-'));
      assert.ok(f.length && f.every((x) => Number.isInteger(x.offset)), `the damaged block is a finding with its offset: ${JSON.stringify(table.findings)}`);
    }
  });
}

test('a wrong password is refused (bitlocker-wrong-key), and the volume stays locked', () => {
  const c = cases.find((x) => x.name === 'cbc128');
  const vols = volumes(c.vhd);
  const p = normalize(vols.partitions()).partitions.find((x) => x.filesystem === 'bitlocker');
  assert.throws(() => unlock(vols, p.index, 'password', 'not the password'), (e) => e.code === 'bitlocker-wrong-key' && /this password does not unlock the volume/.test(e.message));
  assert.equal(normalize(vols.partitions()).partitions.find((x) => x.index === p.index).bitlocker.unlocked, null);
  assert.throws(() => vols.list(p.index, '/', false));
});

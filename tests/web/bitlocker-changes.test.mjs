// A child of a BitLocker volume in headless Chromium: once the volume is unlocked in the Files
// view, the Changes view and the report see inside it. The key stays in the page's Worker; what
// opens the volume goes from it to the diff's Worker over a channel of their own, never through
// the main thread. The Changes table equals `diff --json --password`, the saved report is byte
// for byte `report --password`, the Timeline `timeline --password`; the search box searches the
// volume's plain bytes as of the layer the Files view shows, as `search --layer K --password`
// (what the child wrote found as of the child, not as of the parent). (The three engines run the unlock itself in page-suite.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { start, cliPath, tempDir, settled, shownHits, hitFields, ROOT } from './helpers.mjs';
import { bitlockerVhds } from './bitlocker-fixtures.mjs';

const PASSWORD = 'a child of a BitLocker volume';

// The parent: an NTFS volume with one.txt, encrypted (AES-XTS 128, a password); the child adds
// added.txt, the same volume encrypted with the same keys (as tests/bitlocker.rs's diff test).
const SCRIPT = `set -euo pipefail
echo one > one.txt
echo added by the child > added.txt
truncate -s 4M plain-parent.img
mkntfs -q -F -Q -c 4096 -L BDEDIFF plain-parent.img >/dev/null 2>&1
ntfscp -q -f plain-parent.img one.txt /one.txt
cp plain-parent.img plain-child.img
ntfscp -q -f plain-child.img added.txt /added.txt
for side in parent child; do
  "$1" --in plain-$side.img --out $side.raw --method aes-xts-128 --password "$3" --seed 9 --manifest $side.json >/dev/null
done
"$2" dynamic parent.raw parent.vhd
"$2" child parent.raw parent.vhd child.raw child.vhd
rm -f ./*.raw ./*.img
`;

/** The parent and the child, made once in tests/work/bitlocker-changes/<key>. */
function fixture() {
  bitlockerVhds(); // builds the writer and vhd_from_raw
  const key = createHash('sha256').update(SCRIPT).update(readFileSync(join(ROOT, 'examples/bitlocker_volume.rs'))).digest('hex').slice(0, 16);
  const dir = join(ROOT, 'tests/work/bitlocker-changes', key);
  if (!existsSync(join(dir, 'child.vhd'))) {
    const tmp = `${dir}.building${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const ex = join(ROOT, 'target/debug/examples');
    execFileSync('bash', ['-c', SCRIPT, 'make', join(ex, 'bitlocker_volume'), join(ex, 'vhd_from_raw'), PASSWORD], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'child.vhd'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { parent: join(dir, 'parent.vhd'), child: join(dir, 'child.vhd'), dir };
}

let env;
let tmp;

before(async () => {
  tmp = tempDir();
  env = await start();
});

after(async () => {
  await env?.close();
  tmp?.remove();
});

test('a child of a BitLocker volume unlocked in the Files view: the Changes table equals diff --json --password, the report equals report --password, the Timeline timeline --password', async () => {
  const { parent, child, dir } = fixture();
  const cli = (/** @type {string[]} */ args) => execFileSync(cliPath(), args, { cwd: dir, maxBuffer: 64 << 20 });
  const want = JSON.parse(cli(['diff', 'child.vhd', '--parent', 'parent.vhd', '--json', '--password', PASSWORD]).toString('utf8'));
  const wantRows = want.partitions.flatMap((p) => p.changes.map((c) => [p.index, c.path, c.kind])).sort();
  assert.ok(wantRows.some(([, path, kind]) => path === '/added.txt' && kind === 'added'), 'the command line sees the file the child added');

  // What the main thread hears from every Worker, to show that no key comes to it.
  const p = await env.newPage();
  await p.addInitScript(() => {
    // Saved as a download (as helpers.mjs pageWith does), not through a save dialog.
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
    const heard = (/** @type {any} */ (window).heard = []);
    const Real = window.Worker;
    window.Worker = class extends Real {
      constructor(/** @type {[string | URL, WorkerOptions?]} */ ...a) {
        super(...a);
        this.addEventListener('message', (e) => heard.push(e.data));
      }
    };
  });
  await p.goto(env.url);
  await p.waitForSelector('body[data-wasm="ready"]');
  await p.setInputFiles('#file-input', [child, parent]);
  assert.equal(await settled(p), 'ready');
  // Locked, the Changes view sees nothing inside the volume, as diff without a key.
  const compare = async () => {
    await p.evaluate(() => document.getElementById('changes').scrollIntoView());
    await p.click('#changes-run');
    await p.waitForFunction(() => ['done', 'stopped', 'error'].includes(document.getElementById('changes-body').dataset.changes), null, { timeout: 120_000 });
    assert.equal(await p.evaluate(() => document.getElementById('changes-body').dataset.changes), 'done');
    return p.evaluate(() => [...document.querySelectorAll('#changes-body tbody tr[data-path]')].map((r) => [Number(r.dataset.partition), r.dataset.path, r.dataset.kind]).sort());
  };
  assert.deepEqual(await compare(), [], 'locked: nothing inside the volume is compared');

  const index = want.partitions[0].index;
  await p.evaluate(() => document.getElementById('volumes').scrollIntoView());
  const card = `#files-view li[data-partition="${index}"]`;
  await p.waitForSelector(`${card} form[data-field="unlock"]`, { timeout: 60_000 });
  await p.selectOption(`${card} [data-field="unlock-kind"]`, 'password');
  await p.fill(`${card} [data-field="unlock-secret"]`, PASSWORD);
  await p.click(`${card} [data-action="unlock"]`);
  await p.waitForFunction(() => document.querySelector('#files-view').dataset.unlock === 'done', null, { timeout: 120_000 });

  assert.deepEqual(await compare(), wantRows, 'unlocked: the Changes table equals diff --json --password');

  const [download] = await Promise.all([
    p.waitForEvent('download', { timeout: 120_000 }).catch(async (e) => {
      throw new Error(`no report: ${await p.evaluate(() => document.querySelector('#export-note')?.textContent)} ${p.errors.join('; ')}`, { cause: e });
    }),
    p.click('#export-report'),
  ]);
  const path = join(tmp.dir, 'report.html');
  await download.saveAs(path);
  const report = readFileSync(path);
  assert.ok(report.includes('/added.txt'), 'the report names the file the child added');
  assert.deepEqual(report, cli(['report', 'child.vhd', '--parent', 'parent.vhd', '--password', PASSWORD]), 'the report equals report --password');

  // The Timeline, a job of its own too: the volume's files' times, as timeline --password.
  const times = cli(['timeline', 'child.vhd', '--parent', 'parent.vhd', '--json', '--password', PASSWORD]).toString('utf8').split('\n').filter(Boolean);
  assert.ok(times.some((l) => JSON.parse(l).path === '/added.txt'), 'the command line times the file the child added');
  await p.evaluate(() => document.getElementById('timeline').scrollIntoView());
  await p.click('#timeline-run');
  await p.waitForFunction(() => document.querySelectorAll('#timeline .tl-row').length > 0, null, { timeout: 120_000 });
  const shown = await p.evaluate(() => document.querySelector('#timeline .tl-count').textContent);
  assert.match(shown, new RegExp(`^${times.length.toLocaleString('en')} times shown of `), 'unlocked: the Timeline holds the volume\'s times');
  const [body] = await Promise.all([p.waitForEvent('download', { timeout: 120_000 }), p.click('#timeline-body')]);
  await body.saveAs(join(tmp.dir, 'body.txt'));
  assert.equal(readFileSync(join(tmp.dir, 'body.txt'), 'utf8'), cli(['timeline', 'child.vhd', '--parent', 'parent.vhd', '--bodyfile', '--password', PASSWORD]).toString('utf8'));

  // The search box, as of the child and as of the parent (the volume unlocked as of the child,
  // opened in the parent's layer with the key the page's Worker holds), as search --layer K.
  const cliSearch = (/** @type {string[]} */ args) => {
    try {
      return cli(['search', 'child.vhd', '--parent', 'parent.vhd', '--json', '--password', PASSWORD, ...args]).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } catch (e) {
      if (/** @type {{ status?: number }} */ (e).status === 1) return []; // no hit
      throw e;
    }
  };
  const search = async (/** @type {string} */ word) => {
    await p.evaluate((w) => {
      const f = /** @type {HTMLFormElement} */ (document.querySelector('#search-view form'));
      /** @type {HTMLInputElement} */ (f.querySelector('input[type=search]')).value = w;
      f.requestSubmit();
    }, word);
    await p.waitForFunction(() => ['done', 'stopped', 'failed'].includes(document.getElementById('search-view').dataset.state), null, { timeout: 120_000 });
    assert.equal(await p.evaluate(() => document.getElementById('search-view').dataset.state), 'done', word);
    return shownHits(p);
  };
  const added = 'added by the child';
  const ofChild = cliSearch([added]);
  assert.ok(ofChild.length > 0 && ofChild.every((h) => h.decrypted && h.owner.what.includes('/added.txt')), JSON.stringify(ofChild));
  assert.deepEqual(await search(added), ofChild.map(hitFields), 'as of the child: search --password');
  await p.selectOption('#files-layer', '1');
  assert.deepEqual(cliSearch(['--layer', '1', added]), [], 'the command line: not on the disk as of the parent');
  assert.deepEqual(await search(added), [], 'as of the parent: not found');
  assert.match(await p.evaluate(() => document.querySelector('#search-view [role=status]').textContent), /as of parent\.vhd/);
  const mirror = cliSearch(['--layer', '1', '$MFTMirr']);
  assert.ok(mirror.length > 0 && mirror.every((h) => h.decrypted), 'as of the parent, the volume is read in its plain bytes');
  assert.deepEqual(await search('$MFTMirr'), mirror.map(hitFields), 'as of the parent: search --layer 1 --password');

  const posted = await p.evaluate(() => JSON.stringify(/** @type {any} */ (window).heard, (k, v) => (ArrayBuffer.isView(v) ? [...v] : v)));
  assert.ok(!posted.includes(PASSWORD), 'the password never came to the main thread');
  const vmk = JSON.parse(readFileSync(join(dir, 'child.json'), 'utf8')).vmk;
  assert.ok(!posted.includes([...Buffer.from(vmk, 'hex')].join(',')) && !posted.includes(vmk), 'nor the volume master key the diff and the report were given');
  assert.deepEqual(p.errors, []);
  await p.close();
});

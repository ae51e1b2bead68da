// "Ready for Azure?" in the summary (issue 23), in real headless Chromium: the verdict and the
// rules for disks qemu-img makes (a fixed VHD of a whole MiB, which Azure takes; a dynamic one and
// a fixed one rounded to a CHS geometry, which it does not), each the same as
// `vhd-viewer check --for azure --json` says; failing rules first, marked in words, folded away
// when every rule passes; readable at 400 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { start, cliPath, tempDir, pageWith } from './helpers.mjs';

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

/** A VHD made by qemu-img in the temp folder. */
function qemu(name, options, size) {
  const path = join(tmp.dir, name);
  execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', '-o', options, path, size]);
  return path;
}

/** `vhd-viewer check FILE --for azure --json`. */
function cliFit(path) {
  const r = spawnSync(cliPath(), ['check', path, '--for', 'azure', '--json'], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return JSON.parse(r.stdout);
}

/** What the page's "Ready for Azure?" part shows. */
async function shown(page) {
  return page.$eval('#summary-body section.fit', (s) => ({
    fits: s.dataset.fits,
    verdict: s.querySelector('p.fit-verdict')?.textContent,
    open: /** @type {HTMLDetailsElement} */ (s.querySelector('details')).open,
    rules: [...s.querySelectorAll('ul.fit-rules li')].map((li) => ({ code: li.dataset.code, pass: li.dataset.pass, text: li.textContent })),
    hint: s.querySelector('p.hint')?.textContent ?? null,
  }));
}

test('a fixed VHD of a whole MiB: ready for Azure, the rules folded away', async () => {
  const file = qemu('whole.vhd', 'subformat=fixed,force_size=on', '64M');
  const cli = cliFit(file);
  assert.equal(cli.fits, true);
  const page = await pageWith(env, [file]);
  const s = await shown(page);
  assert.equal(s.fits, 'true');
  assert.equal(s.verdict, 'Ready for Azure: yes');
  assert.equal(s.verdict, cli.verdict);
  assert.equal(s.open, false, 'every rule passes: the list is folded');
  assert.equal(s.hint, null);
  assert.equal(s.rules.length, 11);
  assert.ok(s.rules.every((r) => r.pass === 'true' && r.text.startsWith('✓ PASS')), JSON.stringify(s.rules));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a dynamic VHD and a fixed one rounded to CHS: not ready, the failing rules first with what was found', async () => {
  for (const [file, failing] of [
    [qemu('dynamic.vhd', 'subformat=dynamic,force_size=on', '64M'), ['azure-fixed', 'azure-file-length']],
    [qemu('chs.vhd', 'subformat=fixed', '100M'), ['azure-whole-mib']],
  ]) {
    const cli = cliFit(file);
    assert.deepEqual(cli.rules.filter((r) => !r.pass).map((r) => r.code), failing);
    const page = await pageWith(env, [file]);
    const s = await shown(page);
    assert.equal(s.fits, 'false');
    assert.equal(s.verdict, cli.verdict);
    assert.match(s.verdict, new RegExp(`^Not ready for Azure: ${failing.length} of 11 rules fail`));
    assert.equal(s.open, true, 'a rule fails: the list is open');
    assert.match(s.hint, /Save an Azure-ready copy…/);
    // The failing rules first, in the command line's order, each marked in words and saying
    // what was found, what is expected and where.
    assert.deepEqual(s.rules.slice(0, failing.length).map((r) => r.code), failing);
    for (const r of s.rules.slice(0, failing.length)) {
      const c = cli.rules.find((x) => x.code === r.code);
      assert.ok(r.text.startsWith('✗ FAIL'), r.text);
      assert.ok(r.text.includes(`Found ${c.found}; expected ${c.expected}.`), r.text);
      assert.ok(r.text.includes(c.field), r.text);
    }
    assert.ok(s.rules.slice(failing.length).every((r) => r.pass === 'true'));
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('readable at 400 px: nothing wider than the page', async () => {
  const file = qemu('narrow.vhd', 'subformat=dynamic', '64M');
  const page = await env.newPage({ viewport: { width: 400, height: 800 } });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', [file]);
  await page.waitForSelector('#summary-body section.fit li');
  const wide = await page.$$eval('#summary-body section.fit, #summary-body section.fit *', (els) =>
    els.filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(wide, []);
  await page.close();
});

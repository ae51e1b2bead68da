// The accessibility audit shared by the tests: axe-core (npm devDependency) run in the page at
// WCAG 2.1 AA. The page's Content-Security-Policy allows scripts of its own origin only, so the
// site served for these tests is www/ with axe.min.js beside it (symbolic links, nothing copied),
// and the audit loads it with a <script> of that origin: the same in every engine.
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, WWW } from './helpers.mjs';

/** The rules' tags of WCAG 2.1 levels A and AA. */
export const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Serves www/ with axe.min.js at its root. Returns { url, close() }. */
export async function siteWithAxe(options = {}) {
  const root = mkdtempSync(join(tmpdir(), 'vhd-axe-site-'));
  for (const n of readdirSync(WWW)) symlinkSync(join(WWW, n), join(root, n));
  symlinkSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), join(root, 'axe.min.js'));
  const site = await serve({ ...options, root, port: 0 });
  return {
    url: site.url,
    close: () => new Promise((r) => site.server.close(r)).then(() => rmSync(root, { recursive: true, force: true })),
  };
}

/**
 * Run in the page (through `page.evaluate(auditPage, tags)`): loads axe once, audits the whole
 * document (open shadow roots included) and returns each violation as { id, impact, help, nodes }
 * with the first few elements at fault and what is wrong with them.
 * @param {string[]} tags
 */
export async function auditPage(tags) {
  if (!window.axe) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = new URL('axe.min.js', location.href).href;
      s.onload = resolve;
      s.onerror = () => reject(new Error('axe.min.js did not load'));
      document.head.append(s);
    });
  }
  const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return r.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' >> ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
  }));
}

/** Audits `page` (an engines.mjs page) at WCAG 2.1 AA; returns its violations labelled `where`. */
export async function audit(page, where) {
  const found = await page.evaluate(auditPage, WCAG21AA);
  return found.map((v) => ({ where, ...v }));
}

// The views' styles (file list, chain, field tables, legends and maps, hex dump, findings), shared
// by the page (adopted into the document by app.js) and the <vhd-viewer> element (adopted into
// its shadow root). They use the theme's custom properties (--bg, --fg, --muted, --border,
// --accent, --good, --bad, --warn, --mark, --missing, --mono, --layer-0..7), which the page sets
// on :root and the element on :host.

export const VIEWS_CSS = `
.file-list { margin: 0; padding-left: 1.2rem; }
.chooser { margin: 0.5rem 0; display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
.chooser button[aria-pressed='true'] { border-color: var(--accent); font-weight: 600; }

.chain { list-style: none; padding: 0; margin: 0.5rem 0; display: flex; flex-direction: column; align-items: flex-start; }
.chain .disk {
  display: flex; flex-direction: column; gap: 0.1rem; text-align: left;
  border: 2px solid var(--c, var(--border)); border-left-width: 10px; border-radius: 8px;
  padding: 0.5rem 0.8rem; background: var(--bg); min-width: min(30rem, 100%); max-width: 100%;
  overflow-wrap: anywhere;
}
.chain .disk.missing { border-style: dashed; border-color: var(--missing); }
.layer-no { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
.chain .arrow { padding: 0.2rem 0 0.2rem 1.5rem; display: flex; gap: 0.6rem; align-items: center; overflow-wrap: anywhere; }
.chain .arrow .glyph { font-size: 1.5rem; line-height: 1; }
.arrow.good { color: var(--good); }
.arrow.bad { color: var(--bad); }

.verdict { margin: 0.3rem 0; }
.verdict.good::before { content: '✓ '; color: var(--good); font-weight: 700; }
.verdict.bad::before { content: '⚠ '; color: var(--bad); font-weight: 700; }
.bad { color: var(--bad); }
.flag { color: var(--bad); font-size: 0.9em; }

/* The first screen: the health verdict and the System card of each volume with a system. */
.health .verdict { margin: 0.2rem 0; }
.health button.link { font-family: inherit; font-size: inherit; }
.health .count.error:not([data-count='0']) { color: var(--bad); font-weight: 600; }
.systems { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 34rem), 1fr)); gap: 0.6rem 1rem; margin-top: 0.4rem; }
.systems > p { grid-column: 1 / -1; margin: 0.2rem 0; }
.system { border: 1px solid var(--border); border-left: 6px solid var(--accent); border-radius: 8px; padding: 0.5rem 0.8rem; background: var(--bg); min-width: 0; }
.system h3 { margin: 0; font-size: 1.15rem; overflow-wrap: anywhere; }
.system .where { color: var(--muted); font-weight: normal; font-size: 0.75em; }
.system .columns { columns: 2 24rem; column-gap: 1.5rem; }
.system .columns > * { break-inside: avoid; }
.system .columns > :first-child { margin-top: 0; }
.system dl.facts { margin: 0.2rem 0; }
.system dl.facts .row { display: grid; grid-template-columns: 9rem minmax(0, 1fr); gap: 0.4rem; }
.system dt { color: var(--muted); }
.system dd { margin: 0; overflow-wrap: anywhere; }
.system .source-link { font-size: 0.85em; text-decoration: none; padding: 0 0.15em; }
.health { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.sys-table { border-collapse: collapse; margin: 0.3rem 0; font-size: 0.92em; width: 100%; }
.sys-table caption { text-align: left; font-weight: 600; }
.sys-table th, .sys-table td { text-align: left; padding: 0.05rem 0.8rem 0.05rem 0; border-bottom: 1px solid var(--border); overflow-wrap: anywhere; vertical-align: top; font-weight: normal; }
.sys-table thead th { color: var(--muted); }
/* A name keeps its letters together; a SID, a GUID or a path breaks where it must. */
.sys-table tbody th { overflow-wrap: break-word; }
.sys-table code { word-break: break-all; }
.sys-table .nowrap { white-space: nowrap; }
.system details.programs > summary { cursor: pointer; font-weight: 600; margin: 0.2rem 0; }
.system .scroll { max-height: 22rem; overflow: auto; }
.system ul.notes { padding-left: 1.2rem; margin: 0.3rem 0; }
.system ul.notes .warning, .system ul.notes .error { color: var(--bad); }
details.fold > summary { cursor: pointer; margin: 0.3rem 0; }
.system-changes ul { margin: 0.2rem 0 0.6rem; padding-left: 1.2rem; }
.system-changes li { overflow-wrap: anywhere; }

dl.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); gap: 0.2rem 1.5rem; margin: 0; }
dl.summary .row { display: grid; grid-template-columns: 12rem 1fr; gap: 0.5rem; border-bottom: 1px solid var(--border); padding: 0.2rem 0; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
ul.fit-rules { list-style: none; padding: 0; margin: 0.4rem 0; }
ul.fit-rules li { padding: 0.3rem 0; border-bottom: 1px solid var(--border); overflow-wrap: anywhere; }
ul.fit-rules .mark.good { color: var(--good); }
ul.fit-rules .mark.bad { color: var(--bad); }
ul.fit-rules .where { color: var(--muted); font-size: 0.9em; }
dl.summary .row.bad dd { color: var(--bad); }
.explain { display: none; color: var(--muted); font-size: 0.85em; font-weight: normal; }
.show-explain .explain { display: block; }

.table-wrap, .fields { max-width: 100%; }
table.fields { border-collapse: collapse; width: 100%; margin: 0.3rem 0 0.8rem; display: block; overflow-x: auto; }
table.fields caption { text-align: left; color: var(--muted); font-size: 0.9em; padding: 0.2rem 0; }
table.fields th, table.fields td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--border); }
table.fields thead th { font-size: 0.85em; color: var(--muted); }
table.fields tbody th { font-weight: 600; min-width: 9rem; }
table.fields td.raw { font-size: 0.82em; max-width: 22rem; overflow-wrap: anywhere; word-break: break-all; color: var(--muted); }
table.fields tr.bad td, table.fields tr.bad th { background: color-mix(in srgb, var(--bad) 10%, transparent); }
table.fields tr.differs td, table.fields tr.differs th { background: color-mix(in srgb, var(--warn) 14%, transparent); }
table.fields tr.here td, table.fields tr.here th { background: var(--mark); }
.rel { color: var(--muted); font-size: 0.85em; }
.locator { border-top: 1px solid var(--border); }
.locator .path { overflow-wrap: anywhere; }

.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin: 0.3rem 0; font-size: 0.9em; }
.legend p { margin: 0; }
.key { display: inline-flex; align-items: center; gap: 0.35em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; border: 1px solid var(--border); --pat: color-mix(in srgb, var(--bg) 60%, transparent); }
.swatch.pale { opacity: 0.45; }
/* The maps' patterns (cellmap.js's patternTile, src/draw/mod.rs's Svg::fill) on the legends' swatches and the Changes bar. */
.swatch.p1, .stack .seg.p1 { background-image: repeating-linear-gradient(-45deg, transparent 0 3px, var(--pat) 3px 4.24px); }
.swatch.p2, .stack .seg.p2 { background-image: radial-gradient(circle, var(--pat) 1.3px, transparent 1.6px); background-size: 6px 6px; }
.swatch.p3, .stack .seg.p3 { background-image: repeating-linear-gradient(0deg, transparent 0 2.25px, var(--pat) 2.25px 3.75px, transparent 3.75px 6px); }
.swatch.p4, .stack .seg.p4 { background-image: repeating-linear-gradient(45deg, transparent 0 3px, var(--pat) 3px 4.24px); }
.swatch.p5, .stack .seg.p5 { background-image: repeating-linear-gradient(0deg, transparent 0 2.5px, var(--pat) 2.5px 3.5px, transparent 3.5px 6px), repeating-linear-gradient(90deg, transparent 0 2.5px, var(--pat) 2.5px 3.5px, transparent 3.5px 6px); }
.swatch.p6, .stack .seg.p6 { background-image: repeating-linear-gradient(90deg, transparent 0 2.25px, var(--pat) 2.25px 3.75px, transparent 3.75px 6px); }
.swatch.p7, .stack .seg.p7 { background-image: conic-gradient(var(--pat) 25%, transparent 0 50%, var(--pat) 0 75%, transparent 0); background-size: 6px 6px; }
.mapbox { width: 100%; overflow: hidden; background: var(--bg); border: 1px solid var(--border); border-radius: 4px; padding: 2px; }
.mapbox canvas { display: block; image-rendering: pixelated; cursor: crosshair; }
.hover { min-height: 3em; margin: 0.3rem 0 0; font-size: 0.92em; overflow-wrap: anywhere; }
.empty { color: var(--muted); }

.source, .owner { overflow-wrap: anywhere; }
.dump { font-family: var(--mono); font-size: 0.85em; background: var(--bg); border: 1px solid var(--border); border-radius: 4px; padding: 0.4rem; overflow-x: auto; white-space: pre; }
.dump .row { display: flex; gap: 1rem; }
.dump .off { color: var(--muted); }
.dump .hexes span { margin-right: 0.45em; }
.dump .hexes span:nth-child(8) { margin-right: 1em; }
.dump .mark { background: var(--mark); outline: 1px solid var(--warn); }
.dump .gone { color: var(--missing); }
.dump .ascii { color: var(--muted); }

ol.findings { list-style: none; padding: 0; margin: 0.3rem 0; }
.finding { display: grid; grid-template-columns: 6.5rem 1fr; gap: 0.1rem 0.8rem; padding: 0.4rem 0; border-bottom: 1px solid var(--border); }
.finding .sev { font-weight: 700; }
.finding.error .sev { color: var(--bad); }
.finding.warning .sev { color: var(--warn); }
.finding.info .sev { color: var(--accent); }
.finding .where { grid-column: 2; font-size: 0.88em; color: var(--muted); }

/* A control never wider than the screen (a chain's long file names in a select). */
.controls label { max-width: 100%; }
.controls select { max-width: 100%; min-width: 0; }

/* The Changes view: where the held bytes went, and the changed files. */
.stack { --pat: color-mix(in srgb, var(--bg) 60%, transparent); display: flex; height: 1.6rem; border-radius: 4px; overflow: hidden; border: 1px solid var(--border); margin: 0.5rem 0 0.3rem; }
.stack .seg { min-width: 2px; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin: 0.2rem 0 0.6rem; }
ul.legend .swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; margin-right: 0.35em; vertical-align: -0.1em; }
table.changes { border-collapse: collapse; width: 100%; }
table.changes th, table.changes td { text-align: left; padding: 0.2rem 0.5rem; border-bottom: 1px solid var(--border); vertical-align: top; overflow-wrap: anywhere; }
table.changes th button { all: unset; cursor: pointer; font-weight: 600; }
table.changes th button:focus-visible { outline: 2px solid var(--accent); }
table.changes td:nth-child(n+3) { white-space: nowrap; font-variant-numeric: tabular-nums; }
.search-form fieldset { border: none; margin: 0; padding: 0; display: inline-flex; flex-wrap: wrap; gap: 0.3rem 1rem; }
.search-form input[type='search'] { min-width: min(16rem, 100%); }
.search-progress progress { width: min(20rem, 100%); }
table.search-hits td { overflow-wrap: anywhere; }

/* The Timeline (timeline.js): the histogram, and a virtual list of fixed-height rows. */
.tl-histogram { display: block; width: 100%; height: 120px; cursor: crosshair; }
.tl-list { position: relative; height: 24rem; max-height: 70vh; overflow: auto; border: 1px solid var(--border, #ccc); }
.tl-spacer { position: relative; }
.tl-row { position: absolute; left: 0; right: 0; height: 24px; line-height: 24px; display: flex; gap: 0.75em; padding: 0 0.5em; white-space: nowrap; overflow: hidden; cursor: pointer; }
.tl-row:hover, .tl-cursor { background: var(--highlight, rgba(80, 120, 200, 0.15)); }
.tl-time { font-variant-numeric: tabular-nums; }
.tl-path { flex: 1; overflow: hidden; text-overflow: ellipsis; }
@media (max-width: 500px) { .tl-kind, .tl-size { display: none; } }
table.changes button.link { all: unset; cursor: pointer; color: var(--accent); text-decoration: underline; overflow-wrap: anywhere; }
table.changes button.link:focus-visible { outline: 2px solid var(--accent); }
table.changes tr.noise td { color: var(--muted); }

/* The Save view: a row per copy, its button and what it does; why a choice is off. */
.save-row { border-top: 1px solid var(--border); padding: 0.5rem 0; }
.save-row > p { margin: 0.3rem 0; }
.save-row .why { color: var(--muted); font-style: italic; }
.save-relink-fields { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.35rem; max-width: 44rem; }
.save-relink-fields label { display: flex; flex-wrap: wrap; gap: 0.3rem; align-items: baseline; }
.save-relink-fields input[type="text"] { flex: 1 1 14rem; min-width: 0; max-width: 100%; font-family: var(--mono, monospace); }
.save-relink-fields .warn { color: var(--warn); }
.resize-size input { font-family: var(--mono, monospace); max-width: 100%; min-width: 0; }
.save-row > p.resize-words-row { min-height: 1.3em; }
.resize-plan p { margin: 0.3rem 0; }
.resize-plan .note { color: var(--muted); }
table.repair-actions, table.trim-volumes { border-collapse: collapse; width: 100%; margin-top: 0.5rem; }
table.repair-actions th, table.repair-actions td, table.trim-volumes th, table.trim-volumes td { text-align: left; padding: 0.2rem 0.5rem; border-bottom: 1px solid var(--border); vertical-align: top; overflow-wrap: anywhere; }
table.repair-actions td.num, table.trim-volumes td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.trim-volumes tr[data-trimmed="false"] td:last-child { color: var(--muted); }
table.repair-actions tr[data-kind="lost"] td:first-child { color: var(--bad); font-weight: 600; }
table.repair-actions tr[data-kind="not_fixed"] td:first-child { color: var(--warn); font-weight: 600; }

@media (max-width: 640px) {
  table.changes thead { display: none; }
  table.changes, table.changes tbody, table.changes tr, table.changes td { display: block; }
  table.changes tr { border-bottom: 1px solid var(--border); padding: 0.3rem 0; }
  table.changes td { border: 0; padding: 0 0.2rem; white-space: normal !important; }
  /* Stacked, each number says what it is. */
  table.changes td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
  table.changes td[data-label]:empty { display: none; }
  table.repair-actions thead, table.trim-volumes thead { display: none; }
  table.repair-actions, table.repair-actions tbody, table.repair-actions tr, table.repair-actions td,
  table.trim-volumes, table.trim-volumes tbody, table.trim-volumes tr, table.trim-volumes td { display: block; }
  table.repair-actions tr, table.trim-volumes tr { border-bottom: 1px solid var(--border); padding: 0.3rem 0; }
  table.repair-actions td, table.trim-volumes td { border: 0; padding: 0 0.2rem; }
  /* The field tables reflow: each field a small card, its name first, offset and value under it,
     the raw bytes folded to two lines. */
  table.fields { display: block; overflow: visible; }
  table.fields thead { display: none; }
  table.fields tbody { display: block; }
  table.fields tr { display: grid; grid-template-columns: auto minmax(0, 1fr); column-gap: 0.6rem; border-bottom: 1px solid var(--border); padding: 0.3rem 0; }
  table.fields th, table.fields td { border-bottom: 0; padding: 0 0.2rem; min-width: 0; overflow-wrap: anywhere; }
  table.fields tbody th { grid-column: 1 / -1; order: -1; min-width: 0; }
  table.fields td.raw { grid-column: 1 / -1; order: 1; max-width: none; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden; }
  dl.summary .row { grid-template-columns: 1fr; gap: 0; }
  .system dl.facts .row { grid-template-columns: 7rem minmax(0, 1fr); }
  .finding { grid-template-columns: 1fr; }
  .finding .where { grid-column: 1; }
  .dump { font-size: 0.7em; }
  .dump .row { gap: 0.5rem; }
  .dump .hexes span { margin-right: 0.25em; }
}
`;

/** The views' styles as one constructed stylesheet, shared by every document and shadow root. */
/** @type {CSSStyleSheet | null} */
let sheet = null;
export function viewsSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(VIEWS_CSS);
  }
  return sheet;
}

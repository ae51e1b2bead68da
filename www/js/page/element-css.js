// The <vhd-viewer> element's own styles (in its shadow root, with the views' shared styles). Theme
// it from outside with the --vhd-* custom properties; the defaults follow the reader's light or
// dark scheme.
export const ELEMENT_CSS = `
:host {
  display: block;
  contain: content;
  --bg: var(--vhd-bg, #ffffff);
  --fg: var(--vhd-fg, #1b1f24);
  --muted: var(--vhd-muted, #57606a);
  --panel: var(--vhd-panel, #f6f8fa);
  --border: var(--vhd-border, #d0d7de);
  --accent: var(--vhd-accent, #0b5cad);
  --accent-fg: var(--vhd-accent-fg, #ffffff);
  --good: var(--vhd-good, #1a7f37);
  --bad: var(--vhd-bad, #c4112f);
  --warn: var(--vhd-warn, #9a6700);
  --mark: var(--vhd-mark, #ffe08a);
  --unalloc: var(--vhd-unallocated, #e3e7eb);
  --ooo: var(--vhd-out-of-order, #e8912d);
  --zero: var(--vhd-zero, #d5dbe1);
  --mixed: var(--vhd-mixed, #8a3ffc);
  --missing: var(--vhd-missing, #d62839);
  --cursor: var(--vhd-cursor, #ff00aa);
  --layer-0: var(--vhd-layer-0, #1f6feb);
  --layer-1: var(--vhd-layer-1, #2da44e);
  --layer-2: var(--vhd-layer-2, #bf8700);
  --layer-3: var(--vhd-layer-3, #8250df);
  --layer-4: var(--vhd-layer-4, #1b9aaa);
  --layer-5: var(--vhd-layer-5, #cf222e);
  --layer-6: var(--vhd-layer-6, #6e7781);
  --layer-7: var(--vhd-layer-7, #bc4c00);
  --mono: var(--vhd-mono, ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace);
  color-scheme: light dark;
  font: var(--vhd-font, 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
  color: var(--fg);
}
@media (prefers-color-scheme: dark) {
  :host {
    --bg: var(--vhd-bg, #0d1117);
    --fg: var(--vhd-fg, #e6edf3);
    --muted: var(--vhd-muted, #9198a1);
    --panel: var(--vhd-panel, #161b22);
    --border: var(--vhd-border, #30363d);
    --accent: var(--vhd-accent, #4493f8);
    --accent-fg: var(--vhd-accent-fg, #0d1117);
    --good: var(--vhd-good, #3fb950);
    --bad: var(--vhd-bad, #ff7b72);
    --warn: var(--vhd-warn, #d29922);
    --mark: var(--vhd-mark, #7a5c00);
    --unalloc: var(--vhd-unallocated, #262c36);
    --ooo: var(--vhd-out-of-order, #db7b1b);
    --zero: var(--vhd-zero, #30363d);
    --mixed: var(--vhd-mixed, #a371f7);
    --missing: var(--vhd-missing, #f85149);
    --cursor: var(--vhd-cursor, #ff7bd5);
    --layer-0: var(--vhd-layer-0, #4493f8);
    --layer-1: var(--vhd-layer-1, #3fb950);
    --layer-2: var(--vhd-layer-2, #d29922);
    --layer-3: var(--vhd-layer-3, #a371f7);
    --layer-4: var(--vhd-layer-4, #39c5cf);
    --layer-5: var(--vhd-layer-5, #ff7b72);
    --layer-6: var(--vhd-layer-6, #9198a1);
    --layer-7: var(--vhd-layer-7, #f0883e);
  }
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.frame { background: var(--panel); border: 1px solid var(--border); border-radius: var(--vhd-radius, 8px); padding: 0.6rem 0.8rem 0.8rem; min-width: 0; }
.frame.dragging { outline: 3px dashed var(--accent); outline-offset: -3px; }
.bar { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.2rem 0.8rem; }
.bar .title { font-weight: 700; overflow-wrap: anywhere; }
.bar .sub { color: var(--muted); font-size: 0.9em; }
.bar .open { margin-left: auto; font-size: 0.85em; }
code, .mono { font-family: var(--mono); font-size: 0.92em; }
.small { font-size: 0.85em; color: var(--muted); }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h3 { margin: 0.8rem 0 0.4rem; font-size: 1.02rem; }
h4 { margin: 0.7rem 0 0.3rem; font-size: 0.98rem; }
.lead { color: var(--muted); margin: 0 0 0.5rem; }
button, select, input[type='text'] { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 0.25em 0.7em; }
button { cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.55; cursor: not-allowed; }
button.primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); font-weight: 600; }
button.link { background: none; border: none; padding: 0; color: var(--accent); text-decoration: underline; font-family: var(--mono); font-size: 0.92em; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 1rem; margin: 0.4rem 0; }
.controls label { display: inline-flex; align-items: center; gap: 0.4em; }
.drop { border: 2px dashed var(--border); border-radius: 8px; padding: 1rem; text-align: center; margin-top: 0.5rem; }
.drop p { margin: 0.3rem 0; }
.messages:empty { display: none; }
.message { margin: 0.5rem 0 0; padding: 0.4rem 0.6rem; border-radius: 6px; border-left: 4px solid var(--accent); background: var(--bg); overflow-wrap: anywhere; }
.message.error { border-color: var(--bad); }
.message.warning { border-color: var(--warn); }
.tabs { display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0.6rem 0 0; border-bottom: 1px solid var(--border); }
.tabs button { border-radius: 6px 6px 0 0; border-bottom: none; background: transparent; font-size: 0.92em; }
.tabs button[aria-selected='true'] { background: var(--bg); border-color: var(--border); font-weight: 600; position: relative; top: 1px; }
.panel { background: var(--bg); border: 1px solid var(--border); border-top: none; border-radius: 0 0 6px 6px; padding: 0.5rem 0.8rem 0.8rem; min-width: 0; }
.panel .mapbox, .panel .dump { background: var(--panel); }
progress { flex: 1 1 8rem; }
`;

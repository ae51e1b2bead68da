// The example article (embed.html): its button gives the first viewer a sample disk as a File, the
// way a reader's own file arrives by drop or picker.
// Both elements are in embed.html, and define.js (loaded first) has made #local a <vhd-viewer>.
/** @type {HTMLButtonElement} */ (document.getElementById('use-sample')).addEventListener('click', async (e) => {
  const button = /** @type {HTMLButtonElement} */ (e.currentTarget);
  button.disabled = true;
  try {
    const r = await fetch('samples/dynamic.vhd');
    if (!r.ok) throw new Error(`the sample could not be fetched (HTTP ${r.status})`);
    const file = new File([await r.blob()], 'dynamic.vhd');
    await /** @type {import('./element.js').VhdViewerElement} */ (document.getElementById('local')).open([file]);
  } catch (err) {
    button.after(` ${/** @type {Error} */ (err).message}`);
  } finally {
    button.disabled = false;
  }
});

// The example article (embed.html): its button gives the first viewer a sample disk as a File, the
// way a reader's own file arrives by drop or picker.
document.getElementById('use-sample').addEventListener('click', async (e) => {
  const button = e.currentTarget;
  button.disabled = true;
  try {
    const r = await fetch('samples/dynamic.vhd');
    if (!r.ok) throw new Error(`the sample could not be fetched (HTTP ${r.status})`);
    const file = new File([await r.blob()], 'dynamic.vhd');
    await document.getElementById('local').open([file]);
  } catch (err) {
    button.after(` ${err.message}`);
  } finally {
    button.disabled = false;
  }
});

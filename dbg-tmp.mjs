import { start } from './tests/web/helpers.mjs';
const env = await start();
const page = await env.newPage();
await page.goto(env.url);
await page.waitForSelector('body[data-wasm="ready"]');
await page.setInputFiles('#file-input', ['www/samples/huge-2040g.vhd']);
await page.waitForFunction(() => document.body.dataset.state === 'ready');
await page.locator('#bat-canvas').scrollIntoViewIfNeeded();
const box = await page.locator('#bat-canvas').boundingBox();
const info = () => page.evaluate(() => { const c = document.querySelector('#bat-canvas'); return [c.width, c.height, c.getBoundingClientRect().width, c.getBoundingClientRect().height]; });
console.log(box, await info());
for (const [dx, dy] of [[0.5, 0.5], [3, 3], [10, 10], [100, 50]]) {
  await page.mouse.move(box.x + dx, box.y + dy);
  console.log(dx, dy, (await page.textContent('#bat-hover')).slice(0, 60));
}
await env.close();

/**
 * `npm run demo`: the example app synthesized, its monitors' functions run as synthesized over a simulated day against
 * loopback servers, what an operator would see printed tick by tick, and the dashboard drawn to demo-out/dashboard.html.
 * `DEMO_OUT=dir` writes elsewhere; `DEMO_SCREENSHOT=file.png` also screenshots the page with headless Chromium (the
 * README's picture: `DEMO_SCREENSHOT=docs/images/demo-dashboard.png npm run demo`).
 */
import * as path from 'path';
import { runDemo } from './demo/run';
import { screenshot } from './demo/chromium';

async function main(): Promise<void> {
  const outDir = path.resolve(process.env.DEMO_OUT ?? 'demo-out');
  const { html } = await runDemo({ outDir, print: (line) => console.log(line) });
  const png = process.env.DEMO_SCREENSHOT;
  if (png) {
    screenshot(html, path.resolve(png));
    console.log(`Wrote ${png}`);
  }
  console.log(`Open file://${html}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** Headless Chromium (Debian's `chromium` package) on the demo's static page: its DOM, and a screenshot. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { pathToFileURL } from 'url';
import { PAGE_WIDTH } from './page';

/** The screenshot's window: the page's width, and the first dashboard with its alarm timeline. */
export const SCREENSHOT_SIZE = { width: PAGE_WIDTH, height: 1040 };

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

/** The Chromium executable: `CHROMIUM` when set, else the first of chromium, chromium-browser, google-chrome on PATH. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM) {
    if (!fs.existsSync(process.env.CHROMIUM)) throw new Error(`no Chromium at ${process.env.CHROMIUM} (CHROMIUM)`);
    return process.env.CHROMIUM;
  }
  for (const name of CANDIDATES) {
    for (const dir of (process.env.PATH ?? '').split(':')) {
      const file = `${dir}/${name}`;
      if (dir && fs.existsSync(file)) return file;
    }
  }
  throw new Error(
    `no Chromium found (looked for ${CANDIDATES.join(', ')} on PATH, or CHROMIUM): install Debian's package, ` +
      '`apt-get install -y chromium`, as .ci/run does',
  );
}

function run(args: string[]): string {
  return execFileSync(chromiumPath(), ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

/** The page's DOM as Chromium built it. */
export function dumpDom(html: string): string {
  return run(['--dump-dom', pathToFileURL(html).href]);
}

/** Screenshots the page's top, `SCREENSHOT_SIZE`, to `png`. */
export function screenshot(html: string, png: string): void {
  fs.rmSync(png, { force: true });
  run([`--screenshot=${png}`, `--window-size=${SCREENSHOT_SIZE.width},${SCREENSHOT_SIZE.height}`, pathToFileURL(html).href]);
  if (!fs.existsSync(png)) throw new Error(`Chromium wrote no screenshot to ${png}`);
}

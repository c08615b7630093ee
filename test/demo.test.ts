/**
 * `npm run demo`'s page, as headless Chromium draws it: the demo's day run (scripts/demo/run.ts), its page opened in
 * Debian's `chromium`, the DOM checked against the example app's own dashboard (each widget of `monitor.widgets()`,
 * at its place) and the day (a series per metric with data, JobFailed paging), and the screenshot decoded and checked
 * for what it draws. Without Chromium the suite fails, naming the package to install.
 *
 * The day stops at noon here (720 ticks of each monitor, about half the demo's time): the pool's and the fleet's
 * failures page before, and the pool's job awaiting start warns at 11:41. `npm run demo` runs the whole day.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { ExampleStack, ExampleStackProps } from '../bin/example-stack';
import { SCREENSHOT_SIZE, chromiumPath, dumpDom, screenshot } from '../scripts/demo/chromium';
import { FIRST_DASHBOARD_TOP, widgetBox } from '../scripts/demo/page';
import { DemoResult, runDemo } from '../scripts/demo/run';
import { BUNDLE } from './support/loopback';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const PAGE_MARGIN = 16;

let outDir: string;
let demo: DemoResult;
let dom: string;

beforeAll(async () => {
  // First, so that a machine without Chromium fails at once, saying what to install.
  chromiumPath();
  if (!fs.existsSync(BUNDLE)) throw new Error(`no bundle at ${BUNDLE}: run "npm run build" first`);
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-test-'));
  demo = await runDemo({ outDir, until: '12:00' });
  dom = dumpDom(demo.html);
}, 180_000);

afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

/** The dashboard of `monitor.widgets()` for the example app, as CloudFormation gets it: its widgets in order. */
function exampleDashboard(props: ExampleStackProps): { type: string; title?: string; x: number; y: number; width: number; height: number }[] {
  const stack = new ExampleStack(new App({ builtinCloudFormationValidation: false }), 'Expected', { ...props, env: ENV });
  new cloudwatch.Dashboard(stack, 'Dashboard', { widgets: [stack.monitor.widgets()] });
  const [dashboard] = Object.values<any>(Template.fromStack(stack).toJSON().Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  // The body's references sit inside JSON strings: a placeholder keeps it JSON.
  const body = dashboard.Properties.DashboardBody['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'REF')).join('');
  return JSON.parse(body).widgets.map((w: any) => ({ type: w.type, title: w.properties.title, x: w.x, y: w.y, width: w.width, height: w.height }));
}

/** The HTML of one monitor's section of the page. */
function sectionOf(key: 'pool' | 'fleet'): string {
  const start = dom.indexOf(`<section class="monitor" id="${key}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return dom.slice(start, dom.indexOf('</section>', start));
}

/** The widgets drawn in a section: type, title and grid place, in order. */
function drawnWidgets(section: string): { type: string; title: string; grid: string }[] {
  return [...section.matchAll(/<div class="widget [^"]*" data-type="([^"]*)" data-title="([^"]*)" data-grid="([^"]*)"/g)].map(([, type, title, grid]) => ({
    type,
    title: title.replace(/&amp;/g, '&'),
    grid,
  }));
}

/** A widget's HTML, from its opening tag to the next widget's. */
function widgetHtml(section: string, title: string): string {
  const start = section.indexOf(`data-title="${title}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = section.indexOf('<div class="widget ', start);
  return section.slice(start, next === -1 ? undefined : next);
}

/** The series drawn in a graph: label, datapoints, peak, and whether a line, area or dot is drawn. */
function seriesOf(widget: string): Map<string, { points: number; peak: number; drawn: boolean }> {
  return new Map(
    [...widget.matchAll(/<g class="series" data-series="([^"]*)" data-points="(\d+)" data-peak="([\d.]+)">(.*?)<\/g>/g)].map(([, label, points, peak, shapes]) => [
      label,
      { points: Number(points), peak: Number(peak), drawn: /<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+|<circle /.test(shapes) },
    ]),
  );
}

/** An alarm row of a section's timeline: its transitions (`OK>ALARM@04:41:20 ...`) and topics. */
function alarmRow(section: string, alarm: string): { transitions: string; topics: string } {
  const match = new RegExp(`<g class="alarm-row" data-alarm="${alarm}" data-severity="[^"]*" data-topics="([^"]*)" data-transitions="([^"]*)"`).exec(section);
  expect(match).not.toBeNull();
  return { topics: match![1], transitions: match![2].replace(/&gt;/g, '>') };
}

describe('the demo page, in headless Chromium', () => {
  it.each([
    ['pool', { userPoolId: 'eu-west-1_AbC123' }],
    ['fleet', { fleet: true }],
  ] as const)("draws the %s monitor's dashboard as monitor.widgets() defines it: every widget, its title, its place", (key, props) => {
    const expected = exampleDashboard(props);
    const drawn = drawnWidgets(sectionOf(key));
    expect(drawn).toEqual(expected.map((w) => ({ type: w.type, title: w.title ?? '', grid: `${w.x},${w.y},${w.width},${w.height}` })));
    expect(drawn.map((w) => w.type)).toEqual(expect.arrayContaining(['text', 'alarm', 'metric', 'log']));
  });

  it("draws a line for each of the pool's series with data, from the metrics the runs published", () => {
    const pool = sectionOf('pool');
    const inFlight = seriesOf(widgetHtml(pool, 'Jobs in flight'));
    expect([...inFlight.keys()]).toEqual(['Created', 'Pending', 'InProgress', 'Stopping']);
    // A gauge drawn with FILL(m, 0): a value for every 5-minute period of the day, zero where no job was in the status.
    expect(inFlight.get('Created')).toEqual({ points: 144, peak: 2, drawn: true });
    expect(inFlight.get('InProgress')).toMatchObject({ peak: 1, drawn: true });
    const completed = seriesOf(widgetHtml(pool, 'Jobs completed'));
    expect([...completed.keys()]).toEqual(['Succeeded', 'Failed', 'Stopped', 'Expired']);
    for (const status of ['Succeeded', 'Failed']) expect(completed.get(status)).toMatchObject({ peak: 1, drawn: true });
    const users = seriesOf(widgetHtml(pool, 'Users'));
    expect(users.get('Imported')!.peak).toBeGreaterThanOrEqual(1000);
    // The log table holds the job transitions the function logged, the failed one among them.
    expect(widgetHtml(pool, 'Latest job transitions')).toMatch(/<td>crm-sync<\/td><td>InProgress<\/td><td>Failed<\/td>/);
  });

  it("draws the fleet's Metrics Insights series a line per pool, the failed pool's among them", () => {
    const fleet = sectionOf('fleet');
    const completed = seriesOf(widgetHtml(fleet, 'Jobs completed, by pool and status'));
    expect(completed.get('tenant-globex Failed')).toMatchObject({ peak: 1, drawn: true });
    expect([...completed.keys()].some((label) => label.includes('sandbox'))).toBe(false);
    expect(seriesOf(widgetHtml(fleet, 'Pools monitored, and failed runs by pool')).get('PoolsMonitored')).toMatchObject({ peak: 3, drawn: true });
  });

  it("shows JobFailed paging the pool's alarm topic within minutes of the failure, and the warning of a job not started", () => {
    const pool = sectionOf('pool');
    const failed = alarmRow(pool, 'JobFailed');
    expect(failed.topics).toBe('Alarms');
    expect(failed.transitions).toMatch(/OK>ALARM@04:4[0-3]/);
    expect(alarmRow(pool, 'JobAwaitingStart').transitions).toMatch(/OK>ALARM@11:4\d/);
    expect(alarmRow(pool, 'MonitorSilent').transitions).not.toMatch(/>ALARM/);
    expect(dom).toMatch(/<div class="tile" data-alarm="ImportJobs-eu-west-1_AbC123-JobAwaitingStart" data-state="ALARM">/);
    // The fleet's page names its pool.
    const fleet = sectionOf('fleet');
    expect(alarmRow(fleet, 'JobFailed').transitions).toMatch(/OK>ALARM@09:1[0-3]/);
    expect(fleet).toMatch(/<g class="contributor-row" data-alarm="JobFailed" data-contributor="eu-west-1_GlobexX" data-transitions="[^"]*&gt;ALARM@09:1/);
    expect(fleet).not.toMatch(/data-contributor="eu-west-1_Umbrel1"/);
  });

  it('is one static file: no script, no stylesheet, font or image from elsewhere', () => {
    const html = fs.readFileSync(demo.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
  });

  it('screenshots as a drawn page: its size, graphs with lines in them, green and red alarm states', () => {
    const png = path.join(outDir, 'screenshot.png');
    screenshot(demo.html, png);
    const image = decodePng(fs.readFileSync(png));
    expect({ width: image.width, height: image.height }).toEqual(SCREENSHOT_SIZE);

    const pool = demo.data.monitors.find((m) => m.key === 'pool')!;
    const graphs = pool.dashboard.widgets.filter((w) => w.type === 'metric');
    expect(graphs).toHaveLength(3);
    for (const w of graphs) {
      const box = widgetBox(w);
      const area = { left: PAGE_MARGIN + box.left, top: FIRST_DASHBOARD_TOP + box.top, width: box.width, height: box.height };
      const { nonWhite, colored } = inspect(image, area);
      // Axes, grid and lines, not a blank or a filled box.
      expect({ title: w.title, inked: nonWhite > 0.02 && nonWhite < 0.5 }).toEqual({ title: w.title, inked: true });
      // The series' colours: CloudWatch's blue, orange, green or red.
      expect({ title: w.title, colored: colored > 40 }).toEqual({ title: w.title, colored: true });
    }
    // The alarm states: green tiles and bars, and the red of JobAwaitingStart's tile and of the ALARM bars.
    const all = { left: 0, top: 0, width: image.width, height: image.height };
    expect(countColor(image, all, [0x1d, 0x81, 0x02])).toBeGreaterThan(1000);
    expect(countColor(image, all, [0xd1, 0x32, 0x12])).toBeGreaterThan(300);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// PNG, decoded with node's zlib: 8-bit RGB or RGBA, not interlaced, as Chromium writes it

interface Image {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel. */
  readonly pixels: Buffer;
}

function decodePng(file: Buffer): Image {
  if (file.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let offset = 8; offset < file.length; ) {
    const length = file.readUInt32BE(offset);
    const type = file.subarray(offset + 4, offset + 8).toString('ascii');
    const chunk = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = chunk.readUInt32BE(0);
      height = chunk.readUInt32BE(4);
      const [depth, color, , , interlace] = chunk.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (color !== 2 && color !== 6)) throw new Error(`unsupported PNG: depth ${depth}, colour type ${color}, interlace ${interlace}`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(chunk);
    }
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (filter > 4) throw new Error(`unknown PNG filter ${filter}`);
    const line = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? rows[row + i - channels] : 0;
      const b = y > 0 ? rows[row - stride + i] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) predictor = paeth(a, b, y > 0 && i >= channels ? rows[row - stride + i - channels] : 0);
      rows[row + i] = (raw[line + i] + predictor) & 0xff;
    }
  }
  const pixels = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++) pixels[p * 4 + k] = rows[p * channels + k];
    pixels[p * 4 + 3] = channels === 4 ? rows[p * channels + 3] : 255;
  }
  return { width, height, pixels };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

type Area = { left: number; top: number; width: number; height: number };

function* pixelsIn(image: Image, area: Area): Generator<[number, number, number]> {
  const x0 = Math.max(0, Math.round(area.left));
  const y0 = Math.max(0, Math.round(area.top));
  const x1 = Math.min(image.width, Math.round(area.left + area.width));
  const y1 = Math.min(image.height, Math.round(area.top + area.height));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      yield [image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]];
    }
  }
}

/** The share of pixels not white, and the number of saturated (coloured, not grey) ones. */
function inspect(image: Image, area: Area): { nonWhite: number; colored: number } {
  let total = 0;
  let nonWhite = 0;
  let colored = 0;
  for (const [r, g, b] of pixelsIn(image, area)) {
    total++;
    if (r < 235 || g < 235 || b < 235) nonWhite++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) colored++;
  }
  return { nonWhite: nonWhite / Math.max(1, total), colored };
}

function countColor(image: Image, area: Area, [r0, g0, b0]: number[]): number {
  let n = 0;
  for (const [r, g, b] of pixelsIn(image, area)) if (Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0) < 30) n++;
  return n;
}

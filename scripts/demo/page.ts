/**
 * The demo's page: each monitor's dashboard as its synthesized body lays it out (24 columns, the widgets' x, y, width
 * and height), each graph drawn as an inline SVG from the day's datapoints, then each alarm's states over the day.
 * One static file: no script, no stylesheet or font from elsewhere.
 */
import type { State } from '../../test/support/alarm-evaluator';
import type { DashboardData, SeriesData, WidgetData } from './dashboard';

/** The page's width in CSS pixels: the screenshot's window. */
// What the page draws, as runDemo (run.ts) gathers it.

/** One alarm over the day. */
export interface AlarmTimeline {
  readonly name: string;
  /** `JobFailed`. */
  readonly short: string;
  readonly severity: 'failure' | 'warning' | 'unknown';
  /** The topics its ALARM state notifies, by construct ID. */
  readonly topics: string[];
  /** Its state from each time on (epoch ms), from its creation. */
  readonly states: { at: number; state: State }[];
  /** Its contributors' (a fleet's pools) states, by pool ID. */
  readonly contributors: Record<string, { at: number; state: State }[]>;
}

export interface MonitorData {
  readonly key: 'pool' | 'fleet';
  readonly title: string;
  readonly stackName: string;
  /** Pool ID to name, for every pool of its world. */
  readonly poolNames: Record<string, string>;
  readonly ticks: number;
  readonly failedTicks: number;
  readonly datapoints: number;
  readonly events: number;
  readonly alarmsCreatedAt: number;
  readonly alarms: AlarmTimeline[];
  /** Transitions into ALARM, the alarms' own (not their contributors'). */
  readonly pages: { at: number; alarm: string; contributors: string[]; topics: string[]; severity: string }[];
  readonly dashboard: DashboardData;
}

export interface DemoData {
  readonly day: number;
  readonly end: number;
  readonly tickEveryMs: number;
  readonly wallMs: number;
  readonly monitors: MonitorData[];
}

export const PAGE_WIDTH = 1400;
const MARGIN = 16;
const GRID_WIDTH = PAGE_WIDTH - 2 * MARGIN;
const COLUMN = GRID_WIDTH / 24;
const ROW = 36;
const GAP = 6;
const HOUR = 3_600_000;
// Fixed heights above the first dashboard, so that a screenshot's pixels can be found from a widget's grid place.
const HEADER_HEIGHT = 72;
const H2_HEIGHT = 22;
const H2_MARGIN = { top: 8, bottom: 6 };
/** The first dashboard's top on the page, in CSS pixels. */
export const FIRST_DASHBOARD_TOP = HEADER_HEIGHT + H2_MARGIN.top + H2_HEIGHT + H2_MARGIN.bottom;
// CloudWatch's palette, in its order.
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const STATE_COLORS: Record<string, string> = { ALARM: '#d13212', OK: '#1d8102', INSUFFICIENT_DATA: '#aab7b8' };

export function renderPage(data: DemoData): string {
  const day = new Date(data.day).toISOString().slice(0, 10);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>import-job-monitor: a simulated day (${day})</title>
<style>
${STYLE}
</style>
</head>
<body>
<header class="page-header">
  <h1>import-job-monitor <span>· a simulated day, ${day} (UTC)</span></h1>
  <p>The example app's two monitors, a pool's and a fleet's (${data.monitors.map((m) => `${m.ticks} runs, ${m.events} events`).join('; ')}), run every minute by <code>npm run demo</code> against loopback servers. Each dashboard is the one <code>monitor.widgets()</code> defines, drawn with the metrics the runs published.</p>
</header>
${data.monitors.map((m) => section(m, data)).join('\n')}
</body>
</html>
`;
}

function section(m: MonitorData, data: DemoData): string {
  const height = Math.max(...m.dashboard.widgets.map((w) => w.y + w.height)) * ROW;
  return `<section class="monitor" id="${m.key}" data-monitor="${m.key}">
<h2>${escapeHtml(m.title)} <span>stack ${escapeHtml(m.stackName)}, dashboard ${escapeHtml(m.dashboard.name)}</span></h2>
<div class="dashboard" style="height:${height}px">
${m.dashboard.widgets.map((w) => widget(w, m, data)).join('\n')}
</div>
<h3>Alarms over the day</h3>
${timeline(m, data)}
</section>`;
}

/** Where a widget sits on the page, in pixels inside its dashboard. */
export function widgetBox(w: Pick<WidgetData, 'x' | 'y' | 'width' | 'height'>): { left: number; top: number; width: number; height: number } {
  return { left: w.x * COLUMN, top: w.y * ROW, width: w.width * COLUMN - GAP, height: w.height * ROW - GAP };
}

function widget(w: WidgetData, m: MonitorData, data: DemoData): string {
  const box = widgetBox(w);
  const style = `left:${box.left.toFixed(1)}px;top:${box.top}px;width:${box.width.toFixed(1)}px;height:${box.height}px`;
  const attributes = `class="widget widget-${w.type}" data-type="${w.type}" data-title="${escapeHtml(w.title ?? '')}" data-grid="${w.x},${w.y},${w.width},${w.height}" style="${style}"`;
  switch (w.type) {
    case 'text':
      return `<div ${attributes}>${markdown(w.markdown ?? '')}</div>`;
    case 'alarm':
      return `<div ${attributes}><div class="title">${escapeHtml(w.title ?? '')} <span>at ${new Date(data.end).toISOString().slice(11, 16).replace(/^00:00$/, '24:00')}</span></div>${alarmTiles(w, m)}</div>`;
    case 'metric':
      return `<div ${attributes}><div class="title">${escapeHtml(w.title ?? '')}</div>${graph(w, box, data)}</div>`;
    case 'log':
      return `<div ${attributes}><div class="title">${escapeHtml(w.title ?? '')}</div>${logTable(w)}</div>`;
    default:
      return `<div ${attributes}><div class="title">${escapeHtml(w.title ?? w.type)}</div></div>`;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Widgets

function markdown(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const heading = /^(#{1,6}) (.*)$/.exec(line);
      const inline = (s: string) =>
        escapeHtml(s)
          .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '<a href="$2">$1</a>')
          .replace(/`([^`]+)`/g, '<code>$1</code>');
      return heading ? `<h${heading[1].length}>${inline(heading[2])}</h${heading[1].length}>` : `<p>${inline(line)}</p>`;
    })
    .join('');
}

function alarmTiles(w: WidgetData, m: MonitorData): string {
  const tiles = (w.alarms ?? []).map((name) => {
    const alarm = m.alarms.find((a) => a.name === name);
    const state = alarm ? alarm.states[alarm.states.length - 1].state : 'INSUFFICIENT_DATA';
    const pages = alarm ? alarm.states.filter((s) => s.state === 'ALARM').length : 0;
    const note = pages > 0 ? `in ALARM ${pages}× today` : 'never in ALARM today';
    return `<div class="tile" data-alarm="${escapeHtml(name)}" data-state="${state}"><i style="background:${STATE_COLORS[state]}"></i><span><b>${escapeHtml(alarm?.short ?? name)}</b><small>${state.replace('_', ' ')} · ${note}</small></span></div>`;
  });
  return `<div class="tiles">${tiles.join('')}</div>`;
}

function logTable(w: WidgetData): string {
  const columns = w.columns ?? [];
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = (w.rows ?? []).map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<div class="table"><table data-rows="${(w.rows ?? []).length}"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A line graph (or stacked areas), its x axis the day, its y axes from 0. */
function graph(w: WidgetData, box: { width: number; height: number }, data: DemoData): string {
  const series = w.series ?? [];
  const legendRows = Math.min(2, Math.ceil(series.length / Math.max(1, Math.floor(box.width / 150))));
  const width = Math.round(box.width - 2);
  const height = Math.round(box.height - 24 - Math.max(1, legendRows) * 16 - 4);
  const right = series.some((s) => s.axis === 'right');
  const plot = { x: 38, y: 8, w: width - 38 - (right ? 38 : 18), h: height - 8 - 18 };
  const count = series[0]?.values.length ?? 1;
  const xOf = (i: number) => plot.x + (i / Math.max(1, count - 1)) * plot.w;
  const parts: string[] = [];

  // The day's hours, every three.
  const hours = (data.end - data.day) / HOUR;
  for (let h = 0; h <= hours; h += 3) {
    const x = plot.x + ((h * HOUR) / (data.end - data.day)) * plot.w;
    parts.push(`<line class="grid" x1="${x.toFixed(1)}" y1="${plot.y}" x2="${x.toFixed(1)}" y2="${plot.y + plot.h}"/>`);
    parts.push(`<text class="axis" x="${x.toFixed(1)}" y="${plot.y + plot.h + 13}" text-anchor="${h === hours ? 'end' : 'middle'}">${String(h).padStart(2, '0')}:00</text>`);
  }

  const axes: Record<'left' | 'right', number> = { left: 1, right: 1 };
  for (const side of ['left', 'right'] as const) {
    const mine = series.filter((s) => s.axis === side);
    if (mine.length === 0) continue;
    const peak = w.stacked && side === 'left'
      ? Math.max(0, ...mine[0].values.map((_, i) => mine.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)))
      : Math.max(0, ...mine.flatMap((s) => s.values.filter((v): v is number => v !== null)));
    const ticks = niceTicks(peak);
    axes[side] = ticks[ticks.length - 1];
    for (const tick of ticks) {
      const y = plot.y + plot.h - (tick / axes[side]) * plot.h;
      if (side === 'left') parts.push(`<line class="grid" x1="${plot.x}" y1="${y.toFixed(1)}" x2="${plot.x + plot.w}" y2="${y.toFixed(1)}"/>`);
      const x = side === 'left' ? plot.x - 4 : plot.x + plot.w + 4;
      parts.push(`<text class="axis" x="${x}" y="${(y + 3).toFixed(1)}" text-anchor="${side === 'left' ? 'end' : 'start'}">${formatNumber(tick)}</text>`);
    }
  }
  const yOf = (v: number, side: 'left' | 'right') => plot.y + plot.h - (v / axes[side]) * plot.h;

  const base = new Array<number>(count).fill(0);
  series.forEach((s, n) => {
    const color = COLORS[n % COLORS.length];
    const defined = s.values.filter((v) => v !== null).length;
    const shapes: string[] = [];
    if (w.stacked && s.axis === 'left') {
      const top = s.values.map((v, i) => base[i] + (v ?? 0));
      const upper = top.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v, 'left').toFixed(1)}`);
      const lower = base.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v, 'left').toFixed(1)}`).reverse();
      if (defined > 0) {
        shapes.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.45" stroke="none"/>`);
        shapes.push(`<polyline points="${upper.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
      }
      top.forEach((v, i) => (base[i] = v));
    } else {
      // Runs of consecutive datapoints are lines; a datapoint alone is a dot.
      let run: string[] = [];
      const flush = () => {
        if (run.length > 1) shapes.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
        else if (run.length === 1) {
          const [x, y] = run[0].split(',');
          shapes.push(`<circle cx="${x}" cy="${y}" r="2.6" fill="${color}"/>`);
        }
        run = [];
      };
      s.values.forEach((v, i) => (v === null ? flush() : run.push(`${xOf(i).toFixed(1)},${yOf(v, s.axis).toFixed(1)}`)));
      flush();
    }
    parts.push(`<g class="series" data-series="${escapeHtml(s.label)}" data-points="${defined}" data-peak="${peakOf(s)}">${shapes.join('')}</g>`);
  });
  parts.push(`<rect class="frame" x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}"/>`);
  if (series.length === 0 || series.every((s) => s.values.every((v) => v === null))) {
    parts.push(`<text class="empty" x="${plot.x + plot.w / 2}" y="${plot.y + plot.h / 2}" text-anchor="middle">No data for the day</text>`);
  }
  const legend = series
    .map((s, n) => `<span><i style="background:${COLORS[n % COLORS.length]}"></i>${escapeHtml(s.label)}${s.axis === 'right' ? ' (right)' : ''}</span>`)
    .join('');
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

const peakOf = (s: SeriesData) => Math.max(0, ...s.values.filter((v): v is number => v !== null));

/** Ticks from 0 to a round number at or above `peak`: 0, 1 for nothing; 0, 500, 1000, 1500 for 1480. */
function niceTicks(peak: number): number[] {
  if (!(peak > 0)) return [0, 1];
  const rough = peak / 3;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const top = Math.ceil(peak / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

const formatNumber = (v: number) => (Math.abs(v) >= 1000 ? `${v / 1000}k` : String(v));

// ---------------------------------------------------------------------------------------------------------------------
// The alarms over the day

function timeline(m: MonitorData, data: DemoData): string {
  const width = GRID_WIDTH;
  const track = { x: 300, w: width - 300 - 30 };
  const xOf = (t: number) => track.x + (Math.min(Math.max(t, data.day), data.end) - data.day) / (data.end - data.day) * track.w;
  const rows: string[] = [];
  let y = 22;
  const axis: string[] = [];
  const hours = (data.end - data.day) / HOUR;
  for (let h = 0; h <= hours; h += 3) {
    const x = xOf(data.day + h * HOUR);
    axis.push(`<text class="axis" x="${x.toFixed(1)}" y="12" text-anchor="${h === hours ? 'end' : 'middle'}">${String(h).padStart(2, '0')}:00</text>`);
  }
  for (const alarm of m.alarms) {
    rows.push(stateRow(alarm, alarm.states, `${alarm.short}`, `${alarm.severity}, to ${alarm.topics.join(', ') || 'no topic'}`, y + 12, 14, track, xOf, data));
    y += 30;
    for (const [pool, states] of Object.entries(alarm.contributors)) {
      const name = m.poolNames[pool] ? `${pool} (${m.poolNames[pool]})` : pool;
      rows.push(stateRow(alarm, states.length > 0 && states[0].state !== 'OK' ? [{ at: states[0].at, state: 'OK' }, ...states] : states, `↳ ${name}`, 'contributor', y, 10, track, xOf, data, pool));
      y += 18;
    }
  }
  const height = y + 6;
  const gridLines = Array.from({ length: Math.floor(hours / 3) + 1 }, (_, i) => xOf(data.day + i * 3 * HOUR))
    .map((x) => `<line class="grid" x1="${x.toFixed(1)}" y1="16" x2="${x.toFixed(1)}" y2="${height - 4}"/>`)
    .join('');
  const legend = Object.entries(STATE_COLORS)
    .map(([state, color]) => `<span><i style="background:${color}"></i>${state.replace('_', ' ')}</span>`)
    .join('');
  return `<div class="timeline" data-monitor="${m.key}"><svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${gridLines}${axis.join('')}${rows.join('')}</svg><div class="legend">${legend}<span>▼ a transition into ALARM, with its time</span></div></div>`;
}

function stateRow(
  alarm: AlarmTimeline,
  states: { at: number; state: string }[],
  name: string,
  note: string,
  y: number,
  barHeight: number,
  track: { x: number; w: number },
  xOf: (t: number) => number,
  data: DemoData,
  contributor?: string,
): string {
  const parts: string[] = [];
  const transitions = states.map((s, i) => `${i === 0 ? 'created' : states[i - 1].state}>${s.state}@${clockOf(s.at)}`).join(' ');
  parts.push(`<text class="${contributor ? 'contributor' : 'name'}" x="4" y="${y + barHeight - 4}">${escapeHtml(name)}</text>`);
  if (!contributor) parts.push(`<text class="note" x="${track.x - 8}" y="${y + barHeight - 4}" text-anchor="end">${escapeHtml(note)}</text>`);
  states.forEach((s, i) => {
    const end = i + 1 < states.length ? states[i + 1].at : data.end;
    const x1 = xOf(s.at);
    const x2 = xOf(end);
    parts.push(`<rect class="state" data-state="${s.state}" x="${x1.toFixed(1)}" y="${y}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${barHeight}" fill="${STATE_COLORS[s.state]}"/>`);
    if (s.state === 'ALARM' && !contributor) {
      const nearEnd = x1 > track.x + track.w - 70;
      parts.push(`<text class="marker" x="${x1.toFixed(1)}" y="${y - 2}" dx="${nearEnd ? 4 : -4}" text-anchor="${nearEnd ? 'end' : 'start'}">${nearEnd ? `${clockOf(s.at)} ▼` : `▼ ${clockOf(s.at)}`}</text>`);
    }
  });
  const attributes = contributor
    ? `class="contributor-row" data-alarm="${escapeHtml(alarm.short)}" data-contributor="${escapeHtml(contributor)}"`
    : `class="alarm-row" data-alarm="${escapeHtml(alarm.short)}" data-severity="${alarm.severity}" data-topics="${escapeHtml(alarm.topics.join(' '))}"`;
  return `<g ${attributes} data-transitions="${escapeHtml(transitions)}">${parts.join('')}</g>`;
}

const clockOf = (t: number) => new Date(t).toISOString().slice(11, 19);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
* { box-sizing: border-box; }
body { margin: 0; padding: 0 ${MARGIN}px ${MARGIN}px; width: ${PAGE_WIDTH}px; background: #f2f3f3; color: #16191f;
  font: 12px/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 11px; background: #eaeded; padding: 0 3px; }
.page-header { height: ${HEADER_HEIGHT}px; padding-top: 8px; overflow: hidden; }
.page-header h1 { font-size: 18px; margin: 0 0 2px; }
.page-header h1 span, h2 span { font-weight: normal; color: #545b64; font-size: 13px; }
.page-header p { margin: 0 0 6px; color: #545b64; }
h2 { font-size: 15px; height: ${H2_HEIGHT}px; line-height: ${H2_HEIGHT}px; margin: ${H2_MARGIN.top}px 0 ${H2_MARGIN.bottom}px; white-space: nowrap; overflow: hidden; }
h3 { font-size: 13px; margin: 8px 0 4px; }
.dashboard { position: relative; width: ${GRID_WIDTH}px; }
.widget { position: absolute; background: #fff; border: 1px solid #d5dbdb; border-radius: 2px; padding: 4px 6px; overflow: hidden; }
.widget .title { font-weight: bold; font-size: 13px; height: 20px; white-space: nowrap; }
.widget .title span { font-weight: normal; color: #687078; font-size: 11px; }
.widget-text { background: transparent; border-color: transparent; }
.widget-text h3 { margin: 0 0 2px; font-size: 15px; }
.widget-text p { margin: 0; color: #545b64; font-size: 11px; }
.widget-text a { color: #0073bb; text-decoration: none; }
.tiles { display: flex; gap: 6px; }
.tile { flex: 1 1 0; min-width: 0; display: flex; align-items: center; gap: 6px; padding: 2px 6px 2px 2px; border: 1px solid #eaeded; white-space: nowrap; overflow: hidden; }
.tile i { width: 14px; height: 28px; display: inline-block; }
.tile b { font-size: 12px; }
.tile span { display: flex; flex-direction: column; min-width: 0; }
.tile small { color: #687078; font-size: 10px; overflow: hidden; text-overflow: ellipsis; }
.chart { display: block; }
.chart .grid { stroke: #eaeded; stroke-width: 1; }
.chart .frame { fill: none; stroke: #d5dbdb; }
.chart .axis, .timeline .axis { font-size: 10px; fill: #687078; }
.chart .empty { font-size: 12px; fill: #879596; }
.legend { font-size: 11px; color: #545b64; display: flex; flex-wrap: wrap; gap: 2px 12px; max-height: 34px; overflow: hidden; }
.legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
.table { overflow: hidden; height: calc(100% - 22px); }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
th { text-align: left; color: #545b64; border-bottom: 1px solid #d5dbdb; padding: 1px 6px 1px 0; white-space: nowrap; }
td { border-bottom: 1px solid #f2f3f3; padding: 1px 6px 1px 0; white-space: nowrap; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
.timeline { background: #fff; border: 1px solid #d5dbdb; padding: 4px 0; width: ${GRID_WIDTH - GAP}px; }
.timeline .grid { stroke: #eaeded; }
.timeline .name { font-size: 12px; font-weight: bold; fill: #16191f; }
.timeline .contributor { font-size: 11px; fill: #545b64; }
.timeline .note { font-size: 11px; fill: #687078; }
.timeline .marker { font-size: 10px; fill: #b0260b; font-weight: bold; }
.timeline .legend { padding: 2px 6px 0; }
.timeline .legend i { height: 8px; }
`;

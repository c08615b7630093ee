/**
 * `npm run demo`'s engine: the example app synthesized twice (its pool, and a fleet), each monitor's function as
 * synthesized run tick by tick over a simulated day against the loopback world the tests use
 * (test/support/simulation.ts), its alarms evaluated as CloudWatch would (test/support/alarm-evaluator.ts), what an
 * operator would see told as it happens, and the dashboard `monitor.widgets()` defines drawn with the day's metrics.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { App, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack, ExampleStackProps } from '../../bin/example-stack';
import { ENV_COGNITO_REQUESTS_PER_SECOND } from '../../lib/contract';
import { ALARM_SPECS } from '../../lib/private/alarm-specs';
import { AlarmEvaluator, Datapoint, State, Transition, alarmsOf, datapointsFromEmf, parseQuery } from '../../test/support/alarm-evaluator';
import { ReceivedEvent } from '../../test/support/fake-eventbridge';
import { BUNDLE, Loopback } from '../../test/support/loopback';
import { SimulatedMonitor, SimulatedTick } from '../../test/support/simulation';
import { dashboardOf } from './dashboard';
import { AlarmTimeline, DemoData, MonitorData, renderPage } from './page';
import { DAY, FLEET_POOLS, HOUR, MINUTE, PoolStory, SINGLE_POOL, at, clock, poolAt } from './scenario';

const ENV = { account: '123456789012', region: 'eu-west-1' };
/** How long after its run a datapoint reaches CloudWatch, as test/pages.test.ts assumes. */
const INGEST_DELAY_MS = 30_000;
/** Metrics Insights sees a new series only this long after its first datapoint (test/pages.test.ts's figure). */
const FLEET_SERIES_VISIBLE_AFTER_MS = 10 * MINUTE;
/** Datapoints the evaluator may forget: older than any alarm looks back (a Metrics Insights alarm, 3 hours). */
const EVALUATOR_MEMORY_MS = 4 * HOUR;
/**
 * The fleet's Cognito pacing in the demo: the function spaces its calls out in real time (10 a second by default,
 * 300 ms a tick for 3 pools), which a day of 1,440 ticks would turn into 7 minutes of waiting. It changes nothing a
 * minute's resolution shows; test/pages.test.ts runs its fleets at the same rate.
 */
const DEMO_COGNITO_RATE = '1000';
const END = DAY + 24 * HOUR;

const SEVERITY = new Map(ALARM_SPECS.map((spec) => [spec.suffix, spec.severity]));
const GAUGES = new Set(['Jobs', 'JobsAwaitingStart', 'JobsStuck', 'PoolsMonitored']);
const WATCHED_STATUS: Record<string, string> = { JobFailed: 'Failed', JobExpired: 'Expired' };

export interface DemoOptions {
  /** Where to write dashboard.html and demo.json. */
  readonly outDir: string;
  /** Told each line an operator would see; nothing printed when undefined. */
  readonly print?: (line: string) => void;
  /** Where the simulated day stops, a time of the day (`'12:00'`): a shorter run, for the test. @default '24:00' */
  readonly until?: string;
}

export interface DemoResult {
  readonly html: string;
  readonly json: string;
  readonly data: DemoData;
}

interface Stage {
  readonly key: 'pool' | 'fleet';
  readonly title: string;
  readonly stackName: string;
  readonly template: Record<string, any>;
  readonly pools: readonly PoolStory[];
  readonly world: Loopback;
  readonly monitor: SimulatedMonitor;
  readonly evaluator: AlarmEvaluator;
  /** The metric names the alarms read: the only datapoints the evaluator needs. */
  readonly watched: Set<string>;
  readonly points: Datapoint[];
  readonly logs: Record<string, any>[];
  readonly events: ReceivedEvent[];
  readonly gauges: Map<string, number>;
  ticks: number;
  failedTicks: number;
  seenEvents: number;
}

/** Synthesizes the example app's stack, with a dashboard of `monitor.widgets()` as `createDashboard` makes it. */
export function synthesize(stackName: string, props: ExampleStackProps): Record<string, any> {
  const stack = new ExampleStack(new App({ builtinCloudFormationValidation: false }), stackName, { ...props, env: ENV });
  new cloudwatch.Dashboard(stack, 'DemoDashboard', { widgets: [stack.monitor.widgets()] });
  return Template.fromStack(stack).toJSON();
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const print = options.print ?? (() => undefined);
  const end = options.until === undefined ? END : at(options.until);
  if (!fs.existsSync(BUNDLE)) throw new Error(`no handler bundle at ${BUNDLE}: run "npm run build" first`);

  const stages: Stage[] = [];
  try {
    stages.push(await stage('pool', `Pool ${SINGLE_POOL.id} (${SINGLE_POOL.name})`, 'ImportJobMonitorExample', { userPoolId: SINGLE_POOL.id }, [SINGLE_POOL]));
    stages.push(await stage('fleet', 'Fleet: every pool of eu-west-1 but *-sandbox', 'ImportJobMonitorFleet', { fleet: true }, FLEET_POOLS));
    printHeader(print, stages);

    // The deployment's run at midnight, the alarms created 20 s later, then the rule's tick every minute.
    for (const s of stages) report(print, s, await tickAt(s, DAY, true));
    for (let t = DAY + MINUTE; t < end; t += MINUTE) {
      for (const s of stages) reportTransitions(print, s, s.evaluator.advanceTo(t));
      for (const s of stages) report(print, s, await tickAt(s, t, false));
    }
    for (const s of stages) reportTransitions(print, s, s.evaluator.advanceTo(end));
  } finally {
    for (const s of stages) await s.world.stop();
  }

  const data: DemoData = {
    day: DAY,
    end,
    tickEveryMs: MINUTE,
    wallMs: Math.round(performance.now() - started),
    monitors: stages.map((s) => summarize(s, end)),
  };
  fs.mkdirSync(options.outDir, { recursive: true });
  const html = path.join(options.outDir, 'dashboard.html');
  const json = path.join(options.outDir, 'demo.json');
  fs.writeFileSync(html, renderPage(data));
  fs.writeFileSync(json, `${JSON.stringify(data, null, 1)}\n`);
  printSummary(print, data, [html, json]);
  return { html, json, data };
}

async function stage(key: 'pool' | 'fleet', title: string, stackName: string, props: ExampleStackProps, pools: readonly PoolStory[]): Promise<Stage> {
  const template = synthesize(stackName, props);
  const world = new Loopback();
  await world.start();
  for (const pool of pools) world.cognito.names.set(pool.id, pool.name);
  setPools(world, pools, DAY);
  const simulated = key === 'fleet' ? withCognitoRate(template, DEMO_COGNITO_RATE) : template;
  const monitor = await SimulatedMonitor.create(world, simulated);
  const alarms = alarmsOf(template);
  const evaluator = new AlarmEvaluator(alarms, {
    createdAt: at('00:00:20'),
    forgetAfterMs: EVALUATOR_MEMORY_MS,
    ...(key === 'fleet' ? { newSeriesVisibleAfterMs: FLEET_SERIES_VISIBLE_AFTER_MS } : {}),
  });
  return {
    key, title, stackName, template, pools, world, monitor, evaluator, watched: watchedMetrics(alarms.map((a) => a.properties)),
    points: [], logs: [], events: [], gauges: new Map(), ticks: 0, failedTicks: 0, seenEvents: 0,
  };
}

/** A copy of the template whose monitor function paces its Cognito calls at `rate` a second. */
function withCognitoRate(template: Record<string, any>, rate: string): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(template));
  for (const resource of Object.values<any>(copy.Resources)) {
    const variables = resource.Type === 'AWS::Lambda::Function' ? resource.Properties.Environment?.Variables : undefined;
    if (variables?.MONITOR_NAME !== undefined) variables[ENV_COGNITO_REQUESTS_PER_SECOND] = rate;
  }
  return copy;
}

function watchedMetrics(alarms: Record<string, any>[]): Set<string> {
  const names = new Set<string>();
  for (const p of alarms) {
    if (p.MetricName) names.add(p.MetricName);
    for (const entry of p.Metrics ?? []) {
      if (entry.MetricStat) names.add(entry.MetricStat.Metric.MetricName);
      if (/^\s*SELECT/i.test(entry.Expression ?? '')) names.add(parseQuery(entry.Expression).metricName);
    }
  }
  return names;
}

function setPools(world: Loopback, pools: readonly PoolStory[], t: number): void {
  for (const pool of pools) world.cognito.pools.set(pool.id, poolAt(pool, t));
}

async function tickAt(s: Stage, t: number, deploy: boolean): Promise<SimulatedTick> {
  setPools(s.world, s.pools, t);
  const tick = await s.monitor.tick(t, { deploy });
  s.ticks++;
  if (tick.error !== undefined) s.failedTicks++;
  const points = datapointsFromEmf(tick.emf, { delayMs: INGEST_DELAY_MS });
  s.points.push(...points);
  s.evaluator.add(points.filter((p) => s.watched.has(p.metricName)));
  s.logs.push(...tick.logs);
  return tick;
}

// ---------------------------------------------------------------------------------------------------------------------
// What an operator sees, line by line

const label = (s: Stage) => s.key.padEnd(5);
/** A line of the log: its time (`04:40` for a tick, `04:41:20` for an evaluation), who, what. */
const line = (time: string, s: Stage, text: string) => `${time.padEnd(8)}  ${label(s)}  ${text}`;

function poolName(s: Stage, id: string): string {
  return s.pools.find((p) => p.id === id)?.name ?? id;
}

function printHeader(print: (line: string) => void, stages: Stage[]): void {
  print('import-job-monitor demo: the example app synthesized, its function run as synthesized against loopback Cognito,');
  print('EventBridge and DynamoDB, over one simulated day (2026-03-02, UTC) ticking every minute, as the rule does.');
  print('Alarms are evaluated every minute as CloudWatch would; datapoints reach CloudWatch 30 s after their run.');
  for (const s of stages) {
    print(`  ${label(s)}  ${s.stackName}: ${s.title}`);
    for (const pool of s.pools) {
      for (const job of pool.jobs) print(`           ${pool.name.padEnd(24)} ${job.name.padEnd(20)} ${job.note}`);
    }
  }
  print(`  (the fleet's function paces Cognito at ${DEMO_COGNITO_RATE} calls a second rather than 10, not to wait in real time)`);
  print('Shown: non-zero counts, gauges when they change, events sent, alarm transitions, warnings; quiet ticks are not.');
  print('');
}

function report(print: (line: string) => void, s: Stage, tick: SimulatedTick): void {
  const parts: string[] = [];
  if (tick.deploy) parts.push(`deployment run: ${describeResult(tick.result)}`);
  if (tick.error !== undefined) parts.push(`run FAILED: ${(tick.error as Error).name ?? tick.error}`);
  const seen = new Set<string>();
  for (const p of datapointsFromEmf(tick.emf)) {
    const key = metricKey(s, p);
    if (seen.has(key)) continue;
    seen.add(key);
    if (p.metricName === 'Heartbeat') {
      if (p.value === 0) parts.push('Heartbeat=0');
    } else if (GAUGES.has(p.metricName)) {
      const before = s.gauges.get(key);
      s.gauges.set(key, p.value);
      if (before === undefined ? p.value !== 0 : before !== p.value) parts.push(`${key}=${p.value}`);
    } else if (p.value !== 0) {
      parts.push(`${key}=${p.value}`);
    }
  }
  const events = s.world.eventBridge.events.slice(s.seenEvents);
  s.seenEvents = s.world.eventBridge.events.length;
  s.events.push(...events);
  for (const e of events) {
    const d = e.detail;
    const who = s.key === 'fleet' ? `${poolName(s, d.userPoolId)}/` : '';
    parts.push(`event ${who}${d.jobName} ${d.previousStatus ?? 'new'}→${d.status}`);
  }
  for (const line of tick.logs) {
    if (line.level === 'WARN' || line.level === 'ERROR') parts.push(`log ${line.level} "${line.message}"`);
  }
  if (parts.length > 0) print(line(clock(tick.at), s, parts.join(' · ')));
}

function describeResult(result: unknown): string {
  const r = result as Record<string, any> | undefined;
  if (r?.pools !== undefined) return `${r.pools} pools found, ${r.ran} listed`;
  if (r?.jobs !== undefined) return `${r.jobs} job${r.jobs === 1 ? '' : 's'} listed`;
  return 'done';
}

/** `Jobs{InProgress}` for the pool; `Jobs{tenant-globex,InProgress}` for a fleet's pool; the monitor's own unadorned. */
function metricKey(s: Stage, p: Datapoint): string {
  const dims = Object.entries(p.dimensions)
    .filter(([name]) => name !== 'Monitor' && !(s.key === 'pool' && name === 'UserPoolId') && name !== 'service')
    .map(([name, value]) => (name === 'UserPoolId' ? poolName(s, value) : value));
  return dims.length > 0 ? `${p.metricName}{${dims.join(',')}}` : p.metricName;
}

function shortName(alarmName: string): string {
  return alarmName.slice(alarmName.lastIndexOf('-') + 1);
}

/** The topics' construct IDs, from the actions' references: `Alarms` for `{ Ref: Alarms04B5A0BF }`. */
function topicsOf(s: Stage, actions: unknown[]): string[] {
  return actions.map((a) => {
    const ref = (a as { Ref?: string }).Ref;
    return ref && s.template.Resources[ref]?.Type === 'AWS::SNS::Topic' ? ref.replace(/[0-9A-F]{8}$/, '') : JSON.stringify(a);
  });
}

function reportTransitions(print: (line: string) => void, s: Stage, transitions: Transition[]): void {
  // The alarms' own transitions at one time, into one state from one, on one line: the first evaluation's 6 OKs.
  const own = transitions.filter((t) => t.contributor === undefined);
  const groups = new Map<string, Transition[]>();
  for (const t of own) {
    const key = `${t.at}|${t.from}|${t.to}|${t.to === 'ALARM' ? t.alarmName : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  for (const group of groups.values()) {
    const [t] = group;
    const names = group.map((g) => shortName(g.alarmName)).join(', ');
    let text = `alarm ${names}: ${t.from} → ${t.to}`;
    if (t.to === 'ALARM') {
      const severity = SEVERITY.get(shortName(t.alarmName));
      const who = t.contributors.map((c) => `${c} (${poolName(s, c)})`).join(', ');
      text = `${text.replace('alarm', severity === 'warning' ? 'WARNING' : 'PAGE')}${who ? ` for ${who}` : ''}`;
      text += `, to topic ${topicsOf(s, t.actions).join(', ') || '(none)'} [${t.reason}]`;
    }
    print(line(clock(t.at, true), s, text));
  }
  // A contributor that joins or leaves an alarm already in ALARM.
  for (const t of transitions.filter((c) => c.contributor !== undefined)) {
    if (own.some((o) => o.alarmName === t.alarmName && o.at === t.at && o.to === t.to)) continue;
    print(line(clock(t.at, true), s, `alarm ${shortName(t.alarmName)}, contributor ${t.contributor} (${poolName(s, t.contributor!)}): ${t.from} → ${t.to}`));
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The day, summed up

function summarize(s: Stage, end: number): MonitorData {
  const alarms = alarmsOf(s.template).map(({ logicalId, properties }): AlarmTimeline => {
    if (typeof properties.AlarmName !== 'string') throw new Error(`alarm ${logicalId} has no literal name: ${JSON.stringify(properties.AlarmName)}`);
    const name = String(properties.AlarmName);
    const mine = s.evaluator.transitions.filter((t) => t.alarmName === name);
    const contributors: Record<string, { at: number; state: State }[]> = {};
    for (const t of mine.filter((m) => m.contributor !== undefined)) (contributors[t.contributor!] ??= []).push({ at: t.at, state: t.to });
    return {
      name,
      short: shortName(name),
      severity: SEVERITY.get(shortName(name)) ?? 'unknown',
      topics: topicsOf(s, properties.AlarmActions ?? []),
      states: [{ at: at('00:00:20'), state: 'INSUFFICIENT_DATA' as State }, ...mine.filter((m) => m.contributor === undefined).map((m) => ({ at: m.at, state: m.to }))],
      contributors,
    };
  });
  const pages = s.evaluator.transitions
    .filter((t) => t.contributor === undefined && t.to === 'ALARM')
    .map((t) => ({
      at: t.at,
      alarm: shortName(t.alarmName),
      contributors: t.contributors,
      topics: topicsOf(s, t.actions),
      severity: SEVERITY.get(shortName(t.alarmName)) ?? 'unknown',
    }));
  const poolNames = Object.fromEntries(s.pools.map((p) => [p.id, p.name]));
  return {
    key: s.key,
    title: s.title,
    stackName: s.stackName,
    poolNames,
    ticks: s.ticks,
    failedTicks: s.failedTicks,
    datapoints: s.points.length,
    events: s.events.length,
    alarmsCreatedAt: at('00:00:20'),
    alarms,
    pages,
    dashboard: dashboardOf(s.template, { points: s.points, logs: s.logs, from: DAY, to: end, region: ENV.region, account: ENV.account, poolNames }),
  };
}

function printSummary(print: (line: string) => void, data: DemoData, paths: string[]): void {
  print('');
  print(`The day in sum (${data.monitors[0].ticks} runs of each function, ${(data.wallMs / 1000).toFixed(1)} s of wall time):`);
  for (const m of data.monitors) {
    print(`  ${m.key.padEnd(5)}  ${m.ticks} runs (${m.failedTicks} failed), ${m.datapoints} datapoints, ${m.events} events; pages and warnings:`);
    for (const page of m.pages) {
      const who = page.contributors.map((c) => `${c} (${m.poolNames[c] ?? c})`).join(', ');
      print(`           ${clock(page.at, true)} ${page.alarm.padEnd(16)} ${page.severity === 'warning' ? 'warning' : 'page   '} to ${page.topics.join(', ')}${who ? `, for ${who}` : ''}${latency(m, page)}`);
    }
    const inAlarm = m.alarms.filter((a) => a.states[a.states.length - 1].state === 'ALARM').map((a) => a.short);
    print(`           at ${clock(data.end)} in ALARM: ${inAlarm.join(', ') || 'none'}`);
  }
  for (const p of paths) print(`Wrote ${path.relative(process.cwd(), p) || p}`);
}

/** How long after the job's end it paged: `, 2 min 20 s after crm-sync ended Failed at 04:40`. */
function latency(m: MonitorData, page: { at: number; alarm: string; contributors: string[] }): string {
  const status = WATCHED_STATUS[page.alarm];
  if (!status) return '';
  const pools = m.key === 'pool' ? [SINGLE_POOL] : FLEET_POOLS.filter((p) => page.contributors.includes(p.id));
  const ends = pools.flatMap((pool) => pool.jobs.flatMap((job) => job.steps.filter(([, s]) => s === status).map(([time]) => ({ job: job.name, t: at(time) }))));
  const end = ends.filter((e) => e.t <= page.at).sort((a, b) => b.t - a.t)[0];
  if (!end) return '';
  const seconds = Math.round((page.at - end.t) / 1000);
  return `, ${Math.floor(seconds / 60)} min ${seconds % 60} s after ${end.job} ended ${status} at ${clock(end.t)}`;
}

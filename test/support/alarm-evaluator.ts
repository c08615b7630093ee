/**
 * Evaluates the `AWS::CloudWatch::Alarm` resources of a synthesized template over a timeline of datapoints, minute by
 * minute, the way the CloudWatch User Guide describes it, and records each alarm's state transitions.
 * docs/alarm-evaluation.md names the page each rule comes from, and what is assumed where the pages are silent
 * (an option wherever the assumption matters).
 */
import { EmfRecord } from './emf';

export type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';

export interface Datapoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** ms since the epoch */
  timestamp: number;
  value: number;
  /** When CloudWatch can see it (ms). @default timestamp */
  arrivesAt?: number;
}

export interface AlarmDefinition {
  logicalId: string;
  properties: Record<string, any>;
}

export interface Transition {
  at: number;
  alarmName: string;
  /** Set on a contributor's own transition (a Metrics Insights query with GROUP BY); absent on the alarm's. */
  contributor?: string;
  from: State;
  to: State;
  /** AlarmActions, OKActions or InsufficientDataActions as the template gives them. */
  actions: unknown[];
  /** The contributors in ALARM after this evaluation, e.g. `['eu-west-1_A']`. */
  contributors: string[];
  reason: string;
}

export interface EvaluatorOptions {
  /** When the alarms are created: they start in INSUFFICIENT_DATA, evaluated at once. @default the first advanceTo */
  createdAt?: number;
  /** How often each alarm is evaluated. @default 60000 */
  stepMs?: number;
  /** Periods the evaluation range holds beyond EvaluationPeriods. @default 2 (the docs' example: a range of 5 for 3) */
  extraPeriods?: number;
  /** Where periods end, when the alarm sets no EvaluationWindow. @default 'sliding' (at the evaluation's minute) */
  window?: 'sliding' | 'wallClock';
  /** What FILL(id, <number>) gives when `id` has no datapoint at all in the range. @default 'nothing' */
  fillWhenEmpty?: 'nothing' | 'value';
  /** Metrics Insights sees a series only this long after its first datapoint arrived. @default 0 */
  newSeriesVisibleAfterMs?: number;
  /** The state of a GROUP BY query that returns no series. @default 'insufficientData' */
  emptyInsightsResult?: 'insufficientData' | 'treatMissingData';
  /**
   * Forgets datapoints this much older than the time last evaluated, which no alarm looks back to: a long timeline's
   * evaluations then cost what a short one's do. Longer than every alarm's range, it changes no state. @default never
   */
  forgetAfterMs?: number;
}

/** How one alarm judges one series: what `evaluateRange` needs. */
export interface Rule {
  comparison: string;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
}

/** One value per period of the evaluation range, oldest first; `undefined` where a period has no datapoint. */
type Points = (number | undefined)[];
type Stat = (values: number[]) => number;
type Expr = { id: string } | { fill: Expr; with: number | 'REPEAT' };
interface MetricStat { namespace: string; metricName: string; dimensions: Record<string, string>; stat: Stat }
interface Query {
  namespace: string; metricName: string; stat: Stat; schema: string[]; groupBy: string[]; limit: number;
  where: { dim: string; equal: boolean; value: string }[];
  orderBy?: { stat: Stat; direction: number };
}
type Source = { metric: MetricStat } | { math: Expr; inputs: Map<string, MetricStat | Expr> } | { insights: Query };
interface Alarm {
  name: string; props: Record<string, any>; rule: Rule; window: 'sliding' | 'wallClock'; periodMs: number;
  source: Source; state: State; contributors: Map<string, State>;
}
type Result = { state: State; reason: string };
type Recorder = (from: State, to: State, reason: string, contributor?: string) => void;
/** What one evaluation sees: the datapoints arrived by `at`, and the periods of the evaluation range. */
interface View { at: number; visible: Datapoint[]; start: number; periodMs: number; count: number }

const COMPARE: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};
const sum: Stat = (v) => v.reduce((a, b) => a + b, 0);
const STATS: Record<string, Stat> = {
  Sum: sum,
  Maximum: (v) => Math.max(...v),
  Minimum: (v) => Math.min(...v),
  Average: (v) => sum(v) / v.length,
  SampleCount: (v) => v.length,
};
const INSIGHTS_STATS: Record<string, Stat> = {
  SUM: STATS.Sum, MAX: STATS.Maximum, MIN: STATS.Minimum, AVG: STATS.Average, COUNT: STATS.SampleCount,
};
const ACTIONS: Record<State, string> = {
  ALARM: 'AlarmActions', OK: 'OKActions', INSUFFICIENT_DATA: 'InsufficientDataActions',
};
const MINUTE = 60_000;
const INSIGHTS_MAX_RANGE_MS = 3 * 3600_000;
const INSIGHTS_MAX_SERIES = 500;

/** The alarms of a template (`Template.toJSON()`). */
export function alarmsOf(template: Record<string, any>): AlarmDefinition[] {
  return Object.entries<any>(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([logicalId, resource]) => ({ logicalId, properties: resource.Properties }));
}

/** A datapoint per record, metric and dimension set, as CloudWatch extracts them; visible `delayMs` after it. */
export function datapointsFromEmf(records: EmfRecord[], options: { delayMs?: number } = {}): Datapoint[] {
  return records.flatMap((record) =>
    record._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.flatMap((metric) =>
        directive.Dimensions.flatMap((dimensionSet) =>
          [record[metric.Name] as number | number[]].flat().map((value) => ({
            namespace: directive.Namespace,
            metricName: metric.Name,
            dimensions: Object.fromEntries(dimensionSet.map((d) => [d, String(record[d])])),
            timestamp: record._aws.Timestamp,
            value,
            arrivesAt: record._aws.Timestamp + (options.delayMs ?? 0),
          })),
        ),
      ),
    ),
  );
}

/** The state an alarm in state `current` takes from the points of one series' evaluation range. */
export function evaluateRange(points: Points, rule: Rule, current: State): Result {
  const { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData: treat } = rule;
  const breaches = (v: number) => COMPARE[rule.comparison](v, rule.threshold);
  const real = points.flatMap((v, i) => (v === undefined ? [] : [{ v, age: points.length - i }]));
  if (real.length === 0) {
    const states: Record<TreatMissingData, State> = {
      missing: 'INSUFFICIENT_DATA', ignore: current, breaching: 'ALARM', notBreaching: 'OK',
    };
    return { state: states[treat], reason: `no datapoint in the evaluation range, treated as ${treat}` };
  }
  if (real.length >= n) {
    const b = real.slice(-n).filter((p) => breaches(p.v)).length;
    return { state: b >= m ? 'ALARM' : 'OK', reason: `${b} of the last ${n} datapoints breaching (${m} to alarm)` };
  }
  // Fewer real datapoints than N: all of them, and the missing ones "as few times as possible".
  const filled = n - real.length;
  const b = real.filter((p) => breaches(p.v)).length + (treat === 'breaching' ? filled : 0);
  const reason = `${b} of ${n} datapoints breaching, ${filled} missing treated as ${treat} (${m} to alarm)`;
  if (b >= m) return { state: 'ALARM', reason };
  if (treat !== 'missing' && treat !== 'ignore') return { state: 'OK', reason };
  if (real.some((p) => !breaches(p.v))) return { state: 'OK', reason };
  if (treat === 'ignore') return { state: current, reason };
  // "Avoiding premature transitions to alarm state": every real datapoint breaches; ALARM once the oldest is M old.
  const age = real[0].age;
  if (age < m) return { state: 'INSUFFICIENT_DATA', reason };
  return { state: 'ALARM', reason: `oldest breaching datapoint ${age} periods old, none newer not breaching` };
}

export class AlarmEvaluator {
  readonly transitions: Transition[] = [];
  private readonly alarms: Alarm[];
  private readonly options: Required<Omit<EvaluatorOptions, 'createdAt'>>;
  private readonly points: Datapoint[] = [];
  private readonly firstArrival = new Map<string, number>();
  private next: number | undefined;

  constructor(definitions: AlarmDefinition[], options: EvaluatorOptions = {}) {
    this.options = {
      stepMs: MINUTE, extraPeriods: 2, window: 'sliding', fillWhenEmpty: 'nothing', newSeriesVisibleAfterMs: 0,
      emptyInsightsResult: 'insufficientData', forgetAfterMs: Infinity, ...options,
    };
    this.next = options.createdAt;
    this.alarms = definitions.map((definition) => {
      try {
        return this.parse(definition);
      } catch (e) {
        throw new Error(`alarm ${definition.logicalId}: ${(e as Error).message}`);
      }
    });
  }

  add(points: Datapoint[]): void {
    for (const p of points) {
      this.points.push(p);
      const key = seriesKey(p);
      this.firstArrival.set(key, Math.min(this.firstArrival.get(key) ?? Infinity, p.arrivesAt ?? p.timestamp));
    }
  }

  /** Evaluates every alarm at each step from the last evaluated time up to `t`; returns the transitions made. */
  advanceTo(t: number): Transition[] {
    const made: Transition[] = [];
    for (this.next ??= t; this.next <= t; this.next += this.options.stepMs) {
      const at = this.next;
      const visible = this.points.filter((p) => (p.arrivesAt ?? p.timestamp) <= at);
      for (const alarm of this.alarms) made.push(...this.evaluate(alarm, at, visible));
    }
    if (Number.isFinite(this.options.forgetAfterMs)) {
      const kept = this.points.filter((p) => p.timestamp >= t - this.options.forgetAfterMs);
      this.points.splice(0, this.points.length, ...kept);
    }
    this.transitions.push(...made);
    return made;
  }

  state(alarmName: string): State {
    const alarm = this.alarms.find((a) => a.name === alarmName);
    if (!alarm) throw new Error(`no alarm named ${alarmName}, only ${this.alarms.map((a) => a.name).join(', ')}`);
    return alarm.state;
  }

  private evaluate(alarm: Alarm, at: number, visible: Datapoint[]): Transition[] {
    const { rule, periodMs, source } = alarm;
    // A sliding window ends at the evaluation's minute; a wall clock window at the end of the last whole period.
    const align = alarm.window === 'wallClock' ? periodMs : MINUTE;
    let count = rule.evaluationPeriods + this.options.extraPeriods;
    if ('insights' in source) count = Math.min(count, Math.floor(INSIGHTS_MAX_RANGE_MS / periodMs));
    const view: View = { at, visible, start: Math.floor(at / align) * align - count * periodMs, periodMs, count };
    const made: Transition[] = [];
    const record: Recorder = (from, to, reason, contributor) => {
      const actions = alarm.props.ActionsEnabled === false ? [] : (alarm.props[ACTIONS[to]] ?? []);
      const contributors = [...alarm.contributors].filter(([, s]) => s === 'ALARM').map(([c]) => c);
      const who = contributor === undefined ? {} : { contributor };
      made.push({ at, alarmName: alarm.name, ...who, from, to, actions, contributors, reason });
    };
    const result =
      'insights' in source && source.insights.groupBy.length > 0
        ? this.evaluateContributors(alarm, this.insights(source.insights, view), view, record)
        : evaluateRange(this.singleSeries(source, view), rule, alarm.state);
    if (result.state !== alarm.state) {
      const from = alarm.state;
      alarm.state = result.state;
      record(from, result.state, result.reason);
    }
    return made;
  }

  /** Each series of a GROUP BY query is a contributor, in ALARM or OK; the alarm is in ALARM while any is. */
  private evaluateContributors(alarm: Alarm, series: Map<string, Points>, view: View, record: Recorder): Result {
    const before = alarm.contributors;
    const changes: [string, State, State, string][] = [];
    alarm.contributors = new Map();
    for (const [key, points] of series) {
      const was = before.get(key) ?? 'OK';
      const { state, reason } = evaluateRange(points, alarm.rule, was);
      const now = state === 'ALARM' ? 'ALARM' : 'OK';
      alarm.contributors.set(key, now);
      if (now !== was) changes.push([key, was, now, reason]);
    }
    for (const [key, was] of before) {
      if (series.has(key) || was !== 'ALARM') continue;
      changes.push([key, was, 'OK', 'No data was returned for this contributor']);
    }
    for (const [key, was, now, reason] of changes) record(was, now, reason, key);
    if (series.size === 0) {
      return this.options.emptyInsightsResult === 'insufficientData'
        ? { state: 'INSUFFICIENT_DATA', reason: 'the query returned no time series' }
        : evaluateRange(nothing(view), alarm.rule, alarm.state);
    }
    const inAlarm = [...alarm.contributors.values()].filter((s) => s === 'ALARM').length;
    const reason = `${inAlarm} out of ${series.size} time series evaluated to ALARM`;
    return { state: inAlarm > 0 ? 'ALARM' : 'OK', reason };
  }

  /** The points of a single-series source: a metric, a math expression, or a query without GROUP BY. */
  private singleSeries(source: Source, view: View): Points {
    if ('metric' in source) return this.metric(source.metric, view);
    if ('insights' in source) return this.insights(source.insights, view).get('') ?? nothing(view);
    const evaluate = (expr: Expr): Points => {
      if ('id' in expr) {
        const input = source.inputs.get(expr.id)!;
        return 'stat' in input ? this.metric(input, view) : evaluate(input);
      }
      const xs = evaluate(expr.fill);
      const { with: filler } = expr;
      if (xs.every((x) => x === undefined)) {
        return this.options.fillWhenEmpty === 'value' && filler !== 'REPEAT' ? xs.map(() => filler) : xs;
      }
      let last: number | undefined;
      return xs.map((x) => (x !== undefined ? (last = x) : filler === 'REPEAT' ? last : filler));
    };
    return evaluate(source.math);
  }

  private metric(m: MetricStat, view: View): Points {
    const matching = view.visible.filter(
      (p) => p.namespace === m.namespace && p.metricName === m.metricName && sameDimensions(p.dimensions, m.dimensions),
    );
    return bucket(matching, m.stat, view);
  }

  /** The query's series, by contributor: its GROUP BY values joined by a space ('' without GROUP BY). */
  private insights(q: Query, view: View): Map<string, Points> {
    const end = view.start + view.count * view.periodMs;
    const groups = new Map<string, Datapoint[]>();
    for (const p of view.visible) {
      if (p.namespace !== q.namespace || p.metricName !== q.metricName) continue;
      if (p.timestamp < view.start || p.timestamp >= end || !sameKeys(p.dimensions, q.schema)) continue;
      if (!q.where.every((c) => (p.dimensions[c.dim] === c.value) === c.equal)) continue;
      if (view.at - this.firstArrival.get(seriesKey(p))! < this.options.newSeriesVisibleAfterMs) continue;
      const key = q.groupBy.map((d) => p.dimensions[d]).join(' ');
      groups.set(key, groups.get(key) ?? []).get(key)!.push(p);
    }
    // By the ORDER BY function of each series' datapoints, else by GROUP BY values; 500 series at most.
    const series = [...groups].map(([key, points]): [string, Points] => [key, bucket(points, q.stat, view)]);
    const { orderBy } = q;
    const score = (points: Points) => orderBy!.stat(points.filter((v) => v !== undefined));
    series.sort(orderBy ? (a, b) => orderBy.direction * (score(a[1]) - score(b[1])) : ([a], [b]) => a.localeCompare(b));
    return new Map(series.slice(0, q.limit));
  }

  private parse({ logicalId, properties: p }: AlarmDefinition): Alarm {
    if (!(p.ComparisonOperator in COMPARE)) throw new Error(`unsupported ComparisonOperator ${p.ComparisonOperator}`);
    const rule: Rule = {
      comparison: p.ComparisonOperator,
      threshold: Number(p.Threshold),
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      treatMissingData: p.TreatMissingData ?? 'missing',
    };
    const clock = p.EvaluationWindow?.WallClockWindow;
    if (![undefined, 'UTC', 'Z'].includes(clock?.Timezone)) throw new Error(`unsupported time zone ${clock.Timezone}`);
    const window = clock ? 'wallClock' : p.EvaluationWindow?.SlidingWindow ? 'sliding' : this.options.window;
    const name = resolveName(p.AlarmName ?? logicalId);
    if (!['missing', 'ignore', 'breaching', 'notBreaching'].includes(rule.treatMissingData)) {
      throw new Error(`unsupported TreatMissingData ${rule.treatMissingData}`);
    }
    const parsed = (seconds: number, source: Source): Alarm => {
      if (!(seconds >= 60 && seconds % 60 === 0)) throw new Error(`unsupported period ${seconds}: whole minutes only`);
      const periodMs = seconds * 1000;
      return { name, props: p, rule, window, periodMs, source, state: 'INSUFFICIENT_DATA', contributors: new Map() };
    };
    if (p.MetricName !== undefined) return parsed(p.Period, { metric: metricStat(p) });
    const entries: any[] = p.Metrics ?? [];
    const returned = entries.filter((e) => e.ReturnData !== false);
    if (returned.length !== 1) throw new Error(`exactly one entry of Metrics must return data, got ${returned.length}`);
    const [result] = returned;
    const period = result.Period ?? entries.find((e) => e.MetricStat)?.MetricStat.Period;
    const isQuery = /^\s*SELECT\b/i.test(result.Expression ?? '');
    if (isQuery) return parsed(period, { insights: parseQuery(result.Expression) });
    const inputs = new Map<string, MetricStat | Expr>(
      entries.map((e) => {
        const stat = e.MetricStat;
        return [e.Id, stat ? metricStat({ ...stat.Metric, Statistic: stat.Stat }) : parseExpression(e.Expression)];
      }),
    );
    const refs = (x: MetricStat | Expr): string[] => ('id' in x ? [x.id] : 'fill' in x ? refs(x.fill) : []);
    const unknown = [...inputs.values()].flatMap(refs).filter((id) => !inputs.has(id));
    if (unknown.length > 0) throw new Error(`metric math refers to unknown ids ${unknown.join(', ')}`);
    return parsed(period, { math: { id: result.Id }, inputs });
  }
}

/** A bare id, `FILL(id, <number>)` or `FILL(id, REPEAT)`; anything else throws, naming it. */
export function parseExpression(text: string): Expr {
  const t = text.trim();
  if (/^[a-z][A-Za-z0-9_]*$/.test(t)) return { id: t };
  const fill = /^FILL\(\s*(.+?)\s*,\s*(REPEAT|-?\d+(?:\.\d+)?)\s*\)$/.exec(t);
  if (fill) return { fill: parseExpression(fill[1]), with: fill[2] === 'REPEAT' ? 'REPEAT' : Number(fill[2]) };
  throw new Error(`unsupported metric math expression "${text}": only an id, FILL(id, <number>) and FILL(id, REPEAT)`);
}

/** The Metrics Insights forms lib/private/insights.ts writes; anything else throws, naming it. */
export function parseQuery(text: string): Query {
  const fn = 'SUM|MAX|MIN|AVG|COUNT';
  const match = new RegExp(
    `^SELECT (${fn})\\((\\w+)\\) FROM SCHEMA\\("([^"]+)"((?:, ?\\w+)*)\\)(?: WHERE (.+?))?` +
      `(?: GROUP BY (\\w+(?:, ?\\w+)*))?(?: ORDER BY (${fn})\\(\\)(?: (ASC|DESC))?)?(?: LIMIT (\\d+))?$`,
    'i', // keywords are not case sensitive
  ).exec(text.trim().replace(/\s+/g, ' '));
  if (!match) throw new Error(`unsupported Metrics Insights query "${text}"`);
  const [, stat, metricName, namespace, schema, where, groupBy, orderFn, order, limit] = match;
  const list = (s?: string) => (s ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
  const conditions = (where ? where.split(/ AND /i) : []).map((condition) => {
    const c = /^(\w+) (=|!=) '([^']*)'$/.exec(condition);
    if (!c) throw new Error(`unsupported condition "${condition}" in Metrics Insights query "${text}"`);
    return { dim: c[1], equal: c[2] === '=', value: c[3] };
  });
  const direction = /desc/i.test(order ?? '') ? -1 : 1; // ascending unless DESC
  const orderBy = orderFn ? { stat: INSIGHTS_STATS[orderFn.toUpperCase()], direction } : undefined;
  return {
    namespace, metricName, stat: INSIGHTS_STATS[stat.toUpperCase()], schema: list(schema), where: conditions,
    groupBy: list(groupBy), orderBy, limit: Math.min(Number(limit ?? INSIGHTS_MAX_SERIES), INSIGHTS_MAX_SERIES),
  };
}

/** A metric as an alarm or a MetricStat names it (Namespace, MetricName, Dimensions, and its statistic). */
function metricStat(m: Record<string, any>): MetricStat {
  const { Namespace, MetricName, Dimensions = [], Statistic, ExtendedStatistic } = m;
  if (!(Statistic in STATS)) throw new Error(`unsupported statistic ${Statistic ?? ExtendedStatistic}`);
  const dimensions = Object.fromEntries(Dimensions.map((d: { Name: string; Value: string }) => [d.Name, d.Value]));
  return { namespace: Namespace, metricName: MetricName, dimensions, stat: STATS[Statistic] };
}

/** `AlarmName` as a string: a Ref becomes its logical id, and a Fn::Join of such parts is joined. */
function resolveName(name: unknown): string {
  if (typeof name === 'string') return name;
  const n = name as Record<string, any>;
  if (typeof n?.Ref === 'string') return n.Ref;
  if (Array.isArray(n?.['Fn::Join'])) return (n['Fn::Join'][1] as unknown[]).map(resolveName).join(n['Fn::Join'][0]);
  throw new Error(`cannot resolve alarm name ${JSON.stringify(name)}`);
}

const nothing = ({ count }: View): Points => new Array(count).fill(undefined);

/** The datapoints of each period of a window, reduced by `stat`: undefined for a period without one. */
export function bucket(points: readonly Datapoint[], stat: Stat, { start, periodMs, count }: Pick<View, 'start' | 'periodMs' | 'count'>): Points {
  const values: number[][] = Array.from({ length: count }, () => []);
  for (const p of points) {
    const i = Math.floor((p.timestamp - start) / periodMs);
    if (i >= 0 && i < count) values[i].push(p.value);
  }
  return values.map((v) => (v.length > 0 ? stat(v) : undefined));
}

/** Whether a datapoint's dimensions are exactly these keys (a Metrics Insights SCHEMA). */
export const sameKeys = (dims: Record<string, string>, keys: string[]) =>
  Object.keys(dims).length === keys.length && keys.every((k) => k in dims);
/** Whether two sets of dimensions are the same names with the same values. */
export const sameDimensions = (a: Record<string, string>, b: Record<string, string>) =>
  sameKeys(a, Object.keys(b)) && Object.entries(b).every(([k, v]) => a[k] === v);
const seriesKey = (p: Datapoint) =>
  JSON.stringify([p.namespace, p.metricName, Object.entries(p.dimensions).sort(([a], [b]) => a.localeCompare(b))]);

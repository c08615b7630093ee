/**
 * The dashboard a synthesized template holds, read the way CloudWatch reads it: its body (`DashboardBody`, the widgets
 * `monitor.widgets()` makes, laid out by `Dashboard`), each graph's series computed from the demo's datapoints (metrics
 * with their statistic and period, `FILL(...)` expressions, Metrics Insights queries), each log table's rows from
 * the demo's log lines, and each alarm status widget's alarms by name.
 */
import { Datapoint, bucket, parseExpression, parseQuery, sameDimensions, sameKeys } from '../../test/support/alarm-evaluator';

/** A widget as the dashboard's body places it, in grid units (24 columns), with what it draws. */
export interface WidgetData {
  readonly type: 'text' | 'alarm' | 'metric' | 'log' | string;
  readonly title?: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** A text widget's markdown. */
  readonly markdown?: string;
  /** An alarm status widget's alarms, by name. */
  readonly alarms?: string[];
  /** A graph's series, one value per period of the day (`null`: no datapoint). */
  readonly series?: SeriesData[];
  readonly periodSeconds?: number;
  readonly stacked?: boolean;
  readonly yAxis?: { left?: AxisData; right?: AxisData };
  /** A log table's columns and rows (newest first). */
  readonly columns?: string[];
  readonly rows?: string[][];
}

export interface AxisData {
  readonly label?: string;
  readonly min?: number;
}

export interface SeriesData {
  readonly label: string;
  readonly axis: 'left' | 'right';
  readonly values: (number | null)[];
}

export interface DashboardData {
  readonly name: string;
  readonly widgets: WidgetData[];
}

export interface DashboardInputs {
  readonly points: readonly Datapoint[];
  readonly logs: readonly Record<string, any>[];
  readonly from: number;
  readonly to: number;
  readonly region: string;
  readonly account: string;
  /** Names to show for pool IDs in a query's series labels. */
  readonly poolNames?: Record<string, string>;
}

const STATS: Record<string, (v: number[]) => number> = {
  Sum: (v) => v.reduce((a, b) => a + b, 0),
  Maximum: (v) => Math.max(...v),
  Minimum: (v) => Math.min(...v),
  Average: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  SampleCount: (v) => v.length,
};

/** The template's one dashboard, each widget with what it draws over `from` to `to`. */
export function dashboardOf(template: Record<string, any>, inputs: DashboardInputs): DashboardData {
  const dashboards = Object.entries<any>(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) throw new Error(`expected one dashboard in the template, found ${dashboards.length}`);
  const [logicalId, resource] = dashboards[0];
  const body = JSON.parse(resolve(resource.Properties.DashboardBody, template, inputs));
  const alarmNames = alarmArns(template, inputs);
  return {
    name: logicalId,
    widgets: (body.widgets as any[]).map((w) => widgetData(w, inputs, alarmNames)),
  };
}

function widgetData(w: any, inputs: DashboardInputs, alarmNames: Map<string, string>): WidgetData {
  const p = w.properties ?? {};
  const place = { type: w.type, x: w.x ?? 0, y: w.y ?? 0, width: w.width ?? 6, height: w.height ?? 6 };
  switch (w.type) {
    case 'text':
      return { ...place, markdown: p.markdown };
    case 'alarm':
      return { ...place, title: p.title, alarms: (p.alarms as string[]).map((arn) => alarmNames.get(arn) ?? arn) };
    case 'metric':
      return {
        ...place,
        title: p.title,
        periodSeconds: p.period ?? 300,
        stacked: p.stacked ?? false,
        yAxis: p.yAxis,
        series: graphSeries(p, inputs),
      };
    case 'log':
      return { ...place, title: p.title, ...logTable(p.query, inputs.logs) };
    default:
      return { ...place, title: p.title };
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The body's references

/** The body as text, its references resolved as CloudFormation would for the demo's account and region. */
function resolve(value: unknown, template: Record<string, any>, inputs: DashboardInputs): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'];
    return (parts as unknown[]).map((part) => (typeof part === 'string' ? part : escape(resolve(part, template, inputs)))).join(separator);
  }
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Region': inputs.region, 'AWS::AccountId': inputs.account, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[v.Ref]) return pseudo[v.Ref];
    const resource = template.Resources?.[v.Ref];
    if (resource?.Type === 'AWS::Logs::LogGroup' && typeof resource.Properties?.LogGroupName === 'string') return resource.Properties.LogGroupName;
    return v.Ref;
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attribute] = v['Fn::GetAtt'];
    const resource = template.Resources?.[id];
    if (resource?.Type === 'AWS::CloudWatch::Alarm' && attribute === 'Arn') return alarmArn(String(resource.Properties.AlarmName ?? id), inputs);
    return `${id}.${attribute}`;
  }
  throw new Error(`the dashboard body holds a reference the demo cannot resolve: ${JSON.stringify(value)}`);
}

/** A value to put inside a JSON string of the body. */
const escape = (text: string): string => JSON.stringify(text).slice(1, -1);

const alarmArn = (name: string, inputs: DashboardInputs) => `arn:aws:cloudwatch:${inputs.region}:${inputs.account}:alarm:${name}`;

function alarmArns(template: Record<string, any>, inputs: DashboardInputs): Map<string, string> {
  return new Map(
    Object.entries<any>(template.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => String(r.Properties.AlarmName ?? id))
      .map((name) => [alarmArn(name, inputs), name]),
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// A graph's series

type Values = (number | undefined)[];

interface Grid {
  readonly from: number;
  readonly periodMs: number;
  readonly count: number;
}

/** The grid as the evaluator's window of periods. */
const window = ({ from, periodMs, count }: Grid) => ({ start: from, periodMs, count });

/** The visible series of a graph, in its order: a metric, a math expression, or a query's series (one per group). */
function graphSeries(p: any, inputs: DashboardInputs): SeriesData[] {
  const periodMs = (p.period ?? 300) * 1000;
  const grid: Grid = { from: inputs.from, periodMs, count: Math.ceil((inputs.to - inputs.from) / periodMs) };
  const entries = (p.metrics as unknown[][]).map((entry) => {
    const last = entry[entry.length - 1];
    const options = typeof last === 'object' && last !== null && !Array.isArray(last) ? (last as Record<string, any>) : {};
    const fields = (options === last ? entry.slice(0, -1) : entry) as string[];
    return { fields, options };
  });
  const byId = new Map(entries.filter((e) => e.options.id !== undefined).map((e) => [e.options.id as string, e]));
  const metricValues = (fields: string[], stat: string): Values => {
    const [namespace, metricName, ...dims] = fields;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i]] = dims[i + 1];
    const fn = STATS[stat] ?? STATS.Average;
    return bucket(
      inputs.points.filter((pt) => pt.namespace === namespace && pt.metricName === metricName && sameDimensions(pt.dimensions, dimensions)),
      fn,
      window(grid),
    );
  };
  const evaluate = (expression: string): Values => {
    const expr = parseExpression(expression);
    const walk = (e: ReturnType<typeof parseExpression>): Values => {
      if ('id' in e) {
        const input = byId.get(e.id);
        if (!input) throw new Error(`graph ${p.title}: no metric with id ${e.id}`);
        return input.options.expression ? evaluate(input.options.expression) : metricValues(input.fields, input.options.stat ?? 'Average');
      }
      const xs = walk(e.fill);
      // As CloudWatch draws it: a metric with no datapoint in the whole range stays empty, FILL or not.
      if (xs.every((x) => x === undefined)) return xs;
      let last: number | undefined;
      return xs.map((x) => (x !== undefined ? (last = x) : e.with === 'REPEAT' ? last : e.with));
    };
    return walk(expr);
  };

  const series: SeriesData[] = [];
  for (const { fields, options } of entries) {
    if (options.visible === false) continue;
    const axis = options.yAxis === 'right' ? 'right' : 'left';
    const expression: string | undefined = options.expression;
    if (expression !== undefined && /^\s*SELECT\b/i.test(expression)) {
      for (const [key, values] of insights(expression, inputs, grid)) {
        series.push({ label: options.label ?? labelOf(key, inputs.poolNames), axis, values: values.map(orNull) });
      }
    } else if (expression !== undefined) {
      series.push({ label: options.label ?? expression, axis, values: evaluate(expression).map(orNull) });
    } else {
      series.push({ label: options.label ?? fields[1], axis, values: metricValues(fields, options.stat ?? 'Average').map(orNull) });
    }
  }
  return series;
}

const orNull = (v: number | undefined): number | null => (v === undefined ? null : v);

/** A query series' label: its GROUP BY values, a pool's ID with its name. */
function labelOf(key: string, names: Record<string, string> = {}): string {
  return key
    .split(' ')
    .map((part) => (names[part] ? names[part] : part))
    .join(' ');
}

/** The series of a Metrics Insights query over the grid, by GROUP BY values ('' without), in its ORDER BY and LIMIT. */
function insights(text: string, inputs: DashboardInputs, grid: Grid): Map<string, Values> {
  const q = parseQuery(text);
  const end = grid.from + grid.count * grid.periodMs;
  const groups = new Map<string, Datapoint[]>();
  for (const pt of inputs.points) {
    if (pt.namespace !== q.namespace || pt.metricName !== q.metricName) continue;
    if (pt.timestamp < grid.from || pt.timestamp >= end || !sameKeys(pt.dimensions, q.schema)) continue;
    if (!q.where.every((c) => (pt.dimensions[c.dim] === c.value) === c.equal)) continue;
    const key = q.groupBy.map((d) => pt.dimensions[d]).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), pt]);
  }
  const series = [...groups].map(([key, points]): [string, Values] => [key, bucket(points, q.stat, window(grid))]);
  const { orderBy } = q;
  const score = (values: Values) => orderBy!.stat(values.filter((v): v is number => v !== undefined));
  series.sort(orderBy ? (a, b) => orderBy.direction * (score(a[1]) - score(b[1])) : ([a], [b]) => a.localeCompare(b));
  return new Map(series.slice(0, q.limit));
}

// ---------------------------------------------------------------------------------------------------------------------
// A log table

/**
 * The rows a Logs Insights query of the forms the widgets write would return: `fields a, b | filter message = "x" or
 * message = "y" | sort @timestamp desc | limit n`.
 */
function logTable(query: string, logs: readonly Record<string, any>[]): { columns: string[]; rows: string[][] } {
  const fields = /fields ([^\n|]+)/.exec(query)?.[1].split(',').map((f) => f.trim()) ?? ['@timestamp', 'message'];
  const wanted = [...(/filter ([^\n|]+)/.exec(query)?.[1] ?? '').matchAll(/message = "([^"]+)"/g)].map((m) => m[1]);
  const limit = Number(/limit (\d+)/.exec(query)?.[1] ?? 1000);
  const rows = logs
    .filter((line) => wanted.length === 0 || wanted.includes(line.message))
    .sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)))
    .slice(0, limit)
    .map((line) => fields.map((f) => (f === '@timestamp' ? String(line.timestamp ?? '').replace('T', ' ').slice(0, 19) : cell(line[f]))));
  return { columns: fields, rows };
}

const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

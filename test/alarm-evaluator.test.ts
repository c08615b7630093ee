import { App, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor, ImportJobMonitorProps } from '../lib';
import {
  AlarmDefinition,
  AlarmEvaluator,
  Datapoint,
  EvaluatorOptions,
  Rule,
  State,
  Transition,
  TreatMissingData,
  alarmsOf,
  datapointsFromEmf,
  evaluateRange,
} from './support/alarm-evaluator';
import { EmfRecord } from './support/emf';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1, 12, 0); // a whole hour, so that five-minute periods start at minutes 0, 5, 10...
const at = (minute: number) => T0 + minute * MIN;
const minuteOf = (t: number) => (t - T0) / MIN;
const NS = 'Cognito/UserImportJobs';

function point(metricName: string, dimensions: Record<string, string>, minute: number, value: number, lateBy = 0) {
  const timestamp = at(minute);
  return { namespace: NS, metricName, dimensions, timestamp, value, arrivesAt: timestamp + lateBy } satisfies Datapoint;
}
const jobFailed = (pool: string, minute: number, lateBy = 0) =>
  point('JobsCompleted', { Status: 'Failed', UserPoolId: pool }, minute, 1, lateBy);

function alarm(properties: Record<string, any>): AlarmDefinition {
  const defaults = { AlarmName: 'A', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 };
  const actions = { AlarmActions: ['page'], OKActions: ['ok'] };
  return { logicalId: 'A', properties: { ...defaults, EvaluationPeriods: 1, ...actions, ...properties } };
}

/** A plain metric alarm on JobsCompleted{UserPoolId=p}: 1 of 1 one-minute periods, Sum >= 1. */
const failedJobs = (properties: Record<string, any> = {}) =>
  alarm({
    Namespace: NS,
    MetricName: 'JobsCompleted',
    Dimensions: [{ Name: 'UserPoolId', Value: 'p' }],
    Statistic: 'Sum',
    Period: 60,
    ...properties,
  });

/** A metric math alarm on Heartbeat: `expression` < 1 in 1 of 3 one-minute periods, missing data not breaching. */
const heartbeat = (expression: string, properties: Record<string, any> = {}) =>
  alarm({
    ComparisonOperator: 'LessThanThreshold',
    EvaluationPeriods: 3,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
    Metrics: [
      { Id: 'expr_1', Expression: expression, ReturnData: true },
      {
        Id: 'heartbeat',
        MetricStat: { Metric: { Namespace: NS, MetricName: 'Heartbeat', Dimensions: [] }, Period: 60, Stat: 'Sum' },
        ReturnData: false,
      },
    ],
    ...properties,
  });

/** A Metrics Insights alarm: 1 of 1 one-minute periods, missing data not breaching. */
const insights = (query: string) =>
  alarm({
    TreatMissingData: 'notBreaching',
    Metrics: [{ Id: 'expr_1', Expression: query, Period: 60, ReturnData: true }],
  });
const FAILED_BY_POOL = `SELECT SUM(JobsCompleted) FROM SCHEMA("${NS}", Status, UserPoolId) WHERE Status = 'Failed' \
GROUP BY UserPoolId ORDER BY SUM() DESC`;

/** Creates the alarms at minute 0 and evaluates them every minute up to `until`. */
function run(alarms: AlarmDefinition[], points: Datapoint[], until: number, options: EvaluatorOptions = {}) {
  const evaluator = new AlarmEvaluator(alarms, { createdAt: at(0), ...options });
  evaluator.add(points);
  return { evaluator, transitions: evaluator.advanceTo(at(until)) };
}
const states = (transitions: Transition[]) => transitions.map((t) => [minuteOf(t.at), t.to]);

describe('evaluateRange follows the tables of "How alarm state is evaluated when data is missing"', () => {
  // Evaluation range 5, Evaluation Periods 3. Datapoints oldest first: 0 not breaching, X breaching, - missing.
  // Columns: MISSING, IGNORE, BREACHING, NOT BREACHING; "retain" is the state the alarm was in.
  const TREATMENTS: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
  const rows: [number, string, (State | 'retain')[]][] = [
    // alarms-and-missing-data.html, first table: Datapoints to Alarm 3
    [3, '0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    [3, '0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    [3, '- - - - -', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
    [3, '0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [3, '- - X - -', ['ALARM', 'retain', 'ALARM', 'OK']],
    // second table: Datapoints to Alarm 2
    [2, '0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [2, '0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [2, '0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    [2, '- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    [2, '- - - X -', ['ALARM', 'retain', 'ALARM', 'OK']],
    // rows of earlier editions (AlarmThatSendsEmail.md), and "Avoiding premature transitions to alarm state"
    [3, '- - - - X', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
    [3, 'X - - - -', ['ALARM', 'retain', 'ALARM', 'OK']],
    [2, '- - - - X', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
    [3, '- - - X -', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
  ];
  const points = (pattern: string) => pattern.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 5 : 0));

  it.each(rows)('%d of 3 with %s gives %j', (m, pattern, expected) => {
    TREATMENTS.forEach((treatMissingData, i) => {
      const rule: Rule = {
        comparison: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: m,
        treatMissingData,
      };
      for (const current of ['OK', 'ALARM'] as State[]) {
        const want = expected[i] === 'retain' ? current : expected[i];
        const got = evaluateRange(points(pattern), rule, current).state;
        expect([treatMissingData, current, got]).toEqual([treatMissingData, current, want]);
      }
    });
  });
});

describe('AlarmEvaluator', () => {
  it('puts a new alarm that treats missing data as breaching in ALARM at once, running its alarm actions', () => {
    const { transitions } = run([failedJobs({ TreatMissingData: 'breaching' })], [], 0);
    expect(transitions).toEqual([
      expect.objectContaining({ at: at(0), from: 'INSUFFICIENT_DATA', to: 'ALARM', actions: ['page'] }),
    ]);
  });

  it('runs nothing for the initial INSUFFICIENT_DATA state', () => {
    const { evaluator, transitions } = run([failedJobs({ InsufficientDataActions: ['insufficient'] })], [], 5);
    expect(transitions).toEqual([]);
    expect(evaluator.state('A')).toBe('INSUFFICIENT_DATA');
  });

  it('does not see a late datapoint before it arrives', () => {
    const late = point('JobsCompleted', { UserPoolId: 'p' }, 0, 1, 2.5 * MIN);
    const { transitions } = run([failedJobs({ TreatMissingData: 'notBreaching' })], [late], 6);
    expect(states(transitions)).toEqual([[0, 'OK'], [3, 'ALARM'], [4, 'OK']]);
  });

  it('matches a metric alarm to the exact dimension set only', () => {
    const other = point('JobsCompleted', { UserPoolId: 'p', Status: 'Failed' }, 0, 1);
    const { transitions } = run([failedJobs({ TreatMissingData: 'notBreaching' })], [other], 3);
    expect(states(transitions)).toEqual([[0, 'OK']]);
  });

  it('keeps ALARM when all data disappears and missing data is ignored', () => {
    const once = [point('JobsCompleted', { UserPoolId: 'p' }, 0, 1)];
    const { evaluator, transitions } = run([failedJobs({ TreatMissingData: 'ignore' })], once, 30);
    expect(states(transitions)).toEqual([[1, 'ALARM']]);
    expect(evaluator.state('A')).toBe('ALARM');
  });

  it('fills a gap with FILL(id, 0), where the bare metric would not breach', () => {
    const minutes = [-10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 3, 4, 5, 6]; // none at minute 2
    const beats = minutes.map((minute) => point('Heartbeat', {}, minute, 1));
    const filled = run([heartbeat('FILL(heartbeat, 0)')], beats, 7);
    expect(states(filled.transitions)).toEqual([[0, 'OK'], [3, 'ALARM'], [6, 'OK']]);
    expect(states(run([heartbeat('heartbeat')], beats, 7).transitions)).toEqual([[0, 'OK']]);
  });

  it('gets nothing from FILL over a range without any datapoint, unless fillWhenEmpty is value', () => {
    expect(states(run([heartbeat('FILL(heartbeat, 0)')], [], 10).transitions)).toEqual([[0, 'OK']]);
    const filled = run([heartbeat('FILL(heartbeat, 0)')], [], 10, { fillWhenEmpty: 'value' });
    expect(states(filled.transitions)).toEqual([[0, 'ALARM']]);
  });

  it('repeats the last value with FILL(id, REPEAT)', () => {
    const beats = [point('Heartbeat', {}, 0, 1), point('Heartbeat', {}, 1, 0)];
    const onZero = heartbeat('FILL(heartbeat, REPEAT)', { EvaluationPeriods: 1, TreatMissingData: 'missing' });
    expect(states(run([onZero], beats, 8).transitions)).toEqual([[1, 'OK'], [2, 'ALARM'], [5, 'INSUFFICIENT_DATA']]);
  });

  it('puts a GROUP BY query in ALARM when one contributor breaches, naming it, and in OK when its series ends', () => {
    const quietB = { Status: 'Failed', UserPoolId: 'B' };
    const quiet = [0, 1, 2, 3, 4, 5, 6, 7].map((minute) => point('JobsCompleted', quietB, minute, 0));
    const { transitions } = run([insights(FAILED_BY_POOL)], [jobFailed('A', 2), ...quiet], 8);
    const seen = transitions.map((t) => ({
      minute: minuteOf(t.at), who: t.contributor, to: t.to, in: t.contributors, do: t.actions,
    }));
    expect(seen).toEqual([
      { minute: 1, who: undefined, to: 'OK', in: [], do: ['ok'] },
      { minute: 3, who: 'A', to: 'ALARM', in: ['A'], do: ['page'] },
      { minute: 3, who: undefined, to: 'ALARM', in: ['A'], do: ['page'] },
      { minute: 6, who: 'A', to: 'OK', in: [], do: ['ok'] },
      { minute: 6, who: undefined, to: 'OK', in: [], do: ['ok'] },
    ]);
    expect(transitions[3].reason).toBe('No data was returned for this contributor');
  });

  it('keeps the first LIMIT series in ORDER BY order, by the ORDER BY function of each series', () => {
    const failures = [jobFailed('A', 1), jobFailed('B', 1), jobFailed('B', 1)]; // B sums to 2, A to 1
    const inAlarm = (query: string) => run([insights(query)], failures, 2).transitions.at(-1)!.contributors;
    expect(inAlarm(`${FAILED_BY_POOL} LIMIT 1`)).toEqual(['B']);
    expect(inAlarm(`${FAILED_BY_POOL.replace(' DESC', '')} LIMIT 1`)).toEqual(['A']);
    expect(inAlarm(FAILED_BY_POOL)).toEqual(['B', 'A']);
  });

  it('evaluates only the last three hours for a Metrics Insights alarm', () => {
    const hourly = { Period: 3600, EvaluationPeriods: 3, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' };
    const query = { Id: 'q', Expression: FAILED_BY_POOL, Period: 3600, ReturnData: true };
    const byQuery = alarm({ ...hourly, Metrics: [query] });
    const byMetric = alarm({
      ...hourly,
      Namespace: NS,
      MetricName: 'JobsCompleted',
      Dimensions: [{ Name: 'Status', Value: 'Failed' }, { Name: 'UserPoolId', Value: 'A' }],
      Statistic: 'Sum',
    });
    const hours = (a: AlarmDefinition) =>
      run([a], [jobFailed('A', 0)], 6 * 60, { stepMs: 60 * MIN }).transitions
        .filter((t) => t.contributor === undefined)
        .map((t) => [minuteOf(t.at) / 60, t.to]);
    expect(hours(byMetric)).toEqual([[0, 'OK'], [1, 'ALARM'], [6, 'OK']]); // a range of five hours
    expect(hours(byQuery)).toEqual([[1, 'ALARM'], [4, 'INSUFFICIENT_DATA']]); // a range of three
  });

  it('is INSUFFICIENT_DATA while a GROUP BY query returns no series, unless emptyInsightsResult says otherwise', () => {
    expect(run([insights(FAILED_BY_POOL)], [], 3).transitions).toEqual([]);
    const treated = run([insights(FAILED_BY_POOL)], [], 3, { emptyInsightsResult: 'treatMissingData' });
    expect(states(treated.transitions)).toEqual([[0, 'OK']]);
  });

  it('matches SCHEMA to the exact dimension set only', () => {
    const more = point('JobsCompleted', { Status: 'Failed', UserPoolId: 'A', Region: 'x' }, 1, 1);
    const fewer = point('JobsCompleted', { UserPoolId: 'A' }, 1, 1);
    expect(run([insights(FAILED_BY_POOL)], [more, fewer], 4).transitions).toEqual([]);
    const matched = run([insights(FAILED_BY_POOL)], [jobFailed('A', 1)], 4);
    expect(states(matched.transitions)).toContainEqual([2, 'ALARM']);
  });

  it('keeps a new series out of a Metrics Insights alarm for newSeriesVisibleAfterMs', () => {
    const alarmedAt = (options: EvaluatorOptions) =>
      run([insights(FAILED_BY_POOL)], [jobFailed('A', 0, 10_000)], 10, options)
        .transitions.filter((t) => t.to === 'ALARM' && t.contributor === undefined)
        .map((t) => minuteOf(t.at));
    expect(alarmedAt({})).toEqual([1]);
    expect(alarmedAt({ newSeriesVisibleAfterMs: 2 * MIN })).toEqual([3]);
    // seen from 5:10 on, when the period of minute 0 has left the evaluation range
    expect(alarmedAt({ newSeriesVisibleAfterMs: 5 * MIN })).toEqual([]);
  });

  it('slides a window to the evaluation minute, or waits for the whole period with a wall clock window', () => {
    const once = [point('JobsCompleted', { UserPoolId: 'p' }, 1, 1)];
    const fiveMinutes = { Period: 300, TreatMissingData: 'notBreaching' };
    const clock = failedJobs({ ...fiveMinutes, EvaluationWindow: { WallClockWindow: {} } });
    // the datapoint of minute 1 counts until its period leaves the range of three periods
    const sliding = run([failedJobs(fiveMinutes)], once, 22);
    expect(states(sliding.transitions)).toEqual([[0, 'OK'], [2, 'ALARM'], [17, 'OK']]);
    expect(states(run([clock], once, 22).transitions)).toEqual([[0, 'OK'], [5, 'ALARM'], [20, 'OK']]);
    const byOption = run([failedJobs(fiveMinutes)], once, 22, { window: 'wallClock' });
    expect(states(byOption.transitions)).toEqual([[0, 'OK'], [5, 'ALARM'], [20, 'OK']]);
  });

  it('fails naming an expression, a period or a statistic it does not understand', () => {
    expect(() => new AlarmEvaluator([heartbeat('RATE(heartbeat)')])).toThrow(
      /alarm A: unsupported metric math expression "RATE\(heartbeat\)"/,
    );
    expect(() => new AlarmEvaluator([insights(`SELECT SUM(JobsCompleted) FROM "${NS}"`)])).toThrow(
      /unsupported Metrics Insights query "SELECT SUM\(JobsCompleted\) FROM "Cognito/,
    );
    expect(() => new AlarmEvaluator([insights(FAILED_BY_POOL.replace("= 'Failed'", "LIKE 'F%'"))])).toThrow(
      /unsupported condition "Status LIKE 'F%'"/,
    );
    expect(() => new AlarmEvaluator([failedJobs({ Period: 10 })])).toThrow(/unsupported period 10/);
    const percentile = failedJobs({ Statistic: undefined, ExtendedStatistic: 'p99' });
    expect(() => new AlarmEvaluator([percentile])).toThrow(/unsupported statistic p99/);
  });

  it('reads datapoints from embedded metric format records, one per metric and dimension set', () => {
    const directive = {
      Namespace: NS,
      Dimensions: [['UserPoolId'], ['UserPoolId', 'Status']],
      Metrics: [{ Name: 'JobsCompleted', Unit: 'Count' }],
    };
    const record: EmfRecord = {
      _aws: { Timestamp: at(1), CloudWatchMetrics: [directive] },
      UserPoolId: 'p',
      Status: 'Failed',
      JobsCompleted: 2,
    };
    const seen = { metricName: 'JobsCompleted', timestamp: at(1), value: 2, arrivesAt: at(1) + 30_000 };
    expect(datapointsFromEmf([record], { delayMs: 30_000 })).toEqual([
      { namespace: NS, dimensions: { UserPoolId: 'p' }, ...seen },
      { namespace: NS, dimensions: { UserPoolId: 'p', Status: 'Failed' }, ...seen },
    ]);
  });
});

describe('the alarms the construct synthesizes', () => {
  function synthesized(props: (stack: Stack) => ImportJobMonitorProps): AlarmDefinition[] {
    // Without the template validation plugin, whose engine takes seconds to start: these tests read the alarms only.
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const alarmActions = [new actions.SnsAction(new sns.Topic(stack, 'Topic'))];
    new ImportJobMonitor(stack, 'Monitor', { alarmActions, ...props(stack) });
    return alarmsOf(Template.fromStack(stack).toJSON());
  }
  const pool = (stack: Stack, id: string) => cognito.UserPool.fromUserPoolId(stack, id, id);
  const fleet = (stack: Stack) => ({ userPools: [pool(stack, 'eu-west-1_A'), pool(stack, 'eu-west-1_B')] });

  it.each<[string, (stack: Stack) => ImportJobMonitorProps]>([
    ['a single pool', (stack) => ({ userPool: pool(stack, 'eu-west-1_AbC123') })],
    ['a fleet of pools', fleet],
    ['a discovered fleet', () => ({ discoverUserPools: {} })],
  ])('of %s all parse, each under its name', (_, props) => {
    const alarms = synthesized(props);
    const evaluator = new AlarmEvaluator(alarms, { createdAt: T0 });
    expect(alarms.length).toBeGreaterThanOrEqual(6);
    for (const a of alarms) expect(evaluator.state(a.properties.AlarmName)).toBe('INSUFFICIENT_DATA');
  });

  it('of a fleet page once a failed job is published for one pool, naming the pool', () => {
    const { transitions } = run(synthesized(fleet), [jobFailed('eu-west-1_B', 4, 20_000)], 6);
    const paged = transitions.filter((t) => t.to === 'ALARM' && t.alarmName.endsWith('-JobFailed'));
    const topic = [{ Ref: expect.stringMatching(/^Topic/) }];
    expect(paged.map((t) => [minuteOf(t.at), t.contributor, t.contributors, t.actions])).toEqual([
      [5, 'eu-west-1_B', ['eu-west-1_B'], topic],
      [5, undefined, ['eu-west-1_B'], topic],
    ]);
  });
});

/**
 * What a single pool's monitor publishes over a simulated day, counted as CloudWatch bills it: a series for each hour
 * it receives a datapoint in. A quiet pool sends its heartbeat and nothing else; a busy one sends its news, and the
 * zeros its alarms need, in the hours around its job only. The bundled handler runs tick by tick against the loopback
 * world (test/support/simulation.ts), the alarms of the synthesized stack evaluated as it goes.
 */
import { App, Duration, Stack, aws_cloudwatch_actions as cw_actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor, ImportJobMonitorProps } from '../lib';
import { AlarmEvaluator, alarmsOf, datapointsFromEmf } from './support/alarm-evaluator';
import { FakeJob } from './support/fake-cognito';
import { Loopback, loopbackForEachTest } from './support/loopback';
import { SimulatedMonitor, Timeline, runTimeline } from './support/simulation';

const DAY = Date.UTC(2026, 2, 2);
const HOUR = 3_600_000;
const MINUTE = 60_000;
const POOL = 'eu-west-1_Quiet1';
const at = (h: number, m = 0) => DAY + h * HOUR + m * MINUTE;
// A day of ticks takes about 20 s of handler here, more on a busy machine.
jest.setTimeout(300_000);

function template(props: Partial<ImportJobMonitorProps> = {}): Record<string, any> {
  const stack = new Stack(new App(), 'Quiet', { env: { account: '123456789012', region: 'eu-west-1' } });
  const topic = new sns.Topic(stack, 'Topic');
  new ImportJobMonitor(stack, 'Monitor', {
    userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', POOL),
    alarmActions: [new cw_actions.SnsAction(topic)],
    ...props,
  });
  return Template.fromStack(stack).toJSON();
}

let world: Loopback;
loopbackForEachTest((started) => (world = started));

/** A day of ticks, a minute apart, after the deployment's run at midnight, with the alarms evaluated. */
async function day(json: Record<string, any>, jobsAt: (t: number) => FakeJob[]): Promise<{ timeline: Timeline; evaluator: AlarmEvaluator }> {
  const monitor = await SimulatedMonitor.create(world, json);
  const evaluator = new AlarmEvaluator(alarmsOf(json));
  const timeline = await runTimeline({
    monitor,
    evaluator,
    deployAt: at(0),
    alarmsCreatedAt: at(0) + 20_000,
    from: at(0, 1),
    to: at(24) - MINUTE,
    before: (t) => void world.cognito.pools.set(POOL, jobsAt(t)),
  });
  return { timeline, evaluator };
}

/** Each series published (`Name{Dim=value,...}`), with the hours of the day (0-23) it had a datapoint in. */
function seriesHours(timeline: Timeline): Map<string, number[]> {
  const hours = new Map<string, Set<number>>();
  for (const point of timeline.ticks.flatMap((tick) => datapointsFromEmf(tick.emf))) {
    const dims = Object.entries(point.dimensions).filter(([name]) => name !== 'UserPoolId').map(([name, value]) => `${name}=${value}`);
    const key = `${point.metricName}${dims.length ? `{${dims.join(',')}}` : ''}`;
    if (!hours.has(key)) hours.set(key, new Set());
    hours.get(key)!.add(Math.floor((point.timestamp - DAY) / HOUR));
  }
  return new Map([...hours].sort(([a], [b]) => a.localeCompare(b)).map(([key, h]) => [key, [...h].sort((a, b) => a - b)]));
}

const metricHours = (series: Map<string, number[]>) => [...series.values()].reduce((sum, h) => sum + h.length, 0);
const ALL_DAY = Array.from({ length: 24 }, (_, h) => h);

/** One job: created 09:00, started 09:01, ended Succeeded at 10:00 with 3 failed users (scripts/bench-cost.ts's). */
function busyJobs(t: number): FakeJob[] {
  if (t < at(9)) return [];
  const job = { JobId: 'import-0000000001', JobName: 'daily', CreationDate: new Date(at(9)), ImportedUsers: 0, SkippedUsers: 0, FailedUsers: 0 };
  if (t < at(9, 1)) return [{ ...job, Status: 'Created' }];
  if (t < at(10)) return [{ ...job, Status: 'InProgress', StartDate: new Date(at(9, 1)), ImportedUsers: Math.floor((t - at(9, 1)) / 1000) }];
  return [{ ...job, Status: 'Succeeded', StartDate: new Date(at(9, 1)), CompletionDate: new Date(at(10)), ImportedUsers: 3_540, FailedUsers: 3 }];
}

describe('a quiet single pool is nearly free', () => {
  it('publishes its heartbeat every hour and, from the deployment run only, the warning zeros: 26 metric-hours a day', async () => {
    const { timeline, evaluator } = await day(template(), () => []);

    expect(timeline.ticks.filter((tick) => tick.error !== undefined)).toEqual([]);
    expect(Object.fromEntries(seriesHours(timeline))).toEqual({
      Heartbeat: ALL_DAY,
      // The deployment's run: a new pool's warning alarms (which keep their state without data) start OK.
      JobsAwaitingStart: [0],
      JobsStuck: [0],
    });
    expect(metricHours(seriesHours(timeline))).toBe(26);
    // Every alarm is OK after the quiet day, none without data, as when every run sent 18 zeros.
    expect(timeline.transitions.filter((t) => t.to === 'ALARM')).toEqual([]);
    for (const { properties } of alarmsOf(template())) expect([properties.AlarmName, evaluator.state(properties.AlarmName)]).toEqual([properties.AlarmName, 'OK']);
  });

  it('publishes a busy day\'s news only: a job that raised no warning needs no zeros, and counts need none', async () => {
    const { timeline } = await day(template(), busyJobs);

    expect(timeline.ticks.filter((tick) => tick.error !== undefined)).toEqual([]);
    const series = seriesHours(timeline);
    expect(Object.fromEntries(series)).toEqual({
      'FailedUsers': [10],
      'FailedUsersOfEndedJobs': [10],
      'Heartbeat': ALL_DAY,
      'ImportedUsers': [9, 10],
      'Jobs{Status=Created}': [9],
      'Jobs{Status=InProgress}': [9],
      // The deployment's run's zeros, so that the warning alarms start OK.
      'JobsAwaitingStart': [0],
      'JobsCompleted{Status=Succeeded}': [10],
      'JobsStuck': [0],
    });
    // No gauge of an ended status: those never fall back to zero, and nothing reads them.
    expect([...series.keys()].filter((key) => /Jobs\{Status=(Succeeded|Failed|Stopped|Expired)\}/.test(key))).toEqual([]);
    expect(metricHours(series)).toBe(33);
  });

  it('publishes the warning zeros for the warning alarms\' range and a schedule after a job ends: 20 minutes by default, longer for longer periods', () => {
    const env = (props: Partial<ImportJobMonitorProps>) =>
      Object.values<any>(template(props).Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.USER_POOL_ID)
        .Properties.Environment.Variables.WARNING_ZEROS_SECONDS;
    expect(env({})).toBe(String(20 * 60));
    expect(env({ stuckJobsAlarmOptions: { period: Duration.minutes(15), evaluationPeriods: 2 }, schedule: Duration.minutes(30) })).toBe(String((4 * 15 + 30) * 60));
  });
});

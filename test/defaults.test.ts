/**
 * Every default is documented once, in the props' JSDoc `@default` (and so in API.md). This suite reads those tags
 * from the source and holds each against what a monitor built without the prop synthesizes: a documented default that
 * drifts from the template fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor, ImportJobMonitorProps } from '../lib';
import { readFleetConfig } from '../lambda';

/** `@default` of each documented prop of an interface in a lib/ file, by prop name. */
function documentedDefaults(file: string): Map<string, string> {
  const source = fs.readFileSync(path.join(__dirname, '..', 'lib', file), 'utf8');
  const defaults = new Map<string, string>();
  for (const [, doc, name] of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)\??:/g)) {
    const tag = /@default ((?:(?!\n\s*\*\s*@)[\s\S])*)/.exec(doc);
    if (tag) defaults.set(name, tag[1].replace(/\n\s*\*\s*/g, ' ').trim());
  }
  return defaults;
}

function synth(props: Partial<ImportJobMonitorProps>): Template {
  const stack = new Stack(new App(), 'Defaults', { env: { account: '123456789012', region: 'eu-west-1' } });
  new ImportJobMonitor(stack, 'Monitor', props.userPools || props.discoverUserPools
    ? props as ImportJobMonitorProps
    : { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'), ...props });
  return Template.fromStack(stack);
}

const single = synth({});
const fleet = synth({ discoverUserPools: {} });

function resource(template: Template, type: string): any {
  const all = Object.values(template.findResources(type));
  expect(all).toHaveLength(1);
  return all[0];
}

/** The monitor's own function's environment (aws-cdk-lib's trigger has a function of its own). */
function environment(template: Template): Record<string, any> {
  const monitors = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
  expect(monitors).toHaveLength(1);
  return (monitors[0] as any).Properties.Environment.Variables;
}

function alarm(template: Template, suffix: string): any {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .filter((a: any) => String(a.Properties.AlarmName).endsWith(`-${suffix}`));
  expect(found).toHaveLength(1);
  return (found[0] as any).Properties;
}

/** The period an alarm evaluates, on a metric or in the metric math (or Metrics Insights query) it watches. */
function periodOf(props: any): number {
  const periods = JSON.stringify(props).match(/"Period":(\d+)/g)!.map((p) => Number(p.split(':')[1]));
  return Math.max(...periods);
}

/** Seconds of `Duration.minutes(5)` or `Duration.hours(12)`. */
function durationSeconds(text: string): number {
  const match = /^Duration\.(minutes|hours)\((\d+)\)$/.exec(text);
  if (!match) throw new Error(`not a documented Duration: ${text}`);
  return Number(match[2]) * (match[1] === 'hours' ? 3600 : 60);
}

/** `on; one-minute periods, 1 of 5, threshold 1` and its kin, with the schedules of a default monitor (5 and 1 minutes). */
function alarmDefault(text: string): { period: number; datapointsToAlarm: number; evaluationPeriods: number; threshold: number } {
  const match = /^- on; (.+?), (\d+) of (\d+), threshold (\d+)$/.exec(text);
  if (!match) throw new Error(`not a documented alarm default: ${text}`);
  const periods: Record<string, number> = {
    'one-minute periods': 60,
    'five-minute periods': 300,
    'periods of the active schedule (as many as span 5 minutes, 3 at least, all of them breaching)': 60,
    'periods of two ticks (5 minutes to an hour)': 300,
  };
  expect(Object.keys(periods)).toContain(match[1]);
  return { period: periods[match[1]], datapointsToAlarm: Number(match[2]), evaluationPeriods: Number(match[3]), threshold: Number(match[4]) };
}

const PROPS = documentedDefaults('props.ts');

/** How each documented default shows in a default monitor's template (or handler), by prop. */
const CHECKS: Record<string, (documented: string) => void> = {
  schedule: (d) => expect(environment(single).SCHEDULE_SECONDS).toEqual(String(durationSeconds(d))),
  activeSchedule: (d) => {
    expect(environment(single).ACTIVE_SCHEDULE_SECONDS).toEqual(String(durationSeconds(d)));
    expect(resource(single, 'AWS::Events::Rule').Properties.ScheduleExpression).toEqual(`rate(${durationSeconds(d) / 60} minute)`);
  },
  metricNamespace: (d) => expect(environment(single).METRIC_NAMESPACE).toEqual(JSON.parse(d.replace(/'/g, '"'))),
  awaitingStartWarning: (d) => expect(environment(single).AWAITING_START_SECONDS).toEqual(String(durationSeconds(d))),
  stuckWarning: (d) => expect(environment(single).STUCK_SECONDS).toEqual(String(durationSeconds(d))),
  cognitoRequestsPerSecond: (d) => {
    // The construct leaves it to the handler's own default when not given.
    expect(environment(fleet).COGNITO_REQUESTS_PER_SECOND).toBeUndefined();
    expect(readFleetConfig({ ...environment(fleet), STATE_TABLE_NAME: 'state' }).cognitoRequestsPerSecond).toEqual(Number(d));
  },
  logRetention: (d) => {
    expect(d).toEqual('logs.RetentionDays.ONE_MONTH');
    expect(resource(single, 'AWS::Logs::LogGroup').Properties.RetentionInDays).toEqual(30);
  },
  removalPolicy: (d) => {
    expect(d).toEqual('RemovalPolicy.DESTROY');
    expect(resource(single, 'AWS::DynamoDB::Table').DeletionPolicy).toEqual('Delete');
    expect(resource(single, 'AWS::Logs::LogGroup').DeletionPolicy).toEqual('Delete');
  },
  runOnDeploy: (d) => single.resourceCountIs('Custom::Trigger', d === 'true' ? 1 : 0),
  createDashboard: (d) => single.resourceCountIs('AWS::CloudWatch::Dashboard', d === 'true' ? 1 : 0),
  jobEvents: (d) => expect(environment(single).EVENT_BUS_NAME !== undefined).toEqual(d === 'true'),
  enableFailedJobsAlarm: (d) => expect(d === 'true').toEqual(alarm(single, 'JobFailed') !== undefined),
  enableExpiredJobsAlarm: (d) => expect(d === 'true').toEqual(alarm(single, 'JobExpired') !== undefined),
  enableMonitorHealthAlarm: (d) => expect(d === 'true').toEqual(alarm(single, 'MonitorSilent') !== undefined),
  alarmNamePrefix: (d) => {
    expect(d).toContain('`ImportJobs-<user pool ID>`; for a fleet, `ImportJobs-<monitorName>`');
    expect(alarm(single, 'JobFailed').AlarmName).toEqual('ImportJobs-eu-west-1_AbC123-JobFailed');
    expect(alarm(fleet, 'JobFailed').AlarmName).toEqual(`ImportJobs-${environment(fleet).MONITOR_NAME}-JobFailed`);
  },
};

// Each alarm's options prop, with the alarm name's suffix and the monitor that has it.
const ALARMS: Record<string, [string, Template]> = {
  failedJobsAlarmOptions: ['JobFailed', single],
  expiredJobsAlarmOptions: ['JobExpired', single],
  monitorHealthAlarmOptions: ['MonitorSilent', single],
  expiringJobsAlarmOptions: ['JobAwaitingStart', single],
  stuckJobsAlarmOptions: ['JobStuck', single],
  failedUsersAlarmOptions: ['UsersFailed', single],
  poolRunsFailedAlarmOptions: ['PoolRunsFailed', fleet],
};

// Props whose default is "not given" (the pools, the actions, the bus, a name derived from the path): nothing to
// hold against a template but that the prop's absence builds a monitor, which every other check does.
const ABSENT = ['userPool', 'userPools', 'discoverUserPools', 'monitorName', 'alarmActions', 'warningActions', 'okActions', 'alarmAction', 'eventBus', 'statuses'];

describe('the documented defaults', () => {
  it('are read from the JSDoc of every prop', () => {
    expect(PROPS.size).toBeGreaterThanOrEqual(30);
    expect([...PROPS.keys()].filter((p) => !(p in CHECKS) && !(p in ALARMS) && !ABSENT.includes(p))).toEqual([]);
  });

  it.each(Object.keys(CHECKS))('%s: the documented default is what synthesizes', (prop) => {
    expect([...PROPS.keys()]).toContain(prop);
    CHECKS[prop](PROPS.get(prop)!);
  });

  it.each(Object.entries(ALARMS))('%s: the documented evaluation is the alarm synthesized', (prop, [suffix, template]) => {
    const documented = alarmDefault(PROPS.get(prop)!);
    const props = alarm(template, suffix);
    expect({
      period: periodOf(props),
      datapointsToAlarm: props.DatapointsToAlarm,
      evaluationPeriods: props.EvaluationPeriods,
      threshold: props.Threshold,
    }).toEqual(documented);
  });
});

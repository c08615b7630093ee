import * as fs from 'fs';
import * as path from 'path';
import {
  App,
  Duration,
  RemovalPolicy,
  Stack,
  aws_cloudwatch_actions as actions,
  aws_cognito as cognito,
  aws_events as events,
  aws_events_targets as targets,
  aws_logs as logs,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { ImportJobMonitor, ImportJobMonitorProps, ImportJobStatus } from '../lib';
import { JOB_STATUSES } from '../lib/contract';

function synth(props: Partial<ImportJobMonitorProps> = {}) {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
  const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool, ...props });
  return { stack, monitor, template: Template.fromStack(stack) };
}

const POOL_ARN = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123']],
};

const DEFAULT_BUS_ARN = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:event-bus/default']],
};

const LIST_AND_DESCRIBE = ['cognito-idp:ListUserImportJobs', 'cognito-idp:DescribeUserPool'];

/** Every statement of every IAM policy in the template. */
function statementsOf(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statement: any): string[] => [statement.Action].flat();

/** Each alarm's description, a token in it (a log group's generated name, under 200 characters) as 200 characters. */
/**
 * Each alarm's description, the log group's name as long as CloudFormation makes it in the tests' stack "Test":
 * `Test-<logical ID>-<13 characters>` (the longest names of all are their own test's).
 */
function alarmDescriptions(template: Template): string[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => {
    const d = a.Properties.AlarmDescription;
    const resolved = (part: any) => (typeof part === 'string' ? part : `Test-${part.Ref}-${'x'.repeat(13)}`);
    return typeof d === 'string' ? d : d['Fn::Join'][1].map(resolved).join('');
  });
}

const WARNINGS_OFF = {
  expiringJobsAlarmOptions: { enabled: false },
  stuckJobsAlarmOptions: { enabled: false },
  failedUsersAlarmOptions: { enabled: false },
};

describe('ImportJobMonitor', () => {
  it('runs an arm64 function on the newest Node.js runtime with its settings', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: {
          USER_POOL_ID: 'eu-west-1_AbC123',
          STATE_TABLE_NAME: { Ref: Match.stringLikeRegexp('MonitorState') },
          METRIC_NAMESPACE: 'Cognito/UserImportJobs',
          SCHEDULE_SECONDS: '300',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('MonitorLogGroup') } },
    });
  });

  it('keeps the logs in a log group of its own, one month by default', () => {
    synth().template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    synth({ logRetention: logs.RetentionDays.ONE_YEAR }).template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
    });
  });

  it('invokes the function on the active schedule, and tells it the schedule', () => {
    const { template } = synth({ schedule: Duration.minutes(15) });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorHandler'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SCHEDULE_SECONDS: '900' }) },
    });
  });

  it('keeps state in an on-demand table with point-in-time recovery', () => {
    const { template } = synth();
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'UserPoolId', KeyType: 'HASH' },
          { AttributeName: 'JobId', KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Delete',
    });
  });

  it('may list the import jobs of its pool and describe it, nothing else in Cognito, and touch its own table only', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorLogGroup'), 'Arn'] },
          },
          { Action: LIST_AND_DESCRIBE, Effect: 'Allow', Resource: POOL_ARN },
          {
            Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            Effect: 'Allow',
            Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorState'), 'Arn'] }],
          },
        ]),
      },
    });
    // No managed policy: AWSLambdaBasicExecutionRole would let it write to every log group.
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements.filter((s: any) => JSON.stringify(s.Resource) === '"*"')).toEqual([]);
  });

  it.each([
    ['Failed', 'JobFailed'],
    ['Expired', 'JobExpired'],
  ])('alarms on a job that ended %s, in one-minute periods, 1 of 5, named after the pool', (status, suffix) => {
    const { template } = synth({ schedule: Duration.minutes(10) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `ImportJobs-eu-west-1_AbC123-${suffix}`,
      Namespace: 'Cognito/UserImportJobs',
      MetricName: 'JobsCompleted',
      Dimensions: Match.arrayWith([
        { Name: 'Status', Value: status },
        { Name: 'UserPoolId', Value: 'eu-west-1_AbC123' },
      ]),
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('pages when no tick worked in five one-minute periods whatever the schedule, filling the missing heartbeats with zeros', () => {
    const { template, monitor } = synth({ schedule: Duration.minutes(30) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ImportJobs-eu-west-1_AbC123-MonitorSilent',
      Metrics: [
        Match.objectLike({ Expression: 'FILL(heartbeat, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'heartbeat',
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: 'Cognito/UserImportJobs', MetricName: 'Heartbeat', Dimensions: [{ Name: 'UserPoolId', Value: 'eu-west-1_AbC123' }] },
            Period: 60,
            Stat: 'Sum',
          },
        }),
      ],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      // All of them: FILL makes zeros of the periods before a new monitor's first heartbeat too.
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      // A monitor that never ran has no heartbeat: the new alarm waits for one rather than paging at creation.
      TreatMissingData: 'ignore',
    });
    // One failed run pages nobody: no alarm on the function's errors, and no composite around them.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    expect(monitor.alarms).toEqual([
      monitor.failedJobsAlarm,
      monitor.expiredJobsAlarm,
      monitor.expiringJobsAlarm,
      monitor.stuckJobsAlarm,
      monitor.failedUsersAlarm,
      monitor.monitorHealthAlarm,
    ]);
    expect(monitor.metricHeartbeat().metricName).toBe('Heartbeat');
  });

  it.each([
    [2, 120, 3],
    [4, 240, 3],
    [10, 600, 3],
  ])('gives the health alarm periods of the tick, %i minutes, as many as span 5 minutes and 3 at least', (minutes, period, periods) => {
    const { template } = synth({ schedule: Duration.minutes(30), activeSchedule: Duration.minutes(minutes) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Period: period }) })]),
    });
  });

  it.each([
    [
      { schedule: Duration.minutes(30), activeSchedule: Duration.minutes(3), monitorHealthAlarmOptions: { period: Duration.minutes(1) } },
      'monitorHealthAlarmOptions: period times datapointsToAlarm must be at least one tick (activeSchedule) and 4 minutes (7 minutes), so that one failed tick or a late heartbeat does not page, got 5 minutes',
    ],
    [
      { monitorHealthAlarmOptions: { period: Duration.hours(1), threshold: 61 } },
      'monitorHealthAlarmOptions.threshold must be at most the ticks a period surely holds (60), got 61',
    ],
  ] as [Partial<ImportJobMonitorProps>, string][])('fails when the health alarm would fire between healthy runs: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('keeps the health alarm off the construct ID that was a composite alarm in 0.1.0, so that stacks update in place', () => {
    const { template } = synth();
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(ids.filter((id) => id.startsWith('MonitorMonitorHealthAlarm'))).toEqual([]);
    expect(ids.filter((id) => id.startsWith('MonitorMonitorSilentAlarm'))).toHaveLength(1);
  });

  it('says fewer than N ticks in the health alarm when its threshold is above one, over 3 periods of the period given', () => {
    const { template } = synth({ monitorHealthAlarmOptions: { period: Duration.hours(1), threshold: 5 } });
    const [health] = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { ComparisonOperator: 'LessThanThreshold' } })) as any[];
    expect(JSON.stringify(health.Properties.AlarmDescription)).toContain('had fewer than 5 ticks that worked in 3 of 3 periods of 1 hour');
  });

  it('runs the function once on deploy, and creates the health alarm after that run', () => {
    const { template } = synth();
    const triggers = template.findResources('Custom::Trigger');
    expect(Object.keys(triggers)).toHaveLength(1);
    const [triggerId] = Object.keys(triggers);
    expect(JSON.stringify(triggers[triggerId].Properties.HandlerArn)).toMatch(/MonitorHandler/);
    const [health] = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { ComparisonOperator: 'LessThanThreshold' } })) as any[];
    expect(health.DependsOn).toEqual(expect.arrayContaining([triggerId]));

    const quiet = synth({ runOnDeploy: false }).template;
    quiet.resourceCountIs('Custom::Trigger', 0);
  });

  it.each([
    [undefined, 60],
    [Duration.minutes(3), 180],
  ])('does not retry a failed run, and drops an invocation older than one tick of %s', (activeSchedule, maxAge) => {
    synth({ activeSchedule }).template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: maxAge,
    });
  });

  it('ticks every active interval, and tells the function both intervals', () => {
    const { template } = synth({ schedule: Duration.minutes(30), activeSchedule: Duration.minutes(2) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SCHEDULE_SECONDS: '1800', ACTIVE_SCHEDULE_SECONDS: '120' }) },
    });
    synth().template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it.each([
    [Duration.seconds(30), '30 seconds'],
    [Duration.minutes(6), '6 minutes'],
  ])('fails when the active schedule is %s, on a five-minute schedule', (activeSchedule, shown) => {
    expect(() => synth({ activeSchedule })).toThrow(
      `activeSchedule must be a whole number of minutes from 1 to the schedule (5 minutes), got ${shown}`,
    );
  });

  it.each([1, 59, 60, 600, 1440])('keeps every alarm within CloudWatch range cap on a schedule and tick of %i minutes', (minutes) => {
    const { template } = synth({ schedule: Duration.minutes(minutes), activeSchedule: Duration.minutes(minutes) });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties);
    for (const alarm of alarms) {
      const period = alarm.Period ?? alarm.Metrics.find((m: any) => m.MetricStat).MetricStat.Period;
      expect(period * alarm.EvaluationPeriods).toBeLessThanOrEqual(period >= 3600 ? 7 * 86400 : 86400);
    }
    // Silent ticks spanning 5 minutes, 3 ticks at least: a day-long tick fits in the seven-day cap.
    expect(alarms.find((a) => a.ComparisonOperator === 'LessThanThreshold').EvaluationPeriods).toBe(minutes === 1 ? 5 : 3);
  });

  it('takes per-alarm settings', () => {
    const { template } = synth({
      failedJobsAlarmOptions: { period: Duration.minutes(5), evaluationPeriods: 3, datapointsToAlarm: 2, threshold: 2 },
      monitorHealthAlarmOptions: { evaluationPeriods: 6 },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: Match.arrayWith([{ Name: 'Status', Value: 'Failed' }]),
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 2,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 6, DatapointsToAlarm: 6 });
  });

  it.each([
    [{ failedJobsAlarmOptions: { period: Duration.seconds(30) } }, 'failedJobsAlarmOptions.period must be a whole number of minutes, got 30 seconds'],
    [{ expiredJobsAlarmOptions: { evaluationPeriods: 0 } }, 'expiredJobsAlarmOptions.evaluationPeriods must be a whole number, at least 1, got 0'],
    [{ failedJobsAlarmOptions: { datapointsToAlarm: 6 } }, 'failedJobsAlarmOptions.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (5), got 6'],
    [{ failedJobsAlarmOptions: { threshold: 0 } }, 'failedJobsAlarmOptions.threshold must be above 0, got 0'],
    [
      { schedule: Duration.minutes(59), activeSchedule: Duration.minutes(59), monitorHealthAlarmOptions: { evaluationPeriods: 25 } },
      'monitorHealthAlarmOptions: period times evaluationPeriods may be at most 1 day for a period of 59 minutes, got 25 x 59 minutes',
    ],
    [{ alarmNamePrefix: '' }, 'alarmNamePrefix must be 1 to 238 characters, got ""'],
  ] as [Partial<ImportJobMonitorProps>, string][])('fails on bad alarm settings: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('accepts a week-long range for periods of an hour or more', () => {
    expect(() => synth({ schedule: Duration.hours(24), monitorHealthAlarmOptions: { evaluationPeriods: 7 } })).not.toThrow();
  });

  it('pages through alarmActions on ALARM only, and adds okActions only when given', () => {
    const stack = new Stack();
    const pager = new sns.Topic(stack, 'Pager');
    const chat = new sns.Topic(stack, 'Chat');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    new ImportJobMonitor(stack, 'Monitor', { userPool, alarmActions: [new actions.SnsAction(pager)] });
    new ImportJobMonitor(stack, 'WithOk', {
      userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool2', 'eu-west-1_Other1'),
      alarmActions: [new actions.SnsAction(pager)],
      okActions: [new actions.SnsAction(chat)],
    });
    const template = Template.fromStack(stack);
    const pagerRef = { Ref: Match.stringLikeRegexp('^Pager') };
    const chatRef = { Ref: Match.stringLikeRegexp('^Chat') };
    const alarmsOf = (prefix: string, props: object) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: props })).filter((a: any) => a.Properties.AlarmName.startsWith(prefix));
    expect(alarmsOf('ImportJobs-eu-west-1_AbC123-', { AlarmActions: [pagerRef], OKActions: Match.absent() })).toHaveLength(6);
    expect(alarmsOf('ImportJobs-eu-west-1_Other1-', { AlarmActions: [pagerRef], OKActions: [chatRef] })).toHaveLength(6);
  });

  it('routes the warnings to warningActions and the failures to alarmActions, a fleet\'s too', () => {
    const stack = new Stack();
    const pager = new sns.Topic(stack, 'Pager');
    const tickets = new sns.Topic(stack, 'Tickets');
    const routing = { alarmActions: [new actions.SnsAction(pager)], warningActions: [new actions.SnsAction(tickets)] };
    new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'), ...routing });
    new ImportJobMonitor(stack, 'Fleet', { userPools: [cognito.UserPool.fromUserPoolId(stack, 'Pool2', 'eu-west-1_Other1')], monitorName: 'fleet', metricNamespace: 'Fleet/Imports', ...routing });
    const template = Template.fromStack(stack);
    const routed = (topic: string) => Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: [{ Ref: Match.stringLikeRegexp(`^${topic}`) }] } }))
      .map((a: any) => a.Properties.AlarmName.replace(/^ImportJobs-/, '')).sort();
    expect(routed('Pager')).toEqual([
      'eu-west-1_AbC123-JobExpired', 'eu-west-1_AbC123-JobFailed', 'eu-west-1_AbC123-MonitorSilent',
      'fleet-JobExpired', 'fleet-JobFailed', 'fleet-MonitorSilent', 'fleet-PoolRunsFailed',
    ]);
    expect(routed('Tickets')).toEqual([
      'eu-west-1_AbC123-JobAwaitingStart', 'eu-west-1_AbC123-JobStuck', 'eu-west-1_AbC123-UsersFailed',
      'fleet-JobAwaitingStart', 'fleet-JobStuck', 'fleet-UsersFailed',
    ]);
  });

  it('warns at synth when no failure alarm of the monitor pages anyone, and not when one does', () => {
    const warnings = (props: (stack: Stack) => Partial<ImportJobMonitorProps>) => {
      const stack = new Stack();
      const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
      new ImportJobMonitor(stack, 'Monitor', { userPool, ...props(stack) });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('page nobody'));
    };
    const topic = (stack: Stack, id = 'Topic') => [new actions.SnsAction(new sns.Topic(stack, id))];
    expect(warnings(() => ({}))).toHaveLength(1);
    const allOff = { ...WARNINGS_OFF, failedJobsAlarmOptions: { enabled: false }, expiredJobsAlarmOptions: { enabled: false }, monitorHealthAlarmOptions: { enabled: false } };
    expect(warnings(() => allOff)).toHaveLength(0);
    expect(warnings((stack) => ({ alarmActions: topic(stack) }))).toHaveLength(0);
    // Warnings routed, failures to nobody: still a warning.
    expect(warnings((stack) => ({ warningActions: topic(stack) }))).toHaveLength(1);
    expect(warnings((stack) => ({ alarmActions: topic(stack), warningActions: topic(stack, 'Tickets') }))).toHaveLength(0);
  });

  it('keeps every description within 1,024 characters with the longest names, in whole sentences', () => {
    const longest = (kind: 'single' | 'fleet' | 'owned') => {
      const fleetProps = kind === 'fleet';
      // The longest stack name, a construct path long enough to give the log group a logical ID of 255 characters,
      // the longest pool ID and monitor name.
      const stack = new Stack(new App(), 'S'.repeat(128), { env: { account: '123456789012', region: 'eu-west-1' } });
      let scope: Construct = stack;
      for (let i = 0; i < 6; i++) scope = new Construct(scope, `Level${i}${'x'.repeat(50)}`);
      // 'owned': a pool made in the same app, whose ID is a token at synth and 55 characters at most once deployed.
      const pool = kind === 'owned' ? new cognito.UserPool(stack, 'Pool') : cognito.UserPool.fromUserPoolId(stack, 'Pool', `eu-west-1_${'A'.repeat(45)}`);
      new ImportJobMonitor(scope, 'Monitor', fleetProps
        ? { userPools: [pool], monitorName: 'm'.repeat(64), awaitingStartWarning: Duration.minutes(1379), stuckWarning: Duration.minutes(10079) }
        : { userPool: pool, awaitingStartWarning: Duration.minutes(1379), stuckWarning: Duration.minutes(10079) });
      const template = Template.fromStack(stack);
      const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
      // CloudFormation names the log group <stack>-<logical ID>-<random suffix of 13 at most>.
      const logGroupName = `${'S'.repeat(128)}-${logGroupId}-${'r'.repeat(13)}`;
      return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => {
        const d = a.Properties.AlarmDescription;
        const resolved = (part: any) => (typeof part === 'string' ? part : part.Ref === logGroupId ? logGroupName : `eu-west-1_${'A'.repeat(45)}`);
        return typeof d === 'string' ? d : d['Fn::Join'][1].map(resolved).join('');
      });
    };
    for (const kind of ['single', 'fleet', 'owned'] as const) {
      const descriptions = longest(kind);
      expect(descriptions).toHaveLength(kind === 'fleet' ? 7 : 6);
      if (kind === 'owned') expect(descriptions.join('')).toContain(`eu-west-1_${'A'.repeat(45)}`);
      for (const d of descriptions) {
        expect(d.length).toBeLessThanOrEqual(1024);
        expect(d).toMatch(/\.$/);
        expect(d).toMatch(/To do: |check (that )?the schedule rule/);
      }
    }
  });

  it('keeps the deprecated alarmAction on ALARM and OK of every alarm', () => {
    const stack = new Stack();
    const topic = new sns.Topic(stack, 'Topic');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    new ImportJobMonitor(stack, 'Monitor', { userPool, alarmAction: new actions.SnsAction(topic) });
    const topicRef = { Ref: Match.stringLikeRegexp('^Topic') };
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: [topicRef], OKActions: [topicRef] } }))).toHaveLength(6);
  });

  it.each([
    [{ failedJobsAlarmOptions: { enabled: false }, expiredJobsAlarmOptions: { enabled: false }, monitorHealthAlarmOptions: { enabled: false }, ...WARNINGS_OFF }],
    [{ enableFailedJobsAlarm: false, enableExpiredJobsAlarm: false, enableMonitorHealthAlarm: false, ...WARNINGS_OFF }],
  ] as [Partial<ImportJobMonitorProps>][])('switches each alarm off on request: %j', (props) => {
    const { template, monitor } = synth(props);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(monitor.alarms).toEqual([]);
    expect(monitor.failedJobsAlarm).toBeUndefined();
  });

  it('switches one alarm off and keeps the others', () => {
    const { template, monitor } = synth({ expiredJobsAlarmOptions: { enabled: false } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(monitor.expiredJobsAlarm).toBeUndefined();
    expect(monitor.alarms).toHaveLength(5);
  });

  it.each([
    ['JobAwaitingStart', 'JobsAwaitingStart', 'Maximum', 300, 1, 'ignore'],
    ['JobStuck', 'JobsStuck', 'Maximum', 300, 1, 'ignore'],
    ['UsersFailed', 'FailedUsersOfEndedJobs', 'Sum', 60, 5, 'notBreaching'],
  ])('warns before a job is lost: %s on %s', (suffix, metricName, statistic, period, evaluationPeriods, missing) => {
    synth().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `ImportJobs-eu-west-1_AbC123-${suffix}`,
      MetricName: metricName,
      Dimensions: [{ Name: 'UserPoolId', Value: 'eu-west-1_AbC123' }],
      Statistic: statistic,
      Period: period,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: missing,
    });
  });

  it('tells the function its warning limits, 12 hours by default', () => {
    synth().template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ AWAITING_START_SECONDS: '43200', STUCK_SECONDS: '43200' }) },
    });
    synth({ awaitingStartWarning: Duration.hours(6), stuckWarning: Duration.hours(2), failedUsersAlarmOptions: { threshold: 100 } }).template
      .hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ AWAITING_START_SECONDS: '21600', STUCK_SECONDS: '7200' }) },
      });
  });

  it.each([
    [{ awaitingStartWarning: Duration.hours(24) }, 'awaitingStartWarning must be a whole number of minutes from 1 minute to 23 hours, got 1 day'],
    [{ stuckWarning: Duration.seconds(30) }, 'stuckWarning must be a whole number of minutes from 1 minute to 7 days, got 30 seconds'],
  ] as [Partial<ImportJobMonitorProps>, string][])('fails on a warning limit that comes too late or is not whole minutes: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('names the alarms with the prefix given', () => {
    const { template } = synth({ alarmNamePrefix: 'Prod-Identity' });
    for (const suffix of ['JobFailed', 'JobExpired', 'JobAwaitingStart', 'JobStuck', 'UsersFailed', 'MonitorSilent']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `Prod-Identity-${suffix}` });
    }
  });

  it('says in each description what happened, in which pool, where to look and what to do, in at most 1024 characters', () => {
    const { template } = synth();
    const descriptions = alarmDescriptions(template);
    expect(descriptions).toHaveLength(6);
    for (const d of descriptions) {
      expect(d.length).toBeLessThanOrEqual(1024);
      expect(d).toContain('user pool eu-west-1_AbC123');
      expect(d).toMatch(/To do: |check that the schedule rule/);
    }
    const [failed, expired, , , , health] = descriptions;
    for (const [d, status] of [[failed, 'Failed'], [expired, 'Expired']]) {
      expect(d).toContain(`filter message = "Import job completed" and status = "${status}"`);
      expect(d).toMatch(/To do: .*(create|start)/);
    }
    // An expired job never ran: only a failed one has a Cognito log to read.
    expect(failed).toContain('/aws/cognito/userpools/eu-west-1_AbC123/<pool name>');
    expect(health).toMatch(/had no tick that worked in 5 of 5 periods of 1 minute.*"Run failed".*"could not store".*"could not send ... job events".*schedule rule/);
  });

  it('publishes to the namespace given', () => {
    const { template, monitor } = synth({ metricNamespace: 'Team/Imports' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ METRIC_NAMESPACE: 'Team/Imports' }) },
    });
    expect(monitor.metricImportedUsers().namespace).toBe('Team/Imports');
  });

  it('monitors a pool created in the same stack, listing its jobs through its own ARN', () => {
    const stack = new Stack();
    const userPool = new cognito.UserPool(stack, 'Pool');
    new ImportJobMonitor(stack, 'Monitor', { userPool });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ USER_POOL_ID: { Ref: Match.stringLikeRegexp('^Pool') } }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: LIST_AND_DESCRIBE, Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Pool'), 'Arn'] } },
        ]),
      },
    });
  });

  it.each([
    ['us-east-1', '123456789012'],
    [undefined, undefined],
  ])('grants the ARN of a pool in another region, from a stack in %s (undefined: env-agnostic)', (region, account) => {
    const stack = new Stack(new App(), 'Test', { env: region ? { account, region } : undefined });
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    new ImportJobMonitor(stack, 'Monitor', { userPool });
    const cognitoStatement = statementsOf(Template.fromStack(stack)).find((s: any) => actionsOf(s).includes('cognito-idp:ListUserImportJobs'));
    expect(JSON.stringify(stack.resolve(cognitoStatement.Resource))).toMatch(
      account ? /:cognito-idp:eu-west-1:123456789012:userpool\/eu-west-1_AbC123"/ : /:cognito-idp:eu-west-1:",\{"Ref":"AWS::AccountId"\},":userpool\/eu-west-1_AbC123"/,
    );
  });

  it('fails when the pool is in another account than the stack', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const userPool = cognito.UserPool.fromUserPoolArn(stack, 'Pool', 'arn:aws:cognito-idp:eu-west-1:999999999999:userpool/eu-west-1_AbC123');
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool })).toThrow(
      "userPool must be in the stack's account 123456789012, where the function lists its jobs, got a pool in account 999999999999",
    );
    const agnostic = new Stack();
    const imported = cognito.UserPool.fromUserPoolArn(agnostic, 'Pool', 'arn:aws:cognito-idp:eu-west-1:999999999999:userpool/eu-west-1_AbC123');
    expect(() => new ImportJobMonitor(agnostic, 'Monitor', { userPool: imported })).not.toThrow();
  });

  it('deletes or keeps its log group together with its table', () => {
    synth().template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    const kept = synth({ removalPolicy: RemovalPolicy.RETAIN }).template;
    kept.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    kept.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });
});

describe('job events', () => {
  const EVENT_PATTERN_BASE = { source: ['import-job-monitor'], 'detail-type': ['Cognito User Import Job State Change'] };

  function inStack(region: string, poolId: string, context: Record<string, unknown> = {}) {
    const stack = new Stack(new App({ context }), 'Test', { env: { account: '123456789012', region } });
    const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', poolId) });
    return { stack, monitor, template: Template.fromStack(stack) };
  }

  /** A monitor in eu-west-1, not synthesized yet: rules can still be added. */
  function unsynthesized() {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
    return { stack, monitor };
  }

  function eventRules(template: Template): any[] {
    return Object.values(template.findResources('AWS::Events::Rule'))
      .map((r: any) => r.Properties)
      .filter((p: any) => p.EventPattern !== undefined);
  }

  it("sends them to the default bus of the stack's region by default, and names that bus's ARN to the function", () => {
    const { template, monitor, stack } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: DEFAULT_BUS_ARN }) },
    });
    expect(monitor.eventBus).toBeDefined();
    expect(stack.resolve(monitor.eventBus!.eventBusArn)).toEqual(DEFAULT_BUS_ARN);
  });

  it.each([
    ['cn-north-1', 'arn:aws-cn:events:cn-north-1:123456789012:event-bus/default'],
    ['us-gov-west-1', 'arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/default'],
    ['eu-west-1', 'arn:aws:events:eu-west-1:123456789012:event-bus/default'],
  ])('names the default bus of %s in its own partition when partition literals are on', (region, arn) => {
    const { template } = inStack(region, `${region}_AbC123`, { '@aws-cdk/core:enablePartitionLiterals': true });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: arn }) } });
    expect(statementsOf(template).filter((s) => actionsOf(s).includes('events:PutEvents'))).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: arn },
    ]);
  });

  it("names the default bus of the stack's region, not the pool's, with the partition left to CloudFormation otherwise", () => {
    const { template } = inStack('cn-north-1', 'eu-west-1_AbC123');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVENT_BUS_NAME: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:cn-north-1:123456789012:event-bus/default']] },
        }),
      },
    });
  });

  it('names the default bus through pseudo parameters in an environment-agnostic stack', () => {
    const stack = new Stack();
    new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVENT_BUS_NAME: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
          },
        }),
      },
    });
  });

  it('sends them to the bus given, and may put events on that bus and no other', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const bus = new events.EventBus(stack, 'Bus');
    const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'), eventBus: bus });
    const template = Template.fromStack(stack);
    const busArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] };
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: busArn }) } });
    expect(monitor.eventBus).toBe(bus);
    const putEvents = statementsOf(template).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
    expect(putEvents).toEqual([{ Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(bus.node.defaultChild as any), 'Arn'] } }]);
  });

  it('may put events on the default bus and no other, on no wildcard', () => {
    const { template } = synth();
    const eventStatements = statementsOf(template).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
    expect(eventStatements).toEqual([{ Action: 'events:PutEvents', Effect: 'Allow', Resource: DEFAULT_BUS_ARN }]);
  });

  it("may describe its pool, on the pool's ARN only, in the statement that lists its jobs", () => {
    const { template } = synth();
    const describing = statementsOf(template).filter((s) => actionsOf(s).includes('cognito-idp:DescribeUserPool'));
    expect(describing).toEqual([{ Action: LIST_AND_DESCRIBE, Effect: 'Allow', Resource: POOL_ARN }]);
  });

  it('sends none, and asks for no bus and no pool description, with jobEvents false', () => {
    const { template, monitor } = synth({ jobEvents: false });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ USER_POOL_ID: 'eu-west-1_AbC123', EVENT_BUS_NAME: Match.absent() }) },
    });
    const statements = statementsOf(template);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('events:')))).toEqual([]);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('cognito-idp:')))).toEqual([
      { Action: 'cognito-idp:ListUserImportJobs', Effect: 'Allow', Resource: POOL_ARN },
    ]);
    expect(monitor.eventBus).toBeUndefined();
    expect(() => monitor.onJobStateChange('Rule')).toThrow(
      'onJobStateChange needs the job events, but jobEvents is false: leave jobEvents on to route them',
    );
  });

  it('fails when an eventBus is given with jobEvents false, naming both', () => {
    const stack = new Stack(new App(), 'Test');
    const bus = new events.EventBus(stack, 'Bus');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool, eventBus: bus, jobEvents: false })).toThrow(
      'eventBus is given (Test/Bus) but jobEvents is false, so no event would be sent to it: drop eventBus, or leave jobEvents on',
    );
  });

  it('routes failed and expired jobs of its pool to an SNS topic, with a rule of its own on the default bus', () => {
    const { monitor, stack } = unsynthesized();
    const topic = new sns.Topic(stack, 'Topic');
    const rule = monitor.onJobStateChange('FailedJobsToSns', {
      target: new targets.SnsTopic(topic),
      statuses: [ImportJobStatus.FAILED, ImportJobStatus.EXPIRED],
    });
    expect(rule.node.path).toBe('Test/Monitor/FailedJobsToSns');
    const [props, ...others] = eventRules(Template.fromStack(stack));
    expect(others).toEqual([]);
    expect(props).toEqual({
      EventBusName: 'default',
      EventPattern: { ...EVENT_PATTERN_BASE, detail: { userPoolId: ['eu-west-1_AbC123'], status: ['Failed', 'Expired'] } },
      State: 'ENABLED',
      Targets: [{ Arn: { Ref: stack.getLogicalId(topic.node.defaultChild as any) }, Id: 'Target0' }],
    });
  });

  it('matches every status change of its pool when no statuses are given', () => {
    const { monitor, stack } = unsynthesized();
    monitor.onJobStateChange('AllChanges');
    const [props] = eventRules(Template.fromStack(stack));
    expect(props.EventPattern).toEqual({ ...EVENT_PATTERN_BASE, detail: { userPoolId: ['eu-west-1_AbC123'] } });
    expect(props.Targets).toBeUndefined();
  });

  it('puts the rule on the bus given', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const bus = new events.EventBus(stack, 'Bus');
    const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'), eventBus: bus });
    monitor.onJobStateChange('Changes');
    const [props] = eventRules(Template.fromStack(stack));
    expect(props.EventBusName).toEqual({ Ref: stack.getLogicalId(bus.node.defaultChild as any) });
  });

  it("takes the rule's name and description, and merges its extra pattern into the rule's own", () => {
    const { monitor, stack } = unsynthesized();
    monitor.onJobStateChange('Nightly', {
      ruleName: 'nightly-import-failed',
      description: 'Nightly import failed',
      eventPattern: { detail: { jobName: ['nightly'] } },
      statuses: [ImportJobStatus.FAILED],
    });
    const [props] = eventRules(Template.fromStack(stack));
    expect(props).toMatchObject({ Name: 'nightly-import-failed', Description: 'Nightly import failed' });
    expect(props.EventPattern).toEqual({
      ...EVENT_PATTERN_BASE,
      detail: { jobName: ['nightly'], userPoolId: ['eu-west-1_AbC123'], status: ['Failed'] },
    });
  });

  it('matches the pool created in the same stack by its reference', () => {
    const stack = new Stack();
    const userPool = new cognito.UserPool(stack, 'Pool');
    new ImportJobMonitor(stack, 'Monitor', { userPool }).onJobStateChange('Changes');
    const [props] = eventRules(Template.fromStack(stack));
    expect(props.EventPattern.detail).toEqual({ userPoolId: [{ Ref: stack.getLogicalId(userPool.node.defaultChild as any) }] });
  });

  it('fails when onJobStateChange is given an empty list of statuses', () => {
    expect(() => unsynthesized().monitor.onJobStateChange('Rule', { statuses: [] })).toThrow(
      'onJobStateChange statuses must name at least one status when given, got []',
    );
  });

  it('fails when onJobStateChange is given a status that does not exist', () => {
    expect(() => unsynthesized().monitor.onJobStateChange('Rule', { statuses: ['failed' as ImportJobStatus] })).toThrow(
      'onJobStateChange statuses must be among Created, Pending, InProgress, Stopping, Expired, Stopped, Failed, Succeeded, got ["failed"]',
    );
  });
});

describe('metrics', () => {
  it('gives the jobs in a status as the maximum over the schedule period', () => {
    const metric = synth({ schedule: Duration.minutes(10) }).monitor.metricJobs(ImportJobStatus.IN_PROGRESS);
    expect(metric.metricName).toBe('Jobs');
    expect(metric.namespace).toBe('Cognito/UserImportJobs');
    expect(metric.dimensions).toEqual({ UserPoolId: 'eu-west-1_AbC123', Status: 'InProgress' });
    expect(metric.statistic).toBe('Maximum');
    expect(metric.period.toMinutes()).toBe(10);
  });

  it('gives completed jobs and users as sums, and takes options', () => {
    const { monitor } = synth();
    expect(monitor.metricJobsCompleted(ImportJobStatus.SUCCEEDED).statistic).toBe('Sum');
    for (const [metric, name] of [
      [monitor.metricImportedUsers(), 'ImportedUsers'],
      [monitor.metricSkippedUsers(), 'SkippedUsers'],
      [monitor.metricFailedUsers(), 'FailedUsers'],
    ] as const) {
      expect(metric.metricName).toBe(name);
      expect(metric.statistic).toBe('Sum');
      expect(metric.dimensions).toEqual({ UserPoolId: 'eu-west-1_AbC123' });
    }
    const hourly = monitor.metricImportedUsers({ period: Duration.hours(1), label: 'Imported' });
    expect(hourly.period.toHours()).toBe(1);
    expect(hourly.label).toBe('Imported');
  });

  it('names every status Cognito documents in the ImportJobStatus enum, by its Cognito name', () => {
    expect(Object.values(ImportJobStatus)).toEqual([...JOB_STATUSES]);
  });

  it('still takes the plain status names in TypeScript', () => {
    const { monitor } = synth();
    expect(monitor.metricJobs('Failed').dimensions).toEqual({ UserPoolId: 'eu-west-1_AbC123', Status: 'Failed' });
    expect(monitor.metricJobsCompleted('Expired').dimensions).toEqual({ UserPoolId: 'eu-west-1_AbC123', Status: 'Expired' });
  });

  it('fails when asked for a status that does not exist', () => {
    const { monitor } = synth();
    expect(() => monitor.metricJobs('failed')).toThrow(
      'metricJobs takes a status among Created, Pending, InProgress, Stopping, Expired, Stopped, Failed, Succeeded, got "failed"',
    );
    expect(() => monitor.metricJobsCompleted(ImportJobStatus.IN_PROGRESS)).toThrow(
      /metricJobsCompleted takes a status among Succeeded, Failed, Stopped, Expired, got "InProgress"/,
    );
  });
});

describe('validation', () => {
  it.each([
    [Duration.seconds(30), '30 seconds'],
    [Duration.seconds(90), '1 minute 30 seconds'],
    [Duration.minutes(1441), '1 day 1 minute'],
    [Duration.minutes(0), '0 minutes'],
  ])('fails when the schedule is %s', (schedule, shown) => {
    expect(() => synth({ schedule })).toThrow(`schedule must be a whole number of minutes between 1 and 1440, got ${shown}`);
  });

  it.each(['AWS/Cognito', '', 'has space', 'x'.repeat(256), 'bad*char'])('fails when the namespace is %j', (metricNamespace) => {
    expect(() => synth({ metricNamespace })).toThrow(
      `metricNamespace must be 1 to 255 letters, digits or . _ # : / - and must not start with AWS/, got ${JSON.stringify(metricNamespace)}`,
    );
  });

  it.each(['bad id', 'AbC123', 'eu-west-1_', 'eu-west-1_AbC 123', '_AbC123', 'EU-WEST-1_AbC123', `eu-west-1_${'a'.repeat(50)}`])(
    'fails when the user pool ID is %j',
    (id) => {
      const stack = new Stack();
      expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', id) })).toThrow(
        `userPool must have an ID like eu-west-1_AbC123 (its region, an underscore, letters and digits), got ${JSON.stringify(id)}`,
      );
    },
  );

  it('names the monitor a prop error is about by its construct path, so that an app of many monitors shows which', () => {
    const app = new App();
    const stack = new Stack(app, 'Identity');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    new ImportJobMonitor(stack, 'Tenants', { userPool });
    expect(() => new ImportJobMonitor(stack, 'Partners', { userPool, metricNamespace: 'Partners', schedule: Duration.seconds(30) })).toThrow(
      /^Identity\/Partners: schedule must be a whole number of minutes between 1 and 1440, got 30 seconds$/,
    );
  });

  it.each(['xx-nowhere-9_AbC123', 'eu-nowhere-1_AbC123', 'zz-west-1_AbC123'])('fails when the user pool ID %j names no AWS region', (id) => {
    const stack = new Stack();
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', id) })).toThrow(
      `Default/Monitor: userPool: the user pool ID ${JSON.stringify(id)} names the region ${JSON.stringify(id.split('_')[0])}, which is no AWS region`,
    );
    expect(() => new ImportJobMonitor(stack, 'Fleet', { userPools: [cognito.UserPool.fromUserPoolId(stack, 'Listed', id)] })).toThrow(
      `Default/Fleet: userPools: the user pool ID ${JSON.stringify(id)} names the region`,
    );
  });

  it.each(['us-gov-west-1_AbC123', 'eusc-de-east-1_AbC123', 'cn-northwest-1_AbC123', 'ap-southeast-7_AbC123', 'eu-isoe-west-1_AbC123', 'ap-east-3_AbC123'])(
    'takes a user pool ID in %j, a region of AWS or one built as AWS names them',
    (id) => {
      const stack = new Stack();
      expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', id) })).not.toThrow();
    },
  );

  it('fails when a pool imported by ARN names a third region in its ARN, neither its ID\'s nor the stack\'s', () => {
    const stack = new Stack(undefined, 'Identity', { env: { account: '123456789012', region: 'us-east-1' } });
    const arn = 'arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-west-1_AbC123';
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolArn(stack, 'Pool', arn) })).toThrow(
      `Identity/Monitor: userPool: the user pool ARN "${arn}" names the region "eu-central-1", but its ID "eu-west-1_AbC123" the region ` +
        '"eu-west-1": a pool lives in the region its ID names, so correct the ARN',
    );
    // An ARN in the stack's region is what UserPool.fromUserPoolId makes of a pool in another region (when the stack's
    // partition is known): a pool in any region of the account stays a pool the monitor takes.
    const made = cognito.UserPool.fromUserPoolArn(stack, 'Made', 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/eu-west-1_XyZ789');
    expect(() => new ImportJobMonitor(stack, 'CrossRegion', { userPool: made })).not.toThrow();
    const listed = cognito.UserPool.fromUserPoolArn(stack, 'Listed', arn);
    expect(() => new ImportJobMonitor(stack, 'Fleet', { userPools: [listed] })).toThrow('Identity/Fleet: userPools: the user pool ARN');
    const right = cognito.UserPool.fromUserPoolArn(stack, 'Right', arn.replace(':eu-central-1:', ':eu-west-1:'));
    expect(() => new ImportJobMonitor(stack, 'Monitored', { userPool: right })).not.toThrow();
  });

  it.each([4, 1.5, 0, -1, '30'])('fails when the log retention is %j days', (days) => {
    // A string is shown as one: "30", not 30, which reads as an accepted value.
    expect(() => synth({ logRetention: days as logs.RetentionDays })).toThrow(
      new RegExp(`^Test/Monitor: logRetention must be one of the logs.RetentionDays values \\(1, 3, 5, 7, 14, 30, .*\\), got ${JSON.stringify(days)}$`),
    );
  });

  it('lets monitors in stacks of different regions or accounts share a namespace and alarm names, as a stage per region does', () => {
    const app = new App();
    for (const region of ['eu-west-1', 'us-east-1']) {
      const stack = new Stack(app, `Identity-${region}`, { env: { account: '123456789012', region } });
      new ImportJobMonitor(stack, 'Tenants', { discoverUserPools: {} });
      new ImportJobMonitor(stack, 'Single', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'), metricNamespace: 'Single' });
    }
    const other = new Stack(app, 'OtherAccount', { env: { account: '210987654321', region: 'eu-west-1' } });
    expect(() => new ImportJobMonitor(other, 'Tenants', { discoverUserPools: {} })).not.toThrow();
    // A stack without an account or region may deploy to any of them: it meets every other.
    const anywhere = new Stack(app, 'Anywhere');
    expect(() => new ImportJobMonitor(anywhere, 'Tenants', { discoverUserPools: {} })).toThrow(
      'Anywhere/Tenants would publish into namespace Cognito/UserImportJobs, where the fleet Identity-eu-west-1/Tenants alarms on every pool',
    );
  });

  it('fails when two monitors in one app watch the same pool into the same namespace, naming both', () => {
    const app = new App();
    const first = new Stack(app, 'First');
    new ImportJobMonitor(first, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(first, 'Pool', 'eu-west-1_AbC123') });
    const second = new Stack(app, 'Second');
    const userPool = cognito.UserPool.fromUserPoolId(second, 'Pool', 'eu-west-1_AbC123');
    expect(() => new ImportJobMonitor(second, 'Again', { userPool })).toThrow(
      'Second/Again and First/Monitor both monitor user pool eu-west-1_AbC123 into namespace Cognito/UserImportJobs: ' +
        'every job would be counted twice. Keep one monitor per pool, or give one another metricNamespace',
    );
    expect(() => new ImportJobMonitor(second, 'Other', { userPool, metricNamespace: 'Other' })).toThrow(
      'Second/Other and First/Monitor would both name their alarms ImportJobs-eu-west-1_AbC123-...: give one another alarmNamePrefix',
    );
    expect(() => new ImportJobMonitor(second, 'Another', { userPool, metricNamespace: 'Other', alarmNamePrefix: 'Other' })).not.toThrow();
    expect(() =>
      new ImportJobMonitor(second, 'OtherPool', { userPool: cognito.UserPool.fromUserPoolId(second, 'Pool2', 'eu-west-1_Other1') }),
    ).not.toThrow();
  });

  it('fails when one pool created in the stack gets two monitors', () => {
    const stack = new Stack();
    const userPool = new cognito.UserPool(stack, 'Pool');
    new ImportJobMonitor(stack, 'One', { userPool });
    // Named by its construct path: its ID is a token until deployed.
    expect(() => new ImportJobMonitor(stack, 'Two', { userPool })).toThrow(
      /^Default\/Two and Default\/One both monitor the user pool Default\/Pool \(created in this app\) into namespace/,
    );
    expect(() => new ImportJobMonitor(stack, 'Three', { userPool })).not.toThrow(/\$\{Token/);
  });

  it('accepts the edges of the schedule range', () => {
    expect(() => synth({ schedule: Duration.minutes(1) })).not.toThrow();
    expect(() => synth({ schedule: Duration.days(1) })).not.toThrow();
  });
});

describe('fleets', () => {
  const ENV = { account: '123456789012', region: 'eu-west-1' };

  /** `n` pools imported by ID, alternating between eu-west-1 and us-east-1 (eu-west-1 alone with `oneRegion`). */
  function poolsIn(stack: Stack, n: number, oneRegion = false): cognito.IUserPool[] {
    return Array.from({ length: n }, (_, i) => {
      const region = oneRegion || i % 2 === 0 ? 'eu-west-1' : 'us-east-1';
      return cognito.UserPool.fromUserPoolId(stack, `Pool${i}`, `${region}_Pool${String(i).padStart(4, '0')}`);
    });
  }

  function fleet(props: Partial<ImportJobMonitorProps> | ((stack: Stack) => Partial<ImportJobMonitorProps>), env: typeof ENV | 'agnostic' = ENV) {
    const stack = new Stack(new App(), 'Test', { env: env === 'agnostic' ? undefined : env });
    const monitor = new ImportJobMonitor(stack, 'Monitor', typeof props === 'function' ? props(stack) : props);
    return { stack, monitor, template: Template.fromStack(stack) };
  }

  const listed = (n: number, oneRegion = false) => (stack: Stack) => ({ userPools: poolsIn(stack, n, oneRegion) });

  it('gives a fleet\'s function 512 MB, a single pool\'s 256 MB', () => {
    const memory = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f: any) => f.Properties)
        .filter((p: any) => p.Handler === 'index.handler')
        .map((p: any) => p.MemorySize);
    expect(memory(fleet(listed(3)).template)).toEqual([512]);
    expect(memory(synth().template)).toEqual([256]);
  });

  it("passes the rate of Cognito calls to the function, and refuses one that is not a rate, or a single pool's", () => {
    const { template } = fleet((stack) => ({ ...listed(3)(stack), cognitoRequestsPerSecond: 4 }));
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).map((f: any) => f.Properties.Environment?.Variables ?? {});
    expect(variables.map((v) => v.COGNITO_REQUESTS_PER_SECOND).filter(Boolean)).toEqual(['4']);
    expect(() => fleet((stack) => ({ ...listed(3)(stack), cognitoRequestsPerSecond: 0 }))).toThrow(
      'cognitoRequestsPerSecond must be a number of calls a second from 1 to 1000, got 0',
    );
    expect(() => synth({ cognitoRequestsPerSecond: 4 })).toThrow('cognitoRequestsPerSecond is for fleets (userPools or discoverUserPools)');
  });

  function counts(template: Template) {
    const types = Object.values(template.toJSON().Resources).map((r: any) => r.Type as string);
    const of = (type: string) => types.filter((t) => t === type).length;
    return {
      resources: types.length,
      alarms: of('AWS::CloudWatch::Alarm'),
      functions: of('AWS::Lambda::Function'),
      tables: of('AWS::DynamoDB::Table'),
      rules: of('AWS::Events::Rule'),
      policies: of('AWS::IAM::Policy'),
    };
  }

  const handlerOf = (template: Template) =>
    (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).find((f) => f.Properties.Handler === 'index.handler').Properties;

  const allPools = (region: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cognito-idp:${region}:123456789012:userpool/*`]],
  });

  it('deploys as many resources for 1,000 pools as for 3, one more alarm than for one pool, in one function, table and schedule', () => {
    const one = counts(synth().template);
    const three = counts(fleet(listed(3)).template);
    const thousand = counts(fleet(listed(1000)).template);
    const discovered = counts(fleet({ discoverUserPools: {} }).template);
    expect(one).toEqual({ resources: 18, alarms: 6, functions: 2, tables: 1, rules: 1, policies: 1 });
    // The fleet's own: the alarm on pools whose runs fail.
    expect(three).toEqual({ ...one, resources: 19, alarms: 7 });
    expect(thousand).toEqual(three);
    expect(discovered).toEqual(three);
  });

  it('names the listed pools and the monitor to the function, and keeps USER_POOL_ID for single pools only', () => {
    const { template, monitor } = fleet(listed(3));
    expect(handlerOf(template).Environment.Variables).toMatchObject({
      USER_POOL_IDS: 'eu-west-1_Pool0000,us-east-1_Pool0001,eu-west-1_Pool0002',
      MONITOR_NAME: 'Test-Monitor',
      STATE_TABLE_NAME: { Ref: expect.stringMatching(/^MonitorState/) },
    });
    expect(handlerOf(template).Environment.Variables.USER_POOL_ID).toBeUndefined();
    expect(handlerOf(template).Environment.Variables.DISCOVER_USER_POOLS).toBeUndefined();
    expect(monitor.monitorName).toBe('Test-Monitor');
    expect(synth().monitor.monitorName).toBeUndefined();
  });

  it('tells the function what to discover as JSON, every pool by default', () => {
    const all = handlerOf(fleet({ discoverUserPools: {} }).template).Environment.Variables;
    expect(JSON.parse(all.DISCOVER_USER_POOLS)).toEqual({ include: ['*'], exclude: [] });
    expect(all.USER_POOL_IDS).toBeUndefined();
    const some = handlerOf(fleet({ discoverUserPools: { include: ['tenant-*', 'eu-west-1_AbC123'], exclude: ['*-sandbox'] } }).template);
    expect(JSON.parse(some.Environment.Variables.DISCOVER_USER_POOLS)).toEqual({ include: ['tenant-*', 'eu-west-1_AbC123'], exclude: ['*-sandbox'] });
  });

  it("ships a list too long for Lambda's 4 KB environment as a file beside the handler, and names the file", () => {
    const { stack, template } = fleet(listed(1000));
    const variables = handlerOf(template).Environment.Variables;
    expect(variables.USER_POOL_IDS).toBeUndefined();
    expect(variables.USER_POOL_IDS_FILE).toBe('user-pools.json');
    expect(JSON.stringify(variables).length).toBeLessThan(4096);
    const outdir = (stack.node.root as App).synth().directory;
    const asset = handlerOf(template).Code.S3Key.replace('.zip', '');
    const list = JSON.parse(fs.readFileSync(path.join(outdir, `asset.${asset}`, 'user-pools.json'), 'utf8'));
    expect(list).toHaveLength(1000);
    expect(list).toContain('us-east-1_Pool0999');
    expect(fs.readFileSync(path.join(outdir, `asset.${asset}`, 'index.js'))).toEqual(fs.readFileSync(path.join(__dirname, '..', 'assets', 'handler', 'index.js')));
    // The bundle's third-party notices go with its code.
    expect(fs.readdirSync(path.join(outdir, `asset.${asset}`)).sort()).toEqual(['THIRD-PARTY-NOTICES.txt', 'index.js', 'user-pools.json']);
  });

  it('keeps a list of about 100 pools in the environment', () => {
    expect(handlerOf(fleet(listed(100)).template).Environment.Variables.USER_POOL_IDS.split(',')).toHaveLength(100);
  });

  it('fails when a list too long for the environment holds pools created in the app, whose IDs are not known at synth', () => {
    expect(() => fleet((stack) => ({ userPools: [...poolsIn(stack, 200), new cognito.UserPool(stack, 'New')] }))).toThrow(
      /^userPools lists 201 pools, too many for the function's environment, and 1 of them are created in this app/,
    );
  });

  it('may list the jobs of each listed pool and describe it, on its own ARN in its own region, and nothing on a wildcard', () => {
    const cognitoStatements = statementsOf(fleet(listed(3)).template).filter((s) => actionsOf(s).some((a) => a.startsWith('cognito-idp:')));
    const arn = (id: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cognito-idp:${id.split('_')[0]}:123456789012:userpool/${id}`]],
    });
    expect(cognitoStatements).toEqual([
      { Action: LIST_AND_DESCRIBE, Effect: 'Allow', Resource: ['eu-west-1_Pool0000', 'us-east-1_Pool0001', 'eu-west-1_Pool0002'].map(arn) },
    ]);
    expect(JSON.stringify(statementsOf(fleet(listed(20)).template))).not.toContain('*');
  });

  it("may list the jobs of the account's pools in each region of a list beyond 20 pools, and nothing else on a wildcard", () => {
    const { template } = fleet(listed(1000));
    const statements = statementsOf(template);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('cognito-idp:')))).toEqual([
      { Action: LIST_AND_DESCRIBE, Effect: 'Allow', Resource: [allPools('eu-west-1'), allPools('us-east-1')] },
    ]);
    expect(statements.filter((s) => JSON.stringify(s.Resource).includes('*') && !actionsOf(s).includes('cognito-idp:ListUserImportJobs'))).toEqual([]);
    const oneRegion = statementsOf(fleet(listed(21, true)).template).find((s) => actionsOf(s).includes('cognito-idp:ListUserImportJobs'));
    expect(oneRegion.Resource).toEqual(allPools('eu-west-1'));
  });

  it("may list the account's pools (ListUserPools takes no resource) and their jobs in the stack's region only, when it discovers them", () => {
    const statements = statementsOf(fleet({ discoverUserPools: { include: ['tenant-*'] } }).template);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('cognito-idp:')))).toEqual([
      { Action: 'cognito-idp:ListUserPools', Effect: 'Allow', Resource: '*' },
      { Action: 'cognito-idp:ListUserImportJobs', Effect: 'Allow', Resource: allPools('eu-west-1') },
    ]);
    expect(statements.filter((s) => s.Resource === '*').flatMap(actionsOf)).toEqual(['cognito-idp:ListUserPools']);
  });

  it('discovers through pseudo parameters in an environment-agnostic stack', () => {
    const statement = statementsOf(fleet({ discoverUserPools: {} }, 'agnostic').template).find((s) => actionsOf(s).includes('cognito-idp:ListUserImportJobs'));
    expect(statement.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cognito-idp:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':userpool/*']],
    });
  });

  it('asks for no DescribeUserPool and no bus with jobEvents false', () => {
    const statements = statementsOf(fleet({ discoverUserPools: {}, jobEvents: false }).template);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('cognito-idp:') || a.startsWith('events:')))).toEqual([
      { Action: 'cognito-idp:ListUserPools', Effect: 'Allow', Resource: '*' },
      { Action: 'cognito-idp:ListUserImportJobs', Effect: 'Allow', Resource: allPools('eu-west-1') },
    ]);
  });

  it('tells cdk-nag why each wildcard is there, one finding at a time, and says nothing for a short list', () => {
    const policyOf = (template: Template) => Object.values(template.findResources('AWS::IAM::Policy'))[0] as any;
    const discovered = policyOf(fleet({ discoverUserPools: {} }).template).Metadata.cdk_nag.rules_to_suppress;
    expect(discovered.map((r: any) => [r.id, r.applies_to])).toEqual([
      ['AwsSolutions-IAM5', ['Resource::*']],
      ['AwsSolutions-IAM5', ['Resource::arn:<AWS::Partition>:cognito-idp:eu-west-1:123456789012:userpool/*']],
    ]);
    expect(discovered[0].reason).toMatch(/ListUserPools has no resource-level permissions/);
    const long = policyOf(fleet(listed(1000)).template).Metadata.cdk_nag.rules_to_suppress;
    expect(long.map((r: any) => r.applies_to[0])).toEqual([
      'Resource::arn:<AWS::Partition>:cognito-idp:eu-west-1:123456789012:userpool/*',
      'Resource::arn:<AWS::Partition>:cognito-idp:us-east-1:123456789012:userpool/*',
    ]);
    expect(long[0].reason).toMatch(/1,000 listed pools: one ARN each would outgrow IAM's size limit/);
    expect(policyOf(fleet(listed(3)).template).Metadata).toBeUndefined();
  });

  it.each([
    ['FailedJobsAlarm', 'JobFailed', "SELECT SUM(JobsCompleted) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE Status = 'Failed' GROUP BY UserPoolId ORDER BY SUM() DESC", 60, 15],
    ['ExpiredJobsAlarm', 'JobExpired', "SELECT SUM(JobsCompleted) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE Status = 'Expired' GROUP BY UserPoolId ORDER BY SUM() DESC", 60, 15],
    ['ExpiringJobsAlarm', 'JobAwaitingStart', 'SELECT MAX(JobsAwaitingStart) FROM SCHEMA("Cognito/UserImportJobs", UserPoolId) GROUP BY UserPoolId ORDER BY MAX() DESC', 300, 1],
    ['StuckJobsAlarm', 'JobStuck', 'SELECT MAX(JobsStuck) FROM SCHEMA("Cognito/UserImportJobs", UserPoolId) GROUP BY UserPoolId ORDER BY MAX() DESC', 300, 1],
    ['FailedUsersAlarm', 'UsersFailed', 'SELECT SUM(FailedUsersOfEndedJobs) FROM SCHEMA("Cognito/UserImportJobs", UserPoolId) GROUP BY UserPoolId ORDER BY SUM() DESC', 60, 15],
    ['PoolRunsFailedAlarm', 'PoolRunsFailed', 'SELECT MAX(PoolRunsFailed) FROM SCHEMA("Cognito/UserImportJobs", UserPoolId) GROUP BY UserPoolId ORDER BY MAX() DESC', 300, 1],
  ])('alarms in %s on a Metrics Insights query with a contributor per pool, the same for 3 pools, 1,000 and discovery', (id, suffix, expression, period, evaluationPeriods) => {
    for (const props of [listed(3), listed(1000), () => ({ discoverUserPools: {} })]) {
      const { template } = fleet(props);
      const [alarm, ...others] = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([key]) => key.startsWith(`Monitor${id}`));
      expect(others).toEqual([]);
      expect(alarm[1].Properties).toMatchObject({
        AlarmName: `ImportJobs-Test-Monitor-${suffix}`,
        Metrics: [{ Id: 'expr_1', Expression: expression, Period: period, ReturnData: true }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // A pool's failed runs in a row: 5 minutes of one-minute ticks.
        Threshold: id === 'PoolRunsFailedAlarm' ? 5 : 1,
        EvaluationPeriods: evaluationPeriods,
        DatapointsToAlarm: 1,
        // A fleet publishes no zeros: no data is a pool with nothing to report, and its contributor returns to OK.
        TreatMissingData: 'notBreaching',
      });
      expect(alarm[1].Properties.MetricName).toBeUndefined();
    }
  });

  it('pages when no tick of the fleet worked for five one-minute periods, on its own heartbeat', () => {
    const { template, monitor } = fleet(listed(3));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ImportJobs-Test-Monitor-MonitorSilent',
      Metrics: [
        Match.objectLike({ Expression: 'FILL(heartbeat, 0)' }),
        Match.objectLike({
          Id: 'heartbeat',
          MetricStat: { Metric: { Namespace: 'Cognito/UserImportJobs', MetricName: 'Heartbeat', Dimensions: [{ Name: 'Monitor', Value: 'Test-Monitor' }] }, Period: 60, Stat: 'Sum' },
        }),
      ],
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'ignore',
    });
    expect(monitor.alarms).toEqual([
      monitor.failedJobsAlarm,
      monitor.expiredJobsAlarm,
      monitor.expiringJobsAlarm,
      monitor.stuckJobsAlarm,
      monitor.failedUsersAlarm,
      monitor.poolRunsFailedAlarm,
      monitor.monitorHealthAlarm,
    ]);
    expect(monitor.alarms).toHaveLength(7);
    for (const alarm of monitor.alarms) expect(alarm).toBeDefined();
  });

  it('says in each alarm description that the pool is among its contributors, what to do, in at most 1024 characters', () => {
    const { template } = fleet({ discoverUserPools: {} });
    const descriptions = alarmDescriptions(template);
    expect(descriptions).toHaveLength(7);
    for (const d of descriptions) {
      expect(d.length).toBeLessThanOrEqual(1024);
      expect(d).toContain('fleet Test-Monitor');
      expect(d).toMatch(/To do: |check the schedule rule/);
    }
    for (const d of descriptions.slice(0, 6)) expect(d).toContain("this alarm's contributors");
    expect(descriptions[0]).toContain('filter message = "Import job completed" and status = "Failed"');
    expect(descriptions[0]).toContain('fields @timestamp, userPoolId, jobId');
    expect(descriptions[6]).toMatch(/had no tick that worked in 5 of 5 periods of 1 minute: it did not run, its ticks failed before running its pools.*fell behind.*PoolRunsFailed.*"Run failed"/);
  });

  it('names the alarms with the prefix given, and switches each one off on request, the pool runs alarm too', () => {
    const { template, monitor } = fleet((stack) => ({ ...listed(3)(stack), poolRunsFailedAlarmOptions: { enabled: false }, alarmNamePrefix: 'Tenants' }));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    expect(monitor.poolRunsFailedAlarm).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'Tenants-JobFailed' });
  });

  it('gives the pool runs alarm one period of two ticks, 5 minutes to an hour, and 5 minutes of failed runs in a row, 3 at least', () => {
    for (const [active, period, threshold] of [[1, 300, 5], [2, 300, 3], [10, 1200, 3], [45, 3600, 3], [90, 3600, 3]]) {
      const { template } = fleet((stack) => ({ ...listed(3)(stack), schedule: Duration.minutes(120), activeSchedule: Duration.minutes(active) }));
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'ImportJobs-Test-Monitor-PoolRunsFailed',
        Metrics: [Match.objectLike({ Period: period })],
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: threshold,
      });
    }
  });

  it('fails when a fleet alarm would look back more than the 3 hours Metrics Insights alarms evaluate', () => {
    expect(() => fleet((stack) => ({ ...listed(3)(stack), failedJobsAlarmOptions: { period: Duration.hours(1), evaluationPeriods: 4 } }))).toThrow(
      "failedJobsAlarmOptions: a fleet's alarms are Metrics Insights queries, which evaluate the latest 3 hours only, so period times " +
        'evaluationPeriods may be at most 3 hours, got 4 x 1 hour',
    );
    expect(() => synth({ failedJobsAlarmOptions: { period: Duration.hours(1), evaluationPeriods: 4 } })).not.toThrow();
  });

  it.each([
    [{}, 'none'],
    [{ discoverUserPools: {}, userPools: [] }, 'userPools and discoverUserPools'],
  ] as [Partial<ImportJobMonitorProps>, string][])('fails unless exactly one source of pools is given: %j', (props, got) => {
    expect(() => new ImportJobMonitor(new Stack(), 'Monitor', props as ImportJobMonitorProps)).toThrow(
      'exactly one of userPool (one pool), userPools (a fleet listed) and discoverUserPools (a fleet of every pool of the ' +
        `account and region) must be given, got ${got}`,
    );
  });

  it('fails when userPool comes with a fleet, naming both', () => {
    const stack = new Stack();
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPool, discoverUserPools: {} })).toThrow(/got userPool and discoverUserPools$/);
  });

  it('fails when userPools is empty', () => {
    expect(() => fleet({ userPools: [] })).toThrow(
      'userPools must list at least one user pool, got []: use discoverUserPools to watch every pool of the account',
    );
  });

  it('fails when userPools lists a pool twice, naming it', () => {
    expect(() => fleet((stack) => {
      const [a, b] = poolsIn(stack, 2);
      return { userPools: [a, b, cognito.UserPool.fromUserPoolId(stack, 'Again', a.userPoolId)] };
    })).toThrow('userPools lists user pool eu-west-1_Pool0000 twice: each pool once, or its jobs would be counted twice');
    const stack = new Stack();
    const created = new cognito.UserPool(stack, 'Created');
    expect(() => new ImportJobMonitor(stack, 'Monitor', { userPools: [created, created] })).toThrow(/^Default\/Monitor: userPools lists user pool Default\/Created twice/);
  });

  it('fails when userPools holds a pool with a bad ID, or one of another account', () => {
    expect(() => fleet((stack) => ({ userPools: [cognito.UserPool.fromUserPoolId(stack, 'Bad', 'not a pool')] }))).toThrow(
      'userPools must hold user pools with IDs like eu-west-1_AbC123 (its region, an underscore, letters and digits), got "not a pool"',
    );
    expect(() => fleet((stack) => ({
      userPools: [cognito.UserPool.fromUserPoolArn(stack, 'Other', 'arn:aws:cognito-idp:eu-west-1:999999999999:userpool/eu-west-1_AbC123')],
    }))).toThrow("userPools must all be in the stack's account 123456789012, where the function lists its jobs, got a pool in account 999999999999");
  });

  it('monitors pools created in the same stack through their own ARNs', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const created = new cognito.UserPool(stack, 'Created');
    new ImportJobMonitor(stack, 'Monitor', { userPools: [created, cognito.UserPool.fromUserPoolId(stack, 'Imported', 'us-east-1_AbC123')] });
    const template = Template.fromStack(stack);
    expect(handlerOf(template).Environment.Variables.USER_POOL_IDS).toEqual({
      'Fn::Join': ['', [{ Ref: stack.getLogicalId(created.node.defaultChild as any) }, ',us-east-1_AbC123']],
    });
    const statement = statementsOf(template).find((s) => actionsOf(s).includes('cognito-idp:ListUserImportJobs'));
    expect(statement.Resource[0]).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(created.node.defaultChild as any), 'Arn'] });
  });

  it.each([
    [{ include: [] }, 'discoverUserPools.include must name at least one pattern when given, got []: leave it out to watch every pool'],
    [{ include: [''] }, 'discoverUserPools.include takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run of characters, got ""'],
    [{ exclude: ['   '] }, 'discoverUserPools.exclude takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run of characters, got "   "'],
    [{ exclude: ['tenant/*'] }, 'discoverUserPools.exclude takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run of characters, got "tenant/*"'],
  ])('fails on a bad discovery pattern: %j', (discoverUserPools, message) => {
    expect(() => fleet({ discoverUserPools })).toThrow(message);
  });

  it.each([
    ['', 'monitorName must be 1 to 64 letters, digits or . _ -, got ""'],
    ['has space', 'monitorName must be 1 to 64 letters, digits or . _ -, got "has space"'],
    ['x'.repeat(65), `monitorName must be 1 to 64 letters, digits or . _ -, got "${'x'.repeat(65)}"`],
  ])('fails when the monitor name is %j', (monitorName, message) => {
    expect(() => fleet({ discoverUserPools: {}, monitorName })).toThrow(message);
  });

  it('takes the monitor name given for its heartbeat and its alarms', () => {
    const { template, monitor } = fleet({ discoverUserPools: {}, monitorName: 'tenants' });
    expect(handlerOf(template).Environment.Variables.MONITOR_NAME).toBe('tenants');
    expect(monitor.metricHeartbeat().dimensions).toEqual({ Monitor: 'tenants' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'ImportJobs-tenants-JobFailed' });
  });

  it('names a nested monitor after its stack and path, within 64 characters, the same on every synth', () => {
    const name = () => {
      const stack = new Stack(new App(), 'Identity-Production-EuropeWest', { env: ENV });
      const parent = new Construct(new Construct(stack, 'TenantsOfTheWholeOrganization'), 'ImportJobMonitoring');
      return new ImportJobMonitor(parent, 'Fleet', { discoverUserPools: {} }).monitorName!;
    };
    expect(name()).toMatch(/^Identity-Production-EuropeWest-TenantsOfTheWholeOrganiz-[0-9a-f]{8}$/);
    expect(name()).toHaveLength(64);
    expect(name()).toBe(name());
    const stack = new Stack(new App(), 'Id', { stackName: 'identity-prod' });
    expect(new ImportJobMonitor(stack, 'Fleet', { discoverUserPools: {} }).monitorName).toBe('identity-prod-Fleet');
  });

  it.each([
    [{ monitorName: 'x' }, 'monitorName is for fleets (userPools or discoverUserPools), got it with userPool: drop it'],
    [{ poolRunsFailedAlarmOptions: { enabled: false } }, 'poolRunsFailedAlarmOptions is for fleets (userPools or discoverUserPools), got it with userPool: drop it'],
  ] as [Partial<ImportJobMonitorProps>, string][])('fails when a fleet prop comes with userPool: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it("fails when a fleet and another monitor in one app publish into one namespace, since the fleet's alarms query all of it", () => {
    const app = new App();
    const first = new Stack(app, 'First');
    new ImportJobMonitor(first, 'Single', { userPool: cognito.UserPool.fromUserPoolId(first, 'Pool', 'eu-west-1_AbC123') });
    const second = new Stack(app, 'Second');
    expect(() => new ImportJobMonitor(second, 'Fleet', { discoverUserPools: {} })).toThrow(
      'Second/Fleet is a fleet, whose alarms query every pool in its namespace Cognito/UserImportJobs, where First/Single publishes ' +
        'too: they would page on its pools as well. Give one of them another metricNamespace',
    );
    new ImportJobMonitor(second, 'Tenants', { discoverUserPools: {}, metricNamespace: 'Tenants/Imports' });
    expect(() => new ImportJobMonitor(second, 'Late', { userPool: cognito.UserPool.fromUserPoolId(second, 'Pool', 'eu-west-1_Other1'), metricNamespace: 'Tenants/Imports' })).toThrow(
      'Second/Late would publish into namespace Tenants/Imports, where the fleet Second/Tenants alarms on every pool: give one of them another metricNamespace',
    );
  });

  it("fails when a fleet's per-pool metric accessor is asked for, pointing at the fleet's query", () => {
    const { monitor } = fleet(listed(3));
    expect(() => monitor.metricJobs(ImportJobStatus.FAILED)).toThrow(
      "metricJobs gives one pool's metric, and this monitor watches a fleet (userPools): use metricFleetJobs, a Metrics Insights query with a series per pool",
    );
    for (const call of [
      () => monitor.metricJobsCompleted(ImportJobStatus.FAILED),
      () => monitor.metricImportedUsers(),
      () => monitor.metricSkippedUsers(),
      () => monitor.metricFailedUsers(),
      () => monitor.metricJobsAwaitingStart(),
      () => monitor.metricJobsStuck(),
    ]) {
      expect(call).toThrow(/gives one pool's metric, and this monitor watches a fleet \(userPools\): use metricFleet/);
    }
  });

  it("gives the fleet's metrics as Metrics Insights queries, by pool unless asked for the whole fleet", () => {
    const { monitor } = fleet({ discoverUserPools: {}, schedule: Duration.minutes(10) });
    const byPool = monitor.metricFleetJobsCompleted(ImportJobStatus.FAILED);
    expect(byPool.expression).toBe(
      "SELECT SUM(JobsCompleted) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE Status = 'Failed' GROUP BY UserPoolId ORDER BY SUM() DESC",
    );
    expect(byPool.period.toMinutes()).toBe(10);
    const total = monitor.metricFleetImportedUsers({ byPool: false, period: Duration.hours(1), label: 'Imported' });
    expect(total.expression).toBe('SELECT SUM(ImportedUsers) FROM SCHEMA("Cognito/UserImportJobs", UserPoolId)');
    expect([total.period.toHours(), total.label]).toEqual([1, 'Imported']);
    expect(monitor.metricFleetJobs(ImportJobStatus.IN_PROGRESS).expression).toBe(
      "SELECT MAX(Jobs) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE Status = 'InProgress' GROUP BY UserPoolId ORDER BY MAX() DESC",
    );
    expect(monitor.metricFleetPoolRunsFailed().expression).toContain('SELECT MAX(PoolRunsFailed)');
    expect(monitor.metricFleetSkippedUsers().expression).toContain('SELECT SUM(SkippedUsers)');
    expect(monitor.metricFleetFailedUsers().expression).toContain('SELECT SUM(FailedUsers)');
    expect(monitor.metricFleetJobsAwaitingStart().expression).toContain('SELECT MAX(JobsAwaitingStart)');
    expect(monitor.metricFleetJobsStuck().expression).toContain('SELECT MAX(JobsStuck)');
    expect(() => monitor.metricFleetJobsCompleted(ImportJobStatus.PENDING)).toThrow(
      'metricFleetJobsCompleted takes a status among Succeeded, Failed, Stopped, Expired, got "Pending"',
    );
    const pools = monitor.metricPoolsMonitored();
    expect([pools.metricName, pools.dimensions, pools.statistic]).toEqual(['PoolsMonitored', { Monitor: 'Test-Monitor' }, 'Maximum']);
    expect(monitor.metricHeartbeat().dimensions).toEqual({ Monitor: 'Test-Monitor' });
  });

  it("scopes the fleet queries to a single pool's monitor, which has no pools monitored nor pool runs", () => {
    const { monitor } = synth();
    expect(monitor.metricFleetJobsCompleted(ImportJobStatus.FAILED, { byPool: false }).expression).toBe(
      "SELECT SUM(JobsCompleted) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE UserPoolId = 'eu-west-1_AbC123' AND Status = 'Failed'",
    );
    expect(() => monitor.metricPoolsMonitored()).toThrow(
      'metricPoolsMonitored is for fleets (userPools or discoverUserPools): a single pool publishes no PoolsMonitored',
    );
    expect(() => monitor.metricFleetPoolRunsFailed()).toThrow(/^metricFleetPoolRunsFailed is for fleets/);
  });

  it('routes the job events of a short list from its pools and account, by status if asked', () => {
    const { stack, monitor } = (() => {
      const s = new Stack(new App(), 'Test', { env: ENV });
      return { stack: s, monitor: new ImportJobMonitor(s, 'Monitor', { userPools: poolsIn(s, 2) }) };
    })();
    monitor.onJobStateChange('Failed', { statuses: [ImportJobStatus.FAILED] });
    monitor.onPoolRunFailed('PoolFailed', { target: new targets.SnsTopic(new sns.Topic(stack, 'Topic')) });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).map((r: any) => r.Properties).filter((p: any) => p.EventPattern);
    expect(rules.map((r: any) => r.EventPattern)).toEqual([
      {
        source: ['import-job-monitor'],
        'detail-type': ['Cognito User Import Job State Change'],
        account: ['123456789012'],
        detail: { userPoolId: ['eu-west-1_Pool0000', 'us-east-1_Pool0001'], status: ['Failed'] },
      },
      {
        source: ['import-job-monitor'],
        'detail-type': ['Cognito User Import Monitor Pool Run Failed'],
        account: ['123456789012'],
        detail: { userPoolId: ['eu-west-1_Pool0000', 'us-east-1_Pool0001'] },
      },
    ]);
    expect(rules[1].Targets).toHaveLength(1);
  });

  it("routes every job event of a discovered fleet's account", () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    new ImportJobMonitor(stack, 'Monitor', { discoverUserPools: {} }).onJobStateChange('All');
    const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).map((r: any) => r.Properties).filter((p: any) => p.EventPattern);
    expect(rule.EventPattern).toEqual({ source: ['import-job-monitor'], 'detail-type': ['Cognito User Import Job State Change'], account: ['123456789012'] });
  });

  it('fails when onPoolRunFailed is asked of a single pool, or without job events', () => {
    expect(() => synth().monitor.onPoolRunFailed('Rule')).toThrow(/^onPoolRunFailed is for fleets/);
    const stack = new Stack();
    expect(() => new ImportJobMonitor(stack, 'Monitor', { discoverUserPools: {}, jobEvents: false }).onPoolRunFailed('Rule')).toThrow(
      'onPoolRunFailed needs the job events, but jobEvents is false: leave jobEvents on to route them',
    );
  });

  it("sends the job events to a central bus in another account, and may put events on it and no other", () => {
    const central = 'arn:aws:events:eu-west-1:999999999999:event-bus/central';
    const { template, monitor } = fleet((stack) => ({ discoverUserPools: {}, eventBus: events.EventBus.fromEventBusArn(stack, 'Central', central) }));
    expect(handlerOf(template).Environment.Variables.EVENT_BUS_NAME).toBe(central);
    expect(statementsOf(template).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')))).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: central },
    ]);
    expect(monitor.eventBus!.eventBusArn).toBe(central);
  });

  it("sends them to a bus in another region, which the function calls in that bus's own region", () => {
    const central = 'arn:aws:events:us-east-1:999999999999:event-bus/central';
    const { template } = fleet((stack) => ({ discoverUserPools: {}, eventBus: events.EventBus.fromEventBusArn(stack, 'Central', central) }));
    expect(handlerOf(template).Environment.Variables.EVENT_BUS_NAME).toBe(central);
    expect(statementsOf(template).filter((s) => actionsOf(s).includes('events:PutEvents'))).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: central },
    ]);
    // A single pool's monitor takes one as well.
    expect(() => synth({ eventBus: events.EventBus.fromEventBusArn(new Stack(), 'Bus', central) })).not.toThrow();
  });
});

describe('IAM only for the calls made', () => {
  /** The Cognito actions of the monitor's role, each once. */
  function cognitoActions(props: (stack: Stack) => Partial<ImportJobMonitorProps>): string[] {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    new ImportJobMonitor(stack, 'Monitor', props(stack));
    return [...new Set(statementsOf(Template.fromStack(stack)).flatMap(actionsOf).filter((a) => a.startsWith('cognito-idp:')))].sort();
  }
  const pool = (stack: Stack, id: string) => cognito.UserPool.fromUserPoolId(stack, id, id);

  it('grants a discovered fleet no DescribeUserPool, even with job events: ListUserPools names each pool it lists', () => {
    expect(cognitoActions(() => ({ discoverUserPools: {} }))).toEqual(['cognito-idp:ListUserImportJobs', 'cognito-idp:ListUserPools']);
  });

  it("grants DescribeUserPool with job events to a single pool and a listed fleet, whose runs read a pool's name for a job's import log", () => {
    const both = ['cognito-idp:DescribeUserPool', 'cognito-idp:ListUserImportJobs'];
    expect(cognitoActions((stack) => ({ userPool: pool(stack, 'eu-west-1_AbC123') }))).toEqual(both);
    expect(cognitoActions((stack) => ({ userPools: [pool(stack, 'eu-west-1_A1'), pool(stack, 'us-east-1_B2')] }))).toEqual(both);
    expect(cognitoActions((stack) => ({ userPools: [pool(stack, 'eu-west-1_A1')], jobEvents: false }))).toEqual(['cognito-idp:ListUserImportJobs']);
  });
});

describe('props checked for what CloudWatch, Cognito and the pace take', () => {
  function discovering(props: Partial<ImportJobMonitorProps>) {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    return new ImportJobMonitor(stack, 'Monitor', { discoverUserPools: {}, ...props });
  }

  it.each(['Imports\nProd', 'Imports\r', 'Imports\u0000', 'Imports\t', 'Imports \u{1F6A8}', 'Impörts', 'Imports\u007f', 'Imports\u00a0'])(
    'fails when alarmNamePrefix holds anything but printable ASCII: %j',
    (alarmNamePrefix) => {
      expect(() => synth({ alarmNamePrefix })).toThrow(
        `alarmNamePrefix must be printable ASCII characters only (space to ~), got ${JSON.stringify(alarmNamePrefix)}`,
      );
    },
  );

  it('accepts every printable ASCII character in alarmNamePrefix', () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    expect(() => synth({ alarmNamePrefix: printable })).not.toThrow();
  });

  it.each(['tenant-\n*', 'tenant\t*', '\u00a0tenant-*', 'tenant-\u0000', 'tenant-\u{1F680}', '*\u2028', 'tenant\r\n'])(
    'fails when a discovery pattern holds whitespace other than a space, or a control character: %j',
    (pattern) => {
      expect(() => discovering({ discoverUserPools: { include: [pattern] } })).toThrow(
        `discoverUserPools.include takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run of characters, got ${JSON.stringify(pattern)}`,
      );
      expect(() => discovering({ discoverUserPools: { exclude: [pattern] } })).toThrow(`discoverUserPools.exclude takes patterns`);
    },
  );

  it('accepts a discovery pattern with spaces, which pool names may hold', () => {
    expect(() => discovering({ discoverUserPools: { include: ['Tenant A *'] } })).not.toThrow();
  });

  it.each([0.0001, 0.5, 0, -1, 1000.5, Number.NaN, Number.POSITIVE_INFINITY])('fails when cognitoRequestsPerSecond is %p', (cognitoRequestsPerSecond) => {
    expect(() => discovering({ cognitoRequestsPerSecond })).toThrow(
      `cognitoRequestsPerSecond must be a number of calls a second from 1 to 1000, got ${cognitoRequestsPerSecond}`,
    );
  });

  it('accepts cognitoRequestsPerSecond from 1 to 1000', () => {
    for (const cognitoRequestsPerSecond of [1, 2.5, 1000]) expect(() => discovering({ cognitoRequestsPerSecond })).not.toThrow();
  });
});

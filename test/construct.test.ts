import { App, Duration, RemovalPolicy, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_logs as logs, aws_sns as sns } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
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

  it('invokes the function on the schedule', () => {
    const { template } = synth({ schedule: Duration.minutes(15) });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
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

  it('may list the import jobs of its pool only, and touch its own table only', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorLogGroup'), 'Arn'] },
          },
          { Action: 'cognito-idp:ListUserImportJobs', Effect: 'Allow', Resource: POOL_ARN },
          {
            Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
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

  it('alarms on a job that ended Failed in one schedule period', () => {
    const { template, monitor } = synth({ schedule: Duration.minutes(10) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Cognito/UserImportJobs',
      MetricName: 'JobsCompleted',
      Dimensions: Match.arrayWith([
        { Name: 'Status', Value: 'Failed' },
        { Name: 'UserPoolId', Value: 'eu-west-1_AbC123' },
      ]),
      Statistic: 'Sum',
      Period: 600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.anyValue(),
    });
    expect(monitor.failedJobsAlarm).toBeDefined();
  });

  it('alarms on a job that ended Expired in one schedule period', () => {
    synth().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'JobsCompleted',
      Dimensions: Match.arrayWith([{ Name: 'Status', Value: 'Expired' }]),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('tells the operator where to look in each alarm description', () => {
    const { template } = synth();
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) =>
      JSON.stringify(a.Properties.AlarmDescription),
    );
    expect(descriptions).toHaveLength(4);
    for (const d of descriptions) expect(d).toMatch(/log group/);
    expect(descriptions.find((d) => d.includes('ended Failed'))).toMatch(/CompletionMessage/);
  });

  it('alarms when the handler fails or publishes nothing for three periods', () => {
    const { template, monitor } = synth();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Jobs',
      Statistic: 'SampleCount',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
    const [composite] = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm')) as any[];
    const rule = composite.Properties.AlarmRule['Fn::Join'][1];
    const errorsAlarm = Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Errors' } }));
    const silentAlarm = Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Jobs' } }));
    expect(rule).toEqual([
      '(ALARM("',
      { 'Fn::GetAtt': [errorsAlarm[0], 'Arn'] },
      '") OR ALARM("',
      { 'Fn::GetAtt': [silentAlarm[0], 'Arn'] },
      '"))',
    ]);
    expect(monitor.alarms).toEqual([monitor.failedJobsAlarm, monitor.expiredJobsAlarm, monitor.monitorHealthAlarm]);
  });

  it.each([
    [1, 60, 3],
    [480, 28800, 3],
    [600, 36000, 2],
    [1440, 86400, 1],
  ])('keeps every alarm within one day for a schedule of %i minutes', (minutes, period, silentPeriods) => {
    const { template } = synth({ schedule: Duration.minutes(minutes) });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties);
    for (const alarm of alarms) {
      expect(alarm.Period).toBe(period);
      expect(alarm.Period * alarm.EvaluationPeriods).toBeLessThanOrEqual(86400);
    }
    expect(alarms.find((a) => a.MetricName === 'Jobs').EvaluationPeriods).toBe(silentPeriods);
  });

  it('attaches the alarm action to ALARM and OK of every alarm', () => {
    const stack = new Stack();
    const topic = new sns.Topic(stack, 'Topic');
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123');
    new ImportJobMonitor(stack, 'Monitor', { userPool, alarmAction: new actions.SnsAction(topic) });
    const template = Template.fromStack(stack);
    const topicRef = { Ref: Match.stringLikeRegexp('^Topic') };
    const withActions = { AlarmActions: [topicRef], OKActions: [topicRef] };
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: withActions }))).toHaveLength(2);
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', withActions);
    // The health alarm's parts page through the composite, not on their own.
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: Match.absent() } }))).toHaveLength(2);
  });

  it('switches each alarm off on request', () => {
    const { template, monitor } = synth({
      enableFailedJobsAlarm: false,
      enableExpiredJobsAlarm: false,
      enableMonitorHealthAlarm: false,
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    expect(monitor.alarms).toEqual([]);
    expect(monitor.failedJobsAlarm).toBeUndefined();
  });

  it('switches one alarm off and keeps the others', () => {
    const { template, monitor } = synth({ enableExpiredJobsAlarm: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    expect(monitor.expiredJobsAlarm).toBeUndefined();
    expect(monitor.alarms).toHaveLength(2);
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
          { Action: 'cognito-idp:ListUserImportJobs', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Pool'), 'Arn'] } },
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
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement,
    );
    const cognitoStatement = statements.find((s: any) => s.Action === 'cognito-idp:ListUserImportJobs');
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

  it.each([4, 1.5, 0, -1])('fails when the log retention is %j days', (days) => {
    expect(() => synth({ logRetention: days as logs.RetentionDays })).toThrow(
      new RegExp(`^logRetention must be one of the logs.RetentionDays values \\(1, 3, 5, 7, 14, 30, .*\\), got ${days}$`),
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
    expect(() => new ImportJobMonitor(second, 'Other', { userPool, metricNamespace: 'Other' })).not.toThrow();
    expect(() =>
      new ImportJobMonitor(second, 'OtherPool', { userPool: cognito.UserPool.fromUserPoolId(second, 'Pool2', 'eu-west-1_Other1') }),
    ).not.toThrow();
  });

  it('fails when one pool created in the stack gets two monitors', () => {
    const stack = new Stack();
    const userPool = new cognito.UserPool(stack, 'Pool');
    new ImportJobMonitor(stack, 'One', { userPool });
    expect(() => new ImportJobMonitor(stack, 'Two', { userPool })).toThrow(/^Default\/Two and Default\/One both monitor user pool/);
  });

  it('accepts the edges of the schedule range', () => {
    expect(() => synth({ schedule: Duration.minutes(1) })).not.toThrow();
    expect(() => synth({ schedule: Duration.days(1) })).not.toThrow();
  });
});

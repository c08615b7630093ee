import * as fs from 'fs';
import * as path from 'path';
import {
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  aws_cloudwatch as cloudwatch,
  aws_cognito as cognito,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import {
  COMPLETED_STATUSES,
  DEFAULT_METRIC_NAMESPACE,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  ImportJobStatus,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_COMPLETED,
  METRIC_SKIPPED_USERS,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  userPoolRegion,
} from './contract';

/** Properties of an {@link ImportJobMonitor}. */
export interface ImportJobMonitorProps {
  /**
   * The user pool whose import jobs are monitored. `UserPool.fromUserPoolId(...)` works too, for a pool in any
   * region: the function calls Cognito in the region its ID names (`eu-west-1_AbC123`).
   */
  readonly userPool: cognito.IUserPool;

  /**
   * How often the pool's import jobs are listed: a whole number of minutes from 1 to 1440.
   * It is also the period of every metric and alarm.
   * @default Duration.minutes(5)
   */
  readonly schedule?: Duration;

  /**
   * The CloudWatch namespace the metrics are published in.
   * @default 'Cognito/UserImportJobs'
   */
  readonly metricNamespace?: string;

  /**
   * Added to the ALARM and the OK state of each alarm in `alarms` (the failed, expired and health alarms).
   * @default - no action: the alarms only change state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * How long the handler's logs are kept: one of the `logs.RetentionDays` values.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Whether to create the alarm on jobs that ended `Failed`.
   * @default true
   */
  readonly enableFailedJobsAlarm?: boolean;

  /**
   * Whether to create the alarm on jobs that ended `Expired` (created, never started).
   * @default true
   */
  readonly enableExpiredJobsAlarm?: boolean;

  /**
   * Whether to create the alarm on the monitor itself failing or going silent.
   * @default true
   */
  readonly enableMonitorHealthAlarm?: boolean;

  /**
   * What happens to the state table and the handler's log group when they leave the stack (`cdk destroy`,
   * or the monitor removed). The table only holds the last seen state of each job; a new table starts with a
   * first run, which counts no old job again.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

// By name rather than Runtime.NODEJS_24_X, which older aws-cdk-lib releases lack: apps on those can use the
// library, and the function still runs on the newest Node.js that Lambda offers.
const NODEJS_24 = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

// CloudWatch rejects an alarm whose period times evaluation periods exceeds one day.
const MAX_ALARM_RANGE_SECONDS = 24 * 60 * 60;
// The monitor is called silent after this many schedule periods without a run that published.
const SILENT_PERIODS = 3;

/**
 * Monitors the user import jobs of an Amazon Cognito user pool: a scheduled function lists the pool's
 * jobs, publishes CloudWatch metrics on them, and alarms fire when a job ends `Failed` or `Expired`.
 */
export class ImportJobMonitor extends Construct {
  /** The function that lists the jobs and publishes the metrics. */
  public readonly handler: lambda.IFunction;
  /** The table that keeps the last seen state of each job between runs. */
  public readonly stateTable: dynamodb.ITable;
  /** The namespace of the metrics. */
  public readonly metricNamespace: string;
  /** How often the jobs are listed; the period of the metrics and alarms. */
  public readonly schedule: Duration;
  /** In ALARM when a job ended `Failed` in the last period; undefined when switched off. */
  public readonly failedJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM when a job ended `Expired` in the last period; undefined when switched off. */
  public readonly expiredJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM when the handler fails, or publishes nothing for three periods; undefined when switched off. */
  public readonly monitorHealthAlarm?: cloudwatch.CompositeAlarm;
  /**
   * The alarms that carry `alarmAction`: `failedJobsAlarm`, `expiredJobsAlarm` and `monitorHealthAlarm`, those
   * switched on. The two alarms inside `monitorHealthAlarm` (handler errors, no data) have no action of their own.
   */
  public readonly alarms: cloudwatch.AlarmBase[] = [];

  private readonly userPoolId: string;

  constructor(scope: Construct, id: string, props: ImportJobMonitorProps) {
    super(scope, id);
    this.schedule = props.schedule ?? Duration.minutes(5);
    this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
    this.userPoolId = props.userPool.userPoolId;
    validateSchedule(this.schedule);
    validateNamespace(this.metricNamespace);
    validateUserPoolId(this.userPoolId);
    validateAccount(this, props.userPool);
    validateLogRetention(props.logRetention);
    claimPool(this, this.userPoolId, this.metricNamespace);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    const table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy,
    });
    // Set on the CloudFormation resource: older aws-cdk-lib releases (2.150 among them) drop the prop
    // pointInTimeRecoverySpecification without a word, and newer ones deprecate pointInTimeRecovery.
    (table.node.defaultChild as dynamodb.CfnTable).pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
    this.stateTable = table;

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    // A role of our own: the managed AWSLambdaBasicExecutionRole would let it write to every log group.
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Lists the user import jobs of one user pool and keeps their state',
    });
    logGroup.grantWrite(role);

    const handler = new lambda.Function(this, 'Handler', {
      description: 'Publishes CloudWatch metrics on the user import jobs of a Cognito user pool',
      runtime: NODEJS_24,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(handlerBundleDir()),
      handler: 'index.handler',
      role,
      logGroup,
      memorySize: 256,
      timeout: Duration.minutes(2),
      environment: {
        [ENV_USER_POOL_ID]: this.userPoolId,
        [ENV_STATE_TABLE_NAME]: table.tableName,
        [ENV_METRIC_NAMESPACE]: this.metricNamespace,
        [ENV_SCHEDULE_SECONDS]: String(this.schedule.toSeconds()),
      },
    });
    this.handler = handler;
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cognito-idp:ListUserImportJobs'],
      resources: [userPoolArn(this, props.userPool)],
    }));
    table.grant(handler, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem');

    new events.Rule(this, 'Schedule', {
      description: 'Runs the user import job monitor',
      schedule: events.Schedule.rate(this.schedule),
      targets: [new targets.LambdaFunction(handler)],
    });

    const where = `Details are in the log group ${logGroup.logGroupName}.`;
    if (props.enableFailedJobsAlarm ?? true) {
      this.failedJobsAlarm = this.completedJobsAlarm('FailedJobsAlarm', ImportJobStatus.FAILED,
        `A user import job into user pool ${this.userPoolId} ended Failed: its users were not all imported. ` +
          `${where} Find "Import job completed" with status Failed for the job ID, name, user counts and ` +
          'CompletionMessage; then read the job\'s own CloudWatch Logs, fix the CSV or the pool and import again.');
    }
    if (props.enableExpiredJobsAlarm ?? true) {
      this.expiredJobsAlarm = this.completedJobsAlarm('ExpiredJobsAlarm', ImportJobStatus.EXPIRED,
        `A user import job into user pool ${this.userPoolId} expired: it was created but never started, ` +
          `so none of its users were imported. ${where} Find "Import job completed" with status Expired for ` +
          'the job ID and name; create and start the import again.');
    }
    if (props.enableMonitorHealthAlarm ?? true) {
      this.monitorHealthAlarm = this.healthAlarm(handler, where);
    }
    if (props.alarmAction) {
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(props.alarmAction);
        alarm.addOkAction(props.alarmAction);
      }
    }
  }

  /**
   * The number of jobs now in a status, as counted by the last run.
   * @param status any status, e.g. `ImportJobStatus.IN_PROGRESS`
   * @default maximum over the schedule period
   */
  public metricJobs(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  // TypeScript also takes the status' plain name ('InProgress'), checked at synth. jsii reads the first
  // signature only, so Python, Java, .NET and Go see the enum.
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    checkStatus('metricJobs', status, JOB_STATUSES);
    return this.metric(METRIC_JOBS, { [DIMENSION_STATUS]: status }, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * The number of jobs that entered a completed status; each job is counted once, when it gets there.
   * @param status a status a job ends in: `SUCCEEDED`, `FAILED`, `STOPPED` or `EXPIRED`
   * @default sum over the schedule period
   */
  public metricJobsCompleted(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    checkStatus('metricJobsCompleted', status, COMPLETED_STATUSES);
    return this.metric(METRIC_JOBS_COMPLETED, { [DIMENSION_STATUS]: status }, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users imported, counted as the jobs' counters grow: the sum over a period is the users imported in it.
   * @default sum over the schedule period
   */
  public metricImportedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_IMPORTED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users skipped (already in the pool), counted as the jobs' counters grow.
   * @default sum over the schedule period
   */
  public metricSkippedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_SKIPPED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users that failed to import, counted as the jobs' counters grow.
   * @default sum over the schedule period
   */
  public metricFailedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_FAILED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  private metric(
    metricName: string,
    dimensions: Record<string, string>,
    statistic: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricNamespace,
      metricName,
      dimensionsMap: { [DIMENSION_USER_POOL_ID]: this.userPoolId, ...dimensions },
      statistic,
      period: this.schedule,
      ...props,
    }).attachTo(this);
  }

  private completedJobsAlarm(id: string, status: ImportJobStatus, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric: this.metricJobsCompleted(status, { statistic: cloudwatch.Stats.SUM, period: this.schedule }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms.push(alarm);
    return alarm;
  }

  private healthAlarm(handler: lambda.Function, where: string): cloudwatch.CompositeAlarm {
    const errors = new cloudwatch.Alarm(this, 'HandlerErrorsAlarm', {
      alarmDescription: `The import job monitor of user pool ${this.userPoolId} failed a run. ${where}`,
      metric: handler.metricErrors({ statistic: cloudwatch.Stats.SUM, period: this.schedule }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Every complete run publishes Jobs for all statuses, so one status' sample count tells a run happened.
    // Long schedules get fewer periods, so that the alarm's range stays within CloudWatch's one day.
    const silentPeriods = Math.max(1, Math.min(SILENT_PERIODS, Math.floor(MAX_ALARM_RANGE_SECONDS / this.schedule.toSeconds())));
    const silent = new cloudwatch.Alarm(this, 'NoDataAlarm', {
      alarmDescription: `The import job monitor of user pool ${this.userPoolId} published no Jobs metric for ` +
        `${silentPeriods} periods: its schedule may be disabled, its permissions revoked or the pool deleted. ${where}`,
      metric: this.metricJobs(ImportJobStatus.CREATED, { statistic: cloudwatch.Stats.SAMPLE_COUNT, period: this.schedule }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: silentPeriods,
      datapointsToAlarm: silentPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const alarm = new cloudwatch.CompositeAlarm(this, 'MonitorHealthAlarm', {
      alarmDescription: `The import job monitor of user pool ${this.userPoolId} is broken, so failed or expired ` +
        `imports would go unnoticed: a run failed, or none published for ${silentPeriods} periods. ${where} ` +
        'Look for "Run failed" and its error (ResourceNotFoundException: the pool is gone; NotAuthorizedException: ' +
        'permissions; IncompleteListingError: the listing broke off) and check the schedule rule is enabled.',
      alarmRule: cloudwatch.AlarmRule.anyOf(errors, silent),
    });
    this.alarms.push(alarm);
    return alarm;
  }
}

function validateSchedule(schedule: Duration): void {
  const ms = schedule.toMilliseconds();
  if (ms % 60_000 !== 0 || ms < 60_000 || ms > 1440 * 60_000) {
    throw new Error(`schedule must be a whole number of minutes between 1 and 1440, got ${schedule.toHumanString()}`);
  }
}

function validateNamespace(namespace: string): void {
  if (Token.isUnresolved(namespace)) return;
  if (!/^[a-zA-Z0-9._#:/-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new Error(
      'metricNamespace must be 1 to 255 letters, digits or . _ # : / - and must not start with AWS/, ' +
        `got ${JSON.stringify(namespace)}`,
    );
  }
}

function validateUserPoolId(id: string): void {
  if (Token.isUnresolved(id)) return;
  if (userPoolRegion(id) === undefined) {
    throw new Error(
      `userPool must have an ID like eu-west-1_AbC123 (its region, an underscore, letters and digits), got ${JSON.stringify(id)}`,
    );
  }
}

// ListUserImportJobs lists a pool's jobs to its own account only: Cognito has no resource policy to share them.
function validateAccount(scope: Construct, userPool: cognito.IUserPool): void {
  const stackAccount = Stack.of(scope).account;
  const poolAccount = userPool.env.account;
  if (Token.isUnresolved(stackAccount) || Token.isUnresolved(poolAccount) || stackAccount === poolAccount) return;
  throw new Error(
    `userPool must be in the stack's account ${stackAccount}, where the function lists its jobs, got a pool in account ${poolAccount}`,
  );
}

/**
 * The pool's ARN in the region its ID names, so that a monitor in us-east-1 may list the jobs of a pool in
 * eu-west-1. `UserPool.fromUserPoolId` would name the stack's region. A token ID keeps the pool's own ARN.
 */
function userPoolArn(scope: Construct, userPool: cognito.IUserPool): string {
  const region = Token.isUnresolved(userPool.userPoolId) ? undefined : userPoolRegion(userPool.userPoolId);
  if (region === undefined) return userPool.userPoolArn;
  return Stack.of(scope).formatArn({
    service: 'cognito-idp',
    region,
    account: userPool.env.account,
    resource: 'userpool',
    resourceName: userPool.userPoolId,
  });
}

// CloudFormation accepts these retention periods and no other; RetentionDays.INFINITE means none is set.
const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

function validateLogRetention(retention: logs.RetentionDays | undefined): void {
  if (retention === undefined || Token.isUnresolved(retention) || RETENTION_DAYS.includes(retention)) return;
  throw new Error(`logRetention must be one of the logs.RetentionDays values (${RETENTION_DAYS.join(', ')}), got ${retention}`);
}

// The monitors of each app, by pool and namespace: two on one pool would publish every transition twice.
const monitorsByApp = new WeakMap<IConstruct, Map<string, string>>();

function claimPool(monitor: Construct, userPoolId: string, namespace: string): void {
  const claims = monitorsByApp.get(monitor.node.root) ?? new Map<string, string>();
  monitorsByApp.set(monitor.node.root, claims);
  const key = `${userPoolId}\n${namespace}`;
  const other = claims.get(key);
  if (other !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${other} both monitor user pool ${userPoolId} into namespace ${namespace}: ` +
        'every job would be counted twice. Keep one monitor per pool, or give one another metricNamespace',
    );
  }
  claims.set(key, monitor.node.path);
}

function checkStatus(method: string, status: string, allowed: readonly string[]): void {
  if (!allowed.includes(status)) {
    throw new Error(`${method} takes a status among ${allowed.join(', ')}, got ${JSON.stringify(status)}`);
  }
}

/** The pre-built handler: `npm run build` writes it, and the npm package ships it. */
function handlerBundleDir(): string {
  const dir = path.join(__dirname, '..', 'assets', 'handler');
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`the handler bundle is missing at ${dir}: run "npm run build" first`);
  }
  return dir;
}

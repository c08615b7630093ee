import * as fs from 'fs';
import * as path from 'path';
import {
  Annotations,
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
  triggers,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { ImportJobAlarmOptions, ResolvedAlarmOptions, isWholeMinutes, resolveAlarmOptions } from './alarms';
import { WidgetSource, alarmWidgets, countWidgets, headerWidget, inFlightWidget, transitionsWidget } from './dashboard';
import {
  COMPLETED_STATUSES,
  DEFAULT_METRIC_NAMESPACE,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_STUCK_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  ENV_EVENT_BUS_NAME,
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  ImportJobStatus,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_HEARTBEAT,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_STUCK,
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
   * How often the pool's import jobs are listed while none is unfinished: a whole number of minutes from 1 to
   * 1440. It is also the period of the health alarm and the default period of the metric accessors.
   * @default Duration.minutes(5)
   */
  readonly schedule?: Duration;

  /**
   * How often the pool's import jobs are listed while any job is unfinished (`Created`, `Pending`, `InProgress`
   * or `Stopping`), so that its end is published within this long: whole minutes, at most `schedule`. The
   * function is invoked at this rate; a run reads from the state table whether the pool is due, and returns at
   * once when it is not.
   * @default Duration.minutes(1)
   */
  readonly activeSchedule?: Duration;

  /**
   * The CloudWatch namespace the metrics are published in.
   * @default 'Cognito/UserImportJobs'
   */
  readonly metricNamespace?: string;

  /**
   * Added to the ALARM state of each alarm in `alarms`: what pages someone.
   * @default - no action: the alarms only change state
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * Added to the OK state of each alarm in `alarms`. Off unless given: a job alarm returns to OK by itself
   * a few minutes after it fired, and an OK message then only repeats the news.
   * @default - no action on OK
   */
  readonly okActions?: cloudwatch.IAlarmAction[];

  /**
   * Added to both the ALARM and the OK state of each alarm in `alarms`.
   * @deprecated use `alarmActions`, and `okActions` if OK messages are wanted
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * Starts every alarm's name, which is what an e-mail subject or a pager shows: `<prefix>-JobFailed`,
   * `<prefix>-JobExpired`, `<prefix>-JobAwaitingStart`, `<prefix>-JobStuck`, `<prefix>-UsersFailed`,
   * `<prefix>-MonitorSilent`. Names are unique per account and region.
   * @default - `ImportJobs-<user pool ID>`
   */
  readonly alarmNamePrefix?: string;

  /**
   * The alarm on jobs that ended `Failed`: sum of `JobsCompleted{Status=Failed}` at or above `threshold` in
   * `datapointsToAlarm` of `evaluationPeriods` periods.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly failedJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on jobs that ended `Expired` (created, never started), evaluated like the failed jobs alarm.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly expiredJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on the monitor itself: fewer than `threshold` complete runs (heartbeats) in each of
   * `datapointsToAlarm` of `evaluationPeriods` periods.
   * @default - on; periods of the schedule (five minutes at least), 3 of 3, threshold 1
   */
  readonly monitorHealthAlarmOptions?: ImportJobAlarmOptions;

  /**
   * Whether the deployment runs the function once, after creating it and before creating the health alarm
   * (an aws-cdk-lib `triggers.Trigger`). A run that fails (wrong pool, missing permission) fails the deployment
   * rather than paging later; a run that succeeds publishes the first heartbeat, so that the new health alarm
   * does not start in ALARM.
   * @default true
   */
  readonly runOnDeploy?: boolean;

  /**
   * How long a job may stay `Created` before it counts in `JobsAwaitingStart` and `expiringJobsAlarm` fires:
   * whole minutes, under 23 hours, since Cognito deletes a job not started 24 to 48 hours after its creation.
   * @default Duration.hours(12)
   */
  readonly awaitingStartWarning?: Duration;

  /**
   * How long a job may stay `Pending`, `InProgress` or `Stopping` (from its start) before it counts in `JobsStuck`
   * and `stuckJobsAlarm` fires: whole minutes. Only one import job runs at a time per account, so a job can wait
   * `Pending` behind another; 12 hours leaves room for a large import and one queued behind it.
   * @default Duration.hours(12)
   */
  readonly stuckWarning?: Duration;

  /**
   * The alarm on jobs created and not started within `awaitingStartWarning`: `JobsAwaitingStart` Maximum at or
   * above `threshold`.
   * @default - on; five-minute periods, 1 of 1, threshold 1
   */
  readonly expiringJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on jobs running longer than `stuckWarning`: `JobsStuck` Maximum at or above `threshold`.
   * @default - on; five-minute periods, 1 of 1, threshold 1
   */
  readonly stuckJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on users that failed to import, even in jobs that ended `Succeeded`: `FailedUsers` Sum at or above
   * `threshold`.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly failedUsersAlarmOptions?: ImportJobAlarmOptions;

  /**
   * Whether to create a CloudWatch dashboard of the monitor's own (`monitor.dashboard`) with `widgets()`. A
   * dashboard costs money each month; the widgets can be added to one of yours instead.
   * @default false
   */
  readonly createDashboard?: boolean;

  /**
   * How long the handler's logs are kept: one of the `logs.RetentionDays` values.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Whether to create the alarm on jobs that ended `Failed`.
   * @deprecated use `failedJobsAlarmOptions: { enabled }`
   * @default true
   */
  readonly enableFailedJobsAlarm?: boolean;

  /**
   * Whether to create the alarm on jobs that ended `Expired`.
   * @deprecated use `expiredJobsAlarmOptions: { enabled }`
   * @default true
   */
  readonly enableExpiredJobsAlarm?: boolean;

  /**
   * Whether to create the alarm on the monitor itself.
   * @deprecated use `monitorHealthAlarmOptions: { enabled }`
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

  /**
   * Whether the function sends an EventBridge event for each status change of a job it counts (source
   * `import-job-monitor`, detail-type `Cognito User Import Job State Change`), to `eventBus`. With events on, the
   * function may also call `cognito-idp:DescribeUserPool` on the pool, for the pool name in the import log's
   * location. `onJobStateChange()` routes the events to a target.
   * @default true
   */
  readonly jobEvents?: boolean;

  /**
   * The bus the per-job events are sent to, the only one the function may call `events:PutEvents` on. Not with
   * `jobEvents: false`.
   * @default - the account's default event bus in the stack's region
   */
  readonly eventBus?: events.IEventBus;
}

/** Options of {@link ImportJobMonitor.onJobStateChange}: the rule's own, and which statuses it matches. */
export interface OnJobStateChangeOptions extends events.OnEventOptions {
  /**
   * Match only the changes into these statuses (at least one), e.g.
   * `[ImportJobStatus.FAILED, ImportJobStatus.EXPIRED]`: the event's `detail.status`.
   * @default - every status change
   */
  readonly statuses?: ImportJobStatus[];
}

// By name rather than Runtime.NODEJS_24_X, which older aws-cdk-lib releases lack: apps on those can use the
// library, and the function still runs on the newest Node.js that Lambda offers.
const NODEJS_24 = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

// A job's end reaches CloudWatch through the logs pipeline, sometimes minutes late. One-minute periods, 1 of 5:
// a datapoint up to about four minutes late still falls in a period the alarm evaluates again.
const JOB_ALARM_DEFAULTS = { period: Duration.minutes(1), evaluationPeriods: 5, datapointsToAlarm: 1, threshold: 1 };
// The warning gauges are published every minute while a job waits: one five-minute period holds several.
const WARNING_ALARM_DEFAULTS = { period: Duration.minutes(5), evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 1 };
// Silent for three periods in a row: one late or failed run never pages, a broken monitor does.
const SILENT_PERIODS = 3;
// FILL makes a period whose heartbeat is not ingested yet a real 0: below five minutes, one failed run and a
// late heartbeat could fill three periods.
const MIN_HEALTH_PERIOD = Duration.minutes(5);
// Besides the gap between two runs (the schedule plus a tick), room for one failed run and a late heartbeat.
const HEALTH_MARGIN = Duration.minutes(5);
// Lambda's bounds on an asynchronous invocation's age.
const MAX_EVENT_AGE = { min: Duration.minutes(1), max: Duration.hours(6) };

/**
 * Monitors the user import jobs of an Amazon Cognito user pool: a scheduled function lists the pool's
 * jobs, publishes CloudWatch metrics on them, and alarms fire when a job ends `Failed` or `Expired`. Each status
 * change of a job is also sent as an EventBridge event, which `onJobStateChange()` routes to a target.
 */
export class ImportJobMonitor extends Construct {
  /** The function that lists the jobs and publishes the metrics. */
  public readonly handler: lambda.IFunction;
  /** The table that keeps the last seen state of each job between runs. */
  public readonly stateTable: dynamodb.ITable;
  /** The namespace of the metrics. */
  public readonly metricNamespace: string;
  /** How often the jobs are listed while none is unfinished; the default period of the metric accessors. */
  public readonly schedule: Duration;
  /** How often the jobs are listed while any is unfinished; the rate the function is invoked at. */
  public readonly activeSchedule: Duration;
  /** In ALARM while a job that ended `Failed` is within its evaluation window; undefined when switched off. */
  public readonly failedJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while a job that ended `Expired` is within its evaluation window; undefined when switched off. */
  public readonly expiredJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM when no run completed for three periods (the schedule, five minutes at least); undefined when switched off. */
  public readonly monitorHealthAlarm?: cloudwatch.Alarm;
  /** Every alarm the monitor created (those of the six `...Alarm` fields switched on), each with the actions given. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** In ALARM while a job waits in `Created` past `awaitingStartWarning`; undefined when switched off. */
  public readonly expiringJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while a job runs past `stuckWarning`; undefined when switched off. */
  public readonly stuckJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while users that failed to import are within its evaluation window; undefined when switched off. */
  public readonly failedUsersAlarm?: cloudwatch.Alarm;
  /** The deployment's own run of the function; undefined when `runOnDeploy` is false. */
  public readonly deployRun?: triggers.Trigger;
  /** The monitor's own dashboard; undefined unless `createDashboard` is true. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The handler's log group, where each run logs its transitions and failures. */
  public readonly logGroup: logs.ILogGroup;
  /** The bus the per-job events are sent to, or undefined with `jobEvents: false`. */
  public readonly eventBus?: events.IEventBus;

  private readonly userPoolId: string;

  constructor(scope: Construct, id: string, props: ImportJobMonitorProps) {
    super(scope, id);
    this.schedule = props.schedule ?? Duration.minutes(5);
    this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
    this.userPoolId = props.userPool.userPoolId;
    this.activeSchedule = props.activeSchedule ?? Duration.minutes(1);
    validateSchedule(this.schedule);
    validateActiveSchedule(this.activeSchedule, this.schedule);
    validateNamespace(this.metricNamespace);
    validateUserPoolId(this.userPoolId);
    validateAccount(this, props.userPool);
    validateLogRetention(props.logRetention);
    const alarmNamePrefix = props.alarmNamePrefix ?? `ImportJobs-${this.userPoolId}`;
    validateAlarmNamePrefix(alarmNamePrefix);
    claimPool(this, this.userPoolId, this.metricNamespace, alarmNamePrefix);
    const failedOptions = resolveAlarmOptions('failedJobsAlarmOptions', props.failedJobsAlarmOptions, JOB_ALARM_DEFAULTS);
    const expiredOptions = resolveAlarmOptions('expiredJobsAlarmOptions', props.expiredJobsAlarmOptions, JOB_ALARM_DEFAULTS);
    const healthOptions = resolveAlarmOptions('monitorHealthAlarmOptions', props.monitorHealthAlarmOptions, {
      period: Duration.minutes(Math.max(this.schedule.toMinutes(), MIN_HEALTH_PERIOD.toMinutes())),
      evaluationPeriods: SILENT_PERIODS,
      threshold: 1,
    });
    validateHealthAgainstCadence(healthOptions, this.schedule, this.activeSchedule);
    const awaitingStart = props.awaitingStartWarning ?? Duration.hours(12);
    const stuck = props.stuckWarning ?? Duration.hours(12);
    validateWarning('awaitingStartWarning', awaitingStart, Duration.hours(23));
    validateWarning('stuckWarning', stuck, Duration.days(7));
    const expiringOptions = resolveAlarmOptions('expiringJobsAlarmOptions', props.expiringJobsAlarmOptions, WARNING_ALARM_DEFAULTS);
    const stuckOptions = resolveAlarmOptions('stuckJobsAlarmOptions', props.stuckJobsAlarmOptions, WARNING_ALARM_DEFAULTS);
    const failedUsersOptions = resolveAlarmOptions('failedUsersAlarmOptions', props.failedUsersAlarmOptions, JOB_ALARM_DEFAULTS);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const jobEvents = props.jobEvents ?? true;
    if (!jobEvents && props.eventBus !== undefined) {
      throw new Error(
        `eventBus is given (${props.eventBus.node.path}) but jobEvents is false, so no event would be sent to it: ` +
          'drop eventBus, or leave jobEvents on',
      );
    }
    if (jobEvents) {
      this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    }

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
      // No retries: a failed run leaves the pool due, so the next tick, one active interval later, runs it again;
      // a retry would only run beside that tick. For the same reason an invocation that waited longer than one
      // tick in Lambda's queue is dropped.
      retryAttempts: 0,
      maxEventAge: clampDuration(this.activeSchedule, MAX_EVENT_AGE.min, MAX_EVENT_AGE.max),
      environment: {
        [ENV_USER_POOL_ID]: this.userPoolId,
        [ENV_STATE_TABLE_NAME]: table.tableName,
        [ENV_METRIC_NAMESPACE]: this.metricNamespace,
        [ENV_SCHEDULE_SECONDS]: String(this.schedule.toSeconds()),
        [ENV_ACTIVE_SCHEDULE_SECONDS]: String(this.activeSchedule.toSeconds()),
        [ENV_AWAITING_START_SECONDS]: String(awaitingStart.toSeconds()),
        [ENV_STUCK_SECONDS]: String(stuck.toSeconds()),
        ...(this.eventBus ? { [ENV_EVENT_BUS_NAME]: this.eventBus.eventBusArn } : {}),
      },
    });
    this.handler = handler;
    handler.addToRolePolicy(new iam.PolicyStatement({
      // DescribeUserPool: the pool's name, which the events' import log location needs.
      actions: ['cognito-idp:ListUserImportJobs', ...(this.eventBus ? ['cognito-idp:DescribeUserPool'] : [])],
      resources: [userPoolArn(this, props.userPool)],
    }));
    this.eventBus?.grantPutEventsTo(handler);
    table.grant(handler, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');

    new events.Rule(this, 'Schedule', {
      description: 'Runs the user import job monitor',
      schedule: events.Schedule.rate(this.activeSchedule),
      targets: [new targets.LambdaFunction(handler)],
    });

    if (props.runOnDeploy ?? true) {
      // On creation only: that is when the health alarm is new. Later deployments, and their rollbacks, then do
      // not depend on Cognito answering.
      this.deployRun = new triggers.Trigger(this, 'DeployRun', {
        handler,
        executeAfter: [table, logGroup],
        executeOnHandlerChange: false,
      });
      // The trigger invokes the function's current version, the schedule the function itself: each is granted
      // what it invokes, so the warning about permissions on versions does not apply.
      Annotations.of(handler).acknowledgeWarning('@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias', 'the schedule invokes the unqualified function');
    }

    const pool = this.userPoolId;
    const transitions = (status: string) =>
      `Which jobs: CloudWatch Logs Insights on log group ${logGroup.logGroupName}: fields @timestamp, jobId, jobName, ` +
      `importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and status = "${status}" ` +
      `| sort @timestamp desc. Cognito's own log of a job: log group /aws/cognito/userpools/${pool}/<pool name>, ` +
      'stream <job ID>/<job name>. While this alarm is in ALARM a second job sends no new page: the query lists every one.';
    if (props.failedJobsAlarmOptions?.enabled ?? props.enableFailedJobsAlarm ?? true) {
      this.failedJobsAlarm = this.atLeastAlarm('FailedJobsAlarm', `${alarmNamePrefix}-JobFailed`,
        this.metricJobsCompleted(ImportJobStatus.FAILED, { period: failedOptions.period }), failedOptions, cloudwatch.TreatMissingData.NOT_BREACHING,
        `A user import job into Cognito user pool ${pool} ended Failed: its users were not all imported. ` +
          `${transitions('Failed')} To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, ` +
          'then create and start a new import job.');
    }
    if (props.expiredJobsAlarmOptions?.enabled ?? props.enableExpiredJobsAlarm ?? true) {
      this.expiredJobsAlarm = this.atLeastAlarm('ExpiredJobsAlarm', `${alarmNamePrefix}-JobExpired`,
        this.metricJobsCompleted(ImportJobStatus.EXPIRED, { period: expiredOptions.period }), expiredOptions, cloudwatch.TreatMissingData.NOT_BREACHING,
        `A user import job into Cognito user pool ${pool} expired: it was created and never started, so none of its ` +
          `users were imported, and Cognito deleted its CSV. ${transitions('Expired')} To do: create the job again and ` +
          'start it (StartUserImportJob) within a day.');
    }
    if (props.expiringJobsAlarmOptions?.enabled ?? true) {
      this.expiringJobsAlarm = this.atLeastAlarm('ExpiringJobsAlarm', `${alarmNamePrefix}-JobAwaitingStart`,
        this.metricJobsAwaitingStart({ period: expiringOptions.period }), expiringOptions, cloudwatch.TreatMissingData.IGNORE,
        `A user import job into Cognito user pool ${pool} was created more than ${awaitingStart.toHumanString()} ago and ` +
          'has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation. Which job: the ' +
          `Created jobs of the pool (aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60). ` +
          'To do: start it now (StartUserImportJob), or stop it if it is not wanted.');
    }
    if (props.stuckJobsAlarmOptions?.enabled ?? true) {
      this.stuckJobsAlarm = this.atLeastAlarm('StuckJobsAlarm', `${alarmNamePrefix}-JobStuck`,
        this.metricJobsStuck({ period: stuckOptions.period }), stuckOptions, cloudwatch.TreatMissingData.IGNORE,
        `A user import job into Cognito user pool ${pool} has been Pending, InProgress or Stopping for more than ` +
          `${stuck.toHumanString()}. Only one import job runs at a time per account: a Pending job may wait behind ` +
          `another. Which job: aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60; its ` +
          `progress: Cognito's log group /aws/cognito/userpools/${pool}/<pool name>, stream <job ID>/<job name>. ` +
          'To do: if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.');
    }
    if (props.failedUsersAlarmOptions?.enabled ?? true) {
      this.failedUsersAlarm = this.atLeastAlarm('FailedUsersAlarm', `${alarmNamePrefix}-UsersFailed`,
        this.metricFailedUsers({ period: failedUsersOptions.period }), failedUsersOptions, cloudwatch.TreatMissingData.NOT_BREACHING,
        `Users failed to import into Cognito user pool ${pool} (FailedUsers >= ${failedUsersOptions.threshold}), perhaps in ` +
          `a job that still ended Succeeded. ${transitions('Succeeded')} To do: read the failed rows in Cognito's log of ` +
          'the job, fix them in a new CSV and import that.');
    }
    if (props.monitorHealthAlarmOptions?.enabled ?? props.enableMonitorHealthAlarm ?? true) {
      this.monitorHealthAlarm = this.healthAlarm(`${alarmNamePrefix}-MonitorSilent`, healthOptions, logGroup.logGroupName);
      if (this.deployRun) this.monitorHealthAlarm.node.addDependency(this.deployRun);
    }

    this.logGroup = logGroup;
    if (props.createDashboard) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { widgets: this.widgets().map((w) => [w]) });
    }

    for (const alarm of this.alarms) {
      alarm.addAlarmAction(...(props.alarmActions ?? []));
      alarm.addOkAction(...(props.okActions ?? []));
      if (props.alarmAction) {
        alarm.addAlarmAction(props.alarmAction);
        alarm.addOkAction(props.alarmAction);
      }
    }
  }

  /**
   * A rule on the monitor's bus (`eventBus`) that matches this pool's job events: each status change the monitor
   * counts, as `onEvent` of aws-cdk-lib's resources does for theirs. `options.eventPattern` is merged with the
   * rule's own pattern (a list in both is matched as either); `options.target`, if given, is added.
   * @param id the rule's construct ID, within the monitor
   * @param options the rule's name, description, target and extra pattern, and the statuses to match
   */
  public onJobStateChange(id: string, options: OnJobStateChangeOptions = {}): events.Rule {
    if (this.eventBus === undefined) {
      throw new Error('onJobStateChange needs the job events, but jobEvents is false: leave jobEvents on to route them');
    }
    const statuses = options.statuses;
    if (statuses !== undefined) {
      if (statuses.length === 0) {
        throw new Error('onJobStateChange statuses must name at least one status when given, got []');
      }
      const unknown = statuses.filter((status) => !(JOB_STATUSES as readonly string[]).includes(status));
      if (unknown.length > 0) {
        throw new Error(`onJobStateChange statuses must be among ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(unknown)}`);
      }
    }
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    rule.addEventPattern({
      source: [EVENT_SOURCE],
      detailType: [EVENT_DETAIL_TYPE],
      detail: {
        userPoolId: [this.userPoolId],
        ...(statuses ? { status: [...new Set(statuses)] } : {}),
      },
    });
    rule.addTarget(options.target);
    return rule;
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

  /**
   * Every widget of the monitor, for any `cloudwatch.Dashboard`: a header with links to the pool and the logs, the
   * alarms' status, jobs in flight, jobs completed and users per period, and a table of the latest transitions.
   * With `summaryWidgets()` and `alarmWidgets()` the monitor is also a segment that cdk-monitoring-constructs'
   * `MonitoringFacade.addSegment()` takes.
   */
  public widgets(): cloudwatch.IWidget[] {
    const source = this.widgetSource();
    return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source), ...countWidgets(source), transitionsWidget(source)];
  }

  /** The widgets for a summary dashboard: the header, the alarms' status and the jobs in flight. */
  public summaryWidgets(): cloudwatch.IWidget[] {
    const source = this.widgetSource();
    return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source)];
  }

  /** The widgets for an alarm dashboard: the alarms' status, empty when every alarm is switched off. */
  public alarmWidgets(): cloudwatch.IWidget[] {
    return alarmWidgets(this.widgetSource());
  }

  private widgetSource(): WidgetSource {
    return {
      userPoolId: this.userPoolId,
      userPoolRegion: userPoolRegion(this.userPoolId) ?? Stack.of(this).region,
      logGroupName: this.logGroup.logGroupName,
      alarms: this.alarms,
      metrics: this,
    };
  }

  /**
   * Jobs created longer ago than `awaitingStartWarning` and not started yet.
   * @default maximum over the schedule period
   */
  public metricJobsAwaitingStart(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_JOBS_AWAITING_START, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Jobs pending, in progress or stopping for longer than `stuckWarning`.
   * @default maximum over the schedule period
   */
  public metricJobsStuck(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_JOBS_STUCK, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Complete runs: each run that listed every job, stored every change and published its metrics adds 1.
   * Its absence is what the health alarm watches.
   * @default sum over the schedule period
   */
  public metricHeartbeat(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_HEARTBEAT, {}, cloudwatch.Stats.SUM, props);
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

  /**
   * An alarm on `metric` at or above the options' threshold. Missing data: for counts (`NOT_BREACHING`), a period
   * without a run had nothing happen; for the warning gauges (`IGNORE`), published every minute while such a job
   * exists, no data means the monitor is not running, which the health alarm reports, so the alarm keeps its state
   * rather than claiming all is well.
   */
  private atLeastAlarm(
    id: string,
    alarmName: string,
    metric: cloudwatch.Metric,
    options: ResolvedAlarmOptions,
    treatMissingData: cloudwatch.TreatMissingData,
    description: string,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName,
      alarmDescription: description,
      metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.datapointsToAlarm,
      treatMissingData,
    });
    this.alarms.push(alarm);
    return alarm;
  }

  private healthAlarm(alarmName: string, options: ResolvedAlarmOptions, logGroupName: string): cloudwatch.Alarm {
    const periods = `${options.datapointsToAlarm} of ${options.evaluationPeriods} periods of ${options.period.toHumanString()}`;
    const runs = options.threshold === 1 ? 'no run' : `fewer than ${options.threshold} runs`;
    // Not 'MonitorHealthAlarm': in 0.1.0 that ID was a composite alarm, and CloudFormation cannot change a
    // resource's type in place.
    const alarm = new cloudwatch.Alarm(this, 'MonitorSilentAlarm', {
      alarmName,
      alarmDescription:
        `The import job monitor of Cognito user pool ${this.userPoolId} completed ${runs} in ${periods}, so failed or ` +
        `expired imports would go unnoticed. Look in log group ${logGroupName} for "Run failed": its error names ` +
        'the call and the cause (ResourceNotFoundException: the pool is gone; NotAuthorizedException or AccessDenied: ' +
        'permissions; TimeoutError or a deadline: Cognito or DynamoDB did not answer; "could not store": the state ' +
        'table refuses writes; "could not send ... job events": the event bus refuses them, which stay owed until it ' +
        'takes them). No such line: check that the schedule rule is enabled and the function exists.',
      // FILL: a period without a heartbeat counts as 0, so that silence breaches in every period it lasts.
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(heartbeat, 0)',
        usingMetrics: { heartbeat: this.metricHeartbeat({ period: options.period }) },
        period: options.period,
        label: 'Complete runs',
      }),
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarms.push(alarm);
    return alarm;
  }
}

function clampDuration(value: Duration, min: Duration, max: Duration): Duration {
  if (value.toSeconds() < min.toSeconds()) return min;
  return value.toSeconds() > max.toSeconds() ? max : value;
}

/**
 * The health alarm must not fire while runs come as they should: its breaching periods must span more than the
 * gap between two runs, and a period must be able to hold `threshold` runs.
 */
function validateHealthAgainstCadence(options: ResolvedAlarmOptions, schedule: Duration, activeSchedule: Duration): void {
  const gap = schedule.toSeconds() + activeSchedule.toSeconds();
  const needed = gap + HEALTH_MARGIN.toSeconds();
  const spanned = options.period.toSeconds() * options.datapointsToAlarm;
  if (spanned < needed) {
    throw new Error(
      `monitorHealthAlarmOptions: period times datapointsToAlarm must be at least the schedule, one tick and 5 minutes ` +
        `(${needed / 60} minutes), so that one late or failed run does not page, got ${spanned / 60} minutes`,
    );
  }
  const runsPerPeriod = Math.max(1, Math.floor(options.period.toSeconds() / gap));
  if (options.threshold > runsPerPeriod) {
    throw new Error(
      `monitorHealthAlarmOptions.threshold must be at most the runs a period surely holds (${runsPerPeriod}), got ${options.threshold}`,
    );
  }
}

function validateWarning(prop: string, value: Duration, max: Duration): void {
  if (!isWholeMinutes(value, max)) {
    throw new Error(`${prop} must be a whole number of minutes from 1 minute to ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
}

function validateAlarmNamePrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  // The longest suffix is "-MonitorSilent" (14); CloudWatch takes names of up to 255 characters.
  if (prefix.length < 1 || prefix.length > 241) {
    throw new Error(`alarmNamePrefix must be 1 to 241 characters, got ${JSON.stringify(prefix)}`);
  }
}

function validateSchedule(schedule: Duration): void {
  if (!isWholeMinutes(schedule, Duration.minutes(1440))) {
    throw new Error(`schedule must be a whole number of minutes between 1 and 1440, got ${schedule.toHumanString()}`);
  }
}

function validateActiveSchedule(active: Duration, schedule: Duration): void {
  if (!isWholeMinutes(active, schedule)) {
    throw new Error(
      `activeSchedule must be a whole number of minutes from 1 to the schedule (${schedule.toHumanString()}), got ${active.toHumanString()}`,
    );
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

function claimPool(monitor: Construct, userPoolId: string, namespace: string, alarmNamePrefix: string): void {
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
  const sameNames = claims.get(`alarms\n${alarmNamePrefix}`);
  if (sameNames !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${sameNames} would both name their alarms ${alarmNamePrefix}-...: give one another alarmNamePrefix`,
    );
  }
  claims.set(key, monitor.node.path);
  claims.set(`alarms\n${alarmNamePrefix}`, monitor.node.path);
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

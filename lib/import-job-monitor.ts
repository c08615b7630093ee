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
import {
  WidgetSource,
  alarmWidgets,
  countWidgets,
  fleetCountWidgets,
  fleetHeaderWidget,
  fleetInFlightWidget,
  fleetPoolsWidget,
  headerWidget,
  inFlightWidget,
  transitionsWidget,
} from './dashboard';
import {
  COMPLETED_STATUSES,
  DEFAULT_METRIC_NAMESPACE,
  DIMENSION_MONITOR,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  ENV_DISCOVER_USER_POOLS,
  ENV_MONITOR_NAME,
  ENV_USER_POOL_IDS,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_STUCK_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  ENV_EVENT_BUS_NAME,
  EVENT_DETAIL_TYPE,
  EVENT_DETAIL_TYPE_POOL_RUN_FAILED,
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
  METRIC_POOLS_MONITORED,
  METRIC_POOL_RUNS_FAILED,
  METRIC_SKIPPED_USERS,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  ENV_USER_POOL_IDS_FILE,
  ENV_COGNITO_REQUESTS_PER_SECOND,
  userPoolRegion,
} from './contract';
import {
  FleetMetricOptions,
  InsightsQuery,
  MAX_INSIGHTS_ALARM_RANGE,
  MAX_POOL_ARNS,
  MAX_POOL_IDS_IN_ENVIRONMENT,
  USER_POOL_IDS_FILE_NAME,
  UserPoolDiscovery,
  acknowledgeWildcards,
  allPoolsArn,
  defaultMonitorName,
  discoveryJson,
  insightsQuery,
  listedPoolIds,
  poolActions,
  poolIdsLength,
  stageBundleWithPools,
  validateDiscovery,
  validateMonitorName,
} from './fleet';

/** Properties of an {@link ImportJobMonitor}. */
export interface ImportJobMonitorProps {
  /**
   * The user pool whose import jobs are monitored. `UserPool.fromUserPoolId(...)` works too, for a pool in any
   * region: the function calls Cognito in the region its ID names (`eu-west-1_AbC123`). Exactly one of `userPool`,
   * `userPools` and `discoverUserPools` is given.
   * @default - none: a fleet, from `userPools` or `discoverUserPools`
   */
  readonly userPool?: cognito.IUserPool;

  /**
   * A fleet: the user pools whose import jobs one monitor watches, each once, in any region of the stack's account.
   * The function, table, schedule and alarms are the same whatever the number of pools; each alarm is a CloudWatch
   * Metrics Insights query with a contributor per pool. Not with `userPool` or `discoverUserPools`.
   * @default - none: one pool (`userPool`), or the pools discovered (`discoverUserPools`)
   */
  readonly userPools?: cognito.IUserPool[];

  /**
   * A fleet of every user pool in the stack's account and region, found again on each run (`ListUserPools`), so
   * that a pool created tomorrow is watched tomorrow with no deployment; narrowed by `include` and `exclude`
   * patterns on pool IDs and names. Not with `userPool` or `userPools`.
   * @default - none: one pool (`userPool`), or a list (`userPools`)
   */
  readonly discoverUserPools?: UserPoolDiscovery;

  /**
   * A fleet's name: the `Monitor` dimension of its own metrics (`Heartbeat`, `PoolsMonitored`), and the default
   * alarm name prefix. 1 to 64 letters, digits or `. _ -`, unique in the account and region. Only for fleets.
   * @default - `<stack name>-<the monitor's construct path in its stack>`, shortened with a hash beyond 64 characters
   */
  readonly monitorName?: string;

  /**
   * A fleet's Cognito calls a second at most, in each region, across its pools. `ListUserImportJobs`,
   * `DescribeUserPool` and `ListUserPools` share Cognito's UserPoolRead quota (15 a second per account and region,
   * not adjustable) with every other caller; the default keeps two thirds of it. A tick that cannot list every due
   * pool in its time leaves the rest to the next tick, which starts with them. Only for fleets.
   * @default 10
   */
  readonly cognitoRequestsPerSecond?: number;

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
   * `<prefix>-MonitorSilent`, and for a fleet `<prefix>-PoolRunsFailed`. Names are unique per account and region.
   * @default - `ImportJobs-<user pool ID>`; for a fleet, `ImportJobs-<monitorName>`
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
   * A fleet's alarm on pools whose runs keep failing (deleted, access denied, throttled for good):
   * `PoolRunsFailed` Sum at or above `threshold` in `datapointsToAlarm` of `evaluationPeriods` periods, one
   * contributor per pool. Only for fleets.
   * @default - on; periods of the active schedule (five minutes at least), 3 of 3, threshold 1
   */
  readonly poolRunsFailedAlarmOptions?: ImportJobAlarmOptions;

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
  /** A fleet's name, the `Monitor` dimension of its own metrics; undefined for a single pool (`userPool`). */
  public readonly monitorName?: string;
  /** A fleet's alarm on pools whose runs keep failing, one contributor per pool; undefined for a single pool or when switched off. */
  public readonly poolRunsFailedAlarm?: cloudwatch.Alarm;

  private readonly userPoolId?: string;
  private readonly fleet?: Fleet;

  constructor(scope: Construct, id: string, props: ImportJobMonitorProps) {
    super(scope, id);
    const userPool = props.userPool;
    const sources = (['userPool', 'userPools', 'discoverUserPools'] as const).filter((key) => props[key] !== undefined);
    if (sources.length !== 1) {
      throw new Error(
        'exactly one of userPool (one pool), userPools (a fleet listed) and discoverUserPools (a fleet of every pool of the ' +
          `account and region) must be given, got ${sources.length === 0 ? 'none' : sources.join(' and ')}`,
      );
    }
    this.schedule = props.schedule ?? Duration.minutes(5);
    this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
    this.userPoolId = userPool?.userPoolId;
    this.activeSchedule = props.activeSchedule ?? Duration.minutes(1);
    validateSchedule(this.schedule);
    validateActiveSchedule(this.activeSchedule, this.schedule);
    validateNamespace(this.metricNamespace);
    if (userPool !== undefined) {
      validateUserPoolId(userPool.userPoolId);
      validateAccount(this, userPool);
      for (const fleetOnly of ['monitorName', 'poolRunsFailedAlarmOptions', 'cognitoRequestsPerSecond'] as const) {
        if (props[fleetOnly] !== undefined) {
          throw new Error(`${fleetOnly} is for fleets (userPools or discoverUserPools), got it with userPool: drop it`);
        }
      }
    } else {
      this.monitorName = props.monitorName ?? defaultMonitorName(this);
      validateMonitorName(this.monitorName);
      const rate = props.cognitoRequestsPerSecond;
      if (rate !== undefined && !Token.isUnresolved(rate) && !(rate > 0 && rate <= 1000)) {
        throw new Error(`cognitoRequestsPerSecond must be above 0 and at most 1000, got ${rate}`);
      }
      this.fleet = resolveFleet(this, props, this.monitorName);
    }
    validateLogRetention(props.logRetention);
    const alarmNamePrefix = props.alarmNamePrefix ?? `ImportJobs-${this.userPoolId ?? this.monitorName}`;
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
    // A pool whose run failed stays due, so it is run (and fails) again every tick: three periods of at least a tick.
    // A failed pool stays due, so it fails once a tick: a period of two ticks holds one failure at least, whatever the
    // ticks' drift; 2 of 3 such periods page, and the 3 periods stay within the 3 hours a Metrics Insights alarm reads.
    const poolRunsFailedOptions = resolveAlarmOptions('poolRunsFailedAlarmOptions', props.poolRunsFailedAlarmOptions, {
      period: Duration.minutes(Math.min(60, Math.max(2 * this.activeSchedule.toMinutes(), MIN_HEALTH_PERIOD.toMinutes()))),
      evaluationPeriods: SILENT_PERIODS,
      datapointsToAlarm: 2,
      threshold: 1,
    });
    if (this.fleet) {
      validateInsightsRange('failedJobsAlarmOptions', failedOptions);
      validateInsightsRange('expiredJobsAlarmOptions', expiredOptions);
      validateInsightsRange('expiringJobsAlarmOptions', expiringOptions);
      validateInsightsRange('stuckJobsAlarmOptions', stuckOptions);
      validateInsightsRange('failedUsersAlarmOptions', failedUsersOptions);
      validateInsightsRange('poolRunsFailedAlarmOptions', poolRunsFailedOptions);
    }
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
    const fleet = this.fleet;
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: fleet
        ? 'Lists the user import jobs of a fleet of user pools and keeps their state'
        : 'Lists the user import jobs of one user pool and keeps their state',
    });
    logGroup.grantWrite(role);

    const handler = new lambda.Function(this, 'Handler', {
      description: fleet
        ? 'Publishes CloudWatch metrics on the user import jobs of a fleet of Cognito user pools'
        : 'Publishes CloudWatch metrics on the user import jobs of a Cognito user pool',
      runtime: NODEJS_24,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(fleet?.poolsFile ? stageBundleWithPools(handlerBundleDir(), fleet.listed!) : handlerBundleDir()),
      handler: 'index.handler',
      role,
      logGroup,
      // A fleet's tick holds a listing at a time per worker and its pools' clients: 1,000 pools peak at about 240 MB
      // (npm run bench), too near 256.
      memorySize: fleet ? 512 : 256,
      timeout: Duration.minutes(2),
      // No retries: a failed run leaves the pool due, so the next tick, one active interval later, runs it again;
      // a retry would only run beside that tick. For the same reason an invocation that waited longer than one
      // tick in Lambda's queue is dropped.
      retryAttempts: 0,
      maxEventAge: clampDuration(this.activeSchedule, MAX_EVENT_AGE.min, MAX_EVENT_AGE.max),
      environment: {
        ...(fleet ? fleet.environment : { [ENV_USER_POOL_ID]: this.userPoolId! }),
        ...(props.cognitoRequestsPerSecond !== undefined ? { [ENV_COGNITO_REQUESTS_PER_SECOND]: String(props.cognitoRequestsPerSecond) } : {}),
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
    if (fleet) {
      const statements = fleetStatements(this, fleet, this.eventBus !== undefined);
      for (const { statement } of statements) handler.addToRolePolicy(statement);
      acknowledgeWildcards(role, statements.flatMap(({ statement, wildcard }) =>
        wildcard === undefined ? [] : statement.resources.map((resource) => ({ resource, reason: wildcard }))));
    } else {
      handler.addToRolePolicy(new iam.PolicyStatement({
        // DescribeUserPool: the pool's name, which the events' import log location needs.
        actions: ['cognito-idp:ListUserImportJobs', ...(this.eventBus ? ['cognito-idp:DescribeUserPool'] : [])],
        resources: [userPoolArn(this, userPool!)],
      }));
    }
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

    if (fleet) {
      const created = this.createFleetAlarms(fleet, alarmNamePrefix, logGroup.logGroupName, {
        failed: (props.failedJobsAlarmOptions?.enabled ?? props.enableFailedJobsAlarm ?? true) ? failedOptions : undefined,
        expired: (props.expiredJobsAlarmOptions?.enabled ?? props.enableExpiredJobsAlarm ?? true) ? expiredOptions : undefined,
        expiring: (props.expiringJobsAlarmOptions?.enabled ?? true) ? expiringOptions : undefined,
        stuck: (props.stuckJobsAlarmOptions?.enabled ?? true) ? stuckOptions : undefined,
        failedUsers: (props.failedUsersAlarmOptions?.enabled ?? true) ? failedUsersOptions : undefined,
        poolRunsFailed: (props.poolRunsFailedAlarmOptions?.enabled ?? true) ? poolRunsFailedOptions : undefined,
      }, awaitingStart, stuck);
      this.failedJobsAlarm = created.failed;
      this.expiredJobsAlarm = created.expired;
      this.expiringJobsAlarm = created.expiring;
      this.stuckJobsAlarm = created.stuck;
      this.failedUsersAlarm = created.failedUsers;
      this.poolRunsFailedAlarm = created.poolRunsFailed;
    }
    const pool = this.userPoolId;
    const transitions = (status: string) =>
      `Which jobs: CloudWatch Logs Insights on log group ${logGroup.logGroupName}: fields @timestamp, jobId, jobName, ` +
      `importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and status = "${status}" ` +
      `| sort @timestamp desc. Cognito's own log of a job: log group /aws/cognito/userpools/${pool}/<pool name>, ` +
      'stream <job ID>/<job name>. While this alarm is in ALARM a second job sends no new page: the query lists every one.';
    if (!fleet && (props.failedJobsAlarmOptions?.enabled ?? props.enableFailedJobsAlarm ?? true)) {
      this.failedJobsAlarm = this.atLeastAlarm('FailedJobsAlarm', `${alarmNamePrefix}-JobFailed`,
        this.metricJobsCompleted(ImportJobStatus.FAILED, { period: failedOptions.period }), failedOptions, cloudwatch.TreatMissingData.NOT_BREACHING,
        `A user import job into Cognito user pool ${pool} ended Failed: its users were not all imported. ` +
          `${transitions('Failed')} To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, ` +
          'then create and start a new import job.');
    }
    if (!fleet && (props.expiredJobsAlarmOptions?.enabled ?? props.enableExpiredJobsAlarm ?? true)) {
      this.expiredJobsAlarm = this.atLeastAlarm('ExpiredJobsAlarm', `${alarmNamePrefix}-JobExpired`,
        this.metricJobsCompleted(ImportJobStatus.EXPIRED, { period: expiredOptions.period }), expiredOptions, cloudwatch.TreatMissingData.NOT_BREACHING,
        `A user import job into Cognito user pool ${pool} expired: it was created and never started, so none of its ` +
          `users were imported, and Cognito deleted its CSV. ${transitions('Expired')} To do: create the job again and ` +
          'start it (StartUserImportJob) within a day.');
    }
    if (!fleet && (props.expiringJobsAlarmOptions?.enabled ?? true)) {
      this.expiringJobsAlarm = this.atLeastAlarm('ExpiringJobsAlarm', `${alarmNamePrefix}-JobAwaitingStart`,
        this.metricJobsAwaitingStart({ period: expiringOptions.period }), expiringOptions, cloudwatch.TreatMissingData.IGNORE,
        `A user import job into Cognito user pool ${pool} was created more than ${awaitingStart.toHumanString()} ago and ` +
          'has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation. Which job: the ' +
          `Created jobs of the pool (aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60). ` +
          'To do: start it now (StartUserImportJob), or stop it if it is not wanted.');
    }
    if (!fleet && (props.stuckJobsAlarmOptions?.enabled ?? true)) {
      this.stuckJobsAlarm = this.atLeastAlarm('StuckJobsAlarm', `${alarmNamePrefix}-JobStuck`,
        this.metricJobsStuck({ period: stuckOptions.period }), stuckOptions, cloudwatch.TreatMissingData.IGNORE,
        `A user import job into Cognito user pool ${pool} has been Pending, InProgress or Stopping for more than ` +
          `${stuck.toHumanString()}. Only one import job runs at a time per account: a Pending job may wait behind ` +
          `another. Which job: aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60; its ` +
          `progress: Cognito's log group /aws/cognito/userpools/${pool}/<pool name>, stream <job ID>/<job name>. ` +
          'To do: if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.');
    }
    if (!fleet && (props.failedUsersAlarmOptions?.enabled ?? true)) {
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
   * counts, as `onEvent` of aws-cdk-lib's resources does for theirs. For a fleet, the job events of its pools: those
   * sent from the stack's account, and, for a list of at most 20 pools, from those pools (`detail.userPoolId`).
   * `options.eventPattern` is merged with the rule's own pattern (a list in both is matched as either);
   * `options.target`, if given, is added.
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
    if (this.fleet) {
      const detail = { ...this.fleetPoolPattern(), ...(statuses ? { status: [...new Set(statuses)] } : {}) };
      rule.addEventPattern({
        source: [EVENT_SOURCE],
        detailType: [EVENT_DETAIL_TYPE],
        account: [Stack.of(this).account],
        ...(Object.keys(detail).length > 0 ? { detail } : {}),
      });
    } else {
      rule.addEventPattern({
        source: [EVENT_SOURCE],
        detailType: [EVENT_DETAIL_TYPE],
        detail: {
          userPoolId: [this.userPoolId],
          ...(statuses ? { status: [...new Set(statuses)] } : {}),
        },
      });
    }
    rule.addTarget(options.target);
    return rule;
  }

  /**
   * A fleet's rule on the monitor's bus (`eventBus`) that matches the events it sends, best effort, when a pool's run
   * failed (detail-type `Cognito User Import Monitor Pool Run Failed`, `detail.userPoolId` naming the pool), from
   * the stack's account and, for a list of at most 20 pools, from those pools.
   * @param id the rule's construct ID, within the monitor
   * @param options the rule's name, description, target and extra pattern
   */
  public onPoolRunFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    if (!this.fleet) {
      throw new Error('onPoolRunFailed is for fleets (userPools or discoverUserPools): a single pool\'s failed runs page through monitorHealthAlarm');
    }
    if (this.eventBus === undefined) {
      throw new Error('onPoolRunFailed needs the job events, but jobEvents is false: leave jobEvents on to route them');
    }
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    const detail = this.fleetPoolPattern();
    rule.addEventPattern({
      source: [EVENT_SOURCE],
      detailType: [EVENT_DETAIL_TYPE_POOL_RUN_FAILED],
      account: [Stack.of(this).account],
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    });
    rule.addTarget(options.target);
    return rule;
  }

  /** A short list's pools, as an event pattern's `detail`; nothing for a long list or discovery. */
  private fleetPoolPattern(): { userPoolId?: string[] } {
    const listed = this.fleet?.listed;
    return listed !== undefined && listed.length <= MAX_POOL_ARNS ? { userPoolId: listed } : {};
  }

  /**
   * The number of jobs now in a status, as counted by the last run. A single pool's metric: for a fleet, use
   * `metricFleetJobs`.
   * @param status any status, e.g. `ImportJobStatus.IN_PROGRESS`
   * @default maximum over the schedule period
   */
  public metricJobs(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  // TypeScript also takes the status' plain name ('InProgress'), checked at synth. jsii reads the first
  // signature only, so Python, Java, .NET and Go see the enum.
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricJobs', 'metricFleetJobs');
    checkStatus('metricJobs', status, JOB_STATUSES);
    return this.metric(METRIC_JOBS, { [DIMENSION_STATUS]: status }, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * The number of jobs that entered a completed status; each job is counted once, when it gets there. A single
   * pool's metric: for a fleet, use `metricFleetJobsCompleted`.
   * @param status a status a job ends in: `SUCCEEDED`, `FAILED`, `STOPPED` or `EXPIRED`
   * @default sum over the schedule period
   */
  public metricJobsCompleted(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricJobsCompleted', 'metricFleetJobsCompleted');
    checkStatus('metricJobsCompleted', status, COMPLETED_STATUSES);
    return this.metric(METRIC_JOBS_COMPLETED, { [DIMENSION_STATUS]: status }, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users imported, counted as the jobs' counters grow: the sum over a period is the users imported in it. A single
   * pool's metric: for a fleet, use `metricFleetImportedUsers`.
   * @default sum over the schedule period
   */
  public metricImportedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricImportedUsers', 'metricFleetImportedUsers');
    return this.metric(METRIC_IMPORTED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users skipped (already in the pool), counted as the jobs' counters grow. A single pool's metric: for a fleet,
   * use `metricFleetSkippedUsers`.
   * @default sum over the schedule period
   */
  public metricSkippedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricSkippedUsers', 'metricFleetSkippedUsers');
    return this.metric(METRIC_SKIPPED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Users that failed to import, counted as the jobs' counters grow. A single pool's metric: for a fleet, use
   * `metricFleetFailedUsers`.
   * @default sum over the schedule period
   */
  public metricFailedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricFailedUsers', 'metricFleetFailedUsers');
    return this.metric(METRIC_FAILED_USERS, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Every widget of the monitor, for any `cloudwatch.Dashboard`: a header with links to the pool and the logs, the
   * alarms' status, jobs in flight, jobs completed and users per period, and a table of the latest transitions. For a
   * fleet, the graphs draw a line per pool with news (Metrics Insights queries) and one of the pools monitored.
   * With `summaryWidgets()` and `alarmWidgets()` the monitor is also a segment that cdk-monitoring-constructs'
   * `MonitoringFacade.addSegment()` takes.
   */
  public widgets(): cloudwatch.IWidget[] {
    const source = this.widgetSource();
    if (this.fleet) {
      return [fleetHeaderWidget(source), ...alarmWidgets(source), fleetInFlightWidget(source), ...fleetCountWidgets(source),
        fleetPoolsWidget(source), transitionsWidget(source)];
    }
    return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source), ...countWidgets(source), transitionsWidget(source)];
  }

  /** The widgets for a summary dashboard: the header, the alarms' status and the jobs in flight. */
  public summaryWidgets(): cloudwatch.IWidget[] {
    const source = this.widgetSource();
    if (this.fleet) return [fleetHeaderWidget(source), ...alarmWidgets(source), fleetInFlightWidget(source)];
    return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source)];
  }

  /** The widgets for an alarm dashboard: the alarms' status, empty when every alarm is switched off. */
  public alarmWidgets(): cloudwatch.IWidget[] {
    return alarmWidgets(this.widgetSource());
  }

  private widgetSource(): WidgetSource {
    const fleet = this.fleet;
    return {
      userPoolId: this.userPoolId ?? '',
      userPoolRegion: this.userPoolId !== undefined ? userPoolRegion(this.userPoolId) ?? Stack.of(this).region : Stack.of(this).region,
      logGroupName: this.logGroup.logGroupName,
      alarms: this.alarms,
      metrics: this,
      fleet: fleet && {
        monitorName: fleet.monitorName,
        pools: fleet.summary,
        regions: fleet.regions,
        query: (q: InsightsQuery, label?: string) => this.insights(q, { label }),
        poolsMonitored: this.metricPoolsMonitored(),
      },
    };
  }

  /**
   * Jobs created longer ago than `awaitingStartWarning` and not started yet. A single pool's metric: for a fleet,
   * use `metricFleetJobsAwaitingStart`.
   * @default maximum over the schedule period
   */
  public metricJobsAwaitingStart(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricJobsAwaitingStart', 'metricFleetJobsAwaitingStart');
    return this.metric(METRIC_JOBS_AWAITING_START, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Jobs pending, in progress or stopping for longer than `stuckWarning`. A single pool's metric: for a fleet, use
   * `metricFleetJobsStuck`.
   * @default maximum over the schedule period
   */
  public metricJobsStuck(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.onePool('metricJobsStuck', 'metricFleetJobsStuck');
    return this.metric(METRIC_JOBS_STUCK, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Complete runs: each run that listed every job, stored every change and published its metrics adds 1. For a
   * fleet (dimension `Monitor`), each tick that ran every pool due without error adds 1. Its absence is what the
   * health alarm watches.
   * @default sum over the schedule period
   */
  public metricHeartbeat(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_HEARTBEAT, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * A fleet's pools, as many as each tick knew of (listed, or discovered and matched), dimension `Monitor`.
   * @default maximum over the schedule period
   */
  public metricPoolsMonitored(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.fleet) throw new Error('metricPoolsMonitored is for fleets (userPools or discoverUserPools): a single pool publishes no PoolsMonitored');
    return this.metric(METRIC_POOLS_MONITORED, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Jobs now in a status, per pool (the largest count any pool had in the period without `byPool`): a Metrics
   * Insights query on `Jobs`. A fleet publishes a pool's count only while it is not zero. For a single pool's
   * monitor, the query covers its pool.
   * @param status any status, e.g. `ImportJobStatus.IN_PROGRESS`
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobs(status: ImportJobStatus, options?: FleetMetricOptions): cloudwatch.MathExpression {
    checkStatus('metricFleetJobs', status, JOB_STATUSES);
    return this.insights({ fn: 'MAX', metricName: METRIC_JOBS, withStatus: true, status, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Jobs that entered a completed status, per pool (or over the fleet without `byPool`): a Metrics Insights query on
   * `JobsCompleted`.
   * @param status a status a job ends in: `SUCCEEDED`, `FAILED`, `STOPPED` or `EXPIRED`
   * @default sum, per pool, over the schedule period
   */
  public metricFleetJobsCompleted(status: ImportJobStatus, options?: FleetMetricOptions): cloudwatch.MathExpression {
    checkStatus('metricFleetJobsCompleted', status, COMPLETED_STATUSES);
    return this.insights({ fn: 'SUM', metricName: METRIC_JOBS_COMPLETED, withStatus: true, status, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Users imported, per pool (or over the fleet without `byPool`): a Metrics Insights query on `ImportedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetImportedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.insights({ fn: 'SUM', metricName: METRIC_IMPORTED_USERS, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Users skipped, per pool (or over the fleet without `byPool`): a Metrics Insights query on `SkippedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetSkippedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.insights({ fn: 'SUM', metricName: METRIC_SKIPPED_USERS, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Users that failed to import, per pool (or over the fleet without `byPool`): a Metrics Insights query on
   * `FailedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetFailedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.insights({ fn: 'SUM', metricName: METRIC_FAILED_USERS, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Jobs waiting in `Created` past `awaitingStartWarning`, per pool (the largest count of any pool without
   * `byPool`): a Metrics Insights query on `JobsAwaitingStart`.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobsAwaitingStart(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.insights({ fn: 'MAX', metricName: METRIC_JOBS_AWAITING_START, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Jobs running past `stuckWarning`, per pool (the largest count of any pool without `byPool`): a Metrics Insights
   * query on `JobsStuck`.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobsStuck(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.insights({ fn: 'MAX', metricName: METRIC_JOBS_STUCK, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  /**
   * Failed runs, per pool (or over the fleet without `byPool`): a Metrics Insights query on `PoolRunsFailed`, which
   * a fleet publishes (1) for each run of a pool that failed. Only for fleets.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetPoolRunsFailed(options?: FleetMetricOptions): cloudwatch.MathExpression {
    if (!this.fleet) {
      throw new Error('metricFleetPoolRunsFailed is for fleets (userPools or discoverUserPools): a single pool\'s failed runs show as missing heartbeats');
    }
    return this.insights({ fn: 'SUM', metricName: METRIC_POOL_RUNS_FAILED, withStatus: false, byPool: options?.byPool ?? true }, options);
  }

  private insights(query: InsightsQuery, options?: FleetMetricOptions, graphed = true): cloudwatch.MathExpression {
    const expression = insightsQuery(this.metricNamespace, { ...query, userPoolId: this.userPoolId });
    return new cloudwatch.MathExpression({
      expression,
      period: options?.period ?? this.schedule,
      // An empty label lets a graph name each series by its pool; without one, aws-cdk-lib labels it with the query.
      label: options?.label ?? (graphed && query.byPool ? '' : undefined),
      color: options?.color,
      usingMetrics: {},
    });
  }

  /** A single pool's accessors have no meaning for a fleet, whose pools are contributors of its queries. */
  private onePool(method: string, fleetMethod: string): void {
    if (!this.fleet) return;
    throw new Error(
      `${method} gives one pool's metric, and this monitor watches a fleet (${this.fleet.source}): use ${fleetMethod}, a Metrics ` +
        'Insights query with a series per pool',
    );
  }

  private metric(
    metricName: string,
    dimensions: Record<string, string>,
    statistic: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    const own: Record<string, string> = this.fleet ? { [DIMENSION_MONITOR]: this.fleet.monitorName } : { [DIMENSION_USER_POOL_ID]: this.userPoolId! };
    return new cloudwatch.Metric({
      namespace: this.metricNamespace,
      metricName,
      dimensionsMap: { ...own, ...dimensions },
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
    metric: cloudwatch.IMetric,
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

  /**
   * A fleet's alarms: each a Metrics Insights query grouped by pool, so that every pool with news is a contributor
   * the alarm's state names. A fleet publishes no zeros, so missing data is a pool with nothing to report, for the
   * warning gauges too: the pool's contributor returns to OK when its job is started or ends. A fleet that stopped
   * running is the health alarm's to report.
   */
  private createFleetAlarms(
    fleet: Fleet,
    prefix: string,
    logGroupName: string,
    options: Record<'failed' | 'expired' | 'expiring' | 'stuck' | 'failedUsers' | 'poolRunsFailed', ResolvedAlarmOptions | undefined>,
    awaitingStart: Duration,
    stuck: Duration,
  ): Partial<Record<keyof typeof options, cloudwatch.Alarm>> {
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
    const text = fleetAlarmDescriptions(fleet.monitorName, logGroupName, awaitingStart, stuck);
    const made: Partial<Record<keyof typeof options, cloudwatch.Alarm>> = {};
    const add = (key: keyof typeof options, id: string, suffix: string, query: InsightsQuery, description: (o: ResolvedAlarmOptions) => string) => {
      const o = options[key];
      if (o === undefined) return;
      made[key] = this.atLeastAlarm(id, `${prefix}-${suffix}`, this.insights(query, { period: o.period }, false), o, notBreaching, description(o));
    };
    const completed = (status: string): InsightsQuery => ({ fn: 'SUM', metricName: METRIC_JOBS_COMPLETED, withStatus: true, status, byPool: true });
    const perPool = (fn: 'SUM' | 'MAX', metricName: string): InsightsQuery => ({ fn, metricName, withStatus: false, byPool: true });
    add('failed', 'FailedJobsAlarm', 'JobFailed', completed('Failed'), () => text.failed);
    add('expired', 'ExpiredJobsAlarm', 'JobExpired', completed('Expired'), () => text.expired);
    add('expiring', 'ExpiringJobsAlarm', 'JobAwaitingStart', perPool('MAX', METRIC_JOBS_AWAITING_START), () => text.expiring);
    add('stuck', 'StuckJobsAlarm', 'JobStuck', perPool('MAX', METRIC_JOBS_STUCK), () => text.stuck);
    add('failedUsers', 'FailedUsersAlarm', 'UsersFailed', perPool('SUM', METRIC_FAILED_USERS), (o) => text.failedUsers(o.threshold));
    add('poolRunsFailed', 'PoolRunsFailedAlarm', 'PoolRunsFailed', perPool('SUM', METRIC_POOL_RUNS_FAILED), (o) => text.poolRunsFailed(o));
    return made;
  }

  private healthAlarm(alarmName: string, options: ResolvedAlarmOptions, logGroupName: string): cloudwatch.Alarm {
    const periods = `${options.datapointsToAlarm} of ${options.evaluationPeriods} periods of ${options.period.toHumanString()}`;
    const runs = options.threshold === 1 ? 'no run' : `fewer than ${options.threshold} runs`;
    const fleet = this.fleet;
    // Not 'MonitorHealthAlarm': in 0.1.0 that ID was a composite alarm, and CloudFormation cannot change a
    // resource's type in place.
    const alarm = new cloudwatch.Alarm(this, 'MonitorSilentAlarm', {
      alarmName,
      alarmDescription: fleet
        ? fleetHealthDescription(fleet, options, logGroupName)
        : `The import job monitor of Cognito user pool ${this.userPoolId} completed ${runs} in ${periods}, so failed or ` +
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

/** What a fleet monitor watches, resolved from its props. */
interface Fleet {
  readonly monitorName: string;
  /** The prop the pools came from, for messages. */
  readonly source: 'userPools' | 'discoverUserPools';
  /** The listed pools' IDs (tokens for pools created in the app); undefined for discovery. */
  readonly listed?: string[];
  readonly pools?: cognito.IUserPool[];
  readonly discovery?: UserPoolDiscovery;
  /** Whether the list goes to the function as a file beside its code, too long for its environment. */
  readonly poolsFile: boolean;
  readonly environment: Record<string, string>;
  /** The regions of the pools: the list's, or the stack's for discovery. */
  readonly regions: string[];
  /** One line for the dashboard's header. */
  readonly summary: string;
}

function resolveFleet(scope: Construct, props: ImportJobMonitorProps, monitorName: string): Fleet {
  const stackRegion = Stack.of(scope).region;
  if (props.discoverUserPools !== undefined) {
    const discovery = props.discoverUserPools;
    validateDiscovery(discovery);
    const include = discovery.include ?? [];
    const exclude = discovery.exclude ?? [];
    return {
      monitorName,
      source: 'discoverUserPools',
      discovery,
      poolsFile: false,
      environment: { [ENV_DISCOVER_USER_POOLS]: discoveryJson(discovery), [ENV_MONITOR_NAME]: monitorName },
      regions: [stackRegion],
      summary:
        'every user pool of the account in this region, discovered on each run' +
        (include.length > 0 ? `, matching ${include.map((p) => `\`${p}\``).join(', ')}` : '') +
        (exclude.length > 0 ? `, except ${exclude.map((p) => `\`${p}\``).join(', ')}` : ''),
    };
  }
  const pools = props.userPools!;
  const listed = listedPoolIds(pools);
  for (const pool of pools) validateAccount(scope, pool, 'userPools');
  const poolsFile = poolIdsLength(listed) > MAX_POOL_IDS_IN_ENVIRONMENT;
  // Sorted, so that the template does not change with the list's order; the stack's region, a token when the stack is
  // environment-agnostic, last.
  const regions = [...new Set(pools.map((p) => (Token.isUnresolved(p.userPoolId) ? p.env.region : userPoolRegion(p.userPoolId)!)))]
    .sort((a, b) => Number(Token.isUnresolved(a)) - Number(Token.isUnresolved(b)) || a.localeCompare(b));
  const shown = listed.filter((id) => !Token.isUnresolved(id));
  return {
    monitorName,
    source: 'userPools',
    listed,
    pools,
    poolsFile,
    environment: {
      ...(poolsFile ? { [ENV_USER_POOL_IDS_FILE]: USER_POOL_IDS_FILE_NAME } : { [ENV_USER_POOL_IDS]: listed.join(',') }),
      [ENV_MONITOR_NAME]: monitorName,
    },
    regions,
    summary:
      `${listed.length.toLocaleString('en-US')} user pool${listed.length === 1 ? '' : 's'} listed` +
      (shown.length > 0 ? ` (${shown.slice(0, 5).map((id) => `\`${id}\``).join(', ')}${listed.length > 5 ? ', ...' : ''})` : ''),
  };
}

/**
 * The fleet's Cognito statements, each with the reason for its wildcard, if it has one. A short list names each
 * pool; a long one each of its regions' pools, to keep the role's policy within IAM's size limit; discovery needs
 * `ListUserPools`, which takes no resource but `*`, and every pool of the stack's region.
 */
function fleetStatements(scope: Construct, fleet: Fleet, jobEvents: boolean): { statement: iam.PolicyStatement; wildcard?: string }[] {
  const actions = poolActions(jobEvents);
  const readOnly = `the read-only ${actions.map((a) => a.replace('cognito-idp:', '')).join(' and ')}`;
  if (fleet.discovery !== undefined) {
    return [
      {
        statement: new iam.PolicyStatement({ actions: ['cognito-idp:ListUserPools'], resources: ['*'] }),
        wildcard: 'cognito-idp:ListUserPools has no resource-level permissions (IAM takes only "*" for it): the monitor lists ' +
          "its account's pools with it on each run to find the ones to watch (discoverUserPools).",
      },
      {
        statement: new iam.PolicyStatement({ actions, resources: [allPoolsArn(scope, Stack.of(scope).region)] }),
        wildcard: `The monitor watches the pools it discovers on each run (discoverUserPools), not known at deploy time: ${readOnly} ` +
          "on the account's pools in the stack's region only.",
      },
    ];
  }
  const pools = fleet.pools!;
  if (pools.length <= MAX_POOL_ARNS) {
    return [{ statement: new iam.PolicyStatement({ actions, resources: pools.map((pool) => userPoolArn(scope, pool)) }) }];
  }
  return [{
    statement: new iam.PolicyStatement({ actions, resources: fleet.regions.map((region) => allPoolsArn(scope, region)) }),
    wildcard: `The monitor watches ${pools.length.toLocaleString('en-US')} listed pools: one ARN each would outgrow IAM's size limit on a role's ` +
      `policies (10,240 characters), so ${readOnly} are on the account's pools in the list's regions.`,
  }];
}

/** The fleet alarms' descriptions: what happened, which pool (a contributor), where to look, what to do. */
function fleetAlarmDescriptions(name: string, logGroupName: string, awaitingStart: Duration, stuck: Duration) {
  const which = 'Which pool: this alarm\'s contributors (its state reason, and the alarm\'s page in the CloudWatch console) name each ' +
    'pool in ALARM by its UserPoolId; each pool is a contributor of its own.';
  const transitions = (status: string) =>
    `Which jobs: CloudWatch Logs Insights on log group ${logGroupName}: fields @timestamp, userPoolId, jobId, jobName, ` +
    `importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and status = "${status}" ` +
    '| sort @timestamp desc. Cognito\'s own log of a job: /aws/cognito/userpools/<pool id>/<pool name>, stream <job ID>/<job name>.';
  const list = 'aws cognito-idp list-user-import-jobs --user-pool-id <pool id> --max-results 60';
  return {
    failed: `A user import job into a Cognito user pool of fleet ${name} ended Failed: its users were not all imported. ${which} ` +
      `${transitions('Failed')} To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, then create and ` +
      'start a new import job.',
    expired: `A user import job into a Cognito user pool of fleet ${name} expired: it was created and never started, so none of ` +
      `its users were imported, and Cognito deleted its CSV. ${which} ${transitions('Expired')} To do: create the job again ` +
      'and start it (StartUserImportJob) within a day.',
    expiring: `A user import job into a Cognito user pool of fleet ${name} was created more than ${awaitingStart.toHumanString()} ago ` +
      `and has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation. ${which} Which job: the Created ` +
      `jobs of that pool (${list}). To do: start it now (StartUserImportJob), or stop it if it is not wanted.`,
    stuck: `A user import job into a Cognito user pool of fleet ${name} has been Pending, InProgress or Stopping for more than ` +
      `${stuck.toHumanString()}. Only one import job runs at a time per account: a Pending job may wait behind another, in any ` +
      `pool. ${which} Which job: ${list}; its progress: Cognito's log group /aws/cognito/userpools/<pool id>/<pool name>. To do: ` +
      'if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.',
    failedUsers: (threshold: number) => `Users failed to import into a Cognito user pool of fleet ${name} (FailedUsers >= ${threshold}), ` +
      `perhaps in a job that still ended Succeeded. ${which} ${transitions('Succeeded')} To do: read the failed rows in ` +
      'Cognito\'s log of the job, fix them in a new CSV and import that.',
    poolRunsFailed: (o: ResolvedAlarmOptions) => `The import job monitor of fleet ${name} failed to run a user pool in ` +
      `${o.datapointsToAlarm} of ${o.evaluationPeriods} periods of ${o.period.toHumanString()}: that pool's imports go unwatched; ` +
      `the other pools are still run. ${which} Look in log group ${logGroupName} for "Run failed" with that userPoolId: its error ` +
      'names the call and the cause (ResourceNotFoundException: the pool is gone; NotAuthorizedException or AccessDenied: ' +
      'permissions; TooManyRequestsException: Cognito throttles). To do: fix the cause, or leave the pool out of the fleet.',
  };
}

function fleetHealthDescription(fleet: Fleet, options: ResolvedAlarmOptions, logGroupName: string): string {
  const periods = `${options.datapointsToAlarm} of ${options.evaluationPeriods} periods of ${options.period.toHumanString()}`;
  const ticks = options.threshold === 1 ? 'no tick' : `fewer than ${options.threshold} ticks`;
  return `The import job monitor of fleet ${fleet.monitorName} (${fleet.source}) completed ${ticks} in ${periods} that ran ` +
    'every due user pool in time, not all failing, so failed or expired imports may go unnoticed. A pool that keeps ' +
    `failing is the PoolRunsFailed alarm's. Look in log group ${logGroupName} for "Run failed" and "Pool run failed": the ` +
    'error names the call, pool and cause (ResourceNotFoundException: pool gone; NotAuthorizedException or AccessDenied: ' +
    'permissions; TimeoutError or a deadline: Cognito or DynamoDB did not answer; "could not store": table refuses writes; ' +
    '"could not send ... job events": bus refuses them). "Fleet summary" with "deferred" above 0: more due pools than a ' +
    'tick lists; raise cognitoRequestsPerSecond or the schedule. No such line: check the schedule rule and the function.';
}

/** Metrics Insights alarms evaluate the latest 3 hours only. */
function validateInsightsRange(prop: string, options: ResolvedAlarmOptions): void {
  if (Token.isUnresolved(options.period.toSeconds()) || Token.isUnresolved(options.evaluationPeriods)) return;
  const range = options.period.toSeconds() * options.evaluationPeriods;
  if (range > MAX_INSIGHTS_ALARM_RANGE.toSeconds()) {
    throw new Error(
      `${prop}: a fleet's alarms are Metrics Insights queries, which evaluate the latest 3 hours only, so period times ` +
        `evaluationPeriods may be at most 3 hours, got ${options.evaluationPeriods} x ${options.period.toHumanString()}`,
    );
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
  // The longest suffix is "-JobAwaitingStart" (17); CloudWatch takes names of up to 255 characters.
  if (prefix.length < 1 || prefix.length > 238) {
    throw new Error(`alarmNamePrefix must be 1 to 238 characters, got ${JSON.stringify(prefix)}`);
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
function validateAccount(scope: Construct, userPool: cognito.IUserPool, prop = 'userPool'): void {
  const stackAccount = Stack.of(scope).account;
  const poolAccount = userPool.env.account;
  if (Token.isUnresolved(stackAccount) || Token.isUnresolved(poolAccount) || stackAccount === poolAccount) return;
  const what = prop === 'userPool' ? 'userPool must be' : `${prop} must all be`;
  throw new Error(
    `${what} in the stack's account ${stackAccount}, where the function lists its jobs, got a pool in account ${poolAccount}`,
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

// The monitors of each app, by pool and namespace: two on one pool would publish every transition twice. A fleet
// takes its namespace for itself: its alarms query every pool there, so they would page on another monitor's too.
const monitorsByApp = new WeakMap<IConstruct, Map<string, string>>();

function claimPool(monitor: Construct, userPoolId: string | undefined, namespace: string, alarmNamePrefix: string): void {
  const claims = monitorsByApp.get(monitor.node.root) ?? new Map<string, string>();
  monitorsByApp.set(monitor.node.root, claims);
  const fleet = claims.get(`fleet\n${namespace}`);
  if (fleet !== undefined) {
    throw new Error(
      `${monitor.node.path} would publish into namespace ${namespace}, where the fleet ${fleet} alarms on every pool: ` +
        'give one of them another metricNamespace',
    );
  }
  if (userPoolId === undefined) {
    const user = claims.get(`namespace\n${namespace}`);
    if (user !== undefined) {
      throw new Error(
        `${monitor.node.path} is a fleet, whose alarms query every pool in its namespace ${namespace}, where ${user} publishes ` +
          'too: they would page on its pools as well. Give one of them another metricNamespace',
      );
    }
  }
  const key = `${userPoolId}\n${namespace}`;
  const other = userPoolId === undefined ? undefined : claims.get(key);
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
  if (userPoolId !== undefined) claims.set(key, monitor.node.path);
  else claims.set(`fleet\n${namespace}`, monitor.node.path);
  claims.set(`namespace\n${namespace}`, monitor.node.path);
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

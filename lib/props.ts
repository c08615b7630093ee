import {
  Duration,
  RemovalPolicy,
  aws_cloudwatch as cloudwatch,
  aws_cognito as cognito,
  aws_events as events,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { ImportJobAlarmOptions } from './alarm-options';
import { ImportJobStatus } from './contract';
import { UserPoolDiscovery } from './fleet-options';

/** Properties of an `ImportJobMonitor`. */
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
   * Added to the ALARM state of each alarm in `alarms`: what pages someone. With `warningActions`, only the failure
   * alarms' (JobFailed, JobExpired, MonitorSilent, and a fleet's PoolRunsFailed): imports were lost or go unwatched.
   * Synth warns when neither this nor `warningActions` is given: the alarms would page nobody.
   * @default - no action: the alarms only change state
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * Added to the ALARM state of the warning alarms instead of `alarmActions`: JobAwaitingStart, JobStuck and
   * UsersFailed, which say that a job can still be saved or needs a look, not that imports were lost. Route them to a
   * ticket queue or a chat channel, and the failures to the pager.
   * @default - the warning alarms go to `alarmActions` too
   */
  readonly warningActions?: cloudwatch.IAlarmAction[];

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
   * `datapointsToAlarm` of `evaluationPeriods` periods. A fleet's evaluates 15 periods by default, not 5: CloudWatch
   * may take minutes to see a pool's new series.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly failedJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on jobs that ended `Expired` (created, never started), evaluated like the failed jobs alarm.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly expiredJobsAlarmOptions?: ImportJobAlarmOptions;

  /**
   * The alarm on the monitor itself: fewer than `threshold` ticks that worked (heartbeats) in each of
   * `datapointsToAlarm` of `evaluationPeriods` periods. Every tick sends a heartbeat, so it does not wait for
   * `schedule`.
   * @default - on; periods of the active schedule (as many as span 5 minutes, 3 at least, all of them breaching), 5 of 5, threshold 1
   */
  readonly monitorHealthAlarmOptions?: ImportJobAlarmOptions;

  /**
   * Whether the deployment runs the function once, after creating it and before creating the health alarm
   * (an aws-cdk-lib `triggers.Trigger`). A run that fails (wrong pool, missing permission) fails the deployment
   * rather than paging later. Off or on, the new alarms do not page at creation: the health alarm waits for a first
   * heartbeat.
   * @default true
   */
  readonly runOnDeploy?: boolean;

  /**
   * How long a job may stay `Created` before it counts in `JobsAwaitingStart` and `expiringJobsAlarm` fires:
   * whole minutes, at most 23 hours, since Cognito deletes a job not started 24 to 48 hours after its creation.
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
   * The warning on users that failed to import in jobs that ended `Succeeded` or `Stopped`:
   * `FailedUsersOfEndedJobs` Sum at or above `threshold`, published once at each such job's end (never while it
   * runs, never for a job that ended `Failed`, which the failed jobs alarm reports). A fleet's evaluates 15 periods
   * by default, as the failed jobs alarm does.
   * @default - on; one-minute periods, 1 of 5, threshold 1
   */
  readonly failedUsersAlarmOptions?: ImportJobAlarmOptions;

  /**
   * A fleet's alarm on pools whose runs keep failing (deleted, access denied, throttled for good): `PoolRunsFailed`
   * (a pool's failed runs in a row) Maximum at or above `threshold` in `datapointsToAlarm` of `evaluationPeriods`
   * periods, one contributor per pool. The default threshold is 5 minutes of ticks, 3 at least. Only for fleets.
   * @default - on; periods of two ticks (5 minutes to an hour), 1 of 1, threshold 5
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

/** Options of `ImportJobMonitor.onJobStateChange`: the rule's own, and which statuses it matches. */
export interface OnJobStateChangeOptions extends events.OnEventOptions {
  /**
   * Match only the changes into these statuses (at least one), e.g.
   * `[ImportJobStatus.FAILED, ImportJobStatus.EXPIRED]`: the event's `detail.status`.
   * @default - every status change
   */
  readonly statuses?: ImportJobStatus[];
}
